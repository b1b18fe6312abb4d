// The custom resource as CloudFormation sees it: the bundled handler exactly as the template
// carries it, sent CloudFormation's events, answering on a local stand-in for the pre-signed
// response URL, with moto behind it. What it does to the document is the contract's
// (documentContract.test.ts); this file covers the adapter: physical IDs, malformed events,
// time limits and answering.
import {
    CreateDocumentCommand,
    DescribeDocumentCommand,
    GetDocumentCommand,
    InvalidDocument,
    SSMClient,
    UpdateDocumentCommand,
    UpdateDocumentDefaultVersionCommand,
} from "@aws-sdk/client-ssm";
import { expect } from "chai";
import * as net from "node:net";
import { desiredDocument } from "../core/document";
import { defaultDocumentName, defaultPreferences, Preferences } from "../core/settings";
import { sessionManagerTemplate } from "../core/template";
import { handlerBundle } from "../lambda/bundle";
import type { CustomResourceEvent, DocumentProperties } from "../lambda/handler";
import { CustomResourceInvoker, documentProperties, Handler, lambdaContext, loadTemplateHandler, ResponseServer } from "./support/customResource";
import { Moto, motoDefaultAccount, motoEnv, startMoto } from "../devtools/moto";

const name = defaultDocumentName;
const region = "us-east-1";
const owner = "session-manager-preferences/test:stackset";
const prefs: Preferences = { ...defaultPreferences, deployment: "stackset", sessionDataEncryption: false };
const template = sessionManagerTemplate(prefs, { handlerCode: handlerBundle(), owner, regions: [region] });
const stack = {
    "AWS::AccountId": motoDefaultAccount,
    "AWS::Region": region,
    "AWS::Partition": "aws",
    "DocumentHandler.Arn": "arn:aws:lambda:us-east-1:123456789012:function:h",
};
/** The document resource's properties as CloudFormation sends them for this template. */
const props = (overrides: Partial<DocumentProperties> = {}): DocumentProperties => ({ ...documentProperties(template, stack), ...overrides });
const wanted = desiredDocument(prefs, { accountId: motoDefaultAccount, region, kmsKeyId: "" });
const consoleMade = JSON.stringify({ ...wanted, inputs: { ...wanted.inputs, idleSessionTimeout: "45" } }, null, 4);

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

describe("custom resource handler (StackSet mode), bundled as the template carries it", function () {
    this.timeout(60_000);
    let moto: Moto;
    let responses: ResponseServer;
    let ssm: SSMClient;
    let handler: Handler;
    let cfn: CustomResourceInvoker;
    const savedEnv = { ...process.env };

    before(async () => {
        moto = await startMoto();
        Object.assign(process.env, motoEnv(moto, region));
        responses = new ResponseServer();
        await responses.start();
        ssm = new SSMClient({ region, endpoint: moto.endpoint, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
        handler = loadTemplateHandler(template);
        cfn = new CustomResourceInvoker(handler, responses);
    });

    after(async () => {
        process.env = savedEnv;
        await responses?.stop();
        await moto?.stop();
    });

    beforeEach(async () => {
        await moto.reset();
        cfn.logged.length = 0;
    });

    const create = (p = props()) => cfn.invoke({ RequestType: "Create", ResourceProperties: p });
    const update = (id: string, p = props(), old = props()) =>
        cfn.invoke({ RequestType: "Update", PhysicalResourceId: id, ResourceProperties: p, OldResourceProperties: old });
    const remove = (id: string, p = props()) => cfn.invoke({ RequestType: "Delete", PhysicalResourceId: id, ResourceProperties: p });
    const seed = (content: string, documentName = name) =>
        ssm.send(new CreateDocumentCommand({ Name: documentName, Content: content, DocumentType: "Session", DocumentFormat: "JSON" }));

    async function defaultVersionOf(documentName = name): Promise<string | undefined> {
        try {
            return (await ssm.send(new DescribeDocumentCommand({ Name: documentName }))).Document?.DefaultVersion;
        } catch (err) {
            if (err instanceof InvalidDocument) return undefined;
            throw err;
        }
    }

    describe("physical ID: the adoption record CloudFormation hands back", () => {
        it("is <document>:adopted-none when there was no document", async () => {
            const response = await create();
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect(response.PhysicalResourceId).to.equal(`${name}:adopted-none`);
        });

        it("names the adopted version and a digest of its exact text", async () => {
            await seed(consoleMade);
            const response = await create();
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect(response.PhysicalResourceId).to.match(new RegExp(`^${name}:adopted-1:[0-9a-f]{16}$`));
        });

        it("stays the same through an Update of the same document", async () => {
            await seed(consoleMade);
            const { PhysicalResourceId: id } = await create();
            const response = await update(id, props({ KeepDocumentVersions: "5" }));
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect(response.PhysicalResourceId).to.equal(id);
        });

        it("changes when an Update names another document: that one is adopted, and CloudFormation's Delete of the old ID releases the first", async () => {
            await seed(consoleMade, "Org-SessionPreferences");
            const { PhysicalResourceId: id } = await create();
            const response = await update(id, props({ DocumentName: "Org-SessionPreferences" }));
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect(response.PhysicalResourceId).to.match(/^Org-SessionPreferences:adopted-1:/);
            expect(await defaultVersionOf("Org-SessionPreferences")).to.equal("2");
            const cleanup = await remove(id);
            expect(cleanup.Status, cleanup.Reason).to.equal("SUCCESS");
            expect(await defaultVersionOf(name)).to.equal(undefined);
            expect(await defaultVersionOf("Org-SessionPreferences")).to.equal("2");
        });

        it("from before the digest (<document>:adopted-<version>) is still understood: restore promotes that version", async () => {
            await seed(consoleMade);
            await create();
            const response = await remove(`${name}:adopted-1`);
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect(await defaultVersionOf()).to.equal("1");
        });

        it("is set by a Create that failed after looking at the document, so the rollback's Delete restores it", async () => {
            await seed(consoleMade);
            // A Session document to this program's rules that SSM (here moto) refuses: a parameter without a type.
            const refused = { schemaVersion: "1.0", sessionType: "Standard_Stream", inputs: {}, parameters: { p: {} } };
            const failed = await create(props({ Content: JSON.stringify(refused) }));
            expect(failed.Status).to.equal("FAILED");
            expect(failed.Reason).to.match(/content for the document is not valid/i);
            expect(failed.PhysicalResourceId).to.match(new RegExp(`^${name}:adopted-1:`));
            const rollback = await remove(failed.PhysicalResourceId);
            expect(rollback.Status, rollback.Reason).to.equal("SUCCESS");
            const got = await ssm.send(new GetDocumentCommand({ Name: name, DocumentFormat: "JSON" }));
            expect(got.Content).to.equal(consoleMade);
        });
    });

    describe("the template's parameters: instance overrides and the repair token", () => {
        const overridden = (parameters: Record<string, string>) => documentProperties(template, stack, parameters);
        const documentNow = async () => JSON.parse((await ssm.send(new GetDocumentCommand({ Name: name, DocumentFormat: "JSON" }))).Content!) as typeof wanted;

        it("writes the instance's overridden value: IdleSessionTimeout 60 for this account and Region", async () => {
            const response = await create(overridden({ IdleSessionTimeout: "60", RunAsEnabled: "true", RunAsDefaultUser: "ssm-user" }));
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect((await documentNow()).inputs).to.deep.include({ idleSessionTimeout: "60", runAsEnabled: true, runAsDefaultUser: "ssm-user" });
        });

        it("goes back to the StackSet's value when the override is taken away", async () => {
            const { PhysicalResourceId: id } = await create(overridden({ IdleSessionTimeout: "60" }));
            const response = await update(id, props(), overridden({ IdleSessionTimeout: "60" }));
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect(await documentNow()).to.deep.equal(wanted);
        });

        it("puts the wanted document back over a console edit on an Update whose only change is RepairToken", async () => {
            const { PhysicalResourceId: id } = await create(overridden({ IdleSessionTimeout: "60" }));
            const withOverride = { ...wanted, inputs: { ...wanted.inputs, idleSessionTimeout: "60" } };
            expect(await documentNow()).to.deep.equal(withOverride);
            // Someone edits the preferences in the console: a new default version.
            const edited = { ...withOverride, inputs: { ...withOverride.inputs, idleSessionTimeout: "5", runAsEnabled: true, runAsDefaultUser: "root" } };
            const made = await ssm.send(
                new UpdateDocumentCommand({ Name: name, Content: JSON.stringify(edited), DocumentVersion: "$LATEST", DocumentFormat: "JSON" }),
            );
            await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: made.DocumentDescription!.DocumentVersion! }));
            expect((await documentNow()).inputs.idleSessionTimeout).to.equal("5");
            const before = overridden({ IdleSessionTimeout: "60" });
            const after = overridden({ IdleSessionTimeout: "60", RepairToken: "repair-20261206T1100Z" });
            expect(
                Object.keys(after).filter((k) => JSON.stringify(after[k as keyof typeof after]) !== JSON.stringify(before[k as keyof typeof before])),
            ).to.deep.equal(["RepairToken"]);
            const response = await update(id, after, before);
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect(response.PhysicalResourceId).to.equal(id);
            expect(await documentNow()).to.deep.equal(withOverride);
        });

        it("refuses overridden parameters that break a rule between preferences, naming them, and writes nothing", async () => {
            const response = await create(overridden({ RunAsEnabled: "true" }));
            expect(response.Status).to.equal("FAILED");
            expect(response.Reason).to.match(/RunAsDefaultUser: "" is not valid: required when RunAsEnabled is true/);
            const tooLong = await create(overridden({ IdleSessionTimeout: "45", MaxSessionDuration: "30" }));
            expect(tooLong.Reason).to.match(/IdleSessionTimeout: 45 is not valid: at most MaxSessionDuration \(30 minutes\)/);
            expect(await defaultVersionOf()).to.equal(undefined);
        });

        it("releases the document on a Delete that carries an earlier template's properties (no preferences, only Content)", async () => {
            await seed(consoleMade);
            const { PhysicalResourceId: id } = await create();
            const { DocumentName, Content, OnDelete, KeepDocumentVersions, Owner, TakeOver } = props();
            const earlier = { DocumentName, Content, OnDelete, KeepDocumentVersions, Owner, TakeOver } as DocumentProperties;
            const response = await remove(id, earlier);
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect(await defaultVersionOf()).to.equal("1");
        });
    });

    describe("malformed events", () => {
        const cases: [string, Partial<CustomResourceEvent>, RegExp][] = [
            ["no ResourceProperties", { RequestType: "Create" }, /property DocumentName/],
            [
                "Content that is not JSON",
                { RequestType: "Create", ResourceProperties: props({ Content: "{not json" }) },
                /Content: "\{not json" is not valid: JSON/,
            ],
            [
                "Content that is not a Session document",
                { RequestType: "Create", ResourceProperties: props({ Content: '{"schemaVersion":"1.0"}' }) },
                /Content: .* is not valid: a Session document object with schemaVersion, sessionType and inputs/,
            ],
            ["an unknown RequestType", { RequestType: "Replace" as "Create", ResourceProperties: props() }, /RequestType Replace/],
            [
                "an OnDelete outside restore, reset, retain",
                { RequestType: "Create", ResourceProperties: props({ OnDelete: "destroy" }) },
                /malformed event: OnDelete: "destroy" is not valid: one of restore, reset, retain/,
            ],
            [
                "a KeepDocumentVersions that is not a whole number",
                { RequestType: "Create", ResourceProperties: props({ KeepDocumentVersions: "-1" }) },
                /KeepDocumentVersions: "-1" is not valid: a whole number from 0 to 1000/,
            ],
            [
                "a KeepDocumentVersions beyond what SSM keeps, refused as the configuration refuses it",
                { RequestType: "Create", ResourceProperties: props({ KeepDocumentVersions: "5000" }) },
                /KeepDocumentVersions: "5000" is not valid: a whole number from 0 to 1000 \(0 keeps all; SSM keeps at most 1000 versions of a document\)/,
            ],
            [
                "a TakeOver that is not true or false",
                { RequestType: "Create", ResourceProperties: props({ TakeOver: "yes" }) },
                /TakeOver: "yes" is not valid: true or false/,
            ],
            ["no Owner", { RequestType: "Create", ResourceProperties: props({ Owner: "" }) }, /property Owner/],
            [
                "an IdleSessionTimeout outside 1 to 60",
                { RequestType: "Create", ResourceProperties: props({ IdleSessionTimeout: "90" }) },
                /IdleSessionTimeout: "90" is not valid: a whole number from 1 to 60 \(minutes\)/,
            ],
            [
                "a RunAsEnabled that is not true or false",
                { RequestType: "Create", ResourceProperties: props({ RunAsEnabled: "yes" }) },
                /RunAsEnabled: "yes" is not valid: true or false/,
            ],
            ["no S3Logging", { RequestType: "Create", ResourceProperties: props({ S3Logging: undefined }) }, /property S3Logging must be a non-empty string/],
            ["no AccountId", { RequestType: "Create", ResourceProperties: props({ AccountId: "" }) }, /property AccountId/],
        ];
        for (const [what, event, reason] of cases) {
            it(`answers FAILED naming the problem, touching nothing: ${what}`, async () => {
                const response = await cfn.invoke(event);
                expect(response.Status).to.equal("FAILED");
                expect(response.Reason).to.match(reason);
                expect(response.PhysicalResourceId).to.equal("unapplied");
                expect(await defaultVersionOf()).to.equal(undefined);
            });
        }

        it("lets the rollback's Delete of such a Create succeed without reading its properties", async () => {
            await seed(consoleMade);
            const response = await remove("unapplied", props({ OnDelete: "destroy" }));
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            expect(await defaultVersionOf()).to.equal("1");
        });
    });

    describe("answering CloudFormation", () => {
        it("logs one line per event: the request, the physical ID and what happened", async () => {
            await seed(consoleMade);
            await create();
            const line = JSON.parse(String(cfn.logged.at(-1)?.[0])) as Record<string, string>;
            expect(line).to.include({ request: "Create" });
            expect(line.physicalResourceId).to.match(/:adopted-1:/);
            expect(line.outcome).to.equal("adopted version 1; default version 2");
        });

        it("logs and returns when there is no ResponseURL to answer", async () => {
            const logged: unknown[][] = [];
            const consoleLog = console.log;
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
                const response = await cfn.invoke({ RequestType: "Create", ResourceProperties: props() }, lambdaContext(3_500));
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
            const consoleLog = console.log;
            console.log = () => undefined;
            try {
                await handler(
                    { RequestType: "Create", ResponseURL: url, StackId: "s", RequestId: "r", LogicalResourceId: "l", ResourceProperties: props() },
                    lambdaContext(),
                );
            } finally {
                console.log = consoleLog;
            }
            expect(responses.responseTo(url)?.Status).to.equal("SUCCESS");
        });
    });
});
