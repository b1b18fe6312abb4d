import { expect } from "chai";
import * as fc from "fast-check";
import { choosePart, PartConflictError } from "../core/parts";
import { parseSettings } from "../core/config";
import { createsAwsResources, documentPreferencesOf, planTarget, planTargets } from "../core/plan";
import { defaultOrganizationSettings, defaultPreferences, Preferences, Settings, TargetRegion } from "../core/settings";
import { currentRegion, namespaceValues } from "../core/stackConfig";

const target: TargetRegion = { accountId: "111122223333", region: "eu-west-1" };

function prefs(overrides: Partial<Preferences> = {}): Preferences {
    return { ...defaultPreferences, ...overrides };
}

function settings(overrides: Partial<Settings> = {}): Settings {
    return { ...defaultPreferences, ...defaultOrganizationSettings, targets: [], ...overrides };
}

const keyArn = "arn:aws:kms:eu-west-1:999988887777:key/mrk-0123456789abcdef0123456789abcdef";

describe("plan", () => {
    describe("session-data key", () => {
        it("is created, with rotation as kmsKeyRotation says, by default", () => {
            expect(planTarget(prefs(), target).sessionDataKey).to.deep.equal({ args: { enableKeyRotation: true } });
            expect(planTarget(prefs({ kmsKeyRotation: false }), target).sessionDataKey).to.deep.equal({ args: { enableKeyRotation: false } });
        });

        it("is taken as existing when sessionDataKeyArn is set", () => {
            expect(planTarget(prefs({ sessionDataKeyArn: keyArn }), target).sessionDataKey).to.deep.equal({ existing: { arn: keyArn } });
        });

        it("resolves {region} and {accountId} in sessionDataKeyArn for each target", () => {
            const template = "arn:aws:kms:{region}:{accountId}:key/mrk-0123456789abcdef0123456789abcdef";
            expect(planTarget(prefs({ sessionDataKeyArn: template }), { accountId: "444455556666", region: "ap-south-1" }).sessionDataKey).to.deep.equal({
                existing: { arn: "arn:aws:kms:ap-south-1:444455556666:key/mrk-0123456789abcdef0123456789abcdef" },
            });
        });

        it("is skipped when sessionDataEncryption is off, even if an ARN is set", () => {
            expect(planTarget(prefs({ sessionDataEncryption: false, sessionDataKeyArn: keyArn }), target).sessionDataKey).to.deep.equal({ skip: true });
        });
    });

    describe("log group", () => {
        it("is created with the configured name, retention and an encryption key by default", () => {
            expect(planTarget(prefs({ cwLogGroupName: "audit/ssm", logRetentionInDays: 365 }), target).logGroup).to.deep.equal({
                args: { name: "audit/ssm", retentionInDays: 365, kmsKey: { args: { enableKeyRotation: true } } },
            });
        });

        it("gets no key when cwEncryptionEnabled is off", () => {
            expect(planTarget(prefs({ cwEncryptionEnabled: false }), target).logGroup).to.deep.include({
                args: { name: "ssm-sessionmanager-logs", retentionInDays: 90, kmsKey: { skip: true } },
            });
        });

        it("is taken as existing by name when createCWLogGroup is off, and then never gets a key", () => {
            expect(planTarget(prefs({ createCWLogGroup: false, cwLogGroupName: "legacy" }), target).logGroup).to.deep.equal({ existing: { name: "legacy" } });
        });

        it("is skipped when cwLogging is off: S3-only or no session logging", () => {
            expect(planTarget(prefs({ cwLogging: false }), target).logGroup).to.deep.equal({ skip: true });
        });
    });

    describe("instance policy", () => {
        it("is created and attached to instanceRoleNames", () => {
            expect(planTarget(prefs({ instanceRoleNames: ["app", "bastion"] }), target).instancePolicy).to.deep.equal({
                args: { roleNames: ["app", "bastion"] },
            });
        });

        it("is skipped when instancePolicy is off", () => {
            expect(planTarget(prefs({ instancePolicy: false, instanceRoleNames: ["app"] }), target).instancePolicy).to.deep.equal({ skip: true });
        });
    });

    describe("createsAwsResources", () => {
        it("is false only when every part is existing or skipped", () => {
            const onlyDocument = prefs({ sessionDataKeyArn: keyArn, createCWLogGroup: false, instancePolicy: false });
            expect(planTarget(onlyDocument, target).createsAwsResources).to.equal(false);
            expect(planTarget(prefs({ sessionDataEncryption: false, cwLogging: false, instancePolicy: false }), target).createsAwsResources).to.equal(false);
        });

        it("is true as soon as any one part is created", () => {
            fc.assert(
                fc.property(
                    fc.constantFrom("create", "existing", "skip"),
                    fc.constantFrom("create", "existing", "skip"),
                    fc.boolean(),
                    (key, group, policy) => {
                        const p = prefs({
                            sessionDataEncryption: key !== "skip",
                            sessionDataKeyArn: key === "existing" ? keyArn : undefined,
                            createCWLogGroup: group === "create",
                            cwLogging: group !== "skip",
                            cwLogGroupName: "g",
                            instancePolicy: policy,
                        });
                        const plan = planTarget(p, target);
                        expect(plan.createsAwsResources).to.equal(key === "create" || group === "create" || policy);
                        expect(createsAwsResources(plan)).to.equal(plan.createsAwsResources);
                    },
                ),
            );
        });
    });

    describe("targets", () => {
        it("names each account and Region stably and uniquely, and assumes roleName in the target's partition", () => {
            const plans = planTargets(
                settings({
                    targets: [
                        { accountId: "111122223333", regions: ["eu-west-1", "us-east-1"], roleName: "SessionManagerDeployer" },
                        { accountId: "444455556666", regions: ["us-gov-west-1"], roleName: "Deployer" },
                        { accountId: "777788889999", regions: ["eu-west-1"] },
                    ],
                }),
            );
            expect(plans.map((p) => [p.name, p.outputKey, p.roleArn])).to.deep.equal([
                ["111122223333-eu-west-1", "111122223333/eu-west-1", "arn:aws:iam::111122223333:role/SessionManagerDeployer"],
                ["111122223333-us-east-1", "111122223333/us-east-1", "arn:aws:iam::111122223333:role/SessionManagerDeployer"],
                ["444455556666-us-gov-west-1", "444455556666/us-gov-west-1", "arn:aws-us-gov:iam::444455556666:role/Deployer"],
                ["777788889999-eu-west-1", "777788889999/eu-west-1", undefined],
            ]);
        });

        it("gives each target its read-only role's ARN in the target's partition", () => {
            const settings = parseSettings({
                readOnlyRoleName: "Reader",
                targets: [{ accountId: "111111111111", regions: ["us-gov-west-1"], roleName: "Deployer" }],
            });
            const [plan] = planTargets(settings);
            expect(plan).to.include({
                roleArn: "arn:aws-us-gov:iam::111111111111:role/Deployer",
                readOnlyRoleArn: "arn:aws-us-gov:iam::111111111111:role/Reader",
            });
            expect(planTargets(parseSettings({ targets: [{ accountId: "111111111111", regions: ["eu-west-1"] }] }))[0]).to.not.have.property("readOnlyRoleArn");
        });

        it("uses the current account and Region when no target is configured", () => {
            const plans = planTargets(settings(), { accountId: "123456789012", region: "cn-north-1" });
            expect(plans).to.have.length(1);
            expect(plans[0]).to.include({ name: "123456789012-cn-north-1", outputKey: "123456789012/cn-north-1" });
            expect(plans[0].roleArn).to.equal(undefined);
        });

        it("ignores the current account when targets are configured", () => {
            const plans = planTargets(settings({ targets: [{ accountId: "111122223333", regions: ["eu-west-1"] }] }), {
                accountId: "123456789012",
                region: "us-east-1",
            });
            expect(plans.map((p) => p.name)).to.deep.equal(["111122223333-eu-west-1"]);
        });

        it("leaves out excludeAccounts and excludeRegions, as the organization rollout does", () => {
            const plans = planTargets(
                settings({
                    targets: [
                        { accountId: "111122223333", regions: ["eu-west-1", "us-east-1"] },
                        { accountId: "444455556666", regions: ["eu-west-1"] },
                    ],
                    excludeAccounts: ["444455556666"],
                    excludeRegions: ["us-east-1"],
                }),
            );
            expect(plans.map((p) => p.name)).to.deep.equal(["111122223333-eu-west-1"]);
        });

        it("refuses to guess when there are neither targets nor a current account", () => {
            expect(() => planTargets(settings())).to.throw(/sessionManager:targets is empty/);
        });

        it("hands the document preferences, delete policy and version limit to every target", () => {
            const s = settings({
                runAsEnabled: true,
                runAsDefaultUser: "ssm-user",
                onDelete: "retain",
                keepDocumentVersions: 5,
                takeOver: true,
                targets: [{ accountId: "111122223333", regions: ["eu-west-1"] }],
            });
            const [plan] = planTargets(s);
            expect(plan.preferences).to.deep.equal(documentPreferencesOf(s));
            expect(plan.preferences).to.include({ runAsEnabled: true, runAsDefaultUser: "ssm-user" });
            expect(plan).to.include({ onDelete: "retain", keepDocumentVersions: 5, takeOver: true });
        });
    });

    describe("choosePart", () => {
        it("creates with default args when the part is not mentioned", () => {
            expect(choosePart("logGroup", undefined)).to.deep.equal({ kind: "create", args: undefined });
            expect(choosePart("logGroup", {})).to.deep.equal({ kind: "create", args: undefined });
        });

        it("reads each of the three shapes", () => {
            expect(choosePart("logGroup", { args: { name: "g" } })).to.deep.equal({ kind: "create", args: { name: "g" } });
            expect(choosePart("logGroup", { existing: { name: "g" } })).to.deep.equal({ kind: "existing", existing: { name: "g" } });
            expect(choosePart("logGroup", { skip: true })).to.deep.equal({ kind: "skip" });
        });

        it("rejects two shapes at once, naming the part and both shapes", () => {
            const given = { args: { name: "a" }, existing: { name: "b" } } as unknown as { args: { name: string } };
            expect(() => choosePart("logGroup", given)).to.throw(PartConflictError, "logGroup: give one of args, existing or skip, not args and existing");
        });
    });

    describe("stack config", () => {
        it("keeps only the sessionManager namespace, without its prefix, values untouched", () => {
            const all = {
                "sessionManager:s3Logging": "true",
                "sessionManager:targets": '[{"accountId":"111122223333"}]',
                "aws:region": "eu-west-1",
                "other:s3Logging": "false",
            };
            expect(namespaceValues(all)).to.deep.equal({ s3Logging: "true", targets: '[{"accountId":"111122223333"}]' });
        });

        it("keeps misspelt keys, so that the parser can name them", () => {
            expect(namespaceValues({ "sessionManager:s3Loging": "true" })).to.deep.equal({ s3Loging: "true" });
        });

        it("takes the Region from aws:region, then AWS_REGION, then AWS_DEFAULT_REGION", () => {
            expect(currentRegion({ "aws:region": "eu-west-1" }, { AWS_REGION: "us-east-1" })).to.equal("eu-west-1");
            expect(currentRegion({}, { AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "us-west-2" })).to.equal("us-east-1");
            expect(currentRegion({}, { AWS_DEFAULT_REGION: "us-west-2" })).to.equal("us-west-2");
            expect(currentRegion({}, {})).to.equal(undefined);
        });
    });
});
