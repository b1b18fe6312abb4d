/** `850ms`, `12.3s`, `4m05s`: short enough for a table column, precise enough to compare. */
export function formatDuration(ms: number): string {
    if (ms < 1000) return `${Math.round(ms)}ms`;
    if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
    const minutes = Math.floor(ms / 60_000);
    const seconds = Math.round((ms % 60_000) / 1000);
    return seconds === 60 ? `${minutes + 1}m00s` : `${minutes}m${String(seconds).padStart(2, "0")}s`;
}

/** A plain-text table: columns padded to their widest cell, a rule under the header. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
    const line = (cells: readonly string[]) =>
        cells
            .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
            .join("  ")
            .trimEnd();
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A GitHub-flavoured Markdown table; pipes and newlines in cells would break the row. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
    const cell = (c: string) => c.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
    const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
