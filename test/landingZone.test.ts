// The landing-zone parts as data (core/landingZone.ts) and their configuration keys: what each
// policy grants in each partition, and the errors bad input gets before anything runs.
import { expect } from "chai";
import { ConfigError, ConfigErrors, parseSettings } from "../core/config";
import { desiredDocument } from "../core/document";
import {
    archiveBucketPolicy,
    archiveKeyPolicy,
    archiveTargetFor,
    guardedDocumentActions,
    guardrailContent,
    guardrailExceptions,
    guardrailPolicy,
    maxServiceControlPolicyCharacters,
    operatorPolicy,
    operatorPolicyInputs,
} from "../core/landingZone";
import { stackSetHandlerRoleName } from "../core/names";
import { planTargets } from "../core/plan";
import { instanceProfilePolicy, PolicyDocument, policyScope, PolicyStatement } from "../core/policies";
import { defaultDocumentName } from "../core/settings";

const org = "o-a1b2c3d4e5";
const archiveAccount = "999900001111";
const partitions = [
    { region: "eu-west-1", partition: "aws", suffix: "amazonaws.com" },
    { region: "us-gov-west-1", partition: "aws-us-gov", suffix: "amazonaws.com" },
    { region: "cn-north-1", partition: "aws-cn", suffix: "amazonaws.com.cn" },
];

function statement(document: PolicyDocument, sid: string): PolicyStatement {
    const found = document.Statement.find((s) => s.Sid === sid);
    if (!found) throw new Error(`no statement ${sid} in ${JSON.stringify(document)}`);
    return found;
}

function errorsOf(raw: Record<string, unknown>): ConfigError[] {
    try {
        parseSettings(raw);
    } catch (err) {
        expect(err).to.be.instanceOf(ConfigErrors);
        return (err as ConfigErrors).errors;
    }
    throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

/** The one error of a configuration, by key, with what the message must say. */
function expectRejected(raw: Record<string, unknown>, key: string, fragment: string): void {
    const errors = errorsOf(raw);
    expect(errors.map((e) => e.key)).to.deep.equal([key]);
    expect(errors[0].message).to.include(`sessionManager:${key}`).and.to.include(fragment);
}

const target = (regions: string[], roleName?: string) => [{ accountId: "111122223333", regions, ...(roleName ? { roleName } : {}) }];
const archive = (fields: Record<string, unknown> = {}) => ({
    accountId: archiveAccount,
    organizationId: org,
    regions: ["eu-west-1"],
    bucketName: "acme-session-logs",
    ...fields,
});

describe("landing zone", () => {
    describe("log archive policies, per partition", () => {
        for (const { region, partition, suffix } of partitions) {
            it(`${partition}: the bucket lets the organization write under its own account only, and check encryption`, () => {
                const policy = archiveBucketPolicy(policyScope(archiveAccount, region), "acme-logs", "sessionmanager", org);
                const write = statement(policy, "OrganizationWritesUnderOwnAccount");
                expect(write.Action).to.equal("s3:PutObject");
                expect(write.Resource).to.equal(`arn:${partition}:s3:::acme-logs/sessionmanager/\${aws:PrincipalAccount}/*`);
                expect(write.Condition).to.deep.equal({ StringEquals: { "aws:PrincipalOrgID": org } });
                const check = statement(policy, "OrganizationChecksEncryption");
                expect(check).to.deep.include({ Action: "s3:GetEncryptionConfiguration", Resource: `arn:${partition}:s3:::acme-logs` });
                const tls = statement(policy, "DenyInsecureTransport");
                expect(tls.Effect).to.equal("Deny");
                expect(tls.Condition).to.deep.equal({ Bool: { "aws:SecureTransport": "false" } });
                // Nothing else is allowed: no read of the logs for anyone in the organization.
                expect(policy.Statement.filter((s) => s.Effect === "Allow").map((s) => s.Action)).to.deep.equal([
                    "s3:PutObject",
                    "s3:GetEncryptionConfiguration",
                ]);
            });

            it(`${partition}: the key is usable by the organization only through S3 in its Region, for that bucket`, () => {
                const policy = archiveKeyPolicy(policyScope(archiveAccount, region), "acme-logs", org);
                expect(statement(policy, "EnableIamPoliciesInTheAccount").Principal).to.deep.equal({ AWS: `arn:${partition}:iam::${archiveAccount}:root` });
                const use = statement(policy, "OrganizationEncryptsSessionLogsThroughS3");
                expect(use.Action).to.deep.equal(["kms:GenerateDataKey", "kms:Decrypt"]);
                expect(use.Condition).to.deep.equal({
                    StringEquals: { "aws:PrincipalOrgID": org, "kms:ViaService": `s3.${region}.${suffix}` },
                    StringLike: { "kms:EncryptionContext:aws:s3:arn": [`arn:${partition}:s3:::acme-logs`, `arn:${partition}:s3:::acme-logs/*`] },
                });
            });

            it(`${partition}: an instance may write its own prefix and use the archive's key for that bucket through S3`, () => {
                const settings = parseSettings({
                    targets: target([region], "Deployer"),
                    logArchive: archive({ regions: [region], bucketName: "acme-logs-{region}" }),
                });
                const [plan] = planTargets(settings);
                expect(plan.preferences.s3BucketName).to.equal(`acme-logs-${region}`);
                const args = "args" in plan.instancePolicy ? plan.instancePolicy.args : undefined;
                const policy = instanceProfilePolicy({
                    ...policyScope("111122223333", region),
                    s3: { bucketName: plan.preferences.s3BucketName, keyPrefix: `sessionmanager/111122223333/${region}`, archive: args?.logArchive },
                });
                expect(statement(policy, "WriteSessionLogObjects").Resource).to.equal(
                    `arn:${partition}:s3:::acme-logs-${region}/sessionmanager/111122223333/${region}/*`,
                );
                const key = statement(policy, "EncryptSessionLogsForTheArchive");
                expect(key.Resource).to.equal(`arn:${partition}:kms:${region}:${archiveAccount}:key/*`);
                expect(key.Condition?.StringEquals).to.deep.equal({ "kms:ViaService": `s3.${region}.${suffix}` });
                expect(key.Condition?.StringLike).to.deep.equal({
                    "kms:EncryptionContext:aws:s3:arn": [`arn:${partition}:s3:::acme-logs-${region}`, `arn:${partition}:s3:::acme-logs-${region}/*`],
                });
            });

            it(`${partition}: the operator policy starts sessions in the target Regions and ends only the caller's own`, () => {
                const policy = operatorPolicy(
                    operatorPolicyInputs(
                        {
                            sessionDataEncryption: true,
                            sessionDataKeyArn: undefined,
                            operatorPolicy: { roleNames: [], instanceTag: { key: "team", value: "web" } },
                        },
                        { partition, accountId: "111122223333", regions: [region] },
                    ),
                );
                const instances = statement(policy, "StartSessionsOnInstances");
                expect(instances.Resource).to.deep.equal([`arn:${partition}:ec2:${region}:111122223333:instance/*`]);
                expect(instances.Condition).to.deep.equal({
                    BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" },
                    StringEquals: { "ssm:resourceTag/team": "web" },
                });
                expect(statement(policy, "StartSessionsWithThePreferences").Resource).to.deep.equal([
                    `arn:${partition}:ssm:${region}:111122223333:document/${defaultDocumentName}`,
                ]);
                const own = statement(policy, "EndOrResumeOwnSessions");
                expect(own.Action).to.deep.equal(["ssm:TerminateSession", "ssm:ResumeSession"]);
                expect(own.Condition).to.deep.equal({ StringLike: { "ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}" } });
                const keys = statement(policy, "EncryptSessionDataWithCreatedKeys");
                expect(keys.Resource).to.deep.equal([`arn:${partition}:kms:${region}:111122223333:key/*`]);
                expect(keys.Condition).to.deep.equal({ "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/session-manager/data" } });
            });

            it(`${partition}: the guardrail denies every document change in its partition to all but the excepted roles`, () => {
                const policy = guardrailPolicy(partition, defaultDocumentName, ["Deployer"]);
                const [deny] = policy.Statement;
                expect(deny.Effect).to.equal("Deny");
                expect(deny.Resource).to.equal(`arn:${partition}:ssm:*:*:document/${defaultDocumentName}`);
                expect(deny.Action).to.deep.equal([...guardedDocumentActions]);
                expect(deny.Condition).to.deep.equal({ ArnNotLike: { "aws:PrincipalArn": [`arn:${partition}:iam::*:role/Deployer`] } });
            });
        }
    });

    describe("the archive a target logs to", () => {
        it("a bucket per Region: each target's document and policy name its own Region's bucket", () => {
            const settings = parseSettings({
                targets: target(["eu-west-1", "us-east-1"], "Deployer"),
                logArchive: archive({ regions: ["eu-west-1", "us-east-1"], bucketName: "acme-logs-{region}" }),
            });
            expect(settings.s3Logging).to.equal(true);
            const plans = planTargets(settings);
            expect(plans.map((p) => p.preferences.s3BucketName)).to.deep.equal(["acme-logs-eu-west-1", "acme-logs-us-east-1"]);
            const content = desiredDocument(settings, { accountId: "111122223333", region: "us-east-1", kmsKeyId: "k" });
            expect(content.inputs.s3BucketName).to.equal("acme-logs-us-east-1");
            expect(content.inputs.s3KeyPrefix).to.equal("sessionmanager/111122223333/us-east-1");
        });

        it("one bucket: every Region's targets log to it, with the key in the bucket's Region", () => {
            const one = archive({ regions: ["eu-central-1"] });
            const settings = parseSettings({ targets: target(["eu-west-1", "us-east-1"], "Deployer"), logArchive: one });
            expect(planTargets(settings).map((p) => p.preferences.s3BucketName)).to.deep.equal(["acme-session-logs", "acme-session-logs"]);
            expect(archiveTargetFor(settings.logArchive!, "us-east-1")).to.deep.equal({
                bucketName: "acme-session-logs",
                accountId: archiveAccount,
                region: "eu-central-1",
            });
        });

        it("an existing bucket: its key ARN (with {region}) is what instances may use, and none when it has no KMS key", () => {
            const keyArn = `arn:aws:kms:{region}:${archiveAccount}:key/mrk-0123456789abcdef0123456789abcdef`;
            const existing = parseSettings({ logArchive: archive({ create: false, kmsKeyArn: keyArn }) }).logArchive!;
            expect(archiveTargetFor(existing, "eu-west-1")?.kmsKeyArn).to.equal(keyArn.replace("{region}", "eu-west-1"));
            const noKey = parseSettings({ logArchive: archive({ create: false }) }).logArchive!;
            const target = archiveTargetFor(noKey, "eu-west-1")!;
            expect(target.kmsKeyArn).to.equal(null);
            const policy = instanceProfilePolicy({
                ...policyScope("111122223333", "eu-west-1"),
                s3: { bucketName: "acme-session-logs", keyPrefix: "p", archive: target },
            });
            expect(policy.Statement.map((s) => s.Sid)).to.not.include("EncryptSessionLogsForTheArchive");
        });

        it("the current Region of a stack with no targets must have a bucket too, checked as the plan is made", () => {
            const settings = parseSettings({ logArchive: archive({ regions: ["eu-west-1"], bucketName: "acme-logs-{region}" }) });
            expect(() => planTargets(settings, { accountId: "111122223333", region: "us-west-2" })).to.throw(
                /logArchive.*none in us-west-2: add us-west-2 to logArchive.regions/,
            );
        });
    });

    describe("the guardrail's exceptions", () => {
        it("except every target's write role, the named roles and, in StackSet mode, the handler's role in every Region", () => {
            const direct = parseSettings({
                targets: [
                    { accountId: "111122223333", regions: ["eu-west-1"], roleName: "Deployer", readOnlyRoleName: "Reader" },
                    { accountId: "444455556666", regions: ["eu-west-1"], roleName: "OtherDeployer" },
                ],
                guardrail: { targetIds: ["ou-ab12-cdef3456"], exceptRoleNames: ["OrganizationAccountAccessRole"] },
            });
            const excepted = guardrailExceptions(direct);
            expect(excepted).to.have.members(["Deployer", "OtherDeployer", "OrganizationAccountAccessRole"]);
            // A read-only role never writes: it needs no exception, and gets none.
            expect(excepted).to.not.include("Reader");
            const stackset = parseSettings({ deployment: "stackset", organizationalUnitIds: ["ou-ab12-cdef3456"], regions: ["eu-west-1"], guardrail: true });
            const arns = guardrailPolicy("aws", defaultDocumentName, guardrailExceptions(stackset)).Statement[0].Condition!.ArnNotLike["aws:PrincipalArn"];
            // ArnNotLike's * matches the Region in the handler's name: every Region's handler is excepted.
            expect(arns).to.deep.equal([`arn:aws:iam::*:role/${stackSetHandlerRoleName("*")}`]);
            expect(
                new RegExp(`^${(arns as string[])[0].replace(/\*/g, ".*")}$`).test(`arn:aws:iam::111122223333:role/${stackSetHandlerRoleName("ap-south-2")}`),
            ).to.equal(true);
        });

        it("a policy over AWS's 5,120 characters fails the configuration, naming the limit", () => {
            const many = Array.from({ length: 120 }, (_, i) => `SessionManagerDeployerRoleNumber${String(i).padStart(3, "0")}`);
            const errors = errorsOf({ targets: target(["eu-west-1"], "Deployer"), guardrail: { targetIds: ["r-ab12"], exceptRoleNames: many } });
            expect(errors.map((e) => e.key)).to.deep.equal(["guardrail"]);
            expect(errors[0].message).to.match(/the service control policy is \d+ characters; AWS Organizations allows at most 5120/);
            const fits = guardrailContent(guardrailPolicy("aws", defaultDocumentName, many.slice(0, 10)));
            expect(fits.problem).to.equal(undefined);
            expect(fits.text.length).to.be.below(maxServiceControlPolicyCharacters);
        });
    });

    describe("bad input, before anything runs", () => {
        it("logArchive: required fields, each field's rule, near-miss field names", () => {
            expectRejected(
                { logArchive: { accountId: archiveAccount, regions: ["eu-west-1"], bucketName: "b-logs" } },
                "logArchive.organizationId",
                "required",
            );
            expectRejected({ logArchive: archive({ organizationId: "org-1" }) }, "logArchive.organizationId", "an AWS Organizations ID");
            expectRejected({ logArchive: archive({ accountId: "1234" }) }, "logArchive.accountId", "12-digit");
            expectRejected({ logArchive: archive({ bucketName: "Acme_Logs" }) }, "logArchive.bucketName", "an S3 bucket name");
            expectRejected({ logArchive: archive({ bucketName: "acme-{regoin}" }) }, "logArchive.bucketName", "may say {region} once");
            expectRejected({ logArchive: archive({ bucketName: `${"a".repeat(50)}-{region}` }) }, "logArchive.bucketName", "with {region} as ap-southeast-5");
            expectRejected({ logArchive: archive({ regions: ["eu-west-1", "us-east-1"] }) }, "logArchive.regions", "put {region} in logArchive.bucketName");
            expectRejected({ logArchive: archive({ regions: [] }) }, "logArchive.regions", "at least one Region");
            expectRejected({ logArchive: archive({ retentionInDays: -1 }) }, "logArchive.retentionInDays", "0 keeps session logs forever");
            expectRejected({ logArchive: archive({ create: "yes" }) }, "logArchive.create", "true or false");
            expectRejected(
                { logArchive: archive({ kmsKeyArn: `arn:aws:kms:eu-west-1:${archiveAccount}:key/mrk-0123456789abcdef0123456789abcdef` }) },
                "logArchive.kmsKeyArn",
                "only with logArchive.create: false",
            );
            expectRejected({ logArchive: archive({ create: false, kmsKeyArn: "alias/foo" }) }, "logArchive.kmsKeyArn", "a KMS key ARN");
            expectRejected({ logArchive: archive({ rolName: "X" }) }, "logArchive.rolName", "did you mean roleName?");
            expectRejected(
                { logArchive: archive({ roleName: "Writer", readOnlyRoleName: "Writer" }) },
                "logArchive.readOnlyRoleName",
                "a preview must not be able to write",
            );
            expectRejected({ logArchive: "acme-logs" }, "logArchive", "an object");
        });

        it("logArchive against the other keys: a bucket of its own, S3 logging off, a target Region without a bucket", () => {
            expectRejected({ logArchive: archive(), s3BucketName: "other-bucket" }, "s3BucketName", "unset when logArchive is set");
            expectRejected({ logArchive: archive(), s3Logging: false }, "s3Logging", "true or unset when logArchive is set");
            expectRejected(
                { targets: target(["eu-west-1", "us-east-1"]), logArchive: archive({ bucketName: "acme-{region}" }) },
                "targets[0].regions[1]",
                "add us-east-1 to logArchive.regions",
            );
            expectRejected(
                { regions: ["ap-south-1"], logArchive: archive({ bucketName: "acme-{region}" }) },
                "regions[0]",
                "add ap-south-1 to logArchive.regions",
            );
        });

        it("operatorPolicy: roles, the instance tag, near misses", () => {
            expect(parseSettings({ operatorPolicy: true }).operatorPolicy).to.deep.equal({ roleNames: [] });
            expectRejected({ operatorPolicy: { roleNames: ["bad role"] } }, "operatorPolicy.roleNames[0]", "an IAM role name");
            expectRejected({ operatorPolicy: { instanceTag: { value: "web" } } }, "operatorPolicy.instanceTag.key", "required");
            expectRejected({ operatorPolicy: { instanceTag: { key: "aws:x", value: "web" } } }, "operatorPolicy.instanceTag.aws:x", "not starting with aws:");
            expectRejected({ operatorPolicy: { roles: ["Ops"] } }, "operatorPolicy.roles", "did you mean roleNames?");
            expectRejected({ operatorPolicy: "yes" }, "operatorPolicy", "an object");
        });

        it("guardrail: where it goes, who it excepts, and the writers it needs to know", () => {
            expectRejected({ guardrail: true }, "guardrail.targetIds", "at least one OU or root ID");
            expectRejected({ guardrail: { targetIds: ["ou-1"] } }, "guardrail.targetIds[0]", "an organizational unit ID");
            expectRejected({ guardrail: { targetIds: ["r-ab12"], roleName: "Org" } }, "guardrail.roleName", "only with guardrail.accountId");
            expectRejected({ guardrail: { targetIds: ["r-ab12"], exceptRoleNames: ["a/b"] } }, "guardrail.exceptRoleNames[0]", "an IAM role name");
            expectRejected({ guardrail: { targetIds: ["r-ab12"], exceptRoles: [] } }, "guardrail.exceptRoles", "did you mean exceptRoleNames?");
            // Ambient credentials have no role name the guardrail could except: it would lock the program out.
            expectRejected({ targets: target(["eu-west-1"]), guardrail: { targetIds: ["r-ab12"] } }, "targets[0].roleName", "required with guardrail");
        });

        it("false turns each part off, as leaving it out does", () => {
            const s = parseSettings({ logArchive: false, operatorPolicy: "false", guardrail: false });
            expect([s.logArchive, s.operatorPolicy, s.guardrail]).to.deep.equal([undefined, undefined, undefined]);
            expect(s.s3Logging).to.equal(false);
        });

        it("sharedResources: one of its values, and only with something to make", () => {
            expectRejected({ sharedResources: "there" }, "sharedResources", "one of here, elsewhere, only");
            expectRejected({ sharedResources: "only" }, "sharedResources", "neither is set");
            expect(parseSettings({ sharedResources: "only", guardrail: { targetIds: ["r-ab12"] } }).sharedResources).to.equal("only");
        });
    });
});
