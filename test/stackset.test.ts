import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { deployStackSet, StackSetPreferences, stackSetPreferencesType, templateObjectKey } from "../components/stackSetPreferences";
import { ConfigError } from "../core/config";
import { InvalidArguments } from "../components/preferences";
import { defaultOrganizationSettings, defaultPreferences, Settings } from "../core/settings";
import { planStackSet, stackSetOwner } from "../core/stackSet";
import { CfnTemplate, conditionIds, customResourceType, logicalIds, renderTemplate } from "../core/template";
import { handlerBundle } from "../lambda/bundle";
import { RecordingMocks, Registered, settled, valueOf } from "./support/pulumiMocks";
import { stackSetOverridesType } from "../providers/stackSetOverridesProvider";
import type { StackSetOverrideGroup } from "../core/stackSet";

const T = {
    bucket: "aws:s3/bucket:Bucket",
    publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    object: "aws:s3/bucketObjectv2:BucketObjectv2",
    stackSet: "aws:cloudformation/stackSet:StackSet",
    instance: "aws:cloudformation/stackSetInstance:StackSetInstance",
    overrides: stackSetOverridesType,
};

/** Also answers what AWS assigns: the StackSet ID and the bucket's regional domain name. */
class StackSetMocks extends RecordingMocks {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const created = super.newResource(args);
        if (args.type === T.stackSet) created.state.stackSetId = `${args.inputs.name}:0f1e2d3c-aaaa-bbbb-cccc-000011112222`;
        if (args.type === T.bucket) created.state.bucketRegionalDomainName = `${created.id}.s3.eu-west-1.amazonaws.com`;
        return created;
    }
}

const settings = (overrides: Partial<Settings> = {}): Settings => ({
    ...defaultPreferences,
    ...defaultOrganizationSettings,
    targets: [],
    deployment: "stackset",
    organizationalUnitIds: ["ou-ab12-11111111", "ou-ab12-22222222"],
    regions: ["eu-west-1", "us-east-1", "ap-southeast-2"],
    ...overrides,
});

/** The template the component should upload for these settings: the same Regions as its stack instances. */
const templateFor = (s: Settings): string =>
    renderTemplate(s, { handlerCode: handlerBundle(), owner: stackSetOwner("session-manager-preferences", "test"), regions: planStackSet(s).regions });

describe("deployment: stackset", () => {
    let mocks: StackSetMocks;
    /** Every resource the component registered, with the options it passed. */
    let registered: { type: string; name: string; opts: pulumi.ResourceOptions }[];

    beforeEach(async () => {
        mocks = new StackSetMocks();
        await pulumi.runtime.setMocks(mocks, "session-manager-preferences", "test", false);
        registered = [];
    });

    async function deploy(s: Settings, currentRegion?: string, overrideGroups?: StackSetOverrideGroup[]): Promise<ReturnType<typeof deployStackSet>> {
        const outputs = deployStackSet(s, {
            currentRegion,
            overrideGroups,
            resourceOptions: {
                transformations: [
                    (args) => {
                        registered.push({ type: args.type, name: args.name, opts: args.opts });
                        return undefined;
                    },
                ],
            },
        });
        await settled();
        return outputs;
    }

    const only = (type: string): Registered => {
        const found = mocks.ofType(type);
        expect(found, type).to.have.length(1);
        return found[0];
    };

    describe("the StackSet", () => {
        it("is service-managed, deploys itself to accounts that join the OUs, and removes the stack from accounts that leave", async () => {
            await deploy(settings());
            const inputs = only(T.stackSet).inputs;
            expect(inputs.name).to.equal("session-manager-preferences");
            expect(inputs.permissionModel).to.equal("SERVICE_MANAGED");
            expect(inputs.autoDeployment).to.deep.equal({ enabled: true, retainStacksOnAccountRemoval: false });
            expect(inputs.capabilities).to.deep.equal(["CAPABILITY_NAMED_IAM"]);
            expect(inputs.managedExecution).to.deep.equal({ active: true });
            expect(inputs).to.not.have.property("administrationRoleArn");
        });

        it("reads the template generated from the same settings, with the bundled custom-resource handler, from S3", async () => {
            const s = settings({ s3Logging: true, s3BucketName: "org-session-logs", runAsEnabled: true, runAsDefaultUser: "ec2-user" });
            await deploy(s);
            const body = templateFor(s);
            const object = only(T.object).inputs;
            expect(object.content).to.equal(body);
            expect(object.key).to.equal(templateObjectKey(body));
            expect(object.contentType).to.equal("application/json");
            expect(object.bucket).to.equal("session-manager-preferences-templates-id");
            const stackSet = only(T.stackSet).inputs;
            expect(stackSet.templateUrl).to.equal(`https://session-manager-preferences-templates-id.s3.eu-west-1.amazonaws.com/${templateObjectKey(body)}`);
            expect(stackSet).to.not.have.property("templateBody");
            const template = JSON.parse(body) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
            expect(template.Resources[logicalIds.document].Type).to.equal(customResourceType);
            expect(template.Resources[logicalIds.handler].Properties.Code).to.deep.equal({ ZipFile: handlerBundle() });
        });

        it("names the template object by its content: the same settings give the same URL, changed ones a new URL", () => {
            const key = (s: Settings) => templateObjectKey(templateFor(s));
            expect(key(settings())).to.equal(key(settings()));
            expect(key(settings({ idleSessionTimeout: 15 }))).to.not.equal(key(settings()));
            expect(key(settings())).to.match(/^templates\/[0-9a-f]{64}\.json$/);
        });

        it("keeps the template in a bucket of its own that blocks every kind of public access", async () => {
            await deploy(settings());
            expect(only(T.bucket).inputs).to.not.have.property("acl");
            expect(only(T.publicAccessBlock).inputs).to.deep.equal({
                bucket: "session-manager-preferences-templates-id",
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            });
        });

        it("tags each document with an owner of its own, <project>/<stack>:stackset, and passes takeOver and keepDocumentVersions on", async () => {
            await deploy(settings({ takeOver: true, keepDocumentVersions: 20 }));
            const template = JSON.parse(only(T.object).inputs.content as string) as { Resources: Record<string, { Properties: Record<string, unknown> }> };
            expect(template.Resources[logicalIds.document].Properties).to.include({
                Owner: "session-manager-preferences/test:stackset",
                TakeOver: "true",
                KeepDocumentVersions: "20",
            });
        });

        it("rolls out to all Regions in parallel, with the configured concurrency and failure tolerance", async () => {
            await deploy(settings({ stackSetMaxConcurrentPercentage: 50, stackSetFailureTolerancePercentage: 20 }));
            expect(only(T.stackSet).inputs.operationPreferences).to.deep.equal({
                regionConcurrencyType: "PARALLEL",
                maxConcurrentPercentage: 50,
                failureTolerancePercentage: 20,
            });
        });

        it("defaults to every account at once with 10% failure tolerance, not StackSets' one account at a time", async () => {
            await deploy(settings());
            expect(only(T.stackSet).inputs.operationPreferences).to.deep.equal({
                regionConcurrencyType: "PARALLEL",
                maxConcurrentPercentage: 100,
                failureTolerancePercentage: 10,
            });
        });

        it("ignores the administration role ARN that service-managed StackSets report, so it never shows as drift", async () => {
            await deploy(settings());
            const stackSet = registered.find((r) => r.type === T.stackSet);
            expect(stackSet?.opts.ignoreChanges).to.deep.equal(["administrationRoleArn"]);
        });

        it("uses the configured name and acts as delegated administrator when told to", async () => {
            await deploy(settings({ stackSetName: "org-session-manager", stackSetCallAs: "DELEGATED_ADMIN" }));
            expect(only(T.stackSet).inputs.name).to.equal("org-session-manager");
            expect(only(T.stackSet).inputs.callAs).to.equal("DELEGATED_ADMIN");
            for (const instance of mocks.ofType(T.instance)) {
                expect(instance.inputs.callAs).to.equal("DELEGATED_ADMIN");
                expect(instance.inputs.stackSetName).to.equal("org-session-manager");
            }
        });
    });

    describe("the stack instances", () => {
        it("are one per Region, each for all the configured OUs", async () => {
            await deploy(settings());
            const instances = mocks.ofType(T.instance);
            expect(instances.map((i) => i.inputs.stackSetInstanceRegion)).to.deep.equal(["eu-west-1", "us-east-1", "ap-southeast-2"]);
            for (const instance of instances) {
                expect(instance.inputs.stackSetName).to.equal("session-manager-preferences");
                expect(instance.inputs.deploymentTargets).to.deep.equal({ organizationalUnitIds: ["ou-ab12-11111111", "ou-ab12-22222222"] });
                expect(instance.inputs.callAs).to.equal("SELF");
                expect(instance.inputs.retainStack).to.equal(false);
            }
        });

        it("run at the configured concurrency, which StackSets' strict mode would cap at failure tolerance + 1", async () => {
            await deploy(settings({ stackSetMaxConcurrentPercentage: 25, stackSetFailureTolerancePercentage: 0 }));
            for (const instance of mocks.ofType(T.instance)) {
                expect(instance.inputs.operationPreferences).to.deep.equal({
                    regionConcurrencyType: "PARALLEL",
                    maxConcurrentPercentage: 25,
                    failureTolerancePercentage: 0,
                    concurrencyMode: "SOFT_FAILURE_TOLERANCE",
                });
            }
        });

        it("leave out excluded accounts of the OUs and excluded Regions", async () => {
            await deploy(settings({ excludeAccounts: ["111122223333"], excludeRegions: ["us-east-1"] }));
            const instances = mocks.ofType(T.instance);
            expect(instances.map((i) => i.inputs.stackSetInstanceRegion)).to.deep.equal(["eu-west-1", "ap-southeast-2"]);
            expect(instances[0].inputs.deploymentTargets).to.deep.equal({
                organizationalUnitIds: ["ou-ab12-11111111", "ou-ab12-22222222"],
                accounts: ["111122223333"],
                accountFilterType: "DIFFERENCE",
            });
        });

        it("go to aws:region when no Regions are configured", async () => {
            await deploy(settings({ regions: [] }), "eu-central-1");
            expect(mocks.ofType(T.instance).map((i) => i.inputs.stackSetInstanceRegion)).to.deep.equal(["eu-central-1"]);
        });

        describe("and the template's operator policy (one per account)", () => {
            const operatorTemplate = async (s: Settings, currentRegion?: string) => {
                await deploy({ ...s, operatorPolicy: { roleNames: [] } }, currentRegion);
                const t = JSON.parse(only(T.object).inputs.content as string) as CfnTemplate;
                return {
                    instances: mocks.ofType(T.instance).map((i) => i.inputs.stackSetInstanceRegion),
                    madeIn: t.Conditions?.[conditionIds.operatorPolicyRegion],
                    names: JSON.stringify(t.Resources[logicalIds.operatorPolicy].Properties.PolicyDocument),
                };
            };
            const inRegion = (region: string) => ({ "Fn::Equals": [{ Ref: "AWS::Region" }, region] });

            it("names the same Regions, less the excluded, and is made in the first of them only", async () => {
                const { instances, madeIn, names } = await operatorTemplate(settings({ excludeRegions: ["eu-west-1"] }));
                expect(instances).to.deep.equal(["us-east-1", "ap-southeast-2"]);
                expect(madeIn).to.deep.equal(inRegion("us-east-1"));
                expect(names).to.include(":us-east-1:").and.include(":ap-southeast-2:").and.not.include(":eu-west-1:");
            });

            it("names aws:region when no Regions are configured", async () => {
                const { instances, madeIn, names } = await operatorTemplate(settings({ regions: [] }), "eu-central-1");
                expect(instances).to.deep.equal(["eu-central-1"]);
                expect(madeIn).to.deep.equal(inRegion("eu-central-1"));
                expect(names).to.include(":eu-central-1:");
            });
        });
    });

    describe("the component", () => {
        it(`registers as ${stackSetPreferencesType} and parents the StackSet and its instances`, async () => {
            await deploy(settings());
            expect(registered.filter((r) => r.type === stackSetPreferencesType).map((r) => r.name)).to.deep.equal(["session-manager-preferences"]);
            const children = registered.filter((r) => r.type !== stackSetPreferencesType);
            expect(children.map((r) => r.type).sort()).to.deep.equal(
                [T.bucket, T.publicAccessBlock, T.object, T.stackSet, T.instance, T.instance, T.instance, T.overrides].sort(),
            );
            for (const child of children) expect(child.opts.parent, child.name).to.be.instanceOf(StackSetPreferences);
        });

        it("sets the instances' parameter overrides after every stack instance resource, by the StackSet's name, with the groups it is given", async () => {
            const groups = [
                {
                    accounts: ["222222222222"],
                    regions: ["eu-west-1", "us-east-1"],
                    parameters: { MaxSessionDuration: "720" },
                    sources: { maxSessionDuration: "regulated" },
                },
            ];
            await deploy(settings(), "eu-west-1", groups);
            const overrides = only(T.overrides);
            expect(overrides.inputs.groups).to.deep.equal(groups);
            expect(overrides.inputs.region).to.equal("eu-west-1");
            expect((overrides.inputs.plan as { name: string; regions: string[] }).name).to.equal("session-manager-preferences");
            expect((overrides.inputs.plan as { regions: string[] }).regions).to.deep.equal(["eu-west-1", "us-east-1", "ap-southeast-2"]);
            expect(String(overrides.inputs.__provider)).to.include("stackSetOverridesProvider");
            const dependsOn = registered.find((r) => r.type === T.overrides)?.opts.dependsOn as pulumi.Resource[];
            const dependencyUrns = await Promise.all(dependsOn.map((d) => valueOf(d.urn)));
            expect(dependencyUrns.map((u) => u.split("::").pop()).sort()).to.deep.equal(
                ["eu-west-1", "us-east-1", "ap-southeast-2"].map((r) => `session-manager-preferences-${r}`).sort(),
            );
        });

        it("gives the instances no overrides without groups, so that an override taken out of the config is taken off them", async () => {
            await deploy(settings());
            expect(only(T.overrides).inputs.groups).to.deep.equal([]);
        });

        it("exports the StackSet's name and ID, the OUs and the Regions", async () => {
            const outputs = await deploy(settings());
            expect(await valueOf(outputs.stackSetName)).to.equal("session-manager-preferences");
            expect(await valueOf(outputs.stackSetId)).to.equal("session-manager-preferences:0f1e2d3c-aaaa-bbbb-cccc-000011112222");
            expect(outputs.organizationalUnitIds).to.deep.equal(["ou-ab12-11111111", "ou-ab12-22222222"]);
            expect(outputs.regions).to.deep.equal(["eu-west-1", "us-east-1", "ap-southeast-2"]);
        });

        it("warns at preview about a key it cannot honour, naming it: targets", async () => {
            const warned: string[] = [];
            const warn = pulumi.log.warn;
            pulumi.log.warn = (message: string) => {
                warned.push(message);
                return Promise.resolve();
            };
            try {
                await deploy(settings({ targets: [{ accountId: "111122223333", regions: ["eu-west-1"] }] }));
                await deploy(settings());
            } finally {
                pulumi.log.warn = warn;
            }
            expect(warned).to.have.length(1);
            expect(warned[0]).to.match(/^sessionManager:targets is set, but deployment: stackset does not use it: .*organizationalUnitIds/);
        });

        it("checks plain settings by the configuration's rules, naming settings.<key>, before registering anything", async () => {
            const plain: Partial<Settings> = { deployment: "stackset", organizationalUnitIds: ["ou-ab12-11111111"], regions: ["eu-west-1"] };
            const bad = { ...plain, idleSessionTimeout: 90, s3Logging: true };
            expect(() => new StackSetPreferences("prefs", { settings: bad as unknown as Partial<Settings> }))
                .to.throw(InvalidArguments, /^invalid arguments of StackSetPreferences "prefs":/)
                .with.property("message")
                .that.matches(/settings\.idleSessionTimeout: 90 is not valid: a whole number from 1 to 60 \(minutes\)/);
            await settled();
            expect(mocks.resources).to.deep.equal([]);
            // Plain values with the defaults for the rest deploy as parsed settings do.
            new StackSetPreferences("prefs", { settings: plain });
            await settled();
            expect(only(T.object).inputs.content).to.equal(templateFor(settings({ organizationalUnitIds: ["ou-ab12-11111111"], regions: ["eu-west-1"] })));
            expect(only(T.instance).inputs.stackSetInstanceRegion).to.equal("eu-west-1");
        });

        it("fails before registering anything when no OU is configured, naming the key", async () => {
            expect(() => deployStackSet(settings({ organizationalUnitIds: [] }))).to.throw(
                InvalidArguments,
                /settings\.organizationalUnitIds: \[\] is not valid/,
            );
            await settled();
            expect(mocks.resources).to.deep.equal([]);
        });

        it("fails before registering anything when every Region is excluded, naming the key", async () => {
            expect(() => deployStackSet(settings({ regions: ["eu-west-1"], excludeRegions: ["eu-west-1"] }))).to.throw(ConfigError, /excludeRegions/);
            await settled();
            expect(mocks.resources).to.deep.equal([]);
        });
    });
});
