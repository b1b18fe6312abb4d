// The direct mode's resources for one account and Region; the StackSet template
// (core/template.ts) makes the same from the same core functions. See docs/architecture.md.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { documentContent, s3KeyPrefixFor } from "../core/document";
import { choosePart, OptionalPart, Part, PartChoice } from "../core/parts";
import { ArchiveTarget, instanceProfilePolicy, keyIdOfArn, logsKeyPolicy, PolicyScope, policyScope, sessionDataKeyPolicy } from "../core/policies";
import * as f from "../core/fieldRules";
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
export type DocumentPreferencesArgs = { readonly [K in keyof DocumentPreferences]?: pulumi.Input<DocumentPreferences[K]> };

export interface SessionDataKeyArgs {
    /** Yearly automatic rotation of the key material; default true. */
    readonly enableKeyRotation?: pulumi.Input<boolean>;
    /** Days KMS waits before deleting the key once it is removed from the stack, 7 to 30; default 30. */
    readonly deletionWindowInDays?: pulumi.Input<number>;
}

export interface LogsKeyArgs {
    /** Yearly automatic rotation of the key material; default true. */
    readonly enableKeyRotation?: pulumi.Input<boolean>;
}

export interface LogGroupArgs {
    /** Log group name; default ssm-sessionmanager-logs. */
    readonly name?: pulumi.Input<string>;
    /** Days CloudWatch Logs keeps session logs, one of its retention values (0 = forever); default 90. */
    readonly retentionInDays?: pulumi.Input<number>;
    /** Key the group is encrypted with; default a new key with alias alias/session-manager/logs. */
    readonly kmsKey?: Part<LogsKeyArgs, { readonly arn: pulumi.Input<string> }>;
}

export interface InstancePolicyArgs {
    /** IAM role names to attach the policy to (plain strings: each is one attachment); default none. */
    readonly roleNames?: readonly string[];
    /**
     * When the S3 bucket is a log archive in another account: that account, the bucket's Region and
     * its key (an existing key's ARN; absent for a key the archive created; null for a bucket
     * without a KMS key), so instances may encrypt their logs with it.
     */
    readonly logArchive?: ArchiveTarget;
}

export interface SessionManagerPreferencesArgs {
    /**
     * 12-digit ID of the account the preferences are for; default the account of the aws
     * provider the component's resources use (from `opts`). When both are known they must agree.
     */
    readonly accountId?: pulumi.Input<string>;
    /** Region name, e.g. eu-west-1; default that provider's Region, which it must otherwise agree with. It also picks the ARN partition. */
    readonly region?: pulumi.Input<string>;
    /** Role ARN the document provider assumes to write; default the ambient credentials. */
    readonly roleArn?: pulumi.Input<string>;
    /** Role ARN, in the same account, the document provider assumes to read (refresh, preview, drift check); default roleArn. */
    readonly readOnlyRoleArn?: pulumi.Input<string>;
    /** Session document name; default SSM-SessionManagerRunShell. */
    readonly documentName?: pulumi.Input<string>;
    /** Logging, Run As, timeouts and shell profiles written to the document; defaults as in the README's configuration table. */
    readonly preferences?: DocumentPreferencesArgs;
    /** Session-data KMS key, alias and key-ID parameter; default created. */
    readonly sessionDataKey?: Part<SessionDataKeyArgs, { readonly arn: pulumi.Input<string> }>;
    /** CloudWatch Logs group for session logs; default created (and kept when removed). */
    readonly logGroup?: Part<LogGroupArgs, { readonly name: pulumi.Input<string> }>;
    /** IAM managed policy for instance profiles, matching these preferences; default created. */
    readonly instancePolicy?: OptionalPart<InstancePolicyArgs>;
    /** What removing the document does: restore, reset or retain; default restore. Plain, not an Input: retain also keeps the session-data key. */
    readonly onDelete?: OnDelete;
    /** Document versions to keep, 0 keeps all, at most 1000; default 100. */
    readonly keepDocumentVersions?: pulumi.Input<number>;
    /** Take over a document another stack manages instead of failing; default false. */
    readonly takeOver?: pulumi.Input<boolean>;
    /** Tags for every taggable resource: the keys, the key-ID parameter, the log group, the instance policy and the document; default none. */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** Whether an Input is a value already (not an Output or a Promise): then it is checked as the component is made. */
function isKnown(value: unknown): boolean {
    return !pulumi.Output.isInstance(value) && !(value instanceof Promise);
}

/** One argument and the rule it is checked by (core/fieldRules.ts: the configuration's). */
type ArgumentCheck = [name: string, value: unknown, rule: f.Rule<unknown>];

/** Every argument with a rule, named as the caller wrote it. */
function argumentChecks(args: SessionManagerPreferencesArgs): ArgumentCheck[] {
    const checks: ArgumentCheck[] = [
        ["accountId", args.accountId, f.accountId],
        ["region", args.region, f.region],
        ["roleArn", args.roleArn, f.roleArn],
        ["readOnlyRoleArn", args.readOnlyRoleArn, f.roleArn],
        ["documentName", args.documentName, f.documentName],
        ["onDelete", args.onDelete, f.onDelete],
        ["keepDocumentVersions", args.keepDocumentVersions, f.keepDocumentVersions],
        ["takeOver", args.takeOver, f.takeOver],
        ["tags", args.tags, f.tags],
    ];
    for (const [key, rule] of Object.entries(f.documentPreferenceRules)) {
        checks.push([`preferences.${key}`, (args.preferences as Record<string, unknown> | undefined)?.[key], rule as f.Rule<unknown>]);
    }
    const key = args.sessionDataKey as Record<string, Record<string, unknown> | undefined> | undefined;
    checks.push(
        ["sessionDataKey.existing.arn", key?.existing?.arn, f.kmsKeyArn],
        ["sessionDataKey.args.deletionWindowInDays", key?.args?.deletionWindowInDays, f.integer(7, 30, " (days)")],
    );
    const group = args.logGroup as Record<string, Record<string, unknown> | undefined> | undefined;
    checks.push(
        ["logGroup.existing.name", group?.existing?.name, f.cwLogGroupName],
        ["logGroup.args.name", group?.args?.name, f.cwLogGroupName],
        ["logGroup.args.retentionInDays", group?.args?.retentionInDays, f.logRetentionInDays],
        ["logGroup.args.kmsKey.existing.arn", (group?.args?.kmsKey as Record<string, Record<string, unknown>> | undefined)?.existing?.arn, f.kmsKeyArn],
    );
    const policy = args.instancePolicy as Record<string, Record<string, unknown> | undefined> | undefined;
    checks.push(["instancePolicy.args.roleNames", policy?.args?.roleNames, f.list(f.roleName)]);
    return checks;
}

/** The problems of the arguments given as values, and of the rules between the preferences when all six are values. */
function knownArgumentProblems(args: SessionManagerPreferencesArgs): f.InvalidValue[] {
    const problems: f.InvalidValue[] = [];
    for (const [name, value, rule] of argumentChecks(args)) {
        if (value === undefined || !isKnown(value)) continue;
        try {
            rule(value, name);
        } catch (err) {
            if (!(err instanceof f.InvalidValue)) throw err;
            problems.push(err);
        }
    }
    const given = (args.preferences ?? {}) as Record<string, unknown>;
    const related = ["s3Logging", "s3BucketName", "runAsEnabled", "runAsDefaultUser", "idleSessionTimeout", "maxSessionDuration"];
    if (problems.length === 0 && related.every((k) => isKnown(given[k]))) {
        problems.push(...f.relatedFieldProblems(withDefaults(given as Partial<DocumentPreferences>), (field) => `preferences.${field}`));
    }
    return problems;
}

/** Arguments that break the rules, reported together, naming the component and each argument. */
export class InvalidArguments extends pulumi.RunError {
    constructor(
        component: string,
        public readonly problems: readonly f.InvalidValue[],
        componentType = "SessionManagerPreferences",
    ) {
        super(`invalid arguments of ${componentType} "${component}":\n${problems.map((p) => `  - ${p.message}`).join("\n")}`);
    }
}

/** The aws provider the component's resources get from `opts`, if one is named there. */
function awsProviderIn(opts: pulumi.ComponentResourceOptions | undefined): pulumi.ProviderResource | undefined {
    const named = [opts?.provider, ...(Array.isArray(opts?.providers) ? opts.providers : Object.values(opts?.providers ?? {}))];
    return named.find((p): p is pulumi.ProviderResource => p !== undefined && aws.Provider.isInstance(p));
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
        // Decided before registering anything, so bad arguments or a conflicting part fail with nothing half-made.
        const problems = knownArgumentProblems(args);
        if (problems.length > 0) throw new InvalidArguments(name, problems);
        const keyChoice = choosePart("sessionDataKey", args.sessionDataKey);
        const logGroupChoice = choosePart("logGroup", args.logGroup);
        const logsKeyChoice: PartChoice<LogsKeyArgs, { readonly arn: pulumi.Input<string> }> =
            logGroupChoice.kind === "create" ? choosePart("logGroup.args.kmsKey", logGroupChoice.args?.kmsKey) : { kind: "skip" };
        const policyChoice = choosePart("instancePolicy", args.instancePolicy);
        const createsAwsResources = keyChoice.kind === "create" || logGroupChoice.kind === "create" || policyChoice.kind === "create";
        const awsProvider = awsProviderIn(opts);
        if (!awsProvider && !createsAwsResources && (args.accountId === undefined || args.region === undefined)) {
            throw new InvalidArguments(name, [
                new f.InvalidValue(
                    args.accountId === undefined ? "accountId" : "region",
                    undefined,
                    "required when no aws provider is given in opts and nothing but the document is made: there is nothing to take it from",
                ),
            ]);
        }

        super("session-manager-preferences:index:Preferences", name, {}, opts);

        // Arguments that were Outputs are checked when they resolve, by the same rules.
        const checked = pulumi.all(argumentChecks(args).map(([, value]) => value)).apply((values) => {
            const late = knownArgumentProblems(resolvedArgs(args, values));
            if (late.length > 0) throw new InvalidArguments(name, late);
            return true;
        });
        // The account and Region of the aws provider the resources use: the document must be in the same ones.
        const where = createsAwsResources || awsProvider ? this.providerAccountAndRegion(name, args) : undefined;
        const accountId = pulumi.all([where?.accountId ?? args.accountId, checked]).apply(([a]) => a as string);
        const region = pulumi.all([where?.region ?? args.region, checked]).apply(([r]) => r as string);
        const tags = args.tags === undefined ? undefined : pulumi.output(args.tags);

        const scope: pulumi.Output<PolicyScope> = pulumi.all([accountId, region]).apply(([a, r]) => policyScope(a, r));
        const preferences = pulumi.output(args.preferences ?? {}).apply((given) => withDefaults(given as Partial<DocumentPreferences>));

        // A retained document still names the session-data key; deleting the key would break every session.
        const retainSessionDataKey = args.onDelete === "retain";
        const sessionKey = this.sessionDataKey(name, keyChoice, scope, retainSessionDataKey, tags);
        this.sessionDataKeyId = sessionKey?.id;
        this.sessionDataKeyArn = sessionKey?.arn;

        if (logGroupChoice.kind === "create") {
            const groupName = pulumi.output(logGroupChoice.args?.name ?? defaultPreferences.cwLogGroupName);
            this.logsKeyArn = this.logsKey(name, logsKeyChoice, scope, groupName, tags);
            const group = new aws.cloudwatch.LogGroup(
                `${name}-log-group`,
                {
                    name: groupName,
                    retentionInDays: logGroupChoice.args?.retentionInDays ?? defaultPreferences.logRetentionInDays,
                    kmsKeyId: this.logsKeyArn,
                    tags,
                },
                // Session logs are audit records: removing the stack must not destroy them.
                { parent: this, retainOnDelete: true },
            );
            this.logGroupName = group.name;
        } else if (logGroupChoice.kind === "existing") {
            this.logGroupName = pulumi.output(logGroupChoice.existing.name);
        }

        if (policyChoice.kind === "create") {
            this.instancePolicyArn = this.instancePolicy(
                name,
                [...(policyChoice.args?.roleNames ?? [])],
                policyChoice.args?.logArchive,
                scope,
                preferences,
                tags,
            );
        }

        const content = pulumi
            .all([scope, preferences, sessionKey?.reference ?? "", this.logGroupName ?? ""])
            .apply(([s, prefs, kmsKeyId, logGroupName]) => documentContent(prefs, { accountId: s.accountId, region: s.region, kmsKeyId, logGroupName }));
        const document = new SessionDocument(
            `${name}-document`,
            {
                accountId,
                region,
                roleArn: args.roleArn,
                readOnlyRoleArn: args.readOnlyRoleArn,
                documentName: args.documentName,
                content,
                onDelete: args.onDelete,
                keepDocumentVersions: args.keepDocumentVersions,
                takeOver: args.takeOver,
                tags,
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

    /**
     * The account and Region the aws provider of this component's resources acts in (the one in
     * `opts`, else the default provider), asked through that provider, and checked against the
     * arguments when they name them too: otherwise the keys and the log group would go to one
     * account and the document to another.
     */
    private providerAccountAndRegion(name: string, args: SessionManagerPreferencesArgs): { accountId: pulumi.Output<string>; region: pulumi.Output<string> } {
        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const providerRegion = aws.getRegionOutput({}, { parent: this }).region;
        const agree = (argument: "accountId" | "region", given: pulumi.Input<string> | undefined, found: pulumi.Output<string>, what: pulumi.Output<string>) =>
            pulumi.all([given, found, what]).apply(([g, actual, detail]) => {
                if (g !== undefined && g !== actual) {
                    throw new InvalidArguments(name, [
                        new f.InvalidValue(
                            argument,
                            g,
                            `the ${argument === "accountId" ? "account" : "Region"} of the aws provider the component's resources use, ${actual} (${detail}): give the component that account's and Region's provider in opts, or leave ${argument} out to take the provider's`,
                        ),
                    ]);
                }
                return actual;
            });
        return {
            accountId: agree("accountId", args.accountId, identity.accountId, identity.arn),
            region: agree("region", args.region, providerRegion, pulumi.output("the provider's Region")),
        };
    }

    private sessionDataKey(
        name: string,
        choice: PartChoice<SessionDataKeyArgs, { readonly arn: pulumi.Input<string> }>,
        scope: pulumi.Output<PolicyScope>,
        retainOnDelete: boolean,
        tags: pulumi.Output<Record<string, string>> | undefined,
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
                tags,
            },
            { parent: this, retainOnDelete },
        );
        new aws.kms.Alias(`${name}-session-data-key-alias`, { name: sessionDataKeyAlias, targetKeyId: key.keyId }, { parent: this });
        new aws.ssm.Parameter(
            `${name}-session-data-key-id`,
            // insecureValue: `value` is always stored as a secret, and a key ID is not one; plain, it shows in diffs.
            { name: sessionDataKeyParameterName, type: "String", insecureValue: key.keyId, description: sessionDataKeyParameterDescription, tags },
            { parent: this },
        );
        // The key ID, as the CloudFormation sample writes it, so documents it managed compare equal.
        return { id: key.keyId, arn: key.arn, reference: key.keyId };
    }

    private logsKey(
        name: string,
        choice: PartChoice<LogsKeyArgs, { readonly arn: pulumi.Input<string> }>,
        scope: pulumi.Output<PolicyScope>,
        groupName: pulumi.Output<string>,
        tags: pulumi.Output<Record<string, string>> | undefined,
    ): pulumi.Output<string> | undefined {
        if (choice.kind === "skip") return undefined;
        if (choice.kind === "existing") return pulumi.output(choice.existing.arn);
        const key = new aws.kms.Key(
            `${name}-logs-key`,
            {
                description: logsKeyDescription,
                enableKeyRotation: choice.args?.enableKeyRotation ?? defaultPreferences.kmsKeyRotation,
                policy: pulumi.all([scope, groupName]).apply(([s, group]) => JSON.stringify(logsKeyPolicy(s, group))),
                tags,
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
        logArchive: ArchiveTarget | undefined,
        scope: pulumi.Output<PolicyScope>,
        preferences: pulumi.Output<DocumentPreferences>,
        tags: pulumi.Output<Record<string, string>> | undefined,
    ): pulumi.Output<string> {
        const document = pulumi.all([scope, preferences, this.logGroupName, this.sessionDataKeyArn]).apply(([s, prefs, logGroupName, sessionDataKeyArn]) =>
            JSON.stringify(
                instanceProfilePolicy({
                    ...s,
                    logGroupName,
                    sessionDataKeyArn,
                    s3: prefs.s3Logging
                        ? {
                              bucketName: prefs.s3BucketName,
                              keyPrefix: s3KeyPrefixFor(prefs.s3KeyPrefix, s.accountId, s.region),
                              ...(logArchive ? { archive: logArchive } : {}),
                          }
                        : undefined,
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
                tags,
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

/** The arguments with the values of their checks (in argumentChecks' order) in place: what the late check sees. */
function resolvedArgs(args: SessionManagerPreferencesArgs, values: readonly unknown[]): SessionManagerPreferencesArgs {
    const checks = argumentChecks(args);
    const set = (target: Record<string, unknown>, path: string[], value: unknown) => {
        const [head, ...rest] = path;
        if (rest.length === 0) {
            if (value !== undefined) target[head] = value;
            return;
        }
        if (typeof target[head] !== "object" || target[head] === null) {
            if (value === undefined) return;
            target[head] = {};
        }
        target[head] = { ...(target[head] as Record<string, unknown>) };
        set(target[head] as Record<string, unknown>, rest, value);
    };
    const out: Record<string, unknown> = { ...args };
    checks.forEach(([name], i) => set(out, name.split("."), values[i]));
    return out as SessionManagerPreferencesArgs;
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
