// Tests and benchmarks must meet the engine as users do: the harness sets only what a
// user's own environment has an equivalent for, the program is not type-checked on each
// engine run because of the repository's own tsconfig.json (not a harness setting), and
// the engine's Node.js is the supported one that npm scripts put first on PATH.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { createLocalStack, engineEnv, pulumiBin, removeLocalStack, repoRoot, userEquivalentEngineSettings } from "../devtools/engine";
import { Moto, startMoto } from "../devtools/moto";

describe("the engine as users run it", function () {
    this.timeout(5 * 60_000);
    let moto: Moto;
    let tmp: string;

    before(async function () {
        this.timeout(60 * 60_000);
        await pulumiBin();
        moto = await startMoto();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-engine-env-"));
    });

    after(async () => {
        await moto?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("the harness sets no engine variable that a user's environment has no equivalent for", async () => {
        const env = await engineEnv(moto, path.join(tmp, "backend"));
        const extra = Object.keys(env).filter((key) => !(key in userEquivalentEngineSettings));
        expect(extra, "settings only the tests would have").to.deep.equal([]);
        expect(
            Object.keys(env).filter((key) => key.startsWith("PULUMI_NODEJS_")),
            "Node.js runtime settings",
        ).to.deep.equal([]);
    });

    describe("a TypeScript program with a type error, next to the repository's own tsconfig.json", () => {
        let workDir: string;
        const backendDir = () => path.join(tmp, "probe-backend");

        /** The probe project in `dir`, with `tsconfig` as its tsconfig.json. */
        function probeProject(dir: string, tsconfig: string): string {
            fs.mkdirSync(dir);
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: typecheck-probe\nruntime: nodejs\n");
            fs.writeFileSync(
                path.join(dir, "package.json"),
                JSON.stringify({ name: "typecheck-probe", main: "index.ts", devDependencies: { typescript: "*" } }),
            );
            fs.writeFileSync(path.join(dir, "tsconfig.json"), tsconfig);
            fs.writeFileSync(
                path.join(dir, "index.ts"),
                [
                    "// A type error that a type-checking run would refuse (TS2322).",
                    'const minutes: number = "twenty" as unknown as string;',
                    "export const value = minutes;",
                    "export const nodeVersion = process.version;",
                    "",
                ].join("\n"),
            );
            fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
            return dir;
        }

        before(() => {
            workDir = probeProject(path.join(tmp, "probe"), fs.readFileSync(path.join(repoRoot, "tsconfig.json"), "utf8"));
        });

        it("runs under `pulumi up` without a type check, on the Node.js 24 that npm scripts put on PATH", async () => {
            const stack = await createLocalStack({ stackName: "test-probe", workDir, backendDir: backendDir(), env: await engineEnv(moto, backendDir()) });
            try {
                const up = await stack.up();
                expect(up.outputs.value.value).to.equal("twenty");
                expect(up.outputs.nodeVersion.value).to.match(/^v24\./);
            } finally {
                await removeLocalStack(stack);
            }
        });

        it("is refused by the same engine run once noCheck is taken out of that tsconfig.json, so the run above really skipped the check", async () => {
            const { config } = ts.parseConfigFileTextToJson("tsconfig.json", fs.readFileSync(path.join(repoRoot, "tsconfig.json"), "utf8"));
            expect(config.compilerOptions.noCheck).to.equal(true);
            delete config.compilerOptions.noCheck;
            const checkedDir = probeProject(path.join(tmp, "probe-checked"), JSON.stringify(config));
            const stack = await createLocalStack({
                stackName: "test-probe-checked",
                workDir: checkedDir,
                backendDir: backendDir(),
                env: await engineEnv(moto, backendDir()),
            });
            try {
                await stack.preview();
                expect.fail("a type-checked preview should have failed");
            } catch (err) {
                expect(String(err)).to.include("TS2322");
            } finally {
                await removeLocalStack(stack);
            }
        });
    });
});
