/**
 * The audit's report (orchestrator/audit.ts): a table per target for a person, JSON for
 * machines, Markdown for an issue or a job summary, and its exit code.
 */
import { describeSources } from "../core/overrides";
import { AuditFinding, auditLabel } from "./audit";
import { formatDuration, markdownTable, textTable } from "./format";
import { fitWidth } from "./progress";
import { inlineCode, showValue, wrapText } from "./report";
import { AuditStatus, auditStatuses, exitCodes, RunProblem } from "./result";

export interface AuditReport {
    command: "audit";
    /** Set when nothing was read (bad config, Organizations not readable): then there are no findings. */
    problem?: RunProblem;
    startedAt: string;
    durationMs: number;
    findings: AuditFinding[];
    /** The flags, as given, that chose the targets: suggested commands repeat them. */
    selection?: string[];
    shard?: { index: number; count: number };
}

/** 0: every target compliant; 2: any target is not (drifted, missing, owned by another, unreachable); 1 or 64: nothing was read. */
export function auditExitCode(report: Pick<AuditReport, "problem" | "findings">): number {
    if (report.problem) return report.problem.kind === "usage" ? exitCodes.usage : exitCodes.failed;
    return report.findings.every((f) => f.status === "compliant") ? exitCodes.ok : exitCodes.drifted;
}

function counts(report: AuditReport): string {
    const n = (status: AuditStatus) => report.findings.filter((f) => f.status === status).length;
    const parts = auditStatuses.filter((s) => n(s) > 0).map((s) => `${n(s)} ${s}`);
    return `${report.findings.length} targets: ${parts.join(", ") || "none"}; ${formatDuration(report.durationMs)}`;
}

function overridesOf(f: AuditFinding): string {
    return describeSources(f.sources);
}

function fieldRows(report: AuditReport): string[][] {
    return report.findings.flatMap((f) => (f.fields ?? []).map((d) => [auditLabel(f), d.field, showValue(d.wanted), showValue(d.found)]));
}

/** Why targets are not compliant, beyond their fields: unreachable and owned by another (missing says it all; --json has its reason too). */
function reasonRows(report: AuditReport): string[][] {
    return report.findings
        .filter((f) => (f.status === "unreachable" || f.status === "owned by another") && f.reason)
        .map((f) => [auditLabel(f), f.status, f.reason as string]);
}

/** What kept targets from being read: all of them, or (merged shards) some, whose findings then follow. */
function problemHeadline(report: AuditReport): string {
    return report.findings.length === 0 ? "Nothing was read" : "Not every target was read";
}

function problemText(report: AuditReport, problem: RunProblem, width: number | undefined): string {
    const lines = [...wrapText(`audit: ${problemHeadline(report)}: ${problem.summary}`, width, "")];
    for (const detail of problem.details) lines.push(...wrapText(detail, width, "  - "));
    lines.push(...wrapText(`To fix: ${problem.fix}`, width, ""));
    return `${lines.join("\n")}\n`;
}

/** For a person: counts, one row per target, then the fields that differ and why the others are not compliant. */
export function renderAuditText(report: AuditReport, options: { columns?: number } = {}): string {
    const width = options.columns === undefined ? undefined : options.columns - 1;
    const problem = report.problem ? problemText(report, report.problem, width) : "";
    if (report.findings.length === 0 && problem) return problem;
    const cut = (text: string, room: number) => (width === undefined ? text : fitWidth(text, room));
    const parts = [...wrapText(`audit: ${counts(report)}`, width, ""), ""];
    const rows = report.findings.map((f) => [auditLabel(f), f.status, f.owner ?? "", overridesOf(f)]);
    const room = width === undefined ? undefined : Math.max(12, Math.floor((width - 44) / 2));
    parts.push(
        textTable(
            ["TARGET", "STATUS", "OWNER", "OVERRIDES"],
            rows.map((r) => [r[0], r[1], cut(r[2], room ?? 0), cut(r[3], room ?? 0)]),
        ),
    );
    const fields = fieldRows(report);
    if (fields.length > 0) {
        const cell = width === undefined ? 0 : Math.max(8, Math.floor((width - 70) / 2));
        parts.push(
            "",
            ...wrapText("Fields that differ (wanted = config with overrides, found = live default version):", width, ""),
            "",
            textTable(
                ["TARGET", "FIELD", "WANTED", "FOUND"],
                fields.map((r) => [r[0], r[1], cut(r[2], cell), cut(r[3], cell)]),
            ),
        );
    }
    const reasons = reasonRows(report);
    if (reasons.length > 0) {
        parts.push("", "Not compliant:");
        for (const [target, status, reason] of reasons) parts.push(...wrapText(`${target} ${status}: ${reason}`, width, "  "));
    }
    return `${problem ? `${problem}\n` : ""}${parts.join("\n")}\n`;
}

/** For machines: every finding whole, the counts and the exit code. */
export function renderAuditJson(report: AuditReport): string {
    const count = Object.fromEntries(auditStatuses.map((s) => [s, report.findings.filter((f) => f.status === s).length]));
    return `${JSON.stringify(
        {
            command: "audit",
            startedAt: report.startedAt,
            durationMs: report.durationMs,
            exitCode: auditExitCode(report),
            ...(report.problem ? { problem: report.problem } : {}),
            ...(report.selection ? { selection: report.selection } : {}),
            ...(report.shard ? { shard: report.shard } : {}),
            counts: count,
            targets: report.findings.map((f) => ({
                target: auditLabel(f),
                accountId: f.accountId,
                region: f.region,
                status: f.status,
                overrides: f.sources,
                ...(f.owner !== undefined ? { owner: f.owner } : {}),
                ...(f.documentVersion !== undefined ? { documentVersion: f.documentVersion } : {}),
                ...(f.fields ? { fields: f.fields } : {}),
                ...(f.reason !== undefined ? { reason: f.reason } : {}),
                ...(f.durationMs !== undefined ? { durationMs: f.durationMs } : {}),
            })),
        },
        null,
        2,
    )}\n`;
}

const headline = "### Session Manager preferences: audit";

/** For an issue, a pull-request comment or a job summary. */
export function renderAuditMarkdown(report: AuditReport): string {
    const parts = [headline, ""];
    if (report.problem) {
        parts.push(`**${problemHeadline(report)}: ${report.problem.summary}**`, "");
        if (report.problem.details.length > 0) parts.push(...report.problem.details.map((d) => `- ${inlineCode(d)}`), "");
        parts.push(`**To fix:** ${report.problem.fix}`, "");
        if (report.findings.length === 0) return parts.join("\n");
    }
    const verdict = !report.findings.every((f) => f.status === "compliant")
        ? "**Not every target is compliant**; see below."
        : report.problem
          ? "Every target read is compliant."
          : "Every target is compliant.";
    const quoted = (text: string) => (text ? inlineCode(text) : "");
    parts.push(`${verdict} ${counts(report)}.`, "");
    parts.push(
        markdownTable(
            ["Target", "Status", "Owner", "Overrides"],
            report.findings.map((f) => [auditLabel(f), f.status === "compliant" ? f.status : `**${f.status}**`, quoted(f.owner ?? ""), overridesOf(f)]),
        ),
        "",
    );
    const fields = fieldRows(report);
    if (fields.length > 0) {
        parts.push(
            "#### Fields that differ",
            "",
            "Wanted = the config with its overrides; found = the live default version.",
            "",
            markdownTable(
                ["Target", "Field", "Wanted", "Found"],
                fields.map((r) => [r[0], quoted(r[1]), quoted(r[2]), quoted(r[3])]),
            ),
            "",
        );
    }
    const reasons = reasonRows(report);
    if (reasons.length > 0) parts.push("#### Not compliant", "", markdownTable(["Target", "Status", "Why"], reasons), "");
    return parts.join("\n");
}
