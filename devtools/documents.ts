// What the engine tests need to look at moto the way an operator would: the Session document of
// one account and Region, read through a role assumed in that account; seeding "console-made"
// documents; and the content the program should write there, computed from the same config.
import * as fs from "node:fs";
import * as path from "node:path";
import {
    CreateDocumentCommand,
    DescribeDocumentCommand,
    GetDocumentCommand,
    ListTagsForResourceCommand,
    SSMClient,
    UpdateDocumentCommand,
    UpdateDocumentDefaultVersionCommand,
} from "@aws-sdk/client-ssm";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import * as yaml from "js-yaml";
import { parseSettings } from "../core/config";
import { desiredDocument, SessionDocumentContent } from "../core/document";
import { resolveKeyArnTemplate } from "../core/rules";
import { Settings } from "../core/settings";
import { sessionDocumentType } from "../core/names";
import { ownerTagKey } from "../providers/documentOperations";
import { configNamespace, ConfigInput, repoRoot } from "./engine";

export const documentName = "SSM-SessionManagerRunShell";

/** "<account>/<region>", as the program's `targets` output keys them. */
export type TargetKey = string;

export interface DocumentView {
    defaultVersion: string;
    latestVersion: string;
    /** Every version number that still exists, ascending. */
    versions: string[];
    /** The default version's content exactly as stored (asked in its own format). */
    raw: string;
    format: string;
    content: SessionDocumentContent;
    tags: Record<string, string>;
}

/**
 * SSM clients for moto, each acting in the account of its target through an assumed role,
 * as an operator with console access to that account would. `endpoint` is moto itself, never
 * a fault proxy: what the tests read must not be faulted.
 */
export class DocumentInspector {
    private readonly clients = new Map<string, SSMClient>();

    constructor(
        private readonly endpoint: string,
        private readonly roleName = "ConsoleOperator",
    ) {}

    client(target: TargetKey): SSMClient {
        let client = this.clients.get(target);
        if (!client) {
            const [accountId, region] = target.split("/");
            const clientConfig = { region, endpoint: this.endpoint };
            client = new SSMClient({
                ...clientConfig,
                credentials: fromTemporaryCredentials({
                    params: { RoleArn: `arn:aws:iam::${accountId}:role/${this.roleName}`, RoleSessionName: "test-inspector" },
                    masterCredentials: { accessKeyId: "testing", secretAccessKey: "testing" },
                    clientConfig,
                }),
            });
            this.clients.set(target, client);
        }
        return client;
    }

    /** Creates the document as someone in the console would have; returns the exact text stored. */
    async seed(target: TargetKey, raw: string, format: "JSON" | "YAML" = "JSON"): Promise<string> {
        await this.client(target).send(new CreateDocumentCommand({ Name: documentName, Content: raw, DocumentFormat: format, DocumentType: "Session" }));
        return raw;
    }

    /** An out-of-band edit: a new version made the default, as the console's "Save" does. Returns the version. */
    async editOutOfBand(target: TargetKey, raw: string, promote = true): Promise<string> {
        const client = this.client(target);
        const updated = await client.send(new UpdateDocumentCommand({ Name: documentName, Content: raw, DocumentFormat: "JSON", DocumentVersion: "$LATEST" }));
        const version = updated.DocumentDescription?.DocumentVersion;
        if (!version) throw new Error(`moto made no version of ${documentName} in ${target}`);
        if (promote) await client.send(new UpdateDocumentDefaultVersionCommand({ Name: documentName, DocumentVersion: version }));
        return version;
    }

    /** The document as it is now, or undefined when there is none. */
    async view(target: TargetKey): Promise<DocumentView | undefined> {
        const client = this.client(target);
        let head;
        try {
            head = (await client.send(new DescribeDocumentCommand({ Name: documentName }))).Document;
        } catch (err) {
            if ((err as Error).name === "InvalidDocument") return undefined;
            throw err;
        }
        if (!head?.DefaultVersion || !head.LatestVersion) throw new Error(`moto described ${documentName} in ${target} without version numbers`);
        const defaultHead = (await client.send(new DescribeDocumentCommand({ Name: documentName, DocumentVersion: head.DefaultVersion }))).Document;
        const format = defaultHead?.DocumentFormat ?? "JSON";
        const got = await client.send(new GetDocumentCommand({ Name: documentName, DocumentVersion: head.DefaultVersion, DocumentFormat: format }));
        if (got.Content === undefined) throw new Error(`moto returned ${documentName} in ${target} without content`);
        // moto 5 has no ListDocumentVersions; the numbers are bounded by the latest one.
        const versions: string[] = [];
        for (let n = 1; n <= Number(head.LatestVersion); n++) {
            try {
                await client.send(new DescribeDocumentCommand({ Name: documentName, DocumentVersion: String(n) }));
                versions.push(String(n));
            } catch (err) {
                if ((err as Error).name !== "InvalidDocument") throw err;
            }
        }
        const { TagList } = await client.send(new ListTagsForResourceCommand({ ResourceType: "Document", ResourceId: documentName }));
        const content = (format === "YAML" ? yaml.load(got.Content) : JSON.parse(got.Content)) as SessionDocumentContent;
        return {
            defaultVersion: head.DefaultVersion,
            latestVersion: head.LatestVersion,
            versions,
            raw: got.Content,
            format,
            content,
            tags: Object.fromEntries((TagList ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
        };
    }

    /** Like {@link view}, but the document must exist. */
    async mustView(target: TargetKey): Promise<DocumentView> {
        const view = await this.view(target);
        if (!view) throw new Error(`no ${documentName} in ${target}`);
        return view;
    }

    owner(view: DocumentView): string | undefined {
        return view.tags[ownerTagKey];
    }

    /** Forgets the clients; needed after moto.reset(), which also forgets the assumed-role sessions they hold. */
    close(): void {
        for (const client of this.clients.values()) client.destroy();
        this.clients.clear();
    }
}

/**
 * A document as someone made it in the console, with other settings than the stack's, laid out
 * its own way (key order, indentation), so only an exact copy of the text compares equal.
 */
export function consoleDocument(target: TargetKey): string {
    const [accountId, region] = target.split("/");
    const content = {
        schemaVersion: "1.0",
        description: `Made in the console for ${accountId} in ${region}`,
        sessionType: "Standard_Stream",
        inputs: {
            idleSessionTimeout: "45",
            maxSessionDuration: "",
            s3BucketName: `console-logs-${accountId}`,
            s3KeyPrefix: region,
            s3EncryptionEnabled: false,
            cloudWatchLogGroupName: "",
            cloudWatchEncryptionEnabled: true,
            cloudWatchStreamingEnabled: false,
            kmsKeyId: "",
            runAsEnabled: false,
            runAsDefaultUser: "",
            shellProfile: { linux: "cd $HOME", windows: "" },
        },
    };
    return `${JSON.stringify(content, null, 4)}\n`;
}

/** The `config:` map of a stack file in the repository, e.g. Pulumi.local.yaml. */
export function stackFileConfig(file: string): Record<string, unknown> {
    const parsed = yaml.load(fs.readFileSync(path.join(repoRoot, file), "utf8")) as { config?: Record<string, unknown> };
    return { ...(parsed.config ?? {}) };
}

/** The `sessionManager:*` part of a config map as the program sees it, parsed and validated. */
export function settingsOf(config: Readonly<Record<string, unknown>>): Settings {
    const prefix = `${configNamespace}:`;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        if (value === undefined) continue;
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
        else if (!key.includes(":")) raw[key] = value;
    }
    return parseSettings(raw);
}

/** Every "<account>/<region>" the settings target, in config order. */
export function targetKeys(settings: Settings): TargetKey[] {
    return settings.targets.flatMap((t) => t.regions.map((r) => `${t.accountId}/${r}`));
}

/**
 * The content the program must leave as the default version in `target`: the document the
 * pure core computes for these settings, with the existing key ARN resolved for the target.
 */
export function desiredFor(settings: Settings, target: TargetKey): SessionDocumentContent {
    const [accountId, region] = target.split("/");
    const kmsKeyId =
        settings.sessionDataEncryption && settings.sessionDataKeyArn ? resolveKeyArnTemplate(settings.sessionDataKeyArn, { accountId, region }) : "";
    return desiredDocument(settings, { accountId, region, kmsKeyId });
}

/** Turns a config map with full keys (`sessionManager:x`, `aws:region`) into what createLocalStack takes. */
export function asStackConfig(config: Readonly<Record<string, unknown>>): Record<string, ConfigInput> {
    return Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) as Record<string, ConfigInput>;
}

/** One document resource of an exported deployment, by its target. */
export interface DocumentResourceState {
    urn: string;
    outputs: Record<string, unknown>;
}

/** The Session document resources in a stack's exported state, keyed "<account>/<region>". */
export function documentStates(deployment: {
    deployment?: { resources?: { urn: string; type: string; outputs?: Record<string, unknown> }[] };
}): Map<TargetKey, DocumentResourceState> {
    const found = new Map<TargetKey, DocumentResourceState>();
    for (const resource of deployment.deployment?.resources ?? []) {
        if (resource.type !== sessionDocumentType) continue;
        const outputs = resource.outputs ?? {};
        found.set(`${String(outputs.accountId)}/${String(outputs.region)}`, { urn: resource.urn, outputs });
    }
    return found;
}
