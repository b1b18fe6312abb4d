import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { closest, distance } from "fastest-levenshtein";
import { Command, commands } from "./result";
import { defaultDiscoveredRoleName, stackPrefixProblem } from "./targets";

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
}

/** Bad flags or command: the message says what was given and what is allowed. */
export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

export const usage = `Usage: npm run org -- <command> [flags]

Runs one Pulumi stack per account and Region of the organization config.

Commands:
  preview   show what up would change in each target
  up        apply the preferences to every target (refreshes first, so drift is repaired)
  refresh   update each stack's state from what is live
  drift     refresh in preview mode and report documents that differ (exit 2 on drift)
  destroy   destroy each target's resources (onDelete decides what happens to the document)
  prune     destroy and remove the stacks <prefix>.<account>.<region> that are no longer
            targets (removed from the config or excluded); each stack's onDelete decides
            what happens to its document. Every other command warns about such stacks

Flags:
  --config <file>        organization config (default Pulumi.prod.yaml)
  --stack-prefix <name>  stacks are named <prefix>.<account>.<region> (default org)
  --parallel <n>         targets at once (default ${defaultParallelism()})
  --log-dir <dir>        engine output per target (default logs)
  --role-name <name>     role assumed in accounts found under organizationalUnitIds
                         (default ${defaultDiscoveredRoleName})
  --json                 print the summary as JSON on stdout (the table goes to stderr)
  --markdown             print the summary as Markdown on stdout, e.g. for a PR comment
  --no-refresh           preview/up: do not refresh first
  --remove               destroy: also remove the stacks and their config files
  --recover              first clear what an interrupted run (a killed job) left in a
                         stack: its lock and pending operations. Only when no other run
                         of these stacks is going on
  --project-dir <dir>    the Pulumi project every stack runs (default: this repository)
  -h, --help             this text

Exit codes: 0 success (drift: all in sync), 1 a target failed or the config is invalid,
2 drift found, 64 bad command line.`;

/** Each target runs the CLI, a language host and a provider process: a few per core is plenty. */
export function defaultParallelism(cpus = os.availableParallelism()): number {
    return Math.max(1, Math.min(4, cpus * 2));
}

export const defaultConfigFile = "Pulumi.prod.yaml";

export const flags = {
    config: { type: "string", default: defaultConfigFile },
    "stack-prefix": { type: "string", default: "org" },
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

export function parseCli(argv: readonly string[], projectDir: string): CliOptions | "help" {
    let parsed;
    try {
        parsed = parseArgs({ args: [...argv], allowPositionals: true, options: flags });
    } catch (err) {
        throw usageErrorFor(err as Error & { code?: string });
    }
    const { values, positionals } = parsed;
    if (values.help) return "help";
    if (positionals.length !== 1 || !(commands as readonly string[]).includes(positionals[0])) {
        throw new UsageError(`expected one command, one of ${commands.join(", ")}; got ${positionals.length === 0 ? "none" : positionals.join(" ")}`);
    }
    const command = positionals[0] as Command;
    const parallel = values.parallel === undefined ? defaultParallelism() : Number(values.parallel);
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new UsageError(`--parallel ${values.parallel}: a whole number from 1 to 64`);
    const prefixProblem = stackPrefixProblem(values["stack-prefix"]);
    if (prefixProblem) throw new UsageError(prefixProblem);
    if (values.json && values.markdown) throw new UsageError("--json and --markdown both print on stdout: choose one");
    if (values.remove && command !== "destroy") throw new UsageError("--remove goes with destroy only");
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
    };
}
