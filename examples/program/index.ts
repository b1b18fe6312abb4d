// One account's Session Manager preferences, from another Pulumi program: the settings come
// from this stack's `sessionManager:*` config (validated by the package's parser, with the
// same keys and defaults as the package's own program), and each of the account's Regions
// gets a SessionManagerPreferences component.
import * as pulumi from "@pulumi/pulumi";
import { deployPlannedTarget, planTargets, readStackSettings } from "session-manager-preferences/config";

// Validated by the package's parser; a bad configuration fails naming every key at fault.
const settings = readStackSettings();
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
