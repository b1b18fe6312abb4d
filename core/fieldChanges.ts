/**
 * Field-level comparison of two Session document contents, for everything that reports
 * fields: the drift check, a preview's changes, and the adoption preview the document
 * provider gives for a document it does not manage yet.
 */
import { isDeepStrictEqual } from "node:util";
import { isPlainObject } from "./fieldRules";

/**
 * The engine's placeholder for a value not known until apply (Pulumi's `unknownValue`): what
 * a document input holds at preview when it comes from a resource not made yet.
 */
export const unknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** How reports show {@link unknownValue}. */
export const knownAfterUp = "(known after up)";

/** One field whose two values differ: `wanted` (config or what was applied) against `found` (live). */
export interface FieldDrift {
    /** Dotted path in the document content, e.g. `inputs.idleSessionTimeout`. */
    field: string;
    wanted: unknown;
    found: unknown;
}

/**
 * The leaves where two document contents differ. Objects are walked key by key so a
 * report names `inputs.idleSessionTimeout` rather than "the content changed"; anything
 * else (strings, numbers, lists) is compared whole.
 */
export function fieldDifferences(wanted: unknown, found: unknown, path = ""): FieldDrift[] {
    if (isPlainObject(wanted) && isPlainObject(found)) {
        const keys = [...new Set([...Object.keys(wanted), ...Object.keys(found)])].sort();
        return keys.flatMap((k) => fieldDifferences(wanted[k], found[k], path ? `${path}.${k}` : k));
    }
    return isDeepStrictEqual(wanted, found) ? [] : [{ field: path || "(content)", wanted, found }];
}
