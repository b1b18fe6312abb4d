// Which Pulumi CLI scripts/pulumi-cli.sh (and so npm test, npm run demo, npm run org) uses:
// PULUMI_CLI_DIR as is, any pulumi on PATH at or above the SDK's minimum, else a build; and
// one clear message, no stack trace, when there is none and no Go to build one. The CLIs
// here are small stand-ins that only answer `pulumi version`: what is under test is the
// choice, not the CLI.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runScript } from "./support/childProcess";
import { repoRoot } from "../devtools/engine";

const script = path.join(repoRoot, "scripts", "pulumi-cli.sh");
const nodeDir = path.dirname(process.execPath);

describe("scripts/pulumi-cli.sh: choosing the Pulumi CLI", () => {
    let tmp: string;

    /** A directory with a stand-in `pulumi` of that version, and its language host and provider shim. */
    function fakeCli(name: string, version: string, withHost = true): string {
        const dir = path.join(tmp, name, "bin");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "pulumi"), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
        if (withHost) {
            for (const tool of ["pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"])
                fs.writeFileSync(path.join(dir, tool), "#!/bin/sh\n", { mode: 0o755 });
        }
        return dir;
    }

    function run(env: Record<string, string>) {
        const r = spawnSync("bash", [script], { cwd: repoRoot, encoding: "utf8", env: { HOME: tmp, SMP_CACHE_DIR: path.join(tmp, "cache"), ...env } });
        return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
    }

    before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-pulumi-cli-"))));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("uses the directory PULUMI_CLI_DIR names, as it is", () => {
        const dir = fakeCli("chosen", "3.250.1");
        const r = run({ PATH: `${nodeDir}:/usr/bin:/bin`, PULUMI_CLI_DIR: dir });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(dir);
    });

    it("uses any pulumi on PATH at or above the SDK's minimum, whatever its version", () => {
        const dir = fakeCli("on-path", "3.200.0");
        const r = run({ PATH: `${dir}:${nodeDir}:/usr/bin:/bin` });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.equal(dir);
    });

    it("refuses a CLI older than the SDK supports, saying which versions", () => {
        const dir = fakeCli("old", "3.1.0");
        const r = run({ PATH: `${dir}:${nodeDir}:/usr/bin:/bin` });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.match(/pulumi v3\.1\.0 is older than v3\.\d+\.\d+.*, the oldest the @pulumi\/pulumi SDK/);
    });

    it("says what is missing when a pulumi has no language host beside it or on PATH", () => {
        const dir = fakeCli("bare", "3.276.0", false);
        const r = run({ PATH: `${dir}:${nodeDir}:/usr/bin:/bin` });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.include("not its Node.js language host (pulumi-language-nodejs)");
    });

    it("with no CLI and no Go, says both and how to get either, in one message", () => {
        const r = run({ PATH: `${nodeDir}:/usr/bin:/bin` });
        expect(r.status).to.equal(1);
        expect(r.stderr).to.match(/is not on PATH, and `go` is not installed to build it/);
        expect(r.stderr).to.include("PULUMI_CLI_DIR");
    });

    it("npm run org then fails with that message and no stack trace", async function () {
        this.timeout(60_000);
        const config = path.join(tmp, "org.yaml");
        fs.writeFileSync(config, 'config:\n  aws:region: us-east-1\n  sessionManager:targets:\n    - accountId: "111111111111"\n      regions: [us-east-1]\n');
        const r = await runScript("scripts/org.ts", ["preview", "--config", config], {
            env: { PATH: `${nodeDir}:/usr/bin:/bin`, HOME: tmp, SMP_CACHE_DIR: path.join(tmp, "cache") },
            timeoutMs: 50_000,
        });
        expect(r.code).to.equal(1);
        expect(r.stderr).to.match(/`go` is not installed/);
        expect(r.stderr).to.include("error: no usable Pulumi CLI");
        expect(r.stderr).to.not.match(/^\s+at /m);
    });
});
