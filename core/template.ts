/**
 * The CloudFormation template that `deployment: stackset` rolls out to every account and
 * Region. It is generated from the same preferences, plan and policies as the direct
 * mode, so the two cannot disagree: what differs per account and Region is left to
 * CloudFormation as `${AWS::AccountId}`, `${AWS::Region}`, `${AWS::Partition}` and
 * `${AWS::URLSuffix}`.
 *
 * The configuration decides at synthesis which resources exist (session data encryption,
 * log group creation, its encryption, the instance and operator policies). The document
 * preferences an override may set per account, OU or Region (core/overrides.ts) are the
 * template's Parameters instead, with the base settings as their defaults: one template for
 * every stack instance, and StackSet instance parameter overrides for the instances an
 * override selects (core/stackSet.ts stackSetOverrideGroups). The custom resource takes them
 * as properties, and lambda/handler.ts makes the document from them with core/document.ts,
 * as the direct mode does. RepairToken changes nothing but the custom resource's properties:
 * a new value makes it rewrite the document (the repair command).
 *
 * Conditions: the operator policy's (IAM is account-wide, so of an account's stacks only the
 * one in the StackSet's first Region makes it), and, when the instance policy grants S3
 * access that an override can change, whether this stack logs to S3 and under which prefix.
 */
import { documentWriteActions } from "./accessPolicies";
import { desiredDocument, s3KeyPrefixFor, SessionDocumentContent } from "./document";
import { archivePerRegion, operatorPolicy, operatorPolicyInputs } from "./landingZone";
import { instancePolicyPart, logGroupPart, sessionDataKeyPart } from "./plan";
import { InstancePolicyInputs, instanceProfilePolicy, logsKeyPolicy, PolicyDocument, PolicyScope, PolicyStatement, sessionDataKeyPolicy } from "./policies";
import {
    instancePolicyDescription,
    instancePolicyName,
    instancePolicyPath,
    logsKeyAlias,
    logsKeyDescription,
    operatorPolicyDescription,
    operatorPolicyName,
    operatorPolicyPath,
    sessionDataKeyAlias,
    sessionDataKeyDeletionWindowInDays,
    sessionDataKeyDescription,
    sessionDataKeyParameterDescription,
    sessionDataKeyParameterName,
    stackSetHandlerLogGroupName,
    stackSetHandlerLogsKeyDescription,
    stackSetHandlerRoleName,
} from "./names";
import { defaultDocumentName, documentPreferenceKeys, DocumentPreferences, LogArchive, OperatorPolicy, Preferences } from "./settings";

/** A value in a template: JSON, where objects may be intrinsic functions. */
export type CfnValue = string | number | boolean | CfnValue[] | { [key: string]: CfnValue };

export interface CfnResource {
    Type: string;
    /** Made only where this Condition holds. */
    Condition?: string;
    Properties: Record<string, CfnValue>;
    DependsOn?: string[];
    Metadata?: Record<string, CfnValue>;
    DeletionPolicy?: "Retain" | "Delete";
    UpdateReplacePolicy?: "Retain" | "Delete";
}

export interface CfnOutput {
    Description: string;
    Value: CfnValue;
    /** The Condition of the resource it names, which it shares. */
    Condition?: string;
}

export interface CfnParameter {
    Type: "String" | "Number";
    Default: string;
    Description: string;
    AllowedValues?: string[];
    AllowedPattern?: string;
    MaxLength?: number;
    MinValue?: number;
    MaxValue?: number;
    ConstraintDescription?: string;
}

export interface CfnTemplate {
    AWSTemplateFormatVersion: "2010-09-09";
    Description: string;
    Parameters: Record<string, CfnParameter>;
    /** Only when some resource is made in some stacks only (the operator policy). */
    Conditions?: Record<string, CfnValue>;
    Resources: Record<string, CfnResource>;
    Outputs: Record<string, CfnOutput>;
}

/**
 * What CloudFormation reads from a TemplateURL, in bytes (1 MB; taken as 10^6 to be safe).
 * The template goes through S3 because the bundled custom-resource handler alone is
 * larger than the 51,200 bytes CreateStackSet takes as an inline TemplateBody.
 */
export const maxTemplateUrlBytes = 1_000_000;

export const logicalIds = {
    sessionDataKey: "SessionDataKey",
    sessionDataKeyAlias: "SessionDataKeyAlias",
    sessionDataKeyParameter: "SessionDataKeyIdParameter",
    logsKey: "LogsKey",
    logsKeyAlias: "LogsKeyAlias",
    logGroup: "SessionLogGroup",
    instancePolicy: "InstanceProfilePolicy",
    operatorPolicy: "OperatorPolicy",
    handlerRole: "DocumentHandlerRole",
    handlerLogsKey: "DocumentHandlerLogsKey",
    handlerLogGroup: "DocumentHandlerLogGroup",
    handler: "DocumentHandler",
    document: "SessionPreferencesDocument",
} as const;

export const conditionIds = {
    /** True in the stack of the StackSet's first Region: the one of each account that makes the operator policy. */
    operatorPolicyRegion: "OperatorPolicyRegion",
    /** This stack's S3Logging parameter is true: the instance policy lets instances write session logs to its bucket. */
    s3Logging: "S3LoggingEnabled",
    /** This stack's S3KeyPrefix parameter is not empty: the logs go under it. */
    s3KeyPrefix: "HasS3KeyPrefix",
} as const;

/**
 * The template's Parameter for each document preference, as CloudFormation names them: a
 * StackSet instance parameter override sets one for the accounts and Regions it covers.
 */
export const parameterNames = {
    s3Logging: "S3Logging",
    s3BucketName: "S3BucketName",
    s3KeyPrefix: "S3KeyPrefix",
    s3EncryptionEnabled: "S3EncryptionEnabled",
    cwEncryptionEnabled: "CloudWatchEncryptionEnabled",
    cwStreamingEnabled: "CloudWatchStreamingEnabled",
    runAsEnabled: "RunAsEnabled",
    runAsDefaultUser: "RunAsDefaultUser",
    idleSessionTimeout: "IdleSessionTimeout",
    maxSessionDuration: "MaxSessionDuration",
    winShellProfile: "WindowsShellProfile",
    linuxShellProfile: "LinuxShellProfile",
} as const satisfies Record<keyof DocumentPreferences, string>;

/**
 * A parameter that only the custom resource reads: a new value makes CloudFormation send it an
 * Update, which writes the wanted document again even when nothing else changed.
 */
export const repairTokenParameter = "RepairToken";

export type PreferenceParameter = (typeof parameterNames)[keyof DocumentPreferences];
export type ParameterName = PreferenceParameter | typeof repairTokenParameter;

/** The longest value CloudFormation takes for a parameter, in bytes. */
export const maxParameterValueBytes = 4096;

/** A preference as its parameter's value: "true"/"false", digits, text; the S3 key prefix without leading or trailing slashes. */
export function parameterValue<K extends keyof DocumentPreferences>(key: K, value: DocumentPreferences[K]): string {
    if (key === "s3KeyPrefix") return (value as string).replace(/^\/+|\/+$/g, "");
    return String(value);
}

/**
 * The preferences that are parameters of the template for these settings: all of them, but a
 * shell profile longer than a parameter may be is written into the template, and so cannot be
 * overridden per instance (core/stackSet.ts says so when an override tries).
 */
export function parameterisedKeys(prefs: DocumentPreferences): (keyof DocumentPreferences)[] {
    return documentPreferenceKeys.filter((key) => Buffer.byteLength(parameterValue(key, prefs[key])) <= maxParameterValueBytes);
}

/** With a log archive the S3 preferences are the archive's: their parameters take that value only (the configuration refuses overrides of them). */
const archiveLockedKeys: readonly (keyof DocumentPreferences)[] = ["s3Logging", "s3BucketName", "s3KeyPrefix"];

function preferenceParameter(key: keyof DocumentPreferences, prefs: Preferences): CfnParameter {
    const value = parameterValue(key, prefs[key]);
    const about = `sessionManager:${key} in this account and Region (the StackSet's value, unless an instance override sets it)`;
    const base = { Default: value, Description: about };
    if (prefs.logArchive && archiveLockedKeys.includes(key)) return { Type: "String", ...base, AllowedValues: [value] };
    switch (key) {
        case "idleSessionTimeout":
            return { Type: "Number", ...base, MinValue: 1, MaxValue: 60 };
        case "maxSessionDuration":
            return { Type: "Number", ...base, MinValue: 1, MaxValue: 1440 };
        case "s3BucketName":
            return { Type: "String", ...base, AllowedPattern: "^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", ConstraintDescription: "an S3 bucket name, or empty" };
        case "s3KeyPrefix":
            return {
                Type: "String",
                ...base,
                MaxLength: 900,
                AllowedPattern: "^$|^[A-Za-z0-9!_.*'()-]([A-Za-z0-9!_.*'()/-]*[A-Za-z0-9!_.*'()-])?$",
                ConstraintDescription: "an S3 key prefix of letters, digits and !_.*'()/-, not starting or ending with /",
            };
        case "runAsDefaultUser":
            return { Type: "String", ...base, AllowedPattern: "^$|^[a-z_][a-z0-9_-]{0,31}$", ConstraintDescription: "a Linux user name, or empty" };
        case "winShellProfile":
        case "linuxShellProfile":
            return { Type: "String", ...base, MaxLength: maxParameterValueBytes };
        default:
            return { Type: "String", ...base, AllowedValues: ["true", "false"] };
    }
}

/** The template's Parameters: each parameterised preference, its default the base setting, and the repair token. */
function templateParameters(prefs: Preferences): Record<string, CfnParameter> {
    const parameters: Record<string, CfnParameter> = {};
    for (const key of parameterisedKeys(prefs)) parameters[parameterNames[key]] = preferenceParameter(key, prefs);
    parameters[repairTokenParameter] = {
        Type: "String",
        Default: "",
        Description: "Changed by the repair command: a new value makes the custom resource write the wanted Session document again",
        AllowedPattern: "^[A-Za-z0-9._:-]{0,128}$",
        ConstraintDescription: "up to 128 letters, digits and ._:-",
    };
    return parameters;
}

/**
 * Days KMS waits before deleting the handler's log key. The key is deleted with the stack
 * because the log group it encrypts is: nothing is left that it could decrypt, so the
 * shortest window KMS allows is enough.
 */
export const handlerLogsKeyDeletionWindowInDays = 7;

export const customResourceType = "Custom::SessionPreferencesDocument";
/** The Lambda runtime of the custom resource; lambda/bundle.ts builds for the same Node.js. */
export const handlerRuntime = "nodejs22.x";
/** Seconds. The handler answers FAILED a few seconds before this runs out. */
export const handlerTimeoutSeconds = 120;

export class TemplateTooLargeError extends Error {
    constructor(
        public readonly bytes: number,
        handlerCodeBytes: number,
        shellProfileBytes: number,
    ) {
        super(
            `the StackSet template is ${bytes} bytes; CloudFormation reads at most ${maxTemplateUrlBytes} bytes from a TemplateURL. ` +
                `The custom-resource handler accounts for ${handlerCodeBytes} bytes of it, winShellProfile and linuxShellProfile for ${shellProfileBytes}`,
        );
        this.name = "TemplateTooLargeError";
    }
}

/** What the template needs besides the preferences. */
export interface TemplateContext {
    /** The custom resource's code (lambda/bundle.ts), carried inline as the function's ZipFile. */
    handlerCode: string;
    /** Written to each document's owner tag, e.g. "project/stack:stackset". */
    owner: string;
    /**
     * The StackSet's Regions, in order (core/stackSet.ts planStackSet): the operator policy, one
     * per account, names them all and is made in the first only.
     */
    regions: readonly string[];
}

/**
 * Placeholders for what only CloudFormation knows. They are put where the account, Region,
 * partition, DNS suffix and key go, then the rendered text is escaped for Fn::Sub and each
 * placeholder becomes its `${...}` reference. A run of @ longer than any in the content
 * keeps them unique.
 */
interface Placeholders {
    accountId: string;
    region: string;
    partition: string;
    urlSuffix: string;
    keyId: string;
    keyArn: string;
    /** The S3Logging and S3KeyPrefix parameters, in the instance policy. */
    s3BucketName: string;
    s3KeyPrefix: string;
}

function placeholdersAvoiding(text: string): Placeholders {
    let fence = "@@";
    while (text.includes(fence)) fence += "@";
    const mark = (name: string) => `${fence}${name}${fence}`;
    return {
        accountId: mark("AccountId"),
        region: mark("Region"),
        partition: mark("Partition"),
        urlSuffix: mark("URLSuffix"),
        keyId: mark("KeyId"),
        keyArn: mark("KeyArn"),
        s3BucketName: mark("S3BucketName"),
        s3KeyPrefix: mark("S3KeyPrefix"),
    };
}

interface Substitution {
    placeholders: Placeholders;
    /** What the key placeholders stand for: `${SessionDataKey}`-style references or an existing key's ARN. */
    keyId: string;
    keyArn: string;
}

/** Text for CloudFormation: placeholders resolved, in Fn::Sub (with literal `${` escaped) only when it refers to something. */
function sub(text: string, s: Substitution): CfnValue {
    const p = s.placeholders;
    const resolve = (t: string): string => {
        // Keys first: an existing key's ARN can itself hold the account and Region placeholders.
        t = t.split(p.keyId).join(s.keyId).split(p.keyArn).join(s.keyArn);
        t = t.split(p.s3BucketName).join(`\${${parameterNames.s3BucketName}}`).split(p.s3KeyPrefix).join(`\${${parameterNames.s3KeyPrefix}}`);
        t = t.split(p.partition).join("${AWS::Partition}").split(p.urlSuffix).join("${AWS::URLSuffix}");
        return t.split(p.accountId).join("${AWS::AccountId}").split(p.region).join("${AWS::Region}");
    };
    const out = resolve(text.split("${").join("${!"));
    if (!/\$\{(?!!)/.test(out)) return resolve(text);
    const whole = /^\$\{([\w:]+)(?:\.(\w+))?\}$/.exec(out);
    if (whole) return whole[2] ? { "Fn::GetAtt": [whole[1], whole[2]] } : { Ref: whole[1] };
    return { "Fn::Sub": out };
}

function policy(document: PolicyDocument | PolicyStatement, s: Substitution): CfnValue {
    const walk = (value: unknown): CfnValue => {
        if (typeof value === "string") return sub(value, s);
        if (Array.isArray(value)) return value.map(walk);
        if (value !== null && typeof value === "object") {
            return Object.fromEntries(
                Object.entries(value)
                    .filter(([, v]) => v !== undefined)
                    .map(([k, v]) => [k, walk(v)]),
            );
        }
        return value as number | boolean;
    };
    return walk(document);
}

const ref = (logicalId: string): CfnValue => ({ Ref: logicalId });
const arnOf = (logicalId: string): CfnValue => ({ "Fn::GetAtt": [logicalId, "Arn"] });
const retained = { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" } as const;
const deleted = { DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete" } as const;

type CfnOutputs = CfnTemplate["Outputs"];

/** Some of the template: the resources and outputs of one part, and the Conditions they use. */
interface Fragment {
    conditions?: Record<string, CfnValue>;
    resources: Record<string, CfnResource>;
    outputs: CfnOutputs;
}

/** Where the template's parts point: placeholders for what only CloudFormation knows. */
interface Synthesis {
    prefs: Preferences;
    scope: PolicyScope;
    s: Substitution;
}

/**
 * The template for these preferences. The handler's code is an argument so that this
 * module stays pure.
 */
export function sessionManagerTemplate(prefs: Preferences, context: TemplateContext): CfnTemplate {
    const blank = desiredDocument(prefs, { accountId: "", region: "", kmsKeyId: "" });
    // The preferences too: the key ARNs, archive and operator policy's tag go into the template.
    const placeholders = placeholdersAvoiding(JSON.stringify(blank) + JSON.stringify(prefs));
    const scope: PolicyScope = {
        accountId: placeholders.accountId,
        region: placeholders.region,
        partition: placeholders.partition,
        urlSuffix: placeholders.urlSuffix,
    };

    const keyPart = sessionDataKeyPart(prefs, scope);
    const groupPart = logGroupPart(prefs);
    // The archive's bucket and key as the direct mode finds them for a target in the stack's Region.
    const policyPart = instancePolicyPart({ ...prefs, logArchive: archiveInEveryRegion(prefs.logArchive, placeholders.region) }, placeholders.region);
    // An existing key's ARN may name `{region}` and `{accountId}`: the plan puts the placeholders there.
    const existingKeyArn = "existing" in keyPart ? keyPart.existing.arn : undefined;
    const s: Substitution = {
        placeholders,
        // The direct mode writes a created key's ID and an existing key's ARN (it may live in another account).
        keyId: existingKeyArn ?? `\${${logicalIds.sessionDataKey}}`,
        keyArn: existingKeyArn ?? `\${${logicalIds.sessionDataKey}.Arn}`,
    };
    const at: Synthesis = { prefs, scope, s };
    const content = desiredDocument(prefs, { ...scope, kmsKeyId: placeholders.keyId });

    const fragments: Fragment[] = [
        { resources: {}, outputs: { DocumentName: { Description: "The Session document that holds the preferences", Value: defaultDocumentName } } },
    ];
    if ("args" in keyPart) fragments.push(sessionDataKeyResources(at));
    if ("args" in groupPart && groupPart.args) fragments.push(logGroupResources(at, groupPart.args));
    else if ("existing" in groupPart)
        fragments.push({ resources: {}, outputs: { LogGroupName: { Description: "The session log group", Value: groupPart.existing.name } } });
    if ("args" in policyPart) {
        const archive = policyPart.args?.logArchive;
        const documentWith = (s3: InstancePolicyInputs["s3"]) =>
            instanceProfilePolicy({
                ...scope,
                logGroupName: "skip" in groupPart ? undefined : prefs.cwLogGroupName,
                s3,
                sessionDataKeyArn: "skip" in keyPart ? undefined : placeholders.keyArn,
            });
        if (prefs.logArchive) {
            // The archive decides the S3 preferences (their parameters allow its values only).
            // The document's bucket: a log archive's bucket per Region is the stack's Region's.
            const document = documentWith(
                prefs.s3Logging
                    ? { bucketName: content.inputs.s3BucketName, keyPrefix: content.inputs.s3KeyPrefix, ...(archive ? { archive } : {}) }
                    : undefined,
            );
            fragments.push(instancePolicyResources(policy(document, s), policyPart.args?.roleNames ?? []));
        } else {
            // Whether and where this stack logs to S3 are parameters: the statements follow them.
            const bucketName = placeholders.s3BucketName;
            const variants = {
                withPrefix: documentWith({ bucketName, keyPrefix: s3KeyPrefixFor(placeholders.s3KeyPrefix, scope.accountId, scope.region) }),
                withoutPrefix: documentWith({ bucketName, keyPrefix: s3KeyPrefixFor("", scope.accountId, scope.region) }),
                withoutS3: documentWith(undefined),
            };
            const fragment = instancePolicyResources(s3ConditionalPolicy(variants, s), policyPart.args?.roleNames ?? []);
            if (prefs.s3BucketName === "") {
                // cfn-lint checks the S3 statements' ARNs with the default, empty, bucket name, though
                // they are made only where S3Logging is true, which needs a bucket (preferencesFor).
                fragment.resources[logicalIds.instancePolicy].Metadata = { "cfn-lint": { config: { ignore_checks: ["W1031"] } } };
            }
            fragment.conditions = {
                [conditionIds.s3Logging]: { "Fn::Equals": [ref(parameterNames.s3Logging), "true"] },
                [conditionIds.s3KeyPrefix]: { "Fn::Not": [{ "Fn::Equals": [ref(parameterNames.s3KeyPrefix), ""] }] },
            };
            fragments.push(fragment);
        }
    }
    if (prefs.operatorPolicy) fragments.push(operatorPolicyResources(at, prefs.operatorPolicy, context.regions));
    fragments.push({ resources: documentHandler(at, defaultDocumentName, context.handlerCode), outputs: {} });
    const createsLogGroup = fragments.some((f) => logicalIds.logGroup in f.resources);
    fragments.push(documentResource(at, content, context.owner, createsLogGroup));

    const conditions: Record<string, CfnValue> = Object.assign({}, ...fragments.map((f) => f.conditions ?? {}));
    return {
        AWSTemplateFormatVersion: "2010-09-09",
        Description: "Session Manager preferences for this account and Region (generated by session-manager-preferences)",
        Parameters: templateParameters(prefs),
        ...(Object.keys(conditions).length > 0 ? { Conditions: conditions } : {}),
        Resources: Object.assign({}, ...fragments.map((f) => f.resources)),
        Outputs: Object.assign({}, ...fragments.map((f) => f.outputs)),
    };
}

/**
 * The log archive as a stack in `region` sees it. With a bucket per Region, the configuration
 * checks that every StackSet Region has one, so the stack's Region (a placeholder here) is one
 * of them; a single bucket stays where it is.
 */
function archiveInEveryRegion(archive: LogArchive | undefined, region: string): LogArchive | undefined {
    return archive && archivePerRegion(archive) ? { ...archive, regions: [region] } : archive;
}

/** The created session-data key, its alias and the parameter holding its ID. */
function sessionDataKeyResources({ prefs, scope, s }: Synthesis): Fragment {
    return {
        resources: {
            [logicalIds.sessionDataKey]: {
                Type: "AWS::KMS::Key",
                Properties: {
                    Description: sessionDataKeyDescription,
                    EnableKeyRotation: prefs.kmsKeyRotation,
                    PendingWindowInDays: sessionDataKeyDeletionWindowInDays,
                    KeyPolicy: policy(sessionDataKeyPolicy(scope), s),
                },
                // A retained document still names this key; deleting it would break every session.
                // Otherwise the document stops naming it on delete, and KMS still waits 30 days.
                ...(prefs.onDelete === "retain" ? retained : deleted),
            },
            [logicalIds.sessionDataKeyAlias]: {
                Type: "AWS::KMS::Alias",
                Properties: { AliasName: sessionDataKeyAlias, TargetKeyId: ref(logicalIds.sessionDataKey) },
            },
            [logicalIds.sessionDataKeyParameter]: {
                Type: "AWS::SSM::Parameter",
                Properties: {
                    Name: sessionDataKeyParameterName,
                    Type: "String",
                    Value: ref(logicalIds.sessionDataKey),
                    Description: sessionDataKeyParameterDescription,
                },
            },
        },
        outputs: {
            SessionDataKeyId: { Description: "ID of the session-data KMS key", Value: ref(logicalIds.sessionDataKey) },
            SessionDataKeyArn: { Description: "ARN of the session-data KMS key", Value: arnOf(logicalIds.sessionDataKey) },
        },
    };
}

/** The created log group, and its key and alias when it is encrypted. */
function logGroupResources({ prefs, scope, s }: Synthesis, group: { name: string; retentionInDays: number; kmsKey: object }): Fragment {
    const resources: Record<string, CfnResource> = {};
    const outputs: CfnOutputs = {};
    const encrypted = "args" in group.kmsKey;
    if (encrypted) {
        resources[logicalIds.logsKey] = {
            Type: "AWS::KMS::Key",
            Properties: {
                Description: logsKeyDescription,
                EnableKeyRotation: prefs.kmsKeyRotation,
                KeyPolicy: policy(logsKeyPolicy(scope, group.name), s),
            },
            // Kept with the log group it encrypts: deleting it would make the kept logs unreadable.
            ...retained,
        };
        resources[logicalIds.logsKeyAlias] = {
            Type: "AWS::KMS::Alias",
            Properties: { AliasName: logsKeyAlias, TargetKeyId: ref(logicalIds.logsKey) },
        };
        outputs.LogsKeyArn = { Description: "ARN of the KMS key that encrypts the session log group", Value: arnOf(logicalIds.logsKey) };
    }
    resources[logicalIds.logGroup] = {
        Type: "AWS::Logs::LogGroup",
        Properties: {
            LogGroupName: group.name,
            ...(group.retentionInDays > 0 ? { RetentionInDays: group.retentionInDays } : {}),
            ...(encrypted ? { KmsKeyId: arnOf(logicalIds.logsKey) } : {}),
        },
        // Session logs are audit records: removing the stack must not destroy them.
        ...retained,
    };
    outputs.LogGroupName = { Description: "The session log group", Value: ref(logicalIds.logGroup) };
    return { resources, outputs };
}

/**
 * The instance policy when this stack's S3Logging and S3KeyPrefix parameters decide its S3
 * statements: each statement only the S3 variants have is made when S3Logging is true, in its
 * form with or without a prefix. The variants differ in nothing else.
 */
function s3ConditionalPolicy(variants: { withPrefix: PolicyDocument; withoutPrefix: PolicyDocument; withoutS3: PolicyDocument }, s: Substitution): CfnValue {
    const bySid = (document: PolicyDocument) => new Map(document.Statement.map((statement) => [statement.Sid, statement]));
    const withoutPrefix = bySid(variants.withoutPrefix);
    const withoutS3 = bySid(variants.withoutS3);
    const statements = variants.withPrefix.Statement.map((statement): CfnValue => {
        const always = withoutS3.get(statement.Sid);
        if (always) {
            if (JSON.stringify(always) !== JSON.stringify(statement)) throw new Error(`instance policy statement ${statement.Sid} differs with S3 logging`);
            return policy(always, s);
        }
        const other = withoutPrefix.get(statement.Sid);
        const chosen =
            other && JSON.stringify(other) !== JSON.stringify(statement)
                ? { "Fn::If": [conditionIds.s3KeyPrefix, policy(statement, s), policy(other, s)] }
                : policy(statement, s);
        return { "Fn::If": [conditionIds.s3Logging, chosen, ref("AWS::NoValue")] };
    });
    return { Version: variants.withPrefix.Version, Statement: statements };
}

/** The instance-profile managed policy, attached to the named roles. */
function instancePolicyResources(document: CfnValue, roleNames: string[]): Fragment {
    return {
        resources: {
            [logicalIds.instancePolicy]: {
                Type: "AWS::IAM::ManagedPolicy",
                Properties: {
                    ManagedPolicyName: { "Fn::Sub": instancePolicyName("${AWS::Region}") },
                    Path: instancePolicyPath,
                    Description: instancePolicyDescription,
                    PolicyDocument: document,
                    ...(roleNames.length > 0 ? { Roles: roleNames } : {}),
                },
            },
        },
        outputs: { InstanceProfilePolicyArn: { Description: "ARN of the instance-profile policy", Value: ref(logicalIds.instancePolicy) } },
    };
}

/**
 * The operator policy: one per account, with a fixed name, so it is made only in the stack of
 * the StackSet's first Region, and names every Region of the StackSet.
 */
function operatorPolicyResources({ prefs, scope, s }: Synthesis, operator: OperatorPolicy, regions: readonly string[]): Fragment {
    if (regions.length === 0) throw new Error("the StackSet template needs the StackSet's Regions for the operator policy");
    const document = operatorPolicy(operatorPolicyInputs(prefs, { partition: scope.partition, accountId: scope.accountId, regions }));
    const condition = conditionIds.operatorPolicyRegion;
    return {
        conditions: { [condition]: { "Fn::Equals": [ref("AWS::Region"), regions[0]] } },
        resources: {
            [logicalIds.operatorPolicy]: {
                Type: "AWS::IAM::ManagedPolicy",
                Condition: condition,
                Properties: {
                    ManagedPolicyName: operatorPolicyName,
                    Path: operatorPolicyPath,
                    Description: operatorPolicyDescription,
                    PolicyDocument: policy(document, s),
                    ...(operator.roleNames.length > 0 ? { Roles: [...operator.roleNames] } : {}),
                },
            },
        },
        outputs: { OperatorPolicyArn: { Description: "ARN of the operator policy", Value: ref(logicalIds.operatorPolicy), Condition: condition } },
    };
}

/** The Session document as a custom resource, after the log group it names when the template creates it. */
function documentResource({ prefs, s }: Synthesis, content: SessionDocumentContent, owner: string, afterLogGroup: boolean): Fragment {
    const resource: CfnResource = {
        Type: customResourceType,
        Properties: {
            ServiceToken: arnOf(logicalIds.handler),
            // Seconds CloudFormation waits for an answer; the handler always answers well within it.
            ServiceTimeout: handlerTimeoutSeconds + 60,
            DocumentName: defaultDocumentName,
            // The document for the StackSet's own settings, with this stack's key and log group:
            // the handler makes its inputs again from the preferences below.
            Content: sub(JSON.stringify(content), s),
            AccountId: ref("AWS::AccountId"),
            Region: ref("AWS::Region"),
            // The template's parameters, so that an instance override reaches the document.
            ...preferenceProperties(prefs),
            [repairTokenParameter]: ref(repairTokenParameter),
            // Strings, as CloudFormation would make them anyway: lambda/handler.ts parses them.
            OnDelete: prefs.onDelete,
            KeepDocumentVersions: String(prefs.keepDocumentVersions),
            Owner: owner,
            TakeOver: String(prefs.takeOver),
        },
        ...(afterLogGroup ? { DependsOn: [logicalIds.logGroup] } : {}),
    };
    return { resources: { [logicalIds.document]: resource }, outputs: {} };
}

/** The custom resource's preference properties: its parameter where there is one, else the value (a long shell profile). */
function preferenceProperties(prefs: Preferences): Record<PreferenceParameter, CfnValue> {
    const parameterised = new Set(parameterisedKeys(prefs));
    return Object.fromEntries(
        documentPreferenceKeys.map((key) => [parameterNames[key], parameterised.has(key) ? ref(parameterNames[key]) : parameterValue(key, prefs[key])]),
    ) as Record<PreferenceParameter, CfnValue>;
}

/** The custom resource's function, its role and its own log group with the key that encrypts it. */
function documentHandler({ prefs, scope, s }: Synthesis, documentName: string, handlerCode: string): Record<string, CfnResource> {
    const documentArn = { "Fn::Sub": `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:document/${documentName}` };
    return {
        [logicalIds.handlerLogsKey]: {
            Type: "AWS::KMS::Key",
            Properties: {
                Description: stackSetHandlerLogsKeyDescription,
                EnableKeyRotation: prefs.kmsKeyRotation,
                PendingWindowInDays: handlerLogsKeyDeletionWindowInDays,
                // CloudWatch Logs may use it for the handler's log group only.
                KeyPolicy: policy(logsKeyPolicy(scope, stackSetHandlerLogGroupName), s),
            },
            // Deleted with the stack, as the log group it encrypts is: it would guard nothing.
            ...deleted,
        },
        [logicalIds.handlerLogGroup]: {
            Type: "AWS::Logs::LogGroup",
            Properties: {
                // Named, so that the key's policy can name it before it exists.
                LogGroupName: stackSetHandlerLogGroupName,
                // Which version the handler adopted and what it changed, kept as long as the session logs.
                ...(prefs.logRetentionInDays > 0 ? { RetentionInDays: prefs.logRetentionInDays } : {}),
                // Also makes CloudFormation create the key, with its policy, before the log group.
                KmsKeyId: arnOf(logicalIds.handlerLogsKey),
            },
            // They go with the stack: CloudTrail keeps the audit record of the document writes.
            ...deleted,
        },
        [logicalIds.handlerRole]: {
            Type: "AWS::IAM::Role",
            Properties: {
                // Named, so that the guardrail (a service control policy) can except it; IAM names are account-wide.
                RoleName: { "Fn::Sub": stackSetHandlerRoleName("${AWS::Region}") },
                Description: "Lets the Session Manager preferences custom resource manage the Session document, and nothing else",
                AssumeRolePolicyDocument: {
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
                },
                Policies: [
                    {
                        PolicyName: "ManageSessionDocument",
                        PolicyDocument: {
                            Version: "2012-10-17",
                            Statement: [
                                {
                                    Sid: "ManageTheSessionDocument",
                                    Effect: "Allow",
                                    Action: [...documentWriteActions],
                                    Resource: documentArn,
                                },
                                {
                                    Sid: "WriteOwnLogs",
                                    Effect: "Allow",
                                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                                    // The log group's Arn attribute ends in `:*`, which covers its streams.
                                    Resource: arnOf(logicalIds.handlerLogGroup),
                                },
                            ],
                        },
                    },
                ],
            },
        },
        [logicalIds.handler]: {
            Type: "AWS::Lambda::Function",
            Properties: {
                Description: "Applies the Session Manager preferences document (custom resource)",
                Runtime: handlerRuntime,
                Handler: "index.handler",
                Role: arnOf(logicalIds.handlerRole),
                Timeout: handlerTimeoutSeconds,
                MemorySize: 128,
                LoggingConfig: { LogGroup: ref(logicalIds.handlerLogGroup) },
                Code: { ZipFile: handlerCode },
            },
        },
    };
}

/** The template as the text CloudFormation reads, after checking it fits. */
export function renderTemplate(prefs: Preferences, context: TemplateContext): string {
    const body = JSON.stringify(sessionManagerTemplate(prefs, context));
    const bytes = Buffer.byteLength(body);
    if (bytes > maxTemplateUrlBytes) {
        const shellProfileBytes = Buffer.byteLength(prefs.winShellProfile) + Buffer.byteLength(prefs.linuxShellProfile);
        throw new TemplateTooLargeError(bytes, Buffer.byteLength(context.handlerCode), shellProfileBytes);
    }
    return body;
}
