/**
 * The StackSet's stack instance operations this program runs itself, beside the StackSet
 * resource: UpdateStackInstances with instance parameter overrides, for the overrides
 * (core/stackSet.ts stackSetOverrideGroups) and for the repair command (repairPlan), each
 * waited for with DescribeStackSetOperation. StackSets runs one operation per StackSet at a
 * time, so the calls go one after another.
 */
import {
    CloudFormationClient,
    DescribeStackInstanceCommand,
    DescribeStackSetOperationCommand,
    ListStackInstancesCommand,
    StackSetOperationStatus,
    UpdateStackInstancesCommand,
} from "@aws-sdk/client-cloudformation";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { selectsByOrganizationalUnit } from "../core/overrides";
import { Settings } from "../core/settings";
import { InstanceOverrides, StackInstance, StackInstancesUpdate, StackSetOverrideGroup, StackSetPlan, stackSetOverrideGroups } from "../core/stackSet";
import { discoverOrganization } from "./organization";

export interface OperationOptions {
    /** Between DescribeStackSetOperation calls. */
    pollMs?: number;
    /** How long one operation may run before this gives up waiting (the operation itself goes on). */
    timeoutMs?: number;
    /** Called as each operation is started and when it ends. */
    log?: (line: string) => void;
}

export interface StackInstancesOperation {
    update: StackInstancesUpdate;
    operationId: string;
    status: string;
}

const finished = new Set<string>([StackSetOperationStatus.SUCCEEDED, StackSetOperationStatus.FAILED, StackSetOperationStatus.STOPPED]);

/**
 * Runs each update as one UpdateStackInstances on exactly its accounts (an INTERSECTION with
 * the StackSet's OUs) and Regions, and waits for it. Its ParameterOverrides list replaces those
 * instances' overrides: an update carries an instance's complete overrides. Throws, naming the
 * operation, when one does not succeed; the ones before it have run.
 */
export async function updateStackInstances(
    client: CloudFormationClient,
    plan: StackSetPlan,
    updates: readonly StackInstancesUpdate[],
    options: OperationOptions = {},
): Promise<StackInstancesOperation[]> {
    const done: StackInstancesOperation[] = [];
    for (const update of updates) {
        const started = await client.send(
            new UpdateStackInstancesCommand({
                StackSetName: plan.name,
                CallAs: plan.callAs,
                DeploymentTargets: {
                    OrganizationalUnitIds: plan.deploymentTargets.organizationalUnitIds,
                    Accounts: update.accounts,
                    AccountFilterType: "INTERSECTION",
                },
                Regions: update.regions,
                ParameterOverrides: Object.entries(update.parameterOverrides).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
                OperationPreferences: {
                    RegionConcurrencyType: plan.instanceOperationPreferences.regionConcurrencyType,
                    MaxConcurrentPercentage: plan.instanceOperationPreferences.maxConcurrentPercentage,
                    FailureTolerancePercentage: plan.instanceOperationPreferences.failureTolerancePercentage,
                    ConcurrencyMode: plan.instanceOperationPreferences.concurrencyMode,
                },
            }),
        );
        const operationId = started.OperationId;
        if (!operationId) throw new Error(`UpdateStackInstances on StackSet ${plan.name} returned no OperationId`);
        options.log?.(`StackSet ${plan.name}: updating ${describe(update)} (operation ${operationId})`);
        const status = await waitForOperation(client, plan, operationId, options);
        options.log?.(`StackSet ${plan.name}: operation ${operationId} ${status}`);
        if (status !== StackSetOperationStatus.SUCCEEDED) {
            throw new Error(`StackSet ${plan.name} operation ${operationId} (${describe(update)}) ended ${status}: see its stack instances' status reasons`);
        }
        done.push({ update, operationId, status });
    }
    return done;
}

function describe(update: StackInstancesUpdate): string {
    const keys = Object.keys(update.parameterOverrides);
    return `accounts ${update.accounts.join(", ")} in ${update.regions.join(", ")} with ${keys.length > 0 ? keys.join(", ") : "no overrides"}`;
}

/** Polls DescribeStackSetOperation until the operation ends, within the time allowed. */
export async function waitForOperation(client: CloudFormationClient, plan: StackSetPlan, operationId: string, options: OperationOptions = {}): Promise<string> {
    const pollMs = options.pollMs ?? 10_000;
    const deadline = Date.now() + (options.timeoutMs ?? 60 * 60_000);
    for (;;) {
        const { StackSetOperation: op } = await client.send(
            new DescribeStackSetOperationCommand({ StackSetName: plan.name, OperationId: operationId, CallAs: plan.callAs }),
        );
        const status = op?.Status ?? "(unknown)";
        if (finished.has(status)) return status;
        if (Date.now() + pollMs > deadline) {
            throw new Error(
                `StackSet ${plan.name} operation ${operationId} still ${status} after ${Math.round((options.timeoutMs ?? 3_600_000) / 1000)} s; it goes on: see it in the console`,
            );
        }
        await new Promise((r) => setTimeout(r, pollMs));
    }
}

/**
 * The StackSet's stack instances and each one's parameter overrides now: ListStackInstances,
 * then DescribeStackInstance per instance (the list does not carry the overrides), a few at a time.
 */
export async function readInstanceOverrides(client: CloudFormationClient, plan: StackSetPlan): Promise<InstanceOverrides[]> {
    const instances: StackInstance[] = [];
    let token: string | undefined;
    do {
        const page = await client.send(new ListStackInstancesCommand({ StackSetName: plan.name, CallAs: plan.callAs, NextToken: token }));
        for (const s of page.Summaries ?? []) if (s.Account && s.Region) instances.push({ accountId: s.Account, region: s.Region });
        token = page.NextToken;
    } while (token);
    const result: InstanceOverrides[] = [];
    const width = 4;
    for (let i = 0; i < instances.length; i += width) {
        const batch = instances.slice(i, i + width);
        const described = await Promise.all(
            batch.map((instance) =>
                client.send(
                    new DescribeStackInstanceCommand({
                        StackSetName: plan.name,
                        StackInstanceAccount: instance.accountId,
                        StackInstanceRegion: instance.region,
                        CallAs: plan.callAs,
                    }),
                ),
            ),
        );
        batch.forEach((instance, j) => {
            const overrides = Object.fromEntries(
                (described[j].StackInstance?.ParameterOverrides ?? []).flatMap((p) => (p.ParameterKey ? [[p.ParameterKey, p.ParameterValue ?? ""]] : [])),
            );
            result.push({ ...instance, overrides });
        });
    }
    return result;
}

/**
 * Each stack instance's overrides as parameters (core/stackSet.ts stackSetOverrideGroups), from
 * where its account sits: the accounts under the StackSet's OUs, and the OUs above them when an
 * override selects by OU (Organizations read calls). None without overrides, and no call.
 */
export async function overrideGroups(settings: Settings, plan: StackSetPlan, organizations: OrganizationsClient): Promise<StackSetOverrideGroup[]> {
    if (settings.overrides.length === 0) return [];
    // Overrides that each name their accounts need no list of the organization: an account they
    // name that is not under the OUs has no stack instance, and the INTERSECTION leaves it out.
    if (settings.overrides.every((o) => o.accountIds.length > 0 && o.organizationalUnitIds.length === 0)) {
        const named = [...new Set(settings.overrides.flatMap((o) => o.accountIds))].sort();
        return stackSetOverrideGroups(
            settings,
            named.map((accountId) => ({ accountId })),
            plan.regions,
        );
    }
    const org = await discoverOrganization(organizations, settings.organizationalUnitIds, { ancestors: selectsByOrganizationalUnit(settings.overrides) });
    const placements = org.accounts.map((accountId) => ({ accountId, parents: org.parents.get(accountId) ?? [] }));
    return stackSetOverrideGroups(settings, placements, plan.regions);
}
