import { formatDuration } from "./format";
import { AuditStatus, auditStatuses, Outcome, outcomes } from "./result";

/** Where a target is in its run: waiting, under way, or ended with one of the outcomes, or an audit's status (orchestrator/result.ts). */
export type TargetState = "queued" | "preparing" | "running" | Outcome | AuditStatus;

const finalStates: readonly TargetState[] = [...outcomes, ...auditStatuses];

/** Receives state changes from the runner; the runner does not care how they are shown. */
export interface ProgressListener {
    update(stackName: string, state: TargetState, detail?: string): void;
    finish(): void;
}

export interface ProgressStream {
    write(text: string): boolean;
    isTTY?: boolean;
    rows?: number;
    /** The terminal's width, read at each redraw (it changes when the window is resized). */
    columns?: number;
}

/**
 * `text` cut to at most `width` characters, ending in `…` when cut. One character short of
 * the terminal's width is the most a redrawn line may use: a line that reaches the last
 * column can wrap on some terminals, and a wrapped line throws off the cursor movement that
 * redraws the block in place.
 */
export function fitWidth(text: string, width: number | undefined): string {
    if (width === undefined || width <= 0 || text.length <= width) return text;
    return width === 1 ? "…" : `${text.slice(0, width - 1)}…`;
}

interface Line {
    state: TargetState;
    detail: string;
    startedAt?: number;
    endedAt?: number;
}

/**
 * One line per target with its state and elapsed time. On a terminal the block is
 * redrawn in place every second, each line cut to the terminal's width (details such as
 * an error end in `…`; the summary and the log file have them whole); anywhere else (CI
 * logs, files) each state change is one plain, whole line, because cursor movement would
 * turn a log into noise.
 */
export class Progress implements ProgressListener {
    private readonly lines = new Map<string, Line>();
    private drawn = 0;
    private timer?: NodeJS.Timeout;
    private readonly width: number;

    constructor(
        stackNames: readonly string[],
        private readonly out: ProgressStream,
        private readonly now: () => number = Date.now,
    ) {
        for (const name of stackNames) this.lines.set(name, { state: "queued", detail: "" });
        this.width = Math.max(0, ...stackNames.map((n) => n.length));
        if (this.out.isTTY) {
            this.redraw();
            this.timer = setInterval(() => this.redraw(), 1000);
            this.timer.unref();
        }
    }

    update(stackName: string, state: TargetState, detail = ""): void {
        const line = this.lines.get(stackName);
        if (!line) return;
        if (line.startedAt === undefined && state !== "queued") line.startedAt = this.now();
        if (finalStates.includes(state)) line.endedAt = this.now();
        line.state = state;
        line.detail = detail;
        if (this.out.isTTY) this.redraw();
        // CI logs and files: every line whole, whatever its length.
        else this.out.write(`${this.render(stackName, line)}\n`);
    }

    finish(): void {
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
        if (this.out.isTTY) this.redraw();
    }

    private render(stackName: string, line: Line): string {
        const elapsed = line.startedAt === undefined ? "" : formatDuration((line.endedAt ?? this.now()) - line.startedAt);
        const detail = line.detail ? `  ${line.detail.replace(/\s*\n\s*/g, " ")}` : "";
        return `${stackName.padEnd(this.width)}  ${line.state.padEnd(12)} ${elapsed.padStart(7)}${detail}`.trimEnd();
    }

    /** The lines to draw; a rollout taller than the terminal keeps unfinished targets in view. */
    private visibleLines(): string[] {
        const entries = [...this.lines.entries()];
        const room = Math.max(3, (this.out.rows ?? 50) - 2);
        if (entries.length <= room) return entries.map(([n, l]) => this.render(n, l));
        const active = entries.filter(([, l]) => !finalStates.includes(l.state) && l.state !== "queued");
        const shown = active.slice(0, room - 1);
        const done = entries.filter(([, l]) => finalStates.includes(l.state)).length;
        const queued = entries.filter(([, l]) => l.state === "queued").length;
        return [...shown.map(([n, l]) => this.render(n, l)), `... ${done} done, ${queued} queued, ${entries.length} targets in all`];
    }

    private redraw(): void {
        const columns = this.out.columns;
        const lines = this.visibleLines().map((l) => fitWidth(l, columns === undefined ? undefined : columns - 1));
        // Move to the start of the block drawn last time, then overwrite it line by line.
        let text = this.drawn > 0 ? `\x1b[${this.drawn}F` : "";
        for (const l of lines) text += `\x1b[2K${l}\n`;
        // A shorter block than last time leaves stale lines below: clear them.
        if (lines.length < this.drawn) text += "\x1b[J";
        this.drawn = lines.length;
        this.out.write(text);
    }
}

/** For callers that want no progress output (tests, --quiet). */
export const silentProgress: ProgressListener = { update() {}, finish() {} };
