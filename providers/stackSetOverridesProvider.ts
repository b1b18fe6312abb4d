/**
 * The StackSet's instance parameter overrides as a resource of `pulumi up`: after the StackSet
 * and its stack instance resources, it gives each existing stack instance the overrides its
 * group says (core/stackSet.ts overrideUpdates), with UpdateStackInstances on exactly the
 * instances whose overrides differ, each operation waited for. Pulumi's own stack instance
 * resources cannot hold overrides for part of an OU-wide instance without a second resource
 * over the same stacks, whose deletion would delete them; this one never creates or deletes an
 * instance.
 *
 * It runs with the credentials of the stack (those that manage the StackSet). A preview only
 * diffs its inputs: it calls nothing. Deleting it (the stack destroyed, or deployment no longer
 * stackset) changes nothing: the StackSet and its instances go with the same stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { overrideUpdates, StackSetOverrideGroup, StackSetPlan } from "../core/stackSet";
import { dynamicProviderKey, sessionDocumentModule } from "../core/names";

/** What the resource holds: the StackSet, where it is administered, and each group of instances' overrides. */
export interface StackSetOverridesInputs {
    /** The Region the StackSet lives in (where `pulumi up` makes it). */
    region: string;
    plan: StackSetPlan;
    groups: StackSetOverrideGroup[];
}

const sorted = (value: unknown) =>
    JSON.stringify(value, (_k, v: unknown) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));

/** Applies the groups: reads every instance's overrides, and updates those that differ. */
async function apply(inputs: StackSetOverridesInputs): Promise<void> {
    // Required here: every Session document's provider process loads this module, and needs no CloudFormation client.
    const { CloudFormationClient }: typeof import("@aws-sdk/client-cloudformation") = require("@aws-sdk/client-cloudformation");
    const { readInstanceOverrides, updateStackInstances }: typeof import("./stackSetInstances") = require("./stackSetInstances");
    const client = new CloudFormationClient({ region: inputs.region, retryMode: "adaptive", maxAttempts: 6 });
    try {
        const updates = overrideUpdates(inputs.groups, await readInstanceOverrides(client, inputs.plan));
        await updateStackInstances(client, inputs.plan, updates, { log: (line) => console.log(line) });
    } finally {
        client.destroy();
    }
}

export const stackSetOverridesProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id, olds: StackSetOverridesInputs, news: StackSetOverridesInputs) {
        // The plan is part of it: a change of the stack instance resources (their OUs, Regions or
        // operation preferences) may have sent CloudFormation empty overrides, so they are applied again.
        const changes =
            sorted({ groups: olds.groups, plan: olds.plan, region: olds.region }) !== sorted({ groups: news.groups, plan: news.plan, region: news.region });
        return { changes, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: StackSetOverridesInputs) {
        await apply(inputs);
        return { id: `${inputs.plan.name}/overrides`, outs: inputs };
    },
    async update(_id, _olds: StackSetOverridesInputs, news: StackSetOverridesInputs) {
        await apply(news);
        return { outs: news };
    },
    async delete() {
        // The StackSet and its instances are deleted with the same stack: nothing to put back.
    },
};

/** The resource type: a dynamic resource of this package, beside the Session document. */
export const stackSetOverridesType = `pulumi-nodejs:dynamic/${sessionDocumentModule}:StackSetInstanceOverrides`;

/**
 * The StackSet's instance parameter overrides (one per StackSet stack): made after the stack
 * instance resources, so that the instances it updates exist.
 */
export class StackSetInstanceOverrides extends pulumi.CustomResource {
    declare public readonly groups: pulumi.Output<StackSetOverrideGroup[]>;

    constructor(
        name: string,
        args: { region: string; plan: StackSetPlan; groups: StackSetOverrideGroup[]; stackSetName: pulumi.Input<string> },
        opts?: pulumi.CustomResourceOptions,
    ) {
        // The StackSet's name as an output, so that the engine orders this after the StackSet.
        const plan = pulumi.output(args.stackSetName).apply((stackSetName) => ({ ...args.plan, name: stackSetName }));
        // Required lazily: providers/engineProvider.ts reads the package's own package.json.
        const { engineProviderText }: typeof import("./engineProvider") = require("./engineProvider");
        super(
            stackSetOverridesType,
            name,
            { region: args.region, plan, groups: args.groups, [dynamicProviderKey]: engineProviderText("stackSetOverridesProvider") },
            opts,
        );
    }
}
