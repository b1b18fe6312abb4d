/**
 * A dependency of the component that is created, taken as existing, or left out, in the
 * manner of awsx's `defaultLogGroup`. Exactly one of the three shapes may be given.
 */
export type Part<TArgs, TExisting> = { args?: TArgs } | { existing: TExisting } | { skip: true };

/** A part that is created or left out, but never taken as existing. */
export type OptionalPart<TArgs> = { args?: TArgs } | { skip: true };

export type PartChoice<TArgs, TExisting> = { kind: "create"; args: TArgs | undefined } | { kind: "existing"; existing: TExisting } | { kind: "skip" };

export class PartConflictError extends Error {
    constructor(
        public readonly part: string,
        public readonly given: string[],
    ) {
        super(`${part}: give one of args, existing or skip, not ${given.join(" and ")}`);
        this.name = "PartConflictError";
    }
}

/**
 * Which of the three shapes a caller gave. Absent means create with default args, since
 * that is what a caller who says nothing about a part expects. Types alone cannot stop
 * `{ args, existing }` (an object literal with a union is checked loosely), so this does.
 */
export function choosePart<TArgs, TExisting>(part: string, given: Part<TArgs, TExisting> | OptionalPart<TArgs> | undefined): PartChoice<TArgs, TExisting> {
    if (given === undefined) return { kind: "create", args: undefined };
    const present = (["args", "existing", "skip"] as const).filter((k) => k in given && (given as Record<string, unknown>)[k] !== undefined);
    if (present.length > 1) throw new PartConflictError(part, [...present]);
    if ("skip" in given && given.skip !== undefined) {
        if (given.skip !== true) throw new Error(`${part}: skip must be true when given, got ${JSON.stringify(given.skip)}`);
        return { kind: "skip" };
    }
    if ("existing" in given && given.existing !== undefined) return { kind: "existing", existing: given.existing };
    return { kind: "create", args: "args" in given ? given.args : undefined };
}
