import { dnsSuffixOf, partitionOf } from "./partition";

/** An IAM or KMS key policy statement, as AWS reads it. */
export interface PolicyStatement {
    Sid: string;
    Effect: "Allow" | "Deny";
    Principal?: { AWS?: string | string[]; Service?: string | string[] };
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/**
 * Where a policy applies: the account and Region its ARNs point into, and that Region's
 * partition and DNS suffix. Given, not derived here, so the StackSet template can pass
 * placeholders for what only CloudFormation knows (`${AWS::Partition}`, `${AWS::URLSuffix}`).
 */
export interface PolicyScope {
    accountId: string;
    region: string;
    partition: string;
    urlSuffix: string;
}

/** The scope of an account and Region, with the partition facts of core/partition.ts. */
export function policyScope(accountId: string, region: string): PolicyScope {
    const partition = partitionOf(region);
    return { accountId, region, partition, urlSuffix: dnsSuffixOf(partition) };
}

export function accountRootArn(scope: PolicyScope): string {
    return `arn:${scope.partition}:iam::${scope.accountId}:root`;
}

/** The ARN form IAM and KMS conditions use for a log group (no trailing `:*`). */
export function logGroupArn(scope: PolicyScope, logGroupName: string): string {
    return `arn:${scope.partition}:logs:${scope.region}:${scope.accountId}:log-group:${logGroupName}`;
}

export function logsServicePrincipal(scope: PolicyScope): string {
    return `logs.${scope.region}.${scope.urlSuffix}`;
}

/**
 * Without this statement nobody could manage the key: KMS only honours IAM policies for a
 * key whose policy delegates to the account. It grants nothing by itself; who may use the
 * key is then decided by IAM in that account, as for any other resource.
 */
function delegateToAccount(scope: PolicyScope): PolicyStatement {
    return {
        Sid: "EnableIamPoliciesInTheAccount",
        Effect: "Allow",
        Principal: { AWS: accountRootArn(scope) },
        Action: "kms:*",
        Resource: "*",
    };
}

/**
 * Key policy for the session-data key. No service principal: Session Manager uses the key
 * with the credentials of the user (kms:GenerateDataKey) and of the instance
 * (kms:Decrypt), both granted through IAM.
 */
export function sessionDataKeyPolicy(scope: PolicyScope): PolicyDocument {
    return { Version: "2012-10-17", Statement: [delegateToAccount(scope)] };
}

/**
 * Key policy for the CloudWatch Logs key. CloudWatch Logs encrypts with its own service
 * principal, which may use the key only for the one log group, through its encryption
 * context; otherwise any log group in the Region could be encrypted with it. AWS's sample
 * adds kms:Describe* to this statement, but no Describe call carries an encryption context,
 * so under this condition it would never apply: it is left out (the IAM linter flags it).
 */
export function logsKeyPolicy(scope: PolicyScope, logGroupName: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            delegateToAccount(scope),
            {
                Sid: "CloudWatchLogsEncryptsTheSessionLogGroup",
                Effect: "Allow",
                Principal: { Service: logsServicePrincipal(scope) },
                Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                Resource: "*",
                Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroupArn(scope, logGroupName) } },
            },
        ],
    };
}

/** Where one target's session logs go, and with which key, as its instance policy needs them. */
export interface ArchiveTarget {
    bucketName: string;
    /** The archive's account and the bucket's Region: where the key is. */
    accountId: string;
    region: string;
    /** An existing key's ARN; absent with a created key (its ARN is not known before it exists); null when the bucket has no KMS key. */
    kmsKeyArn?: string | null;
}

/** What S3 calls KMS as in a Region: the log archive's key is usable through it only. */
export function s3ViaService(region: string, urlSuffix: string): string {
    return `s3.${region}.${urlSuffix}`;
}

/** A bucket's ARN: the one spelling of it for every policy that names a bucket. */
export function s3BucketArn(partition: string, bucketName: string): string {
    return `arn:${partition}:s3:::${bucketName}`;
}

/**
 * What an instance needs to encrypt session logs with the archive's key: GenerateDataKey, and
 * Decrypt for multipart uploads, through S3 only and for the archive bucket's objects only. A
 * created key's ARN is unknown before it exists, and the archive may be made by another stack:
 * the statement names the archive account's keys in that Region, and the conditions (S3, that
 * bucket) narrow it to the one S3 uses for it. Undefined when the bucket has no KMS key. The
 * partition and DNS suffix are the instance's scope (the archive is in the same partition), so
 * the StackSet template can pass its placeholders for them.
 */
export function archiveKeyStatement(scope: Pick<PolicyScope, "partition" | "urlSuffix">, archive: ArchiveTarget): PolicyStatement | undefined {
    if (archive.kmsKeyArn === null) return undefined;
    const { partition } = scope;
    const arn = s3BucketArn(partition, archive.bucketName);
    return {
        Sid: "EncryptSessionLogsForTheArchive",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: archive.kmsKeyArn ?? `arn:${partition}:kms:${archive.region}:${archive.accountId}:key/*`,
        Condition: {
            StringEquals: { "kms:ViaService": s3ViaService(archive.region, scope.urlSuffix) },
            StringLike: { "kms:EncryptionContext:aws:s3:arn": [arn, `${arn}/*`] },
        },
    };
}

/** What an instance writes to and reads from, once the parts are known. */
export interface InstancePolicyInputs extends PolicyScope {
    /** The session log group; absent when CloudWatch logging is off. */
    logGroupName?: string;
    /**
     * The bucket and the full object prefix (`<prefix>/<account>/<region>`), and the log archive
     * when the bucket is one (its key is then in another account); absent when S3 logging is off.
     */
    s3?: { bucketName: string; keyPrefix: string; archive?: ArchiveTarget };
    /** The session-data key ARN; absent when session data is not encrypted. */
    sessionDataKeyArn?: string;
}

/**
 * The instance-profile policy for the chosen preferences. Each statement exists only when
 * the setting that needs it is on, and is scoped to this account's and Region's log group,
 * bucket prefix and key.
 */
export function instanceProfilePolicy(inputs: InstancePolicyInputs): PolicyDocument {
    const statements: PolicyStatement[] = [
        {
            Sid: "SessionChannels",
            Effect: "Allow",
            Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            Resource: "*",
        },
    ];
    if (inputs.logGroupName !== undefined) {
        statements.push(
            {
                // The agent looks the group up before streaming; DescribeLogGroups has no resource-level scoping.
                Sid: "FindSessionLogGroup",
                Effect: "Allow",
                Action: "logs:DescribeLogGroups",
                Resource: "*",
            },
            {
                Sid: "WriteSessionLogs",
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                // The log-group resource type ends in `:*`, which also covers its log streams.
                Resource: `${logGroupArn(inputs, inputs.logGroupName)}:*`,
            },
        );
    }
    if (inputs.s3 !== undefined) {
        const bucketArn = s3BucketArn(inputs.partition, inputs.s3.bucketName);
        const prefix = inputs.s3.keyPrefix.replace(/^\/+|\/+$/g, "");
        statements.push(
            {
                Sid: "WriteSessionLogObjects",
                Effect: "Allow",
                Action: "s3:PutObject",
                Resource: prefix ? `${bucketArn}/${prefix}/*` : `${bucketArn}/*`,
            },
            {
                // The agent refuses to upload when it cannot confirm the bucket's encryption setting.
                Sid: "CheckSessionLogBucketEncryption",
                Effect: "Allow",
                Action: "s3:GetEncryptionConfiguration",
                Resource: bucketArn,
            },
        );
        const archiveKey = inputs.s3.archive ? archiveKeyStatement(inputs, inputs.s3.archive) : undefined;
        if (archiveKey) statements.push(archiveKey);
    }
    if (inputs.sessionDataKeyArn !== undefined) {
        statements.push({
            // The instance only decrypts; the user who starts the session generates the data key.
            Sid: "DecryptSessionData",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: inputs.sessionDataKeyArn,
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/** The key ID at the end of a KMS key ARN (`arn:<partition>:kms:<region>:<account>:key/<id>`). */
export function keyIdOfArn(keyArn: string): string {
    const marker = ":key/";
    const at = keyArn.lastIndexOf(marker);
    if (at < 0) throw new Error(`not a KMS key ARN: ${keyArn}`);
    return keyArn.slice(at + marker.length);
}
