/**
 * What the Session document provider does to one document, as plain functions over an
 * SSM client: read, adopt, converge, promote, prune, hand back. The provider and the
 * tests share this one implementation.
 *
 * Pulumi serializes these functions by value into the dynamic provider, so modules from
 * node_modules are `require`d inside the functions (resolved where the provider runs)
 * and only types are imported at the top.
 */
import type { DocumentDescription, SSMClient } from "@aws-sdk/client-ssm";
import { awsDefaultDocument } from "../core/document";
import type { OnDelete } from "../core/settings";
import { requireFromPackage } from "./packageRequire";

type SsmSdk = typeof import("@aws-sdk/client-ssm");

export type DocumentFormat = "JSON" | "YAML";

/** The tag that says which stack manages a document, so two stacks cannot fight over it. */
export const ownerTagKey = "session-manager-preferences:owner";

/** One version of a document, as stored. */
export interface DocumentVersionContent {
    /** As SSM numbers them: "1", "2", ... */
    version: string;
    /** The content exactly as stored, in its own format. */
    raw: string;
    format: DocumentFormat;
    /** `raw` parsed: equality is decided on this, never on the string. */
    content: unknown;
}

/** The default version of a document, plus where its version numbering is. */
export interface LiveDocument extends DocumentVersionContent {
    latestVersion: string;
}

/** The desired state of one document. */
export interface DesiredDocument {
    name: string;
    content: unknown;
    /** Written to the owner tag, e.g. "project/stack". */
    owner: string;
    /** Manage the document even when another owner's tag is on it. */
    takeOver: boolean;
    /** Versions to keep, counting the default and the newest; 0 keeps all. */
    keepDocumentVersions: number;
}

/** What was found when the document was first taken under management. */
export interface Adoption {
    /** The default version's content, exactly as stored; null when there was no document. */
    adoptedContent: string | null;
    adoptedFormat: DocumentFormat | null;
    adoptedVersion: string | null;
}

export interface ApplyResult {
    /** The default version after the operation. */
    documentVersion: string;
    /** Whether a version was written (false when the content was already equal). */
    written: boolean;
    prunedVersions: string[];
}

export interface VersionList {
    defaultVersion: string;
    latestVersion: string;
    /** Newest first. */
    versions: string[];
}

export type ReleaseOutcome = "restored" | "deleted" | "reset" | "retained" | "absent" | "owned by another stack";

function sdk(): SsmSdk {
    return requireFromPackage("@aws-sdk/client-ssm");
}

export function parseContent(raw: string, format: DocumentFormat): unknown {
    if (format === "YAML") {
        const yaml: typeof import("js-yaml") = requireFromPackage("js-yaml");
        return yaml.load(raw);
    }
    return JSON.parse(raw);
}

/** Deep equality of parsed content: key order, whitespace and JSON-vs-YAML do not count. */
export function sameContent(a: unknown, b: unknown): boolean {
    const equal: (x: unknown, y: unknown) => boolean = requireFromPackage("fast-deep-equal");
    return equal(a, b);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` with its keys in the order `template` has them (then the rest, sorted), recursively. */
function orderedLike(value: unknown, template: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => orderedLike(item, undefined));
    if (!isPlainObject(value)) return value;
    const shape = isPlainObject(template) ? template : {};
    const known = Object.keys(shape).filter((key) => key in value);
    const others = Object.keys(value).filter((key) => !(key in shape)).sort();
    return Object.fromEntries([...known, ...others].map((key) => [key, orderedLike(value[key], shape[key])]));
}

/**
 * The JSON this provider writes. The key order is fixed (Session Manager's own, then
 * alphabetical) because the engine may hand the content over with its keys in any order,
 * and the same content must always become the same string: SSM detects duplicate
 * versions by their text.
 */
export function serializeContent(content: unknown): string {
    return JSON.stringify(orderedLike(content, awsDefaultDocument()), null, 2);
}

function formatOf(description: DocumentDescription, name: string): DocumentFormat {
    if (description.DocumentType !== undefined && description.DocumentType !== "Session") {
        throw new Error(`SSM document "${name}" is a ${description.DocumentType} document, not a Session document: refusing to manage it`);
    }
    if (description.DocumentFormat === "YAML") return "YAML";
    if (description.DocumentFormat === "JSON" || description.DocumentFormat === undefined) return "JSON";
    throw new Error(`SSM document "${name}" is stored as ${description.DocumentFormat}; a Session document must be JSON or YAML`);
}

// Not named `describe`: closure serialization resolves a free name that is also a global
// (mocha's `describe`, under test) to the global.
async function describeVersion(client: SSMClient, name: string, version?: string): Promise<DocumentDescription | undefined> {
    const ssm = sdk();
    try {
        const { Document } = await client.send(new ssm.DescribeDocumentCommand({ Name: name, DocumentVersion: version }));
        if (!Document?.DefaultVersion || !Document.LatestVersion) throw new Error(`SSM described document "${name}" without its version numbers`);
        return Document;
    } catch (err) {
        if (err instanceof ssm.InvalidDocument) return undefined;
        throw err;
    }
}

/**
 * A version of the document (the default one when `version` is omitted), or undefined
 * when the document or that version does not exist. GetDocument answers in JSON unless
 * asked otherwise, converting YAML; asking for the stored format returns the exact text.
 */
export async function readVersion(client: SSMClient, name: string, version?: string): Promise<LiveDocument | undefined> {
    const head = await describeVersion(client, name, version);
    if (!head) return undefined;
    const wanted = version ?? (head.DefaultVersion as string);
    // Without a version, DescribeDocument should describe the default one; ask again rather than trust a format read off another version.
    const described = head.DocumentVersion === undefined || head.DocumentVersion === wanted ? head : await describeVersion(client, name, wanted);
    if (!described) return undefined;
    const format = formatOf(described, name);
    const ssm = sdk();
    try {
        const got = await client.send(new ssm.GetDocumentCommand({ Name: name, DocumentVersion: wanted, DocumentFormat: format }));
        if (got.Content === undefined) throw new Error(`SSM returned document "${name}" version ${wanted} without content`);
        return { version: wanted, latestVersion: head.LatestVersion as string, raw: got.Content, format, content: parseContent(got.Content, format) };
    } catch (err) {
        if (err instanceof ssm.InvalidDocument) return undefined;
        throw err;
    }
}

/** The default version: the one Session Manager uses. */
export function readDefault(client: SSMClient, name: string): Promise<LiveDocument | undefined> {
    return readVersion(client, name);
}

/**
 * Every version of the document, newest first. Uses ListDocumentVersions; where the API
 * has no such operation (moto 5.2.5 answers it with an HTML error page, which the SDK
 * cannot parse and reports as a non-service error), it asks for each version number
 * from the latest down instead.
 */
export async function listVersions(client: SSMClient, name: string): Promise<VersionList> {
    const ssm = sdk();
    try {
        const versions: string[] = [];
        let defaultVersion: string | undefined;
        let token: string | undefined;
        do {
            const page = await client.send(new ssm.ListDocumentVersionsCommand({ Name: name, MaxResults: 50, NextToken: token }));
            for (const v of page.DocumentVersions ?? []) {
                if (!v.DocumentVersion) continue;
                versions.push(v.DocumentVersion);
                if (v.IsDefaultVersion) defaultVersion = v.DocumentVersion;
            }
            token = page.NextToken;
        } while (token);
        versions.sort((a, b) => Number(b) - Number(a));
        if (!defaultVersion || versions.length === 0) throw new Error(`SSM listed the versions of document "${name}" without a default version`);
        return { defaultVersion, latestVersion: versions[0], versions };
    } catch (err) {
        if (err instanceof ssm.SSMServiceException) throw err;
        return listVersionsOneByOne(client, name);
    }
}

async function listVersionsOneByOne(client: SSMClient, name: string): Promise<VersionList> {
    const head = await describeVersion(client, name);
    if (!head) throw new Error(`SSM document "${name}" does not exist`);
    const versions: string[] = [];
    for (let n = Number(head.LatestVersion); n >= 1; n--) {
        if (await describeVersion(client, name, String(n))) versions.push(String(n));
    }
    return { defaultVersion: head.DefaultVersion as string, latestVersion: head.LatestVersion as string, versions };
}

/**
 * The newest version whose content equals `content`. With `exactRaw`, a version holding
 * exactly that text wins over one that is only equal once parsed.
 */
export async function findVersionHolding(client: SSMClient, name: string, content: unknown, exactRaw?: string): Promise<string | undefined> {
    const { versions } = await listVersions(client, name);
    let equal: string | undefined;
    for (const version of versions) {
        const stored = await readVersion(client, name, version);
        if (!stored) continue;
        if (exactRaw !== undefined && stored.raw === exactRaw) return version;
        if (equal === undefined && sameContent(stored.content, content)) {
            if (exactRaw === undefined) return version;
            equal = version;
        }
    }
    return equal;
}

export async function promote(client: SSMClient, name: string, version: string): Promise<void> {
    const ssm = sdk();
    await client.send(new ssm.UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: version }));
}

interface Write {
    raw: string;
    format: DocumentFormat;
    /** Whether the document exists (then a version is added) or must be created. */
    exists: boolean;
    /** Tags for a document this write creates. */
    tags?: Record<string, string>;
    /** When SSM calls the content a duplicate, prefer a version holding exactly `raw`. */
    preferExactText?: boolean;
}

/**
 * Writes a new version and makes it the default; returns that version. When SSM refuses
 * the content as a duplicate (real SSM: it equals the latest version; moto: it equals any
 * version), the version already holding it is promoted instead: that is how an apply
 * that stopped between writing and promoting finishes.
 */
export async function writeVersion(client: SSMClient, name: string, write: Write): Promise<string> {
    const ssm = sdk();
    if (!write.exists) {
        const Tags = Object.entries(write.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
        const created = await client.send(
            new ssm.CreateDocumentCommand({ Name: name, Content: write.raw, DocumentFormat: write.format, DocumentType: "Session", Tags: Tags.length ? Tags : undefined }),
        );
        // A new document's only version is its default version.
        return created.DocumentDescription?.DocumentVersion ?? "1";
    }
    let version: string | undefined;
    try {
        // "$LATEST" is what SSM requires to add a version (moto refuses an update without it).
        const updated = await client.send(new ssm.UpdateDocumentCommand({ Name: name, Content: write.raw, DocumentFormat: write.format, DocumentVersion: "$LATEST" }));
        version = updated.DocumentDescription?.DocumentVersion;
        if (!version) throw new Error(`SSM updated document "${name}" without saying which version it made`);
    } catch (err) {
        if (!(err instanceof ssm.DuplicateDocumentContent)) throw err;
        const content = parseContent(write.raw, write.format);
        version = await findVersionHolding(client, name, content, write.preferExactText ? write.raw : undefined);
        if (!version) throw new Error(`SSM says document "${name}" already holds this content, but no version of it does`, { cause: err });
    }
    await promote(client, name, version);
    return version;
}

export async function readOwner(client: SSMClient, name: string): Promise<string | undefined> {
    const ssm = sdk();
    const { TagList } = await client.send(new ssm.ListTagsForResourceCommand({ ResourceType: "Document", ResourceId: name }));
    return TagList?.find((tag) => tag.Key === ownerTagKey)?.Value;
}

async function tagOwner(client: SSMClient, name: string, owner: string): Promise<void> {
    const ssm = sdk();
    await client.send(new ssm.AddTagsToResourceCommand({ ResourceType: "Document", ResourceId: name, Tags: [{ Key: ownerTagKey, Value: owner }] }));
}

async function untagOwner(client: SSMClient, name: string): Promise<void> {
    const ssm = sdk();
    await client.send(new ssm.RemoveTagsFromResourceCommand({ ResourceType: "Document", ResourceId: name, TagKeys: [ownerTagKey] }));
}

/** Fails when the document carries another owner's tag, unless taking it over is allowed. */
export function assertMayManage(name: string, currentOwner: string | undefined, allowedOwners: string[], takeOver: boolean): void {
    if (currentOwner === undefined || allowedOwners.includes(currentOwner) || takeOver) return;
    throw new Error(
        `SSM document "${name}" is managed by "${currentOwner}" (tag ${ownerTagKey}), not by "${allowedOwners[0]}". ` +
            `Remove it from that stack first, or set takeOver: true to manage it from here.`,
    );
}

/**
 * Deletes the oldest versions beyond `keep`; returns the deleted ones. The default and the
 * newest version always stay (SSM refuses to delete the default, and numbers new versions
 * after the newest), so with `keep` 1 two may remain. 0 keeps every version.
 */
export async function pruneVersions(client: SSMClient, name: string, keep: number): Promise<string[]> {
    if (keep === 0) return [];
    const list = await listVersions(client, name);
    const kept = new Set([list.defaultVersion, list.latestVersion]);
    for (const version of list.versions) {
        if (kept.size >= keep) break;
        kept.add(version);
    }
    const doomed = list.versions.filter((version) => !kept.has(version));
    const ssm = sdk();
    for (const version of doomed) {
        try {
            await client.send(new ssm.DeleteDocumentCommand({ Name: name, DocumentVersion: version }));
        } catch (err) {
            if (!(err instanceof ssm.InvalidDocument)) throw err;
        }
    }
    return doomed;
}

/** Brings the document to the desired content (writing only if it differs), tags it, prunes it. */
async function converge(client: SSMClient, desired: DesiredDocument, found: LiveDocument | undefined, currentOwner: string | undefined): Promise<ApplyResult> {
    let documentVersion: string;
    let latest: number;
    let written = false;
    if (found && sameContent(found.content, desired.content)) {
        documentVersion = found.version;
        latest = Number(found.latestVersion);
    } else {
        const write = { raw: serializeContent(desired.content), format: "JSON" as const, exists: found !== undefined, tags: { [ownerTagKey]: desired.owner } };
        documentVersion = await writeVersion(client, desired.name, write);
        latest = Math.max(Number(found?.latestVersion ?? 0) + 1, Number(documentVersion));
        written = true;
    }
    if (found && currentOwner !== desired.owner) await tagOwner(client, desired.name, desired.owner);
    // Version numbers only grow, so a latest number within the limit means nothing to prune.
    const prunedVersions = latest > desired.keepDocumentVersions ? await pruneVersions(client, desired.name, desired.keepDocumentVersions) : [];
    return { documentVersion, written, prunedVersions };
}

/**
 * Takes the document under management: records what is there (the default version,
 * exactly), then converges. Creates the document when there is none.
 */
export async function adoptDocument(client: SSMClient, desired: DesiredDocument): Promise<Adoption & ApplyResult> {
    const found = await readDefault(client, desired.name);
    const currentOwner = found ? await readOwner(client, desired.name) : undefined;
    assertMayManage(desired.name, currentOwner, [desired.owner], desired.takeOver);
    const applied = await converge(client, desired, found, currentOwner);
    return { adoptedContent: found?.raw ?? null, adoptedFormat: found?.format ?? null, adoptedVersion: found?.version ?? null, ...applied };
}

/**
 * Converges a document already under management. `previousOwner` is the owner recorded
 * before this update, so renaming the owner is not mistaken for someone else's tag.
 */
export async function updateDocument(client: SSMClient, desired: DesiredDocument, previousOwner: string): Promise<ApplyResult> {
    const found = await readDefault(client, desired.name);
    const currentOwner = found ? await readOwner(client, desired.name) : undefined;
    assertMayManage(desired.name, currentOwner, [desired.owner, previousOwner], desired.takeOver);
    return converge(client, desired, found, currentOwner);
}

export interface Release extends Adoption {
    name: string;
    owner: string;
    onDelete: OnDelete;
}

/**
 * Ends management per `onDelete`. A document that another stack has since taken over is
 * left alone: its content is no longer ours to change.
 */
export async function releaseDocument(client: SSMClient, release: Release): Promise<ReleaseOutcome> {
    const found = await readDefault(client, release.name);
    const currentOwner = found ? await readOwner(client, release.name) : undefined;
    if (currentOwner !== undefined && currentOwner !== release.owner) return "owned by another stack";
    let outcome: ReleaseOutcome;
    switch (release.onDelete) {
        case "retain":
            outcome = found ? "retained" : "absent";
            break;
        case "reset":
            outcome = found ? await resetDocument(client, release.name, found) : "absent";
            break;
        case "restore":
            outcome = await restoreDocument(client, release, found);
            break;
    }
    if (currentOwner !== undefined && outcome !== "deleted") await untagOwner(client, release.name);
    return outcome;
}

async function resetDocument(client: SSMClient, name: string, found: LiveDocument): Promise<ReleaseOutcome> {
    const defaults = awsDefaultDocument();
    if (!sameContent(found.content, defaults)) await writeVersion(client, name, { raw: serializeContent(defaults), format: "JSON", exists: true });
    return "reset";
}

/**
 * Puts back exactly the text found at adoption: by promoting the version that held it if
 * that version is still there unchanged, else by writing the text again. No document at
 * adoption means none now.
 */
async function restoreDocument(client: SSMClient, adoption: Release, found: LiveDocument | undefined): Promise<ReleaseOutcome> {
    const { adoptedContent, adoptedFormat, adoptedVersion, name } = adoption;
    if (adoptedContent === null || adoptedFormat === null) {
        if (!found) return "absent";
        const ssm = sdk();
        await client.send(new ssm.DeleteDocumentCommand({ Name: name }));
        return "deleted";
    }
    if (found && found.raw === adoptedContent && found.format === adoptedFormat) return "restored";
    if (found && adoptedVersion !== null) {
        const original = await readVersion(client, name, adoptedVersion);
        if (original && original.raw === adoptedContent && original.format === adoptedFormat) {
            await promote(client, name, adoptedVersion);
            return "restored";
        }
    }
    await writeVersion(client, name, { raw: adoptedContent, format: adoptedFormat, exists: found !== undefined, preferExactText: true });
    return "restored";
}
