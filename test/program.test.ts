import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import * as yaml from "js-yaml";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as path from "node:path";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { knownKeys } from "../core/config";
import { Moto, startMoto } from "../devtools/moto";
import { archiveBucketPolicy, archiveKeyPolicy } from "../core/landingZone";
import { PolicyDocument, policyScope } from "../core/policies";
import { createOrganization } from "./support/organization";
import { awsProviderType, dynamicResourceType, providerName, RecordingMocks, Registered, settled, useMocks, valueOf } from "./support/pulumiMocks";

type Program = () => Promise<Record<string, unknown>>;

interface TargetOutput {
    documentVersion: string;
    sessionDataKeyId?: string;
    logGroupName?: string;
    instancePolicyArn?: string;
}

const projectRoot = path.resolve(__dirname, "..");

/**
 * Loads index.ts as the language host would: fresh modules, reading config as it is now.
 * The dynamic provider's module is kept: Pulumi serializes a provider's code once per
 * function object, and a fresh copy costs seconds per test while testing nothing here.
 * index.ts validates its configuration as it loads, so a bad one throws from here.
 */
function loadProgram(): Program {
    const keep = [`${path.sep}node_modules${path.sep}`, `${path.sep}test${path.sep}`, `${path.sep}providers${path.sep}`];
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(projectRoot + path.sep) && !keep.some((k) => id.includes(k))) delete require.cache[id];
    }
    return require("../index") as Program;
}

async function run(config: Record<string, string>): Promise<Record<string, TargetOutput>> {
    pulumi.runtime.setAllConfig(config);
    const outputs = await loadProgram()();
    const targets = await valueOf(pulumi.output(outputs.targets as pulumi.Input<Record<string, TargetOutput>>));
    await settled();
    return targets;
}

/**
 * Answers STS GetCallerIdentity and AssumeRole like the real service (query protocol, XML),
 * counts calls and records the roles assumed; an assumed role's credentials act in its account.
 */
class FakeSts {
    public calls = 0;
    public assumed: string[] = [];
    private readonly accountOfKey = new Map<string, string>();
    private server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk: Buffer) => (body += chunk.toString()));
        req.on("end", () => {
            this.calls += 1;
            const params = new URLSearchParams(body);
            const xml = (action: string, result: string) =>
                res
                    .writeHead(200, { "content-type": "text/xml" })
                    .end(
                        `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>0</RequestId></ResponseMetadata></${action}Response>`,
                    );
            if (params.get("Action") === "AssumeRole") {
                const roleArn = params.get("RoleArn") ?? "";
                this.assumed.push(roleArn);
                const key = `ASIAFAKE${this.assumed.length}`;
                this.accountOfKey.set(key, roleArn.split(":")[4]);
                const expiration = new Date(Date.now() + 3600_000).toISOString();
                xml(
                    "AssumeRole",
                    `<Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
                        `<AssumedRoleUser><Arn>${roleArn}/session</Arn><AssumedRoleId>AROAFAKE:session</AssumedRoleId></AssumedRoleUser>`,
                );
                return;
            }
            if (params.get("Action") !== "GetCallerIdentity") {
                res.writeHead(400).end();
                return;
            }
            const key = /Credential=([^/]+)\//.exec(req.headers.authorization ?? "")?.[1] ?? "";
            const account = this.accountOfKey.get(key) ?? this.account;
            xml("GetCallerIdentity", `<Arn>arn:aws:iam::${account}:user/ci</Arn><UserId>AIDAEXAMPLE</UserId><Account>${account}</Account>`);
        });
    });

    constructor(public readonly account: string) {}

    async start(): Promise<string> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    stop(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}

const stsEnvKeys = [
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EC2_METADATA_DISABLED",
];

const security = "111111111111";
const workloads = "222222222222";

/** Two accounts, three Regions, everything on: what an organization runs. */
const organization: Record<string, string> = {
    "sessionManager:targets": JSON.stringify([
        { accountId: security, regions: ["eu-west-1", "us-east-1"], roleName: "SessionManagerDeployer" },
        { accountId: workloads, regions: ["eu-west-1", "eu-central-1"], roleName: "OrgDeployer" },
    ]),
    "sessionManager:s3Logging": "true",
    "sessionManager:s3BucketName": "org-session-logs",
    "sessionManager:instanceRoleNames": '["app-instance"]',
    "sessionManager:runAsEnabled": "true",
    "sessionManager:runAsDefaultUser": "ssm-user",
};

describe("program (index.ts)", () => {
    let mocks: RecordingMocks;
    let sts: FakeSts;
    const savedEnv: Record<string, string | undefined> = {};

    before(async () => {
        for (const k of stsEnvKeys) savedEnv[k] = process.env[k];
        sts = new FakeSts("123456789012");
        process.env.AWS_ENDPOINT_URL = await sts.start();
        process.env.AWS_ACCESS_KEY_ID = "testing";
        process.env.AWS_SECRET_ACCESS_KEY = "testing";
        process.env.AWS_EC2_METADATA_DISABLED = "true";
        for (const k of ["AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"]) delete process.env[k];
    });

    after(async () => {
        await sts.stop();
        // Other test files share this process and its Pulumi runtime state.
        pulumi.runtime.setAllConfig({});
        for (const k of stsEnvKeys) {
            if (savedEnv[k] === undefined) delete process.env[k];
            else process.env[k] = savedEnv[k];
        }
    });

    beforeEach(async () => {
        mocks = await useMocks();
        sts.calls = 0;
        sts.assumed = [];
    });

    describe("explicit targets", () => {
        it("creates one provider per account and Region, in that Region, assuming that account's role", async () => {
            await run(organization);
            const providers = mocks.ofType(awsProviderType).map((p) => ({
                name: p.name,
                region: p.inputs.region,
                allowedAccountIds: JSON.parse(p.inputs.allowedAccountIds as string) as string[],
                roleArns: (JSON.parse(p.inputs.assumeRoles as string) as { roleArn: string }[]).map((r) => r.roleArn),
            }));
            expect(providers).to.deep.equal([
                {
                    name: `${security}-eu-west-1`,
                    region: "eu-west-1",
                    allowedAccountIds: [security],
                    roleArns: [`arn:aws:iam::${security}:role/SessionManagerDeployer`],
                },
                {
                    name: `${security}-us-east-1`,
                    region: "us-east-1",
                    allowedAccountIds: [security],
                    roleArns: [`arn:aws:iam::${security}:role/SessionManagerDeployer`],
                },
                {
                    name: `${workloads}-eu-west-1`,
                    region: "eu-west-1",
                    allowedAccountIds: [workloads],
                    roleArns: [`arn:aws:iam::${workloads}:role/OrgDeployer`],
                },
                {
                    name: `${workloads}-eu-central-1`,
                    region: "eu-central-1",
                    allowedAccountIds: [workloads],
                    roleArns: [`arn:aws:iam::${workloads}:role/OrgDeployer`],
                },
            ]);
            expect(sts.calls).to.equal(0);
        });

        it("builds each target's aws resources with that target's provider only", async () => {
            await run(organization);
            const awsResources = mocks.resources.filter((r) => r.type.startsWith("aws:"));
            expect(awsResources).to.have.length(4 * 8);
            for (const r of awsResources) expect(providerName(r), r.name).to.equal(targetOf(r.name));
        });

        it("gives each target its own document, with its account, Region and role", async () => {
            await run(organization);
            const docs = mocks.ofType(dynamicResourceType).map((d) => [d.name, d.inputs.accountId, d.inputs.region, d.inputs.roleArn]);
            expect(docs).to.deep.equal([
                [`${security}-eu-west-1-document`, security, "eu-west-1", `arn:aws:iam::${security}:role/SessionManagerDeployer`],
                [`${security}-us-east-1-document`, security, "us-east-1", `arn:aws:iam::${security}:role/SessionManagerDeployer`],
                [`${workloads}-eu-west-1-document`, workloads, "eu-west-1", `arn:aws:iam::${workloads}:role/OrgDeployer`],
                [`${workloads}-eu-central-1-document`, workloads, "eu-central-1", `arn:aws:iam::${workloads}:role/OrgDeployer`],
            ]);
            const content = mocks.named(`${workloads}-eu-central-1-document`).inputs.content as { inputs: Record<string, unknown> };
            expect(content.inputs).to.include({
                s3BucketName: "org-session-logs",
                s3KeyPrefix: `sessionmanager/${workloads}/eu-central-1`,
                runAsDefaultUser: "ssm-user",
            });
        });

        it("exports per-target outputs keyed <accountId>/<region>", async () => {
            const targets = await run(organization);
            expect(Object.keys(targets)).to.deep.equal([
                `${security}/eu-west-1`,
                `${security}/us-east-1`,
                `${workloads}/eu-west-1`,
                `${workloads}/eu-central-1`,
            ]);
            expect(targets[`${workloads}/eu-central-1`]).to.deep.equal({
                documentVersion: "1",
                sessionDataKeyId: `key-${workloads}-eu-central-1-session-data-key`,
                logGroupName: "ssm-sessionmanager-logs",
                instancePolicyArn: "arn:aws:iam::000000000000:policy/session-manager/SessionManagerInstance-eu-central-1",
            });
        });

        it("assumes roles in the GovCloud partition for us-gov Regions", async () => {
            await run({ "sessionManager:targets": JSON.stringify([{ accountId: security, regions: ["us-gov-west-1"], roleName: "Deployer" }]) });
            const [provider] = mocks.ofType(awsProviderType);
            expect(JSON.parse(provider.inputs.assumeRoles as string)).to.deep.equal([
                { roleArn: `arn:aws-us-gov:iam::${security}:role/Deployer`, sessionName: "session-manager-preferences" },
            ]);
            expect(mocks.ofType(dynamicResourceType)[0].inputs.roleArn).to.equal(`arn:aws-us-gov:iam::${security}:role/Deployer`);
        });

        it("uses the ambient credentials when a target names no role", async () => {
            await run({ "sessionManager:targets": JSON.stringify([{ accountId: security, regions: ["eu-west-1"] }]) });
            const [provider] = mocks.ofType(awsProviderType);
            expect(provider.inputs.assumeRoles).to.equal(undefined);
            expect(mocks.ofType(dynamicResourceType)[0].inputs.roleArn).to.equal(undefined);
        });
    });

    describe("preview with a read-only role", () => {
        const readOnly = { ...organization, "sessionManager:readOnlyRoleName": "SessionManagerReader" };
        const roleArnsOf = (providers: Registered[]) => providers.map((p) => (JSON.parse(p.inputs.assumeRoles as string) as { roleArn: string }[])[0].roleArn);

        it("at preview, every aws provider and the pre-flight STS check assume only the read-only role", async () => {
            mocks = await useMocks({ dryRun: true });
            await run(readOnly);
            expect(roleArnsOf(mocks.ofType(awsProviderType))).to.deep.equal([
                `arn:aws:iam::${security}:role/SessionManagerReader`,
                `arn:aws:iam::${security}:role/SessionManagerReader`,
                `arn:aws:iam::${workloads}:role/SessionManagerReader`,
                `arn:aws:iam::${workloads}:role/SessionManagerReader`,
            ]);
            expect([...new Set(sts.assumed)].sort(), "the pre-flight check").to.deep.equal([
                `arn:aws:iam::${security}:role/SessionManagerReader`,
                `arn:aws:iam::${workloads}:role/SessionManagerReader`,
            ]);
        });

        it("at up, the aws providers assume the write role; the documents carry both roles, so neither is a change between the two", async () => {
            await run(readOnly);
            expect(roleArnsOf(mocks.ofType(awsProviderType))).to.deep.equal([
                `arn:aws:iam::${security}:role/SessionManagerDeployer`,
                `arn:aws:iam::${security}:role/SessionManagerDeployer`,
                `arn:aws:iam::${workloads}:role/OrgDeployer`,
                `arn:aws:iam::${workloads}:role/OrgDeployer`,
            ]);
            expect(sts.assumed).to.deep.equal([]);
            const documents = mocks.ofType(dynamicResourceType).map((d) => [d.inputs.roleArn, d.inputs.readOnlyRoleArn]);
            expect(documents[0]).to.deep.equal([`arn:aws:iam::${security}:role/SessionManagerDeployer`, `arn:aws:iam::${security}:role/SessionManagerReader`]);
            expect(documents[3]).to.deep.equal([`arn:aws:iam::${workloads}:role/OrgDeployer`, `arn:aws:iam::${workloads}:role/SessionManagerReader`]);
        });

        it("without a read-only role, a preview reads through the write role as before", async () => {
            mocks = await useMocks({ dryRun: true });
            await run(organization);
            expect(roleArnsOf(mocks.ofType(awsProviderType))).to.include(`arn:aws:iam::${workloads}:role/OrgDeployer`);
        });
    });

    describe("overrides", () => {
        const contentOf = (name: string) => (mocks.named(`${name}-document`).inputs.content as { inputs: Record<string, unknown> }).inputs;
        const withOverrides = (overrides: unknown[]) => ({ ...organization, "sessionManager:overrides": JSON.stringify(overrides) });

        it("gives each target its own preferences, and names the override of each changed field in the outputs", async () => {
            const targets = await run(
                withOverrides([
                    { name: "regulated", accountIds: [workloads], maxSessionDuration: 720, runAsDefaultUser: "ssm-regulated" },
                    { name: "us", regions: ["us-east-1"], idleSessionTimeout: 5 },
                ]),
            );
            expect(contentOf(`${workloads}-eu-central-1`)).to.include({
                maxSessionDuration: "720",
                runAsDefaultUser: "ssm-regulated",
                idleSessionTimeout: "20",
            });
            expect(contentOf(`${security}-us-east-1`)).to.include({ maxSessionDuration: "60", runAsDefaultUser: "ssm-user", idleSessionTimeout: "5" });
            expect(contentOf(`${security}-eu-west-1`)).to.include({ maxSessionDuration: "60", idleSessionTimeout: "20" });
            expect((targets[`${workloads}/eu-west-1`] as { overrides?: unknown }).overrides).to.deep.equal({
                runAsDefaultUser: "regulated",
                maxSessionDuration: "regulated",
            });
            expect((targets[`${security}/us-east-1`] as { overrides?: unknown }).overrides).to.deep.equal({ idleSessionTimeout: "us" });
            expect(targets[`${security}/eu-west-1`]).to.not.have.property("overrides");
        });

        it("fails before registering anything when two overrides of one priority set one key for one target, naming both", async () => {
            const conflicting = withOverrides([
                { name: "regulated", accountIds: [workloads], idleSessionTimeout: 10 },
                { name: "eu", regions: ["eu-west-1"], idleSessionTimeout: 30 },
            ]);
            let error: Error | undefined;
            try {
                await run(conflicting);
            } catch (err) {
                error = err as Error;
            }
            expect(error?.message)
                .to.include("regulated (overrides[0]) and eu (overrides[1]) both set idleSessionTimeout")
                .and.include(`account ${workloads} Region eu-west-1`);
            expect(mocks.resources).to.have.length(0);
        });

        describe("by OU, looked up in AWS Organizations (moto)", function () {
            this.timeout(60_000);
            let moto: Moto;
            const ids: Record<string, string> = {};

            before(async () => {
                moto = await startMoto();
                process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = moto.endpoint;
                const client = new OrganizationsClient({ region: "us-east-1", endpoint: moto.endpoint });
                Object.assign(
                    ids,
                    await createOrganization(client, {
                        ous: [
                            ["sandbox", "root"],
                            ["child", "sandbox"],
                        ],
                        accounts: [
                            ["play", "child"],
                            ["prod", "root"],
                        ],
                    }),
                );
                client.destroy();
            });

            after(async () => {
                delete process.env.AWS_ENDPOINT_URL_ORGANIZATIONS;
                await moto?.stop();
            });

            it("applies a sandbox OU's override to an account in its child OU only", async () => {
                const targets = await run({
                    "sessionManager:targets": JSON.stringify([
                        { accountId: ids.play, regions: ["eu-west-1"], roleName: "OrgDeployer" },
                        { accountId: ids.prod, regions: ["eu-west-1"], roleName: "OrgDeployer" },
                    ]),
                    "sessionManager:overrides": JSON.stringify([{ name: "sandbox", organizationalUnitIds: [ids.sandbox], idleSessionTimeout: 60 }]),
                });
                expect(contentOf(`${ids.play}-eu-west-1`).idleSessionTimeout).to.equal("60");
                expect(contentOf(`${ids.prod}-eu-west-1`).idleSessionTimeout).to.equal("20");
                expect((targets[`${ids.play}/eu-west-1`] as { overrides?: unknown }).overrides).to.deep.equal({ idleSessionTimeout: "sandbox" });
            });

            it("fails, saying what it needs, when Organizations cannot be asked", async () => {
                process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = "http://127.0.0.1:9";
                try {
                    await run({
                        "sessionManager:targets": JSON.stringify([{ accountId: ids.play, regions: ["eu-west-1"] }]),
                        "sessionManager:overrides": JSON.stringify([{ name: "sandbox", organizationalUnitIds: [ids.sandbox], idleSessionTimeout: 60 }]),
                    });
                    expect.fail("ran");
                } catch (err) {
                    expect((err as Error).message)
                        .to.include("organizations:ListParents")
                        .and.include("select those overrides by accountIds");
                } finally {
                    process.env.AWS_ENDPOINT_URL_ORGANIZATIONS = moto.endpoint;
                }
                expect(mocks.resources).to.have.length(0);
            });
        });
    });

    describe("landing zone: log archive, operator policy, guardrail", () => {
        const archiveAccount = "333333333333";
        const managementAccount = "444444444444";
        const landingZone: Record<string, string> = {
            ...organization,
            "aws:region": "eu-west-1",
            "sessionManager:s3Logging": "true",
            "sessionManager:s3BucketName": "",
            "sessionManager:logArchive": JSON.stringify({
                accountId: archiveAccount,
                organizationId: "o-a1b2c3d4e5",
                regions: ["eu-west-1", "us-east-1", "eu-central-1"],
                bucketName: "acme-session-logs-{region}",
                roleName: "LogArchiveDeployer",
                readOnlyRoleName: "LogArchiveReader",
                retentionInDays: 400,
            }),
            "sessionManager:operatorPolicy": JSON.stringify({ roleNames: ["Operators"], instanceTag: { key: "team", value: "web" } }),
            "sessionManager:guardrail": JSON.stringify({
                targetIds: ["ou-ab12-cdef3456", "ou-ab12-99990000"],
                accountId: managementAccount,
                roleName: "GuardrailDeployer",
                readOnlyRoleName: "GuardrailReader",
            }),
        };
        delete landingZone["sessionManager:s3BucketName"];
        const assumed = (r: Registered) => (JSON.parse(r.inputs.assumeRoles as string) as { roleArn: string }[])[0].roleArn;
        const policyOf = (r: Registered) => JSON.parse((r.inputs.policy ?? r.inputs.content) as string) as PolicyDocument;

        it("makes a versioned, private, TLS-only, SSE-KMS bucket per archive Region in the archive account, with the policies of core/landingZone.ts", async () => {
            await run(landingZone);
            const buckets = mocks.ofType("aws:s3/bucket:Bucket");
            expect(buckets.map((b) => b.inputs.bucket)).to.deep.equal([
                "acme-session-logs-eu-west-1",
                "acme-session-logs-us-east-1",
                "acme-session-logs-eu-central-1",
            ]);
            for (const bucket of buckets) {
                const provider = mocks.named(providerName(bucket)!);
                expect(provider.inputs.region).to.equal((bucket.inputs.bucket as string).replace("acme-session-logs-", ""));
                expect(JSON.parse(provider.inputs.allowedAccountIds as string)).to.deep.equal([archiveAccount]);
                expect(assumed(provider)).to.equal(`arn:aws:iam::${archiveAccount}:role/LogArchiveDeployer`);
            }
            const region = "us-east-1";
            const on = (type: string) => mocks.named(`log-archive-${region}-${type}`).inputs;
            expect(on("versioning").versioningConfiguration).to.deep.equal({ status: "Enabled" });
            expect(on("public-access")).to.deep.include({
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            });
            expect(on("ownership").rule).to.deep.equal({ objectOwnership: "BucketOwnerEnforced" });
            const [rule] = on("encryption").rules as {
                applyServerSideEncryptionByDefault: { sseAlgorithm: string; kmsMasterKeyId: string };
                bucketKeyEnabled: boolean;
            }[];
            expect(rule.applyServerSideEncryptionByDefault.sseAlgorithm).to.equal("aws:kms");
            expect(rule.applyServerSideEncryptionByDefault.kmsMasterKeyId).to.match(/log-archive-us-east-1-key/);
            expect(rule.bucketKeyEnabled).to.equal(true);
            const [lifecycle] = on("retention").rules as { expiration: { days: number }; noncurrentVersionExpiration: { noncurrentDays: number } }[];
            expect(lifecycle.expiration.days).to.equal(400);
            expect(lifecycle.noncurrentVersionExpiration.noncurrentDays).to.equal(400);
            const bucketPolicy = JSON.parse(on("policy").policy as string) as PolicyDocument;
            expect(bucketPolicy).to.deep.equal(
                archiveBucketPolicy(policyScope(archiveAccount, region), `acme-session-logs-${region}`, "sessionmanager", "o-a1b2c3d4e5"),
            );
            expect(policyOf(mocks.named(`log-archive-${region}-key`))).to.deep.equal(
                archiveKeyPolicy(policyScope(archiveAccount, region), `acme-session-logs-${region}`, "o-a1b2c3d4e5"),
            );
        });

        it("points every target's document at its own Region's bucket, and lets its instances use the archive key", async () => {
            await run(landingZone);
            const document = mocks.ofType(dynamicResourceType).find((d) => d.name === `${workloads}-eu-central-1-document`)!;
            const inputs = (document.inputs.content as { inputs: Record<string, unknown> }).inputs;
            expect(inputs.s3BucketName).to.equal("acme-session-logs-eu-central-1");
            expect(inputs.s3KeyPrefix).to.equal(`sessionmanager/${workloads}/eu-central-1`);
            const instancePolicy = policyOf(mocks.named(`${workloads}-eu-central-1-instance-policy`));
            const key = instancePolicy.Statement.find((s) => s.Sid === "EncryptSessionLogsForTheArchive");
            expect(key?.Resource).to.equal(`arn:aws:kms:eu-central-1:${archiveAccount}:key/*`);
        });

        it("makes one operator policy per target account over its Regions, attached to the named roles, through the account's write role", async () => {
            await run(landingZone);
            const operators = mocks.ofType("aws:iam/policy:Policy").filter((p) => p.inputs.name === "SessionManagerOperator");
            expect(operators.map((p) => p.name)).to.deep.equal([`${security}-operator-policy`, `${workloads}-operator-policy`]);
            const workloadsPolicy = policyOf(operators[1]);
            expect(workloadsPolicy.Statement.find((s) => s.Sid === "StartSessionsOnInstances")?.Resource).to.deep.equal([
                `arn:aws:ec2:eu-west-1:${workloads}:instance/*`,
                `arn:aws:ec2:eu-central-1:${workloads}:instance/*`,
            ]);
            expect(assumed(mocks.named(providerName(operators[1])!))).to.equal(`arn:aws:iam::${workloads}:role/OrgDeployer`);
            const attachments = mocks.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.inputs.role === "Operators");
            expect(attachments).to.have.length(2);
        });

        it("makes the guardrail in the management account, attached to each OU, excepting every target's write role", async () => {
            await run(landingZone);
            const [scp] = mocks.ofType("aws:organizations/policy:Policy");
            expect(scp.inputs.type).to.equal("SERVICE_CONTROL_POLICY");
            const excepted = policyOf(scp).Statement[0].Condition!.ArnNotLike["aws:PrincipalArn"];
            expect(excepted).to.have.members(["arn:aws:iam::*:role/SessionManagerDeployer", "arn:aws:iam::*:role/OrgDeployer"]);
            expect(mocks.ofType("aws:organizations/policyAttachment:PolicyAttachment").map((a) => a.inputs.targetId)).to.deep.equal([
                "ou-ab12-cdef3456",
                "ou-ab12-99990000",
            ]);
            const provider = mocks.named(providerName(scp)!);
            expect(JSON.parse(provider.inputs.allowedAccountIds as string)).to.deep.equal([managementAccount]);
            expect(assumed(provider)).to.equal(`arn:aws:iam::${managementAccount}:role/GuardrailDeployer`);
        });

        it("at preview, the archive's and the guardrail's providers assume their read-only roles", async () => {
            mocks = await useMocks({ dryRun: true });
            await run(landingZone);
            const archiveProvider = mocks.named("log-archive-eu-west-1");
            expect(assumed(archiveProvider)).to.equal(`arn:aws:iam::${archiveAccount}:role/LogArchiveReader`);
            expect(assumed(mocks.named("guardrail-provider"))).to.equal(`arn:aws:iam::${managementAccount}:role/GuardrailReader`);
        });

        it("sharedResources: elsewhere makes no archive or guardrail; only makes them and no target", async () => {
            await run({ ...landingZone, "sessionManager:sharedResources": "elsewhere" });
            expect(mocks.ofType("aws:s3/bucket:Bucket")).to.deep.equal([]);
            expect(mocks.ofType("aws:organizations/policy:Policy")).to.deep.equal([]);
            expect(mocks.ofType(dynamicResourceType)).to.have.length(4);
            mocks = await useMocks();
            await run({ ...landingZone, "sessionManager:sharedResources": "only", "aws:region": "eu-west-1" });
            expect(mocks.ofType("aws:s3/bucket:Bucket")).to.have.length(3);
            expect(mocks.ofType("aws:organizations/policy:Policy")).to.have.length(1);
            expect(mocks.ofType(dynamicResourceType)).to.deep.equal([]);
            expect(mocks.ofType("aws:iam/policy:Policy")).to.deep.equal([]);
        });
    });

    describe("nothing to create", () => {
        const onlyDocuments = {
            ...organization,
            "sessionManager:sessionDataKeyArn": "arn:aws:kms:{region}:111111111111:key/mrk-0123456789abcdef0123456789abcdef",
            "sessionManager:createCWLogGroup": "false",
            "sessionManager:instancePolicy": "false",
            "sessionManager:instanceRoleNames": "[]",
        };

        it("registers no aws resource and no aws provider: only the documents", async () => {
            const targets = await run(onlyDocuments);
            expect(mocks.aws()).to.deep.equal([]);
            expect(mocks.ofType(dynamicResourceType)).to.have.length(4);
            expect(targets[`${workloads}/eu-central-1`]).to.deep.equal({
                documentVersion: "1",
                sessionDataKeyId: "mrk-0123456789abcdef0123456789abcdef",
                logGroupName: "ssm-sessionmanager-logs",
                instancePolicyArn: undefined,
            });
        });

        it("still hands each document its role, and the key of its own Region", async () => {
            await run(onlyDocuments);
            const doc = mocks.named(`${workloads}-eu-central-1-document`);
            expect(doc.inputs.roleArn).to.equal(`arn:aws:iam::${workloads}:role/OrgDeployer`);
            expect((doc.inputs.content as { inputs: Record<string, unknown> }).inputs.kmsKeyId).to.equal(
                "arn:aws:kms:eu-central-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef",
            );
        });
    });

    describe("cwLogging: false (S3-only session logging)", () => {
        const s3Only = {
            ...organization,
            "sessionManager:cwLogging": "false",
            "sessionManager:s3Logging": "true",
            "sessionManager:s3BucketName": "org-session-logs",
        };

        it("makes no log group and no logs key, and the document names no group but the bucket", async () => {
            await run(s3Only);
            expect(mocks.ofType("aws:cloudwatch/logGroup:LogGroup")).to.deep.equal([]);
            const aliases = mocks.ofType("aws:kms/alias:Alias").map((a) => a.inputs.name);
            expect(aliases).to.not.include("alias/session-manager/logs");
            const inputs = (mocks.named(`${workloads}-eu-central-1-document`).inputs.content as { inputs: Record<string, unknown> }).inputs;
            expect(inputs.cloudWatchLogGroupName).to.equal("");
            expect(inputs.s3BucketName).to.equal("org-session-logs");
        });

        it("gives instances no CloudWatch Logs permissions, only the bucket's", async () => {
            await run(s3Only);
            const policies = mocks.ofType("aws:iam/policy:Policy");
            expect(policies.length).to.be.greaterThan(0);
            for (const policy of policies) {
                const text = String(policy.inputs.policy);
                expect(text).to.not.include("logs:");
                expect(text).to.include("s3:PutObject");
            }
        });
    });

    describe("configuration errors", () => {
        it("fails before registering anything, naming the key, the value and what is allowed", async () => {
            pulumi.runtime.setAllConfig({ ...organization, "sessionManager:idleSessionTimeout": "90" });
            let error: Error | undefined;
            await Promise.resolve()
                .then(() => loadProgram()())
                .catch((e: Error) => (error = e));
            expect(error?.message).to.match(/sessionManager:idleSessionTimeout: "90" is not valid: a whole number from 1 to 60/);
            await settled();
            expect(mocks.resources).to.deep.equal([]);
            expect(sts.calls).to.equal(0);
        });

        it("names the closest known key for a misspelt one", async () => {
            pulumi.runtime.setAllConfig({ ...organization, "sessionManager:s3BuckeName": "x" });
            let error: Error | undefined;
            await Promise.resolve()
                .then(() => loadProgram()())
                .catch((e: Error) => (error = e));
            expect(error?.message).to.include("sessionManager:s3BuckeName").and.include("did you mean sessionManager:s3BucketName?");
            expect(mocks.resources).to.deep.equal([]);
        });
    });

    describe("Pulumi.prod.yaml", () => {
        const file = () => path.join(repoRoot(), "Pulumi.prod.yaml");

        it("sets every key of the sessionManager namespace, each with a comment", () => {
            const lines = fs.readFileSync(file(), "utf8").split("\n");
            const set = new Map<string, boolean>();
            lines.forEach((line, i) => {
                const key = /^\s*sessionManager:(\w+):/.exec(line)?.[1];
                if (key) set.set(key, line.includes("#") || /^\s*#/.test(lines[i - 1] ?? ""));
            });
            expect([...set.keys()].sort()).to.deep.equal([...knownKeys].sort());
            expect([...set].filter(([, commented]) => !commented).map(([k]) => k)).to.deep.equal([]);
        });

        it("is a valid organization: two accounts, three Regions, S3 and CloudWatch logging, encryption, Run As", async () => {
            const targets = await run(stackConfig(file()));
            const accounts = new Set(Object.keys(targets).map((k) => k.split("/")[0]));
            const regions = new Set(Object.keys(targets).map((k) => k.split("/")[1]));
            expect(accounts.size).to.equal(2);
            expect(regions.size).to.equal(3);
            expect(mocks.ofType(awsProviderType)).to.have.length(Object.keys(targets).length);
            const content = (mocks.ofType(dynamicResourceType)[0].inputs.content as { inputs: Record<string, unknown> }).inputs;
            expect(content.s3BucketName).to.not.equal("");
            expect(content.cloudWatchLogGroupName).to.not.equal("");
            expect(content.kmsKeyId).to.match(/^arn:aws:kms:/);
            expect(content.runAsEnabled).to.equal(true);
        });

        it("gives the workloads account its override: 12-hour sessions as its own user, and says so in the outputs", async () => {
            const targets = await run(stackConfig(file()));
            const workloadTargets = Object.entries(targets).filter(([key]) => key.startsWith("444455556666/"));
            expect(workloadTargets).to.have.length(2);
            for (const [key, output] of workloadTargets) {
                expect((output as { overrides?: unknown }).overrides, key).to.deep.equal({
                    runAsDefaultUser: "workloads-long-sessions",
                    maxSessionDuration: "workloads-long-sessions",
                });
                const content = (mocks.named(`${key.replace("/", "-")}-document`).inputs.content as { inputs: Record<string, unknown> }).inputs;
                expect(content).to.include({ maxSessionDuration: "720", runAsDefaultUser: "ssm-workloads", idleSessionTimeout: "15" });
            }
            expect(targets["111122223333/eu-west-1"]).to.not.have.property("overrides");
        });
    });

    describe("default target (no targets configured)", () => {
        it("asks STS for the current account and uses aws:region", async () => {
            const targets = await run({ "aws:region": "eu-north-1" });
            expect(sts.calls).to.equal(1);
            expect(Object.keys(targets)).to.deep.equal(["123456789012/eu-north-1"]);
            const [provider] = mocks.ofType(awsProviderType);
            expect(provider).to.include({ name: "123456789012-eu-north-1" });
            expect(provider.inputs).to.include({ region: "eu-north-1" });
            expect(provider.inputs.assumeRoles).to.equal(undefined);
            expect(mocks.ofType(dynamicResourceType)[0].inputs).to.include({ accountId: "123456789012", region: "eu-north-1" });
        });

        it("fails as the program loads when no Region is known, before any resource or AWS call", () => {
            pulumi.runtime.setAllConfig({});
            expect(() => loadProgram()).to.throw(pulumi.RunError, /sessionManager:targets is empty.*no Region is set: set aws:region .* or AWS_REGION/);
            expect(mocks.resources).to.deep.equal([]);
            expect(sts.calls).to.equal(0);
        });

        it("takes AWS_REGION when aws:region is not set", async () => {
            process.env.AWS_REGION = "ap-south-1";
            try {
                expect(Object.keys(await run({}))).to.deep.equal(["123456789012/ap-south-1"]);
            } finally {
                delete process.env.AWS_REGION;
            }
        });

        it("needs a Region in StackSet mode too, even with sessionManager:regions set: the StackSet is created in the stack's Region", () => {
            pulumi.runtime.setAllConfig({
                "sessionManager:deployment": "stackset",
                "sessionManager:organizationalUnitIds": JSON.stringify(["ou-ab12-cdef3456"]),
                "sessionManager:regions": JSON.stringify(["eu-west-1"]),
            });
            expect(() => loadProgram()).to.throw(pulumi.RunError, /deployment is stackset.*no Region is set/);
            expect(mocks.resources).to.deep.equal([]);
        });

        it("needs no Region of its own when the targets name every Region", async () => {
            const targets = await run({ "sessionManager:targets": JSON.stringify([{ accountId: "123456789012", regions: ["eu-west-3"] }]) });
            expect(Object.keys(targets)).to.deep.equal(["123456789012/eu-west-3"]);
        });
    });
});

/** The repository root (compiled tests run from dist/test). */
function repoRoot(): string {
    let dir = __dirname;
    while (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
        const parent = path.dirname(dir);
        if (parent === dir) throw new Error(`no Pulumi.yaml above ${__dirname}`);
        dir = parent;
    }
    return dir;
}

/** A stack file's config as the language host hands it over: strings, JSON for everything else. */
function stackConfig(file: string): Record<string, string> {
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

/** The target a resource belongs to, from its name (`<account>-<region>-<part>`). */
function targetOf(resourceName: string): string {
    const match = /^(\d{12}-[a-z]{2}(?:-[a-z]+)+-\d+)-/.exec(resourceName);
    if (!match) throw new Error(`resource ${resourceName} is not named after its target`);
    return match[1];
}
