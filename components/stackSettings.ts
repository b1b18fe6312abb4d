import * as pulumi from "@pulumi/pulumi";
import { ConfigErrors, parseStackSettings } from "../core/config";
import { Settings } from "../core/settings";
import { knownRegions } from "../providers/regionCatalogue";

/**
 * This stack's `sessionManager:*` configuration, validated (core/config.ts). A bad one
 * fails the run with the message naming every key at fault: a stack trace would only bury it.
 */
export function readStackSettings(): Settings {
    try {
        return parseStackSettings(pulumi.runtime.allConfig(), knownRegions());
    } catch (err) {
        if (err instanceof ConfigErrors) throw new pulumi.RunError(err.message);
        throw err;
    }
}
