import { closest, distance } from "fastest-levenshtein";
import * as f from "./fieldRules";
import { describeValue, InvalidValue, relatedFieldProblems, Rule } from "./fieldRules";
import { desiredDocument, maxDocumentContentBytes } from "./document";
import {
    defaultDocumentName,
    defaultOrganizationSettings,
    defaultPreferences,
    Guardrail,
    LogArchive,
    OperatorPolicy,
    Override,
    Preferences,
    Settings,
    Target,
} from "./settings";
import * as rules from "./rules";
import { configNamespace } from "./stackConfig";
import { archiveRegionProblem, guardrailContent, guardrailExceptions, guardrailPolicy, guardrailTargetIds } from "./landingZone";
import { partitionOf } from "./partition";
import { overridableKeys, overrideKey, overrideSelectorFields, Placement, resolveOverrides, Sources } from "./overrides";

/** A configuration error a user caused: names the key (in the sessionManager namespace), the value given and what is allowed. */
export class ConfigError extends InvalidValue {
    constructor(key: string, value: unknown, allowed: string) {
        super(key, value, allowed);
        this.message = `sessionManager:${key}: ${describeValue(value)} is not valid: ${allowed}`;
        this.name = "ConfigError";
    }

    static of(err: InvalidValue): ConfigError {
        return err instanceof ConfigError ? err : new ConfigError(err.key, err.value, err.allowed);
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
        ...settings.overrides.flatMap((o, i) => o.regions.map((r, j): [string, string] => [`overrides[${i}].regions[${j}]`, r])),
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

const targetKeys = ["accountId", "regions", "roleName", "readOnlyRoleName"];

const target: Rule<Target> = (value, key) => {
    const record = f.knownFields(value, key, targetKeys, "{ accountId, regions, roleName?, readOnlyRoleName? }");
    if (record.accountId === undefined) throw new ConfigError(`${key}.accountId`, undefined, `required: ${rules.accountIdRule}`);
    const regions = f.list(f.region)(record.regions ?? [], `${key}.regions`);
    if (regions.length === 0) throw new ConfigError(`${key}.regions`, record.regions, "at least one Region");
    const parsed: Target = { accountId: f.accountId(record.accountId, `${key}.accountId`), regions };
    if (record.roleName !== undefined) parsed.roleName = f.roleName(record.roleName, `${key}.roleName`);
    if (record.readOnlyRoleName !== undefined) parsed.readOnlyRoleName = f.roleName(record.readOnlyRoleName, `${key}.readOnlyRoleName`);
    return parsed;
};

const targets: Rule<Target[]> = (value, key) => {
    const v = f.fromJsonString(value);
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

const logArchiveFields = ["accountId", "organizationId", "regions", "bucketName", "roleName", "readOnlyRoleName", "create", "kmsKeyArn", "retentionInDays"];

/** roleName and readOnlyRoleName of an object key: each a role name, and never the same role. */
function roleNamesOf(r: Record<string, unknown>, key: string): { roleName?: string; readOnlyRoleName?: string } {
    const roles: { roleName?: string; readOnlyRoleName?: string } = {};
    if (r.roleName !== undefined) roles.roleName = f.roleName(r.roleName, `${key}.roleName`);
    if (r.readOnlyRoleName !== undefined) roles.readOnlyRoleName = f.roleName(r.readOnlyRoleName, `${key}.readOnlyRoleName`);
    if (roles.readOnlyRoleName !== undefined && roles.readOnlyRoleName === roles.roleName) {
        throw new ConfigError(`${key}.readOnlyRoleName`, roles.readOnlyRoleName, `a role other than ${key}.roleName: a preview must not be able to write`);
    }
    return roles;
}

/** Days a created log archive keeps session logs unless told otherwise. */
export const defaultArchiveRetentionInDays = 365;

/** `false` turns an optional part off, as leaving it out does (the commented example sets every key). */
function isOff(value: unknown): boolean {
    return value === false || value === "false";
}

const logArchive: Rule<LogArchive | undefined> = (value, key) => {
    if (isOff(value)) return undefined;
    const r = f.knownFields(f.fromJsonString(value), key, logArchiveFields, `{ ${logArchiveFields.join(", ")} } (or false for none)`);
    for (const required of ["accountId", "organizationId", "regions", "bucketName"]) {
        if (r[required] === undefined) throw new ConfigError(`${key}.${required}`, undefined, "required");
    }
    const regions = f.list(f.region)(r.regions, `${key}.regions`);
    const bucketName = f.bucketNameTemplate(r.bucketName, `${key}.bucketName`);
    if (regions.length === 0) throw new ConfigError(`${key}.regions`, r.regions, "at least one Region: where the bucket is");
    if (!bucketName.includes("{region}") && regions.length > 1) {
        throw new ConfigError(
            `${key}.regions`,
            r.regions,
            "one Region for one bucket; for a bucket per Region put {region} in logArchive.bucketName (an instance without internet reaches S3 in its own Region only)",
        );
    }
    const parsed: LogArchive = {
        accountId: f.accountId(r.accountId, `${key}.accountId`),
        organizationId: f.organizationId(r.organizationId, `${key}.organizationId`),
        regions,
        bucketName,
        create: f.withDefault(f.boolean, true)(r.create, `${key}.create`),
        retentionInDays: f.withDefault(f.archiveRetentionInDays, defaultArchiveRetentionInDays)(r.retentionInDays, `${key}.retentionInDays`),
    };
    Object.assign(parsed, roleNamesOf(r, key));
    if (r.kmsKeyArn !== undefined) {
        if (parsed.create) {
            throw new ConfigError(`${key}.kmsKeyArn`, r.kmsKeyArn, "only with logArchive.create: false (a created archive makes its own key)");
        }
        parsed.kmsKeyArn = f.kmsKeyArnTemplate(r.kmsKeyArn, `${key}.kmsKeyArn`);
    }
    return parsed;
};

const operatorPolicy: Rule<OperatorPolicy | undefined> = (value, key) => {
    if (isOff(value)) return undefined;
    const v = f.fromJsonString(value);
    // `operatorPolicy: true` is the policy attached to no role (a permission set or a person attaches it by name).
    if (v === true || v === "true") return { roleNames: [] };
    const r = f.knownFields(v, key, ["roleNames", "instanceTag"], "{ roleNames?, instanceTag? } (or true, or false for none)");
    const parsed: OperatorPolicy = { roleNames: f.withDefault(f.list(f.roleName), [])(r.roleNames, `${key}.roleNames`) };
    if (r.instanceTag !== undefined) parsed.instanceTag = f.instanceTag(r.instanceTag, `${key}.instanceTag`);
    return parsed;
};

const guardrail: Rule<Guardrail | undefined> = (value, key) => {
    if (isOff(value)) return undefined;
    const v = f.fromJsonString(value);
    if (v === true || v === "true") return { targetIds: [], exceptRoleNames: [] };
    const r = f.knownFields(
        v,
        key,
        ["targetIds", "accountId", "roleName", "readOnlyRoleName", "exceptRoleNames"],
        "{ targetIds?, accountId?, roleName?, readOnlyRoleName?, exceptRoleNames? } (or true, or false for none)",
    );
    const parsed: Guardrail = {
        targetIds: f.withDefault(f.list(f.organizationalUnitId), [])(r.targetIds, `${key}.targetIds`),
        exceptRoleNames: f.withDefault(f.list(f.roleName), [])(r.exceptRoleNames, `${key}.exceptRoleNames`),
    };
    if (r.accountId !== undefined) parsed.accountId = f.accountId(r.accountId, `${key}.accountId`);
    for (const role of ["roleName", "readOnlyRoleName"]) {
        if (r[role] !== undefined && parsed.accountId === undefined) {
            throw new ConfigError(`${key}.${role}`, r[role], `only with ${key}.accountId: the account whose role it is`);
        }
    }
    return Object.assign(parsed, roleNamesOf(r, key));
};

/** Preference keys an override cannot set, and why: they decide which resources exist, the same in every target. */
function notOverridable(key: string): string | undefined {
    if ((overridableKeys as readonly string[]).includes(key) || !(key in defaultPreferences)) return undefined;
    return (
        `not a key an override can set: overrides change what the document says (${overridableKeys.join(", ")}); ` +
        `${key} decides which resources every target gets, so set it for all, or deploy those targets from a second stack`
    );
}

/**
 * An override as parseSettings returns it, with its preferences under `set` (the components take
 * parsed settings and check them again), as one object with the preference keys beside the selectors.
 */
function flattenedOverride(v: unknown, key: string): unknown {
    if (!f.isPlainObject(v) || v.set === undefined) return v;
    const { set, ...rest } = v;
    if (!f.isPlainObject(set)) throw new ConfigError(`${key}.set`, set, "an object of the preference keys the override sets");
    for (const k of Object.keys(set)) {
        if (k in rest) throw new ConfigError(`${key}.set.${k}`, set[k], `set once: ${key}.${k} sets it too`);
    }
    return { ...rest, ...set };
}

const overrideNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const overrideFields = [...overrideSelectorFields, ...overridableKeys];

const override: Rule<Override> = (value, key) => {
    const v = flattenedOverride(f.fromJsonString(value), key);
    if (f.isPlainObject(v)) {
        for (const k of Object.keys(v)) {
            const why = notOverridable(k);
            if (why) throw new ConfigError(`${key}.${k}`, v[k], why);
        }
    }
    const r = f.knownFields(v, key, overrideFields, `{ name, accountIds?, organizationalUnitIds?, regions?, priority?, and the preference keys it sets }`);
    if (typeof r.name !== "string" || !overrideNamePattern.test(r.name)) {
        throw new ConfigError(
            `${key}.name`,
            r.name,
            "required: 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit (previews and reports show it)",
        );
    }
    const parsed: Override = {
        name: r.name,
        priority: f.withDefault(f.integer(0, 1000), 0)(r.priority, `${key}.priority`),
        accountIds: f.withDefault(f.list(f.accountId), [])(r.accountIds, `${key}.accountIds`),
        organizationalUnitIds: f.withDefault(f.list(f.organizationalUnitId), [])(r.organizationalUnitIds, `${key}.organizationalUnitIds`),
        regions: f.withDefault(f.list(f.region), [])(r.regions, `${key}.regions`),
        set: {},
    };
    if (parsed.accountIds.length + parsed.organizationalUnitIds.length + parsed.regions.length === 0) {
        throw new ConfigError(
            key,
            value,
            "at least one of accountIds, organizationalUnitIds and regions: an override for every target is the base setting itself",
        );
    }
    const set = parsed.set as Record<string, unknown>;
    for (const field of overridableKeys) {
        if (r[field] === undefined || r[field] === null) continue;
        set[field] = (f.documentPreferenceRules[field] as Rule<unknown>)(r[field], `${key}.${field}`);
    }
    if (Object.keys(set).length === 0) throw new ConfigError(key, value, `at least one preference to set: ${overridableKeys.join(", ")}`);
    return parsed;
};

const overrides: Rule<Override[]> = (value, key) => {
    const v = f.fromJsonString(value);
    if (!Array.isArray(v)) throw new ConfigError(key, value, "a list of { name, accountIds?, organizationalUnitIds?, regions?, priority?, preference keys }");
    const parsed = v.map((o, i) => override(o, `${key}[${i}]`));
    const names = new Map<string, number>();
    parsed.forEach((o, i) => {
        const first = names.get(o.name);
        if (first !== undefined) throw new ConfigError(`${key}[${i}].name`, o.name, `a name no other override has (${key}[${first}] is ${o.name} too)`);
        names.set(o.name, i);
    });
    return parsed;
};

/** One rule per config key (core/fieldRules.ts): the README's configuration tables (the preferences and the organization keys). */
const parsers: { [K in keyof Settings]-?: Rule<Settings[K]> } = {
    ...f.documentPreferenceRules,
    cwLogging: f.boolean,
    createCWLogGroup: f.boolean,
    cwLogGroupName: f.cwLogGroupName,
    sessionDataEncryption: f.boolean,
    sessionDataKeyArn: f.kmsKeyArnTemplate,
    kmsKeyRotation: f.boolean,
    logRetentionInDays: f.logRetentionInDays,
    instancePolicy: f.boolean,
    instanceRoleNames: f.list(f.roleName),
    onDelete: f.onDelete,
    keepDocumentVersions: f.keepDocumentVersions,
    deployment: f.deployment,
    takeOver: f.takeOver,
    logArchive,
    operatorPolicy,
    guardrail,
    sharedResources: f.sharedResources,
    overrides,
    targets,
    readOnlyRoleName: f.roleName,
    organizationalUnitIds: f.list(f.organizationalUnitId),
    regions: f.list(f.region),
    excludeAccounts: f.list(f.accountId),
    excludeRegions: f.list(f.region),
    stackGranularity: f.stackGranularity,
    stackSetName: f.stackSetName,
    stackSetCallAs: f.stackSetCallAs,
    stackSetMaxConcurrentPercentage: f.percentage(1),
    stackSetFailureTolerancePercentage: f.percentage(0),
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
        const parser = (parsers as Record<string, Rule<unknown> | undefined>)[key];
        if (!parser) {
            errors.push(new ConfigError(key, value, `unknown key; did you mean sessionManager:${closest(key, [...knownKeys])}?`));
            continue;
        }
        if (value === undefined || value === null) continue;
        try {
            assign[key] = parser(value, key);
        } catch (err) {
            if (!(err instanceof InvalidValue)) throw err;
            errors.push(ConfigError.of(err));
        }
    }
    if (errors.length === 0 && settings.logArchive) errors.push(...archiveLoggingErrors(settings, raw));
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

/**
 * With a log archive, session logs go to its bucket: s3Logging is on (an explicit false is a
 * contradiction), s3BucketName comes from logArchive.bucketName (a `{region}` in it is resolved
 * per target, core/document.ts), and a bucket of its own is a contradiction too.
 */
function archiveLoggingErrors(settings: Settings, raw: Record<string, unknown>): ConfigError[] {
    const errors: ConfigError[] = [];
    if (raw.s3Logging !== undefined && raw.s3Logging !== null && !settings.s3Logging) {
        errors.push(new ConfigError("s3Logging", raw.s3Logging, "true or unset when logArchive is set: session logs go to the log archive's bucket"));
    }
    if (settings.s3BucketName !== "") {
        errors.push(new ConfigError("s3BucketName", settings.s3BucketName, "unset when logArchive is set: session logs go to logArchive.bucketName"));
    }
    if (errors.length === 0) Object.assign(settings, { s3Logging: true, s3BucketName: settings.logArchive!.bucketName });
    return errors;
}

/** Landing-zone rules: every Region has an archive bucket, the guardrail excepts every writer and fits AWS's limit. */
function landingZoneErrors(s: Settings): ConfigError[] {
    const errors: ConfigError[] = [];
    if (s.logArchive) {
        const archive = s.logArchive;
        const named: [string, string][] = [
            ...s.targets.flatMap((t, i) => t.regions.map((r, j): [string, string] => [`targets[${i}].regions[${j}]`, r])),
            ...s.regions.map((r, j): [string, string] => [`regions[${j}]`, r]),
        ];
        for (const [key, region] of named) {
            const problem = archiveRegionProblem(archive, region);
            if (problem) errors.push(new ConfigError(key, region, problem));
        }
    }
    if (s.guardrail) {
        if (guardrailTargetIds(s).length === 0) {
            errors.push(
                new ConfigError("guardrail.targetIds", s.guardrail.targetIds, "at least one OU or root ID to attach it to (or set organizationalUnitIds)"),
            );
        }
        if (s.deployment === "direct") {
            s.targets.forEach((t, i) => {
                if (!t.roleName) {
                    errors.push(
                        new ConfigError(
                            `targets[${i}].roleName`,
                            undefined,
                            "required with guardrail: the guardrail excepts the roles that write the document by name, and ambient credentials have none to except",
                        ),
                    );
                }
            });
        }
        const { problem } = guardrailContent(guardrailPolicy(partitionOf(s.regions[0] ?? "us-east-1"), defaultDocumentName, guardrailExceptions(s)));
        if (problem) errors.push(new ConfigError("guardrail", s.guardrail, problem));
    }
    if (s.sharedResources === "only" && !s.logArchive?.create && !s.guardrail) {
        errors.push(
            new ConfigError(
                "sharedResources",
                s.sharedResources,
                "here or elsewhere: only makes the log archive (logArchive.create) and the guardrail, and neither is set",
            ),
        );
    }
    return errors;
}

/** Rules that relate two keys; checked once every key is valid on its own. */
function crossFieldErrors(s: Settings): ConfigError[] {
    const errors: ConfigError[] = relatedFieldProblems(s).map(ConfigError.of);
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
    const noOrganizationalUnits = s.deployment === "stackset" ? organizationalUnitsProblem(s) : undefined;
    if (noOrganizationalUnits) errors.push(noOrganizationalUnits);
    const profileProblem = shellProfileProblem(s);
    if (profileProblem) errors.push(profileProblem);
    errors.push(...landingZoneErrors(s));
    errors.push(...overrideErrors(s));
    return errors;
}

/** Keys a log archive decides: an override cannot send one target's logs elsewhere. */
const archiveDecidedKeys = ["s3Logging", "s3BucketName", "s3KeyPrefix"] as const;

/**
 * Each override on the base settings alone: cross-field rules it breaks by itself are found as
 * the configuration is parsed; those of several overrides together, per target (preferencesFor).
 */
function overrideErrors(s: Settings): ConfigError[] {
    const errors: ConfigError[] = [];
    s.overrides.forEach((o, i) => {
        if (s.logArchive) {
            for (const key of archiveDecidedKeys) {
                if (o.set[key] !== undefined) {
                    errors.push(
                        new ConfigError(
                            overrideKey(i, key),
                            o.set[key],
                            "unset when logArchive is set: every target's session logs go to the log archive, under its s3KeyPrefix",
                        ),
                    );
                }
            }
        }
        const merged = { ...s, ...o.set };
        const name = (field: string) => (field in o.set ? overrideKey(i, field) : field);
        errors.push(...relatedFieldProblems(merged, name).map(ConfigError.of));
        const profile = shellProfileProblem(merged);
        if (profile) errors.push(new ConfigError(name(profile.key), profile.value, profile.allowed));
    });
    return errors;
}

/** A target's preferences, with the overrides that select it applied, and which override each changed field came from. */
export interface TargetPreferences<P extends Preferences = Settings> {
    preferences: P;
    sources: Sources;
}

/**
 * The preferences of one target: the base settings with the overrides that select it applied.
 * Throws ConfigErrors, naming both overrides and the target, when two of one priority set one
 * key, or when the merged result breaks a cross-field rule: callers resolve every target before
 * anything changes.
 */
export function preferencesFor<P extends Preferences>(settings: P & Pick<Settings, "overrides">, placement: Placement): TargetPreferences<P> {
    if (settings.overrides.length === 0) return { preferences: settings, sources: {} };
    const { preferences, sources, problems } = resolveOverrides(settings, settings.overrides, placement);
    const errors = problems.map(ConfigError.of);
    // Any overridden text (a profile, a longer bucket name or prefix) may push the document over the limit.
    const profile = Object.keys(sources).length > 0 ? shellProfileProblem(preferences) : undefined;
    if (profile) errors.push(new ConfigError(`${profile.key} (for account ${placement.accountId} Region ${placement.region})`, profile.value, profile.allowed));
    if (errors.length > 0) throw new ConfigErrors(errors);
    return { preferences, sources };
}

/** A StackSet deploys to OUs: without one it has nowhere to go (parseSettings, and core/stackSet.ts's planStackSet). */
export function organizationalUnitsProblem(s: Pick<Settings, "organizationalUnitIds">): ConfigError | undefined {
    if (s.organizationalUnitIds.length > 0) return undefined;
    return new ConfigError("organizationalUnitIds", s.organizationalUnitIds, "at least one OU or root ID when deployment is stackset");
}

/** Shell profiles are the only unbounded text in the document: they must leave it under SSM's size limit. */
function shellProfileProblem(s: Preferences): ConfigError | undefined {
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
