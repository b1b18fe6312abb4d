// The real Pulumi engine for tests, the demo and benchmarks: the CLI and Node.js language host
// from scripts/pulumi-cli.sh, a local file backend, and moto standing in for AWS.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigMap, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { Moto, motoEnv } from "./moto";

/** The repository root: the Pulumi project (Pulumi.yaml, index.ts) the stacks run. */
export const repoRoot = (() => {
    // Compiled, this runs from dist/devtools; through ts-node, from devtools.
    let dir = __dirname;
    for (let i = 0; i < 6; i++) {
        if (fs.existsSync(path.join(dir, "package-lock.json"))) return dir;
        dir = path.dirname(dir);
    }
    throw new Error(`no package-lock.json above ${__dirname}`);
})();

/** Config namespace of the program (README, "Configuration"). */
export const configNamespace = "sessionManager";

/** Not a secret: it only guards the throwaway local backends that tests create. */
export const testPassphrase = "session-manager-preferences-local";

let binDir: Promise<string> | undefined;
let command: Promise<PulumiCommand> | undefined;

/**
 * Directory holding `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-pulumi-nodejs` at
 * the lockfile's @pulumi/pulumi version. The first call of a process may build them from Go
 * modules (minutes, with progress on stderr); later calls reuse the answer.
 */
export function pulumiBin(): Promise<string> {
    if (binDir) return binDir;
    binDir = new Promise<string>((resolve, reject) => {
        const child = execFile(path.join(repoRoot, "scripts", "pulumi-cli.sh"), [], { cwd: repoRoot, maxBuffer: 1 << 20 }, (err, stdout) => {
            if (err) return reject(new Error(`scripts/pulumi-cli.sh failed: ${err.message}`));
            const dir = stdout.trim().split("\n").pop() ?? "";
            if (!fs.existsSync(path.join(dir, "pulumi")))
                return reject(new Error(`scripts/pulumi-cli.sh printed no usable directory: ${JSON.stringify(stdout)}`));
            resolve(dir);
        });
        // Build progress is for the person waiting, so it goes straight through.
        child.stderr?.pipe(process.stderr);
    });
    // A failure is not cached: the next caller retries (e.g. after installing Go).
    binDir.catch(() => (binDir = undefined));
    return binDir;
}

/**
 * Environment for every engine operation: the local file backend in `backendDir`, a Pulumi
 * home of its own there (no ~/.pulumi plugins or workspace files leak in or out), no
 * network look-ups, the tools on PATH, and the AWS SDK pointed at moto.
 */
export async function engineEnv(moto: Moto, backendDir: string, region = "us-east-1"): Promise<Record<string, string>> {
    // Nothing here may make engine runs faster or quieter than a user's: tests, the demo and
    // the benchmark must meet what users meet. test/engine-env.test.ts holds the list.
    return { ...motoEnv(moto, region), ...(await backendEnv(backendDir)) };
}

/**
 * Every variable the harness may set for the engine, and the user's equivalent: where AWS
 * is, a backend, and no network look-ups the machine cannot make.
 */
export const userEquivalentEngineSettings: Readonly<Record<string, string>> = {
    AWS_ENDPOINT_URL: "AWS itself (the SDK's default endpoints)",
    AWS_ACCESS_KEY_ID: "the user's credentials",
    AWS_SECRET_ACCESS_KEY: "the user's credentials",
    AWS_SESSION_TOKEN: "the user's credentials",
    AWS_REGION: "the user's Region",
    AWS_DEFAULT_REGION: "the user's Region",
    PATH: "the user's PATH with a pulumi CLI on it",
    PULUMI_BACKEND_URL: "the user's backend (Pulumi Cloud, S3, a directory)",
    PULUMI_HOME: "~/.pulumi",
    PULUMI_CONFIG_PASSPHRASE: "the user's secrets provider",
    PULUMI_SKIP_UPDATE_CHECK: "a CLI that may look for updates",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "a CLI that may download plugins",
};

async function backendEnv(backendDir: string): Promise<Record<string, string>> {
    const bin = await pulumiBin();
    fs.mkdirSync(backendDir, { recursive: true });
    return {
        PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
        PULUMI_BACKEND_URL: `file://${backendDir}`,
        PULUMI_HOME: path.join(backendDir, ".pulumi-home"),
        PULUMI_CONFIG_PASSPHRASE: testPassphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        // The @pulumi/aws plugin is a dependency but cannot be installed here; layer-4 stacks
        // register no aws resource, so nothing must try to download it.
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    };
}

/** A config value as a test writes it; see {@link toConfigMap}. */
export type ConfigInput = string | number | boolean | readonly unknown[] | { readonly [key: string]: unknown };

/**
 * Turns `{ s3Logging: true, targets: [...], "aws:region": "eu-west-1" }` into the map
 * `pulumi config set-all` takes. Keys without a namespace go under `sessionManager`.
 * Scalars become the strings `pulumi config set` writes; lists and objects become JSON
 * strings, stored as plain strings that `pulumi.Config#getObject` parses. Undefined values are
 * left out, so a test can spread optional settings.
 */
export function toConfigMap(config: Readonly<Record<string, ConfigInput | undefined>>): ConfigMap {
    const map: ConfigMap = {};
    for (const [key, value] of Object.entries(config)) {
        if (value === undefined) continue;
        const fullKey = key.includes(":") ? key : `${configNamespace}:${key}`;
        map[fullKey] = { value: typeof value === "object" ? JSON.stringify(value) : String(value), secret: false };
    }
    return map;
}

export interface LocalStackOptions {
    /** Prefer names starting with `test-`: the stack's Pulumi.<name>.yaml lives in workDir until {@link removeLocalStack}. */
    stackName: string;
    /** Directory with Pulumi.yaml; the repository root by default. */
    workDir?: string;
    /** Where the file backend keeps state (and the Pulumi home); a fresh temp dir per test. */
    backendDir: string;
    /** Stack config, see {@link toConfigMap}. */
    config?: Readonly<Record<string, ConfigInput | undefined>>;
    /** Usually {@link engineEnv}; merged over the backend settings derived from backendDir. */
    env?: Record<string, string>;
}

/**
 * Creates (or selects) a stack of the project in `workDir` on the local backend and sets the
 * given config keys (others already set stay). Operations on the returned stack run the real
 * CLI from {@link pulumiBin}.
 */
export async function createLocalStack(options: LocalStackOptions): Promise<Stack> {
    const bin = await pulumiBin();
    const envVars = { ...(await backendEnv(options.backendDir)), ...options.env };
    // Without an explicit command the Automation API runs whatever `pulumi` the test process
    // has on PATH, not the one envVars.PATH names. pulumi-cli.sh always prints a `bin` dir.
    if (!command) {
        command = PulumiCommand.get({ root: path.dirname(bin) });
        command.catch(() => (command = undefined));
    }
    const pulumiCommand = await command;
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: options.stackName, workDir: options.workDir ?? repoRoot }, { envVars, pulumiCommand });
    if (options.config) {
        const map = toConfigMap(options.config);
        if (Object.keys(map).length > 0) await stack.setAllConfig(map);
    }
    return stack;
}

/**
 * Deletes the stack's state and its Pulumi.<name>.yaml, whatever resources it still records
 * (destroy first to clean the emulator too). Safe to call on a stack that is already gone.
 */
export async function removeLocalStack(stack: Stack): Promise<void> {
    try {
        await stack.workspace.removeStack(stack.name, { force: true });
    } catch (err) {
        if (!/no stack named|not found/i.test(String(err))) throw err;
    }
}
