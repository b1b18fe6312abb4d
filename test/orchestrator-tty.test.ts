// `npm run org` in a real terminal 80 columns wide (a tmux pane, the pseudo-terminal a person
// would have), through the real engine and moto: no line may wrap, because a wrapped line
// throws off the in-place redraw of the progress block and leaves smeared copies behind;
// when the run ends, each target has exactly one line, in its final state.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { engineEnv, pulumiBin, repoRoot } from "../devtools/engine";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";
import { orgFlags, writeOrgConfig } from "./support/org";

const columns = 80;

function hasTmux(): boolean {
    try {
        execFileSync("tmux", ["-V"], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe(`npm run org in an ${columns}-column terminal`, function () {
    this.timeout(10 * 60_000);
    // A stack prefix long enough that the old per-line log paths would not have fitted.
    const prefix = `tty-${process.pid}`;
    const socket = `org-tty-${process.pid}`;
    const stacks = [`${prefix}.111111111111.us-east-1`, `${prefix}.111111111111.ap-southeast-2`];
    let workDir: string;
    let project: string;
    let moto: Moto;
    let env: Record<string, string>;
    let runs = 0;

    /** Runs the orchestrator in a fresh tmux pane; returns the whole pane (history included) and the exit code. */
    async function inTerminal(args: string[]): Promise<{ code: number; screen: string[] }> {
        const n = ++runs;
        const exitFile = path.join(workDir, `exit-${n}`);
        const script = path.join(workDir, `run-${n}.sh`);
        const tsNode = path.join(repoRoot, "node_modules", "ts-node", "dist", "bin.js");
        const common = orgFlags(workDir, prefix, 2, project);
        fs.writeFileSync(
            script,
            [
                ...Object.entries(env).map(([k, v]) => `export ${k}=${quote(v)}`),
                `cd ${quote(repoRoot)}`,
                `${quote(process.execPath)} ${quote(tsNode)} --transpile-only scripts/org.ts ${[...args, ...common].map(quote).join(" ")}`,
                `echo $? > ${quote(exitFile)}`,
                // Keep the pane (and its screen) until it has been captured.
                "sleep 600",
            ].join("\n"),
        );
        execFileSync("tmux", ["-L", socket, "new-session", "-d", "-x", String(columns), "-y", "30", "-s", `run${n}`, `bash ${quote(script)}`]);
        try {
            const deadline = Date.now() + 8 * 60_000;
            while (!fs.existsSync(exitFile) || fs.readFileSync(exitFile, "utf8").trim() === "") {
                if (Date.now() > deadline) throw new Error("the run did not finish in 8 minutes");
                await new Promise((r) => setTimeout(r, 500));
            }
            // -J joins lines the terminal wrapped, so a wrapped line shows as one longer than the pane.
            const screen = execFileSync("tmux", ["-L", socket, "capture-pane", "-p", "-J", "-t", `run${n}`, "-S", "-", "-E", "-"], { encoding: "utf8" });
            return { code: Number(fs.readFileSync(exitFile, "utf8").trim()), screen: screen.split("\n").map((l) => l.trimEnd()) };
        } finally {
            execFileSync("tmux", ["-L", socket, "kill-session", "-t", `run${n}`]);
        }
    }

    function expectCleanScreen(screen: string[], finalState: string): void {
        for (const line of screen) expect(line.length, `wider than ${columns} columns: ${line}`).to.be.at.most(columns);
        for (const stack of stacks) {
            const lines = screen.filter((l) => l.startsWith(`${stack} `));
            // One line per target: a smeared redraw leaves older copies (queued, running) behind.
            expect(lines, `${stack}:\n${screen.join("\n")}`).to.have.length(1);
            expect(lines[0]).to.match(new RegExp(`^${stack.replace(/\./g, "\\.")}\\s+${finalState}\\s`));
        }
        expect(
            screen.filter((l) => /\s(queued|preparing|running)\s/.test(l)),
            screen.join("\n"),
        ).to.deep.equal([]);
        // The log directory is named once, in the header, not on each target's line.
        expect(
            screen.filter((l) => l.startsWith("engine output in ")),
            screen.join("\n"),
        ).to.deep.equal([`engine output in ${path.join(workDir, "logs")}/<stack>.log`]);
        expect(screen.filter((l) => stacks.some((s) => l.startsWith(s)) && l.includes(path.join(workDir, "logs")))).to.deep.equal([]);
    }

    before(async function () {
        if (!hasTmux()) this.skip();
        this.timeout(60 * 60_000);
        await pulumiBin();
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "org-tty-"));
        project = projectCopy(path.join(workDir, "project"));
        moto = await startMoto();
        env = await engineEnv(moto, path.join(workDir, "backend"));
        writeOrgConfig(workDir, ["111111111111"], ["us-east-1", "ap-southeast-2"]);
    });

    after(async () => {
        try {
            execFileSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore" });
        } catch {
            // No server left.
        }
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    it("up: one line per target in its final state, and a summary table that fits", async () => {
        const { code, screen } = await inTerminal(["up"]);
        expect(code, screen.join("\n")).to.equal(0);
        expectCleanScreen(screen, "succeeded");
        expect(screen).to.include(`stacks: ${prefix}.<account>.<region>`);
        expect(
            screen.some((l) => /^TARGET\s+RESULT\s+CHANGED\s+DURATION$/.test(l)),
            screen.join("\n"),
        ).to.equal(true);
    });

    it("a failing preview: long errors are cut on the progress line and wrapped in the summary", async () => {
        const index = path.join(project, "index.ts");
        fs.unlinkSync(index);
        fs.writeFileSync(
            index,
            `throw new Error("this program fails on purpose, with a message far too long for one line of an ${columns}-column terminal");\n`,
        );
        let run: { code: number; screen: string[] };
        try {
            run = await inTerminal(["preview"]);
        } finally {
            fs.unlinkSync(index);
            fs.symlinkSync(path.join(repoRoot, "index.ts"), index);
        }
        expect(run.code, run.screen.join("\n")).to.equal(1);
        expectCleanScreen(run.screen, "failed");
        expect(run.screen.filter((l) => l.startsWith(stacks[0]))[0]).to.match(/…$/);
        expect(run.screen).to.include("Failures:");
        expect(run.screen.join(" ").replace(/\s+/g, " ")).to.include("this program fails on purpose, with a message far too long for one line");
    });
});
