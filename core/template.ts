/**
 * The CloudFormation template that `deployment: stackset` rolls out to every account and
 * Region. It is generated from the same preferences, plan and policies as the direct
 * mode, so the two cannot disagree: what differs per account and Region is left to
 * CloudFormation as `${AWS::AccountId}`, `${AWS::Region}`, `${AWS::Partition}` and
 * `${AWS::URLSuffix}`.
 *
 * Everything the configuration decides is decided here, at synthesis: the template has
 * no Parameters, only the resources these preferences need. The sample's conditions (S3
 * logging, session data encryption, log group creation, its encryption, Run As, shell
 * profiles) become which resources and content are emitted. The one Condition is the
 * operator policy's: IAM is account-wide, so of an account's stacks only the one in the
 * StackSet's first Region makes it.
 */
import { documentWriteActions } from "./accessPolicies";
import { desiredDocument, SessionDocumentContent } from "./document";
import { archivePerRegion, operatorPolicy, operatorPolicyInputs } from "./landingZone";
import { instancePolicyPart, logGroupPart, sessionDataKeyPart } from "./plan";
import { instanceProfilePolicy, logsKeyPolicy, PolicyDocument, PolicyScope, sessionDataKeyPolicy } from "./policies";
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
import { defaultDocumentName, LogArchive, OperatorPolicy, Preferences } from "./settings";

/** A value in a template: JSON, where objects may be intrinsic functions. */
export type CfnValue = string | number | boolean | CfnValue[] | { [key: string]: CfnValue };

export interface CfnResource {
    Type: string;
    /** Made only where this Condition holds. */
    Condition?: string;
    Properties: Record<string, CfnValue>;
    DependsOn?: string[];
    DeletionPolicy?: "Retain" | "Delete";
    UpdateReplacePolicy?: "Retain" | "Delete";
}

export interface CfnOutput {
    Description: string;
    Value: CfnValue;
    /** The Condition of the resource it names, which it shares. */
    Condition?: string;
}

export interface CfnTemplate {
    AWSTemplateFormatVersion: "2010-09-09";
    Description: string;
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
} as const;

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
        t = t.split(p.partition).join("${AWS::Partition}").split(p.urlSuffix).join("${AWS::URLSuffix}");
        return t.split(p.accountId).join("${AWS::AccountId}").split(p.region).join("${AWS::Region}");
    };
    const out = resolve(text.split("${").join("${!"));
    if (!/\$\{(?!!)/.test(out)) return resolve(text);
    const whole = /^\$\{([\w:]+)(?:\.(\w+))?\}$/.exec(out);
    if (whole) return whole[2] ? { "Fn::GetAtt": [whole[1], whole[2]] } : { Ref: whole[1] };
    return { "Fn::Sub": out };
}

function policy(document: PolicyDocument, s: Substitution): CfnValue {
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
        const document = instanceProfilePolicy({
            ...scope,
            logGroupName: "skip" in groupPart ? undefined : prefs.cwLogGroupName,
            // The document's bucket: a log archive's bucket per Region is the stack's Region's.
            s3: prefs.s3Logging
                ? { bucketName: content.inputs.s3BucketName, keyPrefix: content.inputs.s3KeyPrefix, ...(archive ? { archive } : {}) }
                : undefined,
            sessionDataKeyArn: "skip" in keyPart ? undefined : placeholders.keyArn,
        });
        fragments.push(instancePolicyResources(at, document, policyPart.args?.roleNames ?? []));
    }
    if (prefs.operatorPolicy) fragments.push(operatorPolicyResources(at, prefs.operatorPolicy, context.regions));
    fragments.push({ resources: documentHandler(at, defaultDocumentName, context.handlerCode), outputs: {} });
    const createsLogGroup = fragments.some((f) => logicalIds.logGroup in f.resources);
    fragments.push(documentResource(at, content, context.owner, createsLogGroup));

    const conditions: Record<string, CfnValue> = Object.assign({}, ...fragments.map((f) => f.conditions ?? {}));
    return {
        AWSTemplateFormatVersion: "2010-09-09",
        Description: "Session Manager preferences for this account and Region (generated by session-manager-preferences)",
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

/** The instance-profile managed policy, attached to the named roles. */
function instancePolicyResources({ s }: Synthesis, document: PolicyDocument, roleNames: string[]): Fragment {
    return {
        resources: {
            [logicalIds.instancePolicy]: {
                Type: "AWS::IAM::ManagedPolicy",
                Properties: {
                    ManagedPolicyName: { "Fn::Sub": instancePolicyName("${AWS::Region}") },
                    Path: instancePolicyPath,
                    Description: instancePolicyDescription,
                    PolicyDocument: policy(document, s),
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
            Content: sub(JSON.stringify(content), s),
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
