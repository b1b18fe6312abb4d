/**
 * What `deployment: stackset` asks CloudFormation StackSets to do: where the stack
 * instances go and how fast the rollout runs. The template itself is core/template.ts.
 */
import { ConfigError, organizationalUnitsProblem } from "./config";
import { Settings, StackSetCallAs } from "./settings";

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
