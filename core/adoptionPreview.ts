/**
 * What the first `up` will do to a Session document the stack does not manage yet, told
 * before it happens. The document provider reads the live document when the engine checks
 * a document it is about to create (at preview as at up), and logs this message to the
 * engine: `pulumi preview` shows it under Diagnostics, and `npm run org -- preview` reads it
 * back into its report, so the first preview names every field the first `up` overwrites
 * (docs/architecture.md).
 */
import { FieldDrift, knownAfterUp, unknownValue } from "./fieldChanges";
import type { OnDelete } from "./settings";

/**
 * - `absent`: there is no document; up creates it.
 * - `adopt`: up adopts the document (records its content for destroy) and applies the config.
 * - `blocked`: up will stop before writing anything (another stack's document, an original gone).
 * - `unread`: the live document could not be read; up adopts whatever it finds then.
 */
export const adoptionKinds = ["absent", "adopt", "blocked", "unread"] as const;
export type AdoptionKind = (typeof adoptionKinds)[number];

/** One field the first up changes: the live value against the config's. */
export interface AdoptionField {
    field: string;
    current: unknown;
    wanted: unknown;
}

export interface AdoptionPreview {
    /** `<account>/<region>/<name>` */
    document: string;
    kind: AdoptionKind;
    /** Fields up changes, current (the live default version) against wanted (the config); empty unless `adopt`. */
    fields: AdoptionField[];
    /** One sentence on what up does and what destroy will give back. */
    summary: string;
}

/** What was found, for {@link adoptionPreview}. */
export interface AdoptionFindings {
    document: string;
    onDelete: OnDelete;
    /** The live default version's number; undefined when there is no document. */
    foundVersion?: string;
    /** The version the document's adopted-version tag names ("none": there was no document), when it has the tag. */
    taggedVersion?: string;
    /** Why up will stop, when it will. */
    blocker?: string;
    /** The content's differences, wanted (config) against found (live). */
    differences: readonly FieldDrift[];
}

function keptFor(onDelete: OnDelete, what: string): string {
    if (onDelete === "restore") return `${what} is kept: destroy puts it back (onDelete: restore)`;
    if (onDelete === "reset") return `${what} is kept in the stack's state; destroy writes the AWS defaults (onDelete: reset)`;
    return `${what} is kept in the stack's state; destroy leaves the applied content (onDelete: retain)`;
}

/** The preview for what the provider found. */
export function adoptionPreview(f: AdoptionFindings): AdoptionPreview {
    const fields = f.differences.map((d) => ({ field: d.field, current: d.found, wanted: d.wanted }));
    if (f.blocker) return { document: f.document, kind: "blocked", fields: [], summary: `up will stop before writing anything: ${f.blocker}` };
    if (f.foundVersion === undefined) {
        const back = f.onDelete === "restore" ? "destroy deletes it again (onDelete: restore)" : `destroy follows onDelete: ${f.onDelete}`;
        return { document: f.document, kind: "absent", fields: [], summary: `there is no document: up creates it, and ${back}` };
    }
    const original =
        f.taggedVersion === undefined
            ? `its current content (version ${f.foundVersion})`
            : f.taggedVersion === "none"
              ? "the record that there was no document before (its adopted-version tag, left by an earlier run)"
              : `version ${f.taggedVersion}, which its adopted-version tag names as the content before this program (left by an earlier run or the stack it takes over from)`;
    const change = fields.length === 0 ? "changes nothing: its content is already the wanted one" : `changes ${fields.length} field(s), current => wanted`;
    return { document: f.document, kind: "adopt", fields, summary: `up adopts it and ${change}; ${keptFor(f.onDelete, original)}` };
}

const head = "SSM document ";
const notManaged = " is not managed by this stack yet ";

function showValue(value: unknown): string {
    if (value === unknownValue) return knownAfterUp;
    return value === undefined ? "(absent)" : JSON.stringify(value);
}

function readValue(text: string): { value: unknown } | undefined {
    if (text === knownAfterUp) return { value: unknownValue };
    if (text === "(absent)") return { value: undefined };
    try {
        return { value: JSON.parse(text) };
    } catch {
        return undefined;
    }
}

/** The message: a first line with the document, the kind and the summary, then one line per field. */
export function adoptionMessage(preview: AdoptionPreview): string {
    const lines = [`${head}${preview.document}${notManaged}(${preview.kind}): ${preview.summary}`];
    for (const f of preview.fields) lines.push(`  ${f.field}: ${showValue(f.current)} => ${showValue(f.wanted)}`);
    return lines.join("\n");
}

const firstLine = new RegExp(`^${head}(\\S+)${notManaged}\\((${adoptionKinds.join("|")})\\): (.*)$`);

/** The field of one line, splitting at the ` => ` where both sides read back as values (a value may itself hold ` => `). */
function parseField(line: string): AdoptionField | undefined {
    const m = /^ {2}(\S+): (.*)$/.exec(line);
    if (!m) return undefined;
    const [, field, rest] = m;
    for (let at = rest.indexOf(" => "); at >= 0; at = rest.indexOf(" => ", at + 1)) {
        const current = readValue(rest.slice(0, at));
        const wanted = readValue(rest.slice(at + 4));
        if (current && wanted) return { field, current: current.value, wanted: wanted.value };
    }
    return undefined;
}

/** The adoption preview a message of engine output reports, if it is one. */
export function parseAdoptionMessage(text: string): AdoptionPreview | undefined {
    const [first, ...rest] = text.replace(/\s+$/, "").split("\n");
    const m = firstLine.exec(first);
    if (!m) return undefined;
    const fields: AdoptionField[] = [];
    for (const line of rest) {
        const field = parseField(line);
        if (!field) return undefined;
        fields.push(field);
    }
    return { document: m[1], kind: m[2] as AdoptionKind, summary: m[3], fields };
}
