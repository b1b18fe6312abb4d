import type { DocumentRelease } from "../core/release";
import { DocumentChange, DocumentDrift } from "./drift";

export const commands = ["preview", "up", "refresh", "drift", "destroy", "prune"] as const;
export type Command = (typeof commands)[number];

/**
 * How one target ended. `drifted`, `in sync` and `not deployed` are drift outcomes;
 * `not deployed` also ends refresh and destroy of a target that has no stack yet.
 */
export const outcomes = ["succeeded", "failed", "drifted", "in sync", "not deployed"] as const;
export type Outcome = (typeof outcomes)[number];

export interface TargetResult {
    stackName: string;
    accountId: string;
    region: string;
    outcome: Outcome;
    /** Resources the operation created, updated, replaced or deleted (or would, for previews). */
    changes: number;
    /** The engine's count per operation, e.g. { same: 2, update: 1 }. */
    changeSummary: Record<string, number>;
    durationMs: number;
    logFile: string;
    /** The engine's error lines, when the target failed. */
    error?: string;
    /** For drift: the documents whose live content differs from what was applied. */
    drift?: DocumentDrift[];
    /** For preview and up: each Session document's changed fields, current vs wanted, and whether it drifted. */
    documentChanges?: DocumentChange[];
    /** For destroy and prune: what became of each document (restored, reset, retained, left to its owner...). */
    released?: DocumentRelease[];
}

export interface RolloutReport {
    command: Command;
    startedAt: string;
    durationMs: number;
    results: TargetResult[];
    /**
     * Stacks with the prefix that are no longer targets (removed from the config or
     * excluded): `prune` releases their documents and removes them.
     */
    staleStacks?: string[];
}

/** Exit codes, so CI can tell "something broke" from "the organization drifted". */
export const exitCodes = {
    ok: 0,
    /** A target failed, or the config or flags are invalid. */
    failed: 1,
    /** drift: every target was checked and at least one differs from its stack. */
    drifted: 2,
} as const;

/** Failures win over drift: a check that could not look everywhere is not a clean result. */
export function exitCodeFor(report: Pick<RolloutReport, "command" | "results">): number {
    if (report.results.some((r) => r.outcome === "failed")) return exitCodes.failed;
    // A target in the config without a stack has none of the wanted preferences applied.
    if (report.command === "drift" && report.results.some((r) => r.outcome === "drifted" || r.outcome === "not deployed")) return exitCodes.drifted;
    return exitCodes.ok;
}
