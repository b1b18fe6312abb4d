// An organization with a sandbox OU exception and one regulated account, rolled out by
// `npm run org` through the real engine against moto (Organizations, STS, SSM): the accounts
// are found under an OU, the OUs above each are asked of Organizations, and each stack gets
// its account's overrides; then one direct stack over the same accounts asks Organizations itself.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { GetDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import { expect } from "chai";
import { Stack } from "@pulumi/pulumi/automation";
import { createLocalStack, engineEnv, removeLocalStack } from "../devtools/engine";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";
import { ChildRun, runScript } from "./support/childProcess";
import { orgFlags } from "./support/org";
import { createOrganization } from "./support/organization";

const documentName = "SSM-SessionManagerRunShell";
const regions = ["us-east-1", "eu-west-1"];

interface JsonTarget {
    target: string;
    accountId: string;
    result: string;
    changes: number;
    overrides?: Record<string, Record<string, string>>;
    documentChanges?: unknown[];
}

describe("overrides through the real engine: a sandbox OU and a regulated account, by the loop of stacks and by one direct stack", function () {
    this.timeout(10 * 60_000);

    const prefix = `ovr-${process.pid}`;
    let moto: Moto;
    let workDir: string;
    let env: Record<string, string>;
    const ids: Record<string, string> = {};

    function org(...args: string[]): Promise<ChildRun> {
        return runScript("scripts/org.ts", [...args, ...orgFlags(workDir, prefix, 3), "--role-name", "OrgAdmin"], { env, timeoutMs: 8 * 60_000 });
    }

    /** `npm run org -- audit --json`: it runs no stack, so it takes no --log-dir. */
    function audit(config: string, ...args: string[]): Promise<ChildRun> {
        const flags = ["--config", config, "--stack-prefix", prefix, "--project-dir", path.join(workDir, "project"), "--role-name", "OrgAdmin"];
        return runScript("scripts/org.ts", ["audit", "--json", ...flags, ...args], { env, timeoutMs: 2 * 60_000 });
    }

    function targetsOf(run: ChildRun): Map<string, JsonTarget> {
        const report = JSON.parse(run.stdout) as { targets: JsonTarget[] };
        return new Map(report.targets.map((t) => [t.accountId, t]));
    }

    async function liveInputs(accountId: string, region: string): Promise<Record<string, unknown>> {
        const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
        const sts = new STSClient({ region, endpoint: moto.endpoint, credentials });
        const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/OrgAdmin`, RoleSessionName: "check" }));
        const ssm = new SSMClient({
            region,
            endpoint: moto.endpoint,
            credentials: { accessKeyId: c?.AccessKeyId as string, secretAccessKey: c?.SecretAccessKey as string, sessionToken: c?.SessionToken },
        });
        const doc = await ssm.send(new GetDocumentCommand({ Name: documentName }));
        return (JSON.parse(doc.Content ?? "{}") as { inputs: Record<string, unknown> }).inputs;
    }

    before(async () => {
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-overrides-"));
        projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        env = await engineEnv(moto, path.join(workDir, "backend"));
        const client = new OrganizationsClient({
            region: "us-east-1",
            endpoint: moto.endpoint,
            credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
        });
        Object.assign(
            ids,
            await createOrganization(client, {
                ous: [
                    ["workloads", "root"],
                    ["sandbox", "workloads"],
                    ["team", "sandbox"],
                ],
                accounts: [
                    ["app", "workloads"],
                    ["play", "team"],
                    ["regulated", "workloads"],
                ],
            }),
        );
        client.destroy();
        const config = [
            "config:",
            "  aws:region: us-east-1",
            "  sessionManager:sessionDataEncryption: false",
            "  sessionManager:createCWLogGroup: false",
            "  sessionManager:instancePolicy: false",
            "  sessionManager:idleSessionTimeout: 20",
            `  sessionManager:organizationalUnitIds: [${ids.workloads}]`,
            `  sessionManager:regions: [${regions.join(", ")}]`,
            "  sessionManager:overrides:",
            "    - name: sandbox",
            `      organizationalUnitIds: [${ids.sandbox}]`,
            "      idleSessionTimeout: 60",
            "    - name: regulated",
            `      accountIds: ["${ids.regulated}"]`,
            "      maxSessionDuration: 720",
            "      runAsEnabled: true",
            "      runAsDefaultUser: ssm-regulated",
        ];
        fs.writeFileSync(path.join(workDir, "org.yaml"), `${config.join("\n")}\n`);
    });

    after(async () => {
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("up gives the sandbox's accounts (child OUs included) and the regulated account their overrides, and the rest the base settings", async () => {
        const run = await org("up", "--json");
        expect(run.code, run.stderr).to.equal(0);
        const targets = targetsOf(run);
        expect([...targets.keys()].sort()).to.deep.equal([ids.app, ids.play, ids.regulated].sort());
        for (const region of regions) {
            expect(await liveInputs(ids.play, region)).to.include({ idleSessionTimeout: "60", maxSessionDuration: "60", runAsEnabled: false });
            expect(await liveInputs(ids.regulated, region)).to.include({
                idleSessionTimeout: "20",
                maxSessionDuration: "720",
                runAsEnabled: true,
                runAsDefaultUser: "ssm-regulated",
            });
            expect(await liveInputs(ids.app, region)).to.include({ idleSessionTimeout: "20", maxSessionDuration: "60", runAsEnabled: false });
        }
        expect(targets.get(ids.play)?.overrides).to.deep.equal({
            "us-east-1": { idleSessionTimeout: "sandbox" },
            "eu-west-1": { idleSessionTimeout: "sandbox" },
        });
        expect(targets.get(ids.regulated)?.overrides?.["eu-west-1"]).to.deep.equal({
            runAsEnabled: "regulated",
            runAsDefaultUser: "regulated",
            maxSessionDuration: "regulated",
        });
        expect(targets.get(ids.app)).to.not.have.property("overrides");
        expect(run.stderr).to.include(`${ids.play}/eu-west-1: idleSessionTimeout from sandbox`);
    });

    it("a preview afterwards changes nothing, and still names the overrides", async () => {
        const run = await org("preview", "--markdown");
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stdout)
            .to.include("#### Overrides")
            .and.include(`| ${ids.regulated}/us-east-1 | runAsEnabled from regulated, runAsDefaultUser from regulated, maxSessionDuration from regulated |`);
        expect(run.stdout).not.to.include("What `up` would change");
    });

    it("the audit, with no Pulumi state, finds every target compliant with its overrides and names them", async () => {
        const run = await audit(path.join(workDir, "org.yaml"));
        expect(run.code, run.stderr).to.equal(0);
        const report = JSON.parse(run.stdout) as { targets: { target: string; status: string; overrides: Record<string, string> }[] };
        expect(report.targets).to.have.length(3 * regions.length);
        for (const t of report.targets) expect(t.status, t.target).to.equal("compliant");
        const byTarget = new Map(report.targets.map((t) => [t.target, t]));
        expect(byTarget.get(`${ids.play}/eu-west-1`)?.overrides).to.deep.equal({ idleSessionTimeout: "sandbox" });
        expect(byTarget.get(`${ids.regulated}/us-east-1`)?.overrides).to.deep.equal({
            runAsEnabled: "regulated",
            runAsDefaultUser: "regulated",
            maxSessionDuration: "regulated",
        });
        expect(byTarget.get(`${ids.app}/us-east-1`)?.overrides).to.deep.equal({});
    });

    describe("direct mode: one stack over the same accounts, the OUs above each asked of Organizations by the program", () => {
        let stack: Stack;

        before(async () => {
            const overrides = [
                { name: "sandbox", organizationalUnitIds: [ids.sandbox], idleSessionTimeout: 45 },
                { name: "regulated", accountIds: [ids.regulated], maxSessionDuration: 600, runAsEnabled: true, runAsDefaultUser: "ssm-direct" },
            ];
            stack = await createLocalStack({
                stackName: "overrides-direct",
                workDir: path.join(workDir, "project"),
                backendDir: path.join(workDir, "backend"),
                env,
                config: {
                    "aws:region": "us-east-1",
                    "sessionManager:sessionDataEncryption": "false",
                    "sessionManager:createCWLogGroup": "false",
                    "sessionManager:instancePolicy": "false",
                    "sessionManager:takeOver": "true",
                    "sessionManager:targets": JSON.stringify(
                        [ids.app, ids.play, ids.regulated].map((accountId) => ({ accountId, regions: ["eu-west-1"], roleName: "OrgAdmin" })),
                    ),
                    "sessionManager:overrides": JSON.stringify(overrides),
                },
            });
        });

        after(async () => {
            if (stack) await removeLocalStack(stack);
        });

        it("up applies each account's overrides and exports where each field came from", async () => {
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            expect(await liveInputs(ids.play, "eu-west-1")).to.include({ idleSessionTimeout: "45", maxSessionDuration: "60" });
            expect(await liveInputs(ids.regulated, "eu-west-1")).to.include({
                idleSessionTimeout: "20",
                maxSessionDuration: "600",
                runAsDefaultUser: "ssm-direct",
            });
            expect(await liveInputs(ids.app, "eu-west-1")).to.include({ idleSessionTimeout: "20", maxSessionDuration: "60", runAsEnabled: false });
            const targets = up.outputs.targets.value as Record<string, { overrides?: Record<string, string> }>;
            expect(targets[`${ids.play}/eu-west-1`].overrides).to.deep.equal({ idleSessionTimeout: "sandbox" });
            expect(targets[`${ids.app}/eu-west-1`]).to.not.have.property("overrides");
            expect(up.stdout).to.include(
                `${ids.regulated}/eu-west-1: runAsEnabled from regulated, runAsDefaultUser from regulated, maxSessionDuration from regulated`,
            );
        });

        it("a preview afterwards changes nothing", async () => {
            const preview = await stack.preview();
            expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).to.deep.equal([]);
        });

        it("the audit of a config that says the same, told the stack's owner tag, finds every target compliant", async () => {
            const direct = [
                "config:",
                "  aws:region: us-east-1",
                "  sessionManager:sessionDataEncryption: false",
                "  sessionManager:createCWLogGroup: false",
                "  sessionManager:instancePolicy: false",
                "  sessionManager:targets:",
                ...[ids.app, ids.play, ids.regulated].map((a) => `    - { accountId: "${a}", regions: [eu-west-1], roleName: OrgAdmin }`),
                "  sessionManager:overrides:",
                `    - { name: sandbox, organizationalUnitIds: [${ids.sandbox}], idleSessionTimeout: 45 }`,
                `    - { name: regulated, accountIds: ["${ids.regulated}"], maxSessionDuration: 600, runAsEnabled: true, runAsDefaultUser: ssm-direct }`,
            ];
            fs.writeFileSync(path.join(workDir, "direct.yaml"), `${direct.join("\n")}\n`);
            const run = await audit(path.join(workDir, "direct.yaml"), "--owner", "session-manager-preferences/overrides-direct");
            expect(run.code, run.stderr).to.equal(0);
            const report = JSON.parse(run.stdout) as { targets: { target: string; status: string }[] };
            expect(report.targets.map((t) => [t.target, t.status]).sort()).to.deep.equal(
                [ids.app, ids.play, ids.regulated].map((a) => [`${a}/eu-west-1`, "compliant"]).sort(),
            );
        });
    });
});
