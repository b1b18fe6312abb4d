// `npm run org -- regroup`: moves every document of the prefix's stacks from stacks of one
// granularity (sessionManager:stackGranularity) to stacks of the other, by moving state
// (`pulumi state move`), never by deleting and creating: the document is not touched, and the
// adoption record (the original that destroy gives back) moves with it. docs/organization-rollout.md
// says when to use it.
import type { Deployment } from "@pulumi/pulumi/automation";
import { OrgTarget, stackNameFor } from "./targets";
import { RolloutWorkspace } from "./workspace";

interface StateResource {
    urn: string;
    type: string;
    id?: string;
    parent?: string;
    provider?: string;
}

/** One target's resources (its component and, under it, everything else) in one stack. */
export interface Move {
    source: string;
    destination: string;
    /** The component's URN in the source stack. */
    urn: string;
}

/** A regroup that cannot be done as the config stands: nothing was moved. */
export class RegroupError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RegroupError";
    }
}

const rootType = "pulumi:pulumi:Stack";
const isProvider = (r: StateResource) => r.type.startsWith("pulumi:providers:");

async function resourcesOf(workspace: RolloutWorkspace, stackName: string): Promise<StateResource[]> {
    const state = await workspace.exportState(stackName);
    return ((state.deployment as { resources?: StateResource[] } | undefined)?.resources ?? []).filter((r) => r.urn);
}

/** The URN a resource of one stack has in another (the stack is the URN's third field). */
export function urnIn(urn: string, stackName: string): string {
    const parts = urn.split("::");
    parts[0] = `urn:pulumi:${stackName}`;
    return parts.join("::");
}

/**
 * The moves that put each target's resources into the stack the config's granularity names.
 * A stack's top-level components are its targets, each named `<account>-<region>` (core/plan.ts
 * targetName). Throws RegroupError, before anything moves, when a document would go to a stack
 * that is not a target (its account or Region left the config).
 */
export async function planMoves(workspace: RolloutWorkspace, sources: readonly OrgTarget[], targets: readonly OrgTarget[], prefix: string): Promise<Move[]> {
    const wanted = new Set(targets.map((t) => t.stackName));
    const perAccount = targets.some((t) => t.regions !== undefined);
    const moves: Move[] = [];
    const orphans: string[] = [];
    for (const source of sources) {
        const resources = await resourcesOf(workspace, source.stackName);
        const root = resources.find((r) => r.type === rootType)?.urn;
        for (const r of resources.filter((x) => x.parent === root && x.type !== rootType && !isProvider(x))) {
            const name = r.urn.split("::").pop() ?? "";
            const region = name.startsWith(`${source.accountId}-`) ? name.slice(source.accountId.length + 1) : undefined;
            if (!region) throw new RegroupError(`${source.stackName}: ${r.urn} is not a target's component (<account>-<region>); move it by hand`);
            const destination = perAccount ? stackNameFor(prefix, source.accountId) : stackNameFor(prefix, source.accountId, region);
            if (!wanted.has(destination)) orphans.push(`${source.stackName} (${source.accountId}/${region})`);
            else moves.push({ source: source.stackName, destination, urn: r.urn });
        }
    }
    if (orphans.length > 0) {
        throw new RegroupError(
            `these documents are no longer targets of the config, so no stack of the new granularity takes them: ${orphans.join(", ")}. ` +
                "Put them back in the config to move them, or release them first: set stackGranularity back, run prune, then regroup",
        );
    }
    return moves;
}

/**
 * Carries out the moves, one source stack at a time, and removes each source once it holds
 * nothing but its providers. `prepare` creates a destination stack and writes its config.
 * Run again after an interruption, it finishes the job: a component already in its
 * destination (the move wrote the destination and was stopped before the source) is only
 * dropped from the source.
 */
export async function regroupStacks(
    workspace: RolloutWorkspace,
    sources: readonly string[],
    moves: readonly Move[],
    prepare: (destination: string) => Promise<void>,
    say: (line: string) => void,
): Promise<void> {
    const prepared = new Set<string>();
    for (const source of sources) {
        for (const move of moves.filter((m) => m.source === source)) {
            if (!prepared.has(move.destination)) {
                await prepare(move.destination);
                prepared.add(move.destination);
            }
            const inDestination = await resourcesOf(workspace, move.destination);
            if (inDestination.some((r) => r.urn === urnIn(move.urn, move.destination))) await dropSubtree(workspace, source, move.urn);
            else {
                await alignProviders(workspace, source, inDestination, move.destination);
                await workspace.cli(["state", "move", "--source", source, "--dest", move.destination, "--yes", "--non-interactive", move.urn]);
            }
            say(`regroup: ${move.urn.split("::").pop()} moved from ${source} to ${move.destination}`);
        }
        const left = (await resourcesOf(workspace, source)).filter((r) => r.type !== rootType && !isProvider(r));
        if (left.length > 0) throw new RegroupError(`${source} still holds ${left.map((r) => r.urn).join(", ")} after the move; it was kept`);
        await workspace.removeStack(source, { force: true });
        say(`regroup: ${source} removed (it held no document any more)`);
    }
}

/**
 * Gives the source's providers that the destination also has (by name: the default providers,
 * whose inputs are each stack's config and so differ) the destination's IDs, in the source's
 * state, so that `pulumi state move` finds them the same provider and points the moved
 * resources at the destination's instead of refusing the move. A provider's ID is an
 * arbitrary UUID of its stack; the destination's next `up` gives its provider the new inputs.
 */
async function alignProviders(workspace: RolloutWorkspace, source: string, inDestination: readonly StateResource[], destination: string): Promise<void> {
    const destinationIds = new Map(inDestination.filter(isProvider).map((r) => [r.urn, r.id]));
    const state = await workspace.exportState(source);
    const resources = (state.deployment as { resources?: StateResource[] }).resources ?? [];
    const renamed = new Map<string, string>();
    for (const r of resources.filter(isProvider)) {
        const id = destinationIds.get(urnIn(r.urn, destination));
        if (id !== undefined && id !== r.id) {
            renamed.set(`${r.urn}::${r.id}`, `${r.urn}::${id}`);
            r.id = id;
        }
    }
    if (renamed.size === 0) return;
    for (const r of resources) if (r.provider && renamed.has(r.provider)) r.provider = renamed.get(r.provider);
    await workspace.importState(source, state as unknown as Deployment);
}

/** Drops a component and everything under it from a stack's state (it is already in its destination). */
async function dropSubtree(workspace: RolloutWorkspace, stackName: string, urn: string): Promise<void> {
    const state = await workspace.exportState(stackName);
    const deployment = state.deployment as { resources?: StateResource[] };
    const resources = deployment.resources ?? [];
    const dropped = new Set([urn]);
    // Parents come before their children in a state.
    for (const r of resources) if (r.parent && dropped.has(r.parent)) dropped.add(r.urn);
    deployment.resources = resources.filter((r) => !dropped.has(r.urn));
    await workspace.importState(stackName, state as unknown as Deployment);
}
