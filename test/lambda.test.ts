import {
    CreateDocumentCommand,
    DeleteDocumentCommand,
    DescribeDocumentCommand,
    GetDocumentCommand,
    InvalidDocument,
    SSMClient,
    UpdateDocumentCommand,
    UpdateDocumentDefaultVersionCommand,
} from "@aws-sdk/client-ssm";
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { awsDefaultDocument, desiredDocument } from "../core/document";
import { defaultDocumentName, defaultPreferences } from "../core/settings";
import { inlineHandlerCode } from "../lambda/inlineCode";
import * as tsModule from "../lambda/sessionDocumentHandler";
import type { CustomResourceEvent, LambdaContext } from "../lambda/sessionDocumentHandler";
import { Moto, motoDefaultAccount, motoEnv, startMoto } from "./support/moto";

type Handler = (event: CustomResourceEvent, context: LambdaContext) => Promise<void>;

interface CfnResponse {
    Status: "SUCCESS" | "FAILED";
    Reason: string;
    PhysicalResourceId: string;
    StackId: string;
    RequestId: string;
    LogicalResourceId: string;
}

const name = defaultDocumentName;
const region = "us-east-1";
const wanted = desiredDocument({ ...defaultPreferences, s3Logging: true, s3BucketName: "org-logs" }, { accountId: motoDefaultAccount, region, kmsKeyId: "key-1" });
const other = desiredDocument({ ...defaultPreferences, idleSessionTimeout: 5, cwLogGroupName: "other" }, { accountId: motoDefaultAccount, region, kmsKeyId: "" });
const asJson = (content: unknown) => JSON.stringify(content);
// What someone might have saved before: YAML, keys in another order.
const otherAsYaml = `schemaVersion: "1.0"\nsessionType: Standard_Stream\ndescription: ${other.description}\ninputs:\n${Object.entries(other.inputs)
    .map(([k, v]) => (typeof v === "object" ? `  ${k}:\n    windows: ""\n    linux: ""` : `  ${k}: ${JSON.stringify(v)}`))
    .join("\n")}\n`;

/** Stands in for CloudFormation's pre-signed response URL: records each PUT by path. */
class ResponseServer {
    readonly bodies = new Map<string, string>();
    /** Paths that answer 500 this many more times before accepting. */
    readonly failures = new Map<string, number>();
    private server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d: Buffer) => (body += d.toString()));
        req.on("end", () => {
            const url = req.url ?? "";
            const failing = this.failures.get(url) ?? 0;
            if (req.method !== "PUT" || failing > 0) {
                this.failures.set(url, failing - 1);
                res.writeHead(500).end();
                return;
            }
            this.bodies.set(url, body);
            res.writeHead(200).end();
        });
    });
    private port = 0;
    private next = 0;

    async start(): Promise<void> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        this.port = (this.server.address() as net.AddressInfo).port;
    }

    newUrl(): string {
        return `http://127.0.0.1:${this.port}/response/${++this.next}?X-Amz-Signature=test`;
    }

    responseTo(url: string): CfnResponse | undefined {
        const body = this.bodies.get(new URL(url).pathname + new URL(url).search);
        return body === undefined ? undefined : (JSON.parse(body) as CfnResponse);
    }

    stop(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}

/** Accepts connections and never answers: an SSM endpoint that hangs. */
function blackHole(): Promise<{ endpoint: string; close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () =>
            resolve({
                endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
                close: () => {
                    sockets.forEach((s) => s.destroy());
                    return new Promise<void>((r) => server.close(() => r()));
                },
            }),
        ),
    );
}

/** The inline code exactly as the template carries it, loaded the way Lambda loads index.js. */
function loadInlineCode(dir: string): Handler {
    fs.writeFileSync(path.join(dir, "index.js"), inlineHandlerCode());
    // The Lambda runtime provides the SDK; here the repository's node_modules stands in for it
    // (found through the SDK itself, since these tests also run compiled from dist/).
    const nodeModules = path.resolve(require.resolve("@aws-sdk/client-ssm/package.json"), "..", "..", "..");
    fs.symlinkSync(nodeModules, path.join(dir, "node_modules"), "dir");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(path.join(dir, "index.js")) as { handler: Handler }).handler;
}

const lambdaContext = (remainingMs = 120_000): LambdaContext => {
    const deadline = Date.now() + remainingMs;
    return { getRemainingTimeInMillis: () => deadline - Date.now() };
};

describe("custom resource handler (StackSet mode)", function () {
    this.timeout(60_000);
    let moto: Moto;
    let responses: ResponseServer;
    let ssm: SSMClient;
    let inlineDir: string;
    let restoreEnv: () => void = () => undefined;
    const logged: unknown[][] = [];
    const consoleLog = console.log;

    before(async () => {
        moto = await startMoto();
        const env = motoEnv(moto, region);
        const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
        restoreEnv = () => saved.forEach(([k, v]) => (v === undefined ? delete process.env[k] : (process.env[k] = v)));
        Object.assign(process.env, env);
        responses = new ResponseServer();
        await responses.start();
        ssm = new SSMClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        inlineDir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-inline-handler-"));
    });

    after(async () => {
        restoreEnv();
        await responses?.stop();
        await moto?.stop();
        if (inlineDir) fs.rmSync(inlineDir, { recursive: true, force: true });
    });

    beforeEach(async () => {
        await moto.reset();
        logged.length = 0;
    });

    const variants: [string, () => Handler][] = [
        ["the TypeScript module", () => tsModule.handler],
        ["the inline code the template carries", () => loadInlineCode(inlineDir)],
    ];

    for (const [label, load] of variants) {
        describe(`run as ${label}`, () => {
            let handler: Handler;
            before(() => {
                handler = load();
            });

            /** Invokes the handler as CloudFormation would and returns what it PUT to the response URL. */
            async function invoke(event: Partial<CustomResourceEvent> & Record<string, unknown>, context = lambdaContext()): Promise<CfnResponse> {
                const url = responses.newUrl();
                console.log = (...args: unknown[]) => logged.push(args);
                try {
                    await handler({ ResponseURL: url, StackId: "stack-1", RequestId: `req-${url}`, LogicalResourceId: "SessionPreferencesDocument", ...event } as CustomResourceEvent, context);
                } finally {
                    console.log = consoleLog;
                }
                const response = responses.responseTo(url);
                if (!response) throw new Error(`the handler returned without answering CloudFormation; it logged ${JSON.stringify(logged)}`);
                expect(response.RequestId).to.equal(`req-${url}`);
                expect(response.StackId).to.equal("stack-1");
                expect(response.LogicalResourceId).to.equal("SessionPreferencesDocument");
                return response;
            }

            const props = (content: unknown, onDelete = "restore") => ({
                ServiceToken: "arn:aws:lambda:us-east-1:123456789012:function:handler",
                DocumentName: name,
                Content: asJson(content),
                OnDelete: onDelete,
                ...(onDelete === "reset" ? { ResetContent: asJson(awsDefaultDocument()) } : {}),
            });
            const create = (content: unknown = wanted, onDelete = "restore") => invoke({ RequestType: "Create", ResourceProperties: props(content, onDelete) });
            const update = (id: string, content: unknown, old: unknown = wanted) =>
                invoke({ RequestType: "Update", PhysicalResourceId: id, ResourceProperties: props(content), OldResourceProperties: props(old) });
            const remove = (id: string, onDelete = "restore", content: unknown = wanted) =>
                invoke({ RequestType: "Delete", PhysicalResourceId: id, ResourceProperties: props(content, onDelete) });

            async function live(version?: string): Promise<{ content: unknown; defaultVersion: string; latestVersion: string }> {
                const got = await ssm.send(new GetDocumentCommand({ Name: name, DocumentVersion: version, DocumentFormat: "JSON" }));
                const described = await ssm.send(new DescribeDocumentCommand({ Name: name }));
                return {
                    content: JSON.parse(got.Content as string),
                    defaultVersion: described.Document?.DefaultVersion as string,
                    latestVersion: described.Document?.LatestVersion as string,
                };
            }

            async function exists(): Promise<boolean> {
                try {
                    await ssm.send(new DescribeDocumentCommand({ Name: name }));
                    return true;
                } catch (err) {
                    if (err instanceof InvalidDocument) return false;
                    throw err;
                }
            }

            const preexisting = (content: string, format: "JSON" | "YAML" = "JSON") =>
                ssm.send(new CreateDocumentCommand({ Name: name, Content: content, DocumentType: "Session", DocumentFormat: format }));

            describe("Create", () => {
                it("creates the document when absent and records in the physical ID that there was none", async () => {
                    const response = await create();
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(response.PhysicalResourceId).to.equal(`${name}:adopted-none`);
                    expect(await live()).to.deep.equal({ content: wanted, defaultVersion: "1", latestVersion: "1" });
                });

                it("adopts an existing document: records its default version and makes the new content the default", async () => {
                    await preexisting(otherAsYaml, "YAML");
                    const response = await create();
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(response.PhysicalResourceId).to.equal(`${name}:adopted-1`);
                    expect(await live()).to.deep.equal({ content: wanted, defaultVersion: "2", latestVersion: "2" });
                });

                it("writes no version when the existing content is equal, though stored as YAML in another key order", async () => {
                    await preexisting(otherAsYaml, "YAML");
                    const response = await create(other);
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(response.PhysicalResourceId).to.equal(`${name}:adopted-1`);
                    expect((await live()).latestVersion).to.equal("1");
                });
            });

            describe("Update", () => {
                it("writes one new version and makes it the default when the content changed, keeping the physical ID", async () => {
                    const { PhysicalResourceId: id } = await create();
                    const response = await update(id, other);
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(response.PhysicalResourceId).to.equal(id);
                    expect(await live()).to.deep.equal({ content: other, defaultVersion: "2", latestVersion: "2" });
                });

                it("writes nothing when the content is equal", async () => {
                    const { PhysicalResourceId: id } = await create();
                    const response = await update(id, JSON.parse(asJson(wanted)));
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(await live()).to.deep.equal({ content: wanted, defaultVersion: "1", latestVersion: "1" });
                });

                it("promotes the version already holding the content when SSM refuses it as a duplicate", async () => {
                    const { PhysicalResourceId: id } = await create();
                    await update(id, other);
                    const response = await update(id, wanted, other);
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(await live()).to.deep.equal({ content: wanted, defaultVersion: "1", latestVersion: "2" });
                });

                it("puts the content back when someone changed the document in the console", async () => {
                    const { PhysicalResourceId: id } = await create();
                    await ssm.send(new UpdateDocumentCommand({ Name: name, Content: asJson(other), DocumentVersion: "$LATEST", DocumentFormat: "JSON" }));
                    await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: "2" }));
                    const response = await update(id, wanted);
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect((await live()).content).to.deep.equal(wanted);
                });
            });

            describe("Delete", () => {
                it("onDelete restore: promotes the version found at adoption again", async () => {
                    await preexisting(otherAsYaml, "YAML");
                    const { PhysicalResourceId: id } = await create();
                    const response = await remove(id);
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(response.PhysicalResourceId).to.equal(id);
                    expect(await live()).to.deep.equal({ content: other, defaultVersion: "1", latestVersion: "2" });
                });

                it("onDelete restore: deletes the document when there was none at adoption", async () => {
                    const { PhysicalResourceId: id } = await create();
                    const response = await remove(id);
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(await exists()).to.equal(false);
                });

                it("onDelete restore: succeeds when someone deleted the document meanwhile", async () => {
                    await preexisting(asJson(other));
                    const { PhysicalResourceId: id } = await create();
                    await ssm.send(new DeleteDocumentCommand({ Name: name }));
                    const response = await remove(id);
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(await exists()).to.equal(false);
                });

                it("onDelete reset: writes the AWS default preferences, as the CloudFormation sample does", async () => {
                    await preexisting(asJson(other));
                    const { PhysicalResourceId: id } = await create(wanted, "reset");
                    const response = await remove(id, "reset");
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(await live()).to.deep.equal({ content: awsDefaultDocument(), defaultVersion: "3", latestVersion: "3" });
                });

                it("onDelete retain: leaves the managed content in place", async () => {
                    await preexisting(asJson(other));
                    const { PhysicalResourceId: id } = await create(wanted, "retain");
                    const response = await remove(id, "retain");
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(await live()).to.deep.equal({ content: wanted, defaultVersion: "2", latestVersion: "2" });
                });

                it("touches nothing for a Create that failed before it looked at the document", async () => {
                    await preexisting(asJson(other));
                    const response = await remove("unapplied");
                    expect(response.Status, response.Reason).to.equal("SUCCESS");
                    expect(await live()).to.deep.equal({ content: other, defaultVersion: "1", latestVersion: "1" });
                });
            });

            describe("failures", () => {
                it("answers FAILED with SSM's reason, and names what it adopted so the rollback's Delete can restore it", async () => {
                    const response = await create({ description: "no schemaVersion" });
                    expect(response.Status).to.equal("FAILED");
                    expect(response.Reason).to.match(/content for the document is not valid/i);
                    expect(response.PhysicalResourceId).to.equal(`${name}:adopted-none`);
                });

                for (const [what, event] of [
                    ["no ResourceProperties", { RequestType: "Create" }],
                    ["Content that is not JSON", { RequestType: "Create", ResourceProperties: { DocumentName: name, Content: "{not json" } }],
                    ["an unknown RequestType", { RequestType: "Replace", ResourceProperties: { DocumentName: name, Content: asJson(wanted) } }],
                ] as const) {
                    it(`answers FAILED instead of hanging on a malformed event: ${what}`, async () => {
                        const response = await invoke(event as unknown as Partial<CustomResourceEvent>);
                        expect(response.Status).to.equal("FAILED");
                        expect(response.Reason).to.not.equal("");
                        expect(response.PhysicalResourceId).to.equal("unapplied");
                        expect(await exists()).to.equal(false);
                    });
                }

                it("logs and returns when there is no ResponseURL to answer", async () => {
                    console.log = (...args: unknown[]) => logged.push(args);
                    try {
                        await handler({ RequestType: "Create" } as CustomResourceEvent, lambdaContext());
                    } finally {
                        console.log = consoleLog;
                    }
                    expect(String(logged[0]?.[0])).to.match(/no ResponseURL/);
                });

                it("answers FAILED shortly before the Lambda timeout when SSM does not answer", async () => {
                    const hole = await blackHole();
                    process.env.AWS_ENDPOINT_URL = hole.endpoint;
                    try {
                        const started = Date.now();
                        const response = await invoke({ RequestType: "Create", ResourceProperties: props(wanted) }, lambdaContext(3_500));
                        expect(response.Status).to.equal("FAILED");
                        expect(response.Reason).to.match(/before the Lambda timeout/);
                        expect(Date.now() - started).to.be.below(3_000);
                    } finally {
                        process.env.AWS_ENDPOINT_URL = moto.endpoint;
                        await hole.close();
                    }
                });

                it("tries the response URL again when it fails at first", async () => {
                    const url = responses.newUrl();
                    const { pathname, search } = new URL(url);
                    responses.failures.set(pathname + search, 1);
                    console.log = (...args: unknown[]) => logged.push(args);
                    try {
                        await handler(
                            { RequestType: "Create", ResponseURL: url, StackId: "s", RequestId: "r", LogicalResourceId: "l", ResourceProperties: props(wanted) },
                            lambdaContext(),
                        );
                    } finally {
                        console.log = consoleLog;
                    }
                    expect(responses.responseTo(url)?.Status).to.equal("SUCCESS");
                });
            });
        });
    }
});
