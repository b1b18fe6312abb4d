// A rollout killed mid-way (SIGKILL to `npm run org -- up` and everything it started, as a
// cancelled CI job) leaves locked stacks and pending creates behind. The next run says so,
// per target, with the commands that clear it; `--recover` clears it and converges; and
// `destroy` then gives every console-made original back exactly.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { adoptedVersionTagKey } from "../providers/documentOperations";
import { ChildRun, killGroup, runScript } from "./support/childProcess";
import { consoleDocument, DocumentInspector } from "../devtools/documents";
import { engineEnv, pulumiBin } from "../devtools/engine";
import { FaultProxy, startFaultProxy } from "./support/faultProxy";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";
import { orgFlags, writeOrgConfig } from "./support/org";

const account = "111111111111";
const regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const targets = regions.map((r) => `${account}/${r}`);

interface JsonTarget {
    target: string;
    result: string;
    error?: string;
}

describe("organization rollout killed mid-way, then recovered", function () {
    this.timeout(12 * 60_000);
    const prefix = `recover-${process.pid}`;
    let moto: Moto;
    let proxy: FaultProxy;
    let workDir: string;
    let env: Record<string, string>;
    let docs: DocumentInspector;
    /** Set while a run should be killed at its first content write. */
    let killAtFirstWrite: (() => void) | undefined;

    function org(args: string[], onStart?: Parameters<typeof runScript>[2]["onStart"]): Promise<ChildRun> {
        return runScript("scripts/org.ts", [...args, ...orgFlags(workDir, prefix, 3)], { env, timeoutMs: 8 * 60_000, onStart });
    }

    function targetsOf(run: ChildRun): Map<string, JsonTarget> {
        const report = JSON.parse(run.stdout) as { targets: JsonTarget[] };
        return new Map(report.targets.map((t) => [t.target, t]));
    }

    before(async function () {
        this.timeout(60 * 60_000);
        await pulumiBin();
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-recover-"));
        projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        proxy = await startFaultProxy({
            target: moto.endpoint,
            script: ({ target }) => {
                if (target === "AmazonSSM.UpdateDocument" && killAtFirstWrite) {
                    const kill = killAtFirstWrite;
                    killAtFirstWrite = undefined;
                    kill();
                }
                return "forward";
            },
        });
        env = { ...(await engineEnv(moto, path.join(workDir, "backend"))), AWS_ENDPOINT_URL: proxy.endpoint };
        writeOrgConfig(workDir, [account], regions, { idleSessionTimeout: 15 });
        docs = new DocumentInspector(moto.endpoint);
        for (const target of targets) await docs.seed(target, consoleDocument(target));
    });

    after(async () => {
        docs?.close();
        await proxy?.close();
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("SIGKILL during the first up: the next run reports each interrupted stack with the commands that clear it", async () => {
        const killed = await org(["up", "--json"], (child) => (killAtFirstWrite = () => killGroup(child)));
        expect(killed.signal, killed.stderr).to.equal("SIGKILL");

        const run = await org(["up", "--json"]);
        expect(run.code, run.stderr).to.equal(1);
        const interrupted = [...targetsOf(run).values()].filter((t) => t.result === "failed");
        expect(interrupted.length, run.stdout).to.be.greaterThan(0);
        for (const t of interrupted) {
            expect(t.error, t.target).to.match(/locked|pending operation/);
            expect(t.error, t.target).to.include("--recover");
            expect(t.error, t.target).to.include("pulumi cancel --yes --stack");
            expect(t.error, t.target).to.include("pulumi refresh --clear-pending-creates --yes --stack");
        }
    });

    it("up --recover clears locks and pending operations and converges, keeping the console-made originals on record", async () => {
        const run = await org(["up", "--recover", "--json"]);
        expect(run.code, run.stderr).to.equal(0);
        for (const t of targetsOf(run).values()) expect(t.result, t.target).to.equal("succeeded");
        for (const target of targets) {
            const view = await docs.mustView(target);
            expect(view.content.inputs.idleSessionTimeout, target).to.equal("15");
            // The version the console made, not one the killed run wrote.
            expect(view.tags[adoptedVersionTagKey], target).to.equal("1");
        }
        // A second run has nothing left to recover.
        const again = await org(["up", "--json"]);
        expect(again.code, again.stderr).to.equal(0);
    });

    it("destroy gives every console-made original back exactly", async () => {
        const run = await org(["destroy", "--json"]);
        expect(run.code, run.stderr).to.equal(0);
        for (const target of targets) {
            const view = await docs.mustView(target);
            expect(view.raw, target).to.equal(consoleDocument(target));
            expect(view.tags, target).to.deep.equal({});
        }
    });
});
