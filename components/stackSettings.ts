import * as pulumi from "@pulumi/pulumi";
import { ConfigErrors, parseStackSettings } from "../core/config";
import { missingRegionMessage, stackRegionNeed } from "../core/plan";
import { Settings } from "../core/settings";
import { currentRegion } from "../core/stackConfig";
import { knownRegions } from "../providers/regionCatalogue";

/**
 * This stack's `sessionManager:*` configuration, validated (core/config.ts), and the Region
 * it needs when its targets do not name one. A bad one fails the run with the message
 * naming every key at fault: a stack trace would only bury it.
 */
export function readStackSettings(): Settings {
    const config = pulumi.runtime.allConfig();
    let settings: Settings;
    try {
        settings = parseStackSettings(config, knownRegions());
    } catch (err) {
        if (err instanceof ConfigErrors) throw new pulumi.RunError(err.message);
        throw err;
    }
    const need = stackRegionNeed(settings);
    if (need && !currentRegion(config, process.env)) throw new pulumi.RunError(missingRegionMessage(need));
    return settings;
}
