// The program's body: a stack's validated settings deployed to every target (direct) or as
// a StackSet. index.ts runs it with the settings it read as it loaded; `npm run org` runs it
// inline, through the Automation API, for each target's stack (orchestrator/program.ts).
// The layers and the path of a setting to SSM: docs/architecture.md.
import * as pulumi from "@pulumi/pulumi";
import { missingRegionMessage, planTargets } from "../core/plan";
import { Settings, TargetRegion } from "../core/settings";
import { currentRegion } from "../core/stackConfig";
import { deployPlannedTarget } from "./preferences";

/** What `targets` reports for each account and Region, keyed `<accountId>/<region>`. */
interface TargetOutputs {
    documentVersion: pulumi.Output<string>;
    sessionDataKeyId?: pulumi.Output<string>;
    logGroupName?: pulumi.Output<string>;
    instancePolicyArn?: pulumi.Output<string>;
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

interface StackSetModule {
    deployStackSet(settings: Settings): Record<string, unknown> | void | Promise<Record<string, unknown> | void>;
}

export async function deployStack(settings: Settings): Promise<Record<string, unknown>> {
    if (settings.deployment === "stackset") {
        // Required here so that direct deployments never load (or need) the StackSet code.
        const { deployStackSet } = require("./stackSetPreferences") as StackSetModule;
        return { ...((await deployStackSet(settings)) ?? {}) };
    }

    if (settings.organizationalUnitIds.length > 0) {
        pulumi.log.warn(
            "sessionManager:organizationalUnitIds is not expanded by a direct deployment: only `targets` are deployed here (`npm run org` discovers accounts; deployment: stackset uses the OUs)",
        );
    }
    const plans = planTargets(settings, settings.targets.length === 0 ? await currentTarget() : undefined);
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
        };
    }
    return { targets };
}
