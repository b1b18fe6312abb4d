/**
 * What surrounds the document in a landing zone, as data: the central log archive's bucket and
 * key policies, what an instance needs to write to it, the operator policy for the people who
 * start sessions, and the service control policy that keeps everyone else off the document.
 * Pure, like the rest of core/; the direct mode (components/landingZone.ts), the StackSet
 * template (core/template.ts) and `npm run org -- policies` all build from these. Why each
 * statement is what it is: docs/landing-zone.md.
 */
import { accountRootArn, ArchiveTarget, PolicyDocument, PolicyScope, PolicyStatement, s3BucketArn, s3ViaService } from "./policies";
import { resolveKeyArnTemplate } from "./rules";
import { defaultDocumentName, Guardrail, LogArchive, OperatorPolicy, Settings } from "./settings";
import { sessionDataKeyAlias, stackSetHandlerRoleNamePattern } from "./names";

// --- The log archive --------------------------------------------------------------------------

/** The bucket of one Region: `{region}` in the name makes one per Region. */
export function archiveBucketName(bucketName: string, region: string): string {
    return bucketName.replace("{region}", region);
}

/** Whether the archive has a bucket per Region (`{region}` in its name). */
export function archivePerRegion(archive: Pick<LogArchive, "bucketName">): boolean {
    return archive.bucketName.includes("{region}");
}

/** The Region of the bucket a target in `region` logs to, or undefined when the archive has none for it. */
export function archiveRegionFor(archive: Pick<LogArchive, "bucketName" | "regions">, region: string): string | undefined {
    if (!archivePerRegion(archive)) return archive.regions[0];
    return archive.regions.includes(region) ? region : undefined;
}

/** Why a target Region has no bucket to log to, or undefined when it has one. */
export function archiveRegionProblem(archive: Pick<LogArchive, "bucketName" | "regions">, region: string): string | undefined {
    if (archiveRegionFor(archive, region) !== undefined) return undefined;
    return `logArchive has a bucket per Region ({region} in logArchive.bucketName) and none in ${region}: add ${region} to logArchive.regions`;
}

/** The buckets a created archive makes: one per Region it names. */
export function archiveBuckets(archive: LogArchive): { region: string; bucketName: string }[] {
    return archive.regions.map((region) => ({ region, bucketName: archiveBucketName(archive.bucketName, region) }));
}

/** The key prefix every account writes under, before its account ID: `<s3KeyPrefix>/`, or "" for none. */
export function archiveAccountPrefix(s3KeyPrefix: string): string {
    const trimmed = s3KeyPrefix.replace(/^\/+|\/+$/g, "");
    return trimmed ? `${trimmed}/` : "";
}

const inOrganization = (organizationId: string) => ({ StringEquals: { "aws:PrincipalOrgID": organizationId } });

/**
 * The archive bucket's policy: TLS only; principals of the organization may put objects only
 * under their own account's prefix (`${aws:PrincipalAccount}`: one account cannot write over
 * another's logs) and read the bucket's encryption setting, which the agent checks before it
 * uploads. Nobody outside the organization gets anything.
 */
export function archiveBucketPolicy(scope: PolicyScope, bucketName: string, s3KeyPrefix: string, organizationId: string): PolicyDocument {
    const arn = s3BucketArn(scope.partition, bucketName);
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: { AWS: "*" },
                Action: "s3:*",
                Resource: [arn, `${arn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            {
                Sid: "OrganizationWritesUnderOwnAccount",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: "s3:PutObject",
                Resource: `${arn}/${archiveAccountPrefix(s3KeyPrefix)}\${aws:PrincipalAccount}/*`,
                Condition: inOrganization(organizationId),
            },
            {
                Sid: "OrganizationChecksEncryption",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: "s3:GetEncryptionConfiguration",
                Resource: arn,
                Condition: inOrganization(organizationId),
            },
        ],
    };
}

/**
 * The archive key's policy: the archive account manages it; principals of the organization may
 * use it only through S3 in the bucket's Region and only for that bucket's objects (the
 * encryption context S3 sends names the bucket, with a bucket key, or the object).
 * kms:Decrypt is there because S3 needs it for multipart uploads of large session logs.
 */
export function archiveKeyPolicy(scope: PolicyScope, bucketName: string, organizationId: string): PolicyDocument {
    const arn = s3BucketArn(scope.partition, bucketName);
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "EnableIamPoliciesInTheAccount",
                Effect: "Allow",
                Principal: { AWS: accountRootArn(scope) },
                Action: "kms:*",
                Resource: "*",
            },
            {
                Sid: "OrganizationEncryptsSessionLogsThroughS3",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: "*",
                Condition: {
                    StringEquals: { "aws:PrincipalOrgID": organizationId, "kms:ViaService": s3ViaService(scope.region, scope.urlSuffix) },
                    StringLike: { "kms:EncryptionContext:aws:s3:arn": [arn, `${arn}/*`] },
                },
            },
        ],
    };
}

/** The bucket and key a target in `region` logs to; undefined when the archive has no bucket for that Region. */
export function archiveTargetFor(archive: LogArchive, region: string): ArchiveTarget | undefined {
    const archiveRegion = archiveRegionFor(archive, region);
    if (archiveRegion === undefined) return undefined;
    const target: ArchiveTarget = { bucketName: archiveBucketName(archive.bucketName, archiveRegion), accountId: archive.accountId, region: archiveRegion };
    if (!archive.create)
        target.kmsKeyArn = archive.kmsKeyArn ? resolveKeyArnTemplate(archive.kmsKeyArn, { accountId: archive.accountId, region: archiveRegion }) : null;
    return target;
}

// --- The operator policy ------------------------------------------------------------------------

/** What the operator policy of one account is built from. */
export interface OperatorPolicyInputs {
    partition: string;
    accountId: string;
    /** The account's target Regions. */
    regions: readonly string[];
    documentName: string;
    instanceTag?: OperatorPolicy["instanceTag"];
    /**
     * The session-data key per Region when session data is encrypted: an existing key's ARN, or
     * "created" for the key this program makes there (found by its alias). Empty when it is not.
     */
    sessionDataKeys: readonly { region: string; arn: string | "created" }[];
}

/**
 * The managed policy for the people who start sessions in one account, after AWS's sample
 * end-user policies: start sessions on the account's instances in the target Regions (only those
 * with the tag, when one is set) with the preferences document; open data channels of sessions;
 * end or resume only their own sessions (the session's `aws:ssmmessages:session-id` tag is the
 * `${aws:userid}` of whoever started it, for IAM users, roles, federated and IAM Identity Center
 * users alike); generate data keys with the session key when session data is encrypted; and the
 * describe calls the console and the CLI make. docs/landing-zone.md says why each is so.
 */
export function operatorPolicy(inputs: OperatorPolicyInputs): PolicyDocument {
    const { partition, accountId } = inputs;
    const perRegion = (resource: (region: string) => string) => inputs.regions.map(resource);
    const documents = perRegion((r) => `arn:${partition}:ssm:${r}:${accountId}:document/${inputs.documentName}`);
    const sessions = perRegion((r) => `arn:${partition}:ssm:${r}:${accountId}:session/*`);
    const instances: PolicyStatement = {
        Sid: "StartSessionsOnInstances",
        Effect: "Allow",
        Action: "ssm:StartSession",
        Resource: perRegion((r) => `arn:${partition}:ec2:${r}:${accountId}:instance/*`),
        // Without a document in the request, SSM still checks the caller may use the default one.
        Condition: { BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" } },
    };
    if (inputs.instanceTag)
        instances.Condition = { ...instances.Condition, StringEquals: { [`ssm:resourceTag/${inputs.instanceTag.key}`]: inputs.instanceTag.value } };
    const statements: PolicyStatement[] = [
        instances,
        { Sid: "StartSessionsWithThePreferences", Effect: "Allow", Action: ["ssm:StartSession", "ssm:GetDocument"], Resource: documents },
        { Sid: "OpenSessionDataChannels", Effect: "Allow", Action: "ssmmessages:OpenDataChannel", Resource: sessions },
        {
            Sid: "EndOrResumeOwnSessions",
            Effect: "Allow",
            Action: ["ssm:TerminateSession", "ssm:ResumeSession"],
            Resource: sessions,
            Condition: { StringLike: { "ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}" } },
        },
        {
            // None of these has resource-level permissions.
            Sid: "SeeInstancesAndSessions",
            Effect: "Allow",
            Action: ["ssm:DescribeSessions", "ssm:GetConnectionStatus", "ssm:DescribeInstanceProperties", "ec2:DescribeInstances"],
            Resource: "*",
        },
    ];
    const existing = inputs.sessionDataKeys.filter((k) => k.arn !== "created").map((k) => k.arn);
    const created = inputs.sessionDataKeys.filter((k) => k.arn === "created").map((k) => k.region);
    if (existing.length > 0) {
        statements.push({ Sid: "EncryptSessionData", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: existing });
    }
    if (created.length > 0) {
        statements.push({
            // A created key's ARN is unknown before it exists (and to a StackSet's other Regions): its alias names it.
            Sid: "EncryptSessionDataWithCreatedKeys",
            Effect: "Allow",
            Action: "kms:GenerateDataKey",
            Resource: created.map((r) => `arn:${partition}:kms:${r}:${accountId}:key/*`),
            Condition: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": sessionDataKeyAlias } },
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/** The operator policy inputs of one account from validated settings (the direct mode's and the template's). */
export function operatorPolicyInputs(
    settings: Pick<Settings, "sessionDataEncryption" | "sessionDataKeyArn" | "operatorPolicy">,
    account: { partition: string; accountId: string; regions: readonly string[] },
): OperatorPolicyInputs {
    return {
        ...account,
        documentName: defaultDocumentName,
        ...(settings.operatorPolicy?.instanceTag ? { instanceTag: settings.operatorPolicy.instanceTag } : {}),
        sessionDataKeys: settings.sessionDataEncryption
            ? account.regions.map((region) => ({
                  region,
                  arn: settings.sessionDataKeyArn ? resolveKeyArnTemplate(settings.sessionDataKeyArn, { accountId: account.accountId, region }) : "created",
              }))
            : [],
    };
}

// --- The guardrail --------------------------------------------------------------------------------

/** AWS Organizations' limit on a service control policy's document, in characters. */
export const maxServiceControlPolicyCharacters = 5120;

/** Every way the Session document can be changed, re-defaulted, re-tagged or shared. */
export const guardedDocumentActions = [
    "ssm:CreateDocument",
    "ssm:UpdateDocument",
    "ssm:UpdateDocumentDefaultVersion",
    "ssm:UpdateDocumentMetadata",
    "ssm:DeleteDocument",
    "ssm:AddTagsToResource",
    "ssm:RemoveTagsFromResource",
    "ssm:ModifyDocumentPermission",
] as const;

/**
 * The roles the guardrail excepts: every target's write role, the roles named in
 * guardrail.exceptRoleNames (`npm run org` adds the role it assumes in accounts found under OUs),
 * and in StackSet mode the custom resource's role in every Region. Read-only roles need no
 * exception: they never write.
 */
export function guardrailExceptions(settings: Pick<Settings, "targets" | "deployment" | "guardrail">): string[] {
    const names = [
        ...settings.targets.flatMap((t) => (t.roleName ? [t.roleName] : [])),
        ...(settings.guardrail?.exceptRoleNames ?? []),
        ...(settings.deployment === "stackset" ? [stackSetHandlerRoleNamePattern] : []),
    ];
    return [...new Set(names)];
}

/**
 * The service control policy: denies every change to the Session document to every principal
 * but the excepted roles, in any account and Region under the OUs it is attached to.
 */
export function guardrailPolicy(partition: string, documentName: string, exceptRoleNames: readonly string[]): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "OnlySessionManagerPreferencesChangesTheDocument",
                Effect: "Deny",
                Action: [...guardedDocumentActions],
                Resource: `arn:${partition}:ssm:*:*:document/${documentName}`,
                Condition: { ArnNotLike: { "aws:PrincipalArn": exceptRoleNames.map((name) => `arn:${partition}:iam::*:role/${name}`) } },
            },
        ],
    };
}

/** The guardrail's document as AWS Organizations stores it (no whitespace), and whether it fits. */
export function guardrailContent(document: PolicyDocument): { text: string; problem?: string } {
    const text = JSON.stringify(document);
    if (text.length <= maxServiceControlPolicyCharacters) return { text };
    return {
        text,
        problem: `the service control policy is ${text.length} characters; AWS Organizations allows at most ${maxServiceControlPolicyCharacters}: except fewer roles (one role name shared by every target keeps it short)`,
    };
}

/** Where the guardrail is attached: its own targetIds, else the rollout's OUs. */
export function guardrailTargetIds(settings: Pick<Settings, "organizationalUnitIds"> & { guardrail?: Guardrail }): string[] {
    const own = settings.guardrail?.targetIds ?? [];
    return own.length > 0 ? own : settings.organizationalUnitIds;
}
