/**
 * What `deployment: stackset` asks CloudFormation StackSets to do: where the stack
 * instances go and how fast the rollout runs. The template itself is core/template.ts.
 */
import { ConfigError, ConfigErrors, organizationalUnitsProblem, preferencesFor } from "./config";
import { overrideKey, Placement, Sources } from "./overrides";
import { DocumentPreferences, Settings, StackSetCallAs } from "./settings";
import {
    maxParameterValueBytes,
    ParameterName,
    parameterisedKeys,
    parameterNames,
    parameterValue,
    PreferenceParameter,
    repairTokenParameter,
} from "./template";

export interface StackSetOperationPreferences {
    /** Every Region at once: StackSets' default is one Region after another. */
    regionConcurrencyType: "PARALLEL";
    /** Percent of a Region's accounts deployed at the same time, 1 to 100. */
    maxConcurrentPercentage: number;
    /** Percent of a Region's accounts that may fail before StackSets stops there, 0 to 100. */
    failureTolerancePercentage: number;
}

/**
 * For stack instance operations. By default (STRICT_FAILURE_TOLERANCE) StackSets runs at
 * most failure tolerance + 1 accounts at once, whatever the concurrency says; SOFT lets
 * the configured concurrency apply and still stops once the tolerance is exceeded.
 */
export interface StackInstanceOperationPreferences extends StackSetOperationPreferences {
    concurrencyMode: "SOFT_FAILURE_TOLERANCE";
}

export interface StackSetDeploymentTargets {
    organizationalUnitIds: string[];
    /** Only with `accountFilterType: DIFFERENCE`: accounts of those OUs left out. */
    accounts?: string[];
    accountFilterType?: "DIFFERENCE";
}

export interface StackSetPlan {
    name: string;
    callAs: StackSetCallAs;
    /** For template updates. @pulumi/aws 7 cannot set a concurrency mode on the StackSet itself. */
    operationPreferences: StackSetOperationPreferences;
    instanceOperationPreferences: StackInstanceOperationPreferences;
    deploymentTargets: StackSetDeploymentTargets;
    /** One stack instance resource per Region, each covering every account of the OUs. */
    regions: string[];
}

/**
 * The StackSet rollout for validated settings. `currentRegion` (aws:region) stands in
 * when no `regions` are configured, as it does for direct mode's default target.
 */
export function planStackSet(settings: Settings, currentRegion?: string): StackSetPlan {
    const noOrganizationalUnits = organizationalUnitsProblem(settings);
    if (noOrganizationalUnits) throw noOrganizationalUnits;
    const configured = settings.regions.length > 0 ? settings.regions : currentRegion ? [currentRegion] : [];
    if (configured.length === 0) throw new ConfigError("regions", settings.regions, "at least one Region, or aws:region set, when deployment is stackset");
    const regions = [...new Set(configured)].filter((r) => !settings.excludeRegions.includes(r));
    if (regions.length === 0)
        throw new ConfigError("excludeRegions", settings.excludeRegions, `fewer Regions than all of ${configured.join(", ")}: nothing would be deployed`);
    const deploymentTargets: StackSetDeploymentTargets = { organizationalUnitIds: [...settings.organizationalUnitIds] };
    if (settings.excludeAccounts.length > 0) {
        deploymentTargets.accounts = [...settings.excludeAccounts];
        deploymentTargets.accountFilterType = "DIFFERENCE";
    }
    const operationPreferences: StackSetOperationPreferences = {
        regionConcurrencyType: "PARALLEL",
        maxConcurrentPercentage: settings.stackSetMaxConcurrentPercentage,
        failureTolerancePercentage: settings.stackSetFailureTolerancePercentage,
    };
    return {
        name: settings.stackSetName,
        callAs: settings.stackSetCallAs,
        operationPreferences,
        instanceOperationPreferences: { ...operationPreferences, concurrencyMode: "SOFT_FAILURE_TOLERANCE" },
        deploymentTargets,
        regions,
    };
}

/**
 * The owner tag a StackSet's documents carry. It differs from a direct deployment's
 * `<project>/<stack>`, so that a stack moving from one mode to the other cannot take the
 * other mode's document for its own: the owner check stops it instead.
 */
export function stackSetOwner(project: string, stack: string): string {
    return `${project}/${stack}:stackset`;
}

/** A configuration key that `deployment: stackset` cannot honour, and why. */
export interface UnusedKey {
    key: keyof Settings;
    why: string;
}

/** The keys set in `settings` that a StackSet deployment does not use: each is warned about, never silently ignored. */
export function stackSetUnusedKeys(settings: Settings): UnusedKey[] {
    const unused: UnusedKey[] = [];
    if (settings.targets.length > 0) {
        unused.push({
            key: "targets",
            why: "the StackSet deploys to every account of organizationalUnitIds (less excludeAccounts) in regions; targets and their roleName are for deployment: direct and npm run org",
        });
    }
    return unused;
}

/** Stack instances that share one set of instance parameter overrides: every account of `accounts` in every Region of `regions`. */
export interface StackSetOverrideGroup {
    accounts: string[];
    regions: string[];
    /** The template parameters these instances override, as CloudFormation takes them. */
    parameters: Partial<Record<PreferenceParameter, string>>;
    /** Which override (by name) each overridden preference comes from. */
    sources: Sources;
}

/**
 * The instance parameter overrides the StackSet needs for the overrides: each stack instance
 * (each account of `placements`, minus excludeAccounts, in each of `regions`) gets its merged
 * overrides as parameters of the one template (core/template.ts), and instances with the same
 * overrides are grouped into as few accounts x Regions rectangles as their Regions allow, since
 * UpdateStackInstances takes every listed account in every listed Region. An instance no
 * override selects is in no group: it keeps the StackSet's values. Throws ConfigErrors, before
 * anything changes, when overrides conflict for an instance (preferencesFor), or set a
 * preference the template cannot take as a parameter (a shell profile longer than 4096 bytes).
 */
/** Where an account sits: its ID and the OUs and root above it (providers/organization.ts discoverOrganization). */
export type AccountPlacement = Omit<Placement, "region">;

export function stackSetOverrideGroups(settings: Settings, placements: readonly AccountPlacement[], regions: readonly string[]): StackSetOverrideGroup[] {
    if (settings.overrides.length === 0) return [];
    const parameterised = new Set(parameterisedKeys(settings));
    const errors: ConfigError[] = [];
    // Per distinct overrides: each account and the Regions where it has them.
    const byOverrides = new Map<string, { parameters: StackSetOverrideGroup["parameters"]; sources: Sources; regionsOf: Map<string, string[]> }>();
    const accounts = [...new Map(placements.map((p) => [p.accountId, p])).values()].filter((p) => !settings.excludeAccounts.includes(p.accountId));
    for (const placement of accounts) {
        for (const region of regions) {
            let resolved: ReturnType<typeof preferencesFor<Settings>>;
            try {
                resolved = preferencesFor(settings, { ...placement, region });
            } catch (err) {
                if (err instanceof ConfigErrors) errors.push(...err.errors);
                else throw err;
                continue;
            }
            const keys = (Object.keys(resolved.sources) as (keyof DocumentPreferences)[]).sort();
            if (keys.length === 0) continue;
            const parameters: StackSetOverrideGroup["parameters"] = {};
            for (const key of keys) {
                const value = parameterValue(key, resolved.preferences[key]);
                if (!parameterised.has(key) || Buffer.byteLength(value) > maxParameterValueBytes) {
                    const index = settings.overrides.findIndex((o) => o.name === resolved.sources[key]);
                    errors.push(
                        new ConfigError(
                            overrideKey(index, key),
                            resolved.preferences[key],
                            `at most ${maxParameterValueBytes} bytes in deployment: stackset, where an override is a StackSet instance parameter (and so is the base ${key} it overrides)`,
                        ),
                    );
                    continue;
                }
                parameters[parameterNames[key]] = value;
            }
            const id = JSON.stringify([parameters, resolved.sources]);
            const group = byOverrides.get(id) ?? { parameters, sources: resolved.sources, regionsOf: new Map() };
            byOverrides.set(id, group);
            group.regionsOf.set(placement.accountId, [...(group.regionsOf.get(placement.accountId) ?? []), region]);
        }
    }
    if (errors.length > 0) throw new ConfigErrors(dedupe(errors));
    const groups: StackSetOverrideGroup[] = [];
    for (const { parameters, sources, regionsOf } of byOverrides.values()) {
        // Accounts with the same Regions make one rectangle.
        const byRegions = new Map<string, string[]>();
        for (const [account, accountRegions] of regionsOf) {
            const key = [...accountRegions].sort().join(",");
            byRegions.set(key, [...(byRegions.get(key) ?? []), account]);
        }
        for (const [key, groupAccounts] of byRegions) groups.push({ accounts: groupAccounts.sort(), regions: key.split(","), parameters, sources });
    }
    return groups;
}

function dedupe(errors: ConfigError[]): ConfigError[] {
    const seen = new Set<string>();
    return errors.filter((e) => !seen.has(e.message) && (seen.add(e.message), true));
}

/** A stack instance: one account in one Region. */
export interface StackInstance {
    accountId: string;
    region: string;
}

/** One UpdateStackInstances call: these parameter overrides for every account of `accounts` in every Region of `regions`. */
export interface StackInstancesUpdate {
    accounts: string[];
    regions: string[];
    /** The instances' complete overrides: CloudFormation replaces their overrides with this list. */
    parameterOverrides: Partial<Record<ParameterName, string>>;
}

/** What a repair token may be: the RepairToken parameter's AllowedPattern. */
export const repairTokenPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The UpdateStackInstances calls that repair exactly the `drifted` stack instances: each gets
 * its own overrides (so that they are kept: the list replaces an instance's overrides) and a
 * RepairToken it never had, which makes its custom resource write the wanted document again.
 * No other instance is named. Throws when an instance is not one of the StackSet's (a Region it
 * does not deploy to, an excluded account) or the token is not one the template allows.
 */
export function repairPlan(
    settings: Settings,
    plan: StackSetPlan,
    groups: readonly StackSetOverrideGroup[],
    drifted: readonly StackInstance[],
    token: string,
): StackInstancesUpdate[] {
    if (!repairTokenPattern.test(token)) throw new ConfigError("repairToken", token, `1 to 128 letters, digits and ._:-`);
    const notOurs = drifted.filter((i) => !plan.regions.includes(i.region) || settings.excludeAccounts.includes(i.accountId));
    if (notOurs.length > 0) {
        throw new ConfigError(
            "repair",
            notOurs.map((i) => `${i.accountId}/${i.region}`),
            `stack instances of StackSet ${plan.name}: accounts of organizationalUnitIds less excludeAccounts, in ${plan.regions.join(", ")}`,
        );
    }
    const pairs = drifted.map((instance) => ({ instance, parameterOverrides: { ...groupParametersFor(groups, instance), [repairTokenParameter]: token } }));
    return rectangles(pairs);
}

/** Instances with the same overrides, as few accounts x Regions rectangles as their Regions allow (each instance once). */
function rectangles(pairs: { instance: StackInstance; parameterOverrides: StackInstancesUpdate["parameterOverrides"] }[]): StackInstancesUpdate[] {
    const byOverrides = new Map<string, { parameterOverrides: StackInstancesUpdate["parameterOverrides"]; regionsOf: Map<string, Set<string>> }>();
    for (const { instance, parameterOverrides } of pairs) {
        const id = JSON.stringify(Object.entries(parameterOverrides).sort());
        const entry = byOverrides.get(id) ?? { parameterOverrides, regionsOf: new Map<string, Set<string>>() };
        byOverrides.set(id, entry);
        entry.regionsOf.set(instance.accountId, (entry.regionsOf.get(instance.accountId) ?? new Set()).add(instance.region));
    }
    const updates: StackInstancesUpdate[] = [];
    for (const { parameterOverrides, regionsOf } of byOverrides.values()) {
        const byRegions = new Map<string, string[]>();
        for (const [account, regions] of regionsOf) {
            const key = [...regions].sort().join(",");
            byRegions.set(key, [...(byRegions.get(key) ?? []), account]);
        }
        for (const [key, accounts] of byRegions) updates.push({ accounts: accounts.sort(), regions: key.split(","), parameterOverrides });
    }
    return updates;
}

/** A stack instance as CloudFormation has it, with its parameter overrides now. */
export interface InstanceOverrides extends StackInstance {
    overrides: Partial<Record<ParameterName, string>>;
}

/** The overrides one instance should have: its group's parameters, if any. */
export function groupParametersFor(groups: readonly StackSetOverrideGroup[], instance: StackInstance): StackSetOverrideGroup["parameters"] {
    return groups.find((g) => g.accounts.includes(instance.accountId) && g.regions.includes(instance.region))?.parameters ?? {};
}

/**
 * The UpdateStackInstances calls that give each existing stack instance the overrides its
 * group says, and only those whose overrides differ: an instance an override no longer selects
 * gets an empty list (back to the StackSet's values). A RepairToken an instance has is kept,
 * so that applying the overrides does not make every repaired instance rewrite its document
 * again. Instances the groups name that CloudFormation does not have yet (an account that has
 * just joined) are left for the next run, once the StackSet has made them.
 */
export function overrideUpdates(groups: readonly StackSetOverrideGroup[], current: readonly InstanceOverrides[]): StackInstancesUpdate[] {
    const sorted = (o: object) => JSON.stringify(Object.entries(o).sort());
    const pairs = current.flatMap((instance) => {
        const token = instance.overrides[repairTokenParameter];
        const wanted = { ...groupParametersFor(groups, instance), ...(token !== undefined ? { [repairTokenParameter]: token } : {}) };
        return sorted(wanted) === sorted(instance.overrides) ? [] : [{ instance, parameterOverrides: wanted }];
    });
    return rectangles(pairs);
}
