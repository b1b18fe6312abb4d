// sessionManager:readOnlyRoleName added to a rollout whose stacks were made before it: their
// state records only the write role, and a refresh reads through what the state records. A
// drift check or a refresh then stops, saying to run up once; a preview runs without its
// refresh and says so. Neither assumes the write role. After one up, every read-only command
// reads through the read-only role. Real engine, moto, and the counting proxy in front of it.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { ChildRun, runScript } from "./support/childProcess";
import { AwsProxy, isWrite, startAwsProxy } from "../devtools/awsProxy";
import { engineEnv, pulumiBin } from "../devtools/engine";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";
import { orgFlags, writeOrgConfig } from "./support/org";

const account = "111111111111";
const writer = `arn:aws:iam::${account}:role/OrgAdmin`;
const reader = `arn:aws:iam::${account}:role/OrgReader`;

interface JsonReport {
    exitCode: number;
    targets: { result: string; error?: string; warnings?: string[] }[];
}

describe("a read-only role added to stacks that were made before it", function () {
    this.timeout(12 * 60_000);
    const prefix = `readonly-${process.pid}`;
    let workDir: string;
    let project: string;
    let moto: Moto;
    let proxy: AwsProxy;
    let env: Record<string, string>;

    function org(...args: string[]): Promise<ChildRun> {
        return runScript("scripts/org.ts", [...args, "--json", ...orgFlags(workDir, prefix, 1, project)], { env, timeoutMs: 8 * 60_000 });
    }

    /** The roles assumed and anything written since the last look. */
    function aws(): { assumed: string[]; writes: string[] } {
        const calls = proxy.calls.splice(0, proxy.calls.length);
        return {
            assumed: [...new Set(calls.filter((c) => c.action === "AssumeRole").map((c) => c.roleArn ?? "?"))].sort(),
            writes: calls.filter((c) => isWrite(c.action)).map((c) => `${c.service}:${c.action}`),
        };
    }

    before(async function () {
        this.timeout(60 * 60_000);
        await pulumiBin();
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-readonly-"));
        project = projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        proxy = await startAwsProxy(moto.endpoint);
        env = { ...(await engineEnv(moto, path.join(workDir, "backend"))), AWS_ENDPOINT_URL: proxy.endpoint };
        writeOrgConfig(workDir, [account], ["us-east-1"]);
        const up = await org("up");
        expect(up.code, up.stderr).to.equal(0);
        writeOrgConfig(workDir, [account], ["us-east-1"], { readOnlyRoleName: "OrgReader" });
        aws();
    });

    after(async () => {
        await proxy?.close();
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("drift stops before reading, saying to run up once, and never assumes the write role", async () => {
        const run = await org("drift");
        expect(run.code, run.stderr).to.equal(1);
        const [target] = (JSON.parse(run.stdout) as JsonReport).targets;
        expect(target.result).to.equal("failed");
        expect(target.error).to.include(`the stack's state records the role ${writer} for reading its document, not the read-only role ${reader}`);
        expect(target.error).to.include(
            `run npm run org -- up --config ${path.join(workDir, "org.yaml")} --stack-prefix ${prefix} --project-dir ${project} once`,
        );
        expect(aws()).to.deep.equal({ assumed: [reader], writes: [] });
    });

    it("a preview runs without its refresh, says so, and never assumes the write role", async () => {
        const run = await org("preview");
        expect(run.code, run.stderr).to.equal(0);
        const [target] = (JSON.parse(run.stdout) as JsonReport).targets;
        expect(target.result).to.equal("succeeded");
        expect(target.warnings?.join()).to.include("not refreshed:").and.include("the next up records the read-only role");
        expect(aws()).to.deep.equal({ assumed: [reader], writes: [] });
    });

    it("after one up, drift reads through the read-only role alone", async () => {
        const up = await org("up");
        expect(up.code, up.stderr).to.equal(0);
        expect(aws().assumed).to.deep.equal([writer, reader].sort());
        const drift = await org("drift");
        expect(drift.code, drift.stderr).to.equal(0);
        expect((JSON.parse(drift.stdout) as JsonReport).targets.map((t) => t.result)).to.deep.equal(["in sync"]);
        expect(aws()).to.deep.equal({ assumed: [reader], writes: [] });
    });
});
