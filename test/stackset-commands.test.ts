// `npm run org -- apply-overrides` and `npm run org -- repair` for a deployment: stackset config,
// against moto Organizations and CloudFormation behind the recording proxy (moto ignores
// UpdateStackInstances' DeploymentTargets, so the calls themselves are what is checked).
import { CloudFormationClient, CreateStackInstancesCommand, CreateStackSetCommand } from "@aws-sdk/client-cloudformation";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { createOrganization } from "./support/organization";
import { recordedUpdate } from "./support/stackSetCalls";
import { runOrg } from "./support/org";
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { AwsProxy, startAwsProxy } from "../devtools/awsProxy";
import { Moto, motoEnv, startMoto } from "../devtools/moto";
import { stackSetOverridesPreview } from "../components/program";
import { parseCli, UsageError } from "../orchestrator/cli";
import { parseOrgConfig } from "../orchestrator/orgConfig";
import { freshRepairToken, instancesToRepair, runStackSetCommand } from "../orchestrator/stackSetCommands";
import { planStackSet } from "../core/stackSet";
import { overrideGroups } from "../providers/stackSetInstances";

const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
/** What the command line fills in for a repair that audits first. */
const commandDefaults = { roleName: "OrganizationAccountAccessRole", parallel: 4, owners: [], projectDir: process.cwd() };
const regions = ["eu-west-1", "us-east-1"];

function io() {
    const out = { stdout: "", stderr: "" };
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on("data", (d: Buffer) => (out.stdout += d.toString()));
    stderr.on("data", (d: Buffer) => (out.stderr += d.toString()));
    return { out, io: { stdout, stderr, env: { AWS_REGION: "us-east-1" } as NodeJS.ProcessEnv } };
}

/** The UpdateStackInstances calls the proxy saw: accounts, Regions and overrides of each. */
function updatesSeen(proxy: AwsProxy): { accounts: string[]; regions: string[]; overrides: Record<string, string>; filter: string | null }[] {
    return proxy.calls
        .filter((c) => c.action === "UpdateStackInstances")
        .map((c) => {
            const update = recordedUpdate(c.body ?? "");
            return { accounts: update.accounts, regions: update.regions, overrides: update.overrides, filter: update.accountFilterType ?? null };
        });
}

describe("StackSet commands: apply-overrides and repair", function () {
    this.timeout(120_000);
    let moto: Moto;
    let proxy: AwsProxy;
    let dir: string;
    let orgs: OrganizationsClient;
    let cfn: CloudFormationClient;
    const ids: Record<string, string> = {};
    const saved = { ...process.env };

    function writeConfig(text: string): string {
        const file = path.join(dir, `Pulumi.${Math.random().toString(36).slice(2)}.yaml`);
        fs.writeFileSync(file, text);
        return file;
    }

    before(async () => {
        moto = await startMoto();
        proxy = await startAwsProxy(moto.endpoint, { recordBodies: true, unreachableService: "none" });
        Object.assign(process.env, motoEnv(moto));
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-stackset-commands-"));
        orgs = new OrganizationsClient({ region: "us-east-1", endpoint: proxy.endpoint, credentials });
        cfn = new CloudFormationClient({ region: "us-east-1", endpoint: proxy.endpoint, credentials });
        const made = await createOrganization(orgs, {
            ous: [
                ["workloads", "root"],
                ["sandbox", "workloads"],
            ],
            accounts: [
                ["plain", "workloads"],
                ["regulated", "workloads"],
                ["sandboxAccount", "sandbox"],
            ],
        });
        Object.assign(ids, made);
        const parameters = { IdleSessionTimeout: { Type: "Number", Default: "20" }, RepairToken: { Type: "String", Default: "" } };
        const body = JSON.stringify({ Parameters: parameters, Resources: { Marker: { Type: "AWS::SNS::Topic", Properties: {} } } });
        await cfn.send(new CreateStackSetCommand({ StackSetName: "session-manager-preferences", TemplateBody: body, PermissionModel: "SERVICE_MANAGED" }));
        await cfn.send(
            new CreateStackInstancesCommand({
                StackSetName: "session-manager-preferences",
                DeploymentTargets: { OrganizationalUnitIds: [ids.workloads] },
                Regions: regions,
            }),
        );
    });

    after(async () => {
        process.env = saved;
        fs.rmSync(dir, { recursive: true, force: true });
        await proxy?.close();
        await moto?.stop();
    });

    beforeEach(() => proxy.resetCounts());

    const stackSetConfig = () => `config:
  aws:region: us-east-1
  sessionManager:deployment: stackset
  sessionManager:organizationalUnitIds: ["${ids.workloads}"]
  sessionManager:regions: [eu-west-1, us-east-1]
  sessionManager:overrides:
    - name: sandbox
      organizationalUnitIds: ["${ids.sandbox}"]
      idleSessionTimeout: 60
    - name: regulated
      accountIds: ["${ids.regulated}"]
      maxSessionDuration: 720
      runAsEnabled: true
      runAsDefaultUser: ssm-user
`;

    it("apply-overrides: finds the OUs above each account (a child OU's account too) and updates the instances whose overrides differ, each group once, naming where each field comes from", async () => {
        const file = writeConfig(stackSetConfig());
        const { out, io: streams } = io();
        const result = await runStackSetCommand(
            { ...commandDefaults, command: "apply-overrides", configFile: file, instances: [], json: true },
            streams,
            { cloudFormation: cfn, organizations: orgs },
            { pollMs: 20 },
        );
        expect(result.exitCode, out.stderr).to.equal(0);
        const seen = updatesSeen(proxy);
        // moto made the stack instances for the three accounts of the OU and its child OU; the unselected one is named by no call.
        expect(seen).to.have.deep.members([
            {
                accounts: [ids.regulated],
                regions,
                overrides: { MaxSessionDuration: "720", RunAsDefaultUser: "ssm-user", RunAsEnabled: "true" },
                filter: "INTERSECTION",
            },
            { accounts: [ids.sandboxAccount], regions, overrides: { IdleSessionTimeout: "60" }, filter: "INTERSECTION" },
        ]);
        expect(result.groups?.map((g) => g.accounts)).to.have.deep.members([[ids.regulated], [ids.sandboxAccount]]);
        expect(out.stderr).to.include(`${ids.sandboxAccount} in eu-west-1, us-east-1: idleSessionTimeout from sandbox`);
        expect(JSON.parse(out.stdout)).to.include({ command: "apply-overrides", stackSet: "session-manager-preferences" });
        expect(proxy.calls.filter((c) => c.service === "organizations").every((c) => /^(List|Describe)/.test(c.action))).to.equal(true);
    });

    it("up's overrides resource (the provider the engine runs): on create, the same calls as apply-overrides; a preview's diff calls nothing; delete changes nothing", async () => {
        const settings = parseOrgConfig(stackSetConfig(), "Pulumi.stackset.yaml", { stackSet: true }).settings;
        const plan = planStackSet(settings, "us-east-1");
        const groups = await overrideGroups(settings, plan, orgs);
        const provider = (require("../api/provider") as typeof import("../api/provider")).stackSetOverridesProvider;
        const inputs = { region: "us-east-1", plan, groups };
        const previous = process.env.AWS_ENDPOINT_URL;
        process.env.AWS_ENDPOINT_URL = proxy.endpoint;
        try {
            proxy.resetCounts();
            const diff = await provider.diff!("session-manager-preferences/overrides", inputs, { ...inputs, groups: [] });
            expect(diff.changes).to.equal(true);
            expect((await provider.diff!("session-manager-preferences/overrides", inputs, JSON.parse(JSON.stringify(inputs)))).changes).to.equal(false);
            expect(
                (await provider.diff!("session-manager-preferences/overrides", inputs, { ...inputs, plan: { ...plan, regions: ["eu-west-1"] } })).changes,
                "a change of the instances applies the overrides again",
            ).to.equal(true);
            expect(proxy.calls, "a diff calls nothing").to.deep.equal([]);
            const created = await provider.create(inputs);
            expect(created.id).to.equal("session-manager-preferences/overrides");
            expect(updatesSeen(proxy)).to.have.deep.members([
                {
                    accounts: [ids.regulated],
                    regions,
                    overrides: { MaxSessionDuration: "720", RunAsDefaultUser: "ssm-user", RunAsEnabled: "true" },
                    filter: "INTERSECTION",
                },
                { accounts: [ids.sandboxAccount], regions, overrides: { IdleSessionTimeout: "60" }, filter: "INTERSECTION" },
            ]);
            proxy.resetCounts();
            await provider.delete!("session-manager-preferences/overrides", inputs);
            expect(proxy.calls).to.deep.equal([]);
        } finally {
            process.env.AWS_ENDPOINT_URL = previous;
        }
    });

    it("repair, through the command line: one UpdateStackInstances per override group, naming exactly the listed instances, their overrides kept", async () => {
        const file = writeConfig(stackSetConfig());
        const instances = `${ids.regulated}/us-east-1,${ids.plain}/eu-west-1,${ids.sandboxAccount}/eu-west-1`;
        const result = await runOrg(["repair", "--config", file, "--instances", instances, "--token", "repair-test-1"], {
            env: { AWS_REGION: "us-east-1" },
            endpoint: proxy.endpoint,
        });
        expect(result.exitCode, result.stderr).to.equal(0);
        const seen = updatesSeen(proxy).map(({ accounts, regions: r, overrides }) => ({ accounts, regions: r, overrides }));
        expect(seen).to.have.deep.members([
            {
                accounts: [ids.regulated],
                regions: ["us-east-1"],
                overrides: { MaxSessionDuration: "720", RunAsDefaultUser: "ssm-user", RunAsEnabled: "true", RepairToken: "repair-test-1" },
            },
            { accounts: [ids.plain], regions: ["eu-west-1"], overrides: { RepairToken: "repair-test-1" } },
            { accounts: [ids.sandboxAccount], regions: ["eu-west-1"], overrides: { IdleSessionTimeout: "60", RepairToken: "repair-test-1" } },
        ]);
        const cloudFormationWrites = proxy.calls.filter((c) => c.service === "cloudformation" && !/^(List|Describe)/.test(c.action));
        expect(cloudFormationWrites.map((c) => c.action)).to.deep.equal(["UpdateStackInstances", "UpdateStackInstances", "UpdateStackInstances"]);
        expect(result.stdout).to.include("repair: 3 UpdateStackInstances operation(s) on StackSet session-manager-preferences succeeded");
    });

    it("the StackSet program shows at preview which instances get which overrides, and fails before any resource on a conflict", async () => {
        const settingsOf = (text: string) => parseOrgConfig(text, "Pulumi.stackset.yaml", { stackSet: true }).settings;
        const previous = process.env.AWS_ENDPOINT_URL;
        process.env.AWS_ENDPOINT_URL = proxy.endpoint;
        try {
            const groups = await stackSetOverridesPreview(settingsOf(stackSetConfig()));
            expect(groups?.map((g) => [g.accounts, g.regions, g.sources])).to.have.deep.members([
                [[ids.regulated], regions, { maxSessionDuration: "regulated", runAsDefaultUser: "regulated", runAsEnabled: "regulated" }],
                [[ids.sandboxAccount], regions, { idleSessionTimeout: "sandbox" }],
            ]);
            const conflicting = `${stackSetConfig()}    - name: also-sandbox
      organizationalUnitIds: ["${ids.sandbox}"]
      idleSessionTimeout: 30
`;
            let failure: Error | undefined;
            await stackSetOverridesPreview(settingsOf(conflicting)).catch((err: Error) => (failure = err));
            expect(failure?.message).to.include("overrides sandbox (overrides[0]) and also-sandbox (overrides[2]) both set idleSessionTimeout");
            expect(await stackSetOverridesPreview(settingsOf(stackSetConfig().split("  sessionManager:overrides:")[0]))).to.equal(undefined);
        } finally {
            process.env.AWS_ENDPOINT_URL = previous;
        }
    });

    it("refuses a direct config, naming what to use instead, and an instance the StackSet does not deploy to, before any call", async () => {
        const direct = writeConfig("config:\n  aws:region: us-east-1\n  sessionManager:idleSessionTimeout: 30\n");
        const a = io();
        const r1 = await runStackSetCommand(
            { ...commandDefaults, command: "repair", configFile: direct, instances: [{ accountId: ids.plain, region: "eu-west-1" }], json: false },
            a.io,
            {
                cloudFormation: cfn,
                organizations: orgs,
            },
        );
        expect(r1.exitCode).to.equal(1);
        expect(a.out.stderr).to.include("repair is for a deployment: stackset config").and.include("npm run org -- up puts back what drifted");
        const b = io();
        const r2 = await runStackSetCommand(
            {
                ...commandDefaults,
                command: "repair",
                configFile: writeConfig(stackSetConfig()),
                instances: [{ accountId: ids.plain, region: "ap-south-1" }],
                json: false,
            },
            b.io,
            { cloudFormation: cfn, organizations: orgs },
        );
        expect(r2.exitCode).to.equal(1);
        expect(b.out.stderr).to.include(`${ids.plain}/ap-south-1`).and.include("stack instances of StackSet session-manager-preferences");
        expect(proxy.calls.filter((c) => c.action === "UpdateStackInstances")).to.deep.equal([]);
    });
});

describe("StackSet commands on the command line", () => {
    const parse = (...argv: string[]) => parseCli(argv, "/repo");

    it("parses repair's instances and token, and apply-overrides", () => {
        expect(parse("repair", "--instances", "111122223333/eu-west-1, 444455556666/us-east-1", "--token", "t-1")).to.deep.include({
            command: "repair",
            instances: [
                { accountId: "111122223333", region: "eu-west-1" },
                { accountId: "444455556666", region: "us-east-1" },
            ],
            token: "t-1",
        });
        expect(parse("apply-overrides", "--json")).to.deep.include({ command: "apply-overrides", instances: [], json: true });
        // Without --instances a repair audits first, with the audit's flags.
        expect(parse("repair", "--role-name", "Reader", "--parallel", "3", "--owner", "acme/*")).to.deep.include({
            command: "repair",
            instances: [],
            roleName: "Reader",
            parallel: 3,
            owners: ["acme/*"],
        });
    });

    const refused: [string[], RegExp][] = [
        [["repair", "--instances", "1111/eu-west-1"], /"1111\/eu-west-1" is not <12-digit account ID>\/<region>/],
        [["repair", "--instances", "111122223333/eu-west-1,111122223333/eu-west-1"], /111122223333\/eu-west-1 is listed twice/],
        [["repair", "--instances", "111122223333/mars-north-1"], /is not <12-digit account ID>\/<region>/],
        [["repair", "--instances", "111122223333/eu-west-1", "--token", "has space"], /--token has space: 1 to 128 letters, digits and \._:-/],
        [["repair", "--instances", "111122223333/eu-west-1", "--parallel", "2"], /--parallel goes with a repair that audits first/],
        [["repair", "--stack-prefix", "x"], /--stack-prefix does not go with repair/],
        [["repair", "--owner", " bad"], /--owner " bad": an owner tag value/],
        [["repair", "--role-name", "bad/role"], /--role-name bad\/role/],
        [["apply-overrides", "--instances", "111122223333/eu-west-1"], /--instances does not go with apply-overrides/],
        [["up", "--instances", "111122223333/eu-west-1"], /--instances goes with repair only/],
        [["up", "--token", "x"], /--token goes with repair only/],
    ];
    for (const [argv, message] of refused) {
        it(`refuses ${argv.join(" ")}`, () => {
            expect(() => parse(...argv)).to.throw(UsageError, message);
        });
    }

    it("repairs the compliance report's drifted and missing instances, not another owner's nor the unreachable", () => {
        const findings = [
            { accountId: "111122223333", region: "eu-west-1", status: "compliant" },
            { accountId: "111122223333", region: "us-east-1", status: "drifted" },
            { accountId: "444455556666", region: "eu-west-1", status: "missing" },
            { accountId: "444455556666", region: "us-east-1", status: "owned by another" },
            { accountId: "777788889999", region: "eu-west-1", status: "unreachable" },
        ];
        expect(instancesToRepair(findings)).to.deep.equal([
            { accountId: "111122223333", region: "us-east-1" },
            { accountId: "444455556666", region: "eu-west-1" },
        ]);
    });

    it("makes a fresh repair token the template's RepairToken parameter allows", () => {
        expect(freshRepairToken(new Date("2026-12-06T11:00:05.123Z"))).to.equal("repair-20261206T110005Z");
    });
});
