// `npm run org -- merge`: the reports of a run's shards (each `--shard k/n --json`) as one
// report, rendered like any other, with the exit code the whole run would have had.
import * as fs from "node:fs";
import { selectionWhere } from "./commandLine";
import { commands, RolloutReport, RunProblem, TargetResult } from "./result";

/** A file that is not a shard report this program wrote, or reports that do not belong together. */
export class MergeError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MergeError";
    }
}

interface JsonTarget extends Omit<TargetResult, "stackName" | "outcome"> {
    stack: string;
    result: TargetResult["outcome"];
}

/** A report as renderJson (report.ts) wrote it, back as the report it came from. */
export function parseJsonReport(text: string, file: string): RolloutReport {
    let doc: Record<string, unknown>;
    try {
        doc = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
        throw new MergeError(`${file}: not JSON (${(err as Error).message}); merge takes the reports npm run org -- <command> --json writes`);
    }
    if (typeof doc !== "object" || doc === null || !(commands as readonly unknown[]).includes(doc.command) || !Array.isArray(doc.targets)) {
        throw new MergeError(`${file}: not a report of npm run org -- <command> --json (no command and targets)`);
    }
    const results = (doc.targets as JsonTarget[]).map(({ stack, result, target: _label, ...rest }: JsonTarget & { target?: string }) => ({
        ...rest,
        stackName: stack,
        outcome: result,
    }));
    const report: RolloutReport = {
        command: doc.command as RolloutReport["command"],
        startedAt: String(doc.startedAt),
        durationMs: Number(doc.durationMs) || 0,
        results,
    };
    for (const key of ["problem", "staleStacks", "selection", "shard"] as const) if (doc[key] !== undefined) Object.assign(report, { [key]: doc[key] });
    return report;
}

/**
 * The shards' reports as one: every target's result (sorted by stack), the stale stacks of
 * all, the longest duration (the shards ran at once). A shard that ran nothing makes the
 * merged report a failure naming it, as does a shard whose report is missing.
 */
export function mergeReports(reports: readonly { file: string; report: RolloutReport }[]): RolloutReport {
    if (reports.length === 0) throw new MergeError("no reports to merge");
    const command = reports[0].report.command;
    const other = reports.find((r) => r.report.command !== command);
    if (other) throw new MergeError(`${other.file} is a report of ${other.report.command}, ${reports[0].file} of ${command}: merge the shards of one run`);
    const counts = new Set(reports.map((r) => r.report.shard?.count ?? 1));
    if (counts.size > 1) throw new MergeError(`the reports are of different shard counts (${[...counts].join(", ")}): merge the shards of one run`);
    const count = [...counts][0];
    const seen = new Map<number, string>();
    for (const { file, report } of reports) {
        const index = report.shard?.index ?? 1;
        const first = seen.get(index);
        if (first) throw new MergeError(`${file} and ${first} are both shard ${index}/${count}`);
        seen.set(index, file);
    }
    const results = reports.flatMap((r) => r.report.results).sort((a, b) => a.stackName.localeCompare(b.stackName));
    const merged: RolloutReport = {
        command,
        startedAt: reports.map((r) => r.report.startedAt).sort()[0],
        durationMs: Math.max(...reports.map((r) => r.report.durationMs)),
        results,
    };
    const stale = reports.flatMap((r) => r.report.staleStacks ?? []);
    if (reports.some((r) => r.report.staleStacks !== undefined)) merged.staleStacks = [...new Set(stale)].sort();
    // Less --shard: the merged report's suggestions act on every shard.
    const selection = reports[0].report.selection && selectionWhere(reports[0].report.selection, (flag) => flag !== "--shard");
    if (selection?.length) merged.selection = selection;
    const problem = shardProblem(reports, count, seen);
    if (problem) merged.problem = problem;
    return merged;
}

function shardProblem(reports: readonly { file: string; report: RolloutReport }[], count: number, seen: ReadonlyMap<number, string>): RunProblem | undefined {
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
    const failed = reports.filter((r) => r.report.problem);
    if (missing.length === 0 && failed.length === 0) return undefined;
    const details = [
        ...failed.map(({ report }) => {
            const p = report.problem as RunProblem;
            return `shard ${report.shard?.index ?? 1}/${count} ran nothing: ${p.summary}${p.details.length ? ` (${p.details.join("; ")})` : ""}. To fix: ${p.fix}`;
        }),
        ...missing.map((i) => `shard ${i}/${count}: no report`),
    ];
    // One shard ran nothing: its own problem, said to be that shard's when there are others.
    if (failed.length === 1 && missing.length === 0) {
        const { report } = failed[0];
        const problem = report.problem as RunProblem;
        return count === 1 ? problem : { ...problem, summary: `shard ${report.shard?.index ?? 1}/${count}: ${problem.summary}` };
    }
    return {
        kind: "shards",
        summary: `${failed.length + missing.length} of ${count} shard(s) did not run: the other shards' results are below, in the JSON report`,
        details,
        fix: "see each shard's job log; every shard of the matrix writes its report, and merge needs all of them, so rerun the failed shards",
    };
}

/** Reads and merges the report files. Throws MergeError naming the file at fault. */
export function mergeFiles(files: readonly string[]): RolloutReport {
    return mergeReports(
        files.map((file) => {
            let text: string;
            try {
                text = fs.readFileSync(file, "utf8");
            } catch (err) {
                throw new MergeError(`cannot read ${file}: ${(err as Error).message}`);
            }
            return { file, report: parseJsonReport(text, file) };
        }),
    );
}
