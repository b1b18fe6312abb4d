// What the orchestrator's end-to-end tests share: `npm run org` in-process with its output
// captured, the flags that point it at a test's own directory, and an organization config
// that registers only Session documents (the @pulumi/aws plugin cannot run on these machines).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Writable } from "node:stream";
import { repoRoot } from "../../devtools/engine";
import { main } from "../../orchestrator/main";

export interface OrgRun {
    exitCode: number;
    stdout: string;
    stderr: string;
}

export interface OrgRunOptions {
    /** The environment main() is given; the test process's own by default. */
    env?: NodeJS.ProcessEnv;
    /** Stdout is a terminal this many columns wide (not a terminal by default). */
    columns?: number;
    /** AWS_ENDPOINT_URL for the SDK clients while the command runs (a proxy in front of moto). */
    endpoint?: string;
}

/** `npm run org -- <argv>` in this process (orchestrator/main.ts's main), stdout and stderr captured. */
export async function runOrg(argv: readonly string[], options: OrgRunOptions = {}): Promise<OrgRun> {
    const text = { stdout: "", stderr: "" };
    const sink = (key: keyof typeof text) =>
        new Writable({
            write(chunk: Buffer, _encoding, done) {
                text[key] += chunk.toString();
                done();
            },
        });
    const stdout = options.columns === undefined ? sink("stdout") : Object.assign(sink("stdout"), { isTTY: true, columns: options.columns });
    const previous = process.env.AWS_ENDPOINT_URL;
    if (options.endpoint !== undefined) process.env.AWS_ENDPOINT_URL = options.endpoint;
    try {
        const { exitCode } = await main([...argv], { stdout, stderr: sink("stderr"), env: options.env ?? { ...process.env } }, repoRoot);
        return { exitCode, ...text };
    } finally {
        if (options.endpoint !== undefined) {
            if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
            else process.env.AWS_ENDPOINT_URL = previous;
        }
    }
}

/** The stacks of the project in `projectDir`, by their short names, sorted: `pulumi stack ls --json` from the CLI in `bin`. */
export function stackNames(bin: string, projectDir: string, env: Readonly<Record<string, string>>): Promise<string[]> {
    return new Promise((resolve, reject) => {
        execFile(path.join(bin, "pulumi"), ["stack", "ls", "--json"], { cwd: projectDir, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
            if (err) return reject(new Error(`pulumi stack ls failed: ${stderr}`));
            resolve((JSON.parse(stdout) as { name: string }[]).map((s) => s.name.split("/").pop() as string).sort());
        });
    });
}

/** --config, --stack-prefix, --log-dir, --parallel and --project-dir inside `workDir`. */
export function orgFlags(workDir: string, prefix: string, parallel: number, projectDir = path.join(workDir, "project")): string[] {
    return [
        "--config",
        path.join(workDir, "org.yaml"),
        "--stack-prefix",
        prefix,
        "--log-dir",
        path.join(workDir, "logs"),
        "--parallel",
        String(parallel),
        "--project-dir",
        projectDir,
    ];
}

/**
 * Writes `<workDir>/org.yaml`: document-only preferences, stacks per account and Region, plus
 * `settings` (sessionManager keys, which may change that), each account in each Region through
 * the role OrgAdmin, then `extraLines` as written.
 */
export function writeOrgConfig(
    workDir: string,
    accounts: readonly string[],
    regions: readonly string[],
    settings: Readonly<Record<string, string | number>> = {},
    extraLines: readonly string[] = [],
): void {
    const config = [
        "config:",
        "  aws:region: us-east-1",
        "  sessionManager:sessionDataEncryption: false",
        "  sessionManager:createCWLogGroup: false",
        "  sessionManager:instancePolicy: false",
        // These tests run a stack per account and Region unless they say otherwise.
        ...Object.entries({ stackGranularity: "accountRegion", ...settings }).map(([key, value]) => `  sessionManager:${key}: ${value}`),
        "  sessionManager:targets:",
        ...accounts.flatMap((a) => [`    - accountId: "${a}"`, `      regions: [${regions.join(", ")}]`, "      roleName: OrgAdmin"]),
        ...extraLines,
    ];
    fs.writeFileSync(path.join(workDir, "org.yaml"), `${config.join("\n")}\n`);
}
