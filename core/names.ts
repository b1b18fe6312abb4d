/**
 * The names and descriptions of what the preferences create in each account and Region,
 * shared by the direct mode (components/preferences.ts) and the StackSet template
 * (core/template.ts), so both create the same things. See docs/architecture.md.
 */

/** Alias of the created session-data key. */
export const sessionDataKeyAlias = "alias/session-manager/data";
/** Alias of the created key that encrypts the session log group. */
export const logsKeyAlias = "alias/session-manager/logs";
/** Where other stacks and scripts find the session-data key, as in the CloudFormation sample. */
export const sessionDataKeyParameterName = "/session-manager/session-data-key";

export const sessionDataKeyDescription = "Session Manager: encrypts session data between users and instances";
export const logsKeyDescription = "Session Manager: encrypts the session log group";
export const sessionDataKeyParameterDescription = "ID of the KMS key that encrypts Session Manager session data";
/** Days KMS waits before deleting a created session-data key once it is removed. */
export const sessionDataKeyDeletionWindowInDays = 30;

/** IAM path of the instance-profile policy. */
export const instancePolicyPath = "/session-manager/";
export const instancePolicyDescription = "What instances need for Session Manager with this account's and Region's preferences";

/** IAM names are account-wide, and each Region's policy differs in its ARNs: one policy per Region. */
export function instancePolicyName(region: string): string {
    return `SessionManagerInstance-${region}`;
}

/** The session name on assumed-role sessions (the document provider's and the aws provider's), so CloudTrail shows which product made the calls. */
export const roleSessionName = "session-manager-preferences";

/** The StackSet deployment's component name, and so the start of its template bucket's name (Pulumi adds a random suffix). */
export const stackSetComponentName = "session-manager-preferences";
export const templateBucketNamePrefix = `${stackSetComponentName}-templates`;

/** The administrator role AWS Organizations creates in every account it creates: `npm run org`'s way into accounts found under OUs unless told otherwise. */
export const organizationsAccessRoleName = "OrganizationAccountAccessRole";

/**
 * The Session document resource's type: a dynamic resource with a type of its own, so that the
 * state, drift checks and reports know a document by its type. Stacks made before it had the
 * generic dynamic type; an alias moves them to this one without replacing anything.
 */
export const sessionDocumentModule = "session-manager-preferences";
export const sessionDocumentTypeName = "SessionDocument";
export const sessionDocumentType = `pulumi-nodejs:dynamic/${sessionDocumentModule}:${sessionDocumentTypeName}`;
/** The type every dynamic resource had before, and this program's documents up to that change. */
export const genericDynamicResourceType = "pulumi-nodejs:dynamic:Resource";

/** The prefix of the tags this program keeps on a document (its owner, the adopted version): a user's own tags may not use it. */
export const managementTagPrefix = "session-manager-preferences:";

/** The property of a dynamic resource that holds its provider's text (Pulumi's name for it). */
export const dynamicProviderKey = "__provider";

/** The operator policy: one per account, the same name and path everywhere, so an IAM Identity Center permission set can reference it. */
export const operatorPolicyName = "SessionManagerOperator";
export const operatorPolicyPath = instancePolicyPath;
export const operatorPolicyDescription = "What people need to start Session Manager sessions with this account's preferences";

/** Alias and description of the key a created log archive encrypts session logs with. */
export const archiveKeyAlias = "alias/session-manager/log-archive";
export const archiveKeyDescription = "Session Manager: encrypts the organization's session logs in the log archive";

/** The service control policy that keeps everyone but this program off the Session document. */
export const guardrailPolicyName = "session-manager-preferences-guardrail";
export const guardrailPolicyDescription = "Only the session-manager-preferences roles may change SSM-SessionManagerRunShell";
/** The guardrail's AWS Organizations policy type (lower case in the policy's ARN). */
export const guardrailPolicyType = "SERVICE_CONTROL_POLICY";

/**
 * The StackSet custom resource's role in each account and Region: a fixed name, so the guardrail
 * can except it. IAM names are account-wide, hence the Region.
 */
export function stackSetHandlerRoleName(region: string): string {
    return `SessionManagerPreferencesHandler-${region}`;
}
/** Every Region's handler role: how the guardrail names them. */
export const stackSetHandlerRoleNamePattern = stackSetHandlerRoleName("*");

/** The StackSet custom resource's own log group in each account and Region: a fixed name, so its key's policy can name it. */
export const stackSetHandlerLogGroupName = "/session-manager-preferences/document-handler";
export const stackSetHandlerLogsKeyDescription = "Session Manager preferences: encrypts the StackSet custom resource's log group";

/** The stack of `npm run org` that makes the log archive and the guardrail, run before the targets' stacks. */
export function landingZoneStackName(prefix: string): string {
    return `${prefix}.landing-zone`;
}
