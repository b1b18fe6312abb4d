/**
 * The Automation API workspace a rollout runs its stacks in: a LocalWorkspace, used only through
 * the public `Workspace` interface, which this class implements by delegating every member. Three
 * things a rollout needs are not in the public API, and this is the one place that makes up for
 * them:
 *
 * 1. Creating a stack without selecting it. `LocalWorkspace.createStack` runs `pulumi stack
 *    init`, which selects the new stack in the project directory, so a rollout would change the
 *    stack the user has selected. Here: `pulumi stack init --no-select`. (Upstream: a `select`
 *    option on createStack.)
 * 2. A `Stack` for a stack known to exist, without `pulumi stack select`. `Stack.select` calls
 *    `workspace.selectStack`, which changes the user's selection and costs a CLI process per
 *    target; every operation names its stack with `--stack` anyway. Here: selectStack only checks
 *    that a stack it has not seen exists. (Upstream: `Stack.select(name, ws, { select: false })`.)
 * 3. No follow-up queries. After `up`, `refresh` and `destroy`, `Stack` asks for the stack's
 *    outputs (through `stackOutputs`) and its last update (`pulumi stack history`, through the
 *    CLI runner): up to three CLI processes per target, each loading the state, for results a
 *    rollout never reads (its counts come from the run's own summary event). Here:
 *    `stackOutputs` answers nothing, and the CLI runner answers `stack history` with an empty
 *    history. That runner, `PulumiCommand#run`, is not in the SDK's type declarations: it is the
 *    one internal this depends on, and test/orchestrator-workspace.test.ts fails, naming it, if
 *    an SDK upgrade changes it. (Upstream: an option to skip the outputs and the summary.)
 *
 * The CLI commands of 1 and 2, and `pulumi stack export` (see `exportState`), run through the
 * CLI binary that `PulumiCommand#command` names, which is public.
 */
import { execFile } from "node:child_process";
import {
    ConfigMap,
    ConfigValue,
    Deployment,
    ListOptions,
    LocalWorkspace,
    LocalWorkspaceOptions,
    OutputMap,
    PluginInfo,
    ProjectSettings,
    PulumiCommand,
    PulumiFn,
    RemoveOptions,
    Stack,
    StackSettings,
    StackSummary,
    TagMap,
    WhoAmIResult,
    Workspace,
} from "@pulumi/pulumi/automation";

/** The shape of the SDK's internal CLI runner, as `Stack` calls it. */
type CliRunner = (args: string[], cwd: string, env: Record<string, string>, ...rest: unknown[]) => Promise<{ stdout: string; stderr: string; code: number }>;

/** The runner `Stack` uses, or a clear error when the SDK no longer has it. */
export function sdkCliRunner(command: PulumiCommand): CliRunner {
    const run = (command as unknown as { run?: CliRunner }).run;
    if (typeof run !== "function") {
        throw new Error(
            "@pulumi/pulumi's PulumiCommand has no run method any more: orchestrator/workspace.ts skips the follow-up `stack history` through it; update that file",
        );
    }
    return run.bind(command);
}

/** A CLI runner that answers `pulumi stack history` with no history and passes everything else on. */
function withoutHistory(command: PulumiCommand): PulumiCommand {
    const run = sdkCliRunner(command);
    const wrapped: CliRunner = (args, ...rest) =>
        args[0] === "stack" && args[1] === "history" ? Promise.resolve({ stdout: "[]", stderr: "", code: 0 }) : run(args, ...rest);
    // A new object whose prototype is the SDK's: the SDK's own object is left as it is.
    return Object.create(command, { run: { value: wrapped } }) as PulumiCommand;
}

export class RolloutWorkspace implements Workspace {
    /** Stacks known to exist: selecting one runs no CLI. */
    private readonly known = new Set<string>();
    readonly pulumiCommand: PulumiCommand;

    private constructor(private readonly inner: LocalWorkspace) {
        this.pulumiCommand = withoutHistory(inner.pulumiCommand);
    }

    /** A rollout workspace over `LocalWorkspace.create(options)`. */
    static async create(options: LocalWorkspaceOptions): Promise<RolloutWorkspace> {
        return new RolloutWorkspace(await LocalWorkspace.create(options));
    }

    /** A stack known to exist, without the CLI: every operation on it names it with --stack. */
    async stackNamed(name: string): Promise<Stack> {
        this.known.add(name);
        return Stack.select(name, this);
    }

    /** Runs the CLI in the workspace's directory and environment (as `Stack` runs it), for the commands the rollout runs itself. */
    cli(args: string[]): Promise<{ stdout: string }> {
        const env = { ...process.env, ...(this.inner.pulumiHome ? { PULUMI_HOME: this.inner.pulumiHome } : {}), ...this.inner.envVars };
        return new Promise((resolve, reject) => {
            execFile(this.inner.pulumiCommand.command, args, { cwd: this.inner.workDir, env, maxBuffer: 256 << 20 }, (err, stdout, stderr) => {
                if (err) return reject(new Error(`pulumi ${args.join(" ")} failed: ${stderr || err.message}`));
                resolve({ stdout });
            });
        });
    }

    /**
     * Removes the lock an interrupted run left. Not `Stack.cancel`: it goes through the
     * LocalWorkspace's `cliApi`, which the Workspace interface does not have.
     */
    async cancel(stackName: string): Promise<void> {
        await this.cli(["cancel", "--yes", "--stack", stackName]);
    }

    /** The stack's state as `pulumi stack export` gives it, secrets left encrypted (no key derivation for a passphrase). */
    async exportState(stackName: string): Promise<{ deployment?: unknown }> {
        return JSON.parse((await this.cli(["stack", "export", "--stack", stackName])).stdout) as { deployment?: unknown };
    }

    /** Replaces the stack's state with one `exportState` gave (secrets still encrypted with the stack's key). */
    async importState(stackName: string, state: Deployment): Promise<void> {
        await this.inner.importStack(stackName, state);
    }

    // --- The three gaps (see the file's comment) ---------------------------------------------

    async createStack(stackName: string): Promise<void> {
        await this.cli(["stack", "init", stackName, "--no-select", ...(this.inner.secretsProvider ? ["--secrets-provider", this.inner.secretsProvider] : [])]);
        this.known.add(stackName);
    }

    async selectStack(stackName: string): Promise<void> {
        if (!this.known.has(stackName)) await this.cli(["stack", "--stack", stackName]);
        this.known.add(stackName);
    }

    async stackOutputs(): Promise<OutputMap> {
        return {};
    }

    /** `pulumi stack rm` clears the selection whichever stack it removes: the user's is put back. */
    async removeStack(stackName: string, opts?: RemoveOptions): Promise<void> {
        let selected: string | undefined;
        try {
            selected = (await this.cli(["stack", "--show-name"])).stdout.trim() || undefined;
        } catch {
            // No stack selected: nothing to put back.
        }
        await this.inner.removeStack(stackName, opts);
        this.known.delete(stackName);
        if (selected && selected !== stackName) await this.cli(["stack", "select", selected]);
    }

    // --- Everything else: the LocalWorkspace's own ---------------------------------------------

    get workDir(): string {
        return this.inner.workDir;
    }
    get pulumiHome(): string | undefined {
        return this.inner.pulumiHome;
    }
    get secretsProvider(): string | undefined {
        return this.inner.secretsProvider;
    }
    get pulumiVersion(): string {
        return this.inner.pulumiVersion;
    }
    get program(): PulumiFn | undefined {
        return this.inner.program;
    }
    set program(program: PulumiFn | undefined) {
        this.inner.program = program;
    }
    get envVars(): { [key: string]: string } {
        return this.inner.envVars;
    }
    set envVars(envVars: { [key: string]: string }) {
        this.inner.envVars = envVars;
    }
    projectSettings(): Promise<ProjectSettings> {
        return this.inner.projectSettings();
    }
    saveProjectSettings(settings: ProjectSettings): Promise<void> {
        return this.inner.saveProjectSettings(settings);
    }
    stackSettings(stackName: string): Promise<StackSettings> {
        return this.inner.stackSettings(stackName);
    }
    saveStackSettings(stackName: string, settings: StackSettings): Promise<void> {
        return this.inner.saveStackSettings(stackName, settings);
    }
    serializeArgsForOp(stackName: string): Promise<string[]> {
        return this.inner.serializeArgsForOp(stackName);
    }
    postCommandCallback(stackName: string): Promise<void> {
        return this.inner.postCommandCallback(stackName);
    }
    addEnvironments(stackName: string, ...environments: string[]): Promise<void> {
        return this.inner.addEnvironments(stackName, ...environments);
    }
    listEnvironments(stackName: string): Promise<string[]> {
        return this.inner.listEnvironments(stackName);
    }
    removeEnvironment(stackName: string, environment: string): Promise<void> {
        return this.inner.removeEnvironment(stackName, environment);
    }
    getConfig(stackName: string, key: string, path?: boolean): Promise<ConfigValue> {
        return this.inner.getConfig(stackName, key, path);
    }
    getAllConfig(stackName: string): Promise<ConfigMap> {
        return this.inner.getAllConfig(stackName);
    }
    setConfig(stackName: string, key: string, value: ConfigValue, path?: boolean): Promise<void> {
        return this.inner.setConfig(stackName, key, value, path);
    }
    setAllConfig(stackName: string, config: ConfigMap, path?: boolean): Promise<void> {
        return this.inner.setAllConfig(stackName, config, path);
    }
    setAllConfigJson(stackName: string, configJson: string): Promise<void> {
        return this.inner.setAllConfigJson(stackName, configJson);
    }
    removeConfig(stackName: string, key: string, path?: boolean): Promise<void> {
        return this.inner.removeConfig(stackName, key, path);
    }
    removeAllConfig(stackName: string, keys: string[], path?: boolean): Promise<void> {
        return this.inner.removeAllConfig(stackName, keys, path);
    }
    refreshConfig(stackName: string): Promise<ConfigMap> {
        return this.inner.refreshConfig(stackName);
    }
    getTag(stackName: string, key: string): Promise<string> {
        return this.inner.getTag(stackName, key);
    }
    setTag(stackName: string, key: string, value: string): Promise<void> {
        return this.inner.setTag(stackName, key, value);
    }
    removeTag(stackName: string, key: string): Promise<void> {
        return this.inner.removeTag(stackName, key);
    }
    listTags(stackName: string): Promise<TagMap> {
        return this.inner.listTags(stackName);
    }
    whoAmI(): Promise<WhoAmIResult> {
        return this.inner.whoAmI();
    }
    stack(): Promise<StackSummary | undefined> {
        return this.inner.stack();
    }
    listStacks(opts?: ListOptions): Promise<StackSummary[]> {
        return this.inner.listStacks(opts);
    }
    installPluginFromServer(name: string, version: string, server: string): Promise<void> {
        return this.inner.installPluginFromServer(name, version, server);
    }
    installPlugin(name: string, version: string, kind?: string): Promise<void> {
        return this.inner.installPlugin(name, version, kind);
    }
    removePlugin(name?: string, versionRange?: string, kind?: string): Promise<void> {
        return this.inner.removePlugin(name, versionRange, kind);
    }
    listPlugins(): Promise<PluginInfo[]> {
        return this.inner.listPlugins();
    }
    exportStack(stackName: string): Promise<Deployment> {
        return this.inner.exportStack(stackName);
    }
    importStack(stackName: string, state: Deployment): Promise<void> {
        return this.inner.importStack(stackName, state);
    }
}
