// One account's Session Manager preferences, from another Pulumi program: the settings come
// from this stack's `sessionManager:*` config (validated by the package's parser, with the
// same keys and defaults as the package's own program), and each of the account's Regions
// gets a SessionManagerPreferences component.
import * as pulumi from "@pulumi/pulumi";
import { ConfigErrors, deployPlannedTarget, namespaceValues, parseSettings, planTargets, Settings } from "session-manager-preferences";

function readSettings(): Settings {
    try {
        return parseSettings(namespaceValues(pulumi.runtime.allConfig()));
    } catch (err) {
        // The message names every key at fault; a stack trace would only bury it.
        if (err instanceof ConfigErrors) throw new pulumi.RunError(err.message);
        throw err;
    }
}

const settings = readSettings();
const accounts = new Set(settings.targets.map((t) => t.accountId));
if (accounts.size !== 1) {
    throw new pulumi.RunError(`sessionManager:targets must name exactly one account (with its Regions and, optionally, a roleName); it names ${accounts.size}`);
}

/** The default version of each Region's Session document, keyed `<account>/<region>`. */
export const documentVersions: Record<string, pulumi.Output<string>> = {};

for (const plan of planTargets(settings)) {
    // Keys, the log group and the instance policy get an aws.Provider in the target account and
    // Region; the document provider assumes plan.roleArn itself.
    const preferences = deployPlannedTarget(plan);
    documentVersions[plan.outputKey] = preferences.documentVersion;
}
