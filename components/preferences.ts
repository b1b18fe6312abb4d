// The direct mode's resources for one account and Region; the StackSet template
// (core/template.ts) makes the same from the same core functions. See docs/architecture.md.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { documentContent, s3KeyPrefixFor } from "../core/document";
import { choosePart, OptionalPart, Part, PartChoice } from "../core/parts";
import { instanceProfilePolicy, keyIdOfArn, logsKeyPolicy, PolicyScope, policyScope, sessionDataKeyPolicy } from "../core/policies";
import { TargetPlan } from "../core/plan";
import { defaultPreferences, DocumentPreferences, documentPreferencesOf, OnDelete } from "../core/settings";
import {
    instancePolicyDescription,
    instancePolicyName,
    instancePolicyPath,
    logsKeyAlias,
    logsKeyDescription,
    roleSessionName,
    sessionDataKeyAlias,
    sessionDataKeyDeletionWindowInDays,
    sessionDataKeyDescription,
    sessionDataKeyParameterDescription,
    sessionDataKeyParameterName,
} from "../core/names";
import { SessionDocument } from "../providers/sessionDocument";

export { logsKeyAlias, sessionDataKeyAlias, sessionDataKeyParameterName } from "../core/names";

/** The document's preferences, each as in the README's configuration table and with its default. */
export type DocumentPreferencesArgs = { [K in keyof DocumentPreferences]?: pulumi.Input<DocumentPreferences[K]> };

export interface SessionDataKeyArgs {
    /** Yearly automatic rotation of the key material; default true. */
    enableKeyRotation?: pulumi.Input<boolean>;
    /** Days KMS waits before deleting the key once it is removed from the stack, 7 to 30; default 30. */
    deletionWindowInDays?: pulumi.Input<number>;
}

export interface LogsKeyArgs {
    /** Yearly automatic rotation of the key material; default true. */
    enableKeyRotation?: pulumi.Input<boolean>;
}

export interface LogGroupArgs {
    /** Log group name; default ssm-sessionmanager-logs. */
    name?: pulumi.Input<string>;
    /** Days CloudWatch Logs keeps session logs, one of its retention values (0 = forever); default 90. */
    retentionInDays?: pulumi.Input<number>;
    /** Key the group is encrypted with; default a new key with alias alias/session-manager/logs. */
    kmsKey?: Part<LogsKeyArgs, { arn: pulumi.Input<string> }>;
}

export interface InstancePolicyArgs {
    /** IAM role names to attach the policy to (plain strings: each is one attachment); default none. */
    roleNames?: string[];
}

export interface SessionManagerPreferencesArgs {
    /** 12-digit ID of the account the preferences are for; required. */
    accountId: pulumi.Input<string>;
    /** Region name, e.g. eu-west-1; required. It also picks the ARN partition. */
    region: pulumi.Input<string>;
    /** Role ARN the document provider assumes to write; default the ambient credentials. */
    roleArn?: pulumi.Input<string>;
    /** Role ARN, in the same account, the document provider assumes to read (refresh, preview, drift check); default roleArn. */
    readOnlyRoleArn?: pulumi.Input<string>;
    /** Session document name; default SSM-SessionManagerRunShell. */
    documentName?: pulumi.Input<string>;
    /** Logging, Run As, timeouts and shell profiles written to the document; defaults as in the README's configuration table. */
    preferences?: DocumentPreferencesArgs;
    /** Session-data KMS key, alias and key-ID parameter; default created. */
    sessionDataKey?: Part<SessionDataKeyArgs, { arn: pulumi.Input<string> }>;
    /** CloudWatch Logs group for session logs; default created (and kept when removed). */
    logGroup?: Part<LogGroupArgs, { name: pulumi.Input<string> }>;
    /** IAM managed policy for instance profiles, matching these preferences; default created. */
    instancePolicy?: OptionalPart<InstancePolicyArgs>;
    /** What removing the document does: restore, reset or retain; default restore. Plain, not an Input: retain also keeps the session-data key. */
    onDelete?: OnDelete;
    /** Document versions to keep, 0 keeps all; default 100. */
    keepDocumentVersions?: pulumi.Input<number>;
    /** Take over a document another stack manages instead of failing; default false. */
    takeOver?: pulumi.Input<boolean>;
}

interface ResolvedKey {
    id: pulumi.Output<string>;
    arn: pulumi.Output<string>;
    /** How the document names the key. */
    reference: pulumi.Output<string>;
}

/**
 * Session Manager preferences for one account and Region: the Session document and the
 * keys, log group and instance policy it points at. The aws resources use the provider
 * given in `opts`; the document assumes `roleArn` itself.
 */
export class SessionManagerPreferences extends pulumi.ComponentResource {
    /** The document version that holds these preferences (the default version). */
    public readonly documentVersion: pulumi.Output<string>;
    public readonly sessionDataKeyId?: pulumi.Output<string>;
    public readonly sessionDataKeyArn?: pulumi.Output<string>;
    public readonly logsKeyArn?: pulumi.Output<string>;
    public readonly logGroupName?: pulumi.Output<string>;
    public readonly instancePolicyArn?: pulumi.Output<string>;

    constructor(name: string, args: SessionManagerPreferencesArgs, opts?: pulumi.ComponentResourceOptions) {
        // Decided before registering anything, so a conflicting part fails with nothing half-made.
        const keyChoice = choosePart("sessionDataKey", args.sessionDataKey);
        const logGroupChoice = choosePart("logGroup", args.logGroup);
        const logsKeyChoice: PartChoice<LogsKeyArgs, { arn: pulumi.Input<string> }> =
            logGroupChoice.kind === "create" ? choosePart("logGroup.args.kmsKey", logGroupChoice.args?.kmsKey) : { kind: "skip" };
        const policyChoice = choosePart("instancePolicy", args.instancePolicy);

        super("session-manager-preferences:index:Preferences", name, {}, opts);

        const scope: pulumi.Output<PolicyScope> = pulumi.all([args.accountId, args.region]).apply(([accountId, region]) => policyScope(accountId, region));
        const preferences = pulumi.output(args.preferences ?? {}).apply((given) => withDefaults(given));

        // A retained document still names the session-data key; deleting the key would break every session.
        const retainSessionDataKey = args.onDelete === "retain";
        const sessionKey = this.sessionDataKey(name, keyChoice, scope, retainSessionDataKey);
        this.sessionDataKeyId = sessionKey?.id;
        this.sessionDataKeyArn = sessionKey?.arn;

        if (logGroupChoice.kind === "create") {
            const groupName = pulumi.output(logGroupChoice.args?.name ?? defaultPreferences.cwLogGroupName);
            this.logsKeyArn = this.logsKey(name, logsKeyChoice, scope, groupName);
            const group = new aws.cloudwatch.LogGroup(
                `${name}-log-group`,
                {
                    name: groupName,
                    retentionInDays: logGroupChoice.args?.retentionInDays ?? defaultPreferences.logRetentionInDays,
                    kmsKeyId: this.logsKeyArn,
                },
                // Session logs are audit records: removing the stack must not destroy them.
                { parent: this, retainOnDelete: true },
            );
            this.logGroupName = group.name;
        } else if (logGroupChoice.kind === "existing") {
            this.logGroupName = pulumi.output(logGroupChoice.existing.name);
        }

        if (policyChoice.kind === "create") {
            this.instancePolicyArn = this.instancePolicy(name, policyChoice.args?.roleNames ?? [], scope, preferences);
        }

        const content = pulumi
            .all([scope, preferences, sessionKey?.reference ?? "", this.logGroupName ?? ""])
            .apply(([s, prefs, kmsKeyId, logGroupName]) => documentContent(prefs, { accountId: s.accountId, region: s.region, kmsKeyId, logGroupName }));
        const document = new SessionDocument(
            `${name}-document`,
            {
                accountId: args.accountId,
                region: args.region,
                roleArn: args.roleArn,
                readOnlyRoleArn: args.readOnlyRoleArn,
                documentName: args.documentName,
                content,
                onDelete: args.onDelete,
                keepDocumentVersions: args.keepDocumentVersions,
                takeOver: args.takeOver,
            },
            { parent: this },
        );
        this.documentVersion = document.documentVersion;

        this.registerOutputs({
            documentVersion: this.documentVersion,
            sessionDataKeyId: this.sessionDataKeyId,
            sessionDataKeyArn: this.sessionDataKeyArn,
            logsKeyArn: this.logsKeyArn,
            logGroupName: this.logGroupName,
            instancePolicyArn: this.instancePolicyArn,
        });
    }

    private sessionDataKey(
        name: string,
        choice: PartChoice<SessionDataKeyArgs, { arn: pulumi.Input<string> }>,
        scope: pulumi.Output<PolicyScope>,
        retainOnDelete: boolean,
    ): ResolvedKey | undefined {
        if (choice.kind === "skip") return undefined;
        if (choice.kind === "existing") {
            const arn = pulumi.output(choice.existing.arn);
            // A bare key ID would be looked up in the target account; an existing key often lives in another one.
            return { arn, id: arn.apply(keyIdOfArn), reference: arn };
        }
        const key = new aws.kms.Key(
            `${name}-session-data-key`,
            {
                description: sessionDataKeyDescription,
                enableKeyRotation: choice.args?.enableKeyRotation ?? defaultPreferences.kmsKeyRotation,
                deletionWindowInDays: choice.args?.deletionWindowInDays ?? sessionDataKeyDeletionWindowInDays,
                policy: scope.apply((s) => JSON.stringify(sessionDataKeyPolicy(s))),
            },
            { parent: this, retainOnDelete },
        );
        new aws.kms.Alias(`${name}-session-data-key-alias`, { name: sessionDataKeyAlias, targetKeyId: key.keyId }, { parent: this });
        new aws.ssm.Parameter(
            `${name}-session-data-key-id`,
            // insecureValue: `value` is always stored as a secret, and a key ID is not one; plain, it shows in diffs.
            { name: sessionDataKeyParameterName, type: "String", insecureValue: key.keyId, description: sessionDataKeyParameterDescription },
            { parent: this },
        );
        // The key ID, as the CloudFormation sample writes it, so documents it managed compare equal.
        return { id: key.keyId, arn: key.arn, reference: key.keyId };
    }

    private logsKey(
        name: string,
        choice: PartChoice<LogsKeyArgs, { arn: pulumi.Input<string> }>,
        scope: pulumi.Output<PolicyScope>,
        groupName: pulumi.Output<string>,
    ): pulumi.Output<string> | undefined {
        if (choice.kind === "skip") return undefined;
        if (choice.kind === "existing") return pulumi.output(choice.existing.arn);
        const key = new aws.kms.Key(
            `${name}-logs-key`,
            {
                description: logsKeyDescription,
                enableKeyRotation: choice.args?.enableKeyRotation ?? defaultPreferences.kmsKeyRotation,
                policy: pulumi.all([scope, groupName]).apply(([s, group]) => JSON.stringify(logsKeyPolicy(s, group))),
            },
            // Kept with the log group it encrypts: deleting it would make the kept logs unreadable.
            { parent: this, retainOnDelete: true },
        );
        new aws.kms.Alias(`${name}-logs-key-alias`, { name: logsKeyAlias, targetKeyId: key.keyId }, { parent: this });
        return key.arn;
    }

    private instancePolicy(
        name: string,
        roleNames: string[],
        scope: pulumi.Output<PolicyScope>,
        preferences: pulumi.Output<DocumentPreferences>,
    ): pulumi.Output<string> {
        const document = pulumi.all([scope, preferences, this.logGroupName, this.sessionDataKeyArn]).apply(([s, prefs, logGroupName, sessionDataKeyArn]) =>
            JSON.stringify(
                instanceProfilePolicy({
                    ...s,
                    logGroupName,
                    sessionDataKeyArn,
                    s3: prefs.s3Logging ? { bucketName: prefs.s3BucketName, keyPrefix: s3KeyPrefixFor(prefs.s3KeyPrefix, s.accountId, s.region) } : undefined,
                }),
            ),
        );
        const policy = new aws.iam.Policy(
            `${name}-instance-policy`,
            {
                name: scope.apply((s) => instancePolicyName(s.region)),
                path: instancePolicyPath,
                description: instancePolicyDescription,
                policy: document,
            },
            { parent: this },
        );
        for (const role of roleNames) {
            new aws.iam.RolePolicyAttachment(`${name}-instance-policy-${role}`, { role, policyArn: policy.arn }, { parent: this });
        }
        return policy.arn;
    }
}

/**
 * The role the aws provider of a target assumes: at preview, the read-only role when there is
 * one, so a preview reads the keys, log group, parameter and policy without holding a write
 * credential; at up, the write role.
 */
export function awsProviderRoleArn(plan: Pick<TargetPlan, "roleArn" | "readOnlyRoleArn">, dryRun: boolean): string | undefined {
    return dryRun ? (plan.readOnlyRoleArn ?? plan.roleArn) : plan.roleArn;
}

/**
 * One target of the plan (core/plan.ts) as a component: how the program (index.ts) and the
 * package's example deploy a target. The @pulumi/aws resources get a provider in the target
 * account and Region; a document-only plan needs none (nor the aws plugin), and the document
 * assumes its roles by itself.
 */
export function deployPlannedTarget(plan: TargetPlan): SessionManagerPreferences {
    const { accountId, region } = plan.target;
    const providerRole = awsProviderRoleArn(plan, pulumi.runtime.isDryRun());
    const provider = plan.createsAwsResources
        ? new aws.Provider(plan.name, {
              region,
              // A wrong role or profile then fails at preview instead of changing another account.
              allowedAccountIds: [accountId],
              assumeRoles: providerRole ? [{ roleArn: providerRole, sessionName: roleSessionName }] : undefined,
          })
        : undefined;
    return new SessionManagerPreferences(
        plan.name,
        {
            accountId,
            region,
            roleArn: plan.roleArn,
            readOnlyRoleArn: plan.readOnlyRoleArn,
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
}

/** The component's own argument parsing: preferences not given take the configuration's defaults (core/settings.ts). */
function withDefaults(given: Partial<DocumentPreferences>): DocumentPreferences {
    const prefs = documentPreferencesOf(defaultPreferences);
    for (const key of Object.keys(prefs) as (keyof DocumentPreferences)[]) {
        const value = given[key];
        if (value !== undefined) (prefs as Record<keyof DocumentPreferences, unknown>)[key] = value;
    }
    return prefs;
}
