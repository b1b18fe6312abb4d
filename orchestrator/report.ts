import { formatDuration, markdownTable, textTable } from "./format";
import { exitCodeFor, RolloutReport, TargetResult } from "./result";

function targetLabel(r: TargetResult): string {
    return `${r.accountId}/${r.region}`;
}

/** A value as it appears in a document, quoted when it is text so "" and "20" read unambiguously. */
export function showValue(value: unknown): string {
    if (value === undefined) return "(absent)";
    return JSON.stringify(value);
}

function counts(report: RolloutReport): string {
    const byOutcome = new Map<string, number>();
    for (const r of report.results) byOutcome.set(r.outcome, (byOutcome.get(r.outcome) ?? 0) + 1);
    const parts = [...byOutcome.entries()].map(([o, n]) => `${n} ${o}`);
    return `${report.results.length} targets: ${parts.join(", ") || "none"}; ${formatDuration(report.durationMs)}`;
}

function driftRows(report: RolloutReport): string[][] {
    return report.results.flatMap((r) =>
        r.outcome === "not deployed" && report.command === "drift"
            ? [[targetLabel(r), "(stack)", "deployed", "no stack"]]
            : (r.drift ?? []).flatMap((d) => d.fields.map((f) => [d.target, f.field, showValue(f.wanted), showValue(f.found)])),
    );
}

/** The summary printed at the end of every command, then the drift details and failures. */
export function renderText(report: RolloutReport): string {
    const rows = report.results.map((r) => [targetLabel(r), r.stackName, r.outcome, String(r.changes), formatDuration(r.durationMs)]);
    const changed = report.command === "drift" ? "DRIFTED DOCS" : "CHANGED";
    const parts = [`${report.command}: ${counts(report)}`, "", textTable(["TARGET", "STACK", "RESULT", changed, "DURATION"], rows)];
    const drift = driftRows(report);
    if (drift.length > 0) parts.push("", "Drift (wanted = applied by the stack, found = live default version):", "", textTable(["TARGET", "FIELD", "WANTED", "FOUND"], drift));
    const failed = report.results.filter((r) => r.outcome === "failed");
    if (failed.length > 0) parts.push("", "Failures:", ...failed.map((r) => `  ${targetLabel(r)}: ${r.error ?? "failed"}\n    log: ${r.logFile}`));
    return `${parts.join("\n")}\n`;
}

/** For machines: everything in the table plus the engine's per-op counts and the exit code. */
export function renderJson(report: RolloutReport): string {
    return `${JSON.stringify(
        {
            command: report.command,
            startedAt: report.startedAt,
            durationMs: report.durationMs,
            exitCode: exitCodeFor(report),
            targets: report.results.map((r) => ({
                target: targetLabel(r),
                accountId: r.accountId,
                region: r.region,
                stack: r.stackName,
                result: r.outcome,
                changes: r.changes,
                changeSummary: r.changeSummary,
                durationMs: r.durationMs,
                logFile: r.logFile,
                ...(r.error !== undefined ? { error: r.error } : {}),
                ...(r.drift !== undefined ? { drift: r.drift } : {}),
            })),
        },
        null,
        2,
    )}\n`;
}

const headline: Record<RolloutReport["command"], string> = {
    preview: "Session Manager preferences: preview",
    up: "Session Manager preferences: update",
    refresh: "Session Manager preferences: refresh",
    drift: "Session Manager preferences: drift check",
    destroy: "Session Manager preferences: destroy",
};

/** For a pull-request comment or an issue body. */
export function renderMarkdown(report: RolloutReport): string {
    const code = exitCodeFor(report);
    const verdict =
        report.command === "drift"
            ? code === 0
                ? "All targets match their stacks."
                : code === 2
                  ? "**Drift found.** Run `npm run org -- up` to put the wanted preferences back, or change the config to accept what is live."
                  : "**The check failed for some targets**; see below."
            : code === 0
              ? "All targets succeeded."
              : "**Some targets failed**; see below.";
    const parts = [`### ${headline[report.command]}`, "", `${verdict} ${counts(report)}.`, ""];
    const drift = driftRows(report);
    if (drift.length > 0) parts.push("#### Drift", "", markdownTable(["Target", "Field", "Wanted", "Found"], drift.map((r) => [r[0], `\`${r[1]}\``, `\`${r[2]}\``, `\`${r[3]}\``])), "");
    const changed = report.command === "drift" ? "Drifted documents" : "Resources changed";
    parts.push(
        markdownTable(
            ["Target", "Stack", "Result", changed, "Duration"],
            report.results.map((r) => [targetLabel(r), `\`${r.stackName}\``, r.outcome === "failed" ? `**failed**: ${r.error ?? ""}` : r.outcome, String(r.changes), formatDuration(r.durationMs)]),
        ),
    );
    return `${parts.join("\n")}\n`;
}
