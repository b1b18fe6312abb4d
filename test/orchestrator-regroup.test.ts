// Stacks per account and stacks per account and Region, and `regroup` between them, through the
// real engine against moto, as `npm run org` runs: every document keeps what it adopted, and the
// old stacks go without their documents being touched.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { engineEnv, pulumiBin } from "../devtools/engine";
import { consoleDocument, DocumentInspector } from "../devtools/documents";
import { projectCopy } from "../devtools/project";
import { Moto, startMoto } from "../devtools/moto";
import { ChildRun, runScript } from "./support/childProcess";
import { orgFlags, stackNames, writeOrgConfig } from "./support/org";

const accounts = ["414141414141", "424242424242"];
const regions = ["us-east-1", "eu-west-1"];
/** The target whose document a person made in the console before the rollout: the original destroy must give back. */
const adopted = "424242424242/eu-west-1";

describe("stacks per account, and regroup between granularities, through the real engine", function () {
    this.timeout(10 * 60_000);
    const prefix = `regroup-${process.pid}`;
    let moto: Moto;
    let docs: DocumentInspector;
    let workDir: string;
    let projectDir: string;
    let env: Record<string, string>;
    let bin: string;
    let seeded: string;
    const targets = accounts.flatMap((a) => regions.map((r) => `${a}/${r}`));

    function org(...args: string[]): Promise<ChildRun> {
        return runScript("scripts/org.ts", [...args, ...orgFlags(workDir, prefix, 2, projectDir)], { env, timeoutMs: 8 * 60_000 });
    }

    function granularity(value: "account" | "accountRegion"): void {
        writeOrgConfig(workDir, accounts, regions, { idleSessionTimeout: 25, stackGranularity: value });
    }

    const stacks = () => stackNames(bin, projectDir, env);

    before(async () => {
        bin = await pulumiBin();
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-regroup-"));
        projectDir = projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        docs = new DocumentInspector(moto.endpoint);
        seeded = await docs.seed(adopted, consoleDocument(adopted));
        env = await engineEnv(moto, path.join(workDir, "backend"));
    });

    after(async () => {
        docs?.close();
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("up with stacks per account and Region makes one stack per target and adopts the console-made document", async () => {
        granularity("accountRegion");
        const run = await org("up", "--json");
        expect(run.code, run.stderr).to.equal(0);
        expect(await stacks()).to.deep.equal(targets.map((t) => `${prefix}.${t.replace("/", ".")}`).sort());
        for (const t of targets) expect(docs.owner(await docs.mustView(t)), t).to.equal(`session-manager-preferences/${prefix}.${t.replace("/", ".")}`);
    });

    it("with stackGranularity changed, every command refuses to run and names regroup, and nothing changes", async () => {
        granularity("account");
        const run = await org("preview", "--json");
        expect(run.code).to.equal(1);
        const report = JSON.parse(run.stdout) as { problem: { summary: string; details: string[]; fix: string } };
        expect(report.problem.summary).to.match(/4 stack\(s\) of this rollout are per account and Region, but sessionManager:stackGranularity is account/);
        expect(report.problem.details).to.have.length(4);
        expect(report.problem.fix).to.include(`npm run org -- regroup --config ${path.join(workDir, "org.yaml")}`);
        expect(report.problem.fix).to.include("stackGranularity: accountRegion");
        expect(await stacks()).to.have.length(4);
    });

    it("regroup moves every document into a stack per account, removes the old stacks, and the new stacks take the documents over", async () => {
        const versionsBefore = await Promise.all(targets.map(async (t) => (await docs.mustView(t)).versions));
        const run = await org("regroup", "--json");
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stderr).to.include("regroup: 4 target(s) to move out of 4 stack(s)");
        expect(await stacks()).to.deep.equal(accounts.map((a) => `${prefix}.${a}`));
        const report = JSON.parse(run.stdout) as { command: string; targets: { stack: string; result: string; regions: string[] }[] };
        expect(report.command).to.equal("up");
        expect(report.targets.map((t) => [t.stack, t.result, t.regions])).to.deep.equal(accounts.map((a) => [`${prefix}.${a}`, "succeeded", regions]));
        for (const [i, t] of targets.entries()) {
            const view = await docs.mustView(t);
            expect(docs.owner(view), t).to.equal(`session-manager-preferences/${prefix}.${t.split("/")[0]}`);
            // Taking over changes tags only: no document version is written.
            expect(view.versions, t).to.deep.equal(versionsBefore[i]);
        }
    });

    it("drift finds the stacks per account in sync, and a second regroup has nothing to move", async () => {
        const drift = await org("drift", "--json");
        expect(drift.code, drift.stderr).to.equal(0);
        expect((JSON.parse(drift.stdout) as { targets: { target: string; result: string }[] }).targets.map((t) => [t.target, t.result])).to.deep.equal(
            accounts.map((a) => [`${a}/${regions.join(",")}`, "in sync"]),
        );
        const again = await org("regroup");
        expect(again.code, again.stderr).to.equal(0);
        expect(again.stderr).to.include("nothing to move");
    });

    it("regroup back to stacks per account and Region, finishing a move that was stopped between its two writes, then destroy: the console-made original comes back exactly", async () => {
        granularity("accountRegion");
        // A regroup killed inside `pulumi state move`: the adopted document's resources already
        // written to their new stack, and still in the old one (its state as it was before).
        const [account, region] = adopted.split("/");
        const source = `${prefix}.${account}`;
        const destination = `${prefix}.${account}.${region}`;
        const pulumi = (...args: string[]) =>
            execFileSync(path.join(bin, "pulumi"), args, {
                cwd: projectDir,
                env: { ...process.env, ...env },
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
            });
        const before = pulumi("stack", "export", "--stack", source);
        pulumi("stack", "init", destination, "--no-select");
        const urn = `urn:pulumi:${source}::session-manager-preferences::session-manager-preferences:index:Preferences::${account}-${region}`;
        pulumi("state", "move", "--source", source, "--dest", destination, "--yes", "--non-interactive", urn);
        const exported = path.join(workDir, "source-before.json");
        fs.writeFileSync(exported, before);
        pulumi("stack", "import", "--stack", source, "--file", exported);
        const holds = (stack: string) =>
            (JSON.parse(pulumi("stack", "export", "--stack", stack)) as { deployment: { resources?: { urn: string }[] } }).deployment.resources?.filter((r) =>
                r.urn.endsWith(`::${account}-${region}`),
            ).length ?? 0;
        expect([holds(source), holds(destination)], "in both stacks").to.deep.equal([1, 1]);

        const run = await org("regroup", "--json");
        expect(run.code, run.stderr).to.equal(0);
        expect(await stacks()).to.deep.equal(targets.map((t) => `${prefix}.${t.replace("/", ".")}`).sort());
        expect(holds(destination), "once, in its new stack").to.equal(1);
        const destroy = await org("destroy", "--remove", "--json");
        expect(destroy.code, destroy.stderr).to.equal(0);
        const view = await docs.mustView(adopted);
        expect(view.raw).to.equal(seeded);
        expect(view.tags).to.deep.equal({});
        // The documents the rollout created are deleted again (onDelete: restore of nothing).
        for (const t of targets.filter((x) => x !== adopted)) expect(await docs.view(t), t).to.equal(undefined);
        expect(await stacks()).to.deep.equal([]);
    });
});
