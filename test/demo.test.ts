import { expect } from "chai";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { pulumiBin, repoRoot } from "./support/engine";

/** `npm run demo` is the README's main command: it must keep doing what the README says. */
describe("npm run demo", function () {
    this.timeout(10 * 60_000);

    before(async function () {
        this.timeout(60 * 60_000);
        await pulumiBin();
    });

    it("runs the whole lifecycle, checking each step, and exits 0", async () => {
        const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
            const child = spawn(process.execPath, [path.join(repoRoot, "node_modules", "ts-node", "dist", "bin.js"), "--transpile-only", "scripts/demo.ts"], {
                cwd: repoRoot,
                stdio: ["ignore", "pipe", "pipe"],
            });
            let out = "";
            let err = "";
            child.stdout.on("data", (d: Buffer) => (out += d.toString()));
            child.stderr.on("data", (d: Buffer) => (err += d.toString()));
            const timer = setTimeout(() => child.kill("SIGKILL"), 9 * 60_000);
            child.on("error", reject);
            child.on("close", (exitCode) => {
                clearTimeout(timer);
                resolve({ code: exitCode, stdout: out, stderr: err });
            });
        });
        expect(code, `${stdout}\n${stderr}`).to.equal(0);
        for (const claim of [
            "every target has the stack's settings",
            "the engine reports no changes",
            "no document version was created",
            "refresh found exactly one drifted document",
            "inputs.idleSessionTimeout",
            "has the stack's settings again",
            "every document holds exactly the console-made content again",
        ]) {
            expect(stdout).to.include(claim);
        }
        expect(stdout).to.match(/pulumi up: 9 create/);
        expect(stdout).to.match(/pulumi up: no changes \(9 unchanged\)/);
    });
});
