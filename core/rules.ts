/**
 * AWS naming and value rules, as predicates and problem descriptions. Each returns
 * undefined for a good value, or a sentence saying what is allowed.
 */

/** Region names across partitions: eu-west-1, us-gov-west-1, cn-north-1, us-isob-east-1, ap-southeast-5. */
const regionPattern = "[a-z]{2}(-(gov|iso|isob|isof))?-[a-z]+-\\d{1,2}";
/** ARN partitions: aws, aws-us-gov, aws-cn, aws-iso, aws-iso-b, ... */
const partitionPattern = "aws(-[a-z]+)*";

export const accountIdRule = "a 12-digit AWS account ID";

export function isAccountId(s: string): boolean {
    return /^\d{12}$/.test(s);
}

export const regionRule = "an AWS Region name such as eu-west-1 or us-gov-west-1";

export function isRegion(s: string): boolean {
    return new RegExp(`^${regionPattern}$`).test(s);
}

export const roleNameRule = "an IAM role name: 1 to 64 of letters, digits and +=,.@_-";

/** IAM role names (without a path). */
export function isRoleName(s: string): boolean {
    return /^[\w+=,.@-]{1,64}$/.test(s);
}

export const roleArnRule = "an IAM role ARN such as arn:aws:iam::111122223333:role/Name";

/** IAM role ARNs, with a path or without, in any partition. */
export function isRoleArn(s: string): boolean {
    return new RegExp(`^arn:${partitionPattern}:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$`).test(s);
}

/** The account an ARN belongs to (its fifth field). */
export function accountOfArn(arn: string): string {
    return arn.split(":")[4];
}

export const documentNameRule = 'an SSM document name: 3 to 128 letters, digits, "_", "-" or ".", not starting with aws-, amazon or amzn';

/** Names SSM accepts for a document this program creates (the aws-, amazon and amzn prefixes are reserved). */
export function isDocumentName(s: string): boolean {
    return /^[A-Za-z0-9_.-]{3,128}$/.test(s) && !/^(aws-|amazon|amzn)/i.test(s);
}

export const linuxUserNameRule = "a Linux user name: starts with a lower-case letter or _, then up to 31 of a-z, 0-9, _ and -";

export function isLinuxUserName(s: string): boolean {
    return /^[a-z_][a-z0-9_-]{0,31}$/.test(s);
}

// Multi-Region key IDs are mrk- and 32 hex digits in AWS; moto writes them as mrk- and a UUID.
export function isKmsKeyArn(s: string): boolean {
    const uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
    return new RegExp(`^arn:${partitionPattern}:kms:${regionPattern}:\\d{12}:key/(${uuid}|mrk-([0-9a-f]{32}|${uuid}))$`).test(s);
}

/**
 * A key ARN that may say `{region}` and `{accountId}` where the Region and account go, so one
 * setting can name a multi-Region key (same key ID in every Region) or a per-account key.
 */
export function isKmsKeyArnTemplate(s: string): boolean {
    return isKmsKeyArn(s.replace("{region}", "us-east-1").replace("{accountId}", "000000000000"));
}

export function resolveKeyArnTemplate(template: string, target: { accountId: string; region: string }): string {
    return template.replace("{region}", target.region).replace("{accountId}", target.accountId);
}

export function isOrganizationalUnitId(s: string): boolean {
    return /^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/.test(s);
}

/** The retention periods CloudWatch Logs accepts, plus 0 for "never expire" (no retention policy). */
export const logRetentionDays: readonly number[] = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** SSM keeps at most this many versions of one document. */
export const maxDocumentVersions = 1000;

/** General purpose bucket naming rules. */
export function s3BucketNameProblem(s: string): string | undefined {
    const rule = "an S3 bucket name: 3 to 63 characters of a-z, 0-9, . and -, starting and ending with a letter or digit";
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s)) return rule;
    if (s.includes("..")) return `${rule}, with no two adjacent periods`;
    if (/^\d+\.\d+\.\d+\.\d+$/.test(s)) return `${rule}, not formatted as an IP address`;
    const prefix = ["xn--", "sthree-", "amzn-s3-demo-"].find((p) => s.startsWith(p));
    if (prefix) return `${rule}; the prefix ${prefix} is reserved by AWS`;
    const suffix = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].find((p) => s.endsWith(p));
    if (suffix) return `${rule}; the suffix ${suffix} is reserved by AWS`;
    return undefined;
}

/** Session Manager appends /<account>/<region>, so the prefix keeps to S3's safe key characters. */
export function s3KeyPrefixProblem(s: string): string | undefined {
    if (s.length > 900) return "an S3 key prefix of at most 900 characters";
    if (!/^[A-Za-z0-9!_.*'()/-]*$/.test(s)) return "an S3 key prefix of letters, digits and !_.*'()/- only";
    if (s.split("/").some((part, i, all) => part === "" && i > 0 && i < all.length - 1)) return "an S3 key prefix without empty path segments (//)";
    return undefined;
}

export function logGroupNameProblem(s: string): string | undefined {
    const rule = "a CloudWatch Logs group name: 1 to 512 of letters, digits and _-/.#";
    if (!/^[A-Za-z0-9_\-/.#]{1,512}$/.test(s)) return rule;
    if (s.startsWith("aws/")) return `${rule}, not starting with aws/ (reserved by AWS)`;
    return undefined;
}
