/**
 * The IAM roles that run this program, as policies a user can copy: the write role and the
 * read-only role in every target account, the GitHub OIDC roles the workflow starts from, and
 * the StackSet deployer. Built from the same settings the program deploys, so each role may do
 * what the configuration needs and nothing else. `npm run org -- policies` prints them;
 * docs/iam.md explains each; the tests lint every one with Parliament and check the document
 * permissions against the calls the provider really makes.
 */
import { selectsByOrganizationalUnit } from "./overrides";
import { archiveBuckets, guardrailTargetIds } from "./landingZone";
import { logGroupPart, instancePolicyPart, sessionDataKeyPart } from "./plan";
import {
    archiveKeyAlias,
    guardrailPolicyType,
    instancePolicyName,
    instancePolicyPath,
    logsKeyAlias,
    operatorPolicyName,
    operatorPolicyPath,
    organizationsAccessRoleName,
    sessionDataKeyAlias,
    sessionDataKeyParameterName,
    templateBucketNamePrefix,
} from "./names";
import { partitionOf, roleArn } from "./partition";
import type { PolicyDocument, PolicyStatement } from "./policies";
import { defaultDocumentName, LogArchive, Partition, roleNameFor, Settings, targetRegions, TargetRegion, withoutExcluded } from "./settings";

/** A role trust policy's statement: who may assume the role. */
export interface TrustStatement {
    Sid: string;
    Effect: "Allow";
    Principal: { AWS?: string | string[]; Federated?: string };
    Action: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface TrustPolicy {
    Version: "2012-10-17";
    Statement: TrustStatement[];
}

/** One role to create: where, trusted by whom, allowed what. */
export interface RoleSpec {
    /** The role's name (a `RoleName` for IAM). */
    roleName: string;
    /** Where to create it, for a person: "every target account", "the account the workflow starts from (111122223333)". */
    where: string;
    /** What the role is for, in one sentence. */
    purpose: string;
    /** IAM's MaxSessionDuration for the role, in seconds. */
    maxSessionDuration: number;
    trustPolicy: TrustPolicy;
    permissions: PolicyDocument;
}

/** How the workflow starts: the account its OIDC roles live in, the repository, and the roles' names. */
export interface StartingPoint {
    /** The account the workflow (or whoever runs the rollout) starts from. */
    accountId: string;
    /** `owner/name` of the GitHub repository; without it the GitHub OIDC trust is left out. */
    githubRepository?: string;
    /** The role previews and the drift check start from (AWS_PREVIEW_ROLE_ARN). */
    previewRoleName: string;
    /** The role `up` starts from (AWS_ROLLOUT_ROLE_ARN). */
    rolloutRoleName: string;
    /** A self-managed backend's S3 URL (s3://bucket/prefix): both starting roles read and write the stacks' state there. */
    backendUrl?: string;
}

/** Defaults of {@link StartingPoint} and of the workflow the roles serve (.github/workflows/session-manager.yml). */
export const workflowRoles = {
    previewRoleName: "SessionManagerPreview",
    rolloutRoleName: "SessionManagerRollout",
    /** The up job's `role-duration-seconds`, which its role's MaxSessionDuration must allow. */
    rolloutSessionSeconds: 7200,
    /** AWS's default and least MaxSessionDuration: the preview and drift jobs' sessions. */
    previewSessionSeconds: 3600,
    /** The GitHub OIDC provider's host, audience and the subjects each job presents. */
    oidcHost: "token.actions.githubusercontent.com",
    oidcAudience: "sts.amazonaws.com",
    previewSubjects: (repo: string) => [`repo:${repo}:pull_request`, `repo:${repo}:ref:refs/heads/main`],
    rolloutSubjects: (repo: string) => [`repo:${repo}:environment:production`],
} as const;

/** The partition and Regions every target of the configuration is in. */
export interface AccessScope {
    partition: Partition;
    regions: string[];
    /** Target accounts, when every target is named; undefined when accounts are discovered under OUs. */
    accounts?: string[];
    /** The distinct write roles of the targets ("" = the starting credentials themselves). */
    writeRoles: string[];
    /** The distinct read-only roles the targets name. */
    readOnlyRoles: string[];
    /** Some targets name no read-only role: they read through their write role (or the starting credentials when they have none). */
    readsWithoutReadOnlyRole: boolean;
}

/** Where the configuration deploys: its targets (and, with OUs, every account under them in `regions`). */
export function accessScope(settings: Settings, options: { defaultRegion?: string; discoveredRoleName?: string }): AccessScope {
    const explicit: TargetRegion[] = targetRegions(settings.targets);
    const discoveryRegions = settings.regions.length > 0 ? settings.regions : options.defaultRegion ? [options.defaultRegion] : [];
    const usesOus = settings.organizationalUnitIds.length > 0;
    const discovered: TargetRegion[] = usesOus
        ? discoveryRegions.map((region) => ({ accountId: "*", region, roleName: options.discoveredRoleName, readOnlyRoleName: settings.readOnlyRoleName }))
        : [];
    const stackSetRegions = settings.deployment === "stackset" ? discoveryRegions : [];
    const targets = withoutExcluded(settings, [...explicit, ...discovered]);
    const regions = [...new Set([...targets.map((t) => t.region), ...stackSetRegions.filter((r) => !settings.excludeRegions.includes(r))])].sort();
    if (regions.length === 0 && options.defaultRegion) regions.push(options.defaultRegion);
    if (regions.length === 0) throw new Error("no Region to scope the policies to: set sessionManager:targets, sessionManager:regions or aws:region");
    // The log archive's buckets are made in the same partition: its Regions count too.
    const partitions = [...new Set([...regions, ...(settings.logArchive?.regions ?? [])].map(partitionOf))];
    if (partitions.length > 1)
        throw new Error(`the Regions span partitions (${partitions.join(", ")}): IAM roles live in one partition; make one configuration per partition`);
    return {
        partition: partitions[0],
        regions,
        accounts: usesOus ? undefined : [...new Set(targets.map((t) => t.accountId))].sort(),
        writeRoles: [...new Set(targets.map((t) => roleNameFor(t, "write") ?? ""))].sort(),
        readOnlyRoles: [...new Set(targets.flatMap((t) => (t.readOnlyRoleName ? [t.readOnlyRoleName] : [])))].sort(),
        readsWithoutReadOnlyRole: targets.some((t) => !t.readOnlyRoleName),
    };
}

/** Resources in the principal's own account: IAM cannot name "this account" in an ARN, so the ARN says any account and this condition narrows it. */
const ownAccount = { StringEquals: { "aws:ResourceAccount": "${aws:PrincipalAccount}" } };

/** ListAliases has no resource-level scoping; the Terraform provider finds an alias by listing them. */
const findKeyAliases: PolicyStatement = { Sid: "FindKeyAliases", Effect: "Allow", Action: "kms:ListAliases", Resource: "*" };

function arnsPerRegion(scope: AccessScope, service: string, resource: string): string[] {
    return scope.regions.map((region) => `arn:${scope.partition}:${service}:${region}:*:${resource}`);
}

/** Which parts the configuration creates in each target (the same choices as core/plan.ts). */
function createdParts(settings: Settings) {
    const key = sessionDataKeyPart(settings, { accountId: "000000000000", region: "us-east-1" });
    const group = logGroupPart(settings);
    const createsGroup = "args" in group;
    return {
        sessionDataKey: "args" in key,
        logGroup: createsGroup,
        logGroupName: settings.cwLogGroupName,
        logsKey: createsGroup && group.args !== undefined && "args" in group.args.kmsKey,
        instancePolicy: "args" in instancePolicyPart(settings),
        instanceRoleNames: settings.instanceRoleNames,
        /** The roles the operator policy is attached to, when it is made (core/landingZone.ts, components/program.ts). */
        operatorRoleNames: settings.operatorPolicy?.roleNames,
        /** The session-data key is deleted with the document unless onDelete keeps it. */
        deletesSessionDataKey: settings.onDelete !== "retain",
    };
}

/**
 * SSM actions the document operations (providers/documentOperations.ts) call on the Session
 * document to write (adopt, converge, prune, release): the write role's, and the StackSet
 * custom resource's (core/template.ts). test/iam-lint.test.ts checks them against the calls made.
 */
export const documentWriteActions = [
    "ssm:AddTagsToResource",
    "ssm:CreateDocument",
    "ssm:DeleteDocument",
    "ssm:DescribeDocument",
    "ssm:GetDocument",
    "ssm:ListDocumentVersions",
    "ssm:ListTagsForResource",
    "ssm:RemoveTagsFromResource",
    "ssm:UpdateDocument",
    "ssm:UpdateDocumentDefaultVersion",
] as const;

/** SSM actions the document provider calls to read (refresh, and the look before adoption). */
export const documentReadActions = ["ssm:DescribeDocument", "ssm:GetDocument", "ssm:ListTagsForResource"] as const;

function documentArns(scope: AccessScope, documentName: string): string[] {
    return arnsPerRegion(scope, "ssm", `document/${documentName}`);
}

/**
 * A customer-managed policy the write role makes in its own account and attaches to roles there:
 * the instance policy and the operator policy. `sid` names its statements (`Manage<sid>Policy`,
 * `Attach<sid>Policy`, `Read<sid>Roles`, `Read<sid>Policy`).
 */
interface ManagedPolicy {
    sid: string;
    /** Its ARNs, one per name it has (the instance policy has one per Region). */
    arns: string[];
    /** The roles it is attached to. */
    roleNames: readonly string[];
    /** What the write role may do to it besides create, version, read and delete it. */
    moreActions: readonly string[];
}

function managedPolicyArn(scope: AccessScope, policyPath: string, name: string): string {
    return `arn:${scope.partition}:iam::*:policy${policyPath}${name}`;
}

function roleArnsInOwnAccount(scope: AccessScope, roleNames: readonly string[]): string[] {
    return roleNames.map((name) => `arn:${scope.partition}:iam::*:role/${name}`);
}

/** What reading the policy's attachments takes: for both roles, since a refresh of an attachment reads them. */
function readManagedPolicyRoles(scope: AccessScope, policy: ManagedPolicy): PolicyStatement[] {
    if (policy.roleNames.length === 0) return [];
    const Resource = roleArnsInOwnAccount(scope, policy.roleNames);
    return [{ Sid: `Read${policy.sid}Roles`, Effect: "Allow", Action: "iam:ListAttachedRolePolicies", Resource, Condition: ownAccount }];
}

/** The write role's: make, version and delete the policy (Terraform keeps at most five versions), and attach it to its roles only. */
function manageManagedPolicy(scope: AccessScope, policy: ManagedPolicy): PolicyStatement[] {
    const statements: PolicyStatement[] = [
        {
            Sid: `Manage${policy.sid}Policy`,
            Effect: "Allow",
            Action: [
                "iam:CreatePolicy",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicyVersions",
                ...policy.moreActions,
            ].sort(),
            Resource: policy.arns,
            Condition: ownAccount,
        },
    ];
    if (policy.roleNames.length > 0) {
        statements.push({
            // Only this policy may be attached or detached, and only on the named roles.
            Sid: `Attach${policy.sid}Policy`,
            Effect: "Allow",
            Action: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
            Resource: roleArnsInOwnAccount(scope, policy.roleNames),
            Condition: { ...ownAccount, ArnLike: { "iam:PolicyARN": policy.arns } },
        });
    }
    return [...statements, ...readManagedPolicyRoles(scope, policy)];
}

/** The read-only role's: the policy's default version, and which roles it is attached to. */
function readManagedPolicy(scope: AccessScope, policy: ManagedPolicy): PolicyStatement[] {
    return [
        { Sid: `Read${policy.sid}Policy`, Effect: "Allow", Action: ["iam:GetPolicy", "iam:GetPolicyVersion"], Resource: policy.arns, Condition: ownAccount },
        ...readManagedPolicyRoles(scope, policy),
    ];
}

/** The managed policies the configuration makes in each target account. */
function managedPolicies(scope: AccessScope, parts: ReturnType<typeof createdParts>): ManagedPolicy[] {
    const policies: ManagedPolicy[] = [];
    if (parts.instancePolicy) {
        policies.push({
            sid: "Instance",
            arns: scope.regions.map((region) => managedPolicyArn(scope, instancePolicyPath, instancePolicyName(region))),
            roleNames: parts.instanceRoleNames,
            moreActions: ["iam:SetDefaultPolicyVersion"],
        });
    }
    if (parts.operatorRoleNames) {
        policies.push({
            sid: "Operator",
            arns: [managedPolicyArn(scope, operatorPolicyPath, operatorPolicyName)],
            roleNames: parts.operatorRoleNames,
            // SessionManagerOperatorPolicy passes its tags to the policy: creating a tagged policy takes TagPolicy too.
            moreActions: ["iam:TagPolicy", "iam:UntagPolicy"],
        });
    }
    return policies;
}

/** The permissions of the write role in each target account: the document and the parts the configuration creates. */
export function targetWritePermissions(settings: Settings, scope: AccessScope): PolicyDocument {
    const parts = createdParts(settings);
    const statements: PolicyStatement[] = [
        {
            Sid: "ManageSessionDocument",
            Effect: "Allow",
            Action: [...documentWriteActions],
            Resource: documentArns(scope, defaultDocumentName),
            Condition: ownAccount,
        },
    ];
    const keyAliases = [...(parts.sessionDataKey ? [sessionDataKeyAlias] : []), ...(parts.logsKey ? [logsKeyAlias] : [])];
    if (keyAliases.length > 0) {
        statements.push(
            // A key's ID is random, so no ARN can name the key before it exists: creation is on "*".
            { Sid: "CreateKeys", Effect: "Allow", Action: "kms:CreateKey", Resource: "*" },
            {
                Sid: "ManageKeys",
                Effect: "Allow",
                Action: [
                    "kms:DescribeKey",
                    "kms:DisableKeyRotation",
                    "kms:EnableKeyRotation",
                    "kms:GetKeyPolicy",
                    "kms:GetKeyRotationStatus",
                    "kms:ListResourceTags",
                    "kms:PutKeyPolicy",
                    ...(parts.sessionDataKey && parts.deletesSessionDataKey ? ["kms:ScheduleKeyDeletion"] : []),
                    "kms:UpdateKeyDescription",
                ],
                Resource: arnsPerRegion(scope, "kms", "key/*"),
                Condition: ownAccount,
            },
            {
                // An alias action is allowed on both the alias and the key it points at: only these aliases, on any key of the account.
                Sid: "ManageKeyAliases",
                Effect: "Allow",
                Action: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
                Resource: [...keyAliases.flatMap((alias) => arnsPerRegion(scope, "kms", alias)), ...arnsPerRegion(scope, "kms", "key/*")],
                Condition: ownAccount,
            },
            findKeyAliases,
        );
    }
    if (parts.sessionDataKey) {
        statements.push(
            {
                Sid: "ManageKeyIdParameter",
                Effect: "Allow",
                Action: [
                    "ssm:AddTagsToResource",
                    "ssm:DeleteParameter",
                    "ssm:GetParameter",
                    "ssm:GetParameters",
                    "ssm:ListTagsForResource",
                    "ssm:PutParameter",
                    "ssm:RemoveTagsFromResource",
                ],
                Resource: arnsPerRegion(scope, "ssm", `parameter${sessionDataKeyParameterName}`),
                Condition: ownAccount,
            },
            // DescribeParameters has no resource-level scoping.
            { Sid: "FindParameters", Effect: "Allow", Action: "ssm:DescribeParameters", Resource: "*" },
        );
    }
    if (parts.logGroup) {
        statements.push(
            {
                // No DeleteLogGroup: session logs are audit records, kept when the stack goes.
                Sid: "ManageSessionLogGroup",
                Effect: "Allow",
                Action: [
                    "logs:AssociateKmsKey",
                    "logs:CreateLogGroup",
                    "logs:DeleteRetentionPolicy",
                    "logs:DisassociateKmsKey",
                    "logs:ListTagsForResource",
                    "logs:ListTagsLogGroup",
                    "logs:PutRetentionPolicy",
                ],
                Resource: [
                    ...arnsPerRegion(scope, "logs", `log-group:${parts.logGroupName}`),
                    ...arnsPerRegion(scope, "logs", `log-group:${parts.logGroupName}:*`),
                ],
                Condition: ownAccount,
            },
            // DescribeLogGroups has no resource-level scoping (as in the instance policy, core/policies.ts).
            { Sid: "FindLogGroups", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
        );
    }
    for (const policy of managedPolicies(scope, parts)) statements.push(...manageManagedPolicy(scope, policy));
    return { Version: "2012-10-17", Statement: statements };
}

/** The permissions of the read-only role in each target account: what a refresh of every part reads, and nothing that writes. */
export function targetReadPermissions(settings: Settings, scope: AccessScope): PolicyDocument {
    const parts = createdParts(settings);
    const statements: PolicyStatement[] = [
        {
            Sid: "ReadSessionDocument",
            Effect: "Allow",
            Action: [...documentReadActions],
            Resource: documentArns(scope, defaultDocumentName),
            Condition: ownAccount,
        },
    ];
    if (parts.sessionDataKey || parts.logsKey) {
        statements.push(
            {
                Sid: "ReadKeys",
                Effect: "Allow",
                Action: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
                Resource: arnsPerRegion(scope, "kms", "key/*"),
                Condition: ownAccount,
            },
            findKeyAliases,
        );
    }
    if (parts.sessionDataKey) {
        statements.push(
            {
                Sid: "ReadKeyIdParameter",
                Effect: "Allow",
                Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:ListTagsForResource"],
                Resource: arnsPerRegion(scope, "ssm", `parameter${sessionDataKeyParameterName}`),
                Condition: ownAccount,
            },
            { Sid: "FindParameters", Effect: "Allow", Action: "ssm:DescribeParameters", Resource: "*" },
        );
    }
    if (parts.logGroup) {
        statements.push(
            {
                Sid: "ReadSessionLogGroup",
                Effect: "Allow",
                Action: ["logs:ListTagsForResource", "logs:ListTagsLogGroup"],
                Resource: [
                    ...arnsPerRegion(scope, "logs", `log-group:${parts.logGroupName}`),
                    ...arnsPerRegion(scope, "logs", `log-group:${parts.logGroupName}:*`),
                ],
                Condition: ownAccount,
            },
            { Sid: "FindLogGroups", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
        );
    }
    for (const policy of managedPolicies(scope, parts)) statements.push(...readManagedPolicy(scope, policy));
    return { Version: "2012-10-17", Statement: statements };
}

function startingRoleArn(scope: AccessScope, start: StartingPoint, which: "preview" | "rollout"): string {
    return roleArn(scope.partition, start.accountId, which === "preview" ? start.previewRoleName : start.rolloutRoleName);
}

function trustedBy(principals: string[]): TrustPolicy {
    return { Version: "2012-10-17", Statement: [{ Sid: "TrustTheStartingRoles", Effect: "Allow", Principal: { AWS: principals }, Action: "sts:AssumeRole" }] };
}

function githubTrust(scope: AccessScope, start: StartingPoint, subjects: readonly string[]): TrustPolicy {
    const host = workflowRoles.oidcHost;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "TrustTheWorkflowJobs",
                Effect: "Allow",
                Principal: { Federated: `arn:${scope.partition}:iam::${start.accountId}:oidc-provider/${host}` },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { [`${host}:aud`]: workflowRoles.oidcAudience, [`${host}:sub`]: [...subjects] } },
            },
        ],
    };
}

/** The role ARNs a starting role may assume in the targets: the named accounts, or any account under the OUs. */
function targetRoleArns(scope: AccessScope, roleNames: readonly string[]): string[] {
    const accounts = scope.accounts ?? ["*"];
    return roleNames.filter((name) => name !== "").flatMap((name) => accounts.map((account) => roleArn(scope.partition, account, name)));
}

function backendStatements(scope: AccessScope, backendUrl: string | undefined): PolicyStatement[] {
    const m = backendUrl ? /^s3:\/\/([^/?]+)\/?([^?]*)/.exec(backendUrl) : null;
    if (!m) return [];
    const [, bucket, prefix] = m;
    const keys = prefix ? `${prefix.replace(/\/+$/, "")}/*` : "*";
    return [
        {
            // Each run locks its stack and writes its state and history: even a preview writes here.
            Sid: "UseTheStateBackend",
            Effect: "Allow",
            Action: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            Resource: `arn:${scope.partition}:s3:::${bucket}/${keys}`,
        },
        {
            Sid: "ListTheStateBackend",
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: `arn:${scope.partition}:s3:::${bucket}`,
            ...(prefix ? { Condition: { StringLike: { "s3:prefix": [`${prefix.replace(/\/+$/, "")}/*`] } } } : {}),
        },
    ];
}

function discoveryStatements(settings: Settings): PolicyStatement[] {
    // Organizations names OUs and roots with the organization's ID, which the configuration does not hold.
    return [
        ...(settings.organizationalUnitIds.length > 0
            ? [
                  {
                      Sid: "FindAccountsUnderTheOus",
                      Effect: "Allow" as const,
                      Action: ["organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"],
                      Resource: "*",
                  },
              ]
            : []),
        // An override that selects by OU needs the OUs above each target account.
        ...(selectsByOrganizationalUnit(settings.overrides)
            ? [{ Sid: "FindTheOusAboveEachAccount", Effect: "Allow" as const, Action: "organizations:ListParents", Resource: "*" }]
            : []),
    ];
}

/** What the Terraform provider's aws_s3_bucket reads of a bucket (HeadBucket is s3:ListBucket): a refresh of any bucket this program makes. */
const bucketReadActions = [
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLogging",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
] as const;

/** The StackSet deployer's permissions, in the account `pulumi up` runs from (the management account or a delegated administrator). */
export function stackSetDeployerPermissions(settings: Settings, scope: AccessScope, homeRegion: string): PolicyDocument {
    const p = scope.partition;
    const bucket = `arn:${p}:s3:::${templateBucketNamePrefix}-*`;
    return {
        Version: "2012-10-17",
        Statement: [
            // CreateStackSet has no resource-level scoping in the IAM reference the linter reads.
            { Sid: "CreateTheStackSet", Effect: "Allow", Action: "cloudformation:CreateStackSet", Resource: "*" },
            {
                Sid: "ManageTheStackSet",
                Effect: "Allow",
                Action: [
                    "cloudformation:CreateStackInstances",
                    "cloudformation:DeleteStackInstances",
                    "cloudformation:DeleteStackSet",
                    // up's StackSetInstanceOverrides and apply-overrides read each instance's overrides.
                    "cloudformation:DescribeStackInstance",
                    "cloudformation:DescribeStackSet",
                    "cloudformation:DescribeStackSetOperation",
                    "cloudformation:ListStackInstances",
                    "cloudformation:ListStackSetOperationResults",
                    "cloudformation:UpdateStackInstances",
                    "cloudformation:UpdateStackSet",
                ],
                Resource: [
                    `arn:${p}:cloudformation:${homeRegion}:*:stackset/${settings.stackSetName}:*`,
                    `arn:${p}:cloudformation:*:*:stackset-target/${settings.stackSetName}:*`,
                    `arn:${p}:cloudformation:*:*:type/resource/*`,
                ],
            },
            {
                Sid: "ManageTheTemplateBucket",
                Effect: "Allow",
                Action: ["s3:CreateBucket", "s3:DeleteBucket", ...bucketReadActions, "s3:PutBucketPublicAccessBlock"].sort(),
                Resource: bucket,
            },
            {
                Sid: "WriteTheTemplate",
                Effect: "Allow",
                Action: ["s3:DeleteObject", "s3:GetObject", "s3:GetObjectTagging", "s3:PutObject"],
                Resource: `${bucket}/templates/*`,
            },
            ...(settings.stackSetCallAs === "DELEGATED_ADMIN"
                ? [{ Sid: "ActAsDelegatedAdministrator", Effect: "Allow" as const, Action: "organizations:ListDelegatedAdministrators", Resource: "*" }]
                : []),
        ],
    };
}

// --- The landing zone: the log archive's roles and the guardrail's --------------------------------

/** The log archive's keys, one per Region it names, in its account: a key's ID is random, so `key/*`. */
function archiveKeyArns(archive: LogArchive, scope: AccessScope): string[] {
    return archive.regions.map((region) => `arn:${scope.partition}:kms:${region}:${archive.accountId}:key/*`);
}

function archiveBucketArns(archive: LogArchive, scope: AccessScope): string[] {
    return archiveBuckets(archive).map((b) => `arn:${scope.partition}:s3:::${b.bucketName}`);
}

/** What a refresh of an archive key reads (the Terraform provider's aws_kms_key read). */
const keyReadActions = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"] as const;

/**
 * The log archive's write role (logArchive.roleName), in the log-archive account: make each
 * Region's key, its alias and its bucket with the bucket's settings and policy (components/landingZone.ts).
 * Bucket and key are kept when the stack goes (retainOnDelete): no DeleteBucket, no ScheduleKeyDeletion.
 */
export function archiveWritePermissions(archive: LogArchive, scope: AccessScope): PolicyDocument {
    const keys = archiveKeyArns(archive, scope);
    return {
        Version: "2012-10-17",
        Statement: [
            {
                // A key's ID is random, so CreateKey takes no resource: the conditions hold it to the
                // archive's Regions and to the kind of key the archive makes (a single-Region symmetric
                // encryption key whose policy keeps the lockout check). IfExists: an absent parameter
                // means AWS's default, which is that same kind.
                Sid: "CreateArchiveKeys",
                Effect: "Allow",
                Action: "kms:CreateKey",
                Resource: "*",
                Condition: {
                    StringEquals: { "aws:RequestedRegion": [...archive.regions] },
                    StringEqualsIfExists: { "kms:KeySpec": "SYMMETRIC_DEFAULT", "kms:KeyUsage": "ENCRYPT_DECRYPT" },
                    BoolIfExists: { "kms:MultiRegion": "false", "kms:BypassPolicyLockoutSafetyCheck": "false" },
                },
            },
            {
                // Every key of the account in those Regions: before its alias exists (rotation is set
                // first) nothing names the archive's key. TagResource: CreateKey with tags needs it.
                Sid: "ManageArchiveKeys",
                Effect: "Allow",
                Action: [
                    ...keyReadActions,
                    "kms:DisableKeyRotation",
                    "kms:EnableKeyRotation",
                    "kms:PutKeyPolicy",
                    "kms:TagResource",
                    "kms:UntagResource",
                    "kms:UpdateKeyDescription",
                ].sort(),
                Resource: keys,
            },
            {
                // An alias action is allowed on both the alias and the key it points at: only the archive's alias.
                Sid: "ManageArchiveKeyAlias",
                Effect: "Allow",
                Action: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
                Resource: [...archive.regions.map((region) => `arn:${scope.partition}:kms:${region}:${archive.accountId}:${archiveKeyAlias}`), ...keys],
            },
            findKeyAliases,
            {
                // The bucket and its settings, each a resource of its own. Removing one of those
                // (ownership controls, public access block, encryption, lifecycle) is a Put* for IAM.
                Sid: "ManageArchiveBuckets",
                Effect: "Allow",
                Action: [
                    ...bucketReadActions,
                    "s3:CreateBucket",
                    "s3:DeleteBucketPolicy",
                    "s3:GetBucketOwnershipControls",
                    "s3:PutBucketOwnershipControls",
                    "s3:PutBucketPolicy",
                    "s3:PutBucketPublicAccessBlock",
                    "s3:PutBucketTagging",
                    "s3:PutBucketVersioning",
                    "s3:PutEncryptionConfiguration",
                    "s3:PutLifecycleConfiguration",
                ].sort(),
                Resource: archiveBucketArns(archive, scope),
            },
        ],
    };
}

/** The log archive's read-only role (logArchive.readOnlyRoleName): what a preview or refresh of the archive reads, and nothing that writes. */
export function archiveReadPermissions(archive: LogArchive, scope: AccessScope): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadArchiveKeys", Effect: "Allow", Action: [...keyReadActions], Resource: archiveKeyArns(archive, scope) },
            findKeyAliases,
            {
                Sid: "ReadArchiveBuckets",
                Effect: "Allow",
                Action: [...bucketReadActions, "s3:GetBucketOwnershipControls"].sort(),
                Resource: archiveBucketArns(archive, scope),
            },
        ],
    };
}

/**
 * The service control policies of the organization. An Organizations ARN holds the management
 * account's ID (even when a delegated administrator calls) and the organization's ID, neither of
 * which the configuration has: both are wildcards, which open nothing, since a principal acts only
 * in its own organization. The type in the ARN keeps other kinds of policy, and AWS's own
 * (`organizations::aws:policy/...`, FullAWSAccess), out.
 */
function serviceControlPolicyArns(scope: AccessScope): string[] {
    return [`arn:${scope.partition}:organizations::*:policy/o-*/${guardrailPolicyType.toLowerCase()}/p-*`];
}

/** The OUs and roots the guardrail is attached to, by their ARNs (with the same wildcards). */
function guardrailTargetArns(settings: Settings, scope: AccessScope): string[] {
    return guardrailTargetIds(settings).map((id) => `arn:${scope.partition}:organizations::*:${id.startsWith("r-") ? "root" : "ou"}/o-*/${id}`);
}

/** What a refresh of the guardrail and its attachments reads (the Terraform provider's aws_organizations_policy and _policy_attachment reads). */
const guardrailReadActions = ["organizations:DescribePolicy", "organizations:ListTagsForResource", "organizations:ListTargetsForPolicy"] as const;

const isServiceControlPolicy = { StringEquals: { "organizations:PolicyType": guardrailPolicyType } };

/** The guardrail's write role (guardrail.roleName): make, change and delete the service control policy, and attach it to guardrail.targetIds only. */
export function guardrailWritePermissions(settings: Settings, scope: AccessScope): PolicyDocument {
    const policies = serviceControlPolicyArns(scope);
    return {
        Version: "2012-10-17",
        Statement: [
            // A policy's ID is made at creation, so CreatePolicy takes no resource: only a service control policy.
            { Sid: "CreateTheGuardrail", Effect: "Allow", Action: "organizations:CreatePolicy", Resource: "*", Condition: isServiceControlPolicy },
            {
                // Any service control policy of the organization: its ARN has no name, and the policy no tag, to tell ours by.
                Sid: "ManageTheGuardrail",
                Effect: "Allow",
                Action: [
                    ...guardrailReadActions,
                    "organizations:DeletePolicy",
                    "organizations:TagResource",
                    "organizations:UntagResource",
                    "organizations:UpdatePolicy",
                ].sort(),
                Resource: policies,
            },
            {
                // Attach and detach on the policy and the target: only service control policies, and only on the guardrail's OUs and roots.
                Sid: "AttachTheGuardrail",
                Effect: "Allow",
                Action: ["organizations:AttachPolicy", "organizations:DetachPolicy"],
                Resource: [...policies, ...guardrailTargetArns(settings, scope)],
                Condition: isServiceControlPolicy,
            },
        ],
    };
}

/** The guardrail's read-only role (guardrail.readOnlyRoleName): the policy, its tags and its targets, and nothing that writes. */
export function guardrailReadPermissions(scope: AccessScope): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Sid: "ReadTheGuardrail", Effect: "Allow", Action: [...guardrailReadActions], Resource: serviceControlPolicyArns(scope) }],
    };
}

/** A landing-zone part's roles in one account: the landing-zone stack writes through one and previews through the other. */
interface RolePair {
    /** The config key that names the roles (logArchive, guardrail). */
    key: string;
    where: string;
    roleName?: string;
    readOnlyRoleName?: string;
    accountId: string;
    write: PolicyDocument;
    read: PolicyDocument;
    writePurpose: string;
    readPurpose: string;
}

/** The pair's roles, what each starting role may assume of them, and what a starting role holds itself where the pair names no role. */
interface RolePairAccess {
    roles: RoleSpec[];
    previewAssumes: string[];
    rolloutAssumes: string[];
    previewHolds: PolicyStatement[];
    rolloutHolds: PolicyStatement[];
    notes: string[];
}

/**
 * As for the targets: the write role trusts only the rollout role, the read-only role both. The
 * landing-zone providers (components/landingZone.ts) assume the read-only role at preview (the
 * write role when there is none) and the write role at up; a missing role means the starting
 * credentials act there themselves.
 */
function rolePairAccess(pair: RolePair, scope: AccessScope, previewArn: string, rolloutArn: string): RolePairAccess {
    const access: RolePairAccess = { roles: [], previewAssumes: [], rolloutAssumes: [], previewHolds: [], rolloutHolds: [], notes: [] };
    const arnOf = (name: string) => roleArn(scope.partition, pair.accountId, name);
    const spec = (roleName: string, purpose: string, trusted: string[], permissions: PolicyDocument): RoleSpec => ({
        roleName,
        where: pair.where,
        purpose,
        maxSessionDuration: workflowRoles.previewSessionSeconds,
        trustPolicy: trustedBy(trusted),
        permissions,
    });
    if (pair.roleName) {
        access.roles.push(spec(pair.roleName, pair.writePurpose, [rolloutArn], pair.write));
        access.rolloutAssumes.push(arnOf(pair.roleName));
    } else {
        access.rolloutHolds.push(...pair.write.Statement);
        access.notes.push(
            `${pair.key} names no roleName: the rollout role acts in ${pair.where} with its own credentials, so it holds the write permissions itself (and must be in that account)`,
        );
    }
    if (pair.readOnlyRoleName) {
        access.roles.push(spec(pair.readOnlyRoleName, pair.readPurpose, [previewArn, rolloutArn], pair.read));
        access.previewAssumes.push(arnOf(pair.readOnlyRoleName));
        access.rolloutAssumes.push(arnOf(pair.readOnlyRoleName));
    } else if (pair.roleName) {
        access.notes.push(
            `${pair.key} names no readOnlyRoleName: previews would read through ${pair.key}.roleName, which the preview role may not assume, so previews of the landing-zone stack fail until it names one`,
        );
    } else {
        access.previewHolds.push(...pair.read.Statement);
    }
    return access;
}

/** The log archive's and the guardrail's roles, when this configuration's stack makes them (sharedResources: here or only). */
function landingZoneRolePairs(settings: Settings, scope: AccessScope, start: StartingPoint): RolePair[] {
    if (settings.sharedResources === "elsewhere") return [];
    const pairs: RolePair[] = [];
    const archive = settings.logArchive;
    if (archive?.create) {
        pairs.push({
            key: "logArchive",
            where: `the log-archive account (${archive.accountId})`,
            accountId: archive.accountId,
            roleName: archive.roleName,
            readOnlyRoleName: archive.readOnlyRoleName,
            write: archiveWritePermissions(archive, scope),
            read: archiveReadPermissions(archive, scope),
            writePurpose: "the log archive's write role (logArchive.roleName): up makes each Region's archive bucket, its key and alias, and their policies",
            readPurpose: "the log archive's read-only role (logArchive.readOnlyRoleName): previews and refreshes read the buckets and keys; it writes nothing",
        });
    }
    const guardrail = settings.guardrail;
    if (guardrail) {
        const accountId = guardrail.accountId ?? start.accountId;
        pairs.push({
            key: "guardrail",
            where: guardrail.accountId
                ? `the management account or the delegated administrator for policies (${accountId})`
                : `the account the workflow starts from (${accountId})`,
            accountId,
            roleName: guardrail.roleName,
            readOnlyRoleName: guardrail.readOnlyRoleName,
            write: guardrailWritePermissions(settings, scope),
            read: guardrailReadPermissions(scope),
            writePurpose:
                "the guardrail's write role (guardrail.roleName): up makes the service control policy and attaches it to the guardrail's OUs and roots",
            readPurpose:
                "the guardrail's read-only role (guardrail.readOnlyRoleName): previews and refreshes read the policy and its targets; it writes nothing",
        });
    }
    return pairs;
}

/** The roles, and what a person must know about them (a target the preview role cannot reach read-only, say). */
export interface AccessRoles {
    roles: RoleSpec[];
    notes: string[];
}

/** What a preview of the StackSet stack reads in the deployer's account: the StackSet, its instances and the template bucket. */
export function stackSetReaderPermissions(settings: Settings, scope: AccessScope, homeRegion: string): PolicyDocument {
    const p = scope.partition;
    const bucket = `arn:${p}:s3:::${templateBucketNamePrefix}-*`;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ReadTheStackSet",
                Effect: "Allow",
                Action: ["cloudformation:DescribeStackSet", "cloudformation:DescribeStackSetOperation", "cloudformation:ListStackInstances"],
                Resource: [`arn:${p}:cloudformation:${homeRegion}:*:stackset/${settings.stackSetName}:*`],
            },
            {
                Sid: "ReadTheTemplateBucket",
                Effect: "Allow",
                Action: [...bucketReadActions],
                Resource: bucket,
            },
            { Sid: "ReadTheTemplate", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectTagging"], Resource: `${bucket}/templates/*` },
            ...(settings.stackSetCallAs === "DELEGATED_ADMIN"
                ? [{ Sid: "ActAsDelegatedAdministrator", Effect: "Allow" as const, Action: "organizations:ListDelegatedAdministrators", Resource: "*" }]
                : []),
        ],
    };
}

/**
 * Every role the configuration needs, from the starting account to the targets. A target with
 * no role of its own is acted on with the starting role's own credentials, which then need the
 * target permissions themselves. The preview role may assume only read-only roles: a target
 * without one is left out of its reach, and a note says so.
 */
export function accessRoles(settings: Settings, scope: AccessScope, start: StartingPoint, homeRegion: string): AccessRoles {
    const previewArn = startingRoleArn(scope, start, "preview");
    const rolloutArn = startingRoleArn(scope, start, "rollout");
    // sharedResources: only: this configuration's stack makes the log archive and the guardrail, and no target.
    const targetsHere = settings.sharedResources !== "only";
    const direct = settings.deployment === "direct" && targetsHere;
    const stackSet = settings.deployment === "stackset" && targetsHere;
    const roles: RoleSpec[] = [];
    const notes: string[] = [];
    const where = scope.accounts
        ? `every target account (${scope.accounts.join(", ")})`
        : "every target account (every account under sessionManager:organizationalUnitIds)";
    const writeNames = scope.writeRoles.filter((n) => n !== "");
    const readNames = scope.readOnlyRoles;
    if (direct) {
        for (const roleName of writeNames) {
            roles.push({
                roleName,
                where,
                purpose: "the write role (roleName): up and destroy adopt, change and release the document and the parts the configuration creates",
                maxSessionDuration: workflowRoles.previewSessionSeconds,
                trustPolicy: trustedBy([rolloutArn]),
                permissions: targetWritePermissions(settings, scope),
            });
        }
        for (const roleName of readNames) {
            roles.push({
                roleName,
                where,
                purpose: "the read-only role (readOnlyRoleName): previews, drift checks, refreshes and every read of a document; up reads through it too",
                maxSessionDuration: workflowRoles.previewSessionSeconds,
                trustPolicy: trustedBy([previewArn, rolloutArn]),
                permissions: targetReadPermissions(settings, scope),
            });
        }
        if (scope.readsWithoutReadOnlyRole) {
            notes.push(
                "some targets name no read-only role (sessionManager:readOnlyRoleName): they would read through their write role, which the preview role may not assume, so previews and drift checks of those targets fail until they name one",
            );
        }
    }
    if (direct && writeNames.includes(organizationsAccessRoleName)) {
        notes.push(
            `accounts under the OUs are reached through ${organizationsAccessRoleName}, the administrator role AWS Organizations creates: for least privilege, create the write role above in every account (with a StackSet of its own or your account factory) and name it with --role-name`,
        );
    }
    const landingZone = landingZoneRolePairs(settings, scope, start).map((pair) => rolePairAccess(pair, scope, previewArn, rolloutArn));
    for (const pair of landingZone) {
        for (const role of pair.roles) {
            // Each role is printed, and written to files, by its name: one name must not stand for two permission sets.
            const taken = new Set([...roles.map((r) => r.roleName), start.previewRoleName, start.rolloutRoleName]);
            if (taken.has(role.roleName))
                throw new Error(
                    `${role.roleName}, ${role.purpose.split(":")[0]}, is also the name of another role these policies are for: give it a name of its own`,
                );
        }
        roles.push(...pair.roles);
        notes.push(...pair.notes);
    }
    const landingZoneAssumes = (which: "previewAssumes" | "rolloutAssumes") => landingZone.flatMap((pair) => pair[which]);
    const landingZoneHolds = (which: "previewHolds" | "rolloutHolds") => landingZone.flatMap((pair) => pair[which]);
    const ambientWrite = direct && scope.writeRoles.includes("");
    const ambientRead = direct && scope.readsWithoutReadOnlyRole && scope.writeRoles.includes("");
    if (ambientWrite)
        notes.push("some targets name no roleName: the rollout role acts in them with its own credentials, so it holds the write permissions itself");
    const repo = start.githubRepository ?? "OWNER/REPO";
    if (!start.githubRepository) notes.push("no --github-repository given: the OIDC trust policies say OWNER/REPO; replace it with your repository");
    const startWhere = `the account the workflow starts from (${start.accountId})`;
    const previewPermissions: PolicyStatement[] = [
        ...(direct && readNames.length > 0
            ? [{ Sid: "AssumeTheReadOnlyRoles", Effect: "Allow" as const, Action: "sts:AssumeRole", Resource: targetRoleArns(scope, readNames) }]
            : []),
        ...assumeStatement("AssumeTheLandingZoneReadOnlyRoles", landingZoneAssumes("previewAssumes")),
        ...discoveryStatements(settings),
        ...backendStatements(scope, start.backendUrl),
        ...(ambientRead ? targetReadPermissions(settings, scope).Statement : []),
        ...(stackSet ? stackSetReaderPermissions(settings, scope, homeRegion).Statement : []),
        ...landingZoneHolds("previewHolds"),
    ];
    const rolloutPermissions: PolicyStatement[] = [
        ...(direct && (writeNames.length > 0 || readNames.length > 0)
            ? [
                  {
                      Sid: "AssumeTheTargetRoles",
                      Effect: "Allow" as const,
                      Action: "sts:AssumeRole",
                      Resource: targetRoleArns(scope, [...writeNames, ...readNames]),
                  },
              ]
            : []),
        ...assumeStatement("AssumeTheLandingZoneRoles", landingZoneAssumes("rolloutAssumes")),
        ...discoveryStatements(settings),
        ...backendStatements(scope, start.backendUrl),
        ...(ambientWrite ? targetWritePermissions(settings, scope).Statement : []),
        ...(stackSet ? stackSetDeployerPermissions(settings, scope, homeRegion).Statement : []),
        ...landingZoneHolds("rolloutHolds"),
    ];
    if (previewPermissions.length === 0) notes.push("the preview role needs no permission of its own for this configuration");
    roles.push(
        {
            roleName: start.previewRoleName,
            where: startWhere,
            purpose: "AWS_PREVIEW_ROLE_ARN: the pull-request preview and the daily drift check start from it; it can assume only the read-only roles",
            maxSessionDuration: workflowRoles.previewSessionSeconds,
            trustPolicy: githubTrust(scope, start, workflowRoles.previewSubjects(repo)),
            permissions: { Version: "2012-10-17", Statement: dedupeSids(previewPermissions) },
        },
        {
            roleName: start.rolloutRoleName,
            where: startWhere,
            purpose:
                "AWS_ROLLOUT_ROLE_ARN: up, in the production environment, starts from it; it assumes the write roles (and the read-only roles up refreshes through)",
            maxSessionDuration: workflowRoles.rolloutSessionSeconds,
            trustPolicy: githubTrust(scope, start, workflowRoles.rolloutSubjects(repo)),
            permissions: { Version: "2012-10-17", Statement: dedupeSids(rolloutPermissions) },
        },
    );
    return { roles, notes };
}

/** A starting role's permission to assume these roles, or nothing when there is none. */
function assumeStatement(Sid: string, roleArns: string[]): PolicyStatement[] {
    return roleArns.length > 0 ? [{ Sid, Effect: "Allow", Action: "sts:AssumeRole", Resource: roleArns }] : [];
}

/** Statement IDs must be unique within a policy: a repeated one (a statement both lists need) is kept once. */
function dedupeSids(statements: PolicyStatement[]): PolicyStatement[] {
    const seen = new Set<string>();
    return statements.filter((s) => (seen.has(s.Sid) ? false : (seen.add(s.Sid), true)));
}

/**
 * What `npm run org -- audit` calls in each target, through the role it reads with: the
 * document's default version and tags, and the key-ID parameter when the program makes the
 * session-data key (the document must name the key it holds). A subset of the read-only role's
 * permissions (targetReadPermissions), so that role serves the audit as it is.
 */
export function auditTargetActions(settings: Pick<Settings, "sessionDataEncryption" | "sessionDataKeyArn">): string[] {
    return [...documentReadActions, ...(readsKeyIdParameter(settings) ? ["ssm:GetParameter"] : [])].sort();
}

/** The audit's calls where it starts from: STS (GetCallerIdentity needs no permission), and Organizations when OUs are used. */
export const auditStartingActions = ["sts:AssumeRole", "sts:GetCallerIdentity"] as const;
export const auditOrganizationsActions = [
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListParents",
] as const;

function readsKeyIdParameter(settings: Pick<Settings, "sessionDataEncryption" | "sessionDataKeyArn">): boolean {
    return settings.sessionDataEncryption && !settings.sessionDataKeyArn;
}

/** The roles the audit reads through in the targets: each target's read-only role, else its write role; in StackSet mode readOnlyRoleName, else the discovered accounts' role. */
export function auditReadRoles(settings: Settings, discoveredRoleName: string): string[] {
    if (settings.deployment === "stackset") return [settings.readOnlyRoleName ?? discoveredRoleName];
    const discovered: TargetRegion[] =
        settings.organizationalUnitIds.length > 0
            ? [{ accountId: "*", region: "", roleName: discoveredRoleName, readOnlyRoleName: settings.readOnlyRoleName }]
            : [];
    return [...new Set([...targetRegions(settings.targets), ...discovered].flatMap((t) => roleNameFor(t, "read") ?? []))].sort();
}

/**
 * The audit's least privilege: in every target account, the role it reads through needs only
 * `target`; the credentials it starts from need only `starting` (assume those roles; list the
 * organization's accounts and the OUs above them when the config uses OUs).
 */
export function auditPermissions(settings: Settings, scope: AccessScope, discoveredRoleName: string): { target: PolicyDocument; starting: PolicyDocument } {
    const target: PolicyStatement[] = [
        {
            Sid: "ReadSessionDocument",
            Effect: "Allow",
            Action: [...documentReadActions],
            Resource: documentArns(scope, defaultDocumentName),
            Condition: ownAccount,
        },
    ];
    if (readsKeyIdParameter(settings)) {
        target.push({
            Sid: "ReadKeyIdParameter",
            Effect: "Allow",
            Action: "ssm:GetParameter",
            Resource: arnsPerRegion(scope, "ssm", `parameter${sessionDataKeyParameterName}`),
            Condition: ownAccount,
        });
    }
    const starting: PolicyStatement[] = [];
    const roles = targetRoleArns(scope, auditReadRoles(settings, discoveredRoleName));
    if (roles.length > 0) starting.push({ Sid: "AssumeTheReadRoles", Effect: "Allow", Action: "sts:AssumeRole", Resource: roles });
    // Accounts under the OUs are listed; the OUs above each account are looked up only for an override by OU.
    const organizations = [
        ...(settings.organizationalUnitIds.length > 0 ? auditOrganizationsActions.slice(0, 2) : []),
        ...(settings.overrides.some((o) => o.organizationalUnitIds.length > 0) ? ["organizations:ListParents"] : []),
    ];
    if (organizations.length > 0) {
        // Organizations names OUs and accounts with the organization's ID, which the configuration does not hold.
        starting.push({ Sid: "FindAccountsAndTheirOus", Effect: "Allow", Action: organizations, Resource: "*" });
    }
    return { target: { Version: "2012-10-17", Statement: target }, starting: { Version: "2012-10-17", Statement: starting } };
}
