// Running npm and other commands for the package tests: a child process to completion, with npm's
// own variables of an outer `npm test` left out, and a packed tarball of a source tree.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`); npm's own variables of an outer `npm test` are left out. */
export function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs: number }): Promise<Run> {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: options.cwd, env: { ...inherited, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

export function ok(r: Run, what: string): Run {
    if (r.code !== 0) throw new Error(`${what} exited with ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
}

export interface PackedTarball {
    filename: string;
    files: { path: string }[];
}

/** `npm pack` of the package in `dir` (its prepack builds lib/) into `destination`: the tarball's path and what went in. */
export async function pack(dir: string, destination: string): Promise<{ tarball: string; packed: PackedTarball }> {
    fs.mkdirSync(destination, { recursive: true });
    const r = ok(await run("npm", ["pack", "--json", "--pack-destination", destination], { cwd: dir, timeoutMs: 4 * 60_000 }), `npm pack in ${dir}`);
    const [packed] = JSON.parse(r.stdout.slice(r.stdout.indexOf("["))) as PackedTarball[];
    return { tarball: path.join(destination, packed.filename), packed };
}

/**
 * The tree of `commit` of the repository at `repo`, in `dir`, with the repository's
 * node_modules beside it (the lockfile is the same), ready to pack. Fails, saying why, when the
 * clone does not hold the commit (a shallow one).
 */
export function checkout(repo: string, commit: string, dir: string): void {
    try {
        execFileSync("git", ["-C", repo, "cat-file", "-e", `${commit}^{commit}`], { stdio: "ignore" });
    } catch {
        throw new Error(`this clone has no commit ${commit}: the upgrade test needs the repository's history (clone without --depth)`);
    }
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("sh", ["-c", `git -C '${repo}' archive '${commit}' | tar -x -C '${dir}'`]);
    fs.symlinkSync(path.join(repo, "node_modules"), path.join(dir, "node_modules"), "dir");
}
