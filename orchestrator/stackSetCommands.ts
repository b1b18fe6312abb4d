/**
 * `npm run org -- apply-overrides` and `npm run org -- repair`, for a `deployment: stackset`
 * config: the StackSet's stack instances, beside what `pulumi up` makes (the StackSet, its
 * template and one stack instance resource per Region over the OUs).
 *
 * - apply-overrides: the overrides as StackSet instance parameter overrides of the one template
 *   (core/stackSet.ts stackSetOverrideGroups), changing only the instances whose overrides
 *   differ (overrideUpdates).
 * - repair: a new RepairToken on exactly the drifted instances, their overrides kept (repairPlan):
 *   CloudFormation updates their stacks, and the custom resource writes the wanted document. The
 *   instances are those listed, or those the compliance report (the audit) finds drifted or missing.
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
import { loadOrgConfig, OrgConfig, OrgConfigError, projectName } from "./orgConfig";
import { auditLabel, AuditFinding, auditTargets, deriveAuditTargets, ownerPatterns } from "./audit";
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

/**
 * The compliance report of every stack instance (orchestrator/audit.ts): each account under the
 * OUs in each of the StackSet's Regions, read through its read-only role.
 */
async function auditStackInstances(
    config: OrgConfig,
    options: StackSetCommandOptions,
    organizations: OrganizationsClient,
    log: (line: string) => void,
): Promise<AuditFinding[]> {
    const targets = await deriveAuditTargets(config, { roleName: options.roleName }, () => organizations);
    const owners = ownerPatterns(config.settings, { project: projectName(options.projectDir), stackPrefix: "", extra: options.owners });
    const findings = await auditTargets(config.settings, targets, { parallel: options.parallel, owners });
    const counts = new Map<string, number>();
    for (const f of findings) counts.set(f.status, (counts.get(f.status) ?? 0) + 1);
    log(`audit: ${findings.length} stack instance(s): ${[...counts].map(([status, n]) => `${n} ${status}`).join(", ")}`);
    return findings;
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
    let config: OrgConfig;
    try {
        config = loadOrgConfig(options.configFile, { stackSet: true });
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
        let unrepaired: AuditFinding[] = [];
        if (options.command === "repair") {
            let instances = options.instances;
            if (instances.length === 0) {
                const findings = await auditStackInstances(config, options, organizations, log);
                instances = instancesToRepair(findings);
                unrepaired = findings.filter((f) => f.status === "unreachable" || f.status === "owned by another");
                for (const f of unrepaired) log(`${auditLabel(f)}: ${f.status}${f.reason ? `: ${f.reason}` : ""}; not repaired`);
                if (instances.length === 0) {
                    log(`StackSet ${plan.name}: no stack instance is drifted or missing; nothing to repair`);
                    const exitCode = unrepaired.length > 0 ? exitCodes.drifted : exitCodes.ok;
                    if (options.json) io.stdout.write(`${JSON.stringify({ command: options.command, exitCode, stackSet: plan.name, updates: [] }, null, 2)}\n`);
                    else io.stdout.write(`${options.command}: nothing to repair on StackSet ${plan.name}\n`);
                    return { exitCode, stackSet: plan.name, groups, updates: [] };
                }
            }
            const token = options.token ?? freshRepairToken();
            updates = repairPlan(settings, plan, groups, instances, token);
            log(`StackSet ${plan.name}: repairing ${instances.length} stack instance(s) (${instances.map(auditLabel).join(", ")}) with RepairToken ${token}`);
        } else {
            for (const g of groups) log(`StackSet ${plan.name}: ${g.accounts.join(", ")} in ${g.regions.join(", ")}: ${describeSources(g.sources)}`);
            updates = overrideUpdates(groups, await readInstanceOverrides(cloudFormation, plan));
            if (updates.length === 0) log(`StackSet ${plan.name}: every stack instance has its overrides; nothing to change`);
        }
        const done = await updateStackInstances(cloudFormation, plan, updates, { log, ...operation });
        const result: StackSetCommandResult = {
            // What could not be read, or belongs to another, is still not as wanted.
            exitCode: unrepaired.length > 0 ? exitCodes.drifted : exitCodes.ok,
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
