// `npm run org` runs this repository's program inline (orchestrator/program.ts): when it
// does, and that concurrent inline runs each see their own stack and config.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { engineEnv, pulumiBin, repoRoot } from "../devtools/engine";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";
import { inlineProgramFor } from "../orchestrator/program";
import { runRollout } from "../orchestrator/run";
import { OrgTarget } from "../orchestrator/targets";

describe("the program npm run org runs inline", function () {
    this.timeout(5 * 60_000);
    let dir: string;
    before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-inline-"))));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    describe("which projects run inline", () => {
        it("this repository, and a copy whose index.ts links to it", () => {
            expect(inlineProgramFor(repoRoot)).to.be.a("function");
            expect(inlineProgramFor(projectCopy(path.join(dir, "copy")))).to.be.a("function");
        });

        it("not a project with a program of its own, nor one whose Pulumi.yaml names another main", () => {
            const own = projectCopy(path.join(dir, "own"));
            fs.unlinkSync(path.join(own, "index.ts"));
            fs.writeFileSync(path.join(own, "index.ts"), "export = async () => ({});\n");
            expect(inlineProgramFor(own)).to.equal(undefined);

            const main = projectCopy(path.join(dir, "main"));
            fs.appendFileSync(path.join(main, "Pulumi.yaml"), "main: other.ts\n");
            expect(inlineProgramFor(main)).to.equal(undefined);

            expect(inlineProgramFor(path.join(repoRoot, "examples", "rollout"))).to.equal(undefined);
        });
    });

    describe("through the real engine", () => {
        let moto: Moto;
        before(async () => (moto = await startMoto()));
        after(async () => moto?.stop());

        it("runs the program once per target, in parallel, each run seeing only its own stack and config; a rerun starts two CLI processes per target, neither decrypting secrets", async () => {
            const project = projectCopy(path.join(dir, "engine"));
            const env = await engineEnv(moto, path.join(dir, "backend"));
            const targets: OrgTarget[] = ["111111111111", "222222222222", "333333333333", "444444444444"].map((accountId) => ({
                accountId,
                region: "eu-west-1",
                roleName: "OrgAdmin",
                stackName: `inline.${accountId}.eu-west-1`,
            }));
            const seen: { stack: string; before: string; after: string }[] = [];
            let running = 0;
            let overlapped = false;
            const program = async () => {
                running++;
                overlapped ||= running > 1;
                const before = new pulumi.Config("probe").require("account");
                // Give the other runs time to start and set their own stack and config.
                await new Promise((resolve) => setTimeout(resolve, 1500));
                seen.push({ stack: pulumi.getStack(), before, after: new pulumi.Config("probe").require("account") });
                running--;
                return {};
            };
            // Every CLI process the rollout starts, whichever code starts it, by its command (and the
            // subcommand of `stack`), through a wrapper in place of the CLI.
            const cliRoot = fs.mkdtempSync(path.join(dir, "counted-cli-"));
            const log = path.join(cliRoot, "calls");
            const realBin = await pulumiBin();
            fs.mkdirSync(path.join(cliRoot, "bin"));
            for (const f of fs.readdirSync(realBin).filter((f) => f !== "pulumi")) fs.symlinkSync(path.join(realBin, f), path.join(cliRoot, "bin", f));
            fs.writeFileSync(path.join(cliRoot, "bin", "pulumi"), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${path.join(realBin, "pulumi")}' "$@"\n`, {
                mode: 0o755,
            });
            const counting = await PulumiCommand.get({ root: cliRoot });
            const calls = () =>
                fs
                    .readFileSync(log, "utf8")
                    .split("\n")
                    .filter(Boolean)
                    .map((line) => line.split(" "));
            const rollout = () =>
                runRollout({
                    command: "up",
                    targets,
                    stackConfig: (t) => ({ "probe:account": t.accountId }),
                    projectDir: project,
                    program,
                    parallel: 4,
                    logDir: path.join(dir, "logs"),
                    envVars: env,
                    pulumiCommand: counting,
                });
            const report = await rollout();
            expect(report.results.map((r) => r.outcome)).to.deep.equal(["succeeded", "succeeded", "succeeded", "succeeded"]);
            expect(report.results.map((r) => r.changeSummary)).to.deep.equal(targets.map(() => ({ create: 1 })));
            expect(overlapped, "the runs overlapped").to.equal(true);
            expect(seen.map((s) => `${s.stack} ${s.before} ${s.after}`).sort()).to.deep.equal(
                targets.map((t) => `${t.stackName} ${t.accountId} ${t.accountId}`).sort(),
            );

            // Again, now that the stacks exist: one look at the backend, then per target one look
            // for what an interrupted run left and the up itself; no outputs or history asked after it.
            fs.rmSync(log);
            const again = await rollout();
            expect(again.results.map((r) => r.changeSummary)).to.deep.equal(targets.map(() => ({ same: 1 })));
            const commands = calls().map((args) => args.slice(0, args[0] === "stack" ? 2 : 1).join(" "));
            expect(commands.sort()).to.deep.equal(["stack ls", ...targets.flatMap(() => ["stack export", "up"])].sort());
            // The look for pending operations leaves the state's secrets encrypted.
            expect(
                calls().filter((args) => args.includes("--show-secrets")),
                "CLI calls that decrypt the state's secrets",
            ).to.deep.equal([]);
        });

        it("preview and up refresh with the program running: the document provider starts once per target, not once more for the refresh", async () => {
            const project = projectCopy(path.join(dir, "providers"));
            const env = await engineEnv(moto, path.join(dir, "providers-backend"));
            // Every start of the dynamic-provider plugin, through a wrapper beside the CLI: the
            // Automation API puts the CLI's directory first on PATH, where the engine looks first.
            const cliRoot = fs.mkdtempSync(path.join(dir, "cli-"));
            const starts = path.join(cliRoot, "starts");
            const plugin = "pulumi-resource-pulumi-nodejs";
            const realBin = await pulumiBin();
            fs.mkdirSync(path.join(cliRoot, "bin"));
            for (const f of fs.readdirSync(realBin).filter((f) => f !== plugin)) fs.symlinkSync(path.join(realBin, f), path.join(cliRoot, "bin", f));
            fs.writeFileSync(path.join(cliRoot, "bin", plugin), `#!/bin/sh\necho start >> '${starts}'\nexec '${path.join(realBin, plugin)}' "$@"\n`, {
                mode: 0o755,
            });
            const targets: OrgTarget[] = ["555555555555", "666666666666"].map((accountId) => ({
                accountId,
                region: "eu-west-1",
                roleName: "OrgAdmin",
                stackName: `providers.${accountId}.eu-west-1`,
            }));
            const pulumiCommand = await PulumiCommand.get({ root: cliRoot });
            const rollout = (command: "preview" | "up") =>
                runRollout({
                    command,
                    targets,
                    stackConfig: (t) => ({
                        "aws:region": t.region,
                        "sessionManager:sessionDataEncryption": "false",
                        "sessionManager:createCWLogGroup": "false",
                        "sessionManager:instancePolicy": "false",
                        "sessionManager:targets": JSON.stringify([{ accountId: t.accountId, regions: [t.region], roleName: t.roleName }]),
                    }),
                    projectDir: project,
                    program: inlineProgramFor(project),
                    parallel: 2,
                    logDir: path.join(dir, "providers-logs"),
                    envVars: env,
                    pulumiCommand,
                });
            const startsOf = async (command: "preview" | "up") => {
                fs.rmSync(starts, { force: true });
                const report = await rollout(command);
                expect(report.results.map((r) => r.error ?? r.outcome)).to.deep.equal(targets.map(() => "succeeded"));
                return fs.readFileSync(starts, "utf8").split("\n").filter(Boolean).length;
            };
            // The inline program runs here, and a preview checks from here that it can reach each account.
            const saved = { ...process.env };
            Object.assign(process.env, env);
            try {
                expect(await startsOf("up"), "first up").to.equal(targets.length);
                // Now each stack has a document in its state, which the refresh reads.
                expect(await startsOf("up"), "no-op up").to.equal(targets.length);
                expect(await startsOf("preview"), "preview").to.equal(targets.length);
            } finally {
                for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
                Object.assign(process.env, saved);
            }
        });
    });
});
