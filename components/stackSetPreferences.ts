import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { ConfigErrors, parseSettings } from "../core/config";
import { InvalidValue } from "../core/fieldRules";
import { Settings } from "../core/settings";
import { InvalidArguments } from "./preferences";
import { currentRegion } from "../core/stackConfig";
import { planStackSet, StackSetOverrideGroup, StackSetPlan, stackSetOwner, stackSetUnusedKeys } from "../core/stackSet";
import { renderTemplate } from "../core/template";
import { stackSetComponentName } from "../core/names";
import { handlerBundle } from "../lambda/bundle";
import { StackSetInstanceOverrides } from "../providers/stackSetOverridesProvider";

export const stackSetPreferencesType = "session-manager-preferences:index:StackSetPreferences";

/**
 * Plain values, not Inputs: the template is generated at synthesis from validated
 * settings, so that what the StackSet deploys is known (and diffable) at preview.
 */
export interface StackSetPreferencesArgs {
    /**
     * The settings, as `parseSettings` of `session-manager-preferences/config` returns them or
     * as plain values with the same keys (checked by the same rules, so a bad one fails at
     * preview naming `settings.<key>`): the preferences and the stackSet*,
     * organizationalUnitIds, regions and exclude* keys.
     */
    readonly settings: Readonly<Settings> | Readonly<Partial<Settings>>;
    /** Region for the stack instances when `settings.regions` is empty; default aws:region, else AWS_REGION. */
    readonly currentRegion?: string;
    /** The custom resource's code; default lambda/handler.ts bundled by esbuild (lambda/bundle.ts). */
    readonly handlerCode?: string;
    /** Written to each document's owner tag; default `<project>/<stack>:stackset`. */
    readonly owner?: string;
    /**
     * The stack instances' parameter overrides (core/stackSet.ts stackSetOverrideGroups, from
     * where the accounts sit); default none: every instance has the StackSet's values.
     */
    readonly overrideGroups?: StackSetOverrideGroup[];
}

/** The settings with their defaults, each checked by its rule (core/fieldRules.ts); bad ones fail naming `settings.<key>`. */
function checkedSettings(name: string, given: StackSetPreferencesArgs["settings"]): Settings {
    try {
        return parseSettings(given as Record<string, unknown>);
    } catch (err) {
        if (!(err instanceof ConfigErrors)) throw err;
        const problems = err.errors.map((e) => new InvalidValue(`settings.${e.key}`, e.value, e.allowed));
        throw new InvalidArguments(name, problems, "StackSetPreferences");
    }
}

/** The template object's key: named by its content, so a changed template gets a new URL and the StackSet updates. */
export function templateObjectKey(templateBody: string): string {
    return `templates/${createHash("sha256").update(templateBody).digest("hex")}.json`;
}

/**
 * Session Manager preferences for every account of the given OUs, deployed by
 * CloudFormation StackSets: one service-managed StackSet whose template holds the keys,
 * log group, instance policy and the custom resource that applies the document, and one
 * stack instance resource per Region. Accounts that join the OUs later get it too.
 *
 * The template reaches CloudFormation through a private S3 bucket (TemplateURL): with the
 * bundled handler inline it is larger than an inline TemplateBody may be.
 */
export class StackSetPreferences extends pulumi.ComponentResource {
    public readonly templateBucket: aws.s3.Bucket;
    public readonly templateObject: aws.s3.BucketObjectv2;
    public readonly stackSet: aws.cloudformation.StackSet;
    /** By Region. */
    public readonly instances: Record<string, aws.cloudformation.StackSetInstance>;
    /** The instances' parameter overrides, applied after them. */
    public readonly overrides: StackSetInstanceOverrides;
    public readonly stackSetName: pulumi.Output<string>;
    public readonly stackSetId: pulumi.Output<string>;
    public readonly plan: StackSetPlan;
    public readonly templateBody: string;

    constructor(name: string, args: StackSetPreferencesArgs, opts?: pulumi.ComponentResourceOptions) {
        // Checked and planned before registering anything, so that bad settings fail with nothing half-made.
        const settings = checkedSettings(name, args.settings);
        const plan = planStackSet(settings, args.currentRegion ?? currentRegion(pulumi.runtime.allConfig(), process.env));
        const owner = args.owner ?? stackSetOwner(pulumi.getProject(), pulumi.getStack());
        const templateBody = renderTemplate(settings, { handlerCode: args.handlerCode ?? handlerBundle(), owner, regions: plan.regions });

        super(stackSetPreferencesType, name, {}, opts);
        this.plan = plan;
        this.templateBody = templateBody;
        for (const { key, why } of stackSetUnusedKeys(settings)) {
            pulumi.log.warn(`sessionManager:${key} is set, but deployment: stackset does not use it: ${why}`, this);
        }

        // Private; S3 encrypts new objects (SSE-S3) by default. CloudFormation reads the template
        // with the credentials of whoever calls it: those running this program.
        this.templateBucket = new aws.s3.Bucket(`${name}-templates`, {}, { parent: this });
        const publicAccess = new aws.s3.BucketPublicAccessBlock(
            `${name}-templates`,
            { bucket: this.templateBucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            { parent: this },
        );
        this.templateObject = new aws.s3.BucketObjectv2(
            `${name}-template`,
            { bucket: this.templateBucket.id, key: templateObjectKey(templateBody), content: templateBody, contentType: "application/json" },
            { parent: this, dependsOn: [publicAccess] },
        );
        const templateUrl = pulumi.interpolate`https://${this.templateBucket.bucketRegionalDomainName}/${this.templateObject.key}`;

        this.stackSet = new aws.cloudformation.StackSet(
            name,
            {
                name: plan.name,
                description:
                    "Session Manager preferences: the Session document and what it points at, in every account and Region (session-manager-preferences)",
                permissionModel: "SERVICE_MANAGED",
                // New accounts in the OUs get the preferences without a deployment from here; leaving
                // the organization deletes the stack, and with it the document goes back per onDelete.
                autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
                callAs: plan.callAs,
                // The template names IAM resources: the instance policy (SessionManagerInstance-<region>),
                // the custom resource's role (for the guardrail) and the operator policy.
                capabilities: ["CAPABILITY_NAMED_IAM"],
                operationPreferences: plan.operationPreferences,
                // Queues operations that would otherwise fail as "in progress" while another runs.
                managedExecution: { active: true },
                templateUrl,
            },
            // SERVICE_MANAGED StackSets report an administration role ARN that nobody set.
            { parent: this, ignoreChanges: ["administrationRoleArn"] },
        );

        this.instances = {};
        for (const region of plan.regions) {
            this.instances[region] = new aws.cloudformation.StackSetInstance(
                `${name}-${region}`,
                {
                    stackSetName: this.stackSet.name,
                    stackSetInstanceRegion: region,
                    deploymentTargets: plan.deploymentTargets,
                    callAs: plan.callAs,
                    operationPreferences: plan.instanceOperationPreferences,
                    retainStack: false,
                },
                // The instances' parameter overrides belong to StackSetInstanceOverrides (below),
                // `apply-overrides` and `repair`: a refresh that reads them back must not make the next up clear them.
                { parent: this, ignoreChanges: ["parameterOverrides"] },
            );
        }
        // After the instances: it updates existing ones, and gives any that no override selects any more the StackSet's values.
        this.overrides = new StackSetInstanceOverrides(
            `${name}-overrides`,
            {
                region: args.currentRegion ?? currentRegion(pulumi.runtime.allConfig(), process.env) ?? plan.regions[0],
                plan,
                groups: args.overrideGroups ?? [],
                stackSetName: this.stackSet.name,
            },
            { parent: this, dependsOn: Object.values(this.instances) },
        );
        this.stackSetName = this.stackSet.name;
        this.stackSetId = this.stackSet.stackSetId;

        this.registerOutputs({ stackSetName: this.stackSetName, stackSetId: this.stackSetId, regions: plan.regions });
    }
}

export interface DeployStackSetOptions extends Omit<StackSetPreferencesArgs, "settings"> {
    /** Pulumi name of the component; default session-manager-preferences. */
    name?: string;
    resourceOptions?: pulumi.ComponentResourceOptions;
}

/** What the program exports in stackset mode (a type, so that it is a Record<string, unknown>). */
export type StackSetOutputs = {
    stackSetName: pulumi.Output<string>;
    stackSetId: pulumi.Output<string>;
    organizationalUnitIds: string[];
    regions: string[];
};

/** The program's entry for `deployment: stackset`: the StackSet and its instances, and the outputs to export. */
export function deployStackSet(settings: Settings, options: DeployStackSetOptions = {}): StackSetOutputs {
    const { name = stackSetComponentName, resourceOptions, ...args } = options;
    const component = new StackSetPreferences(name, { settings, ...args }, resourceOptions);
    return {
        stackSetName: component.stackSetName,
        stackSetId: component.stackSetId,
        organizationalUnitIds: component.plan.deploymentTargets.organizationalUnitIds,
        regions: component.plan.regions,
    };
}
