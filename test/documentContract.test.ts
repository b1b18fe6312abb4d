// One contract, two implementations: what managing the Session document does, as a table,
// run against direct mode's dynamic provider and against StackSet mode's custom resource (the
// bundled handler exactly as the template carries it, sent CloudFormation's events), with moto
// behind both. Adding a case is adding a row to `contract`.
import * as ssm from "@aws-sdk/client-ssm";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { awsDefaultDocument, desiredDocument, SessionDocumentContent } from "../core/document";
import { defaultPreferences, Preferences } from "../core/settings";
import { stackSetOwner } from "../core/stackSet";
import { CfnTemplate, logicalIds, sessionManagerTemplate } from "../core/template";
import type { CustomResourceEvent } from "../lambda/handler";
import { handlerBundle } from "../lambda/bundle";
import { ownerTagKey, serializeContent } from "../providers/documentOperations";
import { sessionDocumentProvider, SessionDocumentInputs, SessionDocumentState } from "../providers/sessionDocument";
import { StackValues } from "./support/cloudformation";
import { CfnResponse, CustomResourceInvoker, documentProperties, loadTemplateHandler, ResponseServer } from "./support/customResource";
import { Moto, motoDefaultAccount, motoEnv, startMoto } from "../devtools/moto";

const region = "eu-west-1";
const documentName = "SSM-SessionManagerRunShell";
const project = "session-manager-preferences";
const stack = "contract";
const sessionDataKeyId = "0a1b2c3d-1111-2222-3333-444455556666";
const anotherOwner = "platform-legacy/prod";

type Mode = "direct" | "stackset";
const modes: Mode[] = ["direct", "stackset"];
const owners: Record<Mode, string> = { direct: `${project}/${stack}`, stackset: stackSetOwner(project, stack) };

/** The settings every case starts from; a step changes some of them. */
const base: Preferences = { ...defaultPreferences, s3Logging: true, s3BucketName: "org-session-logs", deployment: "stackset" };
type Settings = Partial<Preferences>;

/** The content both modes must write for these settings in the contract's account and Region. */
function doc(settings: Settings = {}): SessionDocumentContent {
    return desiredDocument({ ...base, ...settings }, { accountId: motoDefaultAccount, region, kmsKeyId: sessionDataKeyId });
}

// Originals someone saved before either mode came: exact text, laid out their own way.
const jsonOriginal = `${JSON.stringify({ ...doc({ idleSessionTimeout: 45 }), description: "Saved in the console" }, null, 4)}\n`;
const yamlOriginal = `# Set by hand in 2021: keep sessions short\nschemaVersion: '1.0'\ndescription: Legacy preferences\nsessionType: Standard_Stream\ninputs:\n  s3BucketName: ''\n  idleSessionTimeout: '10'\n  runAsEnabled: false\n`;
/** doc() in YAML, keys sorted: equal once parsed, different as text. */
const yamlOfDoc = `# the same preferences, by hand\n${yaml.dump(doc(), { sortKeys: true })}`;

/** What a step does: the stack's operations, and what others do to the document meanwhile. */
type Step =
    | { stack: "create" | "update"; settings: Settings; fails?: Partial<Record<Mode, RegExp>> }
    | { stack: "delete"; fails?: Partial<Record<Mode, RegExp>> }
    | { others: "seed"; raw: string; format: "JSON" | "YAML" }
    | { others: "edit"; content: unknown; promote: boolean }
    | { others: "tag"; owner: string }
    | { others: "deleteDocument" };

const create = (settings: Settings = {}, fails?: Partial<Record<Mode, RegExp>>): Step => ({ stack: "create", settings, fails });
const update = (settings: Settings = {}, fails?: Partial<Record<Mode, RegExp>>): Step => ({ stack: "update", settings, fails });
const remove = (fails?: Partial<Record<Mode, RegExp>>): Step => ({ stack: "delete", fails });
const bothFail = (pattern: RegExp) => ({ direct: pattern, stackset: pattern });
/** A document saved before: in the console, or by another tool. */
const original = (raw: string, format: "JSON" | "YAML" = "JSON"): Step => ({ others: "seed", raw, format });
/** Saving in the console: a new version, made the default. */
const consoleEdit = (content: unknown): Step => ({ others: "edit", content, promote: true });
/** A write whose promotion never happened: what an apply interrupted in between leaves. */
const interruptedWrite = (settings: Settings): Step => ({ others: "edit", content: doc(settings), promote: false });
const taggedBy = (owner: string): Step => ({ others: "tag", owner });
const deletedBehindItsBack: Step = { others: "deleteDocument" };

/** What moto holds afterwards; unset fields are not checked. */
interface Expected {
    absent?: true;
    content?: unknown;
    /** The default version's exact text, and its format. */
    raw?: string;
    format?: "JSON" | "YAML";
    defaultVersion?: string;
    latestVersion?: string;
    versions?: string[];
    /** "self": this mode's own owner tag; null: no owner tag. */
    owner?: "self" | string | null;
    tags?: Record<string, string>;
}

interface Case {
    spec: string;
    steps: Step[];
    then: Expected | Record<Mode, Expected>;
    /** Why the modes differ, when `then` or a step's failure differs: the README's mode table lists each. */
    differs?: string;
}

const contract: Case[] = [
    {
        spec: "creates the document when there is none, tagged with its owner",
        steps: [create()],
        then: { content: doc(), format: "JSON", defaultVersion: "1", versions: ["1"], owner: "self" },
    },
    {
        spec: "adopts a JSON original: one new version, made the default",
        steps: [original(jsonOriginal), create()],
        then: { content: doc(), defaultVersion: "2", versions: ["1", "2"], owner: "self" },
    },
    {
        spec: "writes no version when the original already holds equal content, though YAML with its keys in another order",
        steps: [original(yamlOfDoc, "YAML"), create()],
        then: { raw: yamlOfDoc, format: "YAML", defaultVersion: "1", versions: ["1"], owner: "self" },
    },
    {
        spec: "no-op: an update with equal content writes nothing",
        steps: [create(), update({ keepDocumentVersions: 50 })],
        then: { content: doc(), versions: ["1"], owner: "self" },
    },
    {
        spec: "an update with changed content writes exactly one version and promotes it",
        steps: [create(), update({ idleSessionTimeout: 15 })],
        then: { content: doc({ idleSessionTimeout: 15 }), defaultVersion: "2", versions: ["1", "2"] },
    },
    {
        spec: "drift repair: the next update replaces a console edit with the wanted content",
        steps: [create(), consoleEdit(doc({ idleSessionTimeout: 60, runAsEnabled: true, runAsDefaultUser: "admin" })), update({ idleSessionTimeout: 15 })],
        then: { content: doc({ idleSessionTimeout: 15 }), defaultVersion: "3", versions: ["1", "2", "3"], owner: "self" },
    },
    {
        spec: "promote after an interrupted write: adopting promotes the version already holding the content",
        steps: [original(jsonOriginal), interruptedWrite({}), create()],
        then: { content: doc(), defaultVersion: "2", versions: ["1", "2"], owner: "self" },
    },
    {
        spec: "promote after an interrupted write: updating promotes the version already holding the content",
        steps: [create(), interruptedWrite({ idleSessionTimeout: 15 }), update({ idleSessionTimeout: 15 })],
        then: { content: doc({ idleSessionTimeout: 15 }), defaultVersion: "2", versions: ["1", "2"] },
    },
    {
        spec: "prune: keeps the newest keepDocumentVersions versions",
        steps: [create({ keepDocumentVersions: 3 }), ...[21, 22, 23, 24].map((t) => update({ keepDocumentVersions: 3, idleSessionTimeout: t }))],
        then: { content: doc({ idleSessionTimeout: 24 }), defaultVersion: "5", versions: ["3", "4", "5"] },
    },
    {
        spec: "prune: keeps every version when keepDocumentVersions is 0",
        steps: [create({ keepDocumentVersions: 0 }), ...[21, 22, 23].map((t) => update({ keepDocumentVersions: 0, idleSessionTimeout: t }))],
        then: { versions: ["1", "2", "3", "4"] },
    },
    {
        spec: "owner conflict: refuses a document another stack owns, naming that stack, and changes nothing",
        steps: [original(jsonOriginal), taggedBy(anotherOwner), create({}, bothFail(/managed by "platform-legacy\/prod"/))],
        then: { raw: jsonOriginal, defaultVersion: "1", versions: ["1"], owner: anotherOwner },
    },
    {
        spec: "owner conflict: an update stops when another stack has tagged the document since",
        steps: [create(), taggedBy(anotherOwner), update({ idleSessionTimeout: 15 }, bothFail(/managed by "platform-legacy\/prod"/))],
        then: { content: doc(), versions: ["1"], owner: anotherOwner },
    },
    {
        spec: "take-over: with takeOver it manages a document another stack owns, and tags it as its own",
        steps: [original(jsonOriginal), taggedBy(anotherOwner), create({ takeOver: true })],
        then: { content: doc(), defaultVersion: "2", owner: "self" },
    },
    {
        spec: "take-over: restore then puts back what was there when it took over",
        steps: [original(jsonOriginal), taggedBy(anotherOwner), create({ takeOver: true }), update({ takeOver: true, idleSessionTimeout: 15 }), remove()],
        then: { raw: jsonOriginal, format: "JSON", defaultVersion: "1", tags: {} },
    },
    {
        spec: "release leaves alone a document another stack has taken over since",
        steps: [create(), consoleEdit(doc({ idleSessionTimeout: 5 })), taggedBy(anotherOwner), remove()],
        then: { content: doc({ idleSessionTimeout: 5 }), owner: anotherOwner },
    },
    {
        spec: "onDelete restore: puts back a JSON original's exact text by promoting its version",
        steps: [original(jsonOriginal), create(), update({ idleSessionTimeout: 15 }), remove()],
        then: { raw: jsonOriginal, format: "JSON", defaultVersion: "1", versions: ["1", "2", "3"], tags: {} },
    },
    {
        spec: "onDelete restore: puts back a YAML original's exact text",
        steps: [original(yamlOriginal, "YAML"), create(), remove()],
        then: { raw: yamlOriginal, format: "YAML", defaultVersion: "1", tags: {} },
    },
    {
        spec: "onDelete restore: deletes the document when there was none at adoption",
        steps: [create(), update({ idleSessionTimeout: 15 }), remove()],
        then: { absent: true },
    },
    {
        spec: "onDelete restore: pruning keeps the original's version, which restore promotes",
        steps: [original(yamlOriginal, "YAML"), create({ keepDocumentVersions: 1 }), update({ keepDocumentVersions: 1, idleSessionTimeout: 15 }), remove()],
        then: { raw: yamlOriginal, format: "YAML", defaultVersion: "1", tags: {} },
    },
    {
        spec: "onDelete reset: writes the AWS default preferences, as the CloudFormation sample does",
        steps: [original(jsonOriginal), create({ onDelete: "reset" }), remove()],
        then: { content: awsDefaultDocument(), defaultVersion: "3", tags: {} },
    },
    {
        spec: "onDelete retain: leaves the managed content and removes only the owner tag",
        steps: [original(jsonOriginal), create({ onDelete: "retain" }), remove()],
        then: { content: doc(), defaultVersion: "2", tags: {} },
    },
    {
        spec: "missing document: an update recreates a document deleted behind the stack's back",
        steps: [original(jsonOriginal), create(), deletedBehindItsBack, update({ idleSessionTimeout: 15 })],
        then: { content: doc({ idleSessionTimeout: 15 }), defaultVersion: "1", versions: ["1"], owner: "self" },
    },
    {
        spec: "missing document: restore after the document was deleted behind the stack's back",
        steps: [original(jsonOriginal), create(), deletedBehindItsBack, remove()],
        then: { direct: { raw: jsonOriginal, format: "JSON" }, stackset: { absent: true } },
        differs: "direct mode writes the original's text back from its state; the custom resource's record (a version number) went with the document",
    },
    {
        spec: "missing document: restore refuses to call a recreated document restored",
        steps: [
            original(jsonOriginal),
            create(),
            deletedBehindItsBack,
            update({ idleSessionTimeout: 15 }),
            remove({ stackset: /no longer holds that content/ }),
        ],
        then: { direct: { raw: jsonOriginal, format: "JSON" }, stackset: { content: doc({ idleSessionTimeout: 15 }), owner: "self" } },
        differs: "as above: version 1 now holds this stack's content, which the digest in the physical ID tells apart from the original",
    },
];

/** What a stack does to the document, in one mode. */
interface DocumentManager {
    create(settings: Preferences): Promise<void>;
    update(settings: Preferences): Promise<void>;
    delete(): Promise<void>;
}

/** Resource properties cross the engine as protobuf Structs: the provider sees what survives that. */
function wire<T>(value: unknown): T {
    return Struct.fromJavaScript(value as Record<string, never>).toJavaScript() as unknown as T;
}

/** Direct mode: the dynamic provider's check, create, update and delete, as `pulumi up` and `destroy` call them. */
class ProviderManager implements DocumentManager {
    private state?: SessionDocumentState;

    private async inputs(settings: Preferences): Promise<SessionDocumentInputs> {
        const raw = {
            accountId: motoDefaultAccount,
            region,
            content: doc(settings),
            owner: owners.direct,
            onDelete: settings.onDelete,
            keepDocumentVersions: settings.keepDocumentVersions,
            takeOver: settings.takeOver,
        };
        const { inputs, failures } = await sessionDocumentProvider.check!({} as SessionDocumentInputs, wire(raw));
        expect(failures ?? []).to.deep.equal([]);
        return wire(inputs);
    }

    async create(settings: Preferences): Promise<void> {
        const { outs } = await sessionDocumentProvider.create(await this.inputs(settings));
        this.state = wire(outs);
    }

    async update(settings: Preferences): Promise<void> {
        if (!this.state) throw new Error("update before create");
        const { outs } = await sessionDocumentProvider.update!("id", this.state, await this.inputs(settings));
        this.state = wire(outs);
    }

    async delete(): Promise<void> {
        if (!this.state) throw new Error("delete before create");
        await sessionDocumentProvider.delete!("id", this.state);
    }
}

/** What CloudFormation fills in for the stack instance in moto's account. */
const stackValues: StackValues = {
    "AWS::AccountId": motoDefaultAccount,
    "AWS::Region": region,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    [logicalIds.sessionDataKey]: sessionDataKeyId,
    [`${logicalIds.handler}.Arn`]: `arn:aws:lambda:${region}:${motoDefaultAccount}:function:DocumentHandler`,
};

function templateFor(settings: Preferences): CfnTemplate {
    return sessionManagerTemplate(settings, { handlerCode: handlerBundle(), owner: owners.stackset, regions: [region] });
}

/**
 * StackSet mode: the template's function sent the events CloudFormation sends for the
 * template's document resource, including a failed Create's rollback Delete, a failed
 * Update's rollback Update, and the Delete of the old ID when an Update answers a new one.
 */
class CustomResourceManager implements DocumentManager {
    private physicalId?: string;
    private properties?: CustomResourceEvent["ResourceProperties"];

    constructor(private readonly invoker: CustomResourceInvoker) {}

    private send(event: Partial<CustomResourceEvent>): Promise<CfnResponse> {
        return this.invoker.invoke(event);
    }

    async create(settings: Preferences): Promise<void> {
        const properties = documentProperties(templateFor(settings), stackValues);
        const created = await this.send({ RequestType: "Create", ResourceProperties: properties });
        if (created.Status === "FAILED") {
            const rollback = await this.send({ RequestType: "Delete", PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: properties });
            throw new Error(`${created.Reason}${rollback.Status === "FAILED" ? ` (and its rollback failed: ${rollback.Reason})` : ""}`);
        }
        this.physicalId = created.PhysicalResourceId;
        this.properties = properties;
    }

    async update(settings: Preferences): Promise<void> {
        if (!this.physicalId || !this.properties) throw new Error("update before create");
        const old = { id: this.physicalId, properties: this.properties };
        const properties = documentProperties(templateFor(settings), stackValues);
        const updated = await this.send({
            RequestType: "Update",
            PhysicalResourceId: old.id,
            ResourceProperties: properties,
            OldResourceProperties: old.properties,
        });
        if (updated.Status === "FAILED") {
            const rollback = await this.send({
                RequestType: "Update",
                PhysicalResourceId: old.id,
                ResourceProperties: old.properties,
                OldResourceProperties: properties,
            });
            throw new Error(`${updated.Reason}${rollback.Status === "FAILED" ? ` (and its rollback failed: ${rollback.Reason})` : ""}`);
        }
        this.physicalId = updated.PhysicalResourceId;
        this.properties = properties;
        if (updated.PhysicalResourceId !== old.id) {
            const cleanup = await this.send({ RequestType: "Delete", PhysicalResourceId: old.id, ResourceProperties: old.properties });
            if (cleanup.Status === "FAILED") throw new Error(`the cleanup Delete of ${old.id} failed: ${cleanup.Reason}`);
        }
    }

    async delete(): Promise<void> {
        if (!this.physicalId || !this.properties) throw new Error("delete before create");
        const deleted = await this.send({ RequestType: "Delete", PhysicalResourceId: this.physicalId, ResourceProperties: this.properties });
        if (deleted.Status === "FAILED") throw new Error(deleted.Reason);
    }
}

describe("document contract: direct mode's provider and StackSet mode's custom resource", function () {
    this.timeout(120_000);
    let moto: Moto;
    let client: ssm.SSMClient;
    let responses: ResponseServer;
    let invoker: CustomResourceInvoker;
    const savedEnv = { ...process.env };

    before(async () => {
        moto = await startMoto();
        Object.assign(process.env, motoEnv(moto, region));
        client = new ssm.SSMClient({ region });
        responses = new ResponseServer();
        await responses.start();
        invoker = new CustomResourceInvoker(loadTemplateHandler(templateFor(base)), responses);
    });
    after(async () => {
        process.env = savedEnv;
        await responses?.stop();
        await moto?.stop();
    });
    beforeEach(() => moto.reset());

    async function others(step: Exclude<Step, { stack: string }>): Promise<void> {
        switch (step.others) {
            case "seed":
                await client.send(
                    new ssm.CreateDocumentCommand({ Name: documentName, Content: step.raw, DocumentFormat: step.format, DocumentType: "Session" }),
                );
                return;
            case "edit": {
                const { DocumentDescription } = await client.send(
                    new ssm.UpdateDocumentCommand({
                        Name: documentName,
                        Content: serializeContent(step.content),
                        DocumentFormat: "JSON",
                        DocumentVersion: "$LATEST",
                    }),
                );
                if (step.promote)
                    await client.send(
                        new ssm.UpdateDocumentDefaultVersionCommand({ Name: documentName, DocumentVersion: DocumentDescription!.DocumentVersion! }),
                    );
                return;
            }
            case "tag":
                await client.send(
                    new ssm.AddTagsToResourceCommand({ ResourceType: "Document", ResourceId: documentName, Tags: [{ Key: ownerTagKey, Value: step.owner }] }),
                );
                return;
            case "deleteDocument":
                await client.send(new ssm.DeleteDocumentCommand({ Name: documentName }));
                return;
        }
    }

    async function run(mode: Mode, steps: Step[]): Promise<void> {
        const manager: DocumentManager = mode === "direct" ? new ProviderManager() : new CustomResourceManager(invoker);
        for (const [i, step] of steps.entries()) {
            if (!("stack" in step)) {
                await others(step);
                continue;
            }
            const fails = step.fails?.[mode];
            const act = () => (step.stack === "delete" ? manager.delete() : manager[step.stack]({ ...base, ...step.settings }));
            let error: Error | undefined;
            try {
                await act();
            } catch (err) {
                error = err as Error;
            }
            const what = `step ${i + 1} (${step.stack})`;
            if (fails) expect(error?.message, `${what} should fail`).to.match(fails);
            else if (error) throw new Error(`${what} failed: ${error.message}`);
        }
    }

    /** What moto holds, read with the SDK rather than through the code under test. */
    async function observe(): Promise<Expected> {
        let head;
        try {
            head = (await client.send(new ssm.DescribeDocumentCommand({ Name: documentName }))).Document!;
        } catch (err) {
            if (err instanceof ssm.InvalidDocument) return { absent: true };
            throw err;
        }
        const format = (await client.send(new ssm.DescribeDocumentCommand({ Name: documentName, DocumentVersion: head.DefaultVersion }))).Document!
            .DocumentFormat as "JSON" | "YAML";
        const raw = (await client.send(new ssm.GetDocumentCommand({ Name: documentName, DocumentVersion: head.DefaultVersion, DocumentFormat: format })))
            .Content!;
        const versions: string[] = [];
        for (let n = 1; n <= Number(head.LatestVersion); n++) {
            try {
                await client.send(new ssm.DescribeDocumentCommand({ Name: documentName, DocumentVersion: String(n) }));
                versions.push(String(n));
            } catch (err) {
                if (!(err instanceof ssm.InvalidDocument)) throw err;
            }
        }
        const { TagList } = await client.send(new ssm.ListTagsForResourceCommand({ ResourceType: "Document", ResourceId: documentName }));
        const tags = Object.fromEntries((TagList ?? []).map((t) => [t.Key!, t.Value!]));
        return {
            content: format === "YAML" ? yaml.load(raw) : JSON.parse(raw),
            raw,
            format,
            defaultVersion: head.DefaultVersion!,
            latestVersion: head.LatestVersion!,
            versions,
            owner: tags[ownerTagKey] ?? null,
            tags,
        };
    }

    function expectedFor(mode: Mode, c: Case): Expected {
        const then = c.then as Partial<Record<Mode, Expected>>;
        const expected = modes.every((m) => m in then) ? (then[mode] as Expected) : (c.then as Expected);
        return expected.owner === "self" ? { ...expected, owner: owners[mode] } : expected;
    }

    for (const c of contract) {
        describe(c.spec, () => {
            for (const mode of modes) {
                it(mode === "direct" ? "direct: the dynamic provider" : "stackset: the bundled custom resource", async () => {
                    await run(mode, c.steps);
                    const expected = expectedFor(mode, c);
                    const found = await observe();
                    const checked = Object.fromEntries(Object.keys(expected).map((k) => [k, found[k as keyof Expected]]));
                    expect(checked).to.deep.equal(expected);
                });
            }
        });
    }

    it("lists why, wherever the two modes differ", () => {
        for (const c of contract) {
            const stepsDiffer = c.steps.some((s) => "stack" in s && s.fails && String(s.fails.direct) !== String(s.fails.stackset));
            const thenDiffers = modes.every((m) => m in (c.then as object));
            expect(Boolean(c.differs), c.spec).to.equal(stepsDiffer || thenDiffers);
        }
    });
});
