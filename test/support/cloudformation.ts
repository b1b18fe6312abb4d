import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { pythonVenv } from "../../devtools/moto";

/**
 * What CloudFormation would substitute in one account and Region: pseudo parameters by
 * name (`AWS::Region`), Refs by logical ID, GetAtts as `<logicalId>.<attribute>`.
 */
export type StackValues = Record<string, string>;

/**
 * Resolves Ref, Fn::GetAtt and the one-argument Fn::Sub the way CloudFormation does,
 * including `${!Literal}`, which stands for `${Literal}`. Fails on anything unknown, so a
 * template that refers to something missing cannot pass by accident.
 */
export function resolveIntrinsics(value: unknown, stack: StackValues): unknown {
    if (typeof value !== "object" || value === null) return value;
    if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, stack));
    const entries = Object.entries(value);
    if (entries.length === 1) {
        const [fn, arg] = entries[0];
        if (fn === "Ref") return lookup(stack, arg as string);
        if (fn === "Fn::GetAtt") return lookup(stack, (arg as string[]).join("."));
        if (fn === "Fn::Sub") return substitute(arg as string, stack);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, stack)]));
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
