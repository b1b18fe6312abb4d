/**
 * What handing a Session document back did, and the one line that says so. The document
 * provider logs the line to the engine on every delete (`pulumi destroy` shows it under
 * Diagnostics), the CloudFormation handler logs it, and `npm run org -- destroy` / `prune`
 * read it back from the engine's events to report each document (docs/architecture.md).
 */
import type { OnDelete } from "./settings";

export type ReleaseOutcome =
    | { kind: "restored" | "deleted" | "reset" | "retained" | "absent" }
    /** Another stack took the document over: it, not this stack, hands the original back. */
    | { kind: "left to its owner"; owner: string };

export type ReleaseKind = ReleaseOutcome["kind"];

/** One document's release, as reported. `document` is `<account>/<region>/<name>`. */
export type DocumentRelease = ReleaseOutcome & { document: string };

const releaseKinds: readonly ReleaseKind[] = ["restored", "deleted", "reset", "retained", "absent", "left to its owner"];

const why: Record<Exclude<ReleaseKind, "left to its owner">, string> = {
    restored: "the content found at adoption is the default version again",
    deleted: "there was no document at adoption, so there is none now",
    reset: "to the AWS defaults",
    retained: "the managed content stays the default version",
    absent: "it was already gone; nothing to do",
};

/** The line for one release; `onDelete` is what the stack asked for. */
export function releaseMessage(release: DocumentRelease, onDelete: OnDelete): string {
    const head = `SSM document ${release.document} released: `;
    if (release.kind === "left to its owner")
        return (
            `${head}left to its owner "${release.owner}" (taken over, so not ${onDelete}d here: ` +
            "that stack now holds the record of the original content and hands it back when it is destroyed)"
        );
    return `${head}${release.kind} (${why[release.kind]})`;
}

const pattern = new RegExp(`SSM document (\\S+) released: (${releaseKinds.join("|")})(?: "([^"]*)")?`);

/** The release a line of engine output reports, if it is one. */
export function parseReleaseMessage(text: string): DocumentRelease | undefined {
    const match = pattern.exec(text);
    if (!match) return undefined;
    const [, document, kind, owner] = match;
    return kind === "left to its owner" ? { document, kind, owner: owner ?? "" } : { document, kind: kind as Exclude<ReleaseKind, "left to its owner"> };
}
