// Shards through the real engine against moto: three `npm run org -- <command> --shard k/3`
// processes at once, their JSON reports merged, give what one unsharded run gives.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { createLocalStack, engineEnv } from "../devtools/engine";
import { DocumentInspector } from "../devtools/documents";
import { projectCopy } from "../devtools/project";
import { Moto, startMoto } from "../devtools/moto";
import { shardOf } from "../orchestrator/targets";
import { ChildRun, runScript } from "./support/childProcess";
import { orgFlags, writeOrgConfig } from "./support/org";

const regions = ["us-east-1", "eu-west-1"];
/** Two accounts in each of the three shards. */
const accounts = (() => {
    const found: string[] = [];
    for (let i = 0; found.length < 6; i++) {
        const id = String(515151000000 + i);
        if (found.filter((a) => shardOf(a, 3) === shardOf(id, 3)).length < 2) found.push(id);
    }
    return found;
})();

interface JsonReport {
    command: string;
    exitCode: number;
    shard?: { index: number; count: number };
    staleStacks?: string[];
    targets: {
        target: string;
        stack: string;
        result: string;
        changes: number;
        drift?: unknown;
        documentChanges?: unknown;
        durationMs?: number;
        logFile?: string;
    }[];
}

/** What two runs must agree on: every target's outcome and findings, not its timing or log path. */
function comparable(report: JsonReport): unknown {
    return {
        command: report.command,
        exitCode: report.exitCode,
        staleStacks: report.staleStacks,
        targets: report.targets.map(({ durationMs: _d, logFile: _l, ...rest }) => rest),
    };
}

describe("shards: three at once against moto, merged, equal one unsharded run", function () {
    this.timeout(12 * 60_000);
    const prefix = `shards-${process.pid}`;
    let moto: Moto;
    let docs: DocumentInspector;
    let workDir: string;
    let env: Record<string, string>;

    function org(args: string[], logDir = "logs"): Promise<ChildRun> {
        const flags = orgFlags(workDir, prefix, 2).map((f) => (f === path.join(workDir, "logs") ? path.join(workDir, logDir) : f));
        return runScript("scripts/org.ts", [...args, ...flags], { env, timeoutMs: 10 * 60_000 });
    }

    /** The three shards of a command, run at once; each report written to <name>-<k>.json. */
    async function shards(command: string, name: string): Promise<string[]> {
        const runs = await Promise.all([1, 2, 3].map((k) => org([command, "--shard", `${k}/3`, "--json"], `logs-${k}`)));
        return runs.map((run, i) => {
            const file = path.join(workDir, `${name}-${i + 1}.json`);
            fs.writeFileSync(file, run.stdout);
            const report = JSON.parse(run.stdout) as JsonReport;
            expect(report.shard, run.stderr).to.deep.equal({ index: i + 1, count: 3 });
            expect(report.targets.map((t) => t.target.split("/")[0])).to.have.members(accounts.filter((a) => shardOf(a, 3) === i + 1));
            return file;
        });
    }

    const merge = (...args: string[]) => runScript("scripts/org.ts", ["merge", ...args], { env, timeoutMs: 60_000 });

    before(async () => {
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-shards-"));
        projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        docs = new DocumentInspector(moto.endpoint, "OrgAdmin");
        env = await engineEnv(moto, path.join(workDir, "backend"));
        writeOrgConfig(workDir, accounts, regions, { idleSessionTimeout: 30, stackGranularity: "account" });
    });

    after(async () => {
        docs?.close();
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("up in three shards at once deploys every account once; the merged report says so and exits 0", async () => {
        const files = await shards("up", "up");
        const run = await merge(...files, "--json");
        expect(run.code, run.stderr).to.equal(0);
        const report = JSON.parse(run.stdout) as JsonReport;
        expect(report.targets.map((t) => [t.stack, t.result])).to.deep.equal(accounts.map((a) => [`${prefix}.${a}`, "succeeded"]).sort());
        expect(report).to.not.have.property("shard");
    });

    it("after an out-of-band edit, drift in three shards merges to exactly the unsharded drift report, exit 2 both", async () => {
        const edited = `${accounts[1]}/eu-west-1`;
        const content = (await docs.mustView(edited)).content;
        await docs.editOutOfBand(edited, JSON.stringify({ ...content, inputs: { ...content.inputs, idleSessionTimeout: "55" } }));

        const whole = await org(["drift", "--json"]);
        expect(whole.code, whole.stderr).to.equal(2);
        const files = await shards("drift", "drift");
        const merged = await merge(...files, "--json");
        expect(merged.code, merged.stderr).to.equal(2);
        const unsharded = JSON.parse(whole.stdout) as JsonReport;
        expect(comparable(JSON.parse(merged.stdout) as JsonReport)).to.deep.equal(comparable(unsharded));
        expect(unsharded.targets.filter((t) => t.result === "drifted").map((t) => t.target)).to.deep.equal([`${accounts[1]}/${regions.join(",")}`]);

        // The same merge as Markdown (the workflow's issue body) and as text, with the same exit code.
        const markdown = await merge(...files, "--markdown");
        expect(markdown.code).to.equal(2);
        expect(markdown.stdout).to.match(/^### Session Manager preferences: drift check/);
        expect(markdown.stdout).to.include("**Drift found.**");
        expect(markdown.stdout).to.not.include("--shard");
        const text = await merge(...files);
        expect(text.code).to.equal(2);
        expect(text.stdout).to.include("drift: 6 targets: 5 in sync, 1 drifted");
    });

    it("a merge missing a shard's report fails, naming the shard, and still shows the others", async () => {
        const run = await merge(path.join(workDir, "drift-1.json"), path.join(workDir, "drift-2.json"), "--json");
        expect(run.code).to.equal(1);
        const report = JSON.parse(run.stdout) as JsonReport & { problem: { kind: string; details: string[] } };
        expect(report.problem.kind).to.equal("shards");
        expect(report.problem.details).to.deep.equal(["shard 3/3: no report"]);
        expect(report.targets).to.have.length(4);
        const bad = await merge(path.join(workDir, "drift-1.json"), path.join(workDir, "drift-1.json"));
        expect(bad.code).to.equal(64);
        expect(bad.stderr).to.match(/are both shard 1\/3/);
    });

    it("destroy in three shards at once releases every document", async () => {
        const files = await shards("destroy", "destroy");
        const run = await merge(...files, "--json");
        expect(run.code, run.stderr).to.equal(0);
        for (const a of accounts) for (const r of regions) expect(await docs.view(`${a}/${r}`), `${a}/${r}`).to.equal(undefined);
    });
});

describe("drift --stack: the one stack Pulumi Deployments deploys, checked as it is", function () {
    this.timeout(6 * 60_000);
    let moto: Moto;
    let docs: DocumentInspector;
    let workDir: string;
    let env: Record<string, string>;
    const fanOut = ["616161616161", "626262626262"];

    const org = (...args: string[]) =>
        runScript(
            "scripts/org.ts",
            [...args, "--config", path.join(workDir, "org.yaml"), "--project-dir", path.join(workDir, "project"), "--log-dir", path.join(workDir, "logs")],
            {
                env,
                timeoutMs: 5 * 60_000,
            },
        );

    before(async () => {
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-stack-"));
        const project = projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        docs = new DocumentInspector(moto.endpoint, "OrgAdmin");
        env = await engineEnv(moto, path.join(workDir, "backend"));
        // The stack as Deployments makes it: `pulumi up` of the project with the organization config as its own.
        writeOrgConfig(workDir, fanOut, ["us-east-1"], { stackGranularity: "account" });
        fs.copyFileSync(path.join(workDir, "org.yaml"), path.join(project, "Pulumi.prod.yaml"));
        const stack = await createLocalStack({ stackName: "prod", workDir: project, backendDir: path.join(workDir, "backend"), env });
        expect((await stack.up()).summary.result).to.equal("succeeded");
    });

    after(async () => {
        docs?.close();
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("finds the stack's documents in sync, where the loop's stacks (never deployed) would all be missing", async () => {
        const loop = await org("drift", "--json");
        expect(loop.code).to.equal(2);
        expect((JSON.parse(loop.stdout) as JsonReport).targets.map((t) => t.result)).to.deep.equal(["not deployed", "not deployed"]);
        const stackFile = path.join(workDir, "project", "Pulumi.prod.yaml");
        const before = fs.readFileSync(stackFile, "utf8");
        const run = await org("drift", "--stack", "prod", "--json");
        expect(run.code, run.stderr).to.equal(0);
        const report = JSON.parse(run.stdout) as JsonReport;
        expect(report.targets.map((t) => [t.target, t.result])).to.deep.equal([["prod", "in sync"]]);
        // The stack's config is its deployer's: the check does not rewrite it.
        expect(fs.readFileSync(stackFile, "utf8")).to.equal(before);
    });

    it("names the document edited outside the stack and exits 2", async () => {
        const edited = `${fanOut[1]}/us-east-1`;
        const content = (await docs.mustView(edited)).content;
        await docs.editOutOfBand(edited, JSON.stringify({ ...content, inputs: { ...content.inputs, idleSessionTimeout: "44" } }));
        const run = await org("drift", "--stack", "prod", "--json");
        expect(run.code, run.stderr).to.equal(2);
        const [target] = (JSON.parse(run.stdout) as JsonReport).targets;
        expect(target.result).to.equal("drifted");
        expect(JSON.stringify(target.drift)).to.include(edited).and.include("idleSessionTimeout");
    });
});
