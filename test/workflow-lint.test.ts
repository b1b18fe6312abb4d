// The shipped workflow through the real linters: actionlint (built from its Go module by
// scripts/bootstrap.js, at the version pinned there) with shellcheck (pinned in
// requirements-test.txt) on every `run:` script. No finding passes.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../devtools/engine";
import { pythonVenv } from "../devtools/moto";

const workflow = path.join(repoRoot, ".github", "workflows", "session-manager.yml");

function actionlint(file: string): Promise<{ code: number; output: string }> {
    const recorded = path.join(repoRoot, "node_modules", ".actionlint");
    if (!fs.existsSync(recorded))
        throw new Error("actionlint is not built: scripts/bootstrap.js (npm test's pre-hook) builds it from its Go module, and needs Go on PATH");
    const exe = fs.readFileSync(recorded, "utf8").trim();
    const shellcheck = path.join(pythonVenv(), "bin", "shellcheck");
    expect(fs.existsSync(shellcheck), "shellcheck from requirements-test.txt").to.equal(true);
    return new Promise((resolve, reject) => {
        execFile(exe, ["-no-color", "-shellcheck", shellcheck, file], { cwd: repoRoot }, (err, stdout, stderr) => {
            const code = err ? ((err as { code?: number }).code ?? -1) : 0;
            if (typeof code !== "number") return reject(err);
            resolve({ code, output: `${stdout}${stderr}` });
        });
    });
}

describe(".github/workflows/session-manager.yml through actionlint and shellcheck", function () {
    this.timeout(60_000);

    it("has no finding", async () => {
        const { code, output } = await actionlint(workflow);
        expect(output).to.equal("");
        expect(code).to.equal(0);
    });

    it("the linters do find faults: an unquoted expansion and a bad expression in a copy of the workflow", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-actionlint-"));
        try {
            const broken = fs
                .readFileSync(workflow, "utf8")
                .replace('"${org_flags[@]}" > "reports/up-', '$ORG_FLAGS > "reports/up-')
                .replace("needs.shards.outputs.list", "needs.shard.outputs.list");
            const file = path.join(dir, "broken.yml");
            fs.writeFileSync(file, broken);
            const { code, output } = await actionlint(file);
            expect(code).to.equal(1);
            expect(output).to.include("SC2086");
            expect(output).to.match(/property "shard" is not defined/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
