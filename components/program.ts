// The program's body: a stack's validated settings deployed to every target (direct) or as
// a StackSet. index.ts runs it with the settings it read as it loaded; `npm run org` runs it
// inline, through the Automation API, for each target's stack (orchestrator/program.ts).
// The layers and the path of a setting to SSM: docs/architecture.md.
import * as pulumi from "@pulumi/pulumi";
import { missingRegionMessage, planTargets, TargetPlan } from "../core/plan";
import { organizationsRegionOf, partitionOf } from "../core/partition";
import { ConfigErrors } from "../core/config";
import { describeSources, selectsByOrganizationalUnit, Sources } from "../core/overrides";
import { Settings, TargetRegion } from "../core/settings";
import type { StackSetOverrideGroup } from "../core/stackSet";
import { currentRegion } from "../core/stackConfig";
import { awsProviderRoleArn, deployPlannedTarget } from "./preferences";

/** What `targets` reports for each account and Region, keyed `<accountId>/<region>`. */
interface TargetOutputs {
    documentVersion: pulumi.Output<string>;
    sessionDataKeyId?: pulumi.Output<string>;
    logGroupName?: pulumi.Output<string>;
    instancePolicyArn?: pulumi.Output<string>;
    /** The preferences an override set for this target, and which. */
    overrides?: Sources;
}

/**
 * The OUs above each target account, when an override selects by OU (else none): asked of AWS
 * Organizations (ListParents, a read) with the credentials running the stack, which must be the
 * management account's or a delegated administrator's.
 */
async function overrideParents(settings: Settings, current: TargetRegion | undefined): Promise<Map<string, string[]> | undefined> {
    if (!selectsByOrganizationalUnit(settings.overrides)) return undefined;
    const accounts = current ? [current.accountId] : settings.targets.map((t) => t.accountId);
    const region = current?.region ?? settings.targets[0]?.regions[0] ?? "us-east-1";
    const { OrganizationsClient }: typeof import("@aws-sdk/client-organizations") = require("@aws-sdk/client-organizations");
    const { parentsOfAccounts }: typeof import("../providers/organization") = require("../providers/organization");
    try {
        return await parentsOfAccounts(new OrganizationsClient({ region: organizationsRegionOf(partitionOf(region)) }), accounts);
    } catch (err) {
        throw new pulumi.RunError(
            `sessionManager:overrides selects by OU, so the OUs above each target account are looked up with organizations:ListParents, which failed: ${(err as Error).message}. ` +
                "Run the stack with the management account's or a delegated administrator's credentials, or select those overrides by accountIds",
        );
    }
}

/** The account the ambient credentials belong to, asked of STS: the aws plugin is not needed for this. */
async function currentTarget(): Promise<TargetRegion> {
    // readStackSettings has checked that there is one.
    const region = currentRegion(pulumi.runtime.allConfig(), process.env);
    if (!region) throw new pulumi.RunError(missingRegionMessage("sessionManager:targets is empty"));
    // Loaded only here: most stacks name their targets, and every engine run loads this program.
    const { callerIdentity }: typeof import("../providers/identity") = require("../providers/identity");
    return { accountId: (await callerIdentity(region)).account, region };
}

/**
 * In StackSet mode, which stack instances the overrides give which parameters, each field naming
 * its override: logged at preview and up, and exported as `overrides`. A conflict fails the run
 * before any resource. The StackSet component's StackSetInstanceOverrides resource sets them on
 * the instances at `up` (providers/stackSetOverridesProvider.ts, docs/stackset.md).
 */
export async function stackSetOverridesPreview(settings: Settings): Promise<StackSetOverrideGroup[] | undefined> {
    if (settings.overrides.length === 0) return undefined;
    const region = currentRegion(pulumi.runtime.allConfig(), process.env);
    const { planStackSet }: typeof import("../core/stackSet") = require("../core/stackSet");
    const plan = planStackSet(settings, region);
    const { OrganizationsClient }: typeof import("@aws-sdk/client-organizations") = require("@aws-sdk/client-organizations");
    const { overrideGroups }: typeof import("../providers/stackSetInstances") = require("../providers/stackSetInstances");
    let groups: StackSetOverrideGroup[];
    try {
        groups = await overrideGroups(settings, plan, new OrganizationsClient({ region: organizationsRegionOf(partitionOf(plan.regions[0])) }));
    } catch (err) {
        if (err instanceof ConfigErrors) throw new pulumi.RunError(err.message);
        throw new pulumi.RunError(
            `sessionManager:overrides in deployment: stackset: the accounts under the OUs, and the OUs above them, are asked of AWS Organizations, which failed: ${(err as Error).message}. ` +
                "Run the stack with the management account's or a delegated administrator's credentials",
        );
    }
    for (const g of groups) pulumi.log.info(`${g.accounts.join(", ")} in ${g.regions.join(", ")}: ${describeSources(g.sources)}`);
    pulumi.log.info(`${groups.length} group(s) of stack instances have overrides: up sets them as StackSet instance parameter overrides`);
    return groups;
}

interface StackSetModule {
    deployStackSet(
        settings: Settings,
        options?: { overrideGroups?: StackSetOverrideGroup[] },
    ): Record<string, unknown> | void | Promise<Record<string, unknown> | void>;
}

export async function deployStack(settings: Settings): Promise<Record<string, unknown>> {
    // Required only when set: most stacks have no landing-zone part, and it loads @pulumi/aws.
    const shared: Record<string, unknown> =
        settings.sharedResources !== "elsewhere" && (settings.logArchive?.create || settings.guardrail)
            ? (require("./landingZone") as typeof import("./landingZone")).deploySharedResources(settings, settings.guardrail ? stackRegion() : undefined)
            : {};
    if (settings.sharedResources === "only") return shared;
    if (settings.deployment === "stackset") {
        // Required here so that direct deployments never load (or need) the StackSet code.
        const { deployStackSet } = require("./stackSetPreferences") as StackSetModule;
        const overrides = await stackSetOverridesPreview(settings);
        return { ...shared, ...((await deployStackSet(settings, { overrideGroups: overrides ?? [] })) ?? {}), ...(overrides ? { overrides } : {}) };
    }

    if (settings.organizationalUnitIds.length > 0) {
        pulumi.log.warn(
            "sessionManager:organizationalUnitIds is not expanded by a direct deployment: only `targets` are deployed here (`npm run org` discovers accounts; deployment: stackset uses the OUs)",
        );
    }
    const current = settings.targets.length === 0 ? await currentTarget() : undefined;
    const plans = planTargetsOrFail(settings, current, await overrideParents(settings, current));
    for (const plan of plans) {
        if (plan.overrides) pulumi.log.info(`${plan.outputKey}: ${describeSources(plan.overrides)}`);
    }
    // At preview nothing else talks to AWS for a document-only target: check now that every
    // account can be reached as the preview's reads will reach it (the read-only role, when
    // there is one: a preview never assumes the write role), so preview fails where they would.
    if (pulumi.runtime.isDryRun()) {
        const { checkAccess, describeAccessProblems }: typeof import("../providers/targetAccess") = require("../providers/targetAccess");
        const problems = await checkAccess(
            plans.map((p) => p.target),
            8,
            ["read"],
        );
        if (problems.length > 0) {
            throw new pulumi.RunError(
                `cannot act in every target account:\n${describeAccessProblems(problems)
                    .map((l) => `  - ${l}`)
                    .join("\n")}`,
            );
        }
    }
    if (plans.length === 0) pulumi.log.warn("every target is excluded by sessionManager:excludeAccounts or excludeRegions: nothing to deploy");
    const targets: Record<string, TargetOutputs> = {};
    for (const plan of plans) {
        const component = deployPlannedTarget(plan);
        targets[plan.outputKey] = {
            documentVersion: component.documentVersion,
            sessionDataKeyId: component.sessionDataKeyId,
            logGroupName: component.logGroupName,
            instancePolicyArn: component.instancePolicyArn,
            ...(plan.overrides ? { overrides: plan.overrides } : {}),
        };
    }
    const operators = settings.operatorPolicy ? deployOperatorPolicies(settings, plans) : undefined;
    return { ...shared, targets, ...(operators ? { operatorPolicies: operators } : {}) };
}

/** The plans, or a configuration error without a stack trace (two overrides of one priority on one target). */
function planTargetsOrFail(...args: Parameters<typeof planTargets>): TargetPlan[] {
    try {
        return planTargets(...args);
    } catch (err) {
        if (err instanceof ConfigErrors) throw new pulumi.RunError(err.message);
        throw err;
    }
}

/** The Region this stack runs in (aws:region or AWS_REGION): the guardrail's, which names none of its own. */
function stackRegion(): string {
    const region = currentRegion(pulumi.runtime.allConfig(), process.env);
    // readStackSettings has checked that there is one (core/plan.ts stackRegionNeed).
    if (!region) throw new pulumi.RunError(missingRegionMessage("sessionManager:guardrail is set"));
    return region;
}

/** One operator policy per target account, covering its Regions; keyed by account ID in the stack output. */
function deployOperatorPolicies(settings: Settings, plans: readonly TargetPlan[]): Record<string, pulumi.Output<string>> {
    const { SessionManagerOperatorPolicy, accountProvider }: typeof import("./landingZone") = require("./landingZone");
    const { operatorPolicyInputs }: typeof import("../core/landingZone") = require("../core/landingZone");
    const arns: Record<string, pulumi.Output<string>> = {};
    for (const [accountId, accountPlans] of plansByAccount(plans)) {
        const first = accountPlans[0];
        const role = awsProviderRoleArn(first, pulumi.runtime.isDryRun());
        const provider = accountProvider(`${accountId}-operator-provider`, accountId, first.target.region, undefined, undefined, role);
        const policy = new SessionManagerOperatorPolicy(
            `${accountId}-operator`,
            {
                policy: operatorPolicyInputs(settings, {
                    partition: partitionOf(first.target.region),
                    accountId,
                    regions: accountPlans.map((p) => p.target.region),
                }),
                roleNames: settings.operatorPolicy?.roleNames ?? [],
            },
            { providers: [provider] },
        );
        arns[accountId] = policy.policyArn;
    }
    return arns;
}

function plansByAccount(plans: readonly TargetPlan[]): Map<string, TargetPlan[]> {
    const byAccount = new Map<string, TargetPlan[]>();
    for (const plan of plans) byAccount.set(plan.target.accountId, [...(byAccount.get(plan.target.accountId) ?? []), plan]);
    return byAccount;
}
