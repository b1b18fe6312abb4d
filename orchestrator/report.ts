import * as path from "node:path";
import { formatDuration, markdownTable, textTable } from "./format";
import { orgCommand } from "./commandLine";
import { fitWidth } from "./progress";
import { exitCodeFor, RolloutReport, RunProblem, TargetResult } from "./result";
import { knownAfterUp, unknownValue } from "../core/fieldChanges";
import type { DocumentChange } from "./drift";
import { describeSources } from "../core/overrides";

function targetLabel(r: TargetResult): string {
    // A stack named by --stack, fanning out over whatever its own config says.
    if (!r.accountId) return r.stackName;
    return `${r.accountId}/${(r.regions ?? [r.region]).join(",")}`;
}

/** A value as it appears in a document, quoted when it is text so "" and "20" read unambiguously. */
export function showValue(value: unknown): string {
    if (value === undefined) return "(absent)";
    if (value === unknownValue) return knownAfterUp;
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

/** What a step without field rows does, in words. */
const stepWords: Record<string, string> = {
    create: "(adopt, then apply)",
    delete: "(release per onDelete)",
    replace: "(release, adopt again)",
};

/** What a document not managed yet gets, in words, when no field changes. */
const adoptionWords: Record<NonNullable<DocumentChange["adoption"]>["kind"], string> = {
    absent: "(create: no document yet)",
    adopt: "(adopt: already as wanted)",
    blocked: "(up will stop: see below)",
    unread: "(adopt, then apply: not read)",
};

const notes = { drift: "repairs drift", adopts: "adopts" } as const;

function noteFor(d: DocumentChange): string {
    if (d.repairsDrift) return notes.drift;
    return d.adoption?.kind === "adopt" ? notes.adopts : "";
}

/** Preview and up: one row per changed field (target, field, current, wanted, note), with the target's drift or adoption marked. */
function changeRows(report: RolloutReport): string[][] {
    return report.results.flatMap((r) =>
        (r.documentChanges ?? []).flatMap((d) => {
            const note = noteFor(d);
            if (d.fields.length === 0) {
                const words = d.adoption ? adoptionWords[d.adoption.kind] : (stepWords[d.op] ?? `(${d.op})`);
                return [[d.target, words, "", "", note]];
            }
            return d.fields.map((f) => [d.target, f.field, showValue(f.current), showValue(f.wanted), note]);
        }),
    );
}

/** Documents not managed yet: what the first up does to each, and what destroy gives back. */
function adoptionRows(report: RolloutReport): string[][] {
    return report.results.flatMap((r) => (r.documentChanges ?? []).flatMap((d) => (d.adoption ? [[d.target, d.adoption.summary]] : [])));
}

const marks: Record<string, string> = { [notes.drift]: " *", [notes.adopts]: " +" };
const footnotes: Record<string, string> = {
    [notes.drift]: "* drifted: edited outside the stack; up puts the config back.",
    [notes.adopts]: "+ not managed yet: up adopts the document; its current content is kept for destroy (see below).",
};

/**
 * Rows with two value columns (at 2 and 3) cut so the table fits `width`; the JSON report
 * has them whole.
 */
function fitValueColumns(head: string[], rows: string[][], width: number | undefined): string[][] {
    if (width === undefined) return rows;
    const widthOf = (i: number) => Math.max(...[head, ...rows].map((r) => (r[i] ?? "").length));
    const fixed = head.reduce((n, _, i) => (i === 2 || i === 3 ? n : n + widthOf(i) + 2), 0) + 4;
    const cell = Math.max(8, Math.floor((width - fixed) / 2));
    return rows.map((r) => r.map((c, i) => (i === 2 || i === 3 ? fitWidth(c, cell) : c)));
}

/** Preview and up: one row per account and Region with overrides, naming the override of each field it changes. */
function overrideRows(report: RolloutReport): string[][] {
    if (report.command !== "preview" && report.command !== "up") return [];
    return report.results.flatMap((r) => Object.entries(r.overrides ?? {}).map(([region, sources]) => [`${r.accountId}/${region}`, describeSources(sources)]));
}

/** Destroy and prune: one row per document, what its release did. */
function releaseRows(report: RolloutReport): string[][] {
    return report.results.flatMap((r) => (r.released ?? []).map((d) => [d.document, d.kind === "left to its owner" ? `${d.kind} ${d.owner}` : d.kind]));
}

export interface TextOptions {
    /**
     * The terminal's width, when the text goes to one: tables then fit in it (the STACK
     * column goes first, then drift values are cut) and failure messages are wrapped.
     * Undefined (CI logs, files): everything whole.
     */
    columns?: number;
}

const widest = (lines: string) => Math.max(0, ...lines.split("\n").map((l) => l.length));

/** Words of `text` in lines of at most `width` characters, each starting with `indent`. */
export function wrapText(text: string, width: number | undefined, indent: string): string[] {
    if (width === undefined) return [`${indent}${text}`];
    const room = Math.max(20, width - indent.length);
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(/\s+/).filter(Boolean)) {
        // A word longer than a line (a path, an ARN) is cut into pieces.
        for (let rest = word; rest.length > 0;) {
            const piece = rest.slice(0, room);
            rest = rest.slice(room);
            if (line && line.length + 1 + piece.length > room) {
                lines.push(line);
                line = "";
            }
            line = line ? `${line} ${piece}` : piece;
        }
    }
    if (line || lines.length === 0) lines.push(line);
    return lines.map((l) => `${indent}${l}`);
}

/** The log file as the shorter of its absolute path and its path from the working directory. */
function shortPath(file: string): string {
    const relative = path.relative(process.cwd(), file);
    return relative && relative.length < file.length ? relative : file;
}

/** `org.<account>.<region>` for the summary's header when the STACK column is left out. */
function stackPattern(report: RolloutReport): string {
    const r = report.results[0];
    const [suffix, pattern] = r.regions ? [`.${r.accountId}`, ".<account>"] : [`.${r.accountId}.${r.region}`, ".<account>.<region>"];
    return r.stackName.endsWith(suffix) ? `${r.stackName.slice(0, -suffix.length)}${pattern}` : `<prefix>${pattern}`;
}

/** The sentence that opens a report of a command that ran nothing. */
function problemHeadline(problem: RunProblem): string {
    return `Nothing was run: ${problem.summary}`;
}

/** A command that ran nothing: what failed, each problem, and the fix. */
function renderProblemText(report: RolloutReport, problem: RunProblem, width: number | undefined): string {
    const lines = [...wrapText(`${report.command}: ${problemHeadline(problem)}`, width, "")];
    for (const detail of problem.details) lines.push(...wrapText(detail, width, "  - ").map((l, i) => (i === 0 ? l : `    ${l.slice(4)}`)));
    lines.push(...wrapText(`To fix: ${problem.fix}`, width, ""));
    return `${lines.join("\n")}\n`;
}

/** The summary printed at the end of every command, then the drift details and failures. */
export function renderText(report: RolloutReport, options: TextOptions = {}): string {
    // One column short of the terminal: a line that reaches the last column may wrap.
    const width = options.columns === undefined ? undefined : options.columns - 1;
    if (report.problem && report.results.length === 0) return renderProblemText(report, report.problem, width);
    // A merge of shards where some ran nothing: what failed first, then what the others found.
    if (report.problem) return `${renderProblemText(report, report.problem, width)}\n${renderText({ ...report, problem: undefined }, options)}`;
    const changed = report.command === "drift" ? "DRIFTED DOCS" : "CHANGED";
    const parts = [`${report.command}: ${counts(report)}`, ""];
    let table = textTable(
        ["TARGET", "STACK", "RESULT", changed, "DURATION"],
        report.results.map((r) => [targetLabel(r), r.stackName, r.outcome, String(r.changes), formatDuration(r.durationMs)]),
    );
    if (width !== undefined && widest(table) > width && report.results.length > 0) {
        // The stack name follows from the target; say how once instead of a column per row.
        table = textTable(
            ["TARGET", "RESULT", changed, "DURATION"],
            report.results.map((r) => [targetLabel(r), r.outcome, String(r.changes), formatDuration(r.durationMs)]),
        );
        parts.splice(1, 0, `stacks: ${stackPattern(report)}`);
    }
    parts.push(table);
    const drift = driftRows(report);
    if (drift.length > 0) {
        const head = ["TARGET", "FIELD", "WANTED", "FOUND"];
        parts.push("", "Drift (wanted = applied by the stack, found = live default version):", "", textTable(head, fitValueColumns(head, drift, width)));
    }
    const changes = changeRows(report);
    if (changes.length > 0) {
        // A mark on the target instead of a note column: the table has to fit 80 columns.
        const head = ["TARGET", "FIELD", "CURRENT", "WANTED"];
        const rows = changes.map(([target, field, current, wanted, note]) => [`${target}${marks[note] ?? ""}`, field, current, wanted]);
        const title =
            report.command === "preview"
                ? "What up would change (current = live document, wanted = config):"
                : "Changed (current = live document before, wanted = config):";
        parts.push("", title, "", textTable(head, fitValueColumns(head, rows, width)));
        for (const note of Object.keys(footnotes)) if (changes.some((r) => r[4] === note)) parts.push(...wrapText(footnotes[note], width, ""));
    }
    const overridden = overrideRows(report);
    if (overridden.length > 0) {
        parts.push("", "Overrides (sessionManager:overrides; every other field is the base setting):");
        for (const [target, fields] of overridden) parts.push(...wrapText(`${target}: ${fields}`, width, "  "));
    }
    const adoptions = adoptionRows(report);
    if (adoptions.length > 0) {
        parts.push("", "Not managed yet (what up does, and what destroy gives back):");
        for (const [target, summary] of adoptions) parts.push(...wrapText(`${target}: ${summary}`, width, "  "));
    }
    const released = releaseRows(report);
    if (released.length > 0) {
        const room = width === undefined ? undefined : Math.max(12, width - Math.max(...released.map((r) => r[0].length)) - 2);
        const rows = room === undefined ? released : released.map((r) => [r[0], fitWidth(r[1], room)]);
        parts.push("", "Documents (as each stack's onDelete says, unless taken over):", "", textTable(["DOCUMENT", "RELEASED"], rows));
    }
    if (report.staleStacks?.length) {
        parts.push(
            "",
            ...wrapText(
                `Stacks no longer targets (${orgCommand("prune", report.selection)} releases and removes them): ${report.staleStacks.join(", ")}`,
                width,
                "",
            ),
        );
    }
    const warned = report.results.filter((r) => r.warnings?.length);
    if (warned.length > 0) {
        parts.push("", "Notes:");
        for (const r of warned) for (const w of r.warnings ?? []) parts.push(...wrapText(`${targetLabel(r)}: ${w}`, width, "  "));
    }
    const failed = report.results.filter((r) => r.outcome === "failed");
    if (failed.length > 0) {
        parts.push("", "Failures:");
        for (const r of failed)
            parts.push(
                ...wrapText(`${targetLabel(r)}: ${r.error ?? "failed"}`, width, "  "),
                `    log: ${width === undefined ? r.logFile : shortPath(r.logFile)}`,
            );
    }
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
            ...(report.problem !== undefined ? { problem: report.problem } : {}),
            ...(report.staleStacks !== undefined ? { staleStacks: report.staleStacks } : {}),
            ...(report.selection !== undefined ? { selection: report.selection } : {}),
            ...(report.shard !== undefined ? { shard: report.shard } : {}),
            targets: report.results.map((r) => ({
                target: targetLabel(r),
                accountId: r.accountId,
                region: r.region,
                ...(r.regions !== undefined ? { regions: r.regions } : {}),
                stack: r.stackName,
                result: r.outcome,
                changes: r.changes,
                changeSummary: r.changeSummary,
                durationMs: r.durationMs,
                logFile: r.logFile,
                ...(r.error !== undefined ? { error: r.error } : {}),
                ...(r.drift !== undefined ? { drift: r.drift } : {}),
                ...(r.documentChanges !== undefined ? { documentChanges: r.documentChanges } : {}),
                ...(r.released !== undefined ? { released: r.released } : {}),
                ...(r.overrides !== undefined ? { overrides: r.overrides } : {}),
                ...(r.warnings !== undefined ? { warnings: r.warnings } : {}),
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
    prune: "Session Manager preferences: prune",
};

/** A `####` section with an optional paragraph and a table; nothing when there are no rows. */
function markdownSection(heading: string, paragraphs: string[], head: string[], rows: string[][]): string[] {
    if (rows.length === 0) return [];
    return [`#### ${heading}`, "", ...paragraphs.flatMap((p) => [p, ""]), markdownTable(head, rows), ""];
}

/** Text as one Markdown code span, whatever backticks it holds. */
export function inlineCode(text: string): string {
    const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
    const fence = "`".repeat(longest + 1);
    return longest > 0 ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`;
}

/** A command that ran nothing, for the pull-request comment or the drift issue: never an empty body. */
function renderProblemMarkdown(report: RolloutReport, problem: RunProblem): string {
    const parts = [`### ${headline[report.command]}`, "", `**${problemHeadline(problem)}**`, ""];
    if (problem.details.length > 0) parts.push(...problem.details.map((d) => `- ${inlineCode(d)}`), "");
    parts.push(`**To fix:** ${problem.fix}`, "");
    return `${parts.join("\n")}`;
}

/** For a pull-request comment or an issue body. */
export function renderMarkdown(report: RolloutReport): string {
    if (report.problem && report.results.length === 0) return renderProblemMarkdown(report, report.problem);
    if (report.problem) {
        const rest = renderMarkdown({ ...report, problem: undefined });
        // The problem goes under the one headline, before the other shards' results.
        return `${renderProblemMarkdown(report, report.problem)}\n${rest.slice(rest.indexOf("\n") + 1).replace(/^\n/, "")}`;
    }
    const code = exitCodeFor(report);
    const verdict =
        report.command === "drift"
            ? code === 0
                ? "All targets match their stacks."
                : code === 2
                  ? `**Drift found.** Run \`${orgCommand("up", report.selection)}\` to put the wanted preferences back, or change the config to accept what is live.`
                  : "**The check failed for some targets**; see below."
            : code === 0
              ? "All targets succeeded."
              : "**Some targets failed**; see below.";
    const parts = [`### ${headline[report.command]}`, "", `${verdict} ${counts(report)}.`, ""];
    if (report.staleStacks?.length) {
        parts.push(
            `**${report.staleStacks.length} stack(s) are no longer targets** (removed from the config or excluded) and still manage their documents: ${report.staleStacks.map((s) => `\`${s}\``).join(", ")}. \`${orgCommand("prune", report.selection)}\` releases each document as its \`onDelete\` says and removes them.`,
            "",
        );
    }
    const quoted = (text: string) => text && `\`${text}\``;
    const drift = driftRows(report);
    parts.push(
        ...markdownSection(
            "Drift",
            [],
            ["Target", "Field", "Wanted", "Found"],
            drift.map((r) => [r[0], quoted(r[1]), quoted(r[2]), quoted(r[3])]),
        ),
    );
    const changes = changeRows(report);
    const paragraphs = [
        ...(changes.some((r) => r[4] === notes.drift)
            ? ["Targets marked *repairs drift* were edited outside the stack; `up` puts the config back there."]
            : []),
        ...(changes.some((r) => r[4] === notes.adopts)
            ? [
                  "Targets marked *adopts* hold a document this rollout does not manage yet: `up` overwrites the fields listed, and keeps the current content for `destroy` (see *Not managed yet*).",
              ]
            : []),
    ];
    parts.push(
        ...markdownSection(
            report.command === "preview" ? "What `up` would change" : "Changed",
            paragraphs,
            ["Target", "Field", "Current", "Wanted", "Note"],
            changes.map((r) => [r[0], r[1].startsWith("(") ? r[1] : quoted(r[1]), quoted(r[2]), quoted(r[3]), r[4] && `*${r[4]}*`]),
        ),
    );
    parts.push(
        ...markdownSection(
            "Overrides",
            ["Fields that `sessionManager:overrides` sets for these targets; every other field is the base setting."],
            ["Target", "Fields from overrides"],
            overrideRows(report),
        ),
    );
    parts.push(...markdownSection("Not managed yet", [], ["Target", "What up does"], adoptionRows(report)));
    const released = releaseRows(report);
    parts.push(
        ...markdownSection(
            "Documents",
            [],
            ["Document", "Released"],
            released.map((r) => [quoted(r[0]), r[1]]),
        ),
    );
    parts.push(
        ...markdownSection(
            "Notes",
            [],
            ["Target", "Note"],
            report.results.flatMap((r) => (r.warnings ?? []).map((w) => [targetLabel(r), w])),
        ),
    );
    const changed = report.command === "drift" ? "Drifted documents" : "Resources changed";
    parts.push(
        markdownTable(
            ["Target", "Stack", "Result", changed, "Duration"],
            report.results.map((r) => [
                targetLabel(r),
                `\`${r.stackName}\``,
                r.outcome === "failed" ? `**failed**: ${r.error ?? ""}` : r.outcome,
                String(r.changes),
                formatDuration(r.durationMs),
            ]),
        ),
    );
    return `${parts.join("\n")}\n`;
}
