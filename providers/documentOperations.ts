/**
 * What the Session document provider does to one document, as plain functions over an
 * SSM client: read, adopt, converge, promote, prune, hand back. The provider and the
 * tests share this one implementation. docs/architecture.md has them as a state machine.
 *
 * Pulumi serializes these functions by value into the dynamic provider, so modules from
 * node_modules are `require`d inside the functions (resolved where the provider runs)
 * and only types are imported at the top.
 */
import type { DocumentDescription, SSMClient } from "@aws-sdk/client-ssm";
import { awsDefaultDocument } from "../core/document";
import type { ReleaseOutcome } from "../core/release";
import type { OnDelete } from "../core/settings";
import { requireFromPackage } from "./packageRequire";
import { isPlainObject } from "../core/fieldRules";

type SsmSdk = typeof import("@aws-sdk/client-ssm");

export type DocumentFormat = "JSON" | "YAML";

/** The tag that says which stack manages a document, so two stacks cannot fight over it. */
export const ownerTagKey = "session-manager-preferences:owner";

/**
 * The tag that records, in AWS itself, which version held the document when it was first
 * taken under management ("none": there was no document). It is written before the first
 * content write and removed only when the document is handed back, so a rerun after an
 * interrupted create, or a stack taking the document over, finds the true original rather
 * than content this program wrote. Pruning never deletes the version it names.
 */
export const adoptedVersionTagKey = "session-manager-preferences:adopted-version";

/** The adopted-version tag's value when no document existed at adoption. */
export const noOriginalDocument = "none";

/** What the document's tags say about who manages it and what it held before. */
export interface ManagementTags {
    owner?: string;
    /** A version number, or {@link noOriginalDocument}. */
    adoptedVersion?: string;
}

/** The document's tags: the management tags read out, and every tag as it is. */
export interface DocumentTags extends ManagementTags {
    all: Record<string, string>;
}

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
    /** The user's own tags, set beside the management tags; none by default. */
    tags?: Record<string, string>;
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
}

export interface VersionList {
    defaultVersion: string;
    latestVersion: string;
    /** Newest first. */
    versions: string[];
}

export type { ReleaseOutcome } from "../core/release";

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

/**
 * SHA-256 of parsed content, its keys sorted: equal for content `sameContent` calls equal.
 * The Session document's state keeps it for the content it last applied (a refresh keeps
 * it too), which tells a document edited outside the stack from a changed config.
 */
export function contentDigest(content: unknown): string {
    const { createHash }: typeof import("node:crypto") = require("node:crypto");
    return createHash("sha256")
        .update(JSON.stringify(orderedLike(content, undefined)) ?? "null")
        .digest("hex");
}

/** `value` with its keys in the order `template` has them (then the rest, sorted), recursively. */
function orderedLike(value: unknown, template: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => orderedLike(item, undefined));
    if (!isPlainObject(value)) return value;
    const shape = isPlainObject(template) ? template : {};
    const known = Object.keys(shape).filter((key) => key in value);
    const others = Object.keys(value)
        .filter((key) => !(key in shape))
        .sort();
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
        const Tags = tagEntries(write.tags ?? {});
        const created = await client.send(
            new ssm.CreateDocumentCommand({
                Name: name,
                Content: write.raw,
                DocumentFormat: write.format,
                DocumentType: "Session",
                Tags: Tags.length ? Tags : undefined,
            }),
        );
        // A new document's only version is its default version.
        return created.DocumentDescription?.DocumentVersion ?? "1";
    }
    let version: string | undefined;
    try {
        // "$LATEST" is what SSM requires to add a version (moto refuses an update without it).
        const updated = await client.send(
            new ssm.UpdateDocumentCommand({ Name: name, Content: write.raw, DocumentFormat: write.format, DocumentVersion: "$LATEST" }),
        );
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

export async function readTags(client: SSMClient, name: string): Promise<DocumentTags> {
    const ssm = sdk();
    const { TagList } = await client.send(new ssm.ListTagsForResourceCommand({ ResourceType: "Document", ResourceId: name }));
    const all = Object.fromEntries((TagList ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
    return { owner: all[ownerTagKey], adoptedVersion: all[adoptedVersionTagKey], all };
}

export async function readOwner(client: SSMClient, name: string): Promise<string | undefined> {
    return (await readTags(client, name)).owner;
}

/** The management tags as tag keys and values. */
function managementTags(tags: ManagementTags): Record<string, string> {
    const out: Record<string, string> = {};
    if (tags.owner !== undefined) out[ownerTagKey] = tags.owner;
    if (tags.adoptedVersion !== undefined) out[adoptedVersionTagKey] = tags.adoptedVersion;
    return out;
}

function tagEntries(tags: Record<string, string>): { Key: string; Value: string }[] {
    return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Whether the document lacks any of `wanted`, or holds another value for it. */
function missingTags(found: Record<string, string>, wanted: Record<string, string>): boolean {
    return Object.entries(wanted).some(([key, value]) => found[key] !== value);
}

async function writeTags(client: SSMClient, name: string, tags: Record<string, string>): Promise<void> {
    const ssm = sdk();
    await client.send(new ssm.AddTagsToResourceCommand({ ResourceType: "Document", ResourceId: name, Tags: tagEntries(tags) }));
}

async function removeTags(client: SSMClient, name: string, keys: readonly string[]): Promise<void> {
    const ssm = sdk();
    await client.send(new ssm.RemoveTagsFromResourceCommand({ ResourceType: "Document", ResourceId: name, TagKeys: [...keys] }));
}

/**
 * Fails when a tag the user asks for is already on the document with another value that this
 * stack did not set (`ours`): writing it would lose that value, which release could not give back.
 */
export function assertTagsFree(name: string, found: Record<string, string>, wanted: Record<string, string>, ours: Record<string, string> = {}): void {
    const taken = Object.keys(wanted).filter((key) => key in found && found[key] !== wanted[key] && !(key in ours));
    if (taken.length === 0) return;
    throw new Error(
        `SSM document "${name}" already has the tag(s) ${taken.map((k) => `${k}=${JSON.stringify(found[k])}`).join(", ")}, which this stack did not set: ` +
            `choose other tag keys, so that nothing on the document is overwritten`,
    );
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
 * Deletes the oldest versions beyond `keep`; returns the deleted ones. The default, the
 * newest and the `protectedVersions` (the adopted original) always stay: SSM refuses to
 * delete the default, numbers new versions after the newest, and the original is what
 * `restore` puts back. So with `keep` 1 up to three may remain. 0 keeps every version.
 */
export async function pruneVersions(client: SSMClient, name: string, keep: number, protectedVersions: string[] = []): Promise<string[]> {
    if (keep === 0) return [];
    const list = await listVersions(client, name);
    const kept = new Set([list.defaultVersion, list.latestVersion]);
    for (const version of list.versions) {
        if (kept.size >= keep) break;
        kept.add(version);
    }
    for (const version of protectedVersions) kept.add(version);
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

/** The adopted-version tag's value for an adoption record. */
function adoptedVersionTag(adoption: Adoption): string {
    return adoption.adoptedVersion ?? noOriginalDocument;
}

/**
 * Brings the document to the desired content (writing only if it differs) and prunes it.
 * The management tags must already be on an existing document: they are written before
 * any content, so no failure can leave this program's content without the record of what
 * was there before.
 */
async function converge(client: SSMClient, desired: DesiredDocument, found: LiveDocument | undefined, adoption: Adoption): Promise<ApplyResult> {
    let documentVersion: string;
    let latest: number;
    if (found && sameContent(found.content, desired.content)) {
        documentVersion = found.version;
        latest = Number(found.latestVersion);
    } else {
        const tags = { ...desired.tags, ...managementTags({ owner: desired.owner, adoptedVersion: adoptedVersionTag(adoption) }) };
        documentVersion = await writeVersion(client, desired.name, {
            raw: serializeContent(desired.content),
            format: "JSON",
            exists: found !== undefined,
            tags,
        });
        latest = Math.max(Number(found?.latestVersion ?? 0) + 1, Number(documentVersion));
    }
    // Version numbers only grow, so a latest number within the limit means nothing to prune.
    if (latest > desired.keepDocumentVersions) {
        await pruneVersions(client, desired.name, desired.keepDocumentVersions, adoption.adoptedVersion ? [adoption.adoptedVersion] : []);
    }
    return { documentVersion };
}

/** What adopting found: the version as stored, or no document (`undefined`). The one place an adoption record is made. */
export function adoptionOf(found: DocumentVersionContent | undefined): Adoption {
    return { adoptedContent: found?.raw ?? null, adoptedFormat: found?.format ?? null, adoptedVersion: found?.version ?? null };
}

/**
 * The adoption an earlier record names, read back from SSM: `none` (or null) for no document,
 * else that version, if it still exists and `holds` it (the StackSet handler compares a digest);
 * undefined when it no longer does. What to do then is the caller's.
 */
export async function readAdoptedVersion(
    client: SSMClient,
    name: string,
    version: string | null,
    holds: (found: DocumentVersionContent) => boolean = () => true,
): Promise<Adoption | undefined> {
    if (version === null || version === noOriginalDocument) return noAdoption;
    const original = await readVersion(client, name, version);
    return original && holds(original) ? adoptionOf(original) : undefined;
}

/** The adoption a document's tag records; throws, saying how to go on, when the version it names is gone. */
async function taggedAdoption(client: SSMClient, name: string, adoptedVersion: string): Promise<Adoption> {
    const adoption = await readAdoptedVersion(client, name, adoptedVersion);
    if (adoption) return adoption;
    throw new Error(
        `SSM document "${name}" is tagged ${adoptedVersionTagKey}=${adoptedVersion}, the version it held before it was first managed, ` +
            `but that version no longer exists, so the original cannot be restored. If the current content may serve as the original, ` +
            `remove that tag (aws ssm remove-tags-from-resource --resource-type Document --resource-id ${name} --tag-keys ${adoptedVersionTagKey}) and run again.`,
    );
}

export const noAdoption: Adoption = adoptionOf(undefined);

/**
 * Takes the document under management and converges it. What counts as adopted is what the
 * document's adopted-version tag names, when it has one: this stack's own interrupted
 * create, or the stack it takes over from, recorded it. Otherwise it is the default version
 * as found now, recorded in the tag before anything else is written.
 */
export async function adoptDocument(client: SSMClient, desired: DesiredDocument, recorded?: (adoption: Adoption) => void): Promise<Adoption & ApplyResult> {
    const found = await readDefault(client, desired.name);
    const tags: Partial<DocumentTags> = found ? await readTags(client, desired.name) : {};
    assertMayManage(desired.name, tags.owner, [desired.owner], desired.takeOver);
    assertTagsFree(desired.name, tags.all ?? {}, desired.tags ?? {});
    let adoption: Adoption;
    if (tags.adoptedVersion !== undefined) {
        adoption = await taggedAdoption(client, desired.name, tags.adoptedVersion);
    } else {
        adoption = adoptionOf(found);
    }
    // Before any write: a caller that keeps its own record (the StackSet custom resource's ID) has it even if a write fails.
    recorded?.(adoption);
    const wanted = { ...desired.tags, ...managementTags({ owner: desired.owner, adoptedVersion: adoptedVersionTag(adoption) }) };
    if (found && missingTags(tags.all ?? {}, wanted)) await writeTags(client, desired.name, wanted);
    return { ...adoption, ...(await converge(client, desired, found, adoption)) };
}

/** What {@link inspectForAdoption} found: what adoptDocument would find, read without writing. */
export interface AdoptionInspection {
    /** The default version now; undefined when there is no document. */
    found?: LiveDocument;
    /** The version the adopted-version tag names, when the document has that tag. */
    taggedVersion?: string;
    /** Why adoptDocument would stop before writing. */
    blocker?: string;
}

/**
 * Reads what adopting the document would find, and writes nothing: the default version, the
 * management tags, and whether the version the adopted-version tag names still exists. The
 * provider calls it when the engine checks a document it is about to create, so a preview
 * can say what the first `up` overwrites (core/adoptionPreview.ts).
 */
export async function inspectForAdoption(
    client: SSMClient,
    desired: Pick<DesiredDocument, "name" | "owner" | "takeOver" | "tags">,
): Promise<AdoptionInspection> {
    const found = await readDefault(client, desired.name);
    if (!found) return {};
    const tags = await readTags(client, desired.name);
    const inspection: AdoptionInspection = { found, taggedVersion: tags.adoptedVersion };
    try {
        assertMayManage(desired.name, tags.owner, [desired.owner], desired.takeOver);
        assertTagsFree(desired.name, tags.all, desired.tags ?? {});
        if (tags.adoptedVersion !== undefined) await taggedAdoption(client, desired.name, tags.adoptedVersion);
    } catch (err) {
        // AWS's own errors (no access, throttling) are not what up would stop for: let them out.
        if (typeof err === "object" && err !== null && "$metadata" in err) throw err;
        inspection.blocker = (err as Error).message;
    }
    return inspection;
}

/**
 * Converges a document already under management. `previousOwner` is the owner recorded
 * before this update, so renaming the owner is not mistaken for someone else's tag;
 * `adoption` is what the caller recorded, written back to the tag if the tag is missing (a
 * document managed before the tag existed, or a tag removed by hand); undefined when the
 * caller does not know it, and then no record is written.
 */
export async function updateDocument(
    client: SSMClient,
    desired: DesiredDocument,
    previousOwner: string,
    adoption: Adoption | undefined,
    previousTags: Record<string, string> = {},
): Promise<ApplyResult> {
    const found = await readDefault(client, desired.name);
    const tags: Partial<DocumentTags> = found ? await readTags(client, desired.name) : {};
    assertMayManage(desired.name, tags.owner, [desired.owner, previousOwner], desired.takeOver);
    assertTagsFree(desired.name, tags.all ?? {}, desired.tags ?? {}, previousTags);
    const record = tags.adoptedVersion ?? (adoption ? adoptedVersionTag(adoption) : undefined);
    if (found) {
        const wanted = { ...desired.tags, ...managementTags({ owner: desired.owner, adoptedVersion: record }) };
        if (missingTags(tags.all ?? {}, wanted)) await writeTags(client, desired.name, wanted);
        // The user's tags this stack set and no longer wants.
        const dropped = Object.keys(previousTags).filter((key) => !(key in (desired.tags ?? {})) && key in (tags.all ?? {}));
        if (dropped.length > 0) await removeTags(client, desired.name, dropped);
    }
    const protect: Adoption = record === undefined || record === noOriginalDocument ? noAdoption : { ...noAdoption, ...adoption, adoptedVersion: record };
    return converge(client, desired, found, protect);
}

export interface Release extends Adoption {
    name: string;
    owner: string;
    onDelete: OnDelete;
    /** The user's tags this stack set, removed with the management tags. */
    tags?: Record<string, string>;
}

/**
 * Ends management per `onDelete`, then removes the management tags. A document that another
 * stack has since taken over is left alone: its content, and the original it inherited,
 * are that stack's to hand back.
 */
export async function releaseDocument(client: SSMClient, release: Release): Promise<ReleaseOutcome> {
    const found = await readDefault(client, release.name);
    const tags: Partial<DocumentTags> = found ? await readTags(client, release.name) : {};
    if (tags.owner !== undefined && tags.owner !== release.owner) return { kind: "left to its owner", owner: tags.owner };
    let outcome: Exclude<ReleaseOutcome["kind"], "left to its owner">;
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
    const ours = [ownerTagKey, adoptedVersionTagKey, ...Object.keys(release.tags ?? {})].filter((key) => key in (tags.all ?? {}));
    if (found && outcome !== "deleted" && ours.length > 0) await removeTags(client, release.name, ours);
    return { kind: outcome };
}

async function resetDocument(client: SSMClient, name: string, found: LiveDocument): Promise<"reset"> {
    const defaults = awsDefaultDocument();
    if (!sameContent(found.content, defaults)) await writeVersion(client, name, { raw: serializeContent(defaults), format: "JSON", exists: true });
    return "reset";
}

/**
 * Puts back exactly the text found at adoption: by promoting the version that held it if
 * that version is still there unchanged, else by writing the text again. No document at
 * adoption means none now.
 */
async function restoreDocument(client: SSMClient, adoption: Release, found: LiveDocument | undefined): Promise<"restored" | "deleted" | "absent"> {
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
