import type { DocumentRelease } from "../core/release";
import type { DocumentChange, DocumentDrift } from "./drift";
import type { Sources } from "../core/overrides";

export const commands = ["preview", "up", "refresh", "drift", "destroy", "prune"] as const;
export type Command = (typeof commands)[number];

/**
 * How one target ended. `drifted`, `in sync` and `not deployed` are drift outcomes;
 * `not deployed` also ends refresh and destroy of a target that has no stack yet.
 */
export const outcomes = ["succeeded", "failed", "drifted", "in sync", "not deployed"] as const;
export type Outcome = (typeof outcomes)[number];

/**
 * What `audit` found at one account and Region (orchestrator/audit.ts): the live document as
 * the config wants it, edited, absent, tagged by an owner this config's deployments would not
 * write, or not readable at all.
 */
export const auditStatuses = ["compliant", "drifted", "missing", "owned by another", "unreachable"] as const;
export type AuditStatus = (typeof auditStatuses)[number];

export interface TargetResult {
    stackName: string;
    accountId: string;
    /** The stack's Region, or the first of `regions`. */
    region: string;
    /** Every Region of a stack per account. */
    regions?: string[];
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
    /** By Region: the document preferences sessionManager:overrides sets there, and which override. */
    overrides?: Record<string, Sources>;
    /** What the run did differently from what was asked, and why (e.g. a preview that could not refresh read-only). */
    warnings?: string[];
}

/**
 * Why a command ran no target at all: caught once, before any target, so the report (and
 * the pull-request comment or drift issue made from it) says what failed and how to fix it.
 */
export interface RunProblem {
    /** What failed: the command line, the configuration, the Pulumi CLI, the backend, or access to the target accounts. */
    kind: "usage" | "config" | "cli" | "backend" | "access" | "shards";
    /** One line on what failed. */
    summary: string;
    /** One line per problem found (each key, each account). */
    details: string[];
    /** What to do about it. */
    fix: string;
}

export interface RolloutReport {
    command: Command;
    /** Set when nothing was run: then there are no results. */
    problem?: RunProblem;
    startedAt: string;
    durationMs: number;
    results: TargetResult[];
    /**
     * Stacks with the prefix that are no longer targets (removed from the config or
     * excluded): `prune` releases their documents and removes them.
     */
    staleStacks?: string[];
    /** The flags, as given, that chose the stacks (`--config`, `--stack-prefix`, ...): the commands the report suggests repeat them. */
    selection?: string[];
    /** `--shard k/n`: the report covers only that shard's accounts. */
    shard?: { index: number; count: number };
}

/** Exit codes, so CI can tell "something broke" from "the organization drifted". */
export const exitCodes = {
    ok: 0,
    /** A target failed, or the config is invalid, or nothing could run (no CLI, backend or access). */
    failed: 1,
    /** drift: every target was checked and at least one differs from its stack. */
    drifted: 2,
    /** The command line is wrong (an unknown flag or command, a missing config file). */
    usage: 64,
} as const;

/** Failures win over drift: a check that could not look everywhere is not a clean result. */
export function exitCodeFor(report: Pick<RolloutReport, "command" | "results" | "problem">): number {
    if (report.problem) return report.problem.kind === "usage" ? exitCodes.usage : exitCodes.failed;
    if (report.results.some((r) => r.outcome === "failed")) return exitCodes.failed;
    // A target in the config without a stack has none of the wanted preferences applied.
    if (report.command === "drift" && report.results.some((r) => r.outcome === "drifted" || r.outcome === "not deployed")) return exitCodes.drifted;
    return exitCodes.ok;
}
