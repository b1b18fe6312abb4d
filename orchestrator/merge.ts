// `npm run org -- merge`: the reports of a run's shards (each `--shard k/n --json`) as one
// report, rendered like any other, with the exit code the whole run would have had: the
// rollout commands' reports (orchestrator/report.ts) and the audit's (orchestrator/auditReport.ts).
import * as fs from "node:fs";
import { AuditFinding, auditLabel } from "./audit";
import type { AuditReport } from "./auditReport";
import { selectionWhere } from "./commandLine";
import { auditStatuses, commands, RolloutReport, RunProblem, TargetResult } from "./result";

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

/** The JSON text as an object with a command and targets, or a MergeError naming the file. */
function reportDocument(text: string, file: string): Record<string, unknown> {
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        throw new MergeError(`${file}: not JSON (${(err as Error).message}); merge takes the reports npm run org -- <command> --json writes`);
    }
    const known = [...commands, "audit"] as readonly unknown[];
    const record = doc as Record<string, unknown>;
    if (typeof doc !== "object" || doc === null || !known.includes(record.command) || !Array.isArray(record.targets)) {
        throw new MergeError(`${file}: not a report of npm run org -- <command> --json (no command and targets)`);
    }
    return record;
}

/** What a rollout command's report and the audit's have alike. */
type ReportHeader = Pick<RolloutReport, "startedAt" | "durationMs" | "problem" | "selection" | "shard">;

/** The fields every report has, and the optional ones merge carries over. */
function header(doc: Record<string, unknown>): ReportHeader {
    const head: ReportHeader = {
        startedAt: String(doc.startedAt),
        durationMs: Number(doc.durationMs) || 0,
    };
    for (const key of ["problem", "selection", "shard"] as const) if (doc[key] !== undefined) Object.assign(head, { [key]: doc[key] });
    return head;
}

/** A report as renderJson (report.ts) wrote it, back as the report it came from. */
export function parseJsonReport(text: string, file: string): RolloutReport {
    return rolloutReportOf(reportDocument(text, file), file);
}

function rolloutReportOf(doc: Record<string, unknown>, file: string): RolloutReport {
    if (doc.command === "audit") throw new MergeError(`${file}: an audit report, where a report of ${commands.join(", ")} was expected`);
    const results = (doc.targets as JsonTarget[]).map(({ stack, result, target: _label, ...rest }: JsonTarget & { target?: string }) => ({
        ...rest,
        stackName: stack,
        outcome: result,
    }));
    const report: RolloutReport = { command: doc.command as RolloutReport["command"], ...header(doc), results };
    if (doc.staleStacks !== undefined) report.staleStacks = doc.staleStacks as string[];
    return report;
}

interface JsonFinding extends Omit<AuditFinding, "sources"> {
    target: string;
    overrides?: AuditFinding["sources"];
}

/** An audit report as renderAuditJson (auditReport.ts) wrote it, back as the report it came from. */
export function parseAuditJson(text: string, file: string): AuditReport {
    return auditReportOf(reportDocument(text, file), file);
}

function auditReportOf(doc: Record<string, unknown>, file: string): AuditReport {
    if (doc.command !== "audit") throw new MergeError(`${file}: a report of ${String(doc.command)}, where an audit report was expected`);
    const findings = (doc.targets as JsonFinding[]).map(({ target, overrides, ...finding }) => {
        if (!(auditStatuses as readonly unknown[]).includes(finding.status)) {
            throw new MergeError(`${file}: target ${target} has status ${JSON.stringify(finding.status)}; an audit report's are ${auditStatuses.join(", ")}`);
        }
        return { ...finding, sources: overrides ?? {} };
    });
    return { command: "audit", ...header(doc), findings };
}

/** Any report a shard's --json wrote: a rollout command's or the audit's. */
export function parseAnyReport(text: string, file: string): RolloutReport | AuditReport {
    const doc = reportDocument(text, file);
    return doc.command === "audit" ? auditReportOf(doc, file) : rolloutReportOf(doc, file);
}

type ShardReport = ReportHeader & { command: string };

/**
 * What every merge checks and carries: one command, one shard count, each shard once; the
 * earliest start, the longest duration (the shards ran at once), the selection less --shard,
 * and a problem naming each shard that ran nothing or has no report.
 */
function mergeHeader(reports: readonly { file: string; report: ShardReport }[]): Omit<ReportHeader, "shard"> {
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
    const merged: Omit<ReportHeader, "shard"> = {
        startedAt: reports.map((r) => r.report.startedAt).sort()[0],
        durationMs: Math.max(...reports.map((r) => r.report.durationMs)),
    };
    // Less --shard: the merged report's suggestions act on every shard.
    const selection = reports[0].report.selection && selectionWhere(reports[0].report.selection, (flag) => flag !== "--shard");
    if (selection?.length) merged.selection = selection;
    const problem = shardProblem(reports, count, seen);
    if (problem) merged.problem = problem;
    return merged;
}

/**
 * The shards' reports as one: every target's result (sorted by stack), the stale stacks of
 * all, the longest duration (the shards ran at once). A shard that ran nothing makes the
 * merged report a failure naming it, as does a shard whose report is missing.
 */
export function mergeReports(reports: readonly { file: string; report: RolloutReport }[]): RolloutReport {
    const head = mergeHeader(reports);
    const results = reports.flatMap((r) => r.report.results).sort((a, b) => a.stackName.localeCompare(b.stackName));
    const merged: RolloutReport = { command: reports[0].report.command, ...head, results };
    const stale = reports.flatMap((r) => r.report.staleStacks ?? []);
    if (reports.some((r) => r.report.staleStacks !== undefined)) merged.staleStacks = [...new Set(stale)].sort();
    return merged;
}

/** The audit shards' reports as one: every target's finding (sorted by account and Region), as mergeReports merges the rest. */
export function mergeAuditReports(reports: readonly { file: string; report: AuditReport }[]): AuditReport {
    const findings = reports.flatMap((r) => r.report.findings).sort((a, b) => auditLabel(a).localeCompare(auditLabel(b)));
    return { command: "audit", ...mergeHeader(reports), findings };
}

function shardProblem(reports: readonly { file: string; report: ShardReport }[], count: number, seen: ReadonlyMap<number, string>): RunProblem | undefined {
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

/** Reads and merges the report files: a rollout command's shards or the audit's. Throws MergeError naming the file at fault. */
export function mergeFiles(files: readonly string[]): RolloutReport | AuditReport {
    const reports = files.map((file) => {
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch (err) {
            throw new MergeError(`cannot read ${file}: ${(err as Error).message}`);
        }
        return { file, report: parseAnyReport(text, file) };
    });
    const audits = reports.filter((r): r is { file: string; report: AuditReport } => r.report.command === "audit");
    if (audits.length === reports.length) return mergeAuditReports(audits);
    const rollouts = reports.filter((r): r is { file: string; report: RolloutReport } => r.report.command !== "audit");
    if (rollouts.length === reports.length) return mergeReports(rollouts);
    throw new MergeError(`${audits[0].file} is a report of audit, ${rollouts[0].file} of ${rollouts[0].report.command}: merge the shards of one run`);
}
