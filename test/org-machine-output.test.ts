// The workflow redirects `npm run --silent org -- <command> --json|--markdown` to a file and
// posts or parses that file. Here its own steps run, as written in the workflow, in a scratch
// copy of the repository without node_modules (as a fresh CI checkout has), against moto
// through the real engine: each output file must hold the report and nothing else, even
// though the npm pre-hook installs dependencies on the way.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { engineEnv, pulumiBin, repoRoot } from "../devtools/engine";
import { Moto, startMoto } from "../devtools/moto";
import { writeOrgConfig } from "./support/org";

interface Step {
    run?: string;
    uses?: string;
}

interface StepRun {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Every line a Markdown report may have: headings, table rows, the verdict sentence, blank lines. */
function markdownReportProblems(text: string, heading: string): string[] {
    const lines = text.split("\n");
    const problems: string[] = [];
    if (lines[0] !== `### ${heading}`) problems.push(`first line is not the heading: ${JSON.stringify(lines[0])}`);
    for (const line of lines.slice(1)) {
        if (line === "" || line.startsWith("#### ") || line.startsWith("| ")) continue;
        if (/^(All targets|\*\*Some targets|\*\*Drift found|\*\*The check failed|\*\*\d+ stack\(s\) are no longer targets)/.test(line)) continue;
        problems.push(`not part of the report: ${JSON.stringify(line)}`);
    }
    return problems;
}

describe("machine output of npm run org, run as the workflow runs it", function () {
    this.timeout(15 * 60_000);
    const prefix = `stdout-${process.pid}`;
    let workDir: string;
    let repo: string;
    let moto: Moto;
    let env: Record<string, string>;
    const workflow = yaml.load(fs.readFileSync(path.join(repoRoot, ".github", "workflows", "session-manager.yml"), "utf8")) as {
        jobs: Record<string, { steps: Step[] }>;
    };

    /** A `run:` step of the workflow through bash, as GitHub runs it, with the job's files. */
    function runStep(script: string, extraEnv: Record<string, string> = {}): Promise<StepRun> {
        return new Promise((resolve, reject) => {
            const child = spawn("bash", ["-e", "-c", script], { cwd: repo, env: { ...process.env, ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("error", reject);
            child.on("close", (code) => resolve({ code, stdout, stderr }));
        });
    }

    /** The job's steps up to and including its `npm run ... org` step: installing, then the org command. */
    async function runJob(job: string): Promise<StepRun[]> {
        const steps = workflow.jobs[job].steps;
        const orgStep = steps.findIndex((s) => /npm run --silent org -- /.test(s.run ?? ""));
        expect(orgStep, `${job} has an npm run --silent org step`).to.be.greaterThan(-1);
        const runs: StepRun[] = [];
        for (const step of steps.slice(0, orgStep + 1)) {
            if (!step.run) continue;
            const r = await runStep(step.run, {
                GITHUB_OUTPUT: path.join(workDir, `${job}.github-output`),
                GITHUB_STEP_SUMMARY: path.join(workDir, `${job}.step-summary`),
            });
            expect(r.code, `${job}: ${step.run}\n${r.stderr}`).to.equal(0);
            runs.push(r);
        }
        return runs;
    }

    before(async function () {
        this.timeout(60 * 60_000);
        await pulumiBin();
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-stdout-"));
        repo = path.join(workDir, "repo");
        // The repository as a checkout has it: tracked and new files, no node_modules, dist or logs.
        const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: repoRoot, encoding: "utf8" })
            .split("\0")
            .filter(Boolean);
        for (const file of files) {
            const from = path.join(repoRoot, file);
            if (!fs.existsSync(from)) continue;
            fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
            fs.copyFileSync(from, path.join(repo, file));
        }
        moto = await startMoto();
        env = {
            ...(await engineEnv(moto, path.join(workDir, "backend"))),
            ORG_FLAGS: `--config ${path.join(workDir, "org.yaml")} --stack-prefix ${prefix} --parallel 1`,
            // npm ci from the local cache where it can: the test should not depend on the registry.
            npm_config_prefer_offline: "true",
        };
        writeOrgConfig(workDir, ["111111111111"], ["us-east-1"]);
    });

    after(async () => {
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("the preview job's preview.md, from a checkout without node_modules, holds only the Markdown report", async () => {
        expect(fs.existsSync(path.join(repo, "node_modules"))).to.equal(false);
        await runJob("preview");
        const md = fs.readFileSync(path.join(repo, "preview.md"), "utf8");
        expect(markdownReportProblems(md, "Session Manager preferences: preview"), md).to.deep.equal([]);
        expect(fs.readFileSync(path.join(workDir, "preview.github-output"), "utf8")).to.equal("exit_code=0\n");
    });

    it("the up job's up.json parses as the JSON report", async () => {
        await runJob("up");
        const report = JSON.parse(fs.readFileSync(path.join(repo, "up.json"), "utf8")) as { command: string; exitCode: number; targets: { result: string }[] };
        expect(report).to.deep.include({ command: "up", exitCode: 0 });
        expect(report.targets.map((t) => t.result)).to.deep.equal(["succeeded"]);
    });

    it("the drift job's drift.md holds only the Markdown report", async () => {
        await runJob("drift");
        const md = fs.readFileSync(path.join(repo, "drift.md"), "utf8");
        expect(markdownReportProblems(md, "Session Manager preferences: drift check"), md).to.deep.equal([]);
        expect(md).to.include("All targets match their stacks.");
    });

    it("npm run --silent org -- drift --json prints only JSON on stdout while the pre-hook reinstalls dependencies", async () => {
        // A changed lockfile (or a fresh clone) makes the pre-hook run npm ci, whose output goes to stderr.
        fs.rmSync(path.join(repo, "node_modules", ".bootstrap-lock-hash"));
        const r = await runStep("npm run --silent org -- drift --json $ORG_FLAGS");
        expect(r.stderr).to.include("bootstrap: installing npm dependencies");
        expect(r.code, r.stderr).to.equal(0);
        const report = JSON.parse(r.stdout) as { command: string; targets: { result: string }[] };
        expect(report.command).to.equal("drift");
        expect(report.targets.map((t) => t.result)).to.deep.equal(["in sync"]);
        expect(fs.existsSync(path.join(repo, "node_modules", ".bootstrap-lock-hash"))).to.equal(true);
    });

    it("the org pre-hook installs no Python tools", () => {
        expect(fs.existsSync(path.join(repo, "node_modules", ".python-venv"))).to.equal(false);
    });
});
