import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import { AdoptionKind, parseAdoptionMessage } from "../core/adoptionPreview";
import { documentResourceSettings } from "../core/document";
import { genericDynamicResourceType, sessionDocumentType } from "../core/names";
import { fieldDifferences, FieldDrift } from "../core/fieldChanges";
import { isPlainObject } from "../core/fieldRules";

export { fieldDifferences } from "../core/fieldChanges";
export type { FieldDrift } from "../core/fieldChanges";

/** What a refresh found for one Session document. */
export interface DocumentDrift {
    /** `<account>/<region>` */
    target: string;
    /** The live document is gone: every field is missing. */
    deleted: boolean;
    fields: FieldDrift[];
}

interface DocumentState {
    accountId?: unknown;
    region?: unknown;
    content?: unknown;
}

/**
 * A Session document resource: its own type, or, in a stack not updated since that type came,
 * the generic dynamic type with a Session document for content.
 */
export function isSessionDocument(type: string | undefined, state: DocumentState | undefined): boolean {
    if (type === sessionDocumentType) return true;
    if (type !== genericDynamicResourceType || !state) return false;
    const content = state.content as { sessionType?: unknown } | undefined;
    return isPlainObject(content) && content.sessionType === "Standard_Stream";
}

function targetKey(state: DocumentState, urn: string): string {
    if (typeof state.accountId === "string" && typeof state.region === "string") return `${state.accountId}/${state.region}`;
    return urn.split("::").pop() ?? urn;
}

/**
 * Drift seen by a refresh preview, from its engine events. Wanted is the content the
 * program last declared (the resource's recorded inputs: a refresh does not rewrite them),
 * found is the content `read` returned from the live default version.
 */
export function driftFromRefreshEvents(events: readonly EngineEvent[]): DocumentDrift[] {
    const steps = new Map<string, StepEventMetadata>();
    for (const event of events) {
        // The outputs event of a step carries the refreshed state when the pre event does not.
        const metadata = event.resOutputsEvent?.metadata ?? event.resourcePreEvent?.metadata;
        if (!metadata) continue;
        const previous = steps.get(metadata.urn);
        if (!previous || metadata.new !== undefined || previous.new === undefined) steps.set(metadata.urn, metadata);
    }
    const drifts: DocumentDrift[] = [];
    for (const step of steps.values()) {
        const old = step.old;
        if (!old || !isSessionDocument(old.type, old.inputs as DocumentState)) continue;
        const inputs = old.inputs as DocumentState;
        const target = targetKey(inputs, step.urn);
        const live = step.new?.outputs as DocumentState | undefined;
        if (!live || step.op === "delete") {
            drifts.push({ target, deleted: true, fields: [{ field: "(document)", wanted: "present", found: "deleted" }] });
            continue;
        }
        const fields = fieldDifferences(inputs.content, live.content);
        if (fields.length > 0) drifts.push({ target, deleted: false, fields });
    }
    return drifts.sort((a, b) => a.target.localeCompare(b.target));
}

/** One field `up` would change, current (as the stack will find it) vs wanted (as the config says). */
export interface FieldChange {
    /** `inputs.<key>` inside the document content, or a resource setting such as `onDelete`. */
    field: string;
    current: unknown;
    wanted: unknown;
}

/** What a preview says `up` would do to one Session document. */
export interface DocumentChange {
    /** `<account>/<region>` */
    target: string;
    /** The engine's step: `create` adopts the document that is there, `update` changes it, `delete` releases it. */
    op: string;
    fields: FieldChange[];
    /** The live document differs from what the stack last applied: this `up` puts the wanted content back. */
    repairsDrift: boolean;
    /**
     * For a document the stack does not manage yet (`create`): what the provider found when it
     * looked (core/adoptionPreview.ts), and in one sentence what up does and what destroy gives
     * back. `fields` are then the live document's fields up overwrites.
     */
    adoption?: { kind: AdoptionKind; summary: string };
}

type DocumentInputs = DocumentState & Partial<Record<(typeof documentResourceSettings)[number], unknown>>;

function changedFields(current: DocumentInputs, wanted: DocumentInputs): FieldChange[] {
    const content = fieldDifferences(wanted.content, current.content);
    const settings = documentResourceSettings.flatMap((key) => fieldDifferences(wanted[key], current[key], key));
    return [...content, ...settings].map((d) => ({ field: d.field, current: d.found, wanted: d.wanted }));
}

/**
 * Field-level changes of a preview (run with refresh, as `npm run org -- preview` and `up`
 * do), from its engine events. The refresh steps tell which documents drifted; the steps
 * after them compare the live content (the refreshed state) with what the program wants.
 */
export function changesFromPreviewEvents(events: readonly EngineEvent[]): DocumentChange[] {
    const refreshSteps = events.filter((e) => (e.resOutputsEvent ?? e.resourcePreEvent)?.metadata.op === "refresh");
    const drifted = new Set(driftFromRefreshEvents(refreshSteps).map((d) => d.target));
    const adoptions = new Map<string, NonNullable<ReturnType<typeof parseAdoptionMessage>>>();
    for (const event of events) {
        const adoption = event.diagnosticEvent && parseAdoptionMessage(event.diagnosticEvent.message);
        // The document ID is <account>/<region>/<name>; the target is its first two parts.
        if (adoption) adoptions.set(adoption.document.split("/").slice(0, 2).join("/"), adoption);
    }
    const changes = new Map<string, DocumentChange>();
    for (const event of events) {
        const step = event.resourcePreEvent?.metadata;
        if (!step || step.op === "refresh" || step.op === "same" || step.op === "read") continue;
        const wanted = step.new?.inputs as DocumentInputs | undefined;
        const old = step.old;
        const current: DocumentInputs | undefined = old ? { ...(old.inputs as DocumentInputs), content: (old.outputs as DocumentState).content } : undefined;
        const shape = wanted ?? (old?.inputs as DocumentInputs | undefined);
        if (!isSessionDocument(step.type, shape)) continue;
        const target = targetKey(shape as DocumentState, step.urn);
        const adoption = step.op === "create" ? adoptions.get(target) : undefined;
        const fields = wanted && current && step.op === "update" ? changedFields(current, wanted) : (adoption?.fields ?? []);
        const change: DocumentChange = { target, op: step.op, fields, repairsDrift: drifted.has(target) };
        if (adoption) change.adoption = { kind: adoption.kind, summary: adoption.summary };
        changes.set(step.urn, change);
    }
    return [...changes.values()].sort((a, b) => a.target.localeCompare(b.target));
}
