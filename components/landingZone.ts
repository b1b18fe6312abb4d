// What surrounds the documents in a landing zone (docs/landing-zone.md): the central log
// archive in its account, the operator policy in each target account and the guardrail in the
// management account. The policies are built in core/landingZone.ts; this file only makes the
// resources, for the direct mode, the loop of stacks (its landing-zone stack) and StackSet mode.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    archiveBucketPolicy,
    archiveBuckets,
    archiveKeyPolicy,
    guardrailContent,
    guardrailExceptions,
    guardrailPolicy,
    guardrailTargetIds,
    operatorPolicy,
    OperatorPolicyInputs,
} from "../core/landingZone";
import {
    archiveKeyAlias,
    archiveKeyDescription,
    guardrailPolicyDescription,
    guardrailPolicyName,
    guardrailPolicyType,
    operatorPolicyDescription,
    operatorPolicyName,
    operatorPolicyPath,
    roleSessionName,
} from "../core/names";
import { partitionOf, roleArn } from "../core/partition";
import { policyScope } from "../core/policies";
import { defaultDocumentName, LogArchive, Settings } from "../core/settings";

/**
 * An aws provider in an account and Region, through a role there when one is named (by name,
 * or as a whole ARN); a wrong account fails instead of changing another.
 */
export function accountProvider(
    name: string,
    accountId: string,
    region: string,
    roleName: string | undefined,
    opts?: pulumi.CustomResourceOptions,
    roleArnGiven?: string,
): aws.Provider {
    const assumed = roleArnGiven ?? (roleName ? roleArn(partitionOf(region), accountId, roleName) : undefined);
    return new aws.Provider(
        name,
        { region, allowedAccountIds: [accountId], assumeRoles: assumed ? [{ roleArn: assumed, sessionName: roleSessionName }] : undefined },
        opts,
    );
}

export interface LogArchiveArgs {
    archive: LogArchive;
    /** The document's s3KeyPrefix: each account writes under `<prefix>/<account>/`. */
    s3KeyPrefix: string;
    kmsKeyRotation: boolean;
    tags?: Record<string, string>;
}

/**
 * The log archive's buckets, one per Region it names, each with its key: versioned, every kind of
 * public access blocked, objects owned by the bucket owner (the archive account, not the writers),
 * TLS only, SSE-KMS with a bucket key, expired after the retention. Bucket and key are kept when
 * the stack goes: they hold the organization's session logs.
 */
export class SessionLogArchive extends pulumi.ComponentResource {
    public readonly bucketNames: pulumi.Output<string>[] = [];
    public readonly keyArns: pulumi.Output<string>[] = [];

    constructor(name: string, args: LogArchiveArgs, opts?: pulumi.ComponentResourceOptions) {
        super("session-manager-preferences:index:LogArchive", name, {}, opts);
        const { archive } = args;
        for (const { region, bucketName } of archiveBuckets(archive)) {
            const id = `${name}-${region}`;
            const provider = accountProvider(id, archive.accountId, region, previewOrWriteRole(archive), { parent: this });
            const at = { parent: this, provider };
            const scope = policyScope(archive.accountId, region);
            const key = new aws.kms.Key(
                `${id}-key`,
                {
                    description: archiveKeyDescription,
                    enableKeyRotation: args.kmsKeyRotation,
                    policy: JSON.stringify(archiveKeyPolicy(scope, bucketName, archive.organizationId)),
                    tags: args.tags,
                },
                { ...at, retainOnDelete: true },
            );
            new aws.kms.Alias(`${id}-key-alias`, { name: archiveKeyAlias, targetKeyId: key.keyId }, at);
            const bucket = new aws.s3.Bucket(`${id}-bucket`, { bucket: bucketName, tags: args.tags }, { ...at, retainOnDelete: true });
            const ownership = new aws.s3.BucketOwnershipControls(
                `${id}-ownership`,
                { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
                at,
            );
            const publicAccess = new aws.s3.BucketPublicAccessBlock(
                `${id}-public-access`,
                { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
                at,
            );
            new aws.s3.BucketVersioning(`${id}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, at);
            new aws.s3.BucketServerSideEncryptionConfiguration(
                `${id}-encryption`,
                {
                    bucket: bucket.id,
                    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
                },
                at,
            );
            if (archive.retentionInDays > 0) {
                new aws.s3.BucketLifecycleConfiguration(
                    `${id}-retention`,
                    {
                        bucket: bucket.id,
                        rules: [
                            {
                                id: "session-log-retention",
                                status: "Enabled",
                                filter: {},
                                expiration: { days: archive.retentionInDays },
                                noncurrentVersionExpiration: { noncurrentDays: archive.retentionInDays },
                                abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                            },
                        ],
                    },
                    at,
                );
            }
            new aws.s3.BucketPolicy(
                `${id}-policy`,
                { bucket: bucket.id, policy: JSON.stringify(archiveBucketPolicy(scope, bucketName, args.s3KeyPrefix, archive.organizationId)) },
                // A policy that grants to the organization is refused while the block is being set up.
                { ...at, dependsOn: [publicAccess, ownership] },
            );
            this.bucketNames.push(bucket.bucket);
            this.keyArns.push(key.arn);
        }
        this.registerOutputs({ bucketNames: this.bucketNames, keyArns: this.keyArns });
    }
}

export interface OperatorPolicyArgs {
    policy: OperatorPolicyInputs;
    roleNames: readonly string[];
    tags?: Record<string, string>;
}

/** The operator policy of one account, attached to the named roles; its name and path are the same in every account. */
export class SessionManagerOperatorPolicy extends pulumi.ComponentResource {
    public readonly policyArn: pulumi.Output<string>;

    constructor(name: string, args: OperatorPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("session-manager-preferences:index:OperatorPolicy", name, {}, opts);
        const policy = new aws.iam.Policy(
            `${name}-policy`,
            {
                name: operatorPolicyName,
                path: operatorPolicyPath,
                description: operatorPolicyDescription,
                policy: JSON.stringify(operatorPolicy(args.policy)),
                tags: args.tags,
            },
            { parent: this },
        );
        for (const role of args.roleNames) {
            new aws.iam.RolePolicyAttachment(`${name}-${role}`, { role, policyArn: policy.arn }, { parent: this });
        }
        this.policyArn = policy.arn;
        this.registerOutputs({ policyArn: this.policyArn });
    }
}

/** The guardrail: a service control policy attached to each OU or root it names. */
export class SessionDocumentGuardrail extends pulumi.ComponentResource {
    public readonly policyId: pulumi.Output<string>;

    constructor(name: string, args: { content: string; targetIds: readonly string[]; tags?: Record<string, string> }, opts?: pulumi.ComponentResourceOptions) {
        super("session-manager-preferences:index:Guardrail", name, {}, opts);
        const policy = new aws.organizations.Policy(
            `${name}-policy`,
            { name: guardrailPolicyName, description: guardrailPolicyDescription, type: guardrailPolicyType, content: args.content, tags: args.tags },
            { parent: this },
        );
        for (const targetId of args.targetIds) {
            new aws.organizations.PolicyAttachment(`${name}-${targetId}`, { policyId: policy.id, targetId }, { parent: this });
        }
        this.policyId = policy.id;
        this.registerOutputs({ policyId: this.policyId });
    }
}

/** The role a landing-zone provider assumes: at preview the read-only one when there is one, so a preview holds no write credential. */
function previewOrWriteRole(roles: { roleName?: string; readOnlyRoleName?: string }): string | undefined {
    return pulumi.runtime.isDryRun() ? (roles.readOnlyRoleName ?? roles.roleName) : roles.roleName;
}

/**
 * The log archive (when this program creates it) and the guardrail of validated settings, made
 * by the stack that holds them (sharedResources: here or only). `region` is the stack's own, where
 * the guardrail's provider calls AWS Organizations (required with a guardrail). Returns the stack outputs.
 */
export function deploySharedResources(settings: Settings, region: string | undefined): Record<string, unknown> {
    const outputs: Record<string, unknown> = {};
    if (settings.logArchive?.create) {
        const archive = new SessionLogArchive("log-archive", {
            archive: settings.logArchive,
            s3KeyPrefix: settings.s3KeyPrefix,
            kmsKeyRotation: settings.kmsKeyRotation,
        });
        outputs.logArchive = { bucketNames: archive.bucketNames, keyArns: archive.keyArns };
    }
    if (settings.guardrail) {
        if (!region)
            throw new pulumi.RunError("sessionManager:guardrail needs the stack's Region (aws:region or AWS_REGION): AWS Organizations is called from it");
        const { text, problem } = guardrailContent(guardrailPolicy(partitionOf(region), defaultDocumentName, guardrailExceptions(settings)));
        // parseSettings has measured it too; the partition here is the stack's own.
        if (problem) throw new pulumi.RunError(`sessionManager:guardrail: ${problem}`);
        const { accountId } = settings.guardrail;
        const provider = accountId ? accountProvider("guardrail-provider", accountId, region, previewOrWriteRole(settings.guardrail)) : undefined;
        const guardrail = new SessionDocumentGuardrail(
            "guardrail",
            { content: text, targetIds: guardrailTargetIds(settings) },
            provider ? { providers: [provider] } : undefined,
        );
        outputs.guardrail = { policyId: guardrail.policyId };
    }
    return outputs;
}
