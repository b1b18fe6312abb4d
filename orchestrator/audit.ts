/**
 * `npm run org -- audit`: what the live Session document of every target holds, against what
 * the config (with its overrides) wants there. Read calls only, through each target's read-only
 * role; no Pulumi state and no engine, so it audits direct, loop and StackSet deployments alike,
 * and accounts nothing manages yet. The report is orchestrator/auditReport.ts.
 *
 * `auditTargets` is the reusable part: given the settings and the targets, it returns one
 * finding per account and Region.
 */
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { ConfigError, ConfigErrors, preferencesFor } from "../core/config";
import { mapBounded } from "../core/concurrency";
import { desiredDocument } from "../core/document";
import { fieldDifferences } from "../core/fieldChanges";
import { sessionDataKeyParameterName } from "../core/names";
import { selectsByOrganizationalUnit, Sources } from "../core/overrides";
import { partitionOf, roleArn } from "../core/partition";
import { resolveKeyArnTemplate } from "../core/rules";
import { defaultDocumentName, Preferences, roleNameFor, Settings } from "../core/settings";
import { planStackSet, stackSetOwner } from "../core/stackSet";
import { readDefault, readTags } from "../providers/documentOperations";
import { discoverOrganization, OrganizationAccounts, parentsOfAccounts } from "../providers/organization";
import { connect } from "../providers/sessionDocumentProvider";
import type { OrgConfig } from "./orgConfig";
import { ProgressListener, silentProgress } from "./progress";
import { AuditStatus } from "./result";
import { deriveTargets, Shard, shardOf } from "./targets";

export type { AuditStatus } from "./result";
export { auditStatuses } from "./result";

/** One account and Region to audit, the role to read it through, and where the account sits. */
export interface AuditTarget {
    accountId: string;
    region: string;
    /** The role assumed to read (the read-only role, else the write role); none means the credentials this runs with. */
    roleName?: string;
    /** The OUs and root above the account: needed when an override selects by OU. */
    parents?: string[];
}

/** One field of the document that differs: wanted (the config, overrides applied) against found (the live default version). */
export interface AuditField {
    field: string;
    wanted: unknown;
    found: unknown;
}

export interface AuditFinding {
    accountId: string;
    region: string;
    status: AuditStatus;
    /** Which document preference came from which override (by name); empty when none applies. */
    sources: Sources;
    /** The fields that differ (drifted, and owned by another when its content differs too). */
    fields?: AuditField[];
    /** The document's owner tag, when it has one. */
    owner?: string;
    /** Why a target is unreachable, or what owns it. */
    reason?: string;
    /** The live default version read. */
    documentVersion?: string;
    durationMs?: number;
}

export interface AuditTargetsOptions {
    /** Targets read at once. */
    parallel: number;
    /**
     * Owner tag values that count as this configuration's own, for a target: `*` matches any run
     * of characters. A document tagged with anything else is owned by another; one without an
     * owner tag is judged on its content alone.
     */
    owners: (target: AuditTarget) => readonly string[];
    progress?: ProgressListener;
    /** Default SSM-SessionManagerRunShell. */
    documentName?: string;
}

/** A target's label in progress lines and reports. */
export function auditLabel(target: { accountId: string; region: string }): string {
    return `${target.accountId}/${target.region}`;
}

/** Whether `owner` matches one of the patterns (`*`: any run of characters, the rest literal). */
export function ownerMatches(owner: string, patterns: readonly string[]): boolean {
    return patterns.some((pattern) => {
        const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`, "u");
        return re.test(owner);
    });
}

function escapeRegExp(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The owner tags this configuration's deployments write on a target's document: the loop's
 * stacks `<project>/<prefix>.<account>` and `<project>/<prefix>.<account>.<region>` (either
 * granularity, so a regroup under way is not flagged), or for `deployment: stackset` any of the
 * project's StackSet stacks (`<project>/<stack>:stackset`); then each `--owner` pattern, with
 * `{accountId}` and `{region}` replaced by the target's.
 */
export function ownerPatterns(
    settings: Pick<Settings, "deployment">,
    options: { project: string; stackPrefix: string; extra: readonly string[] },
): (target: AuditTarget) => string[] {
    return (target) => {
        const own =
            settings.deployment === "stackset"
                ? [stackSetOwner(options.project, "*")]
                : [
                      `${options.project}/${options.stackPrefix}.${target.accountId}`,
                      `${options.project}/${options.stackPrefix}.${target.accountId}.${target.region}`,
                  ];
        return [...own, ...options.extra.map((p) => resolveKeyArnTemplate(p, target))];
    };
}

/**
 * Every target's wanted preferences, resolved before any AWS call: two overrides of one priority
 * setting one key, or a merged result that breaks a rule, fail the audit here, naming each.
 */
export function auditPreferences<P extends Preferences>(
    settings: P & Pick<Settings, "overrides">,
    targets: readonly AuditTarget[],
): { preferences: P; sources: Sources }[] {
    const errors: ConfigError[] = [];
    const resolved = targets.map((t) => {
        try {
            return preferencesFor(settings, { accountId: t.accountId, region: t.region, parents: t.parents });
        } catch (err) {
            if (!(err instanceof ConfigErrors)) throw err;
            errors.push(...err.errors);
            return { preferences: settings, sources: {} };
        }
    });
    if (errors.length > 0) throw new ConfigErrors(errors);
    return resolved;
}

/** The key ID the document should name when the program makes the session-data key: the one its key-ID parameter holds. */
async function createdKeyId(client: SSMClient): Promise<string | undefined> {
    try {
        const { Parameter } = await client.send(new GetParameterCommand({ Name: sessionDataKeyParameterName }));
        return Parameter?.Value;
    } catch (err) {
        if ((err as Error).name === "ParameterNotFound") return undefined;
        throw err;
    }
}

/** What the document's kmsKeyId should be, and whether it must be read from the key-ID parameter. */
function wantedKeyId(preferences: Preferences, target: AuditTarget): { keyId: string } | { fromParameter: true } {
    if (!preferences.sessionDataEncryption) return { keyId: "" };
    if (preferences.sessionDataKeyArn) return { keyId: resolveKeyArnTemplate(preferences.sessionDataKeyArn, target) };
    return { fromParameter: true };
}

/** Shown as the wanted kmsKeyId when the key-ID parameter the program writes is not there. */
export const noKeyIdParameter = `(the ID in ${sessionDataKeyParameterName}: no such parameter)`;

/** Why a target could not be read, in words that say what to check. */
export function unreachableReason(err: unknown, target: AuditTarget, stage: "access" | "read"): string {
    const error = err as { name?: string; message?: string; code?: string; $metadata?: unknown };
    const text = error.message ?? String(err);
    const arn = target.roleName ? roleArn(partitionOf(target.region), target.accountId, target.roleName) : undefined;
    if (/Could not load credentials|CredentialsProviderError/i.test(`${error.name} ${text}`)) {
        return "no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";
    }
    if (/Refusing to touch/.test(text)) return text.replace(/^Refusing to touch the Session document: /, "");
    const network = /ECONNRESET|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EPIPE|socket hang up|TimeoutError|timed out/i.test(`${error.name} ${error.code} ${text}`);
    if (network)
        return `the ${stage === "access" ? "STS" : "SSM"} endpoint in ${target.region} did not answer (${text}): is the Region enabled in account ${target.accountId}?`;
    if (/UnrecognizedClientException|InvalidClientTokenId|security token included in the request is invalid/i.test(`${error.name} ${text}`)) {
        return `${text}: the Region ${target.region} is probably not enabled in account ${target.accountId} (opt-in Regions reject credentials until enabled)`;
    }
    if (stage === "access" && arn)
        return `cannot assume ${arn}: ${text}. The role must exist in account ${target.accountId} and trust the credentials this runs with`;
    if (/AccessDenied|not authorized/i.test(`${error.name} ${text}`)) {
        return `access denied reading the document: ${text}. The role needs the audit's read permissions (docs/audit.md)`;
    }
    return `${error.name && error.name !== "Error" ? `${error.name}: ` : ""}${text}`;
}

/** One target: read the live default version and its tags, and judge them against the wanted content. */
async function auditOne(
    target: AuditTarget,
    resolved: { preferences: Preferences; sources: Sources },
    options: AuditTargetsOptions,
    documentName: string,
): Promise<AuditFinding> {
    const base = { accountId: target.accountId, region: target.region, sources: resolved.sources };
    const arn = target.roleName ? roleArn(partitionOf(target.region), target.accountId, target.roleName) : undefined;
    let client: SSMClient;
    try {
        client = await connect({ accountId: target.accountId, region: target.region, roleArn: arn });
    } catch (err) {
        return { ...base, status: "unreachable", reason: unreachableReason(err, target, "access") };
    }
    try {
        const live = await readDefault(client, documentName);
        if (!live) return { ...base, status: "missing", reason: `no ${documentName} document: Session Manager uses AWS's defaults here` };
        const tags = await readTags(client, documentName);
        const key = wantedKeyId(resolved.preferences, target);
        const keyId = "keyId" in key ? key.keyId : ((await createdKeyId(client)) ?? noKeyIdParameter);
        const wanted = desiredDocument(resolved.preferences, { accountId: target.accountId, region: target.region, kmsKeyId: keyId });
        const fields = fieldDifferences(wanted, live.content);
        const found = { ...base, documentVersion: live.version, ...(tags.owner !== undefined ? { owner: tags.owner } : {}) };
        if (tags.owner !== undefined && !ownerMatches(tags.owner, options.owners(target))) {
            return {
                ...found,
                status: "owned by another",
                ...(fields.length > 0 ? { fields } : {}),
                reason: `owner tag "${tags.owner}" is not one this config's deployments write (${options.owners(target).join(", ")})`,
            };
        }
        return fields.length > 0 ? { ...found, status: "drifted", fields } : { ...found, status: "compliant" };
    } catch (err) {
        return { ...base, status: "unreachable", reason: unreachableReason(err, target, "read") };
    } finally {
        client.destroy();
    }
}

/**
 * The audit of `targets`: one finding per target, in the targets' order, at most
 * `options.parallel` read at once. Each role is assumed once and its session shared by every
 * target reached through it (the document provider's checked sessions); SDK clients retry
 * throttling adaptively. Throws ConfigErrors, before any AWS call, when a target's overrides
 * conflict; an AWS failure never throws: it is that target's `unreachable` finding.
 */
export async function auditTargets(settings: Settings, targets: readonly AuditTarget[], options: AuditTargetsOptions): Promise<AuditFinding[]> {
    const resolved = auditPreferences(settings, targets);
    const progress = options.progress ?? silentProgress;
    const documentName = options.documentName ?? defaultDocumentName;
    return mapBounded(targets, options.parallel, async (target, i) => {
        const started = Date.now();
        progress.update(auditLabel(target), "running");
        const finding = await auditOne(target, resolved[i], options, documentName);
        finding.durationMs = Date.now() - started;
        progress.update(auditLabel(target), finding.status, finding.reason && finding.status === "unreachable" ? finding.reason : "");
        return finding;
    });
}

/** Where discovery runs: the starting credentials, in the partition's Organizations Region. */
export type OrganizationsFor = () => OrganizationsClient;

/**
 * The targets the config derives, one per account and Region: for `deployment: direct`, the
 * explicit targets and the accounts under `organizationalUnitIds` in `regions` (as `npm run org`
 * derives them); for `deployment: stackset`, every account under the OUs in the StackSet's
 * Regions. Exclusions and the shard apply to both. Organizations is asked only when OUs are
 * configured or an override selects by OU (then for the OUs above each account too).
 */
export async function deriveAuditTargets(
    org: Pick<OrgConfig, "settings" | "region">,
    options: { roleName: string; shard?: Shard },
    organizations: OrganizationsFor,
): Promise<AuditTarget[]> {
    const { settings } = org;
    const needParents = selectsByOrganizationalUnit(settings.overrides);
    let client: OrganizationsClient | undefined;
    const organizationsClient = () => (client ??= organizations());
    try {
        const discovery: OrganizationAccounts =
            settings.organizationalUnitIds.length > 0
                ? await discoverOrganization(organizationsClient(), settings.organizationalUnitIds, { ancestors: needParents })
                : { accounts: [], parents: new Map() };
        // The OUs above every account an override may select: those discovery walked, the explicit targets' asked of Organizations.
        const parents = needParents
            ? await parentsOfAccounts(
                  organizationsClient(),
                  [...discovery.accounts, ...(settings.deployment === "stackset" ? [] : settings.targets.map((t) => t.accountId))],
                  discovery.parents,
              )
            : undefined;
        let targets: AuditTarget[];
        if (settings.deployment === "stackset") {
            let regions: string[];
            try {
                regions = planStackSet(settings, org.region).regions;
            } catch (err) {
                if (err instanceof ConfigError) throw new ConfigErrors([err]);
                throw err;
            }
            const excluded = new Set(settings.excludeAccounts);
            const role = settings.readOnlyRoleName ?? options.roleName;
            targets = discovery.accounts
                .filter((a) => !excluded.has(a) && (!options.shard || shardOf(a, options.shard.count) === options.shard.index))
                .flatMap((accountId) => regions.map((region) => ({ accountId, region, roleName: role })));
        } else {
            targets = deriveTargets(
                { ...settings, stackGranularity: "accountRegion" },
                {
                    prefix: "audit",
                    discoveredAccounts: discovery.accounts,
                    discoveredRoleName: options.roleName,
                    defaultRegion: org.region,
                    shard: options.shard,
                    parents,
                },
            ).map((t) => {
                const roleName = roleNameFor(t, "read");
                return { accountId: t.accountId, region: t.region, ...(roleName ? { roleName } : {}) };
            });
        }
        if (parents) for (const t of targets) t.parents = parents.get(t.accountId) ?? [];
        return targets;
    } finally {
        client?.destroy();
    }
}
