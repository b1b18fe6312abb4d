import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { ConfigErrors } from "../core/config";
import {
    AuditOptions,
    CliOptions,
    defaultConfigFile,
    MergeOptions,
    parseCli,
    PoliciesOptions,
    StackSetCommandOptions,
    stackSetCommands,
    usage,
    UsageError,
} from "./cli";
import { auditLabel, auditPreferences, auditTargets, deriveAuditTargets, ownerPatterns } from "./audit";
import { auditExitCode, AuditReport, renderAuditJson, renderAuditMarkdown, renderAuditText } from "./auditReport";
import { MergeError, mergeFiles } from "./merge";
import { planMoves, RegroupError, regroupStacks } from "./regroup";

import { orgCommand, policySelection } from "./commandLine";
import { runPolicies } from "./policies";
import { runStackSetCommand } from "./stackSetCommands";
import { landingZoneStackConfig, landingZoneTarget, loadOrgConfig, OrgConfigError, projectName, stackConfigFor } from "./orgConfig";
import { Progress } from "./progress";
import { inlineProgramFor } from "./program";
import { renderJson, renderMarkdown, renderText } from "./report";
import { Command, commands, exitCodeFor, exitCodes, RolloutReport, RunProblem } from "./result";
import { AccessProblem, checkAccess, describeAccessProblems } from "../providers/targetAccess";
import { Access, Settings } from "../core/settings";
import { backendProblem } from "./backend";
import { findOrgStacks, rolloutWorkspace, runRollout, writeStackConfig } from "./run";
import { deriveTargets, discoveryProblem, OrgTarget, organizationsRegion, TargetsError } from "./targets";
import { discoverOrganization, parentsOfAccounts } from "../providers/organization";
import { selectsByOrganizationalUnit } from "../core/overrides";
import type { StackGranularity } from "../core/settings";

export interface Io {
    stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
    stderr: NodeJS.WritableStream & { isTTY?: boolean; rows?: number; columns?: number };
    env: NodeJS.ProcessEnv;
}

/**
 * The pinned Pulumi CLI, through the project's script (which reuses a cached build, or one
 * already on PATH), so `npm run org` needs no separate install step. Without the script,
 * whatever `pulumi` is on PATH.
 */
/** No Pulumi CLI could be found or built; the user is told why, without a stack trace. */
export class PulumiCliUnavailable extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PulumiCliUnavailable";
    }
}

async function pulumiCli(projectDir: string, io: Io): Promise<PulumiCommand | undefined> {
    const script = path.join(projectDir, "scripts", "pulumi-cli.sh");
    if (!fs.existsSync(script)) return undefined;
    const r = spawnSync("bash", [script], { cwd: projectDir, env: io.env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    const binDir = r.stdout?.trim().split("\n").pop();
    // The script has already said why on stderr; a stack trace would add nothing.
    if (r.status !== 0 || !binDir) throw new PulumiCliUnavailable(`no usable Pulumi CLI (scripts/pulumi-cli.sh exited ${r.status}; see its message above)`);
    // The language host and the dynamic-provider shim are found through PATH by the CLI.
    io.env.PATH = `${binDir}${path.delimiter}${io.env.PATH ?? ""}`;
    return PulumiCommand.get({ root: path.dirname(binDir) });
}

/**
 * The accounts under organizationalUnitIds and, when an override selects by OU, the OUs above
 * every account (those of explicit targets asked of Organizations too): read calls only.
 */
export async function placeAccounts(settings: Settings, region: string | undefined): Promise<{ accounts: string[]; parents?: Map<string, string[]> }> {
    const byOu = selectsByOrganizationalUnit(settings.overrides);
    if (settings.organizationalUnitIds.length === 0 && !byOu) return { accounts: [] };
    const client = new OrganizationsClient({ region: organizationsRegion(region) });
    const found =
        settings.organizationalUnitIds.length > 0
            ? await discoverOrganization(client, settings.organizationalUnitIds, { ancestors: byOu })
            : { accounts: [], parents: new Map<string, string[]>() };
    if (!byOu) return { accounts: found.accounts };
    const explicit = settings.targets.map((t) => t.accountId);
    return { accounts: found.accounts, parents: await parentsOfAccounts(client, [...found.accounts, ...explicit], found.parents) };
}

export async function resolveTargets(options: CliOptions): Promise<{
    targets: OrgTarget[];
    stackConfig: (t: OrgTarget) => Record<string, string>;
    granularity: StackGranularity;
    /** The stack that makes the log archive and the guardrail, when the config makes either. */
    landingZone?: OrgTarget;
}> {
    // prune works on what is no longer a target, so a config whose every target is gone is fine.
    const org = loadOrgConfig(options.configFile);
    const problem = discoveryProblem(org.settings, org.region, options.roleName);
    if (problem) throw new OrgConfigError(`${org.file}: ${problem}`);
    const { accounts: discoveredAccounts, parents } = await placeAccounts(org.settings, org.region);
    const targets = deriveTargets(org.settings, {
        prefix: options.stackPrefix,
        discoveredAccounts,
        discoveredRoleName: options.roleName,
        defaultRegion: org.region,
        shard: options.shard,
        parents,
    });
    // A shard may hold no account at all: then it has nothing to do.
    if (targets.length === 0 && options.command !== "prune" && !options.shard)
        throw new OrgConfigError(
            `${org.file}: no targets: set sessionManager:targets or sessionManager:organizationalUnitIds (after exclusions nothing is left)`,
        );
    const landingZone = landingZoneTarget(org, options.stackPrefix);
    return {
        targets,
        stackConfig: (t) => (t.stackName === landingZone?.stackName ? landingZoneStackConfig(org, t, options.roleName) : stackConfigFor(org, t)),
        granularity: org.settings.stackGranularity,
        ...(landingZone ? { landingZone } : {}),
    };
}

const shortUsage = "Usage: npm run org -- <command> [flags]; npm run org -- --help lists every command and flag.";

/** The config file named (or defaulted) does not exist: say which, and how to make one. */
export function missingConfigMessage(configFile: string, projectDir: string): string {
    const example = path.join(projectDir, defaultConfigFile);
    const lines = [`error: the organization config ${configFile} does not exist.`];
    if (fs.existsSync(example) && path.resolve(example) !== path.resolve(configFile)) {
        lines.push(
            `Create it from the commented example, which shows every key: cp ${example} ${configFile}`,
            "then set sessionManager:targets (or sessionManager:organizationalUnitIds) to your accounts and Regions.",
        );
    } else {
        lines.push(
            "Create it: a YAML file with a config: section of sessionManager:* keys, for example",
            "  config:",
            "    aws:region: eu-west-1",
            "    sessionManager:targets:",
            '      - accountId: "111122223333"',
            "        regions: [eu-west-1]",
            "        roleName: SessionManagerDeployer",
        );
    }
    lines.push("Or name another file with --config <file>.");
    return lines.join("\n");
}

/** The kinds of access each command needs in the target accounts (core/settings.ts `roleNameFor`). */
export function accessFor(command: Command): readonly Access[] {
    if (command === "up") return ["read", "write"];
    if (command === "destroy" || command === "prune") return ["write"];
    return ["read"];
}

/** A command that ran nothing: the problem on stderr (as lines for a person), and as the report when one is asked for. */
function failBeforeRun(
    command: Command,
    problem: RunProblem,
    options: Pick<CliOptions, "json" | "markdown"> & { selection?: string[] },
    io: Io,
): { exitCode: number; report: RolloutReport } {
    const report: RolloutReport = { command, problem, startedAt: new Date().toISOString(), durationMs: 0, results: [] };
    if (options.selection?.length) report.selection = options.selection;
    if (options.json || options.markdown) writeReport(report, options, io);
    return { exitCode: exitCodeFor(report), report };
}

/** The command and machine-output flags as far as a command line that failed to parse shows them. */
function guessFromArgv(argv: readonly string[]): { command: Command; json: boolean; markdown: boolean } {
    const command = (argv.find((a) => (commands as readonly string[]).includes(a)) as Command | undefined) ?? "preview";
    return { command, json: argv.includes("--json"), markdown: argv.includes("--markdown") };
}

function isStackSetCommand(options: CliOptions | StackSetCommandOptions): options is StackSetCommandOptions {
    return (stackSetCommands as readonly string[]).includes(options.command);
}

/** Where progress goes: stderr, as wide and tall as its terminal, if it is one. */
function progressTerminal(stderr: Io["stderr"]): ConstructorParameters<typeof Progress>[1] {
    return {
        write: (t) => stderr.write(t),
        isTTY: stderr.isTTY,
        get rows() {
            return stderr.rows;
        },
        get columns() {
            return stderr.isTTY ? stderr.columns : undefined;
        },
    };
}

/** The whole command: returns the exit code instead of exiting, so tests can call it. */
export async function main(
    argv: readonly string[],
    io: Io,
    projectDir: string,
): Promise<{ exitCode: number; report?: RolloutReport; auditReport?: AuditReport }> {
    let options;
    try {
        options = parseCli(argv, projectDir);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        io.stderr.write(`error: ${err.message}\n${shortUsage}\n`);
        const guess = guessFromArgv(argv);
        if (argv.includes("audit") && !argv.some((a) => (commands as readonly string[]).includes(a))) {
            return auditProblem({ kind: "usage", summary: "the command line is not valid", details: [err.message], fix: shortUsage }, guess, io);
        }
        return failBeforeRun(guess.command, { kind: "usage", summary: "the command line is not valid", details: [err.message], fix: shortUsage }, guess, io);
    }
    if (options === "help") {
        io.stdout.write(`${usage}\n`);
        return { exitCode: exitCodes.ok };
    }
    if (options.command === "policies") return policies(options, projectDir, io);
    if (options.command === "merge") return merge(options, io);
    if (options.command === "audit") return audit(options, projectDir, io);
    if (isStackSetCommand(options)) {
        if (!fs.existsSync(options.configFile)) {
            io.stderr.write(`${missingConfigMessage(options.configFile, projectDir)}\n`);
            return { exitCode: exitCodes.usage };
        }
        return runStackSetCommand(options, io);
    }
    if (!fs.existsSync(options.configFile)) {
        const message = missingConfigMessage(options.configFile, projectDir);
        io.stderr.write(`${message}\n`);
        const [first, ...rest] = message.replace(/^error: /, "").split("\n");
        return failBeforeRun(options.command, { kind: "usage", summary: first, details: [], fix: rest.join(" ") }, options, io);
    }
    let resolved: Awaited<ReturnType<typeof resolveTargets>>;
    try {
        resolved = await resolveTargets(options);
    } catch (err) {
        if (!(err instanceof OrgConfigError || err instanceof ConfigErrors || err instanceof TargetsError)) throw err;
        io.stderr.write(`error: ${err.message}\n`);
        return failBeforeRun(options.command, configProblem(err, options.configFile), options, io);
    }
    let pulumiCommand;
    try {
        pulumiCommand = await pulumiCli(projectDir, io);
    } catch (err) {
        if (!(err instanceof PulumiCliUnavailable)) throw err;
        io.stderr.write(`error: ${err.message}\n`);
        return failBeforeRun(
            options.command,
            {
                kind: "cli",
                summary: "no usable Pulumi CLI",
                details: [err.message],
                fix: "install the Pulumi CLI (or Go, to build it) where this runs; the job log has the script's message",
            },
            options,
            io,
        );
    }
    const envVars = { PATH: io.env.PATH ?? "" };
    const backend = await backendProblem({ projectDir: options.projectDir, envVars, pulumiCommand, env: io.env });
    if (backend) {
        io.stderr.write(`error: ${backend.summary}: ${backend.details.join("; ")}\n${backend.fix}\n`);
        return failBeforeRun(options.command, backend, options, io);
    }
    const problems = await checkAccess(resolved.targets, options.parallel, accessFor(options.command));
    if (problems.length > 0) {
        for (const line of describeAccessProblems(problems)) io.stderr.write(`error: ${line}\n`);
        io.stderr.write(`${options.command}: nothing was run; ${problems.length} of the accounts cannot be reached\n`);
        return failBeforeRun(options.command, accessProblem(problems, options.command, options.selection), options, io);
    }
    // --stack: one existing stack as it is, its own config, whatever stacks the prefix holds.
    if (options.stack) resolved = { ...resolved, targets: [{ accountId: "", region: "", stackName: options.stack }] };
    const orgStacks = options.stack
        ? { stale: [], otherGranularity: [] }
        : await findOrgStacks({
              projectDir: options.projectDir,
              envVars,
              pulumiCommand,
              targets: resolved.targets,
              stackPrefix: options.stackPrefix,
              granularity: resolved.granularity,
              shard: options.shard,
          });
    if (options.regroup) {
        const regrouped = await regroup(options, resolved, orgStacks.otherGranularity, { envVars, pulumiCommand }, io);
        if ("exitCode" in regrouped) return regrouped;
        resolved = { ...resolved, targets: regrouped.targets };
    } else if (orgStacks.otherGranularity.length > 0) {
        const problem = granularityProblem(
            orgStacks.otherGranularity.map((t) => t.stackName),
            resolved.granularity,
            options.selection,
        );
        io.stderr.write(`error: ${problem.summary}: ${problem.details.join(", ")}\n${problem.fix}\n`);
        return failBeforeRun(options.command, problem, options, io);
    }
    const stale = orgStacks.stale;
    const staleStacks = stale.map((t) => t.stackName);
    if (options.command === "prune") {
        resolved = { ...resolved, targets: stale };
        if (stale.length === 0) {
            io.stderr.write(`prune: no stack of the prefix ${options.stackPrefix} is outside the targets; nothing to do\n`);
            const report: RolloutReport = { command: "prune", startedAt: new Date().toISOString(), durationMs: 0, results: [], staleStacks: [] };
            if (options.shard) report.shard = options.shard;
            writeReport(report, options, io);
            return { exitCode: exitCodes.ok, report };
        }
    } else if (stale.length > 0) {
        io.stderr.write(`${staleWarning(staleStacks, options.selection)}\n`);
    }
    // The log directory once, on a line of its own, rather than a path on every target's line.
    io.stderr.write(
        `${options.command}: ${resolved.targets.length} targets, ${Math.min(options.parallel, resolved.targets.length)} at a time\nengine output in ${options.logDir}/<stack>.log\n`,
    );
    const progress = new Progress(
        [...(landingZoneStep(options, resolved.landingZone) ? [resolved.landingZone!.stackName] : []), ...resolved.targets.map((t) => t.stackName)],
        progressTerminal(io.stderr),
    );
    const runTargets = (targets: OrgTarget[]) =>
        runRollout({
            command: options.command,
            targets,
            stackConfig: resolved.stackConfig,
            projectDir: options.projectDir,
            // Only preview and up run the program.
            program: options.command === "preview" || options.command === "up" ? inlineProgramFor(options.projectDir) : undefined,
            parallel: options.parallel,
            logDir: options.logDir,
            progress,
            removeStacks: options.remove,
            refreshBeforeUp: options.refresh,
            recover: options.recover,
            selection: options.selection,
            envVars,
            pulumiCommand,
        });
    const landingZone = landingZoneStep(options, resolved.landingZone);
    const report = landingZone ? await withLandingZone(options.command, landingZone, resolved.targets, runTargets) : await runTargets(resolved.targets);
    if (options.command !== "prune") report.staleStacks = staleStacks;
    if (options.shard) report.shard = options.shard;
    writeReport(report, options, io);
    return { exitCode: exitCodeFor(report), report };
}

/**
 * The landing-zone stack, when this run includes it: every command that runs the targets' stacks
 * but prune and regroup, without --stack, and in the first shard only (the others then never
 * run it at the same time).
 */
function landingZoneStep(options: CliOptions, landingZone: OrgTarget | undefined): OrgTarget | undefined {
    if (!landingZone || options.stack || options.regroup || options.command === "prune") return undefined;
    if (options.shard && options.shard.index !== 1) return undefined;
    return landingZone;
}

/**
 * The landing-zone stack and the targets' stacks, in order: the landing zone first (the buckets
 * exist before documents point at them), last on destroy (documents are released before the
 * guardrail goes). An up whose landing zone failed runs no target: it would point documents at
 * a bucket that may not exist. One report, the landing zone's result first.
 */
export async function withLandingZone(
    command: Command,
    landingZone: OrgTarget,
    targets: OrgTarget[],
    run: (targets: OrgTarget[]) => Promise<RolloutReport>,
): Promise<RolloutReport> {
    if (command === "destroy") {
        const targetsReport = await run(targets);
        const zone = await run([landingZone]);
        return { ...targetsReport, durationMs: targetsReport.durationMs + zone.durationMs, results: [...targetsReport.results, ...zone.results] };
    }
    const zone = await run([landingZone]);
    const failed = zone.results.some((r) => r.outcome === "failed");
    if (failed && command === "up") return zone;
    const targetsReport = await run(targets);
    return {
        ...targetsReport,
        startedAt: zone.startedAt,
        durationMs: zone.durationMs + targetsReport.durationMs,
        results: [...zone.results, ...targetsReport.results],
    };
}

/** The rollout's stacks are of the other granularity than the config says: nothing runs until they are regrouped. */
function granularityProblem(stacks: readonly string[], granularity: StackGranularity, selection: readonly string[]): RunProblem {
    const [theirs, ours, keep] =
        granularity === "account" ? ["per account and Region", "per account", "accountRegion"] : ["per account", "per account and Region", "account"];
    return {
        kind: "config",
        summary: `${stacks.length} stack(s) of this rollout are ${theirs}, but sessionManager:stackGranularity is ${granularity} (stacks ${ours})`,
        details: [...stacks],
        fix:
            `${orgCommand("regroup", selection)} moves every document into stacks ${ours}, keeping what each adopted, and removes the old stacks; ` +
            `or set sessionManager:stackGranularity: ${keep} to keep the stacks as they are`,
    };
}

/**
 * `regroup`: moves the documents of the other granularity's stacks into the stacks the config
 * names, then returns the targets that received documents, for `up` to take over (their owner tag).
 */
async function regroup(
    options: CliOptions,
    resolved: { targets: OrgTarget[]; stackConfig: (t: OrgTarget) => Record<string, string> },
    sources: readonly OrgTarget[],
    engine: { envVars: Record<string, string>; pulumiCommand?: PulumiCommand },
    io: Io,
): Promise<{ targets: OrgTarget[] } | { exitCode: number; report: RolloutReport }> {
    const workspace = await rolloutWorkspace({ projectDir: options.projectDir, ...engine });
    let moves;
    try {
        moves = await planMoves(workspace, sources, resolved.targets, options.stackPrefix);
    } catch (err) {
        if (!(err instanceof RegroupError)) throw err;
        io.stderr.write(`error: ${err.message}\nregroup: nothing was moved\n`);
        return failBeforeRun(
            "up",
            { kind: "config", summary: "the stacks cannot be regrouped as the config stands", details: [err.message], fix: "see the detail above" },
            options,
            io,
        );
    }
    if (sources.length === 0) {
        io.stderr.write(`regroup: every stack of the prefix ${options.stackPrefix} is already as sessionManager:stackGranularity says; nothing to move\n`);
        return { targets: [] };
    }
    const existing = new Set((await workspace.listStacks()).map((s) => s.name.split("/").pop() ?? s.name));
    const byName = new Map(resolved.targets.map((t) => [t.stackName, t]));
    io.stderr.write(`regroup: ${moves.length} target(s) to move out of ${sources.length} stack(s)\n`);
    await regroupStacks(
        workspace,
        sources.map((s) => s.stackName),
        moves,
        async (destination) => {
            if (!existing.has(destination)) await workspace.createStack(destination);
            writeStackConfig(options.projectDir, destination, resolved.stackConfig(byName.get(destination) as OrgTarget));
        },
        (line) => io.stderr.write(`${line}\n`),
    );
    const destinations = new Set(moves.map((m) => m.destination));
    return { targets: resolved.targets.filter((t) => destinations.has(t.stackName)) };
}

/** `merge`: the shards' JSON reports (a rollout command's or the audit's) as one report, with the whole run's exit code. */
function merge(options: MergeOptions, io: Io): { exitCode: number; report?: RolloutReport; auditReport?: AuditReport } {
    let report: RolloutReport | AuditReport;
    try {
        report = mergeFiles(options.files);
    } catch (err) {
        if (!(err instanceof MergeError)) throw err;
        io.stderr.write(`error: ${err.message}\n`);
        return { exitCode: exitCodes.usage };
    }
    if (report.command === "audit") {
        writeAuditReport(report, options, io);
        return { exitCode: auditExitCode(report), auditReport: report };
    }
    writeReport(report, options, io);
    return { exitCode: exitCodeFor(report), report };
}

/** An audit that read nothing: the problem on stderr, and as the report when one is asked for. */
function auditProblem(
    problem: RunProblem,
    options: Pick<AuditOptions, "json" | "markdown"> & Partial<Pick<AuditOptions, "selection" | "shard">>,
    io: Io,
): { exitCode: number; auditReport: AuditReport } {
    const report: AuditReport = { command: "audit", problem, startedAt: new Date().toISOString(), durationMs: 0, findings: [] };
    if (options.selection?.length) report.selection = options.selection;
    // merge needs to know which shard ran nothing.
    if (options.shard) report.shard = options.shard;
    if (options.json || options.markdown) writeAuditReport(report, options, io);
    return { exitCode: auditExitCode(report), auditReport: report };
}

function writeAuditReport(report: AuditReport, options: Pick<AuditOptions, "json" | "markdown">, io: Io): void {
    const columnsOf = (s: Io["stdout"]) => (s.isTTY ? s.columns : undefined);
    if (options.json || options.markdown) {
        io.stderr.write(`\n${renderAuditText(report, { columns: columnsOf(io.stderr) })}`);
        io.stdout.write(options.json ? renderAuditJson(report) : renderAuditMarkdown(report));
    } else {
        io.stdout.write(`\n${renderAuditText(report, { columns: columnsOf(io.stdout) })}`);
    }
}

/**
 * `audit`: every target's live document against the config, read-only and without Pulumi:
 * no CLI, no backend, no state. Bad input (config, flags, overrides that conflict for a target)
 * stops it before any target is read.
 */
async function audit(options: AuditOptions, projectDir: string, io: Io): Promise<{ exitCode: number; auditReport: AuditReport }> {
    const started = Date.now();
    if (!fs.existsSync(options.configFile)) {
        const message = missingConfigMessage(options.configFile, projectDir);
        io.stderr.write(`${message}\n`);
        const [first, ...rest] = message.replace(/^error: /, "").split("\n");
        return auditProblem({ kind: "usage", summary: first, details: [], fix: rest.join(" ") }, options, io);
    }
    const configFailure = (err: OrgConfigError | ConfigErrors) => {
        io.stderr.write(`error: ${err.message}\n`);
        return auditProblem(configProblem(err, options.configFile), options, io);
    };
    let org;
    let owners;
    try {
        org = loadOrgConfig(options.configFile, { stackSet: true });
        const problem = org.settings.deployment === "direct" ? discoveryProblem(org.settings, org.region, options.roleName) : undefined;
        if (problem) throw new OrgConfigError(`${org.file}: ${problem}`);
        owners = ownerPatterns(org.settings, { project: projectName(options.projectDir), stackPrefix: options.stackPrefix, extra: options.owners });
    } catch (err) {
        if (!(err instanceof OrgConfigError || err instanceof ConfigErrors)) throw err;
        return configFailure(err);
    }
    let targets;
    try {
        targets = await deriveAuditTargets(
            org,
            { roleName: options.roleName, shard: options.shard },
            () => new OrganizationsClient({ region: organizationsRegion(org.region), retryMode: "adaptive", maxAttempts: 6 }),
        );
        if (targets.length === 0 && !options.shard)
            throw new OrgConfigError(
                `${org.file}: no targets: set sessionManager:targets or sessionManager:organizationalUnitIds (after exclusions nothing is left)`,
            );
        auditPreferences(org.settings, targets);
    } catch (err) {
        if (err instanceof OrgConfigError || err instanceof ConfigErrors) return configFailure(err);
        const message = (err as Error).message;
        io.stderr.write(`error: AWS Organizations could not be read: ${message}\n`);
        return auditProblem(
            {
                kind: "access",
                summary: "AWS Organizations could not be read",
                details: [message],
                fix: "run with the management account's or a delegated administrator's credentials, allowed organizations:ListAccountsForParent, ListOrganizationalUnitsForParent and ListParents (docs/audit.md)",
            },
            options,
            io,
        );
    }
    io.stderr.write(`audit: ${targets.length} targets, ${Math.min(options.parallel, targets.length)} at a time\n`);
    const progress = new Progress(targets.map(auditLabel), progressTerminal(io.stderr));
    const findings = await auditTargets(org.settings, targets, { parallel: options.parallel, owners, progress });
    progress.finish();
    const report: AuditReport = { command: "audit", startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, findings };
    if (options.selection.length) report.selection = options.selection;
    if (options.shard) report.shard = options.shard;
    writeAuditReport(report, options, io);
    return { exitCode: auditExitCode(report), auditReport: report };
}

/** `policies`: the config's roles as policies; no Pulumi, no AWS. */
function policies(options: PoliciesOptions, projectDir: string, io: Io): { exitCode: number } {
    if (!fs.existsSync(options.configFile)) {
        io.stderr.write(`${missingConfigMessage(options.configFile, projectDir)}\n`);
        return { exitCode: exitCodes.usage };
    }
    try {
        io.stdout.write(runPolicies(options));
        return { exitCode: exitCodes.ok };
    } catch (err) {
        if (!(err instanceof OrgConfigError || err instanceof ConfigErrors)) throw err;
        io.stderr.write(`error: ${err.message}\n`);
        return { exitCode: exitCodes.failed };
    }
}

/** An invalid organization config, key by key. */
function configProblem(err: OrgConfigError | ConfigErrors, configFile: string): RunProblem {
    const details = err instanceof ConfigErrors ? err.errors.map((e) => e.message) : [err.message];
    return {
        kind: "config",
        summary: `the organization config ${path.basename(configFile)} is not valid`,
        details,
        fix: `correct each key above in ${path.basename(configFile)} (the README's configuration tables say what each allows), then push again`,
    };
}

/** Accounts the run cannot act in, each with its own reason. */
function accessProblem(problems: readonly AccessProblem[], command: Command, selection: readonly string[]): RunProblem {
    const roles = accessFor(command)
        .map((kind) => (kind === "read" ? "the read-only role (sessionManager:readOnlyRoleName, else roleName)" : "the write role (roleName)"))
        .join(" and ");
    return {
        kind: "access",
        summary: `${problems.length} of the target accounts cannot be reached`,
        details: describeAccessProblems(problems),
        fix:
            `${command} assumes ${roles} in every target account. Check that each role exists in its account, trusts the role this job starts from, ` +
            `and that the job's own credentials may assume it (docs/iam.md has the policies: \`${orgCommand("policies", policySelection(selection))} --starting-account <account-id>\` prints them for this config)`,
    };
}

/** Stacks that are no longer targets, and the command that lets go of them. */
export function staleWarning(staleStacks: readonly string[], selection: readonly string[] = []): string {
    return (
        `warning: ${staleStacks.length} stack(s) are no longer targets (removed from the config or excluded) and still manage their documents: ${staleStacks.join(", ")}. ` +
        `${orgCommand("prune", selection)} releases each document as its onDelete says and removes those stacks.`
    );
}

function writeReport(report: RolloutReport, options: Pick<CliOptions, "json" | "markdown">, io: Io): void {
    // The table fits the terminal it goes to; in a file or a CI log it is whole.
    const columnsOf = (s: Io["stdout"]) => (s.isTTY ? s.columns : undefined);
    if (options.json) {
        io.stderr.write(`\n${renderText(report, { columns: columnsOf(io.stderr) })}`);
        io.stdout.write(renderJson(report));
    } else if (options.markdown) {
        io.stderr.write(`\n${renderText(report, { columns: columnsOf(io.stderr) })}`);
        io.stdout.write(renderMarkdown(report));
    } else {
        io.stdout.write(`\n${renderText(report, { columns: columnsOf(io.stdout) })}`);
    }
}
