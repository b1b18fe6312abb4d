import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { closest, distance } from "fastest-levenshtein";
import { workflowRoles } from "../core/accessPolicies";
import { isAccountId, isRegion, isRoleName, roleNameRule } from "../core/rules";
import { repairTokenPattern, StackInstance } from "../core/stackSet";
import { selectionFlags } from "./commandLine";
import { Command, commands } from "./result";
import { defaultDiscoveredRoleName, Shard, stackPrefixProblem } from "./targets";

export interface CliOptions {
    command: Command;
    configFile: string;
    stackPrefix: string;
    parallel: number;
    logDir: string;
    json: boolean;
    markdown: boolean;
    /** Role assumed in accounts discovered under organizationalUnitIds. */
    roleName: string;
    /** destroy: remove the stacks too. */
    remove: boolean;
    /** preview/up: skip the refresh that lets them see out-of-band edits. */
    refresh: boolean;
    /** Clear locks and pending operations an interrupted run left before running. */
    recover: boolean;
    projectDir: string;
    /** The flags, as given, that chose the stacks and accounts: suggested commands repeat them (commandLine.ts). */
    selection: string[];
    /** `--shard k/n`: only the accounts of shard k. */
    shard?: Shard;
    /** `--stack <name>`: drift or refresh this one existing stack (e.g. the one Pulumi Deployments deploys) instead of the config's. */
    stack?: string;
    /** `regroup`: first move every document into the stacks sessionManager:stackGranularity names, then up those stacks. */
    regroup: boolean;
}

/** `merge`: shard reports (`--json` output) as one report. */
export interface MergeOptions {
    command: "merge";
    files: string[];
    json: boolean;
    markdown: boolean;
}

/** `audit`: read every target's live document and compare it with the config (orchestrator/audit.ts); no Pulumi. */
export interface AuditOptions {
    command: "audit";
    configFile: string;
    /** The loop's stack names, `<prefix>.<account>[.<region>]`, are in the owner tags this config's deployments write. */
    stackPrefix: string;
    parallel: number;
    json: boolean;
    markdown: boolean;
    /** Role assumed in accounts found under organizationalUnitIds (when no readOnlyRoleName names another). */
    roleName: string;
    /** The Pulumi project whose name starts the owner tags its stacks write. */
    projectDir: string;
    /** `--owner <pattern>`: more owner tag values that count as this config's (`*`, `{accountId}`, `{region}`). */
    owners: string[];
    selection: string[];
    shard?: Shard;
}

/** `policies`: the IAM roles the configuration needs, as policies to copy (core/accessPolicies.ts). */
export interface PoliciesOptions {
    command: "policies";
    configFile: string;
    /** The account the workflow's roles live in. */
    startingAccount: string;
    githubRepository?: string;
    previewRoleName: string;
    rolloutRoleName: string;
    /** Role assumed in accounts found under organizationalUnitIds. */
    roleName: string;
    backendUrl?: string;
    json: boolean;
    /** Write one file per policy here instead of printing them. */
    outDir?: string;
}

/** `repair` and `apply-overrides`: the StackSet's stack instances, for a `deployment: stackset` config. */
export interface StackSetCommandOptions {
    command: (typeof stackSetCommands)[number];
    configFile: string;
    /** repair: the stack instances to repair; empty means those the compliance report (the audit) finds drifted or missing. */
    instances: StackInstance[];
    /** repair without --instances: the audit's --role-name, --parallel, --owner and the project whose name starts the owner tags. */
    roleName: string;
    parallel: number;
    owners: string[];
    projectDir: string;
    /** repair: the RepairToken value; a new one each run by default. */
    token?: string;
    json: boolean;
}

export const stackSetCommands = ["repair", "apply-overrides"] as const;

/** Bad flags or command: the message says what was given and what is allowed. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

export const defaultConfigFile = "Pulumi.prod.yaml";
export const defaultStackPrefix = "org";

export const usage = `Usage: npm run org -- <command> [flags]

Runs one Pulumi stack per account (or per account and Region, as
sessionManager:stackGranularity says) of the organization config.

Commands:
  preview   show what up would change in each target
  up        apply the preferences to every target (refreshes first, so drift
            is repaired)
  refresh   update each stack's state from what is live
  drift     refresh in preview mode and report documents that differ (exit 2
            on drift)
  destroy   destroy each target's resources (onDelete decides what happens to
            the document)
  prune     destroy and remove the stacks of the prefix that are no longer
            targets (removed from the config or excluded); each stack's
            onDelete decides what happens to its document. Every other
            command warns about such stacks
  regroup   move every document into the stacks stackGranularity names
            (<prefix>.<account> or <prefix>.<account>.<region>), keeping
            what each adopted, remove the old stacks, then up the new ones
  merge     merge shard reports (--json output of each --shard, of one
            command, audit included) into one report:
            npm run org -- merge <file>... [--json|--markdown]
  audit     read every target's live document (through the read-only role,
            no Pulumi state) and report each as compliant, drifted, missing,
            owned by another or unreachable (exit 2 unless all compliant)
  policies  print the IAM roles this config needs (trust and permissions
            policies to copy): the write and read-only roles in the targets,
            the workflow's roles. Needs --starting-account; runs nothing and
            calls no AWS API

For a deployment: stackset config (run from the account that administers the
StackSet, after pulumi up):
  apply-overrides  give each stack instance the overrides that select it, as
                   StackSet instance parameter overrides, changing only the
                   instances whose overrides differ (as pulumi up does; for
                   accounts that joined an OU since)
  repair    make the custom resource of exactly the listed stack instances
            write the wanted document again (a new RepairToken on those
            instances, their overrides kept), e.g. the instances the
            compliance report finds drifted or missing:
            npm run org -- repair --instances <account>/<region>[,...]

Flags:
  --config <file>        organization config (default ${defaultConfigFile})
  --stack-prefix <name>  stacks are named <prefix>.<account>[.<region>]
                         (default ${defaultStackPrefix})
  --shard <k>/<n>        only the accounts of shard k of n (by a hash of
                         the account ID); merge the shards' --json reports
  --stack <name>         drift or refresh only this existing stack, with its
                         own config (e.g. prod, which Pulumi Deployments
                         deploys)
  --parallel <n>         targets at once (default ${defaultParallelism()})
  --log-dir <dir>        engine output per target (default logs)
  --role-name <name>     role assumed in accounts found under
                         organizationalUnitIds
                         (default ${defaultDiscoveredRoleName})
  --json                 print the summary as JSON on stdout (the table goes
                         to stderr)
  --markdown             print the summary as Markdown on stdout, e.g. for a
                         pull-request comment
  --no-refresh           preview/up: do not refresh first
  --remove               destroy: also remove the stacks and their config files
  --recover              first clear what an interrupted run (a killed job)
                         left in a stack: its lock and pending operations.
                         Only when no other run of these stacks is going on
  --project-dir <dir>    the Pulumi project every stack runs (default: this
                         repository)
  -h, --help             this text

Flags of audit (with --config, --stack-prefix, --shard, --parallel,
--role-name, --json, --markdown and --project-dir):
  --owner <pattern>            an owner tag value that counts as this
                               config's besides its own stacks'
                               (repeatable; * matches anything, {accountId}
                               and {region} the target's)

Flags of policies (with --config, --role-name and --json):
  --starting-account <id>      the account the workflow's OIDC roles live in
  --github-repository <o/r>    the repository whose jobs may assume them
  --preview-role-name <name>   default ${workflowRoles.previewRoleName}
  --rollout-role-name <name>   default ${workflowRoles.rolloutRoleName}
  --backend-url <s3://b/p>     a self-managed S3 backend both roles use
  --out-dir <dir>              write each policy to a file there instead

Flags of repair (with --config and --json; without --instances it audits
first, with --role-name, --parallel and --owner as audit takes them):
  --instances <a>/<r>[,...]    the stack instances to repair, as
                               <12-digit account>/<region> (default: those
                               the audit finds drifted or missing)
  --token <token>              the RepairToken value (default: repair- and
                               the time); 1 to 128 of letters, digits, ._:-

Exit codes: 0 success (drift: all in sync; audit: all compliant), 1 a target
failed or the config is invalid, 2 drift found (audit: a target is not
compliant), 64 bad command line.`;

/** Each target runs the CLI, a language host and a provider process: a few per core is plenty. */
export function defaultParallelism(cpus = os.availableParallelism()): number {
    return Math.max(1, Math.min(4, cpus * 2));
}

export const flags = {
    config: { type: "string", default: defaultConfigFile },
    "stack-prefix": { type: "string", default: defaultStackPrefix },
    parallel: { type: "string" },
    "log-dir": { type: "string", default: "logs" },
    "role-name": { type: "string", default: defaultDiscoveredRoleName },
    json: { type: "boolean", default: false },
    markdown: { type: "boolean", default: false },
    "no-refresh": { type: "boolean", default: false },
    "project-dir": { type: "string" },
    remove: { type: "boolean", default: false },
    recover: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
    "starting-account": { type: "string" },
    "github-repository": { type: "string" },
    "preview-role-name": { type: "string", default: workflowRoles.previewRoleName },
    "rollout-role-name": { type: "string", default: workflowRoles.rolloutRoleName },
    "backend-url": { type: "string" },
    "out-dir": { type: "string" },
    shard: { type: "string" },
    stack: { type: "string" },
    owner: { type: "string", multiple: true },
    instances: { type: "string" },
    token: { type: "string" },
} as const;

/** The flag meant by a mistyped one, when one is close enough to be a likely typo. */
export function closestFlag(given: string): string | undefined {
    const name = given.replace(/^-+/, "").split("=")[0];
    if (!name) return undefined;
    const names = Object.keys(flags);
    const best = closest(name, names);
    // A prefix (--paral) or a few edits (--paralel, --stackprefix) away; not any flag at all.
    if (best.startsWith(name) && name.length >= 3) return `--${best}`;
    return distance(name, best) <= Math.max(2, Math.floor(best.length / 3)) ? `--${best}` : undefined;
}

/** parseArgs' own messages are about its API (positionals after '--'); say what the user got wrong. */
function usageErrorFor(err: Error & { code?: string }): UsageError {
    const option = /'(-[^'\s]*)/.exec(err.message)?.[1];
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) {
        const suggestion = closestFlag(option);
        return new UsageError(`unknown flag ${option}${suggestion ? `; did you mean ${suggestion}?` : ""}`);
    }
    if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
        const name = option.replace(/^-+/, "").split(/[ =]/)[0];
        const def = (flags as Record<string, { type: string }>)[name];
        if (def?.type === "string") return new UsageError(`--${name} needs a value, e.g. --${name} <value>`);
        if (def?.type === "boolean") return new UsageError(`--${name} takes no value`);
    }
    return new UsageError(err.message);
}

/** Flags values as parseArgs gives them. */
type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** The flags only `policies` takes, and those it does not. */
const policyFlags = ["starting-account", "github-repository", "preview-role-name", "rollout-role-name", "backend-url", "out-dir"] as const;

/** Whether the command line names the flag (parseArgs' values also hold defaults). */
function given(argv: readonly string[], flag: string): boolean {
    return argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
}

function parsePolicies(argv: readonly string[], values: FlagValues): PoliciesOptions {
    const text = (name: string) => values[name] as string | undefined;
    const rolloutOnly = ["markdown", "no-refresh", "remove", "recover", "project-dir", "parallel", "log-dir", "stack-prefix", "shard", "stack", "owner"].find(
        (f) => given(argv, f),
    );
    if (rolloutOnly) throw new UsageError(`--${rolloutOnly} does not go with policies`);
    const startingAccount = text("starting-account");
    if (!startingAccount) throw new UsageError("policies needs --starting-account <12-digit account ID>: the account the workflow's roles live in");
    if (!isAccountId(startingAccount)) throw new UsageError(`--starting-account ${startingAccount}: a 12-digit AWS account ID`);
    const repo = text("github-repository");
    if (repo !== undefined && !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo))
        throw new UsageError(`--github-repository ${repo}: owner/name, e.g. acme/landing-zone`);
    for (const flag of ["preview-role-name", "rollout-role-name"]) {
        const name = text(flag) as string;
        if (!isRoleName(name)) throw new UsageError(`--${flag} ${name}: ${roleNameRule}`);
    }
    const backendUrl = text("backend-url");
    if (backendUrl !== undefined && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(backendUrl)) {
        throw new UsageError(`--backend-url ${backendUrl}: an S3 backend URL, s3://<bucket>[/<prefix>] (other backends need no policy here)`);
    }
    return {
        command: "policies",
        configFile: path.resolve(text("config") as string),
        startingAccount,
        githubRepository: repo,
        previewRoleName: text("preview-role-name") as string,
        rolloutRoleName: text("rollout-role-name") as string,
        roleName: text("role-name") as string,
        backendUrl,
        json: values.json === true,
        outDir: text("out-dir") ? path.resolve(text("out-dir") as string) : undefined,
    };
}

/** `--shard k/n`: 1 <= k <= n <= 256. */
export function parseShard(text: string): Shard {
    const m = /^(\d+)\/(\d+)$/.exec(text);
    const index = m ? Number(m[1]) : NaN;
    const count = m ? Number(m[2]) : NaN;
    if (!m || count < 1 || count > 256 || index < 1 || index > count) throw new UsageError(`--shard ${text}: k/n with 1 <= k <= n <= 256, e.g. --shard 2/4`);
    return { index, count };
}

/** `--instances 111111111111/eu-west-1,222222222222/us-east-1`: each once. */
export function parseInstances(text: string): StackInstance[] {
    const seen = new Set<string>();
    return text.split(",").map((item) => {
        const entry = item.trim();
        const m = /^([^/]+)\/([^/]+)$/.exec(entry);
        if (!m || !isAccountId(m[1]) || !isRegion(m[2])) {
            throw new UsageError(`--instances ${text}: ${JSON.stringify(entry)} is not <12-digit account ID>/<region>, e.g. 111122223333/eu-west-1`);
        }
        if (seen.has(entry)) throw new UsageError(`--instances ${text}: ${entry} is listed twice`);
        seen.add(entry);
        return { accountId: m[1], region: m[2] };
    });
}

function parseStackSetCommand(
    argv: readonly string[],
    values: FlagValues,
    command: StackSetCommandOptions["command"],
    projectDir: string,
): StackSetCommandOptions {
    // Without --instances, repair audits first: it takes the audit's flags.
    const allowed = command === "repair" ? ["config", "json", "instances", "token", "role-name", "parallel", "owner", "project-dir"] : ["config", "json"];
    const other = Object.keys(flags).find((f) => !allowed.includes(f) && given(argv, f));
    if (other) throw new UsageError(`--${other} does not go with ${command}`);
    const token = values.token as string | undefined;
    if (token !== undefined && !repairTokenPattern.test(token)) throw new UsageError(`--token ${token}: 1 to 128 letters, digits and ._:-`);
    const instances = values.instances === undefined ? [] : parseInstances(values.instances as string);
    if (instances.length > 0) {
        const auditOnly = ["role-name", "parallel", "owner"].find((f) => given(argv, f));
        if (auditOnly) throw new UsageError(`--${auditOnly} goes with a repair that audits first; --instances names the stack instances itself`);
    }
    const { owners, roleName } = auditFlags(values);
    return {
        command,
        configFile: path.resolve(values.config as string),
        instances,
        ...(token !== undefined ? { token } : {}),
        json: values.json === true,
        roleName,
        parallel: parallelOf(values),
        owners,
        projectDir: values["project-dir"] ? path.resolve(values["project-dir"] as string) : projectDir,
    };
}

function parseMerge(argv: readonly string[], values: FlagValues, files: string[]): MergeOptions {
    const other = Object.keys(flags).find((f) => f !== "json" && f !== "markdown" && given(argv, f));
    if (other) throw new UsageError(`--${other} does not go with merge`);
    if (files.length === 0) throw new UsageError("merge needs the shard reports to merge: npm run org -- merge <report.json>...");
    if (values.json && values.markdown) throw new UsageError("--json and --markdown both print on stdout: choose one");
    return { command: "merge", files: files.map((f) => path.resolve(f)), json: values.json === true, markdown: values.markdown === true };
}

/** `--parallel`, as every command that runs targets takes it. */
function parallelOf(values: FlagValues): number {
    const parallel = values.parallel === undefined ? defaultParallelism() : Number(values.parallel);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64)
        throw new UsageError(`--parallel ${String(values.parallel)}: a whole number from 1 to 64`);
    return parallel;
}

/** An `--owner` pattern: what an owner tag may hold, plus `*` and the `{accountId}` and `{region}` placeholders. */
export function ownerPatternProblem(pattern: string): string | undefined {
    const literal = pattern.replace(/\{accountId\}|\{region\}/g, "x").replace(/\*/g, "");
    if (pattern.length >= 1 && pattern.length <= 256 && /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(literal) && pattern.trim() === pattern) return undefined;
    return `--owner ${JSON.stringify(pattern)}: an owner tag value (1 to 256 letters, digits, spaces or _.:/=+-@), where * matches anything and {accountId} and {region} stand for the target's, e.g. --owner 'session-manager-preferences/prod'`;
}

/** `--owner` and `--role-name`, as the audit (and a repair that audits first) takes them. */
function auditFlags(values: FlagValues): { owners: string[]; roleName: string } {
    const owners = (values.owner as string[] | undefined) ?? [];
    for (const owner of owners) {
        const problem = ownerPatternProblem(owner);
        if (problem) throw new UsageError(problem);
    }
    const roleName = values["role-name"] as string;
    if (!isRoleName(roleName)) throw new UsageError(`--role-name ${roleName}: ${roleNameRule}`);
    return { owners, roleName };
}

function parseAudit(argv: readonly string[], values: FlagValues, projectDir: string): AuditOptions {
    const other = ["no-refresh", "remove", "recover", "log-dir", "stack", ...policyFlags].find((f) => given(argv, f));
    if (other) throw new UsageError(`--${other} does not go with audit: it reads documents and runs no stack`);
    const parallel = parallelOf(values);
    const prefix = values["stack-prefix"] as string;
    const prefixProblem = stackPrefixProblem(prefix);
    if (prefixProblem) throw new UsageError(prefixProblem);
    if (values.json && values.markdown) throw new UsageError("--json and --markdown both print on stdout: choose one");
    const { owners, roleName } = auditFlags(values);
    return {
        command: "audit",
        configFile: path.resolve(values.config as string),
        stackPrefix: prefix,
        parallel,
        json: values.json === true,
        markdown: values.markdown === true,
        roleName,
        projectDir: values["project-dir"] ? path.resolve(values["project-dir"] as string) : projectDir,
        owners,
        selection: selectionFlags.filter((flag) => given(argv, flag)).flatMap((flag) => [`--${flag}`, values[flag] as string]),
        shard: values.shard === undefined ? undefined : parseShard(values.shard as string),
    };
}

export function parseCli(
    argv: readonly string[],
    projectDir: string,
): CliOptions | PoliciesOptions | MergeOptions | AuditOptions | StackSetCommandOptions | "help" {
    let parsed;
    try {
        parsed = parseArgs({ args: [...argv], allowPositionals: true, options: flags });
    } catch (err) {
        throw usageErrorFor(err as Error & { code?: string });
    }
    const { values, positionals } = parsed;
    if (values.help) return "help";
    const all = [...commands, "regroup", "audit", "policies", "merge", ...stackSetCommands];
    if (positionals[0] === "merge") return parseMerge(argv, values, positionals.slice(1));
    if (positionals.length !== 1 || !all.includes(positionals[0])) {
        throw new UsageError(`expected one command, one of ${all.join(", ")}; got ${positionals.length === 0 ? "none" : positionals.join(" ")}`);
    }
    if (positionals[0] === "policies") return parsePolicies(argv, values);
    if (positionals[0] === "audit") return parseAudit(argv, values, projectDir);
    if ((stackSetCommands as readonly string[]).includes(positionals[0])) {
        return parseStackSetCommand(argv, values, positionals[0] as StackSetCommandOptions["command"], projectDir);
    }
    if (given(argv, "owner")) throw new UsageError("--owner goes with audit and repair only");
    const stackSetOnly = ["instances", "token"].find((flag) => given(argv, flag));
    if (stackSetOnly) throw new UsageError(`--${stackSetOnly} goes with repair only`);
    const regroup = positionals[0] === "regroup";
    const command = (regroup ? "up" : positionals[0]) as Command;
    const misplaced = policyFlags.find((flag) => given(argv, flag));
    if (misplaced) throw new UsageError(`--${misplaced} goes with policies only`);
    const parallel = parallelOf(values);
    const prefixProblem = stackPrefixProblem(values["stack-prefix"]);
    if (prefixProblem) throw new UsageError(prefixProblem);
    if (values.json && values.markdown) throw new UsageError("--json and --markdown both print on stdout: choose one");
    if (values.remove && command !== "destroy") throw new UsageError("--remove goes with destroy only");
    const shard = values.shard === undefined ? undefined : parseShard(values.shard);
    if (shard && regroup) throw new UsageError("--shard does not go with regroup: regroup moves every account's stacks at once");
    const stack = values.stack;
    if (stack !== undefined) {
        // Those two neither write the stack's config nor run the program: the stack stays as its own deployer left it.
        if (regroup || !["drift", "refresh"].includes(command))
            throw new UsageError(`--stack goes with drift and refresh only: they read one existing stack as it is; got ${positionals[0]}`);
        if (shard) throw new UsageError("--stack and --shard: --stack names one stack, a shard is a share of the config's");
        if (!/^[A-Za-z0-9_./-]{1,200}$/.test(stack)) throw new UsageError(`--stack ${stack}: a stack name (letters, digits, '-', '_', '.')`);
    }
    return {
        command,
        configFile: path.resolve(values.config),
        stackPrefix: values["stack-prefix"],
        parallel,
        logDir: path.resolve(values["log-dir"]),
        json: values.json,
        markdown: values.markdown,
        roleName: values["role-name"],
        remove: values.remove,
        refresh: !values["no-refresh"],
        recover: values.recover,
        projectDir: values["project-dir"] ? path.resolve(values["project-dir"]) : projectDir,
        selection: selectionFlags.filter((flag) => given(argv, flag)).flatMap((flag) => [`--${flag}`, values[flag] as string]),
        shard,
        regroup,
        stack,
    };
}
