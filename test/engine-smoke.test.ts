import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { Stack } from "@pulumi/pulumi/automation";
import { createLocalStack, engineEnv, pulumiBin, removeLocalStack, repoRoot } from "../devtools/engine";
import { Moto, startMoto } from "../devtools/moto";

const fixture = path.join(repoRoot, "test", "fixtures", "engine-smoke");

describe("real Pulumi engine: CLI, Node.js language host, dynamic provider, local backend, moto", function () {
    // Each engine operation starts node, ts-node and the provider: seconds each, more on a busy machine.
    this.timeout(5 * 60_000);
    let moto: Moto;
    let tmp: string;
    let stack: Stack | undefined;

    before(async function () {
        // The first run on a machine may build the CLI from Go modules; progress goes to stderr.
        this.timeout(60 * 60_000);
        await pulumiBin();
        moto = await startMoto();
        // The project runs from a copy, so the stack file the CLI writes stays out of the repo.
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-engine-smoke-"));
        const workDir = path.join(tmp, "project");
        fs.mkdirSync(workDir);
        for (const file of ["Pulumi.yaml", "package.json", "index.ts"]) fs.copyFileSync(path.join(fixture, file), path.join(workDir, file));
        fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(workDir, "node_modules"), "dir");
        const backendDir = path.join(tmp, "backend");
        stack = await createLocalStack({
            stackName: "test-smoke",
            workDir,
            backendDir,
            env: await engineEnv(moto, backendDir),
            config: { "engine-smoke:parameterName": "/engine-smoke/greeting", "engine-smoke:value": "hello", "aws:region": "us-east-1" },
        });
    });

    after(async function () {
        if (stack) await removeLocalStack(stack).catch(() => undefined);
        await moto?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    async function parameterInMoto(name: string): Promise<string | undefined> {
        const client = new SSMClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        try {
            const got = await client.send(new GetParameterCommand({ Name: name }));
            return got.Parameter?.Value;
        } catch (err) {
            if ((err as Error).name === "ParameterNotFound") return undefined;
            throw err;
        } finally {
            client.destroy();
        }
    }

    it("up creates the resource in moto, destroy removes it", async () => {
        if (!stack) throw new Error("no stack");
        const up = await stack.up();
        expect(up.summary.result).to.equal("succeeded");
        expect(up.summary.resourceChanges).to.deep.equal({ create: 2 });
        expect(up.outputs.parameterName.value).to.equal("/engine-smoke/greeting");
        expect(up.outputs.parameterValue.value).to.equal("hello");
        expect(await parameterInMoto("/engine-smoke/greeting")).to.equal("hello");

        const destroy = await stack.destroy();
        expect(destroy.summary.result).to.equal("succeeded");
        expect(destroy.summary.resourceChanges).to.deep.equal({ delete: 2 });
        expect(await parameterInMoto("/engine-smoke/greeting")).to.equal(undefined);
    });
});
