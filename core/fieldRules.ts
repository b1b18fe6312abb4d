/**
 * One validator per field: what each value may be, and the words that say so. The config
 * parser (core/config.ts), the component's arguments (components/preferences.ts), the
 * document provider's check (providers/sessionDocumentProvider.ts) and the StackSet handler
 * (lambda/handler.ts) all use these, so a field cannot be allowed in one and refused in another.
 *
 * A rule takes a value as any of them receives it (a YAML value, the string `pulumi config set`
 * writes, a TypeScript value, a CloudFormation string) and the name to report it under, and
 * returns the value, normalized, or throws InvalidValue naming the field, the value and what is
 * allowed.
 */
import { closest } from "fastest-levenshtein";
import { maxDocumentContentBytes } from "./document";
import { managementTagPrefix } from "./names";
import * as rules from "./rules";
import { deploymentValues, DocumentPreferences, onDeleteValues, sharedResourcesValues, stackGranularityValues, stackSetCallAsValues } from "./settings";

/** A value a field does not allow: names the field, the value given and what is allowed. */
export class InvalidValue extends Error {
    constructor(
        public readonly key: string,
        public readonly value: unknown,
        public readonly allowed: string,
    ) {
        super(`${key}: ${describeValue(value)} is not valid: ${allowed}`);
        this.name = "InvalidValue";
    }
}

/** A value as an error shows it: JSON, cut short. */
export function describeValue(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** A plain object (not null, not an array): the one test of it. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a value for the field named `key`; throws InvalidValue. */
export type Rule<T> = (value: unknown, key: string) => T;

/** Lists and objects may come as the JSON strings `pulumi config set` and CloudFormation write. */
export function fromJsonString(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const trimmed = value.trim();
    if (!/^[[{]/.test(trimmed)) return value;
    try {
        return JSON.parse(trimmed);
    } catch {
        return value;
    }
}

export const boolean: Rule<boolean> = (value, key) => {
    if (typeof value === "boolean") return value;
    if (value === "true") return true;
    if (value === "false") return false;
    throw new InvalidValue(key, value, "true or false");
};

export function integer(min: number, max: number, unit = ""): Rule<number> {
    const allowed = `a whole number from ${min} to ${max}${unit}, written as digits only`;
    return (value, key) => {
        // Digits only, as `pulumi config set` writes them: " 20" or "20.0" is more likely a typo than a number.
        const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
        if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) throw new InvalidValue(key, value, allowed);
        return n;
    };
}

export function oneOf<T extends string>(values: readonly T[]): Rule<T> {
    return (value, key) => {
        if (typeof value === "string" && (values as readonly string[]).includes(value)) return value as T;
        throw new InvalidValue(key, value, `one of ${values.join(", ")}`);
    };
}

/** Text that `check` accepts (it returns what is allowed when it does not). */
export function text(check: (s: string) => string | undefined = () => undefined): Rule<string> {
    return (value, key) => {
        // An unquoted YAML number (a prefix such as 2024) is still meant as text.
        const s = typeof value === "number" ? String(value) : value;
        if (typeof s !== "string") throw new InvalidValue(key, value, "a string");
        const problem = check(s);
        if (problem) throw new InvalidValue(key, value, problem);
        return s;
    };
}

/** A list of values of one rule, each once; an entry's problem names it `key[i]`. */
export function list<T>(item: Rule<T>): Rule<T[]> {
    return (value, key) => {
        const v = fromJsonString(value);
        if (!Array.isArray(v)) throw new InvalidValue(key, value, "a list");
        const seen = new Set<string>();
        return v.map((x, i) => {
            const parsed = item(x, `${key}[${i}]`);
            const id = JSON.stringify(parsed);
            if (seen.has(id)) throw new InvalidValue(`${key}[${i}]`, x, `each entry once (it is listed twice)`);
            seen.add(id);
            return parsed;
        });
    };
}

/** The rule, or the default when the value is absent (undefined or null). */
export function withDefault<T>(rule: Rule<T>, fallback: T): Rule<T> {
    return (value, key) => (value === undefined || value === null ? fallback : rule(value, key));
}

/** An object whose keys are `fields`: an unknown key is refused naming the closest known one. */
export function knownFields(value: unknown, key: string, fields: readonly string[], shape: string): Record<string, unknown> {
    if (!isPlainObject(value)) throw new InvalidValue(key, value, `an object ${shape}`);
    for (const k of Object.keys(value)) {
        if (!fields.includes(k))
            throw new InvalidValue(`${key}.${k}`, value[k], `not a field here; did you mean ${closest(k, [...fields])}? Allowed: ${fields.join(", ")}`);
    }
    return value;
}

// --- Where a document is, and who acts on it -------------------------------------------------

export const accountId = text((s) => (rules.isAccountId(s) ? undefined : `${rules.accountIdRule} (quote it in YAML so leading zeros survive)`));
export const region = text((s) => (rules.isRegion(s) ? undefined : rules.regionRule));
export const roleName = text((s) => (rules.isRoleName(s) ? undefined : rules.roleNameRule));
export const roleArn = text((s) => (rules.isRoleArn(s) ? undefined : rules.roleArnRule));
export const documentName = text((s) => (rules.isDocumentName(s) ? undefined : rules.documentNameRule));
export const owner = text((s) =>
    /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u.test(s) ? undefined : "1 to 256 letters, digits, spaces or _.:/=+-@ (it becomes a tag value)",
);
export const organizationalUnitId = text((s) =>
    rules.isOrganizationalUnitId(s) ? undefined : "an organizational unit ID (ou-xxxx-xxxxxxxx) or root ID (r-xxxx)",
);

// --- The document and what it points at ------------------------------------------------------

export const s3BucketName = text((s) => (s === "" ? undefined : rules.s3BucketNameProblem(s)));
export const s3KeyPrefix = text(rules.s3KeyPrefixProblem);
export const cwLogGroupName = text((s) =>
    s === "" ? "a log group name; to log to S3 only, or not at all, set cwLogging to false instead" : rules.logGroupNameProblem(s),
);
export const runAsDefaultUser = text((s) => (s === "" || rules.isLinuxUserName(s) ? undefined : rules.linuxUserNameRule));
export const idleSessionTimeout = integer(1, 60, " (minutes)");
export const maxSessionDuration = integer(1, 1440, " (minutes)");
export const shellProfile = text();
/** An existing key: a concrete ARN. */
export const kmsKeyArn = text((s) => (rules.isKmsKeyArn(s) ? undefined : "a KMS key ARN: arn:<partition>:kms:<region>:<account>:key/<key-id>"));
/** The configuration's existing key, which may say {region} and {accountId}. */
export const kmsKeyArnTemplate = text((s) =>
    rules.isKmsKeyArnTemplate(s)
        ? undefined
        : "a KMS key ARN: arn:<partition>:kms:<region>:<account>:key/<key-id>, where <region> and <account> may be {region} and {accountId}",
);
export const logRetentionInDays: Rule<number> = (value, key) => {
    const n = integer(0, Number.MAX_SAFE_INTEGER)(value, key);
    if (!rules.logRetentionDays.includes(n)) {
        throw new InvalidValue(key, value, `one of the retention periods CloudWatch Logs accepts: ${rules.logRetentionDays.join(", ")} (0 = never expire)`);
    }
    return n;
};

/** AWS tags: keys of 1 to 128 and values of up to 256 letters, digits, spaces and _.:/=+-@; not aws: or this program's own prefix. */
export const tags: Rule<Record<string, string>> = (value, key) => {
    const v = fromJsonString(value);
    if (!isPlainObject(v)) throw new InvalidValue(key, value, "an object of tag keys to tag values");
    const chars = "letters, digits, spaces and _.:/=+-@";
    for (const [k, val] of Object.entries(v)) {
        if (!/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u.test(k)) throw new InvalidValue(`${key}.${k}`, val, `a tag key of 1 to 128 ${chars}`);
        if (k.toLowerCase().startsWith("aws:") || k.startsWith(managementTagPrefix)) {
            throw new InvalidValue(`${key}.${k}`, val, `a tag key not starting with aws: (AWS's) or ${managementTagPrefix} (this program's own)`);
        }
        if (typeof val !== "string" || !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u.test(val))
            throw new InvalidValue(`${key}.${k}`, val, `a tag value of up to 256 ${chars}`);
    }
    return v as Record<string, string>;
};

// --- The landing zone: log archive, operator policy, guardrail ----------------------------------

export const organizationId = text((s) => (/^o-[a-z0-9]{10,32}$/.test(s) ? undefined : "an AWS Organizations ID: o- and 10 to 32 of a-z, 0-9"));
/** The longest Region name, to check a name that will hold one. */
export const longestRegion = "ap-southeast-5";
/** A bucket name that may say `{region}` once: one bucket per Region. */
export const bucketNameTemplate = text((s) => {
    const resolved = s.replace("{region}", longestRegion);
    if (resolved.includes("{") || resolved.includes("}")) return "an S3 bucket name that may say {region} once, and no other {...}";
    const problem = rules.s3BucketNameProblem(resolved);
    return problem && s.includes("{region}") ? `${problem} (with {region} as ${longestRegion})` : problem;
});
export const archiveRetentionInDays = integer(0, 36500, " (days; 0 keeps session logs forever)");
export const sharedResources = oneOf(sharedResourcesValues);
/** One tag: `{ key, value }`. */
export const instanceTag: Rule<{ key: string; value: string }> = (value, key) => {
    const record = knownFields(fromJsonString(value), key, ["key", "value"], "{ key, value }");
    if (typeof record.key !== "string") throw new InvalidValue(`${key}.key`, record.key, "required: a tag key");
    const checked = tags({ [record.key]: record.value ?? "" }, key);
    return { key: record.key, value: checked[record.key] };
};

// --- What the resource does over its life ----------------------------------------------------

export const onDelete = oneOf(onDeleteValues);
export const keepDocumentVersions = integer(
    0,
    rules.maxDocumentVersions,
    ` (0 keeps all; SSM keeps at most ${rules.maxDocumentVersions} versions of a document)`,
);
export const takeOver = boolean;

// --- Rollout settings --------------------------------------------------------------------------

export const deployment = oneOf(deploymentValues);
export const stackGranularity = oneOf(stackGranularityValues);
export const stackSetName = text((s) =>
    /^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(s) ? undefined : "a StackSet name: a letter, then up to 127 letters, digits and hyphens",
);
export const stackSetCallAs = oneOf(stackSetCallAsValues);
export const percentage = (min: number) => integer(min, 100, " (percent)");

/** The rule of each preference the document holds: the configuration's keys, and the component's `preferences` argument. */
export const documentPreferenceRules: { [K in keyof DocumentPreferences]-?: Rule<DocumentPreferences[K]> } = {
    s3Logging: boolean,
    s3BucketName,
    s3KeyPrefix,
    s3EncryptionEnabled: boolean,
    cwEncryptionEnabled: boolean,
    cwStreamingEnabled: boolean,
    runAsEnabled: boolean,
    runAsDefaultUser,
    idleSessionTimeout,
    maxSessionDuration,
    winShellProfile: shellProfile,
    linuxShellProfile: shellProfile,
};

// --- Rules between fields ------------------------------------------------------------------------

/** The preferences that relate to each other, as the document needs them. */
export interface RelatedPreferences {
    s3Logging: boolean;
    s3BucketName: string;
    runAsEnabled: boolean;
    runAsDefaultUser: string;
    idleSessionTimeout: number;
    maxSessionDuration: number;
}

/**
 * Rules that relate two fields, checked once each is valid on its own. `name` turns a field into
 * the name to report it under (a config key, a component argument).
 */
export function relatedFieldProblems(p: RelatedPreferences, name: (field: keyof RelatedPreferences) => string = (f) => f): InvalidValue[] {
    const problems: InvalidValue[] = [];
    if (p.s3Logging && p.s3BucketName === "") {
        problems.push(new InvalidValue(name("s3BucketName"), p.s3BucketName, `required when ${name("s3Logging")} is true: the bucket session logs go to`));
    }
    if (p.runAsEnabled && p.runAsDefaultUser === "") {
        problems.push(
            new InvalidValue(name("runAsDefaultUser"), p.runAsDefaultUser, `required when ${name("runAsEnabled")} is true: ${rules.linuxUserNameRule}`),
        );
    }
    if (p.idleSessionTimeout > p.maxSessionDuration) {
        problems.push(
            new InvalidValue(name("idleSessionTimeout"), p.idleSessionTimeout, `at most ${name("maxSessionDuration")} (${p.maxSessionDuration} minutes)`),
        );
    }
    return problems;
}

/** A Session document's content, as the provider and the StackSet handler receive it. */
export function sessionDocumentContentProblem(value: unknown, bytesOf: (content: unknown) => number): string | undefined {
    if (!isPlainObject(value) || typeof value.schemaVersion !== "string" || typeof value.sessionType !== "string" || !isPlainObject(value.inputs)) {
        return "a Session document object with schemaVersion, sessionType and inputs";
    }
    const bytes = bytesOf(value);
    if (bytes > maxDocumentContentBytes) return `a Session document of at most ${maxDocumentContentBytes} bytes as JSON (this one is ${bytes})`;
    return undefined;
}
