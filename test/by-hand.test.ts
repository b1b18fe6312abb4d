// docs/try-it.md's "By hand, with the pulumi CLI": `npm run moto`, then the second terminal's
// block exactly as written, in a throwaway copy of the project, with nothing in the
// environment but what a user's shell has.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../devtools/engine";
import { projectCopy } from "../devtools/project";
import { killGroup } from "./support/childProcess";

/** The fenced block right after the `<!-- by-hand` marker of docs/try-it.md. */
function byHandBlock(): string {
    const page = fs.readFileSync(path.join(repoRoot, "docs", "try-it.md"), "utf8");
    const marker = page.indexOf("<!-- by-hand");
    expect(marker, "docs/try-it.md has the by-hand block").to.be.greaterThan(0);
    const match = /```sh\n([\s\S]*?)```/.exec(page.slice(marker));
    if (!match) throw new Error("no sh block after the by-hand marker");
    return match[1];
}

/** The shell a user opens: no AWS or Pulumi settings of this process, only those a user would have for a backend and a CLI. */
function userShellEnv(home: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(AWS_|PULUMI_|npm_)/.test(k)) env[k] = v;
    // PATH as the user's shell has it: without the node_modules/.bin directories npm adds for `npm test`.
    env.PATH = (process.env.PATH ?? "")
        .split(path.delimiter)
        .filter((dir) => !dir.includes(`${path.sep}node_modules${path.sep}`))
        .join(path.delimiter);
    // The user's own ~/.pulumi, and no update check or plugin download this machine cannot make.
    return { ...env, PULUMI_HOME: path.join(home, ".pulumi"), PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" };
}

/** `npm run --silent moto` until it has printed its settings: stdout must hold nothing else. */
function startNpmMoto(env: Record<string, string>): Promise<{ child: ChildProcess; settings: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn("npm", ["run", "--silent", "moto"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => {
            killGroup(child);
            reject(new Error(`npm run moto printed no settings within 120 s:\n${stderr}`));
        }, 120_000);
        // Ready once moto answers (stderr says so) and every setting is out.
        const ready = () => {
            if (!stderr.includes("moto is listening") || !stdout.includes("AWS_DEFAULT_REGION")) return;
            clearTimeout(timer);
            resolve({ child, settings: stdout });
        };
        child.stdout.on("data", (d: Buffer) => {
            stdout += d.toString();
            ready();
        });
        child.stderr.on("data", (d: Buffer) => {
            stderr += d.toString();
            ready();
        });
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`npm run moto exited (${code}):\n${stderr}`));
        });
    });
}

describe("the by-hand session against moto (docs/try-it.md)", function () {
    this.timeout(10 * 60_000);
    let dir: string;
    let moto: ChildProcess | undefined;

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "by-hand-"));
    });

    after(() => {
        if (moto) killGroup(moto);
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("runs as written: up, a settings change that preview --diff marks, up, destroy, on the Node.js the page puts on PATH", async () => {
        const home = path.join(dir, "home");
        fs.mkdirSync(home);
        const env = userShellEnv(home);
        const started = await startNpmMoto(env);
        moto = started.child;
        // Only `export NAME=value` lines: the file is sourced.
        expect(started.settings.trim().split("\n")).to.satisfy((lines: string[]) => lines.every((l) => /^export AWS_[A-Z_]+=\S+$/.test(l)));
        expect(started.settings).to.match(/^export AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:\d+$/m);

        const project = projectCopy(path.join(dir, "project"), ["Pulumi.local.yaml"]);
        for (const entry of ["scripts", "package-lock.json"]) fs.symlinkSync(path.join(repoRoot, entry), path.join(project, entry));
        fs.writeFileSync(path.join(project, "moto.env"), started.settings);

        const run = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
            const child = spawn("bash", ["-euo", "pipefail", "-c", byHandBlock()], { cwd: project, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
            let output = "";
            child.stdout.on("data", (d: Buffer) => (output += d.toString()));
            child.stderr.on("data", (d: Buffer) => (output += d.toString()));
            const timer = setTimeout(() => killGroup(child), 8 * 60_000);
            child.on("error", reject);
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve({ code, output });
            });
        });
        expect(run.code, run.output).to.equal(0);
        // preview --diff marks the changed field in each of the four documents, and shows
        // nothing else of them: the engine's own diff of the inputs is the detailed diff.
        // Three updates are previewed: the first `up`, `preview --diff`, the second `up`.
        const previews = run.output.split("Previewing update (try):");
        expect(previews, run.output).to.have.length(4);
        const diff = previews[2].slice(0, previews[2].indexOf("Resources:"));
        expect(diff.match(/~ idleSessionTimeout\s*: "15" => "25"/g), diff).to.have.length(4);
        expect(diff.match(/=>/g), diff).to.have.length(4);
        expect(diff, diff).not.to.match(/schemaVersion|sessionType|s3BucketName|runAsEnabled|accountId|onDelete/);
        // destroy says what became of each document: moto had none, so none are left.
        const released = new Set(run.output.match(/SSM document \d{12}\/[a-z0-9-]+\/SSM-SessionManagerRunShell released: deleted/g));
        expect(released.size, run.output).to.equal(4);
        // The program ran on the Node.js the block put on PATH, which the AWS SDK supports.
        expect(run.output).not.to.include("NodeVersionSupportWarning");
        expect(fs.existsSync(path.join(project, ".pulumi-moto"))).to.equal(false);
        // pulumi stack rm takes the stack's config file with it.
        expect(fs.existsSync(path.join(project, "Pulumi.try.yaml"))).to.equal(false);
    });
});
