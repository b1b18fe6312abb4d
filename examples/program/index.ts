// One account's Session Manager preferences, from another Pulumi program: the settings come
// from this stack's `sessionManager:*` config (validated by the package's parser, with the
// same keys and defaults as the package's own program), and each of the account's Regions
// gets a SessionManagerPreferences component.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigErrors, namespaceValues, parseSettings, planTargets, SessionManagerPreferences, Settings } from "session-manager-preferences";

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
    const { accountId, region } = plan.target;
    // Keys, the log group and the instance policy are @pulumi/aws resources: they need a provider
    // in the target account and Region. A document-only configuration needs none (nor the plugin).
    const provider = plan.createsAwsResources
        ? new aws.Provider(plan.name, {
              region,
              allowedAccountIds: [accountId],
              assumeRoles: plan.roleArn ? [{ roleArn: plan.roleArn, sessionName: "session-manager-preferences" }] : undefined,
          })
        : undefined;
    const preferences = new SessionManagerPreferences(
        plan.name,
        {
            accountId,
            region,
            // The document provider assumes this role itself.
            roleArn: plan.roleArn,
            preferences: plan.preferences,
            sessionDataKey: plan.sessionDataKey,
            logGroup: plan.logGroup,
            instancePolicy: plan.instancePolicy,
            onDelete: plan.onDelete,
            keepDocumentVersions: plan.keepDocumentVersions,
            takeOver: plan.takeOver,
        },
        provider ? { providers: [provider] } : undefined,
    );
    documentVersions[plan.outputKey] = preferences.documentVersion;
}
