// The orchestrator's command line as a user meets it: a mistyped flag, a config file that is
// not there, and (through the real engine) what `npm run org` leaves in the project
// directory and the backend: the user's selected stack, and no stacks a preview created.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { closestFlag, flags, parseCli, usage, UsageError } from "../orchestrator/cli";
import { orgCommand, policySelection } from "../orchestrator/commandLine";
import { ChildRun, runScript } from "./support/childProcess";
import { engineEnv, pulumiBin, repoRoot } from "../devtools/engine";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";
import { orgFlags, runOrg, stackNames as listStacks, writeOrgConfig } from "./support/org";

function usageMessage(argv: string[]): string {
    try {
        parseCli(argv, repoRoot);
    } catch (err) {
        expect(err).to.be.instanceOf(UsageError);
        return (err as Error).message;
    }
    throw new Error(`${argv.join(" ")} was accepted`);
}

describe("orchestrator command line", () => {
    it("every flag is in the help text and in the flag table of docs/organization-rollout.md", () => {
        const page = fs.readFileSync(path.join(repoRoot, "docs", "organization-rollout.md"), "utf8");
        const table = page.slice(page.indexOf("| `--config <file>`"), page.indexOf("\n\n", page.indexOf("| `--config <file>`")));
        for (const name of Object.keys(flags)) {
            expect(usage, name).to.include(`--${name}`);
            // In a row's first cell, in backticks: `--name` or `--name <value>`.
            expect(table, name).to.match(new RegExp(`^\\| [^|]*\`--${name}[ \`]`, "m"));
        }
    });

    it("the help text fits 80 columns", () => {
        for (const line of usage.split("\n")) expect(line.length, line).to.be.at.most(80);
    });

    it("records the flags that chose the stacks, as given, for the commands it suggests", () => {
        const options = parseCli(["drift", "--parallel", "2", "--config=envs/prod.yaml", "--stack-prefix", "prod", "--json"], repoRoot);
        expect(options).to.have.property("selection").that.deep.equals(["--config", "envs/prod.yaml", "--stack-prefix", "prod"]);
        expect(parseCli(["up"], repoRoot))
            .to.have.property("selection")
            .that.deep.equals([]);
        expect(orgCommand("up", ["--config", "it's.yaml"], "--recover")).to.equal("npm run org -- up --config 'it'\\''s.yaml' --recover");
        expect(policySelection(["--config", "a.yaml", "--stack-prefix", "p", "--role-name", "R"])).to.deep.equal(["--config", "a.yaml", "--role-name", "R"]);
    });

    describe("a mistyped flag", () => {
        it("names the closest flag instead of parseArgs' own text", () => {
            expect(usageMessage(["up", "--paralel", "3"])).to.equal("unknown flag --paralel; did you mean --parallel?");
            expect(usageMessage(["up", "--paralel=3"])).to.equal("unknown flag --paralel; did you mean --parallel?");
            expect(usageMessage(["drift", "--jsn"])).to.equal("unknown flag --jsn; did you mean --json?");
            expect(usageMessage(["up", "--stackprefix", "x"])).to.equal("unknown flag --stackprefix; did you mean --stack-prefix?");
            expect(usageMessage(["destroy", "--remov"])).to.equal("unknown flag --remov; did you mean --remove?");
        });

        it("suggests nothing when no flag is close", () => {
            expect(usageMessage(["up", "--frobnicate"])).to.equal("unknown flag --frobnicate");
            expect(closestFlag("--zz")).to.equal(undefined);
        });

        it("says a flag needs a value, or takes none", () => {
            expect(usageMessage(["up", "--parallel"])).to.equal("--parallel needs a value, e.g. --parallel <value>");
            expect(usageMessage(["up", "--json=yes"])).to.equal("--json takes no value");
        });

        it("exits 64 with the message and a pointer to --help on stderr, nothing on stdout", async () => {
            const r = await runOrg(["up", "--paralel", "3"]);
            expect(r.exitCode).to.equal(64);
            expect(r.stdout).to.equal("");
            expect(r.stderr).to.equal(
                "error: unknown flag --paralel; did you mean --parallel?\nUsage: npm run org -- <command> [flags]; npm run org -- --help lists every command and flag.\n",
            );
        });
    });

    describe("policies", () => {
        const config = path.join(repoRoot, "Pulumi.prod.yaml");

        it("needs the starting account, and takes none of the rollout's flags (nor they its)", () => {
            expect(usageMessage(["policies", "--config", config])).to.include("policies needs --starting-account");
            expect(usageMessage(["policies", "--starting-account", "12345"])).to.equal("--starting-account 12345: a 12-digit AWS account ID");
            expect(usageMessage(["policies", "--starting-account", "999988887777", "--github-repository", "acme"])).to.include("owner/name");
            expect(usageMessage(["policies", "--starting-account", "999988887777", "--markdown"])).to.equal("--markdown does not go with policies");
            expect(usageMessage(["preview", "--starting-account", "999988887777"])).to.equal("--starting-account goes with policies only");
            expect(usageMessage(["policies", "--starting-account", "999988887777", "--backend-url", "file:///tmp/x"])).to.include("an S3 backend URL");
        });

        it("prints each role with where to create it, its session length, trust and permissions, calling no AWS API", async () => {
            const run = await runOrg(["policies", "--config", config, "--starting-account", "999988887777", "--github-repository", "acme/landing-zone"]);
            expect(run.exitCode, run.stderr).to.equal(0);
            expect(run.stdout).to.match(/^ROLE\s+MAX SESSION\s+CREATE IN\n/);
            expect(run.stdout).to.match(/SessionManagerDeployer\s+3600s\s+every target account \(111122223333, 444455556666\)/);
            expect(run.stdout).to.match(/SessionManagerRollout\s+7200s\s+the account the workflow starts from \(999988887777\)/);
            expect(run.stdout).to.include("== SessionManagerReader: the read-only role");
            expect(run.stdout).to.include('"repo:acme/landing-zone:environment:production"');
        });

        it("writes each policy to a file with --out-dir, and prints JSON with --json", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-policies-"));
            try {
                const run = await runOrg(["policies", "--config", config, "--starting-account", "999988887777", "--out-dir", dir, "--json"]);
                expect(run.exitCode, run.stderr).to.equal(0);
                const printed = JSON.parse(run.stdout) as { roles: { roleName: string; permissions: unknown }[]; notes: string[] };
                expect(printed.roles.map((r) => r.roleName)).to.deep.equal([
                    "SessionManagerDeployer",
                    "SessionManagerReader",
                    "SessionManagerPreview",
                    "SessionManagerRollout",
                ]);
                expect(printed.notes.join()).to.include("no --github-repository given");
                for (const role of printed.roles) {
                    expect(JSON.parse(fs.readFileSync(path.join(dir, `${role.roleName}.permissions.json`), "utf8"))).to.deep.equal(role.permissions);
                    expect(fs.existsSync(path.join(dir, `${role.roleName}.trust.json`))).to.equal(true);
                }
                expect(JSON.parse(fs.readFileSync(path.join(dir, "roles.json"), "utf8")).roles).to.have.length(4);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("a config file that does not exist", () => {
        it("exits 64 naming the file and how to create it from the example", async () => {
            const missing = path.join(os.tmpdir(), `no-such-org-${process.pid}.yaml`);
            const r = await runOrg(["preview", "--config", missing]);
            expect(r.exitCode).to.equal(64);
            expect(r.stdout).to.equal("");
            expect(r.stderr).to.include(`error: the organization config ${missing} does not exist.`);
            expect(r.stderr).to.include(`cp ${path.join(repoRoot, "Pulumi.prod.yaml")} ${missing}`);
            expect(r.stderr).to.include("--config <file>");
        });
    });
});

describe("what npm run org leaves behind, through the real engine", function () {
    this.timeout(12 * 60_000);
    const prefix = `cli-${process.pid}`;
    const userStack = "user-dev";
    let workDir: string;
    let project: string;
    let moto: Moto;
    let env: Record<string, string>;
    let bin: string;

    function pulumi(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            execFile(path.join(bin, "pulumi"), args, { cwd: project, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
                resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
            );
        });
    }

    function org(...args: string[]): Promise<ChildRun> {
        const common = orgFlags(workDir, prefix, 2, project);
        return runScript("scripts/org.ts", [...args, ...common], { env, timeoutMs: 8 * 60_000 });
    }

    async function selectedStack(): Promise<string> {
        const r = await pulumi("stack", "--show-name");
        expect(r.code, r.stderr).to.equal(0);
        return r.stdout.trim();
    }

    const stackNames = () => listStacks(bin, project, env);

    const orgStackFiles = () => fs.readdirSync(project).filter((f) => f.startsWith(`Pulumi.${prefix}.`));
    const orgStacks = [`${prefix}.111111111111.eu-west-1`, `${prefix}.111111111111.us-east-1`];

    before(async function () {
        this.timeout(60 * 60_000);
        bin = await pulumiBin();
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-cli-"));
        project = projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        env = { ...(await engineEnv(moto, path.join(workDir, "backend"))) };
        writeOrgConfig(workDir, ["111111111111"], ["us-east-1", "eu-west-1"]);
        // The user's own stack of the project, selected, as after `pulumi stack init`.
        const init = await pulumi("stack", "init", userStack);
        expect(init.code, init.stderr).to.equal(0);
        expect(await selectedStack()).to.equal(userStack);
    });

    after(async () => {
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("a failed preview leaves no stack, no Pulumi.<stack>.yaml, and the user's stack selected", async () => {
        const index = path.join(project, "index.ts");
        fs.unlinkSync(index);
        fs.writeFileSync(index, 'throw new Error("this program fails on purpose");\n');
        let run: ChildRun;
        try {
            run = await org("preview", "--json");
        } finally {
            fs.unlinkSync(index);
            fs.symlinkSync(path.join(repoRoot, "index.ts"), index);
        }
        expect(run.code, run.stderr).to.equal(1);
        const report = JSON.parse(run.stdout) as { targets: { result: string; error?: string }[] };
        expect(report.targets.map((t) => t.result)).to.deep.equal(["failed", "failed"]);
        expect(report.targets[0].error).to.include("fails on purpose");
        expect(await stackNames()).to.deep.equal([userStack]);
        expect(orgStackFiles()).to.deep.equal([]);
        expect(await selectedStack()).to.equal(userStack);
    });

    it("a successful preview of new targets leaves no stacks either", async () => {
        const run = await org("preview", "--json");
        expect(run.code, run.stderr).to.equal(0);
        expect(await stackNames()).to.deep.equal([userStack]);
        expect(orgStackFiles()).to.deep.equal([]);
        expect(await selectedStack()).to.equal(userStack);
    });

    it("up creates the stacks without selecting them; a preview then keeps them; drift selects nothing", async () => {
        const up = await org("up", "--json");
        expect(up.code, up.stderr).to.equal(0);
        expect(await selectedStack()).to.equal(userStack);
        expect(await stackNames()).to.deep.equal([...orgStacks, userStack].sort());

        const preview = await org("preview", "--json");
        expect(preview.code, preview.stderr).to.equal(0);
        expect(await stackNames()).to.deep.equal([...orgStacks, userStack].sort());
        expect(await selectedStack()).to.equal(userStack);

        const drift = await org("drift", "--json");
        expect(drift.code, drift.stderr).to.equal(0);
        expect(await selectedStack()).to.equal(userStack);
    });
});
