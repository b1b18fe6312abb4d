// The durable adoption record against a real SSM API (moto server): whatever SSM call fails,
// and whether it fails before or after SSM applied it, a rerun keeps the true original, and
// releasing the document puts that original back byte for byte.
import { expect } from "chai";
import * as ssm from "@aws-sdk/client-ssm";
import { desiredDocument, SessionDocumentContent } from "../core/document";
import { defaultPreferences } from "../core/settings";
import * as operations from "../providers/documentOperations";
import { Moto, motoDefaultAccount, motoEnv, startMoto } from "../devtools/moto";

const region = "eu-central-1";
const documentName = "SSM-SessionManagerRunShell";
const owner = "session-manager-preferences/adoption";

function desired(idleSessionTimeout: number, extra: Partial<operations.DesiredDocument> = {}): operations.DesiredDocument {
    const content: SessionDocumentContent = desiredDocument(
        { ...defaultPreferences, idleSessionTimeout },
        { accountId: motoDefaultAccount, region, kmsKeyId: "" },
    );
    return { name: documentName, content, owner, takeOver: false, keepDocumentVersions: 100, ...extra };
}

/** What was there before this program: made in the console, laid out its own way. */
const originals = {
    JSON: `{\n    "schemaVersion": "1.0",\n    "description": "Made in the console",\n    "sessionType": "Standard_Stream",\n    "inputs": { "idleSessionTimeout": "45", "s3BucketName": "console-logs", "runAsEnabled": false }\n}\n`,
    YAML: `# Set by hand in 2021: keep sessions short\nschemaVersion: '1.0'\ndescription: Legacy preferences\nsessionType: Standard_Stream\ninputs:\n  s3BucketName: ''\n  idleSessionTimeout: '10'\n  runAsEnabled: false\n`,
} as const;
type Original = keyof typeof originals | "no document";

/** Where an injected failure strikes: before SSM sees call N, or after SSM applied it (the answer is lost). */
type Strike = "before" | "after";

interface Faults {
    /** Commands sent, in order. */
    calls: string[];
    failAt?: number;
    strike: Strike;
}

class InjectedFailure extends Error {}

/** An SSM client whose N-th command fails, as a denied permission, a dropped answer or a killed process would. */
function clientWith(faults: Faults): ssm.SSMClient {
    const client = new ssm.SSMClient({ region });
    client.middlewareStack.add(
        (next, context) => async (args) => {
            faults.calls.push(context.commandName ?? "?");
            const failing = faults.calls.length === faults.failAt;
            if (failing && faults.strike === "before") throw new InjectedFailure(`injected before call ${faults.failAt} (${context.commandName})`);
            let result;
            try {
                result = await next(args);
            } finally {
                // Also when SSM answered with an error: the caller must not get to see that answer.
                // eslint-disable-next-line no-unsafe-finally -- replacing SSM's answer is the point
                if (failing) throw new InjectedFailure(`injected after call ${faults.failAt} (${context.commandName}) was applied`);
            }
            return result;
        },
        { step: "initialize", name: "injectFailure" },
    );
    return client;
}

describe("the adopted original survives a failure at every SSM call (moto server)", function () {
    this.timeout(300_000);
    let moto: Moto;
    let reader: ssm.SSMClient;
    const savedEnv = { ...process.env };

    before(async () => {
        moto = await startMoto();
        Object.assign(process.env, motoEnv(moto, region));
        reader = new ssm.SSMClient({ region });
    });
    after(async () => {
        process.env = savedEnv;
        reader?.destroy();
        await moto?.stop();
    });

    async function seed(original: Original): Promise<void> {
        await moto.reset();
        if (original === "no document") return;
        await reader.send(
            new ssm.CreateDocumentCommand({ Name: documentName, Content: originals[original], DocumentFormat: original, DocumentType: "Session" }),
        );
    }

    /** The default version is the original again, exactly (or there is no document, as at the start). */
    async function expectOriginalBack(original: Original, context: string): Promise<void> {
        const live = await operations.readDefault(reader, documentName);
        if (original === "no document") {
            expect(live, context).to.equal(undefined);
            return;
        }
        expect(live, context).to.not.equal(undefined);
        expect(live!.format, context).to.equal(original);
        expect(live!.raw, context).to.equal(originals[original]);
        expect((await operations.readTags(reader, documentName)).all, context).to.deep.equal({});
    }

    const release = (adoption: operations.Adoption): operations.Release => ({ name: documentName, owner, onDelete: "restore", ...adoption });

    /**
     * The phases of a document's life, each run once cleanly to count its calls and then once
     * per call with that call failing; `run` gets the client of the faulted step.
     */
    const phases: {
        name: string;
        prepare(): Promise<operations.Adoption | undefined>;
        run(client: ssm.SSMClient, adoption?: operations.Adoption): Promise<unknown>;
    }[] = [
        {
            name: "create (pulumi up, first time)",
            prepare: async () => undefined,
            run: (client) => operations.adoptDocument(client, desired(20)),
        },
        {
            name: "update (pulumi up, changed setting)",
            prepare: async () => operations.adoptDocument(reader, desired(20)),
            run: (client, adoption) => operations.updateDocument(client, desired(25), owner, adoption!),
        },
        {
            name: "delete (pulumi destroy, onDelete restore)",
            prepare: async () => operations.adoptDocument(reader, desired(20)),
            run: (client, adoption) => operations.releaseDocument(client, release(adoption!)),
        },
    ];

    for (const original of ["JSON", "YAML", "no document"] as const) {
        for (const phase of phases) {
            for (const strike of ["before", "after"] as const) {
                it(`${phase.name}, original ${original}: each call failing ${strike === "before" ? "before SSM sees it" : "after SSM applied it"}, then a rerun and destroy give the original back`, async () => {
                    await seed(original);
                    const clean: Faults = { calls: [], strike };
                    await phase.run(clientWith(clean), await phase.prepare());
                    const callCount = clean.calls.length;
                    expect(callCount).to.be.greaterThan(0);

                    for (let failAt = 1; failAt <= callCount; failAt++) {
                        const context = `${phase.name}, ${original}, call ${failAt} of ${callCount} (${clean.calls[failAt - 1]}) failing ${strike}`;
                        await seed(original);
                        const prepared = await phase.prepare();
                        const faults: Faults = { calls: [], failAt, strike };
                        let failed = false;
                        try {
                            await phase.run(clientWith(faults), prepared);
                        } catch (err) {
                            if (!(err instanceof InjectedFailure)) throw err;
                            failed = true;
                        }
                        expect(failed, context).to.equal(true);

                        // The rerun: for a failed create the engine has no state and creates again;
                        // a failed update or delete keeps the state it had before.
                        const adoption = prepared ?? (await operations.adoptDocument(reader, desired(20)));
                        if (phase.name.startsWith("update")) await operations.updateDocument(reader, desired(25), owner, adoption);
                        const outcome = await operations.releaseDocument(reader, release(adoption));
                        expect(outcome.kind, context).to.equal(
                            original === "no document"
                                ? phase.name.startsWith("delete") && strike === "after" && clean.calls[failAt - 1] === "DeleteDocumentCommand"
                                    ? "absent"
                                    : "deleted"
                                : "restored",
                        );
                        await expectOriginalBack(original, context);
                    }
                });
            }
        }
    }

    describe("take-over", () => {
        const first = "org/stack-a";
        const second = "org/stack-b";

        it("inherits the first stack's record of the original; the first stack's destroy leaves the document to the second, whose destroy restores the original", async () => {
            await seed("YAML");
            const adoptedByFirst = await operations.adoptDocument(reader, desired(20, { owner: first }));
            expect(adoptedByFirst.adoptedContent).to.equal(originals.YAML);

            const adoptedBySecond = await operations.adoptDocument(reader, desired(30, { owner: second, takeOver: true }));
            expect(adoptedBySecond).to.include({ adoptedContent: originals.YAML, adoptedFormat: "YAML", adoptedVersion: "1" });
            expect(await operations.readTags(reader, documentName)).to.deep.include({ owner: second, adoptedVersion: "1" });

            const firstOutcome = await operations.releaseDocument(reader, { ...release(adoptedByFirst), owner: first });
            expect(firstOutcome).to.deep.equal({ kind: "left to its owner", owner: second });
            expect((await operations.readDefault(reader, documentName))!.content).to.deep.equal(desired(30).content);

            expect(await operations.releaseDocument(reader, { ...release(adoptedBySecond), owner: second })).to.deep.equal({ kind: "restored" });
            await expectOriginalBack("YAML", "after the second stack's destroy");
        });
    });

    describe("the record in AWS", () => {
        it("is written back from state by the next update when the tag is missing (documents adopted before the tag existed)", async () => {
            await seed("JSON");
            const adoption = await operations.adoptDocument(reader, desired(20));
            await reader.send(
                new ssm.RemoveTagsFromResourceCommand({ ResourceType: "Document", ResourceId: documentName, TagKeys: [operations.adoptedVersionTagKey] }),
            );
            await operations.updateDocument(reader, desired(25), owner, adoption);
            expect(await operations.readTags(reader, documentName)).to.deep.include({ owner, adoptedVersion: "1" });
        });

        it("fails a create, naming the tag and the fix, when the version it names no longer exists", async () => {
            await seed("JSON");
            await operations.adoptDocument(reader, desired(20));
            await reader.send(new ssm.DeleteDocumentCommand({ Name: documentName, DocumentVersion: "1" }));
            try {
                await operations.adoptDocument(reader, desired(20));
                expect.fail("adoptDocument should have refused");
            } catch (err) {
                expect(String(err)).to.include(`${operations.adoptedVersionTagKey}=1`).and.include("remove-tags-from-resource");
            }
        });
    });
});
