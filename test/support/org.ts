// What the orchestrator's end-to-end tests share: the flags that point `npm run org` at a
// test's own directory, and an organization config that registers only Session documents
// (the @pulumi/aws plugin cannot run on these machines).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

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
