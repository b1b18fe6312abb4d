// A target taken out of the organization config (here: excluded) leaves its stack, which
// still manages the document. Every command warns about it; `npm run org -- prune` releases
// the document as that stack's onDelete says (restore: the console-made original comes back
// exactly) and removes the stack, leaving the remaining targets alone. Real engine and moto.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { ChildRun, runScript } from "./support/childProcess";
import { consoleDocument, DocumentInspector, documentName } from "../devtools/documents";
import { engineEnv, pulumiBin } from "../devtools/engine";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";
import { orgFlags, stackNames as listStacks, writeOrgConfig } from "./support/org";

const account = "111111111111";
const kept = `${account}/us-east-1`;
const removed = `${account}/eu-west-1`;

interface JsonReport {
    command: string;
    exitCode: number;
    staleStacks?: string[];
    targets: { target: string; stack: string; result: string; released?: unknown[] }[];
}

describe("stacks that are no longer targets: reported by every command, released by prune", function () {
    this.timeout(12 * 60_000);
    const prefix = `prune-${process.pid}`;
    const removedStack = `${prefix}.${account}.eu-west-1`;
    const keptStack = `${prefix}.${account}.us-east-1`;
    let workDir: string;
    let project: string;
    let moto: Moto;
    let env: Record<string, string>;
    let docs: DocumentInspector;
    let bin: string;

    function writeConfig(extra: string[] = []): void {
        writeOrgConfig(workDir, [account], ["us-east-1", "eu-west-1"], { idleSessionTimeout: 15 }, extra);
    }

    function org(...args: string[]): Promise<ChildRun> {
        const common = orgFlags(workDir, prefix, 2, project);
        return runScript("scripts/org.ts", [...args, ...common], { env, timeoutMs: 8 * 60_000 });
    }

    const stackNames = () => listStacks(bin, project, env);

    before(async function () {
        this.timeout(60 * 60_000);
        bin = await pulumiBin();
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-prune-"));
        project = projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        env = await engineEnv(moto, path.join(workDir, "backend"));
        docs = new DocumentInspector(moto.endpoint);
        for (const target of [kept, removed]) await docs.seed(target, consoleDocument(target));
        writeConfig();
        const up = await org("up", "--json");
        expect(up.code, up.stderr).to.equal(0);
        expect(up.stderr).not.to.include("no longer targets");
        expect((JSON.parse(up.stdout) as JsonReport).staleStacks).to.deep.equal([]);
    });

    after(async () => {
        docs?.close();
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("drift after a Region is excluded warns about its stack, in the table, the JSON and the Markdown", async () => {
        writeConfig(["  sessionManager:excludeRegions: [eu-west-1]"]);
        const run = await org("drift", "--json");
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stderr).to.include(
            `warning: 1 stack(s) are no longer targets (removed from the config or excluded) and still manage their documents: ${removedStack}.`,
        );
        // The suggested command acts on the same stacks: it repeats the run's --config, --stack-prefix and --project-dir.
        const prune = `npm run org -- prune --config ${path.join(workDir, "org.yaml")} --stack-prefix ${prefix} --project-dir ${project} releases`;
        expect(run.stderr).to.include(prune);
        const report = JSON.parse(run.stdout) as JsonReport;
        expect(report.staleStacks).to.deep.equal([removedStack]);
        expect(report.targets.map((t) => t.target)).to.deep.equal([kept]);

        const md = await org("drift", "--markdown");
        expect(md.code, md.stderr).to.equal(0);
        expect(md.stdout).to.include(
            `**1 stack(s) are no longer targets** (removed from the config or excluded) and still manage their documents: \`${removedStack}\`.`,
        );
        expect(md.stdout).to.include(`\`${prune.replace(/ releases$/, "")}\` releases each document`);
    });

    it("prune restores the excluded target's console-made document exactly and removes its stack; the kept target is untouched", async () => {
        const run = await org("prune", "--json");
        expect(run.code, run.stderr).to.equal(0);
        const report = JSON.parse(run.stdout) as JsonReport;
        expect(report.command).to.equal("prune");
        expect(report.targets.map((t) => [t.stack, t.result])).to.deep.equal([[removedStack, "succeeded"]]);
        expect(report.targets[0].released).to.deep.equal([{ document: `${removed}/${documentName}`, kind: "restored" }]);
        expect(run.stderr).to.match(new RegExp(`${removed}/${documentName}\\s+restored`));

        const released = await docs.mustView(removed);
        expect(released.raw).to.equal(consoleDocument(removed));
        expect(released.tags).to.deep.equal({});
        expect((await docs.mustView(kept)).content.inputs.idleSessionTimeout).to.equal("15");
        expect(await stackNames()).to.deep.equal([keptStack]);
        expect(fs.existsSync(path.join(project, `Pulumi.${removedStack}.yaml`))).to.equal(false);
    });

    it("afterwards no command warns, and prune has nothing to do", async () => {
        const drift = await org("drift", "--json");
        expect(drift.code, drift.stderr).to.equal(0);
        expect(drift.stderr).not.to.include("no longer targets");
        const prune = await org("prune", "--json");
        expect(prune.code, prune.stderr).to.equal(0);
        expect(prune.stderr).to.include("nothing to do");
        expect((JSON.parse(prune.stdout) as JsonReport).targets).to.deep.equal([]);
    });
});
