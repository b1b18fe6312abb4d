// Child Node.js processes for tests that run the project's own scripts (npm run demo,
// npm run org) as users do: output collected, a time limit, and a kill that reaches the
// whole process group (the CLI, language hosts and providers the script started).
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as path from "node:path";
import { repoRoot } from "../../devtools/engine";

export interface ChildRun {
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

export interface ChildOptions {
    cwd?: string;
    env?: Record<string, string>;
    /** Killed (SIGKILL, whole group) after this long. */
    timeoutMs: number;
    /** Called once the child runs, e.g. to kill it mid-way with {@link killGroup}. */
    onStart?: (child: ChildProcess) => void;
}

/** Runs a TypeScript script of the repository as `npm run <script>` does: ts-node, transpile only. */
export function runScript(script: string, args: readonly string[], options: ChildOptions): Promise<ChildRun> {
    const tsNode = path.join(repoRoot, "node_modules", "ts-node", "dist", "bin.js");
    return runNode([tsNode, "--transpile-only", script, ...args], options);
}

export function runNode(args: readonly string[], options: ChildOptions): Promise<ChildRun> {
    return new Promise((resolve, reject) => {
        // Its own process group, so a kill reaches everything it started.
        const child = spawn(process.execPath, [...args], {
            cwd: options.cwd ?? repoRoot,
            env: { ...process.env, ...options.env },
            stdio: ["ignore", "pipe", "pipe"],
            detached: true,
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => killGroup(child), options.timeoutMs);
        child.on("error", reject);
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr });
        });
        options.onStart?.(child);
    });
}

/**
 * SIGKILL to everything the child started, as a CI runner cancelling a job does. The child
 * leads its own session (detached); the CLI puts its plugins (language hosts, providers) in
 * process groups of their own but the same session, so the session is what is killed.
 */
export function killGroup(child: ChildProcess): void {
    if (child.pid === undefined) return;
    const sessionPids = execFileSync("ps", ["-e", "-o", "pid=,sid="], { encoding: "utf8" })
        .split("\n")
        .map((line) => line.trim().split(/\s+/).map(Number))
        .filter(([pid, sid]) => sid === child.pid && pid !== process.pid)
        .map(([pid]) => pid);
    for (const pid of new Set([child.pid, ...sessionPids])) {
        try {
            process.kill(pid, "SIGKILL");
        } catch {
            // Already gone.
        }
    }
}
