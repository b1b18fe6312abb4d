/**
 * Overrides: document preferences that differ for some accounts, OUs or Regions (the
 * `overrides` key). Which override applies where, and what a target's preferences are once
 * they apply, with the override each field came from. Pure: the caller says where a target
 * sits in the organization (its Placement); core/config.ts parses the key and turns the
 * problems found here into configuration errors.
 */
import { InvalidValue, relatedFieldProblems, RelatedPreferences } from "./fieldRules";
import { documentPreferenceKeys, DocumentPreferences, Override, Preferences } from "./settings";

/** The keys an override may set: those that only shape the document (every target has the same resources). */
export const overridableKeys: readonly (keyof DocumentPreferences)[] = documentPreferenceKeys;

/** An override's own fields, besides the preference keys it sets. */
export const overrideSelectorFields = ["name", "priority", "accountIds", "organizationalUnitIds", "regions"] as const;

/** Where a target is: its account and Region, and the OU and root IDs above its account, when known. */
export interface Placement {
    accountId: string;
    region: string;
    /** Every OU and the root above the account (any order); needed only when an override selects by OU. */
    parents?: readonly string[];
}

/** Which field of a target's preferences came from which override (by name); fields not listed are the base settings. */
export type Sources = Partial<Record<keyof DocumentPreferences, string>>;

/** Whether any override selects by OU: then each target's parents must be known (Organizations' ListParents). */
export function selectsByOrganizationalUnit(overrides: readonly Override[]): boolean {
    return overrides.some((o) => o.organizationalUnitIds.length > 0);
}

/**
 * Whether an override applies to a target: every selector it gives matches (an account it
 * lists, an OU above the account, a Region it lists). Throws when it selects by OU and the
 * target's parents are unknown, rather than guess.
 */
export function overrideApplies(override: Override, placement: Placement): boolean {
    if (override.accountIds.length > 0 && !override.accountIds.includes(placement.accountId)) return false;
    if (override.regions.length > 0 && !override.regions.includes(placement.region)) return false;
    if (override.organizationalUnitIds.length > 0) {
        if (placement.parents === undefined) {
            throw new Error(
                `override ${override.name} selects by OU, but the OUs above account ${placement.accountId} are not known (an internal error: the caller must look them up)`,
            );
        }
        const parents = new Set(placement.parents);
        if (!override.organizationalUnitIds.some((ou) => parents.has(ou))) return false;
    }
    return true;
}

/** The index in `overrides` of each override that applies to the target, in config order. */
export function applicableOverrides(overrides: readonly Override[], placement: Placement): number[] {
    return overrides.flatMap((o, i) => (overrideApplies(o, placement) ? [i] : []));
}

/** A target's preferences with its overrides applied, where each field came from, and what is wrong with them. */
export interface Resolution<P extends Preferences> {
    preferences: P;
    sources: Sources;
    /** Two overrides of one priority setting one key, and cross-field rules broken by the merged result; empty when fine. */
    problems: InvalidValue[];
}

/** `overrides[i].key`: where a problem is reported. */
export function overrideKey(index: number, field: string): string {
    return `overrides[${index}].${field}`;
}

function where(placement: Placement): string {
    return `account ${placement.accountId} Region ${placement.region}`;
}

/**
 * Applies the overrides that select the target to the base preferences. When two set the same
 * key, the one with the higher priority wins; two of the same priority are a problem naming both
 * (there is no implicit order: neither the list's order nor how specific a selector is decides).
 */
export function resolveOverrides<P extends Preferences>(base: P, overrides: readonly Override[], placement: Placement): Resolution<P> {
    const preferences = { ...base };
    const sources: Sources = {};
    const problems: InvalidValue[] = [];
    const winner = new Map<keyof DocumentPreferences, number>();
    for (const i of applicableOverrides(overrides, placement)) {
        const o = overrides[i];
        for (const key of Object.keys(o.set) as (keyof DocumentPreferences)[]) {
            const j = winner.get(key);
            if (j !== undefined && overrides[j].priority === o.priority) {
                problems.push(
                    new InvalidValue(
                        overrideKey(i, key),
                        o.set[key],
                        `overrides ${overrides[j].name} (overrides[${j}]) and ${o.name} (overrides[${i}]) both set ${key} for ${where(placement)} with priority ${o.priority}: ` +
                            "give the one that should win a higher priority, or select so that only one applies",
                    ),
                );
                continue;
            }
            if (j !== undefined && overrides[j].priority > o.priority) continue;
            winner.set(key, i);
        }
    }
    for (const [key, i] of winner) {
        (preferences as Record<string, unknown>)[key] = overrides[i].set[key];
        sources[key] = overrides[i].name;
    }
    if (winner.size > 0) {
        const name = (field: keyof RelatedPreferences) => {
            const i = winner.get(field);
            return i === undefined ? field : `${overrideKey(i, field)} (for ${where(placement)})`;
        };
        problems.push(...relatedFieldProblems(preferences, name));
    }
    return { preferences, sources, problems };
}

/** `idleSessionTimeout from sandbox, maxSessionDuration from regulated`, or `` for none. */
export function describeSources(sources: Sources): string {
    return Object.entries(sources)
        .map(([key, name]) => `${key} from ${name}`)
        .join(", ");
}
