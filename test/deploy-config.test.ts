import { repoRoot } from "../devtools/engine";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { parseCli } from "../orchestrator/cli";
import { workflowRoles } from "../core/accessPolicies";

// Pulumi Cloud and GitHub are not reachable from the tests, so these check the fields the
// deployment settings and the workflow depend on, as their readers would see them.
const root = repoRoot;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, read by deep paths
const read = (file: string) => yaml.load(fs.readFileSync(path.join(root, file), "utf8")) as Record<string, any>;

/** Go's time.Duration text, as Pulumi Deployments parses `duration`: e.g. 2h0m0s, 45m. */
function goDurationMinutes(text: string): number | undefined {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
    if (!m || text === "") return undefined;
    return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 60;
}

describe("Pulumi.prod.deploy.yaml (Pulumi Deployments settings)", () => {
    const deploy = read("Pulumi.prod.deploy.yaml");
    const settings = deploy.settings;

    it("belongs to a stack whose config exists", () => {
        expect(fs.existsSync(path.join(root, "Pulumi.prod.yaml"))).to.equal(true);
        expect(Object.keys(deploy)).to.deep.equal(["settings"]);
    });

    it("clones the repository's main branch and runs the project at repoDir", () => {
        const git = settings.sourceContext.git;
        expect(git.repoUrl).to.match(/^https:\/\/\S+\.git$/);
        expect(git.branch).to.equal("refs/heads/main");
        expect(fs.existsSync(path.join(root, git.repoDir, "Pulumi.yaml")), "repoDir must hold Pulumi.yaml").to.equal(true);
        expect(settings.gitHub.repository).to.equal(new URL(git.repoUrl).pathname.replace(/^\/|\.git$/g, ""));
    });

    it("installs exactly the lockfile before running, instead of the executor's npm install", () => {
        expect(settings.operationContext.preRunCommands).to.include("npm ci --no-audit --no-fund");
        expect(settings.operationContext.options.skipInstallDependencies).to.equal(true);
    });

    it("runs in the Node.js 24 executor image at the SDK's CLI version, and suppresses no SDK notice", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
        expect(settings.executorContext.executorImage.reference).to.equal(`pulumi/pulumi-nodejs-24:${lock.packages["node_modules/@pulumi/pulumi"].version}`);
        expect(JSON.stringify(settings)).to.not.include("WARNING_DISABLED");
    });

    it("gets AWS credentials through OIDC with a valid role, session name and duration", () => {
        const aws = settings.operationContext.oidc.aws;
        expect(aws.roleArn).to.match(/^arn:aws(-us-gov|-cn)?:iam::\d{12}:role\/[\w+=,.@-]+$/);
        expect(aws.sessionName).to.match(/^[\w+=,.@-]{2,64}$/);
        const minutes = goDurationMinutes(aws.duration);
        // STS accepts 15 minutes to 12 hours for a role session.
        expect(minutes)
            .to.be.a("number")
            .within(15, 12 * 60);
    });

    it("ships with deploying and previewing off: the workflow is the one deployer on pushes to main", () => {
        expect(settings.gitHub.deployCommits).to.equal(false);
        expect(settings.gitHub.previewPullRequests).to.equal(false);
    });

    it("watches the files the prod stack's program is built from", () => {
        for (const p of settings.gitHub.paths as string[]) {
            const base = p.replace(/\/\*\*$/, "");
            expect(fs.existsSync(path.join(root, base)), `${p} names nothing in the repository`).to.equal(true);
        }
        expect(settings.gitHub.paths).to.include.members(["index.ts", "Pulumi.prod.yaml", "package-lock.json"]);
    });
});

describe(".github/workflows/session-manager.yml", () => {
    const workflow = read(".github/workflows/session-manager.yml");
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    const jobs = workflow.jobs as Record<
        string,
        { if: string; steps: { run?: string; uses?: string; if?: string; with?: Record<string, unknown> }[]; permissions?: Record<string, string> }
    >;
    const runs = (job: string) => jobs[job].steps.map((s) => s.run ?? "").join("\n");

    /** The jobs that run `npm run org` against the targets: each a matrix of shards. */
    const shardJobs = ["preview", "up", "drift"];
    /** The jobs that merge the shards' reports. */
    const reportJobs = ["preview-report", "up-report", "drift-report"];

    /**
     * Every `npm run org -- ...` line of a job, as the shell would pass it in shard 1 of 1: the
     * workflow's shared flags expanded, and the drift job's selection as the loop's (a shard).
     */
    function orgCommands(job: string): string[][] {
        const shared = String(workflow.env.ORG_FLAGS).split(/\s+/);
        const words: Record<string, string[]> = { '"${org_flags[@]}"': shared, '"$SHARD"': ["1/1"], '"${select[@]}"': ["--shard", "1/1"] };
        return [...runs(job).matchAll(/npm run (?:--silent )?org -- ([^>\n|]+)/g)].map((m) =>
            m[1]
                .trim()
                .split(/\s+/)
                .flatMap((a) => words[a] ?? [a.replace(/^"|"$/g, "")]),
        );
    }

    /** The workflow's concurrency group for a run, its expression evaluated as GitHub would (the operators mean the same in JavaScript). */
    function groupOf(github: { event_name: string; head_ref?: string }, inputs: { command?: string } = {}): string {
        const expression = /^session-manager-\$\{\{([\s\S]*)\}\}$/.exec(String(workflow.concurrency.group).trim());
        expect(expression, "the group is session-manager-${{ ... }}").to.not.equal(null);
        const format = (text: string, ...args: string[]) => text.replace(/\{(\d+)\}/g, (_, i: string) => args[Number(i)]);
        const evaluate = new Function("github", "inputs", "format", `return (${(expression as RegExpExecArray)[1]});`) as (...a: unknown[]) => string;
        return `session-manager-${evaluate(github, inputs, format)}`;
    }

    it("runs on pull requests, pushes to main and a schedule", () => {
        // js-yaml reads the bare key `on` as the boolean true, as YAML 1.1 readers do.
        const on = workflow.on ?? workflow.true;
        expect(on).to.have.keys("pull_request", "push", "schedule", "workflow_dispatch");
        expect(on.push.branches).to.deep.equal(["main"]);
        expect(on.schedule[0].cron).to.match(/^(\S+\s+){4}\S+$/);
    });

    it("asks for an OIDC token, the way AWS credentials are obtained", () => {
        expect(workflow.permissions["id-token"]).to.equal("write");
        for (const job of shardJobs) {
            expect(
                jobs[job].steps.some((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@")),
                job,
            ).to.equal(true);
            if (jobs[job].permissions) expect(jobs[job].permissions?.["id-token"], job).to.equal("write");
        }
    });

    it("installs the Pulumi CLI at the version of the SDK in the lockfile", () => {
        expect(String(workflow.env.PULUMI_VERSION)).to.equal(lock.packages["node_modules/@pulumi/pulumi"].version);
    });

    it("runs on Node.js 24 and suppresses no SDK notice", () => {
        for (const job of [...shardJobs, ...reportJobs]) {
            const setup = jobs[job].steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
            expect(String((setup as { with?: Record<string, unknown> } | undefined)?.with?.["node-version"]), job).to.equal("24");
        }
        expect(JSON.stringify(workflow)).to.not.include("WARNING_DISABLED");
    });

    it("runs preview, up and drift as a matrix of shards from the repository variable (default 1), each writing its JSON report", () => {
        expect(runs("shards")).to.include("seq -s , 1");
        expect(JSON.stringify(jobs.shards)).to.include("vars.SESSION_MANAGER_SHARDS || '1'");
        for (const job of shardJobs) {
            const j = jobs[job] as unknown as { needs: string; strategy: { "fail-fast": boolean; matrix: { shard: string } } };
            expect(j.needs, job).to.equal("shards");
            expect(j.strategy.matrix.shard, job).to.equal("${{ fromJSON(needs.shards.outputs.list) }}");
            expect(j.strategy["fail-fast"], job).to.equal(false);
            expect(orgCommands(job)[0].slice(0, 4), job).to.deep.equal([job, "--shard", "1/1", "--json"]);
            expect(runs(job), job).to.match(new RegExp(`> "reports/${job}-\\$\\{SHARD%%/\\*\\}\\.json"`));
        }
    });

    it("merges the shards' reports in one job per command, which posts the comment, the issue or the summary", () => {
        for (const [job, command] of [
            ["preview-report", "preview"],
            ["up-report", "up"],
            ["drift-report", "drift"],
        ]) {
            expect(orgCommands(job)[0], job).to.deep.equal(["merge", `reports/${command}-*.json`, "--markdown"]);
            expect((jobs[job] as unknown as { needs: string[] }).needs, job).to.deep.equal(["shards", command]);
            expect(jobs[job].if, job).to.match(/^always\(\) && /);
            expect(JSON.stringify(jobs[job].steps), job).to.include(`"pattern":"${command}-shard-*"`);
        }
    });

    it("previews on pull requests and comments the merged Markdown summary", () => {
        expect(jobs.preview.if).to.equal("github.event_name == 'pull_request'");
        expect(runs("preview-report")).to.match(/gh pr comment .*--body-file preview\.md/);
        expect(jobs["preview-report"].permissions?.["pull-requests"]).to.equal("write");
        expect(jobs.preview.permissions?.["pull-requests"]).to.equal(undefined);
    });

    it("gives ups, drift checks and each pull request's previews groups of their own, so no check can cancel an up", () => {
        const up = groupOf({ event_name: "push" });
        const manualUp = groupOf({ event_name: "workflow_dispatch" }, { command: "up" });
        const drift = groupOf({ event_name: "schedule" });
        const manualDrift = groupOf({ event_name: "workflow_dispatch" }, { command: "drift" });
        expect([up, manualUp]).to.deep.equal(["session-manager-up", "session-manager-up"]);
        expect([drift, manualDrift]).to.deep.equal(["session-manager-drift", "session-manager-drift"]);
        expect(groupOf({ event_name: "pull_request", head_ref: "feature" })).to.equal("session-manager-preview-feature");
        // GitHub cancels a pending run when another joins its group; only previews may be cancelled.
        const cancel = String(workflow["concurrency"]["cancel-in-progress"]);
        expect(cancel).to.equal("${{ github.event_name == 'pull_request' }}");
    });

    it("starts the drift check by hand by default, and up only when asked", () => {
        const on = workflow.on ?? workflow.true;
        expect(on.workflow_dispatch.inputs.command.options).to.deep.equal(["drift", "up"]);
        expect(on.workflow_dispatch.inputs.command.default).to.equal("drift");
        expect(jobs.drift.if).to.include("github.event_name == 'workflow_dispatch' && inputs.command != 'up'");
        expect(jobs.up.if).to.include("github.event_name == 'workflow_dispatch' && inputs.command == 'up'");
    });

    it("with Pulumi Deployments as the deployer, the drift check checks the one stack Deployments deploys", () => {
        const deploy = read("Pulumi.prod.deploy.yaml") as { settings: unknown };
        expect(deploy.settings).to.be.an("object");
        expect(workflow.env.DEPLOYMENTS_STACK).to.equal("prod");
        expect(fs.existsSync(path.join(root, `Pulumi.${workflow.env.DEPLOYMENTS_STACK}.yaml`))).to.equal(true);
        expect(runs("drift")).to.include('if [ "$DEPLOYER" = pulumi-deployments ]; then select=(--stack "$DEPLOYMENTS_STACK")');
        expect(runs("shards")).to.include('if [ "$DEPLOYER" = pulumi-deployments ]; then count=1; fi');
        const shared = String(workflow.env.ORG_FLAGS).split(/\s+/);
        expect(() => parseCli(["drift", "--stack", "prod", "--json", ...shared], root)).not.to.throw();
    });

    it("applies on pushes to main, unless the repository variable hands deploying to Pulumi Deployments", () => {
        expect(jobs.up.if).to.equal(
            "(github.event_name == 'push' || (github.event_name == 'workflow_dispatch' && inputs.command == 'up')) && vars.SESSION_MANAGER_DEPLOYER != 'pulumi-deployments'",
        );
        expect(orgCommands("up")[0][0]).to.equal("up");
    });

    it("previews and checks drift with the read-only role; only up, in the production environment, has the write role", () => {
        const role = (job: string) => jobs[job].steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))?.with?.["role-to-assume"];
        expect(role("preview")).to.equal("${{ vars.AWS_PREVIEW_ROLE_ARN }}");
        expect(role("drift")).to.equal("${{ vars.AWS_PREVIEW_ROLE_ARN }}");
        expect(role("up")).to.equal("${{ vars.AWS_ROLLOUT_ROLE_ARN }}");
        const environments = Object.fromEntries(Object.entries(jobs).map(([name, job]) => [name, (job as { environment?: string }).environment]));
        expect(environments).to.deep.equal({
            shards: undefined,
            preview: undefined,
            "preview-report": undefined,
            up: "production",
            "up-report": undefined,
            drift: undefined,
            "drift-report": undefined,
        });
        // The jobs that merge reports and post them hold no AWS credentials at all.
        for (const job of ["shards", ...reportJobs])
            expect(JSON.stringify(jobs[job]), job).to.not.include("configure-aws-credentials").and.not.include("id-token");
    });

    it("installs npm dependencies only, through the bootstrap the org pre-hook checks, and no Python test tools", () => {
        expect(pkg.scripts.preorg).to.equal("node scripts/bootstrap.js --npm-only");
        for (const job of [...shardJobs, ...reportJobs]) {
            const steps = jobs[job].steps;
            const install = steps.findIndex((s) => s.run === "node scripts/bootstrap.js --npm-only");
            const org = steps.findIndex((s) => /npm run --silent org -- /.test(s.run ?? ""));
            expect(install, job).to.be.greaterThan(-1).and.lessThan(org);
            expect(JSON.stringify(steps), job).not.to.match(/\bpip\b|moto|cfn-lint|requirements-test|setup-python|npm ci|npm install/);
        }
    });

    it("the setup checklist (docs/ci.md) names every variable, secret and environment the workflow uses", () => {
        const page = fs.readFileSync(path.join(root, "docs", "ci.md"), "utf8");
        const checklist = page.slice(page.indexOf("## Setup checklist"));
        expect(checklist.length, "docs/ci.md has a Setup checklist").to.be.lessThan(page.length);
        const text = fs.readFileSync(path.join(root, ".github", "workflows", "session-manager.yml"), "utf8");
        const names = [...new Set([...text.matchAll(/\b(?:vars|secrets)\.([A-Z_]+)/g)].map((m) => m[1]))];
        expect(names).to.include.members(["AWS_PREVIEW_ROLE_ARN", "AWS_ROLLOUT_ROLE_ARN", "AWS_REGION", "SESSION_MANAGER_DEPLOYER"]);
        for (const name of [...names, "production"]) expect(checklist, name).to.include(`\`${name}\``);
        for (const subject of ["repo:OWNER/REPO:pull_request", "repo:OWNER/REPO:ref:refs/heads/main", "repo:OWNER/REPO:environment:production"]) {
            expect(checklist, subject).to.include(subject);
        }
        expect(checklist).to.include("pulumi:deploy:org:");
        expect(checklist).to.include("deployCommits");
    });

    it("checks drift on the schedule and opens an issue when the merged exit code says drift", () => {
        expect(jobs.drift.if).to.match(/^github\.event_name == 'schedule' \|\| /);
        const issueStep = jobs["drift-report"].steps.find((s) => s.run?.includes("gh issue create"));
        expect(issueStep?.if).to.equal("steps.drift.outputs.exit_code == '2' || steps.drift.outputs.exit_code == '1'");
        expect(jobs["drift-report"].permissions?.issues).to.equal("write");
        expect(jobs.drift.permissions?.issues).to.equal(undefined);
    });

    it("asks for sessions the roles npm run org -- policies generates allow, presenting the subjects their trust policies admit", () => {
        const credentials = (job: string) => jobs[job].steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))?.with ?? {};
        // configure-aws-credentials asks for one hour unless told otherwise: the roles' default MaxSessionDuration.
        expect(credentials("up")["role-duration-seconds"]).to.equal(workflowRoles.rolloutSessionSeconds);
        expect(credentials("preview")["role-duration-seconds"] ?? 3600).to.be.at.most(workflowRoles.previewSessionSeconds);
        expect(credentials("drift")["role-duration-seconds"] ?? 3600).to.be.at.most(workflowRoles.previewSessionSeconds);
        // A job may run as long as its session lasts, no longer.
        expect((jobs.up as { "timeout-minutes"?: number })["timeout-minutes"]! * 60).to.be.at.most(workflowRoles.rolloutSessionSeconds);
        // GitHub's OIDC subject: pull_request for a PR's jobs, environment:<name> for a job in an environment, else ref:<ref>.
        const on = workflow.on ?? workflow.true;
        const subjectOf = (job: string, event: string) => {
            const environment = (jobs[job] as { environment?: string }).environment;
            if (environment) return `repo:acme/repo:environment:${environment}`;
            return event === "pull_request" ? "repo:acme/repo:pull_request" : `repo:acme/repo:ref:refs/heads/${on.push.branches[0]}`;
        };
        expect(workflowRoles.previewSubjects("acme/repo")).to.include.members([subjectOf("preview", "pull_request"), subjectOf("drift", "schedule")]);
        expect(workflowRoles.rolloutSubjects("acme/repo")).to.deep.equal([subjectOf("up", "push")]);
    });

    it("the setup checklist gives the roles to copy and what their session lengths must be", () => {
        const page = fs.readFileSync(path.join(root, "docs", "ci.md"), "utf8");
        const checklist = page.slice(page.indexOf("## Setup checklist"));
        expect(checklist).to.include("npm run --silent org -- policies");
        expect(checklist).to.include("`sessionManager:readOnlyRoleName`");
        expect(checklist).to.include(`MaxSessionDuration`).and.include(String(workflowRoles.rolloutSessionSeconds));
    });

    it("uses only npm scripts that exist and flags the orchestrator accepts", () => {
        for (const job of [...shardJobs, ...reportJobs]) {
            for (const [, script] of runs(job).matchAll(/npm run (?:--silent )?([\w:-]+)/g)) expect(pkg.scripts, `npm run ${script}`).to.have.property(script);
            for (const argv of orgCommands(job)) expect(() => parseCli(argv, root), argv.join(" ")).not.to.throw();
        }
    });
});
