import { landingZoneStackName } from "../core/names";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { parseStackSettings } from "../core/config";
import { fromJsonString, isPlainObject } from "../core/fieldRules";
import { knownRegions } from "../providers/regionCatalogue";
import { Override, Settings } from "../core/settings";
import { overrideApplies } from "../core/overrides";
import { configNamespace } from "../core/stackConfig";
import { OrgTarget, regionsOf } from "./targets";

/** The organization config: a stack-config-shaped YAML file, validated like a stack's. */
export interface OrgConfig {
    file: string;
    settings: Settings;
    /** `sessionManager:*` values as written in the file, without the namespace. */
    raw: Record<string, unknown>;
    /** `aws:region` of the file, if any. */
    region?: string;
}

/** A problem with the organization config file itself (not with one key's value). */
export class OrgConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "OrgConfigError";
    }
}

/**
 * Keys that say where the rollout goes. The orchestrator resolves them into one target per
 * stack, so a per-target stack must not see them (it would fan out again).
 */
const rolloutKeys = new Set([
    "targets",
    "organizationalUnitIds",
    "regions",
    "excludeAccounts",
    "excludeRegions",
    "stackGranularity",
    "stackSetName",
    "stackSetCallAs",
    "stackSetMaxConcurrentPercentage",
    "stackSetFailureTolerancePercentage",
]);

/** How a caller reads the config: the rollout runs stacks, which needs `deployment: direct`; the audit reads any. */
export interface OrgConfigUse {
    /** Accept `deployment: stackset` (the audit reads what a StackSet deployed; it runs no stack). */
    stackSet?: boolean;
}

/** Parses the text of an organization config. Throws OrgConfigError or the parser's ConfigErrors. */
export function parseOrgConfig(text: string, file: string, use: OrgConfigUse = {}): OrgConfig {
    let doc: unknown;
    try {
        doc = yaml.load(text);
    } catch (err) {
        throw new OrgConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
    }
    const config = (doc as { config?: unknown } | null | undefined)?.config;
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new OrgConfigError(`${file}: no \`config:\` section with sessionManager:* keys`);
    }
    const raw: Record<string, unknown> = {};
    let region: string | undefined;
    const prefix = `${configNamespace}:`;
    for (const [key, value] of Object.entries(config as Record<string, unknown>)) {
        if (isSecure(value)) {
            // The value is encrypted with that stack's key, which per-target stacks do not share.
            throw new OrgConfigError(`${file}: ${key} is a secret; the organization config cannot pass secrets to per-target stacks`);
        }
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
        else if (key === "aws:region") region = String(value);
    }
    const settings = parseStackSettings(config as Record<string, unknown>, knownRegions());
    if (settings.deployment === "stackset" && !use.stackSet) {
        throw new OrgConfigError(
            `${file}: sessionManager:deployment is "stackset": that deploys through one stack and CloudFormation StackSets; the orchestrator runs one stack per target, which needs deployment: direct (its audit, repair and apply-overrides commands take a stackset config)`,
        );
    }
    return { file, settings, raw, region };
}

export function loadOrgConfig(file: string, use: OrgConfigUse = {}): OrgConfig {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new OrgConfigError(`cannot read the organization config ${file}: ${(err as Error).message}`);
    }
    return parseOrgConfig(text, file, use);
}

function isSecure(value: unknown): boolean {
    return typeof value === "object" && value !== null && "secure" in value;
}

/**
 * The config of one target's stack: every preference key as the file gave it, `targets`
 * narrowed to this one account and its Region (or Regions, for a stack per account), and `aws:region`. Values are the strings
 * `pulumi config set` would store; the program's parser accepts them.
 */
export function stackConfigFor(org: OrgConfig, target: OrgTarget): Record<string, string> {
    const config: Record<string, string> = { "aws:region": target.region };
    // The log archive and the guardrail are made once, by the landing-zone stack (landingZoneTarget).
    if (makesSharedResources(org.settings)) config[`${configNamespace}:sharedResources`] = "elsewhere";
    for (const [key, value] of Object.entries(org.raw)) {
        if (rolloutKeys.has(key) || value === null || value === undefined) continue;
        if (key === "sharedResources" || key === "overrides") continue;
        config[`${configNamespace}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    const overrides = overridesFor(org.settings.overrides, target);
    if (overrides.length > 0) config[`${configNamespace}:overrides`] = JSON.stringify(overrides);
    const narrowed: Record<string, unknown> = { accountId: target.accountId, regions: regionsOf(target) };
    if (target.roleName) narrowed.roleName = target.roleName;
    if (target.readOnlyRoleName) narrowed.readOnlyRoleName = target.readOnlyRoleName;
    config[`${configNamespace}:targets`] = JSON.stringify([narrowed]);
    return config;
}

/**
 * The overrides that apply to the target's account in any of its Regions, each selecting that
 * account by ID instead of by OU (the stack need not ask Organizations again), with its Regions
 * and everything it sets: the stack resolves them per Region as the rollout did.
 */
function overridesFor(overrides: readonly Override[], target: OrgTarget): Record<string, unknown>[] {
    return overrides
        .filter((o) => regionsOf(target).some((region) => overrideApplies(o, { accountId: target.accountId, region, parents: target.parents })))
        .map((o) => ({
            name: o.name,
            ...(o.priority !== 0 ? { priority: o.priority } : {}),
            accountIds: [target.accountId],
            ...(o.regions.length > 0 ? { regions: o.regions } : {}),
            ...o.set,
        }));
}

/** Whether the configuration makes a log archive or a guardrail: then `npm run org` runs a landing-zone stack. */
export function makesSharedResources(settings: Pick<Settings, "logArchive" | "guardrail">): boolean {
    return Boolean(settings.logArchive?.create || settings.guardrail);
}

/**
 * The landing-zone stack `<prefix>.landing-zone`, which makes the log archive and the guardrail
 * once for the whole rollout, before the targets' stacks (after them on destroy); undefined when
 * the configuration makes neither. Its account is the archive's (else the guardrail's); its roles
 * are in the config, so the target has none.
 */
export function landingZoneTarget(org: OrgConfig, prefix: string): OrgTarget | undefined {
    if (!makesSharedResources(org.settings)) return undefined;
    const accountId = (org.settings.logArchive?.create ? org.settings.logArchive.accountId : undefined) ?? org.settings.guardrail?.accountId ?? "";
    const region = org.region ?? org.settings.logArchive?.regions[0] ?? "";
    return { accountId, region, stackName: landingZoneStackName(prefix) };
}

/**
 * The landing-zone stack's config: every key as the file gave it (the guardrail attaches to the
 * OUs), sharedResources: only, and the role `npm run org` assumes in accounts found under OUs
 * added to the guardrail's exceptions, since that role writes their documents.
 */
export function landingZoneStackConfig(org: OrgConfig, target: OrgTarget, discoveredRoleName: string): Record<string, string> {
    const config: Record<string, string> = { "aws:region": target.region };
    for (const [key, value] of Object.entries(org.raw)) {
        // Overrides shape the targets' documents, which this stack does not make.
        if (value === null || value === undefined || key === "overrides") continue;
        config[`${configNamespace}:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
    }
    config[`${configNamespace}:sharedResources`] = "only";
    const guardrail = org.settings.guardrail;
    if (guardrail && org.settings.organizationalUnitIds.length > 0) {
        const raw = fromJsonString(org.raw.guardrail);
        const given = isPlainObject(raw) ? raw : {};
        config[`${configNamespace}:guardrail`] = JSON.stringify({
            ...given,
            exceptRoleNames: [...new Set([...guardrail.exceptRoleNames, discoveredRoleName])],
        });
    }
    return config;
}

/** The Pulumi project's name (Pulumi.yaml), which starts every owner tag its stacks write. */
export function projectName(projectDir: string): string {
    const file = path.join(projectDir, "Pulumi.yaml");
    let name: unknown;
    try {
        name = (yaml.load(fs.readFileSync(file, "utf8")) as { name?: unknown } | null)?.name;
    } catch (err) {
        throw new OrgConfigError(
            `cannot read the project's name from ${file} (--project-dir names the project whose stacks write the owner tags): ${(err as Error).message}`,
        );
    }
    if (typeof name !== "string" || name === "") throw new OrgConfigError(`${file} has no name: the owner tags its stacks write start with it`);
    return name;
}
