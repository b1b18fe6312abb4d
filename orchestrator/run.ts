import * as fs from "node:fs";
import * as path from "node:path";
import { ConcurrentUpdateError, EngineEvent, OpMap, PulumiCommand, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { DocumentRelease, parseReleaseMessage } from "../core/release";
import { changesFromPreviewEvents, driftFromRefreshEvents, isSessionDocument } from "./drift";
import { partitionOf, roleArn } from "../core/partition";
import { roleNameFor } from "../core/settings";
import { mapBounded } from "../core/concurrency";
import { orgCommand } from "./commandLine";
import { silentProgress, ProgressListener } from "./progress";
import { Command, RolloutReport, TargetResult } from "./result";
import { OrgTarget, parseStackName, Shard, shardOf } from "./targets";
import type { StackGranularity } from "../core/settings";
import { RolloutWorkspace } from "./workspace";

export interface RolloutOptions {
    command: Command;
    targets: readonly OrgTarget[];
    /** Each target's stack config (see stackConfigFor). Used by preview and up. */
    stackConfig: (target: OrgTarget) => Record<string, string>;
    /** The directory holding Pulumi.yaml: every target stack runs this one program. */
    projectDir: string;
    /**
     * The same program, to run inline in this process (orchestrator/program.ts); without it,
     * each stack's engine runs the project's program in a Node.js process of its own.
     */
    program?: PulumiFn;
    /** Targets run at once. */
    parallel: number;
    /** Engine output goes to `<logDir>/<stack>.log`. */
    logDir: string;
    progress?: ProgressListener;
    /** destroy: also remove the stacks and their config files. */
    removeStacks?: boolean;
    /** up: refresh first, so out-of-band edits are seen and repaired (default true). */
    refreshBeforeUp?: boolean;
    /** Extra environment for the engine, e.g. AWS endpoint settings. */
    envVars?: Record<string, string>;
    /** The CLI to run; by default whatever `pulumi` this process finds on PATH. */
    pulumiCommand?: PulumiCommand;
    /**
     * Clear what an interrupted run left in a stack (its lock, operations it had pending)
     * before running. Only safe when no other run of these stacks is going on: a lock held
     * by a live run is removed too.
     */
    recover?: boolean;
    /** The command-line flags that chose these stacks: the commands errors suggest repeat them (commandLine.ts). */
    selection?: readonly string[];
}

/** Runs tasks one at a time, in the order they asked. */
export class Mutex {
    private tail: Promise<unknown> = Promise.resolve();

    run<T>(task: () => Promise<T>): Promise<T> {
        const result = this.tail.then(task, task);
        this.tail = result.catch(() => undefined);
        return result;
    }
}

/** Resources an operation touched: every engine op except `same`. */
export function countChanges(summary: OpMap | Record<string, number> | undefined): number {
    return Object.entries(summary ?? {}).reduce((n, [op, count]) => (op === "same" ? n : n + (count ?? 0)), 0);
}

/**
 * The lines of an engine failure a person needs: the `error:` diagnostics, not the whole
 * CLI transcript the automation API puts in the message (that is in the log file).
 */
export function engineErrorSummary(err: unknown): string {
    const text = err instanceof Error ? err.message : String(err);
    const diagnostics = text
        .split(/\r?\n/)
        .filter((l) => /\berror:/i.test(l))
        .map((l) => l.replace(/^.*?\berror:\s*/i, "").trim())
        // The CLI's closing line says only that the operation failed, which the outcome already does.
        .filter((l) => l && !/^(update|preview|refresh|destroy) failed$/i.test(l));
    const unique = [...new Set(diagnostics)];
    const summary =
        unique.length > 0
            ? unique.slice(0, 2).join("; ")
            : (text
                  .split(/\r?\n/)
                  .filter((l) => l.trim())
                  .pop() ?? "failed");
    return summary.length > 400 ? `${summary.slice(0, 397)}...` : summary;
}

/**
 * Runs one command on every target's stack with bounded concurrency. Stacks are created
 * and their config written one at a time, because `pulumi stack init`, `stack select`
 * and `config set-all` write shared files (the backend's metadata, the workspace's
 * current-stack file, Pulumi.<stack>.yaml beside Pulumi.yaml); the engine operations,
 * which each lock only their own stack, run in parallel. A failed target is recorded
 * and the others carry on.
 */
export async function runRollout(options: RolloutOptions): Promise<RolloutReport> {
    const started = Date.now();
    const progress = options.progress ?? silentProgress;
    fs.mkdirSync(options.logDir, { recursive: true });
    const workspace = await rolloutWorkspace(options);
    // One look at the backend instead of a CLI call per target to find each stack.
    const existing = new Set((await workspace.listStacks()).map((s) => s.name.split("/").pop() ?? s.name));
    const mutex = new Mutex();

    const results = await mapBounded(options.targets, options.parallel, async (target) => {
        const logFile = path.join(options.logDir, `${target.stackName}.log`);
        const log = fs.createWriteStream(logFile, { flags: "w" });
        log.write(`# ${options.command} ${target.stackName} at ${new Date().toISOString()}\n`);
        const t0 = Date.now();
        const base = {
            stackName: target.stackName,
            accountId: target.accountId,
            region: target.region,
            ...(target.regions ? { regions: target.regions } : {}),
            ...(target.overrides ? { overrides: target.overrides } : {}),
            logFile,
        };
        let result: TargetResult;
        let created = false;
        try {
            progress.update(target.stackName, "preparing");
            const stack = await prepareStack(workspace, mutex, existing, target, options, () => (created = true));
            if (!stack) {
                result = { ...base, outcome: "not deployed", changes: 0, changeSummary: {}, durationMs: 0 };
                if (options.command === "drift") result.drift = [];
            } else {
                // The log directory is named once in the header; a path per line would not fit a terminal.
                progress.update(target.stackName, "running");
                const write = (text: string) => log.write(text);
                result = { ...base, ...(await runRecovering(stack, target, options, write)), durationMs: 0 };
                if ((options.command === "destroy" && options.removeStacks) || options.command === "prune") {
                    await mutex.run(() => workspace.removeStack(target.stackName));
                }
            }
        } catch (err) {
            log.write(`\n# failed: ${err instanceof Error ? err.message : String(err)}\n`);
            // An interrupted run's message ends with the commands that clear it: never cut it short.
            const error = err instanceof InterruptedRunError || err instanceof ReadOnlyRoleNotRecordedError ? err.message : engineErrorSummary(err);
            result = { ...base, outcome: "failed", changes: 0, changeSummary: {}, durationMs: 0, error };
        }
        // A preview changes nothing: a stack it had to create (with its Pulumi.<stack>.yaml) goes
        // again, whether the preview succeeded or failed. It never held resources.
        if (options.command === "preview" && created) {
            try {
                await mutex.run(() => workspace.removeStack(target.stackName));
                log.write(`\n# preview: removed the stack ${target.stackName} this preview created\n`);
            } catch (err) {
                log.write(`\n# could not remove the stack this preview created: ${err instanceof Error ? err.message : String(err)}\n`);
            }
        }
        result.durationMs = Date.now() - t0;
        await new Promise<void>((resolve) => log.end(resolve));
        progress.update(target.stackName, result.outcome, detailFor(result));
        return result;
    });
    progress.finish();
    return {
        command: options.command,
        startedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        results,
        ...(options.selection?.length ? { selection: [...options.selection] } : {}),
    };
}

function detailFor(result: TargetResult): string {
    if (result.outcome === "failed") return result.error ?? "";
    if (result.outcome === "drifted") return (result.drift ?? []).flatMap((d) => d.fields.map((f) => f.field)).join(", ");
    return result.changes > 0 ? `${result.changes} changed` : "";
}

export function rolloutWorkspace(options: Pick<RolloutOptions, "projectDir" | "envVars" | "pulumiCommand" | "program">): Promise<RolloutWorkspace> {
    return RolloutWorkspace.create({
        workDir: options.projectDir,
        envVars: options.envVars,
        pulumiCommand: options.pulumiCommand,
        program: options.program,
    });
}

/** The rollout's stacks in the backend, as `stackGranularity` would name them, and those named the other way. */
export interface OrgStacks {
    /** Stacks named as the config's granularity names them that are no longer targets (removed from the config or excluded). */
    stale: OrgTarget[];
    /** Stacks of the prefix named the other way: `<prefix>.<account>.<region>` when the config says account, and the reverse. */
    otherGranularity: OrgTarget[];
}

/**
 * The stacks of the prefix in the backend, sorted by name: those the granularity names that are
 * not targets, and those of the other granularity (which `regroup` moves). With a shard, only
 * that shard's accounts. A stale stack's Region is its config's `aws:region`.
 */
export async function findOrgStacks(
    options: Pick<RolloutOptions, "projectDir" | "envVars" | "pulumiCommand" | "targets"> & {
        stackPrefix: string;
        granularity: StackGranularity;
        shard?: Shard;
    },
): Promise<OrgStacks> {
    const workspace = await rolloutWorkspace(options);
    const wanted = new Set(options.targets.map((t) => t.stackName));
    const found: OrgStacks = { stale: [], otherGranularity: [] };
    for (const summary of await workspace.listStacks()) {
        // Backends may qualify the name (organization/project/stack).
        const stackName = summary.name.split("/").pop() ?? summary.name;
        const parsed = parseStackName(options.stackPrefix, stackName);
        if (!parsed || (options.shard && shardOf(parsed.accountId, options.shard.count) !== options.shard.index)) continue;
        const target: OrgTarget = { accountId: parsed.accountId, region: parsed.region ?? stackRegion(options.projectDir, stackName) ?? "", stackName };
        const perAccount = parsed.region === undefined;
        if (perAccount !== (options.granularity === "account")) found.otherGranularity.push(target);
        else if (!wanted.has(stackName)) found.stale.push(target);
    }
    const byName = (a: OrgTarget, b: OrgTarget) => a.stackName.localeCompare(b.stackName);
    return { stale: found.stale.sort(byName), otherGranularity: found.otherGranularity.sort(byName) };
}

/** The `aws:region` of a stack's Pulumi.<stack>.yaml, if it has one. */
export function stackRegion(projectDir: string, stackName: string): string | undefined {
    try {
        const doc = yaml.load(fs.readFileSync(path.join(projectDir, `Pulumi.${stackName}.yaml`), "utf8")) as { config?: Record<string, unknown> } | undefined;
        const region = doc?.config?.["aws:region"];
        return typeof region === "string" ? region : undefined;
    } catch {
        return undefined;
    }
}

/**
 * The target's stack, created first for preview and up, with its config written; undefined
 * when it does not exist. `onCreate` is told when this call created the stack. Only a
 * creation runs the CLI (one at a time: `stack init` writes the backend's shared
 * metadata); the config is written straight to the stack's own Pulumi.<stack>.yaml, in one
 * step, rather than with a CLI process per get, remove and set.
 */
async function prepareStack(
    workspace: RolloutWorkspace,
    mutex: Mutex,
    existing: ReadonlySet<string>,
    target: OrgTarget,
    options: RolloutOptions,
    onCreate: () => void = () => undefined,
): Promise<Stack | undefined> {
    const writesConfig = options.command === "preview" || options.command === "up";
    if (!existing.has(target.stackName)) {
        if (!writesConfig) return undefined;
        await mutex.run(() => workspace.createStack(target.stackName));
        onCreate();
    }
    if (writesConfig) writeStackConfig(options.projectDir, target.stackName, options.stackConfig(target));
    // The stack exists: selecting it need not ask the CLI again.
    return workspace.stackNamed(target.stackName);
}

/**
 * Sets the stack's whole `config:` (keys dropped from the organization config leave it
 * too, so reruns converge), keeping the rest of the file, such as the passphrase salt that
 * `stack init` wrote. The new file replaces the old one in one rename.
 */
export function writeStackConfig(projectDir: string, stackName: string, config: Record<string, string>): void {
    const file = path.join(projectDir, `Pulumi.${stackName}.yaml`);
    const current = fs.existsSync(file) ? ((yaml.load(fs.readFileSync(file, "utf8")) as Record<string, unknown> | null) ?? {}) : {};
    const next = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(next, yaml.dump({ ...current, config }, { lineWidth: -1, noRefs: true }));
    fs.renameSync(next, file);
}

type CommandResult = Pick<TargetResult, "outcome" | "changes" | "changeSummary" | "drift" | "released" | "documentChanges" | "warnings">;

/** A stack that an interrupted run (a killed CI job, a closed laptop) left locked or with pending operations. */
export class InterruptedRunError extends Error {
    constructor(stackName: string, projectDir: string, command: string, found: string, selection: readonly string[] = []) {
        super(
            `${found}. If no other run of this stack is going on, rerun with --recover (${orgCommand(command, selection, "--recover")}), ` +
                `or clear it by hand in ${projectDir}: pulumi cancel --yes --stack ${stackName} && pulumi refresh --clear-pending-creates --yes --stack ${stackName}`,
        );
        this.name = "InterruptedRunError";
    }
}

/** What a rollout looks for in a stack's state before it runs the stack. */
export interface StateFacts {
    /** The operations a killed run left pending, e.g. "creating SessionDocument 111111111111-us-east-1-document". */
    pending: string[];
    /** Per Session document in the state, the role its reads assume (read-only role, else write role; "" for the ambient credentials). */
    documentReadRoles: string[];
}

/** The operations an interrupted run left pending, and the roles the state's documents read through. */
export async function stateFacts(stack: Stack): Promise<StateFacts> {
    // Not stack.exportStack(): it asks for --show-secrets, so every secret in the state would be
    // decrypted (with a passphrase, after a key derivation of a quarter of a CPU second) for a
    // look at the pending operations.
    const state = await (stack.workspace as RolloutWorkspace).exportState(stack.name);
    const deployment = state.deployment as
        | { pending_operations?: { type?: string; resource?: { urn?: string } }[]; resources?: { type?: string; outputs?: Record<string, unknown> }[] }
        | undefined;
    const pending = (deployment?.pending_operations ?? []).map((op) => `${op.type ?? "?"} ${op.resource?.urn?.split("::").pop() ?? "?"}`);
    const documentReadRoles = (deployment?.resources ?? [])
        .filter((r) => isSessionDocument(r.type, r.outputs))
        .map((r) => String(r.outputs?.readOnlyRoleArn ?? r.outputs?.roleArn ?? ""));
    return { pending, documentReadRoles };
}

/** The role ARN a target's reads should go through, per the config ("" for the ambient credentials). */
function wantedReadRole(target: OrgTarget): string {
    const name = roleNameFor(target, "read");
    return name ? roleArn(partitionOf(target.region), target.accountId, name) : "";
}

/**
 * Whether the state's documents read through another role than the config's read-only role:
 * a stack last updated before sessionManager:readOnlyRoleName was set records only the write
 * role, and a refresh reads through what the state records. Undefined when they agree.
 */
export function readRoleMismatch(facts: Pick<StateFacts, "documentReadRoles">, target: OrgTarget): string | undefined {
    if (!target.readOnlyRoleName) return undefined;
    const wanted = wantedReadRole(target);
    const other = facts.documentReadRoles.find((role) => role !== wanted);
    if (other === undefined) return undefined;
    return `the stack's state records ${other ? `the role ${other}` : "the ambient credentials"} for reading its document, not the read-only role ${wanted} (it was last updated before sessionManager:readOnlyRoleName was set), so a refresh would read through it`;
}

/**
 * Runs the command; with `recover`, first clears what an interrupted run left (a lock, then
 * pending operations), otherwise reports it with the commands that clear it. Clearing is
 * safe for the documents: an interrupted create left the adopted-version tag behind, so the
 * next create keeps the true original.
 */
async function runRecovering(stack: Stack, target: OrgTarget, options: RolloutOptions, write: (text: string) => void): Promise<CommandResult> {
    const interrupted = (found: string) => new InterruptedRunError(stack.name, options.projectDir, options.command, found, options.selection);
    let runOptions = options;
    const warnings: string[] = [];
    const clearPending = async () => {
        const facts = await stateFacts(stack);
        const mismatch = readOnlyCommands.includes(options.command) ? readRoleMismatch(facts, target) : undefined;
        if (mismatch && options.command === "preview") {
            // Without the refresh the preview reads nothing in AWS: it compares the config with the state.
            runOptions = { ...options, refreshBeforeUp: false };
            warnings.push(`not refreshed: ${mismatch}. The changes shown are against the state; the next up records the read-only role`);
        } else if (mismatch) {
            throw new ReadOnlyRoleNotRecordedError(
                `${mismatch}. A ${options.command} never reads through the write role: run ${orgCommand("up", options.selection)} once (the write job) so the state records the read-only role`,
            );
        }
        const pending = facts.pending;
        if (pending.length === 0) return;
        if (!options.recover) throw interrupted(`an interrupted run left ${pending.length} pending operation(s): ${pending.join(", ")}`);
        write(`\n# --recover: clearing ${pending.length} pending operation(s) left by an interrupted run: ${pending.join(", ")}\n`);
        await stack.refresh({ clearPendingCreates: true, onOutput: write, onError: write, color: "never" });
    };
    const withWarnings = (result: CommandResult): CommandResult => (warnings.length > 0 ? { ...result, warnings } : result);
    try {
        await clearPending();
        return withWarnings(await runCommand(stack, runOptions, write));
    } catch (err) {
        if (!(err instanceof ConcurrentUpdateError)) throw err;
        if (!options.recover) throw interrupted("the stack is locked by another run, or by one that was interrupted");
        write(`\n# --recover: removing the lock an interrupted run left\n`);
        await (stack.workspace as RolloutWorkspace).cancel(stack.name);
        await clearPending();
        return withWarnings(await runCommand(stack, runOptions, write));
    }
}

/** The commands that only read in AWS: they must never read through a write role. */
const readOnlyCommands: readonly Command[] = ["preview", "drift", "refresh"];

/** A read-only command on a stack whose state would make it read through the write role. */
export class ReadOnlyRoleNotRecordedError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ReadOnlyRoleNotRecordedError";
    }
}

/**
 * preview and up refresh first (unless told not to), with the program running: each resource
 * is read, through the provider the program registers, just before its step is decided, so
 * the engine starts the document provider once per run. A refresh ahead of the whole run
 * (`--run-program=false`, the CLI's default) reads through a provider loaded from the state,
 * and the update then starts a second one. What is read, and what the steps compare, is the same.
 */
function refreshFirst(options: RolloutOptions): { refresh: boolean; runProgram?: boolean } {
    const refresh = options.refreshBeforeUp ?? true;
    return refresh ? { refresh, runProgram: true } : { refresh };
}

async function runCommand(stack: Stack, options: RolloutOptions, write: (text: string) => void): Promise<CommandResult> {
    const io = { onOutput: write, onError: write, color: "never" as const };
    switch (options.command) {
        case "preview": {
            const events: EngineEvent[] = [];
            const r = await stack.preview({ ...io, ...refreshFirst(options), onEvent: (e) => events.push(e) });
            const documentChanges = changesFromPreviewEvents(events);
            return { outcome: "succeeded", changes: countChanges(r.changeSummary), changeSummary: { ...r.changeSummary }, documentChanges };
        }
        // up, refresh and destroy take their counts from the run's own summary event (no follow-up queries: orchestrator/workspace.ts).
        case "up": {
            const events: EngineEvent[] = [];
            await stack.up({ ...io, ...refreshFirst(options), onEvent: (e) => events.push(e) });
            return { ...summaryResult(events), documentChanges: changesFromPreviewEvents(events) };
        }
        case "refresh": {
            const events: EngineEvent[] = [];
            await stack.refresh({ ...io, onEvent: (e) => events.push(e) });
            return summaryResult(events);
        }
        case "destroy":
        case "prune": {
            // prune: the stack's own recorded resources and settings (its onDelete) decide.
            const events: EngineEvent[] = [];
            await stack.destroy({ ...io, onEvent: (e) => events.push(e) });
            return { ...summaryResult(events), released: releasesFromEvents(events) };
        }
        case "drift": {
            const events: EngineEvent[] = [];
            const r = await stack.previewRefresh({ ...io, onEvent: (e) => events.push(e) });
            const drift = driftFromRefreshEvents(events);
            return { outcome: drift.length > 0 ? "drifted" : "in sync", changes: drift.length, changeSummary: { ...r.changeSummary }, drift };
        }
    }
}

/** What the document provider said each released document became (core/release.ts), in document order. */
export function releasesFromEvents(events: readonly EngineEvent[]): DocumentRelease[] {
    const released = new Map<string, DocumentRelease>();
    for (const event of events) {
        const release = event.diagnosticEvent && parseReleaseMessage(event.diagnosticEvent.message);
        if (release) released.set(release.document, release);
    }
    return [...released.values()].sort((a, b) => a.document.localeCompare(b.document));
}

/** The engine's count per operation, from the run's summary event. */
function summaryResult(events: readonly EngineEvent[]): CommandResult {
    const changes: OpMap | undefined = events.find((e) => e.summaryEvent)?.summaryEvent?.resourceChanges;
    const changeSummary: Record<string, number> = {};
    for (const [op, n] of Object.entries(changes ?? {})) if (n !== undefined) changeSummary[op] = n;
    return { outcome: "succeeded", changes: countChanges(changeSummary), changeSummary };
}
