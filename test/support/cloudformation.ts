import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { pythonVenv } from "../../devtools/moto";

/**
 * What CloudFormation would substitute in one account and Region: pseudo parameters by
 * name (`AWS::Region`), Refs by logical ID, GetAtts as `<logicalId>.<attribute>`.
 */
export type StackValues = Record<string, string>;

/** What Ref AWS::NoValue resolves to: the property or list entry is left out. */
const noValue = Symbol("AWS::NoValue");

/**
 * Resolves Ref, Fn::GetAtt, the one-argument Fn::Sub, Fn::If and AWS::NoValue the way
 * CloudFormation does, including `${!Literal}`, which stands for `${Literal}`. Conditions are
 * read from the stack as `Condition:<id>` ("true" or "false"; see templateStack). Fails on
 * anything unknown, so a template that refers to something missing cannot pass by accident.
 */
export function resolveIntrinsics(value: unknown, stack: StackValues): unknown {
    const resolved = resolveOrDrop(value, stack);
    return resolved === noValue ? undefined : resolved;
}

function resolveOrDrop(value: unknown, stack: StackValues): unknown {
    if (typeof value !== "object" || value === null) return value;
    if (Array.isArray(value)) return value.map((v) => resolveOrDrop(v, stack)).filter((v) => v !== noValue);
    const entries = Object.entries(value);
    if (entries.length === 1) {
        const [fn, arg] = entries[0];
        if (fn === "Ref" && arg === "AWS::NoValue") return noValue;
        if (fn === "Ref") return lookup(stack, arg as string);
        if (fn === "Fn::GetAtt") return lookup(stack, (arg as string[]).join("."));
        if (fn === "Fn::Sub") return substitute(arg as string, stack);
        if (fn === "Fn::If") {
            const [condition, whenTrue, whenFalse] = arg as [string, unknown, unknown];
            return resolveOrDrop(lookup(stack, `Condition:${condition}`) === "true" ? whenTrue : whenFalse, stack);
        }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, resolveOrDrop(v, stack)]).filter(([, v]) => v !== noValue));
}

interface TemplateParts {
    Parameters?: Record<string, { Default?: string }>;
    Conditions?: Record<string, unknown>;
}

/**
 * One stack of a template: `stack`'s values, the template's parameters (their defaults, or the
 * instance's overrides) and each Condition as CloudFormation decides it there.
 */
export function templateStack(template: TemplateParts, stack: StackValues, overrides: Record<string, string> = {}): StackValues {
    const values: StackValues = { ...stack };
    for (const [name, parameter] of Object.entries(template.Parameters ?? {})) {
        const value = overrides[name] ?? parameter.Default;
        if (value === undefined) throw new Error(`parameter ${name} has no default and no value`);
        values[name] = value;
    }
    for (const name of Object.keys(overrides)) if (!(name in (template.Parameters ?? {}))) throw new Error(`no parameter ${name} to override`);
    const holds = (condition: unknown): boolean => {
        const [fn, arg] = Object.entries(condition as object)[0] as [string, unknown[]];
        if (fn === "Fn::Equals") return resolveIntrinsics(arg[0], values) === resolveIntrinsics(arg[1], values);
        if (fn === "Fn::Not") return !holds(arg[0]);
        if (fn === "Condition") return holds(template.Conditions![arg as unknown as string]);
        throw new Error(`unknown condition function ${fn}`);
    };
    for (const [name, condition] of Object.entries(template.Conditions ?? {})) values[`Condition:${name}`] = String(holds(condition));
    return values;
}

function lookup(stack: StackValues, name: string): string {
    const found = stack[name];
    if (found === undefined) throw new Error(`template refers to ${name}, which this stack does not define`);
    return found;
}

function substitute(text: string, stack: StackValues): string {
    let out = "";
    let i = 0;
    while (i < text.length) {
        const at = text.indexOf("${", i);
        if (at < 0) break;
        out += text.slice(i, at);
        if (text[at + 2] === "!") {
            out += "${";
            i = at + 3;
            continue;
        }
        const end = text.indexOf("}", at);
        if (end < 0) throw new Error(`unterminated \${ in Fn::Sub: ${text}`);
        out += lookup(stack, text.slice(at + 2, end));
        i = end + 1;
    }
    return out + text.slice(i);
}

export interface LintFinding {
    Filename: string;
    Level: "Error" | "Warning" | "Informational";
    Message: string;
    Rule: { Id: string };
    Location: { Path: (string | number)[] };
}

/**
 * Runs the pinned cfn-lint over all the files, in one process per CPU (up to four): its
 * start-up is paid once per process, and templates are checked one after another.
 */
export async function cfnLint(files: string[], extraArgs: string[] = []): Promise<LintFinding[]> {
    const processes = Math.max(1, Math.min(4, os.availableParallelism(), files.length));
    const chunks = Array.from({ length: processes }, (_, i) => files.filter((_, j) => j % processes === i));
    const results = await Promise.all(chunks.map((chunk) => cfnLintOnce(chunk, extraArgs)));
    return results.flat();
}

function cfnLintOnce(files: string[], extraArgs: string[]): Promise<LintFinding[]> {
    const bin = path.join(pythonVenv(), "bin", "cfn-lint");
    return new Promise((resolve, reject) => {
        const child = spawn(bin, ["--format", "json", ...extraArgs, "--", ...files], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
            // Exit codes are a bit mask of the levels found (2 error, 4 warning, 8 info); 1 is a crash.
            if (code === 1 || stdout.trim() === "") return reject(new Error(`cfn-lint failed (exit ${code}): ${stderr || stdout}`));
            try {
                resolve(JSON.parse(stdout) as LintFinding[]);
            } catch (err) {
                reject(new Error(`cfn-lint printed no JSON (exit ${code}): ${(err as Error).message}\n${stdout.slice(0, 2000)}\n${stderr}`));
            }
        });
    });
}
