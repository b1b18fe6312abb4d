/**
 * The custom resource behind `deployment: stackset`: applies the Session document in the
 * stack's account and Region with the same semantics as the direct mode's provider.
 *
 * This file ships as the template's inline ZipFile (see lambda/inlineCode.ts), so it
 * imports nothing but the AWS SDK the Lambda Node.js runtime provides, and stays small.
 *
 * What was found at adoption lives in the physical ID (`<document>:adopted-<version>` or
 * `<document>:adopted-none`): it is the one thing CloudFormation hands back on Delete.
 * Restoring then means promoting that version again, or deleting a document we created.
 */

// Required, not imported, so that the transpiled code calls the runtime's SDK directly.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ssm: typeof import("@aws-sdk/client-ssm") = require("@aws-sdk/client-ssm");

export interface SessionDocumentProperties {
    DocumentName: string;
    /** The document content as JSON, computed by core/document.ts. */
    Content: string;
    /** restore (default), reset or retain. */
    OnDelete?: string;
    /** What `reset` writes: the AWS default content as JSON. */
    ResetContent?: string;
}

export interface CustomResourceEvent {
    RequestType: "Create" | "Update" | "Delete";
    ResponseURL: string;
    StackId: string;
    RequestId: string;
    LogicalResourceId: string;
    PhysicalResourceId?: string;
    ResourceProperties: SessionDocumentProperties;
}

export interface LambdaContext {
    getRemainingTimeInMillis(): number;
}

type Client = InstanceType<typeof ssm.SSMClient>;
type Json = Record<string, unknown>;

// Leaves the PUT to CloudFormation enough time before Lambda stops the function.
const marginMs = 3000;

export async function handler(event: CustomResourceEvent, context: LambdaContext): Promise<void> {
    const url = event?.ResponseURL;
    if (!url) return console.log("no ResponseURL to answer:", JSON.stringify(event));
    // Known as soon as Create has looked at the document, so that a failed Create still
    // tells the rollback's Delete what to put back.
    const applied = { id: event.PhysicalResourceId };
    let reason = "";
    let timer: NodeJS.Timeout | undefined;
    try {
        const outOfTime = new Promise<never>((_, reject) => {
            const ms = context.getRemainingTimeInMillis() - marginMs;
            timer = setTimeout(() => reject(new Error(`not finished ${marginMs} ms before the Lambda timeout`)), ms);
        });
        await Promise.race([apply(event, applied), outOfTime]);
    } catch (err) {
        reason = (err as Error)?.message || String(err);
    }
    clearTimeout(timer);
    console.log(event.RequestType, applied.id, reason || "done");
    await answer(
        url,
        JSON.stringify({
            Status: reason ? "FAILED" : "SUCCESS",
            Reason: reason.slice(0, 1000),
            PhysicalResourceId: applied.id || "unapplied",
            StackId: event.StackId,
            RequestId: event.RequestId,
            LogicalResourceId: event.LogicalResourceId
        }),
    );
}

async function apply(event: CustomResourceEvent, applied: { id?: string }): Promise<void> {
    const props = event.ResourceProperties;
    const name = props?.DocumentName;
    if (typeof name != "string" || typeof props.Content != "string") throw new Error("malformed event: no DocumentName or Content");
    // Content that is not JSON fails here, before anything is read or written.
    JSON.parse(props.Content);
    const adopted = /^([\w.-]+):adopted-(none|\d+)$/.exec(applied.id ?? "");
    const client = new ssm.SSMClient({ retryMode: "adaptive" });
    const type = event.RequestType;
    if (type == "Delete") {
        // No adoption record: a Create that failed before it looked at the document.
        if (!adopted || props.OnDelete == "retain") return;
        if (props.OnDelete == "reset") {
            const found = await getDocument(client, adopted[1]);
            if (found) await converge(client, adopted[1], String(props.ResetContent), found);
            return;
        }
        try {
            if (adopted[2] == "none") await client.send(new ssm.DeleteDocumentCommand({ Name: adopted[1] }));
            else await client.send(new ssm.UpdateDocumentDefaultVersionCommand({ Name: adopted[1], DocumentVersion: adopted[2] }));
        } catch (err) {
            // Someone deleted the document since: there is nothing left to put back.
            if (!(err instanceof ssm.InvalidDocument)) throw err;
        }
        return;
    }
    if (type != "Create" && type != "Update") throw new Error(`malformed event: RequestType ${type}`);
    const found = await getDocument(client, name);
    // A new name is a new resource: CloudFormation then deletes the old ID, restoring the old document.
    if (type == "Create" || adopted?.[1] != name) applied.id = `${name}:adopted-${found?.DocumentVersion ?? "none"}`;
    return converge(client, name, props.Content, found);
}

/** The default version, or the one asked for; undefined when there is none. */
async function getDocument(client: Client, name: string, version?: string) {
    try {
        return await client.send(new ssm.GetDocumentCommand({ Name: name, DocumentVersion: version, DocumentFormat: "JSON" }));
    } catch (err) {
        if (err instanceof ssm.InvalidDocument) return undefined;
        throw err;
    }
}

/**
 * Makes `content` the default version. `found` is the current default version, absent when
 * there is no document; nothing is written when it already holds equal content.
 */
async function converge(client: Client, name: string, content: string, found?: { Content?: string }): Promise<void> {
    const wanted: unknown = JSON.parse(content);
    if (!found) {
        await client.send(new ssm.CreateDocumentCommand({ Name: name, Content: content, DocumentType: "Session", DocumentFormat: "JSON" }));
        return;
    }
    if (same(JSON.parse(found.Content ?? ""), wanted)) return;
    let version: string | undefined;
    try {
        const updated = await client.send(new ssm.UpdateDocumentCommand({ Name: name, Content: content, DocumentVersion: "$LATEST", DocumentFormat: "JSON" }));
        version = updated.DocumentDescription?.DocumentVersion;
    } catch (err) {
        if (!(err instanceof ssm.DuplicateDocumentContent)) throw err;
        version = await versionHolding(client, name, wanted);
    }
    await client.send(new ssm.UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: version }));
}

/** The newest version whose content equals `wanted`: what DuplicateDocumentContent refers to. */
async function versionHolding(client: Client, name: string, wanted: unknown): Promise<string> {
    for (let v = Number((await getDocument(client, name, "$LATEST"))?.DocumentVersion); v > 0; v--) {
        const found = await getDocument(client, name, String(v));
        if (found && same(JSON.parse(found.Content ?? ""), wanted)) return String(v);
    }
    throw new Error(`${name}: SSM reports DuplicateDocumentContent, but no version holds the content`);
}

/** Deep equality of parsed JSON: key order and formatting are not differences. */
function same(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (!a || !b || typeof a != "object" || typeof b != "object" || Array.isArray(a) != Array.isArray(b)) return false;
    const keys = Object.keys(a);
    return keys.length == Object.keys(b).length && keys.every((k) => k in b && same((a as Json)[k], (b as Json)[k]));
}

/** PUTs the response to the pre-signed URL, retrying briefly: unanswered, the stack waits out the ServiceTimeout. */
async function answer(url: string, body: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
        try {
            const res = await fetch(url, { method: "PUT", headers: { "content-type": "" }, body });
            if (res.ok) return;
            throw new Error(`HTTP ${res.status}`);
        } catch (err) {
            if (attempt == 3) return console.log("could not answer CloudFormation:", err);
            await new Promise((r) => setTimeout(r, 1000 * attempt));
        }
    }
}
