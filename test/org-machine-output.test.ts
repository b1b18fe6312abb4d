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
import { AwsProxy, isWrite, startAwsProxy } from "../devtools/awsProxy";
import { consoleDocument, desiredFor, DocumentInspector, settingsOf } from "../devtools/documents";
import { fieldDifferences } from "../core/fieldChanges";

interface Step {
    name?: string;
    run?: string;
    uses?: string;
    env?: Record<string, string>;
}

interface StepRun {
    code: number | null;
    stdout: string;
    stderr: string;
}

/**
 * Every line a Markdown report may have: headings, table rows, list items, the verdict
 * sentence, a section's explanation, the fix, blank lines. Anything else (npm's or the
 * engine's output) does not belong in a file the workflow posts.
 */
function markdownReportProblems(text: string, heading: string): string[] {
    const lines = text.split("\n");
    const problems: string[] = [];
    if (lines[0] !== `### ${heading}`) problems.push(`first line is not the heading: ${JSON.stringify(lines[0])}`);
    for (const line of lines.slice(1)) {
        if (line === "" || line.startsWith("#### ") || line.startsWith("| ") || line.startsWith("- ")) continue;
        if (
            /^(All targets|Every target|\*\*Not every target|\*\*Some targets|\*\*Drift found|\*\*The check failed|\*\*\d+ stack\(s\) are no longer targets|\*\*Nothing was run: |\*\*To fix:\*\* |Targets marked \*)/.test(
                line,
            )
        )
            continue;
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
    let proxy: AwsProxy;
    let env: Record<string, string>;
    let consoleMade: string;
    const accounts = ["111111111111", "222222222222"];
    const writer = "OrgAdmin";
    const reader = "OrgReader";
    const consoleTarget = "111111111111/us-east-1";
    const workflow = yaml.load(fs.readFileSync(path.join(repoRoot, ".github", "workflows", "session-manager.yml"), "utf8")) as {
        jobs: Record<string, { steps: Step[] }>;
    };

    /** A `run:` step of the workflow through bash, as GitHub runs it, with the job's files; an undefined value unsets a variable. */
    function runStep(script: string, extraEnv: Record<string, string | undefined> = {}): Promise<StepRun> {
        const stepEnv: Record<string, string | undefined> = { ...process.env, ...env, ...extraEnv };
        for (const [key, value] of Object.entries(stepEnv)) if (value === undefined) delete stepEnv[key];
        return new Promise((resolve, reject) => {
            const child = spawn("bash", ["-e", "-c", script], { cwd: repo, env: stepEnv, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
            child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
            child.on("error", reject);
            child.on("close", (code) => resolve({ code, stdout, stderr }));
        });
    }

    /**
     * The job as shard 1 of 1 (its steps up to and including its last `npm run ... org` step:
     * installing, then the org commands), then its `<job>-report` job up to and including the
     * last merge of the shards' reports, in the same checkout (as the download of the shards'
     * artifacts puts them there). Both jobs' outputs go to `<job>.github-output`, their
     * summaries to `<job>.step-summary`.
     */
    async function runJob(job: string, extraEnv: Record<string, string | undefined> = {}): Promise<StepRun[]> {
        const runs: StepRun[] = [];
        // A fresh runner each time: no output file or report left by an earlier run of the job.
        fs.rmSync(path.join(workDir, `${job}.github-output`), { force: true });
        fs.rmSync(path.join(workDir, `${job}.step-summary`), { force: true });
        for (const dir of ["reports", "audit"]) fs.rmSync(path.join(repo, dir), { recursive: true, force: true });
        for (const name of [job, `${job}-report`]) {
            const steps = workflow.jobs[name].steps;
            const orgSteps = steps.flatMap((s, i) => (/npm run --silent org -- /.test(s.run ?? "") ? [i] : []));
            expect(orgSteps, `${name} has an npm run --silent org step`).to.not.be.empty;
            for (const step of steps.slice(0, orgSteps[orgSteps.length - 1] + 1)) {
                if (!step.run) continue;
                const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expressions(String(v), {})]));
                const r = await runStep(step.run, {
                    ...stepEnv,
                    GITHUB_OUTPUT: path.join(workDir, `${job}.github-output`),
                    GITHUB_STEP_SUMMARY: path.join(workDir, `${job}.step-summary`),
                    ...extraEnv,
                });
                expect(r.code, `${name}: ${step.run}\n${r.stderr}`).to.equal(0);
                runs.push(r);
            }
        }
        return runs;
    }

    /** GitHub's expressions in a step, as a run on pull request 17 of acme/repo would see them. */
    function expressions(text: string, outputs: Record<string, string>): string {
        const values: Record<string, string> = {
            "github.event.pull_request.number": "17",
            "github.server_url": "https://github.example",
            "github.repository": "acme/repo",
            "github.run_id": "42",
            "github.token": "not-a-token",
            // Shard 1 of 1, the default; the workflow as the deployer.
            "matrix.shard": "1",
            "needs.shards.outputs.count": "1",
            "vars.SESSION_MANAGER_DEPLOYER": "",
            ...outputs,
        };
        return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, name: string) => {
            if (!(name in values)) throw new Error(`the test does not know the expression ${name}`);
            return values[name];
        });
    }

    /**
     * Runs the job's step named `name` after its org step, with a stand-in `gh` that records
     * what it would post: the PR comment or the issue, exactly as the workflow hands it over.
     */
    async function postedBy(job: string, name: string): Promise<{ args: string; body: string }> {
        const step = workflow.jobs[`${job}-report`].steps.find((s) => s.name === name);
        expect(step?.run, name).to.be.a("string");
        const fake = path.join(workDir, "fake-gh");
        fs.mkdirSync(fake, { recursive: true });
        fs.writeFileSync(
            path.join(fake, "gh"),
            [
                "#!/usr/bin/env bash",
                'echo "$*" >> "$GH_CALLS"',
                'while [ $# -gt 0 ]; do if [ "$1" = --body-file ]; then cat "$2" >> "$GH_BODY"; fi; shift; done',
            ].join("\n"),
            { mode: 0o755 },
        );
        const calls = path.join(workDir, "gh-calls");
        const body = path.join(workDir, "gh-body");
        fs.rmSync(calls, { force: true });
        fs.rmSync(body, { force: true });
        const output = fs.readFileSync(path.join(workDir, `${job}.github-output`), "utf8");
        // The merge step's id: `merge` in preview-report, `drift` in drift-report.
        const outputs = Object.fromEntries(
            [...output.matchAll(/^(\w+)=(.*)$/gm)].flatMap((m) => [`steps.${job}.outputs.${m[1]}`, `steps.merge.outputs.${m[1]}`].map((key) => [key, m[2]])),
        );
        const stepEnv = Object.fromEntries(Object.entries(step?.env ?? {}).map(([k, v]) => [k, expressions(String(v), outputs)]));
        const r = await runStep(expressions(step!.run!, outputs), { ...stepEnv, PATH: `${fake}${path.delimiter}${env.PATH}`, GH_CALLS: calls, GH_BODY: body });
        expect(r.code, r.stderr).to.equal(0);
        return { args: fs.readFileSync(calls, "utf8"), body: fs.readFileSync(body, "utf8") };
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
        // Every AWS call the jobs make goes through the counting proxy: which role each assumed, and what it wrote.
        proxy = await startAwsProxy(moto.endpoint);
        env = {
            ...(await engineEnv(moto, path.join(workDir, "backend"))),
            AWS_ENDPOINT_URL: proxy.endpoint,
            ORG_FLAGS: `--config ${path.join(workDir, "org.yaml")} --stack-prefix ${prefix} --parallel 2`,
            // npm ci from the local cache where it can: the test should not depend on the registry.
            npm_config_prefer_offline: "true",
        };
        writeOrgConfig(workDir, accounts, ["us-east-1"], { readOnlyRoleName: reader });
        // One document made in the console before this program: the first preview must show what up overwrites.
        const inspector = new DocumentInspector(moto.endpoint);
        consoleMade = await inspector.seed(consoleTarget, consoleDocument(consoleTarget));
        inspector.close();
    });

    after(async () => {
        await proxy?.close();
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    /** The roles the job assumed, and every call that changed something (any service), since the last look. */
    function awsCallsSinceLastLook(): { assumed: string[]; writes: string[] } {
        const calls = proxy.calls.splice(0, proxy.calls.length);
        return {
            assumed: [...new Set(calls.filter((c) => c.action === "AssumeRole").map((c) => c.roleArn ?? "?"))].sort(),
            writes: calls.filter((c) => isWrite(c.action)).map((c) => `${c.service}:${c.action} by ${c.signedBy ?? "the starting credentials"}`),
        };
    }

    const roleArns = (role: string) => accounts.map((a) => `arn:aws:iam::${a}:role/${role}`);

    it("the preview job: preview.md, from a checkout without node_modules, is only the report; it assumes only the read-only role and writes nothing", async () => {
        expect(fs.existsSync(path.join(repo, "node_modules"))).to.equal(false);
        proxy.resetCounts();
        await runJob("preview");
        const md = fs.readFileSync(path.join(repo, "preview.md"), "utf8");
        expect(markdownReportProblems(md, "Session Manager preferences: preview"), md).to.deep.equal([]);
        expect(fs.readFileSync(path.join(workDir, "preview.github-output"), "utf8")).to.equal("exit_code=0\n");
        const aws = awsCallsSinceLastLook();
        expect(aws.assumed, "the roles assumed").to.deep.equal(roleArns(reader));
        expect(aws.writes, "writes").to.deep.equal([]);
    });

    it("the first preview of a console-made document names every field the first up changes, and says its content is kept for destroy", () => {
        const md = fs.readFileSync(path.join(repo, "preview.md"), "utf8");
        const orgConfig = (yaml.load(fs.readFileSync(path.join(workDir, "org.yaml"), "utf8")) as { config: Record<string, unknown> }).config;
        const wanted = desiredFor(settingsOf(orgConfig), consoleTarget);
        const fields = fieldDifferences(wanted, JSON.parse(consoleMade)).map((d) => d.field);
        expect(fields.length).to.be.greaterThan(3);
        for (const field of fields)
            expect(md, field).to.match(new RegExp(`\\| ${consoleTarget} \\| \`${field.replace(/\./g, "\\.")}\` \\| .* \\| \\*adopts\\* \\|`));
        expect(md).to.include(`| ${consoleTarget} | \`inputs.s3BucketName\` | \`"console-logs-111111111111"\` | \`""\` | *adopts* |`);
        expect(md).to.include("#### Not managed yet");
        expect(md).to.include("its current content (version 1) is kept: destroy puts it back");
        // The other account has no document: created, and deleted again on destroy.
        expect(md).to.include("| 222222222222/us-east-1 | (create: no document yet) |");
    });

    it("the up job: the shard's JSON report and the merged summary; it writes only through the write role", async () => {
        await runJob("up");
        const report = JSON.parse(fs.readFileSync(path.join(repo, "reports", "up-1.json"), "utf8")) as {
            command: string;
            exitCode: number;
            targets: { result: string }[];
        };
        expect(fs.readFileSync(path.join(repo, "up.md"), "utf8")).to.include("All targets succeeded.");
        expect(report).to.deep.include({ command: "up", exitCode: 0 });
        expect(report.targets.map((t) => t.result)).to.deep.equal(["succeeded", "succeeded"]);
        const aws = awsCallsSinceLastLook();
        expect(aws.assumed, "up reads through the read-only role and writes through the write role").to.deep.equal(
            [...roleArns(writer), ...roleArns(reader)].sort(),
        );
        expect(aws.writes.length).to.be.greaterThan(0);
        expect(
            aws.writes.filter((w) => !/ by arn:aws:iam::\d{12}:role\/OrgAdmin$/.test(w)),
            "writes not by the write role",
        ).to.deep.equal([]);
    });

    it("the drift job: drift.md is only the report; it assumes only the read-only role and writes nothing", async () => {
        await runJob("drift");
        const md = fs.readFileSync(path.join(repo, "drift.md"), "utf8");
        expect(markdownReportProblems(md, "Session Manager preferences: drift check"), md).to.deep.equal([]);
        expect(md).to.include("All targets match their stacks.");
        // Each shard's audit, merged into the report job's summary after the drift report.
        const summary = fs.readFileSync(path.join(workDir, "drift.step-summary"), "utf8");
        const audit = summary.slice(summary.indexOf("### Session Manager preferences: audit"));
        expect(summary.indexOf("### Session Manager preferences: audit"), summary).to.be.greaterThan(summary.indexOf("drift check"));
        expect(markdownReportProblems(audit, "Session Manager preferences: audit"), audit).to.deep.equal([]);
        expect(audit).to.include("Every target is compliant. 2 targets: 2 compliant");
        const aws = awsCallsSinceLastLook();
        expect(aws.assumed).to.deep.equal(roleArns(reader));
        expect(aws.writes).to.deep.equal([]);
    });

    it("a broken config on a pull request: preview.md says which key is wrong and how to fix it, and nothing is run", async () => {
        const config = path.join(workDir, "org.yaml");
        const good = fs.readFileSync(config, "utf8");
        try {
            fs.writeFileSync(config, good.replace("config:\n", "config:\n  sessionManager:idleSessionTimeout: 90\n  sessionManager:onDelet: retain\n"));
            await runJob("preview");
            const md = fs.readFileSync(path.join(repo, "preview.md"), "utf8");
            expect(markdownReportProblems(md, "Session Manager preferences: preview"), md).to.deep.equal([]);
            expect(md).to.include("**Nothing was run: the organization config org.yaml is not valid**");
            expect(md).to.include("- `sessionManager:idleSessionTimeout: 90 is not valid: a whole number from 1 to 60 (minutes)");
            expect(md).to.include("did you mean sessionManager:onDelete?");
            expect(md).to.match(/\*\*To fix:\*\* correct each key above in org\.yaml/);
            expect(fs.readFileSync(path.join(workDir, "preview.github-output"), "utf8")).to.equal("exit_code=1\n");
            expect(awsCallsSinceLastLook().assumed, "nothing runs").to.deep.equal([]);
            // The comment the pull request gets is that report.
            const posted = await postedBy("preview", "Comment on the pull request");
            expect(posted.args).to.match(/^pr comment 17 --edit-last --body-file preview\.md$/m);
            expect(posted.body).to.equal(md);
            // And were the report ever missing, the comment would say where to look instead of being empty.
            fs.writeFileSync(path.join(repo, "preview.md"), "");
            const fallback = await postedBy("preview", "Comment on the pull request");
            expect(fallback.body).to.include(
                "**The preview wrote no report.** See the log of the workflow run https://github.example/acme/repo/actions/runs/42.",
            );
        } finally {
            fs.writeFileSync(config, good);
        }
    });

    it("a missing passphrase or backend is caught once, before any target, with the fix", async () => {
        await runJob("preview", { PULUMI_CONFIG_PASSPHRASE: undefined });
        const md = fs.readFileSync(path.join(repo, "preview.md"), "utf8");
        expect(markdownReportProblems(md, "Session Manager preferences: preview"), md).to.deep.equal([]);
        expect(md).to.include("**Nothing was run: PULUMI_CONFIG_PASSPHRASE is not set**");
        expect(md).to.include("the repository secret PULUMI_CONFIG_PASSPHRASE");
        expect(md, "no target ran").to.not.include("| 111111111111/us-east-1 |");

        await runJob("drift", { PULUMI_BACKEND_URL: undefined, PULUMI_ACCESS_TOKEN: undefined });
        const drift = fs.readFileSync(path.join(repo, "drift.md"), "utf8");
        expect(markdownReportProblems(drift, "Session Manager preferences: drift check"), drift).to.deep.equal([]);
        expect(drift).to.include("**Nothing was run: no Pulumi backend is set**");
        expect(drift).to.include("PULUMI_BACKEND_URL").and.include("PULUMI_ACCESS_TOKEN");
        expect(fs.readFileSync(path.join(workDir, "drift.github-output"), "utf8")).to.equal("exit_code=1\n");
        // The drift issue says what failed, under a title that says the check failed.
        const issue = await postedBy("drift", "Open or update the drift issue");
        expect(issue.args).to.include("issue create --title Session Manager drift check failed --label session-manager-drift --body-file drift.md");
        expect(issue.body).to.equal(drift);
    });

    it("accounts that cannot be reached: the report names each, and the roles it needs", async () => {
        await runJob("preview", {
            AWS_ACCESS_KEY_ID: "",
            AWS_SECRET_ACCESS_KEY: "",
            AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
            AWS_CONFIG_FILE: "/nonexistent/config",
            AWS_EC2_METADATA_DISABLED: "true",
        });
        const md = fs.readFileSync(path.join(repo, "preview.md"), "utf8");
        expect(markdownReportProblems(md, "Session Manager preferences: preview"), md).to.deep.equal([]);
        expect(md).to.include("**Nothing was run: 2 of the target accounts cannot be reached**");
        for (const account of accounts) expect(md).to.include(`- \`account ${account} (role ${reader}): no AWS credentials were found`);
        expect(md).to.include("the read-only role (sessionManager:readOnlyRoleName, else roleName)");
    });

    it("npm run --silent org -- drift --json prints only JSON on stdout while the pre-hook reinstalls dependencies", async () => {
        // A changed lockfile (or a fresh clone) makes the pre-hook run npm ci, whose output goes to stderr.
        fs.rmSync(path.join(repo, "node_modules", ".bootstrap-lock-hash"));
        const r = await runStep("npm run --silent org -- drift --json $ORG_FLAGS");
        expect(r.stderr).to.include("bootstrap: installing npm dependencies");
        expect(r.code, r.stderr).to.equal(0);
        const report = JSON.parse(r.stdout) as { command: string; targets: { result: string }[] };
        expect(report.command).to.equal("drift");
        expect(report.targets.map((t) => t.result)).to.deep.equal(["in sync", "in sync"]);
        expect(fs.existsSync(path.join(repo, "node_modules", ".bootstrap-lock-hash"))).to.equal(true);
    });

    it("the org pre-hook installs no Python tools", () => {
        expect(fs.existsSync(path.join(repo, "node_modules", ".python-venv"))).to.equal(false);
    });
});
