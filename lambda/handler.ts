/**
 * The custom resource behind `deployment: stackset`: a CloudFormation adapter around the
 * document operations the direct mode's provider uses (providers/documentOperations.ts).
 * It turns Create, Update and Delete events into adopt, update and release, and answers
 * on the pre-signed response URL. What a document operation does is decided there, once.
 *
 * lambda/bundle.ts bundles this file with those operations for the Lambda Node.js runtime,
 * which provides the AWS SDK.
 *
 * CloudFormation keeps nothing for a custom resource but its physical ID, so the ID is where
 * the adoption record lives: `<document>:adopted-none`, or `<document>:adopted-<version>:<digest>`
 * with a digest of that version's exact text. On Delete, `restore` reads that version back,
 * and the digest tells whether it still holds what was found.
 */
import { SSMClient } from "@aws-sdk/client-ssm";
import { createHash } from "node:crypto";
import { releaseMessage } from "../core/release";
import * as f from "../core/fieldRules";
import { documentContent } from "../core/document";
import { documentPreferenceKeys, DocumentPreferences, OnDelete } from "../core/settings";
import { logicalIds, parameterNames, PreferenceParameter, repairTokenParameter } from "../core/template";
import * as operations from "../providers/documentOperations";

/** The custom resource's properties as CloudFormation sends them: every value a string. */
export type DocumentProperties = BaseProperties & Record<PreferenceParameter, string> & { [repairTokenParameter]?: string };

interface BaseProperties {
    DocumentName: string;
    /**
     * The document for the StackSet's settings as JSON, with this stack's key and log group
     * (core/document.ts, through the template); its inputs are made again from the preferences.
     */
    Content: string;
    /** Where the stack is: the S3 key prefix and a bucket per Region name them. */
    AccountId: string;
    Region: string;
    /** restore, reset or retain. */
    OnDelete: string;
    /** A whole number; 0 keeps every version. */
    KeepDocumentVersions: string;
    /** Written to the document's owner tag. */
    Owner: string;
    /** "true" or "false": manage the document even when another owner's tag is on it. */
    TakeOver: string;
}

export interface CustomResourceEvent {
    RequestType: "Create" | "Update" | "Delete";
    ResponseURL: string;
    StackId: string;
    RequestId: string;
    LogicalResourceId: string;
    PhysicalResourceId?: string;
    ResourceProperties: DocumentProperties;
    OldResourceProperties?: DocumentProperties;
}

export interface LambdaContext {
    getRemainingTimeInMillis(): number;
}

/** The properties, checked and typed. */
export interface DocumentSettings {
    desired: operations.DesiredDocument;
    onDelete: OnDelete;
}

/** What was found at adoption, as the physical ID records it. */
export interface AdoptionRecord {
    name: string;
    /** null: there was no document. */
    version: string | null;
    /** Of the version's format and exact text; absent in IDs that predate it. */
    digest?: string;
}

/** The ID answered when no document was looked at: a Delete for it touches nothing. */
export const unappliedId = "unapplied";

// Leaves the PUT to CloudFormation enough time before Lambda stops the function.
const marginMs = 3000;

export async function handler(event: CustomResourceEvent, context: LambdaContext): Promise<void> {
    const url = event?.ResponseURL;
    if (!url) return console.log("no ResponseURL to answer:", JSON.stringify(event));
    // Set as soon as Create has looked at the document, so that a failed Create still tells
    // the rollback's Delete what to put back.
    const applied = { id: event.PhysicalResourceId };
    let outcome = "";
    let reason = "";
    let timer: NodeJS.Timeout | undefined;
    try {
        const outOfTime = new Promise<never>((_, reject) => {
            const ms = context.getRemainingTimeInMillis() - marginMs;
            timer = setTimeout(() => reject(new Error(`not finished ${marginMs} ms before the Lambda timeout`)), ms);
        });
        outcome = await Promise.race([apply(event, applied), outOfTime]);
    } catch (err) {
        reason = (err as Error)?.message || String(err);
    }
    clearTimeout(timer);
    console.log(JSON.stringify({ request: event.RequestType, physicalResourceId: applied.id, ...(reason ? { failed: reason } : { outcome }) }));
    await answer(
        url,
        JSON.stringify({
            Status: reason ? "FAILED" : "SUCCESS",
            Reason: reason.slice(0, 1000),
            PhysicalResourceId: applied.id || unappliedId,
            StackId: event.StackId,
            RequestId: event.RequestId,
            LogicalResourceId: event.LogicalResourceId,
        }),
    );
}

/** Carries out one event; returns what happened, for the log. */
async function apply(event: CustomResourceEvent, applied: { id?: string }): Promise<string> {
    const type = event.RequestType;
    if (type !== "Create" && type !== "Update" && type !== "Delete") throw new Error(`malformed event: RequestType ${String(type)}`);
    const record = parsePhysicalId(applied.id);
    if (type === "Delete") {
        // Checked before the properties: the rollback of a Create that failed on them must succeed.
        if (!record) return "nothing to release: the Create failed before it looked at the document";
        return release(ssmClient(), record, parseReleaseProperties(event.ResourceProperties));
    }
    const { desired } = parseProperties(event.ResourceProperties);
    const client = ssmClient();
    if (type === "Update" && record?.name === desired.name) {
        const previousOwner = event.OldResourceProperties?.Owner || desired.owner;
        const adoption = record ? await recordedAdoption(client, record) : undefined;
        return summary(await operations.updateDocument(client, desired, previousOwner, adoption));
    }
    // A Create, or an Update to another document name: a new resource, whose old ID
    // CloudFormation then deletes, releasing the old document.
    const result = await operations.adoptDocument(client, desired, (adoption) => (applied.id = physicalId(desired.name, adoption)));
    applied.id = physicalId(desired.name, result);
    return `adopted ${result.adoptedVersion === null ? "no document" : `version ${result.adoptedVersion}`}; ${summary(result)}`;
}

/** In the function's own account and Region; adaptive retries absorb SSM's throttling when a StackSet deploys everywhere at once. */
function ssmClient(): SSMClient {
    return new SSMClient({ retryMode: "adaptive", maxAttempts: 6 });
}

function summary(result: operations.ApplyResult): string {
    return `default version ${result.documentVersion}`;
}

async function release(client: SSMClient, record: AdoptionRecord, settings: ReleaseSettings): Promise<string> {
    const { onDelete, owner } = settings;
    const adoption = await recordedAdoption(client, record);
    if (!adoption && onDelete === "restore") return originalLost(client, record, owner);
    const outcome = await operations.releaseDocument(client, { name: record.name, owner, onDelete, ...(adoption ?? operations.noAdoption) });
    return releaseMessage({ document: record.name, ...outcome }, onDelete);
}

/**
 * The version found at adoption, read back; undefined when it no longer holds what was
 * found (pruned, or the document deleted and made again since: the digest tells).
 */
function recordedAdoption(client: SSMClient, record: AdoptionRecord): Promise<operations.Adoption | undefined> {
    return operations.readAdoptedVersion(
        client,
        record.name,
        record.version,
        (found) => record.digest === undefined || digestOf(found.format, found.raw) === record.digest,
    );
}

/** `restore` without the original to put back: refuses to call the managed content restored. */
async function originalLost(client: SSMClient, record: AdoptionRecord, owner: string): Promise<string> {
    const found = await operations.readDefault(client, record.name);
    if (!found) return releaseMessage({ document: record.name, kind: "absent" }, "restore");
    const currentOwner = await operations.readOwner(client, record.name);
    if (currentOwner !== undefined && currentOwner !== owner)
        return releaseMessage({ document: record.name, kind: "left to its owner", owner: currentOwner }, "restore");
    throw new Error(
        `cannot restore SSM document "${record.name}": version ${record.version} found at adoption no longer holds that content ` +
            `(the document was deleted or its versions pruned since), so it still holds this stack's preferences. ` +
            `Set onDelete to retain or reset and update the StackSet before deleting, or delete this stack again retaining ${logicalIds.document}.`,
    );
}

function digestOf(format: string, raw: string): string {
    return createHash("sha256").update(`${format}\n${raw}`).digest("hex").slice(0, 16);
}

export function physicalId(name: string, adoption: operations.Adoption): string {
    if (adoption.adoptedVersion === null || adoption.adoptedContent === null || adoption.adoptedFormat === null) return `${name}:adopted-none`;
    return `${name}:adopted-${adoption.adoptedVersion}:${digestOf(adoption.adoptedFormat, adoption.adoptedContent)}`;
}

export function parsePhysicalId(id: string | undefined): AdoptionRecord | undefined {
    const match = /^([\w.-]+):adopted-(?:none|(\d+)(?::([0-9a-f]{16}))?)$/.exec(id ?? "");
    if (!match) return undefined;
    return { name: match[1], version: match[2] ?? null, ...(match[3] ? { digest: match[3] } : {}) };
}

type Properties = Partial<Record<keyof DocumentProperties, unknown>> | undefined;

/** Reads one property with its rule; a malformed event fails naming it. Text that may be empty may also be absent. */
function reader(props: Properties) {
    return <T>(key: keyof DocumentProperties, rule: f.Rule<T>, mayBeEmpty = false): T => {
        const value = props?.[key] ?? (mayBeEmpty ? "" : undefined);
        if (typeof value !== "string" || (value === "" && !mayBeEmpty))
            throw new Error(`malformed event: property ${key} must be a non-empty string; got ${JSON.stringify(value)}`);
        try {
            return rule(value, key);
        } catch (err) {
            if (err instanceof f.InvalidValue) throw new Error(`malformed event: ${err.message}`, { cause: err });
            throw err;
        }
    };
}

/** The rule of each preference property; a log archive's bucket name may say {region} (core/landingZone.ts). */
const propertyRules: { [K in keyof DocumentPreferences]: f.Rule<DocumentPreferences[K]> } = {
    ...f.documentPreferenceRules,
    s3BucketName: (value, key) => (value === "" ? "" : f.bucketNameTemplate(value, key)),
};

/** The preferences whose empty value means "none": absent is empty. */
const emptyAllowed: readonly (keyof DocumentPreferences)[] = ["s3BucketName", "s3KeyPrefix", "runAsDefaultUser", "winShellProfile", "linuxShellProfile"];

export interface ReleaseSettings {
    owner: string;
    onDelete: OnDelete;
}

/**
 * What a Delete needs: whose the document is and what to leave. Nothing else is read, so that a
 * Delete with the properties of an earlier template (CloudFormation sends the old ones when it
 * cleans up after an update) still releases the document.
 */
export function parseReleaseProperties(props: Properties): ReleaseSettings {
    const read = reader(props);
    return { owner: read("Owner", f.owner), onDelete: read("OnDelete", f.onDelete) };
}

/**
 * Checks the properties the template set, with the rules the configuration and the document
 * provider use (core/fieldRules.ts), and makes the document from the preferences as the direct
 * mode does (core/document.ts); a malformed event fails naming the property. RepairToken is not
 * read: a new value only makes CloudFormation send an Update, which writes the document again.
 */
export function parseProperties(props: Properties): DocumentSettings {
    const read = reader(props);
    const name = read("DocumentName", f.documentName);
    const base = read("Content", (value, key) => {
        let parsed: unknown;
        try {
            parsed = JSON.parse(value as string);
        } catch (err) {
            throw new f.InvalidValue(key, value, `JSON (${(err as Error).message})`);
        }
        const problem = f.sessionDocumentContentProblem(parsed, (c) => Buffer.byteLength(JSON.stringify(c), "utf8"));
        if (problem) throw new f.InvalidValue(key, value, problem);
        return parsed as { inputs: Record<string, unknown> };
    });
    const accountId = read("AccountId", f.accountId);
    const region = read("Region", f.region);
    const preferences = Object.fromEntries(
        documentPreferenceKeys.map((key) => [key, read<unknown>(parameterNames[key], propertyRules[key], emptyAllowed.includes(key))]),
    ) as unknown as DocumentPreferences;
    const related = f.relatedFieldProblems(preferences, (field) => parameterNames[field]);
    if (related.length > 0) throw new Error(`malformed event: ${related.map((p) => p.message).join("; ")}`);
    const text = (v: unknown) => (typeof v === "string" ? v : "");
    const inputs = documentContent(preferences, {
        accountId,
        region,
        kmsKeyId: text(base.inputs.kmsKeyId),
        logGroupName: text(base.inputs.cloudWatchLogGroupName),
    }).inputs;
    const content = { ...base, inputs };
    const problem = f.sessionDocumentContentProblem(content, (c) => Buffer.byteLength(JSON.stringify(c), "utf8"));
    if (problem) throw new Error(`malformed event: the document made from the properties is not valid: ${problem}`);
    return {
        desired: {
            name,
            content,
            owner: read("Owner", f.owner),
            takeOver: read("TakeOver", f.takeOver),
            keepDocumentVersions: read("KeepDocumentVersions", f.keepDocumentVersions),
        },
        onDelete: read("OnDelete", f.onDelete),
    };
}

/** PUTs the response to the pre-signed URL, retrying briefly: unanswered, the stack waits out the ServiceTimeout. */
async function answer(url: string, body: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
        try {
            const res = await fetch(url, { method: "PUT", headers: { "content-type": "" }, body });
            if (res.ok) return;
            throw new Error(`HTTP ${res.status}`);
        } catch (err) {
            if (attempt === 3) return console.log("could not answer CloudFormation:", err);
            await new Promise((r) => setTimeout(r, 1000 * attempt));
        }
    }
}
