/**
 * `npm run org -- apply-overrides` and `npm run org -- repair`, for a `deployment: stackset`
 * config: the StackSet's stack instances, beside what `pulumi up` makes (the StackSet, its
 * template and one stack instance resource per Region over the OUs).
 *
 * - apply-overrides: the overrides as StackSet instance parameter overrides of the one template
 *   (core/stackSet.ts stackSetOverrideGroups), changing only the instances whose overrides
 *   differ (overrideUpdates).
 * - repair: a new RepairToken on exactly the listed instances, their overrides kept (repairPlan):
 *   CloudFormation updates their stacks, and the custom resource writes the wanted document.
 *
 * Both find the accounts under the OUs, and the OUs above them, with Organizations read calls
 * (providers/organization.ts), when there are overrides.
 */
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { ConfigError, ConfigErrors } from "../core/config";
import { describeSources } from "../core/overrides";
import { overrideUpdates, planStackSet, repairPlan, StackInstance, StackInstancesUpdate, StackSetOverrideGroup, StackSetPlan } from "../core/stackSet";
import { Settings } from "../core/settings";
import { OperationOptions, overrideGroups, readInstanceOverrides, updateStackInstances } from "../providers/stackSetInstances";
import { StackSetCommandOptions } from "./cli";
import { loadOrgConfig, OrgConfigError } from "./orgConfig";
import { exitCodes } from "./result";
import { organizationsRegion } from "./targets";

export interface StackSetClients {
    cloudFormation: CloudFormationClient;
    organizations: OrganizationsClient;
}

export interface StackSetCommandIo {
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
    env: NodeJS.ProcessEnv;
}

/** What the command did, for --json and tests. */
export interface StackSetCommandResult {
    exitCode: number;
    stackSet?: string;
    groups?: StackSetOverrideGroup[];
    updates?: (StackInstancesUpdate & { operationId?: string; status?: string })[];
}

/** A repair token that changes each run: `repair-` and the time to the second, as the RepairToken parameter allows. */
export function freshRepairToken(now = new Date()): string {
    return `repair-${now
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z")}`;
}

/** How the compliance report ends for one stack instance (its `AuditFinding`), as far as a repair reads it. */
export interface FindingStatus {
    accountId: string;
    region: string;
    status: string;
}

/**
 * The findings a repair puts back: documents edited (drifted) or deleted (missing). A document
 * another stack owns is left to it, and an unreachable one cannot be judged.
 */
export function instancesToRepair(findings: readonly FindingStatus[]): StackInstance[] {
    return findings.filter((f) => f.status === "drifted" || f.status === "missing").map(({ accountId, region }) => ({ accountId, region }));
}

export async function runStackSetCommand(
    options: StackSetCommandOptions,
    io: StackSetCommandIo,
    clients?: Partial<StackSetClients>,
    operation: OperationOptions = {},
): Promise<StackSetCommandResult> {
    const fail = (message: string): StackSetCommandResult => {
        io.stderr.write(`error: ${message}\n`);
        return { exitCode: exitCodes.failed };
    };
    let settings: Settings;
    let plan: StackSetPlan;
    try {
        const config = loadOrgConfig(options.configFile, { stackSet: true });
        settings = config.settings;
        if (settings.deployment !== "stackset") {
            return fail(
                `${options.command} is for a deployment: stackset config; ${config.file} deploys directly, where npm run org -- up puts back what drifted and applies overrides per target`,
            );
        }
        plan = planStackSet(settings, config.region ?? io.env.AWS_REGION);
    } catch (err) {
        if (err instanceof OrgConfigError || err instanceof ConfigErrors || err instanceof ConfigError) return fail(err.message);
        throw err;
    }
    // The StackSet is administered in the first of its Regions' partition, from the account `pulumi up` ran in.
    const region = io.env.AWS_REGION ?? plan.regions[0];
    const cloudFormation = clients?.cloudFormation ?? new CloudFormationClient({ region });
    const organizations = clients?.organizations ?? new OrganizationsClient({ region: organizationsRegion(region) });
    const log = (line: string) => io.stderr.write(`${line}\n`);
    try {
        const groups = await overrideGroups(settings, plan, organizations);
        let updates: StackInstancesUpdate[];
        if (options.command === "repair") {
            const token = options.token ?? freshRepairToken();
            updates = repairPlan(settings, plan, groups, options.instances, token);
            log(`StackSet ${plan.name}: repairing ${options.instances.length} stack instance(s) with RepairToken ${token}`);
        } else {
            for (const g of groups) log(`StackSet ${plan.name}: ${g.accounts.join(", ")} in ${g.regions.join(", ")}: ${describeSources(g.sources)}`);
            updates = overrideUpdates(groups, await readInstanceOverrides(cloudFormation, plan));
            if (updates.length === 0) log(`StackSet ${plan.name}: every stack instance has its overrides; nothing to change`);
        }
        const done = await updateStackInstances(cloudFormation, plan, updates, { log, ...operation });
        const result: StackSetCommandResult = {
            exitCode: exitCodes.ok,
            stackSet: plan.name,
            groups,
            updates: done.map((d) => ({ ...d.update, operationId: d.operationId, status: d.status })),
        };
        if (options.json) io.stdout.write(`${JSON.stringify({ command: options.command, ...result }, null, 2)}\n`);
        else io.stdout.write(`${options.command}: ${done.length} UpdateStackInstances operation(s) on StackSet ${plan.name} succeeded\n`);
        return result;
    } catch (err) {
        if (err instanceof ConfigErrors || err instanceof ConfigError) return fail(err.message);
        return fail(`${options.command} stopped: ${(err as Error).message}`);
    }
}
