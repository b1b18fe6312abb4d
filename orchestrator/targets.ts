import { createHash } from "node:crypto";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { discoverOrganization } from "../providers/organization";
import { ConfigError, ConfigErrors, preferencesFor } from "../core/config";
import { Sources } from "../core/overrides";
import { organizationsAccessRoleName } from "../core/names";
import { organizationsRegionOf, partitionOf } from "../core/partition";
import { Settings, TargetRegion, targetRegions, withoutExcluded } from "../core/settings";

/** One stack of the rollout: an account and Region, or an account and its Regions, and the stack that owns their preferences. */
export interface OrgTarget {
    accountId: string;
    /** The stack's `aws:region`: its only Region, or the first of `regions`. */
    region: string;
    /** Every Region the stack covers, when it is a stack per account (stackGranularity: account). */
    regions?: string[];
    /** Role the document provider assumes in the account to write; none means the ambient credentials. */
    roleName?: string;
    /** Role read-only runs (preview, drift, refresh) assume in the account; none means roleName. */
    readOnlyRoleName?: string;
    /** `<prefix>.<account>.<region>`, or `<prefix>.<account>` for a stack per account. */
    stackName: string;
    /** The OUs and root above the account, when an override selects by OU (its stack's config then names the account instead). */
    parents?: string[];
    /** By Region: the document preferences an override sets there, and which; absent when none does. */
    overrides?: Record<string, Sources>;
}

/** The Regions a target's stack covers. */
export function regionsOf(target: Pick<OrgTarget, "region" | "regions">): string[] {
    return target.regions ?? [target.region];
}

/** The role AWS Organizations creates in every account it creates: the usual way in for an administrator. */
export const defaultDiscoveredRoleName = organizationsAccessRoleName;

/** `<prefix>.<account>.<region>`, or `<prefix>.<account>` without a Region (a stack per account). */
export function stackNameFor(prefix: string, accountId: string, region?: string): string {
    return region === undefined ? `${prefix}.${accountId}` : `${prefix}.${accountId}.${region}`;
}

/** A stack name of the prefix, read back: its account, and its Region for a stack per account and Region. */
export function parseStackName(prefix: string, stackName: string): { accountId: string; region?: string } | undefined {
    if (!stackName.startsWith(`${prefix}.`)) return undefined;
    const m = /^(\d{12})(?:\.([a-z]{2}(?:-[a-z0-9]+)+))?$/.exec(stackName.slice(prefix.length + 1));
    return m ? { accountId: m[1], ...(m[2] ? { region: m[2] } : {}) } : undefined;
}

/** The shard of `count` an account belongs to, 1 to count: a stable hash of its ID, so adding an account moves no other. */
export function shardOf(accountId: string, count: number): number {
    return (createHash("sha256").update(accountId).digest().readUInt32BE(0) % count) + 1;
}

/** `--shard <k>/<n>`: run only the accounts of shard k of n. */
export interface Shard {
    index: number;
    count: number;
}

/** Pulumi stack names allow letters, digits, `-`, `_` and `.`; the prefix is the only free part. */
export function stackPrefixProblem(prefix: string): string | undefined {
    if (/^[A-Za-z0-9][A-Za-z0-9_.-]{0,60}$/.test(prefix)) return undefined;
    return `--stack-prefix ${JSON.stringify(prefix)} is not valid: 1 to 61 letters, digits, '-', '_' or '.', starting with a letter or digit`;
}

export interface DeriveOptions {
    prefix: string;
    /** Accounts found under `organizationalUnitIds`, in any order. */
    discoveredAccounts: readonly string[];
    /** Role assumed in discovered accounts. */
    discoveredRoleName: string;
    /** The organization config's `aws:region`: the Regions of discovered accounts when `regions` is empty. */
    defaultRegion?: string;
    /** Only the accounts of this shard. */
    shard?: Shard;
    /** The OUs above each account (providers/organization.ts), when an override selects by OU. */
    parents?: ReadonlyMap<string, string[]>;
}

/**
 * The rollout's targets: the explicit `targets` first, in config order, then discovered
 * accounts by account ID, each in every Region of `regions`. An account listed explicitly
 * keeps its own Regions and role even when an OU also holds it. Exclusions apply to both.
 */
export function deriveTargets(settings: Settings, options: DeriveOptions): OrgTarget[] {
    const explicitAccounts = new Set(settings.targets.map((t) => t.accountId));
    const discoveryRegions = settings.regions.length > 0 ? settings.regions : options.defaultRegion ? [options.defaultRegion] : [];
    const discovered = [...new Set(options.discoveredAccounts)]
        .filter((accountId) => !explicitAccounts.has(accountId))
        .sort()
        .flatMap((accountId) =>
            discoveryRegions.map((region): TargetRegion => ({
                accountId,
                region,
                roleName: options.discoveredRoleName,
                readOnlyRoleName: settings.readOnlyRoleName,
            })),
        );
    const { shard } = options;
    const regional = withoutExcluded(settings, [...targetRegions(settings.targets), ...discovered])
        .filter((t) => !shard || shardOf(t.accountId, shard.count) === shard.index)
        .map((t) => {
            const target: OrgTarget = { accountId: t.accountId, region: t.region, stackName: stackNameFor(options.prefix, t.accountId, t.region) };
            if (t.roleName) target.roleName = t.roleName;
            if (t.readOnlyRoleName) target.readOnlyRoleName = t.readOnlyRoleName;
            return target;
        });
    withOverrides(settings, regional, options.parents);
    return settings.stackGranularity === "account" ? byAccount(regional, options.prefix) : regional;
}

/**
 * Each target's overrides, resolved before any stack runs: a conflict between two (or a
 * cross-field rule the merged result breaks) fails the whole rollout, naming every target.
 */
function withOverrides(settings: Settings, targets: OrgTarget[], parents: ReadonlyMap<string, string[]> | undefined): void {
    if (settings.overrides.length === 0) return;
    const errors: ConfigError[] = [];
    for (const t of targets) {
        const accountParents = parents?.get(t.accountId);
        if (accountParents) t.parents = accountParents;
        try {
            const { sources } = preferencesFor(settings, { accountId: t.accountId, region: t.region, parents: accountParents });
            if (Object.keys(sources).length > 0) t.overrides = { [t.region]: sources };
        } catch (err) {
            if (!(err instanceof ConfigErrors)) throw err;
            errors.push(...err.errors);
        }
    }
    if (errors.length > 0) throw new ConfigErrors(errors);
}

/** One target per account, over its Regions in order: the stacks of `stackGranularity: account`. */
export function byAccount(regional: readonly OrgTarget[], prefix: string): OrgTarget[] {
    const accounts = new Map<string, OrgTarget>();
    for (const t of regional) {
        const seen = accounts.get(t.accountId);
        if (!seen) {
            accounts.set(t.accountId, { ...t, regions: [t.region], stackName: stackNameFor(prefix, t.accountId) });
        } else if (seen.roleName !== t.roleName || seen.readOnlyRoleName !== t.readOnlyRoleName) {
            throw new TargetsError(
                `account ${t.accountId} has a different roleName or readOnlyRoleName in ${t.region} than in ${seen.region}: ` +
                    "with sessionManager:stackGranularity account, one stack deploys all its Regions with one pair of roles; " +
                    "give the account one entry in sessionManager:targets, or set stackGranularity: accountRegion",
            );
        } else {
            seen.regions?.push(t.region);
            if (t.overrides) seen.overrides = { ...seen.overrides, ...t.overrides };
        }
    }
    return [...accounts.values()];
}

/** Targets that cannot be made into stacks as the config asks. */
export class TargetsError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TargetsError";
    }
}

/** Why discovery cannot run, e.g. OUs given but no Region to deploy discovered accounts to. */
export function discoveryProblem(settings: Settings, defaultRegion: string | undefined, discoveredRoleName?: string): string | undefined {
    if (settings.organizationalUnitIds.length === 0) return undefined;
    if (discoveredRoleName !== undefined && settings.readOnlyRoleName === discoveredRoleName) {
        return `sessionManager:readOnlyRoleName is ${discoveredRoleName}, the role --role-name makes the write role of accounts found under sessionManager:organizationalUnitIds: name a role that cannot write`;
    }
    if (settings.regions.length === 0 && !defaultRegion) {
        return "sessionManager:regions is empty and aws:region is not set: accounts found under sessionManager:organizationalUnitIds need at least one Region";
    }
    return undefined;
}

/**
 * The ACTIVE accounts anywhere below the given OUs or roots, child OUs included
 * (providers/organization.ts, which also says where each sits).
 */
export async function discoverAccounts(client: OrganizationsClient, parentIds: readonly string[]): Promise<string[]> {
    return (await discoverOrganization(client, parentIds)).accounts;
}

/** Where to call Organizations from, for the organization config's `aws:region` (us-east-1 when unset). */
export function organizationsRegion(region: string | undefined): string {
    return organizationsRegionOf(partitionOf(region ?? "us-east-1"));
}
