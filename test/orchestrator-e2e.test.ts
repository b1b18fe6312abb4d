import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { GetDocumentCommand, SSMClient, UpdateDocumentCommand, UpdateDocumentDefaultVersionCommand } from "@aws-sdk/client-ssm";
import { expect } from "chai";
import { AwsProxy, startAwsProxy } from "../devtools/awsProxy";
import { ChildRun, runScript } from "./support/childProcess";
import { engineEnv } from "../devtools/engine";
import { projectCopy } from "../devtools/project";
import { Moto, startMoto } from "../devtools/moto";
import { orgFlags, writeOrgConfig } from "./support/org";
import type { DocumentChange } from "../orchestrator/drift";

const accounts = ["111111111111", "222222222222", "333333333333"];
const regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const documentName = "SSM-SessionManagerRunShell";
/** The target edited out of band, and the one whose endpoint goes away. */
const edited = "222222222222/eu-west-1";
const unreachable = "333333333333/ap-southeast-2";

interface JsonTarget {
    target: string;
    result: string;
    changes: number;
    changeSummary: Record<string, number>;
    logFile: string;
    error?: string;
    drift?: { target: string; fields: { field: string; wanted: unknown; found: unknown }[] }[];
    documentChanges?: DocumentChange[];
}

describe("organization rollout: 3 accounts x 3 Regions through the real engine", function () {
    // Each command runs nine stacks, three at a time, through the CLI; a busy 2-core machine needs minutes.
    this.timeout(12 * 60_000);

    const prefix = `e2e-org-${process.pid}`;
    let moto: Moto;
    let proxy: AwsProxy;
    let workDir: string;
    let env: Record<string, string>;

    function org(...args: string[]): Promise<ChildRun> {
        const common = orgFlags(workDir, prefix, 3, path.join(workDir, "project"));
        return runScript("scripts/org.ts", [...args, ...common], { env, timeoutMs: 10 * 60_000 });
    }

    function targetsOf(run: ChildRun): Map<string, JsonTarget> {
        const report = JSON.parse(run.stdout) as { targets: JsonTarget[] };
        return new Map(report.targets.map((t) => [t.target, t]));
    }

    async function ssmFor(target: string): Promise<SSMClient> {
        const [accountId, region] = target.split("/");
        // Explicit: the engine gets moto's dummy credentials through its env, this process does not.
        const sts = new STSClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/OrgAdmin`, RoleSessionName: "console" }));
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("moto returned no credentials");
        return new SSMClient({
            region,
            endpoint: moto.endpoint,
            credentials: { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken },
        });
    }

    async function liveIdleTimeout(target: string): Promise<string> {
        const doc = await (await ssmFor(target)).send(new GetDocumentCommand({ Name: documentName }));
        return (JSON.parse(doc.Content ?? "{}") as { inputs: { idleSessionTimeout: string } }).inputs.idleSessionTimeout;
    }

    before(async () => {
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-e2e-"));
        // The stacks' Pulumi.<stack>.yaml files go to this copy, never to the repository.
        projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        proxy = await startAwsProxy(moto.endpoint);
        env = { ...(await engineEnv(moto, path.join(workDir, "backend"))), AWS_ENDPOINT_URL: proxy.endpoint };
        writeOrgConfig(workDir, accounts, regions, { idleSessionTimeout: 15 });
    });

    after(async () => {
        await proxy?.close();
        await moto?.stop();
        // The stacks' config files sit beside Pulumi.yaml; their state goes with the temp backend.
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("up applies the preferences in all nine accounts and Regions, through the assumed roles", async () => {
        const run = await org("up", "--json");
        expect(run.code, run.stderr).to.equal(0);
        const targets = targetsOf(run);
        expect([...targets.keys()]).to.have.members(accounts.flatMap((a) => regions.map((r) => `${a}/${r}`)));
        for (const t of targets.values()) expect(t.result, t.target).to.equal("succeeded");
        // Each new document is reported as created, with no field rows: there was no document to compare.
        for (const t of targets.values())
            expect(t.documentChanges, t.target).to.deep.equal([
                {
                    target: t.target,
                    op: "create",
                    fields: [],
                    repairsDrift: false,
                    adoption: { kind: "absent", summary: "there is no document: up creates it, and destroy deletes it again (onDelete: restore)" },
                },
            ]);
        expect(run.stderr).to.include(`engine output in ${path.join(workDir, "logs")}/<stack>.log`);
        expect(fs.existsSync(path.join(workDir, "logs", `${prefix}.111111111111.us-east-1.log`))).to.equal(true);
        for (const t of targets.keys()) expect(await liveIdleTimeout(t), t).to.equal("15");
        // Documents landed in the targets' accounts, not in the caller's.
        const ssmAccounts = new Set(proxy.calls.filter((c) => c.service === "ssm").map((c) => c.account));
        expect([...ssmAccounts].sort()).to.deep.equal(accounts);
    });

    it("drift finds nothing right after up", async () => {
        const run = await org("drift", "--json");
        expect(run.code, run.stderr).to.equal(0);
        for (const t of targetsOf(run).values()) expect(t.result, t.target).to.equal("in sync");
    });

    it("drift names the field an out-of-band edit changed, wanted vs found, in that target only", async () => {
        const ssm = await ssmFor(edited);
        const doc = await ssm.send(new GetDocumentCommand({ Name: documentName }));
        const content = JSON.parse(doc.Content ?? "{}") as { inputs: Record<string, unknown> };
        content.inputs.idleSessionTimeout = "45";
        const updated = await ssm.send(new UpdateDocumentCommand({ Name: documentName, Content: JSON.stringify(content), DocumentVersion: "$LATEST" }));
        await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: documentName, DocumentVersion: updated.DocumentDescription?.DocumentVersion }));

        const run = await org("drift", "--json");
        expect(run.code, run.stderr).to.equal(2);
        const targets = targetsOf(run);
        expect(targets.get(edited)?.result).to.equal("drifted");
        expect(targets.get(edited)?.drift?.[0].fields).to.deep.equal([{ field: "inputs.idleSessionTimeout", wanted: "15", found: "45" }]);
        for (const t of targets.values()) if (t.target !== edited) expect(t.result, t.target).to.equal("in sync");
        // The human table (stderr when --json) names the field too.
        expect(run.stderr).to.match(/222222222222\/eu-west-1\s+inputs\.idleSessionTimeout\s+"15"\s+"45"/);

        const markdown = await org("drift", "--markdown");
        expect(markdown.code).to.equal(2);
        expect(markdown.stdout).to.include('| 222222222222/eu-west-1 | `inputs.idleSessionTimeout` | `"15"` | `"45"` |');
    });

    it("preview names the field up would put back, current vs wanted, and marks that target as a drift repair", async () => {
        const repair: DocumentChange = {
            target: edited,
            op: "update",
            fields: [{ field: "inputs.idleSessionTimeout", current: "45", wanted: "15" }],
            repairsDrift: true,
        };
        const run = await org("preview", "--json");
        expect(run.code, run.stderr).to.equal(0);
        const targets = targetsOf(run);
        expect(targets.get(edited)?.documentChanges).to.deep.equal([repair]);
        for (const t of targets.values()) if (t.target !== edited) expect(t.documentChanges, t.target).to.deep.equal([]);
        expect(run.stderr).to.match(/222222222222\/eu-west-1 \*\s+inputs\.idleSessionTimeout\s+"45"\s+"15"\n/);

        const markdown = await org("preview", "--markdown");
        expect(markdown.code, markdown.stderr).to.equal(0);
        expect(markdown.stdout).to.include('| 222222222222/eu-west-1 | `inputs.idleSessionTimeout` | `"45"` | `"15"` | *repairs drift* |');
    });

    it("up repairs only the edited target, while a target whose endpoint is down fails alone", async () => {
        proxy.unreachable.add(unreachable);
        const run = await org("up", "--json");
        expect(run.code, run.stderr).to.equal(1);
        const targets = targetsOf(run);
        const failed = targets.get(unreachable);
        expect(failed?.result).to.equal("failed");
        expect(failed?.error).to.be.a("string").and.not.equal("");
        expect(fs.readFileSync(failed?.logFile ?? "", "utf8")).to.match(/error/i);
        expect(targets.get(edited)).to.deep.include({ result: "succeeded", changes: 1 });
        expect(targets.get(edited)?.changeSummary.update).to.equal(1);
        expect(targets.get(edited)?.documentChanges?.[0]).to.deep.include({ op: "update", repairsDrift: true });
        for (const t of targets.values()) {
            if (t.target === edited || t.target === unreachable) continue;
            expect(t, t.target).to.deep.include({ result: "succeeded", changes: 0 });
        }
        expect(run.stderr).to.match(/333333333333\/ap-southeast-2\s+\S+\s+failed/);
        expect(run.stderr).to.include(`log: ${failed?.logFile}`);
        expect(await liveIdleTimeout(edited)).to.equal("15");
    });

    it("a rerun after the fault is gone succeeds everywhere and changes nothing", async () => {
        proxy.unreachable.clear();
        const run = await org("up", "--json");
        expect(run.code, run.stderr).to.equal(0);
        for (const t of targetsOf(run).values()) expect(t, t.target).to.deep.include({ result: "succeeded", changes: 0 });
    });

    it("after a config change, preview lists the changed fields of every target, none marked as a drift repair, and changes nothing", async () => {
        writeOrgConfig(workDir, accounts, regions, { idleSessionTimeout: 25, onDelete: "retain" });
        const run = await org("preview", "--json");
        expect(run.code, run.stderr).to.equal(0);
        const targets = targetsOf(run);
        expect(targets.size).to.equal(9);
        for (const t of targets.values())
            expect(t.documentChanges, t.target).to.deep.equal([
                {
                    target: t.target,
                    op: "update",
                    fields: [
                        { field: "inputs.idleSessionTimeout", current: "15", wanted: "25" },
                        { field: "onDelete", current: "restore", wanted: "retain" },
                    ],
                    repairsDrift: false,
                },
            ]);
        for (const t of targets.keys()) expect(await liveIdleTimeout(t), t).to.equal("15");
    });
});
