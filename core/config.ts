import { closest, distance } from "fastest-levenshtein";
import { desiredDocument, maxDocumentContentBytes } from "./document";
import { defaultOrganizationSettings, defaultPreferences, deploymentValues, onDeleteValues, Settings, stackSetCallAsValues, Target } from "./settings";
import * as rules from "./rules";
import { configNamespace } from "./stackConfig";

/** A configuration error a user caused: names the key, the value given and what is allowed. */
export class ConfigError extends Error {
    constructor(
        public readonly key: string,
        public readonly value: unknown,
        public readonly allowed: string,
    ) {
        super(`sessionManager:${key}: ${describeValue(value)} is not valid: ${allowed}`);
        this.name = "ConfigError";
    }
}

/** A key whose namespace is a near miss of `sessionManager`: Pulumi would pass it on, and the program would never read it. */
export class NamespaceError extends ConfigError {
    constructor(fullKey: string, value: unknown) {
        const [namespace, ...rest] = fullKey.split(":");
        super(fullKey, value, "");
        this.message = `${fullKey}: not read, the namespace is "${namespace}"; did you mean ${configNamespace}:${rest.join(":")}?`;
        this.name = "NamespaceError";
    }
}

/** Namespaces a person may have meant as ours: sessionManger, sessionmanager, session-manager, ... */
function nearMissNamespace(namespace: string): boolean {
    if (namespace === configNamespace) return false;
    const folded = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
    return folded(namespace) === folded(configNamespace) || distance(namespace, configNamespace) <= 2;
}

/**
 * Parses the `sessionManager` namespace out of a whole stack config (`namespace:key` keys),
 * and reports keys in a near-miss namespace with the rest, rather than ignoring them.
 */
export function parseStackSettings(all: Readonly<Record<string, unknown>>, knownRegions?: readonly string[]): Settings {
    const misspelt = Object.entries(all)
        .filter(([key]) => key.includes(":") && nearMissNamespace(key.split(":")[0]))
        .map(([key, value]) => new NamespaceError(key, value));
    const prefix = `${configNamespace}:`;
    const raw = Object.fromEntries(
        Object.entries(all)
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]),
    );
    try {
        const settings = parseSettings(raw);
        const problems = [...misspelt, ...(knownRegions ? unknownRegionErrors(settings, knownRegions) : [])];
        if (problems.length > 0) throw new ConfigErrors(problems);
        return settings;
    } catch (err) {
        if (err instanceof ConfigErrors && !(err.errors[0] instanceof NamespaceError)) throw new ConfigErrors([...misspelt, ...err.errors]);
        throw err;
    }
}

/**
 * Regions that are well formed but not ones `knownRegions` (the AWS SDK's partition data)
 * has, e.g. eu-wst-1, each with the closest known name.
 */
export function unknownRegionErrors(settings: Settings, knownRegions: readonly string[]): ConfigError[] {
    const known = new Set(knownRegions);
    const named: [string, string][] = [
        ...settings.targets.flatMap((t, i) => t.regions.map((r, j): [string, string] => [`targets[${i}].regions[${j}]`, r])),
        ...settings.regions.map((r, j): [string, string] => [`regions[${j}]`, r]),
        ...settings.excludeRegions.map((r, j): [string, string] => [`excludeRegions[${j}]`, r]),
    ];
    return named
        .filter(([, region]) => !known.has(region))
        .map(([key, region]) => new ConfigError(key, region, `a Region the AWS SDK knows; did you mean ${closest(region, [...known])}?`));
}

/** Every problem found in one configuration, so a user fixes them all in one pass. */
export class ConfigErrors extends Error {
    constructor(public readonly errors: ConfigError[]) {
        super(`invalid sessionManager configuration:\n${errors.map((e) => `  - ${e.message}`).join("\n")}`);
        this.name = "ConfigErrors";
    }
}

function describeValue(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

type Parser<T> = (value: unknown, key: string) => T;

// Pulumi hands config over as YAML values or as the strings `pulumi config set` writes
// ("true", "20", '["a"]'), so every parser accepts both spellings.
function fromJsonString(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const trimmed = value.trim();
    if (!/^[[{]/.test(trimmed)) return value;
    try {
        return JSON.parse(trimmed);
    } catch {
        return value;
    }
}

const boolean: Parser<boolean> = (value, key) => {
    if (typeof value === "boolean") return value;
    if (value === "true") return true;
    if (value === "false") return false;
    throw new ConfigError(key, value, "true or false");
};

function integer(min: number, max: number, unit = ""): Parser<number> {
    const allowed = `a whole number from ${min} to ${max}${unit}, written as digits only`;
    return (value, key) => {
        // Digits only, as `pulumi config set` writes them: " 20" or "20.0" is more likely a typo than a number.
        const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
        if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) throw new ConfigError(key, value, allowed);
        return n;
    };
}

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
    return (value, key) => {
        if (typeof value === "string" && (values as readonly string[]).includes(value)) return value as T;
        throw new ConfigError(key, value, `one of ${values.join(", ")}`);
    };
}

function text(check: (s: string) => string | undefined = () => undefined): Parser<string> {
    return (value, key) => {
        // An unquoted YAML number (a prefix such as 2024) is still meant as text.
        const s = typeof value === "number" ? String(value) : value;
        if (typeof s !== "string") throw new ConfigError(key, value, "a string");
        const problem = check(s);
        if (problem) throw new ConfigError(key, value, problem);
        return s;
    };
}

function list<T>(item: Parser<T>): Parser<T[]> {
    return (value, key) => {
        const v = fromJsonString(value);
        if (!Array.isArray(v)) throw new ConfigError(key, value, "a list");
        const seen = new Set<string>();
        return v.map((x, i) => {
            const parsed = item(x, `${key}[${i}]`);
            const id = JSON.stringify(parsed);
            if (seen.has(id)) throw new ConfigError(`${key}[${i}]`, x, `each entry once (it is listed twice)`);
            seen.add(id);
            return parsed;
        });
    };
}

const accountId = text((s) => (rules.isAccountId(s) ? undefined : `${rules.accountIdRule} (quote it in YAML so leading zeros survive)`));
const region = text((s) => (rules.isRegion(s) ? undefined : rules.regionRule));
const roleName = text((s) => (rules.isRoleName(s) ? undefined : rules.roleNameRule));

const targetKeys = ["accountId", "regions", "roleName", "readOnlyRoleName"];

const target: Parser<Target> = (value, key) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ConfigError(key, value, "an object { accountId, regions, roleName?, readOnlyRoleName? }");
    }
    const record = value as Record<string, unknown>;
    for (const k of Object.keys(record)) {
        if (!targetKeys.includes(k))
            throw new ConfigError(`${key}.${k}`, record[k], `not a target field; did you mean ${closest(k, targetKeys)}? Allowed: ${targetKeys.join(", ")}`);
    }
    if (record.accountId === undefined) throw new ConfigError(`${key}.accountId`, undefined, `required: ${rules.accountIdRule}`);
    const regions = list(region)(record.regions ?? [], `${key}.regions`);
    if (regions.length === 0) throw new ConfigError(`${key}.regions`, record.regions, "at least one Region");
    const parsed: Target = { accountId: accountId(record.accountId, `${key}.accountId`), regions };
    if (record.roleName !== undefined) parsed.roleName = roleName(record.roleName, `${key}.roleName`);
    if (record.readOnlyRoleName !== undefined) parsed.readOnlyRoleName = roleName(record.readOnlyRoleName, `${key}.readOnlyRoleName`);
    return parsed;
};

const targets: Parser<Target[]> = (value, key) => {
    const v = fromJsonString(value);
    if (!Array.isArray(v)) throw new ConfigError(key, value, "a list of { accountId, regions, roleName?, readOnlyRoleName? }");
    const parsed = v.map((t, i) => target(t, `${key}[${i}]`));
    const seen = new Map<string, number>();
    parsed.forEach((t, i) => {
        for (const r of t.regions) {
            const id = `${t.accountId}/${r}`;
            const first = seen.get(id);
            if (first !== undefined) {
                throw new ConfigError(
                    `${key}[${i}]`,
                    v[i],
                    `account ${t.accountId} Region ${r} is already a target in ${key}[${first}]; each account and Region once`,
                );
            }
            seen.set(id, i);
        }
    });
    return parsed;
};

/** One parser per config key: the README's configuration tables (the preferences and the organization keys). */
const parsers: { [K in keyof Settings]-?: Parser<Settings[K]> } = {
    s3Logging: boolean,
    s3BucketName: text((s) => (s === "" ? undefined : rules.s3BucketNameProblem(s))),
    s3KeyPrefix: text(rules.s3KeyPrefixProblem),
    s3EncryptionEnabled: boolean,
    cwLogging: boolean,
    createCWLogGroup: boolean,
    cwLogGroupName: text((s) =>
        s === "" ? "a log group name; to log to S3 only, or not at all, set cwLogging to false instead" : rules.logGroupNameProblem(s),
    ),
    cwEncryptionEnabled: boolean,
    cwStreamingEnabled: boolean,
    sessionDataEncryption: boolean,
    runAsEnabled: boolean,
    runAsDefaultUser: text((s) => (s === "" || rules.isLinuxUserName(s) ? undefined : rules.linuxUserNameRule)),
    idleSessionTimeout: integer(1, 60, " (minutes)"),
    maxSessionDuration: integer(1, 1440, " (minutes)"),
    winShellProfile: text(),
    linuxShellProfile: text(),
    sessionDataKeyArn: text((s) =>
        rules.isKmsKeyArnTemplate(s)
            ? undefined
            : "a KMS key ARN: arn:<partition>:kms:<region>:<account>:key/<key-id>, where <region> and <account> may be {region} and {accountId}",
    ),
    kmsKeyRotation: boolean,
    logRetentionInDays: (value, key) => {
        const n = integer(0, Number.MAX_SAFE_INTEGER)(value, key);
        if (!rules.logRetentionDays.includes(n)) {
            throw new ConfigError(key, value, `one of the retention periods CloudWatch Logs accepts: ${rules.logRetentionDays.join(", ")} (0 = never expire)`);
        }
        return n;
    },
    instancePolicy: boolean,
    instanceRoleNames: list(roleName),
    onDelete: oneOf(onDeleteValues),
    keepDocumentVersions: integer(0, rules.maxDocumentVersions, ` (0 keeps all; SSM keeps at most ${rules.maxDocumentVersions} versions of a document)`),
    deployment: oneOf(deploymentValues),
    takeOver: boolean,
    targets,
    readOnlyRoleName: roleName,
    organizationalUnitIds: list(
        text((s) => (rules.isOrganizationalUnitId(s) ? undefined : "an organizational unit ID (ou-xxxx-xxxxxxxx) or root ID (r-xxxx)")),
    ),
    regions: list(region),
    excludeAccounts: list(accountId),
    excludeRegions: list(region),
    stackSetName: text((s) => (/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(s) ? undefined : "a StackSet name: a letter, then up to 127 letters, digits and hyphens")),
    stackSetCallAs: oneOf(stackSetCallAsValues),
    stackSetMaxConcurrentPercentage: integer(1, 100, " (percent)"),
    stackSetFailureTolerancePercentage: integer(0, 100, " (percent)"),
};

export const knownKeys: readonly string[] = Object.keys(parsers);

const defaults: Settings = { ...defaultPreferences, ...defaultOrganizationSettings, targets: [] };

/**
 * Parses and validates the `sessionManager` namespace. `raw` maps key names (without the
 * namespace) to what Pulumi config holds. Throws ConfigErrors listing every problem, so
 * nothing reaches AWS until the whole configuration is valid.
 */
export function parseSettings(raw: Record<string, unknown>): Settings {
    const errors: ConfigError[] = [];
    const settings: Settings = { ...defaults };
    const assign = settings as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(raw)) {
        const parser = (parsers as Record<string, Parser<unknown> | undefined>)[key];
        if (!parser) {
            errors.push(new ConfigError(key, value, `unknown key; did you mean sessionManager:${closest(key, [...knownKeys])}?`));
            continue;
        }
        if (value === undefined || value === null) continue;
        try {
            assign[key] = parser(value, key);
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            errors.push(err);
        }
    }
    if (errors.length === 0) errors.push(...crossFieldErrors(settings));
    if (errors.length > 0) throw new ConfigErrors(errors);
    return withReadOnlyRoles(settings);
}

/** Each target's read-only role: its own, else the top-level readOnlyRoleName. Resolved once, here. */
function withReadOnlyRoles(settings: Settings): Settings {
    const fallback = settings.readOnlyRoleName;
    if (fallback === undefined) return settings;
    return { ...settings, targets: settings.targets.map((t) => (t.readOnlyRoleName === undefined ? { ...t, readOnlyRoleName: fallback } : t)) };
}

/** Rules that relate two keys; checked once every key is valid on its own. */
function crossFieldErrors(s: Settings): ConfigError[] {
    const errors: ConfigError[] = [];
    if (s.s3Logging && s.s3BucketName === "") {
        errors.push(new ConfigError("s3BucketName", s.s3BucketName, "required when s3Logging is true: the bucket session logs go to"));
    }
    if (s.runAsEnabled && s.runAsDefaultUser === "") {
        errors.push(new ConfigError("runAsDefaultUser", s.runAsDefaultUser, `required when runAsEnabled is true: ${rules.linuxUserNameRule}`));
    }
    for (const [i, t] of s.targets.entries()) {
        const readOnly = t.readOnlyRoleName ?? s.readOnlyRoleName;
        if (readOnly !== undefined && readOnly === t.roleName) {
            errors.push(
                new ConfigError(
                    `targets[${i}].readOnlyRoleName`,
                    readOnly,
                    `a role other than the write role roleName (${t.roleName}): a read-only run must not be able to write; leave readOnlyRoleName unset to read with roleName`,
                ),
            );
        }
    }
    if (s.idleSessionTimeout > s.maxSessionDuration) {
        errors.push(new ConfigError("idleSessionTimeout", s.idleSessionTimeout, `at most maxSessionDuration (${s.maxSessionDuration} minutes)`));
    }
    const noOrganizationalUnits = s.deployment === "stackset" ? organizationalUnitsProblem(s) : undefined;
    if (noOrganizationalUnits) errors.push(noOrganizationalUnits);
    const profileProblem = shellProfileProblem(s);
    if (profileProblem) errors.push(profileProblem);
    return errors;
}

/** A StackSet deploys to OUs: without one it has nowhere to go (parseSettings, and core/stackSet.ts's planStackSet). */
export function organizationalUnitsProblem(s: Pick<Settings, "organizationalUnitIds">): ConfigError | undefined {
    if (s.organizationalUnitIds.length > 0) return undefined;
    return new ConfigError("organizationalUnitIds", s.organizationalUnitIds, "at least one OU or root ID when deployment is stackset");
}

/** Shell profiles are the only unbounded text in the document: they must leave it under SSM's size limit. */
function shellProfileProblem(s: Settings): ConfigError | undefined {
    // Measure with the longest values the other inputs can take (a key ARN, a 12-digit account).
    const longest = desiredDocument(s, {
        accountId: "000000000000",
        region: "ap-southeast-5",
        kmsKeyId: `arn:aws-us-gov:kms:ap-southeast-5:000000000000:key/${"0".repeat(36)}`,
    });
    const bytes = Buffer.byteLength(JSON.stringify(longest), "utf8");
    if (bytes <= maxDocumentContentBytes) return undefined;
    const key = Buffer.byteLength(s.linuxShellProfile) >= Buffer.byteLength(s.winShellProfile) ? "linuxShellProfile" : "winShellProfile";
    const value = s[key];
    return new ConfigError(
        key,
        value,
        `the shell profiles make the document ${bytes} bytes; SSM documents are limited to ${maxDocumentContentBytes} bytes (profile is ${Buffer.byteLength(value)} bytes)`,
    );
}
