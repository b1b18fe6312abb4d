/**
 * The one look at the Pulumi backend that `npm run org` takes before any target runs: the
 * backend must answer, and a self-managed one (a directory, S3, ...) needs the passphrase
 * its stacks' secrets are encrypted with. Without this, every target failed on its own with
 * the Automation API's whole error, stack trace included.
 */
import { CommandError, LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import type { RunProblem } from "./result";

export interface BackendCheck {
    projectDir: string;
    envVars: Record<string, string>;
    pulumiCommand?: PulumiCommand;
    /** The environment the CLI runs in: where PULUMI_CONFIG_PASSPHRASE would be. */
    env: Readonly<Record<string, string | undefined>>;
}

/** The CLI's own error lines, without the Automation API's wrapping (its command line, its stack trace). */
export function cliErrorLines(err: unknown): string[] {
    const text = err instanceof CommandError ? err.message : err instanceof Error ? err.message : String(err);
    const lines = text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => /^error:/i.test(l))
        .map((l) => l.replace(/^error:\s*/i, ""));
    return lines.length > 0 ? [...new Set(lines)] : [text.split(/\r?\n/)[0]];
}

const notLoggedIn = /requires logging in|PULUMI_ACCESS_TOKEN must be set|not logged in/i;

/** Self-managed backends keep stacks encrypted with a passphrase unless told otherwise; Pulumi Cloud (https) does not need one. */
export function isSelfManaged(url: string): boolean {
    return !/^https?:\/\//i.test(url);
}

/** What is wrong with the backend, or undefined when it answers and has what its stacks need. */
export async function backendProblem(check: BackendCheck): Promise<RunProblem | undefined> {
    let url: string | undefined;
    try {
        const workspace = await LocalWorkspace.create({ workDir: check.projectDir, envVars: check.envVars, pulumiCommand: check.pulumiCommand });
        url = (await workspace.whoAmI()).url;
    } catch (err) {
        const details = cliErrorLines(err);
        if (details.some((l) => notLoggedIn.test(l))) {
            return {
                kind: "backend",
                summary: "no Pulumi backend is set",
                details,
                fix:
                    "set PULUMI_BACKEND_URL to your self-managed backend (for example s3://my-state-bucket/session-manager), or PULUMI_ACCESS_TOKEN for Pulumi Cloud. " +
                    "In the workflow: the repository variable PULUMI_BACKEND_URL, or the secret PULUMI_ACCESS_TOKEN",
            };
        }
        return {
            kind: "backend",
            summary: `the Pulumi backend${check.env.PULUMI_BACKEND_URL ? ` ${check.env.PULUMI_BACKEND_URL}` : ""} cannot be opened`,
            details,
            fix: "check PULUMI_BACKEND_URL (a directory must exist; a bucket needs credentials that may read and write it), or PULUMI_ACCESS_TOKEN for Pulumi Cloud",
        };
    }
    const passphrase = check.env.PULUMI_CONFIG_PASSPHRASE !== undefined || check.env.PULUMI_CONFIG_PASSPHRASE_FILE !== undefined;
    if (url && isSelfManaged(url) && !passphrase) {
        return {
            kind: "backend",
            summary: "PULUMI_CONFIG_PASSPHRASE is not set",
            details: [`the backend ${url} is self-managed: its stacks encrypt their secrets with a passphrase, which every command needs`],
            fix: "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stacks' passphrase. In the workflow: the repository secret PULUMI_CONFIG_PASSPHRASE",
        };
    }
    return undefined;
}
