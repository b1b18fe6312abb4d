// The Session document provider against a real SSM API (moto server): what each
// provider method does to the document, read back from moto with the SDK.
import { ConfigErrors, parseSettings } from "../core/config";
import { expect } from "chai";
import * as ssm from "@aws-sdk/client-ssm";
import * as yaml from "js-yaml";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { awsDefaultDocument, desiredDocument, SessionDocumentContent, SessionContentInputs as DocumentInputs } from "../core/document";
import { defaultPreferences } from "../core/settings";
import * as operations from "../providers/documentOperations";
import { sessionDocumentProvider, SessionDocumentInputs, SessionDocumentState, unknownValue } from "../providers/sessionDocument";
import { Moto, motoDefaultAccount, motoEnv, startMoto } from "../devtools/moto";

const region = "eu-west-1";
const documentName = "SSM-SessionManagerRunShell";
const owner = "session-manager-preferences/test";

function content(inputs: Partial<DocumentInputs> = {}): SessionDocumentContent {
    const base = desiredDocument(
        { ...defaultPreferences, s3Logging: true, s3BucketName: "org-session-logs" },
        { accountId: motoDefaultAccount, region, kmsKeyId: "alias/session-data" },
    );
    return { ...base, inputs: { ...base.inputs, ...inputs } };
}

/** Resource properties cross the engine as protobuf Structs: anything a Struct cannot hold fails here as it would there. */
function wire<T>(value: unknown): T {
    return Struct.fromJavaScript(value as Record<string, never>).toJavaScript() as unknown as T;
}

function rawInputs(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { accountId: motoDefaultAccount, region, content: content(), owner, ...overrides };
}

function reversedKeys(value: unknown): unknown {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
    return Object.fromEntries(
        Object.entries(value)
            .reverse()
            .map(([k, v]) => [k, reversedKeys(v)]),
    );
}

const provider = {
    async check(news: Record<string, unknown>) {
        return sessionDocumentProvider.check!({} as SessionDocumentInputs, wire(news));
    },
    async checked(news: Record<string, unknown>): Promise<SessionDocumentInputs> {
        const { inputs, failures } = await this.check(news);
        expect(failures ?? []).to.deep.equal([]);
        return wire(inputs);
    },
    async diff(olds: SessionDocumentState, news: SessionDocumentInputs) {
        return sessionDocumentProvider.diff!("id", wire(olds), wire(news));
    },
    /** check then create, as `pulumi up` does for a new resource. */
    async create(overrides: Record<string, unknown> = {}): Promise<{ id: string; state: SessionDocumentState }> {
        const inputs = await this.checked(rawInputs(overrides));
        const { id, outs } = await sessionDocumentProvider.create(inputs);
        return { id, state: wire(outs) };
    },
    /** check then update, as `pulumi up` does for a changed resource. */
    async update(olds: SessionDocumentState, overrides: Record<string, unknown>): Promise<SessionDocumentState> {
        const inputs = await this.checked(rawInputs(overrides));
        const { outs } = await sessionDocumentProvider.update!("id", wire(olds), inputs);
        return wire(outs);
    },
    async read(id: string, state: SessionDocumentState): Promise<SessionDocumentState> {
        const { props } = await sessionDocumentProvider.read!(id, wire(state));
        return wire(props);
    },
    async delete(state: SessionDocumentState): Promise<void> {
        await sessionDocumentProvider.delete!("id", wire(state));
    },
};

describe("SessionDocument provider (moto server)", function () {
    this.timeout(120_000);
    let moto: Moto;
    let client: ssm.SSMClient;
    const savedEnv = { ...process.env };

    before(async () => {
        moto = await startMoto();
        Object.assign(process.env, motoEnv(moto, region));
        client = new ssm.SSMClient({ region });
    });
    after(async () => {
        process.env = savedEnv;
        await moto?.stop();
    });
    beforeEach(() => moto.reset());

    // What moto holds, read with the SDK rather than through the code under test.
    async function head(name = documentName) {
        const { Document } = await client.send(new ssm.DescribeDocumentCommand({ Name: name }));
        return { defaultVersion: Document!.DefaultVersion!, latestVersion: Document!.LatestVersion!, format: Document!.DocumentFormat! };
    }
    async function versionsInMoto(name = documentName): Promise<string[]> {
        const { latestVersion } = await head(name);
        const present: string[] = [];
        for (let n = 1; n <= Number(latestVersion); n++) {
            try {
                await client.send(new ssm.DescribeDocumentCommand({ Name: name, DocumentVersion: String(n) }));
                present.push(String(n));
            } catch (err) {
                if (!(err instanceof ssm.InvalidDocument)) throw err;
            }
        }
        return present;
    }
    async function rawAt(version?: string, format: "JSON" | "YAML" = "JSON"): Promise<string> {
        const got = await client.send(new ssm.GetDocumentCommand({ Name: documentName, DocumentVersion: version, DocumentFormat: format }));
        return got.Content!;
    }
    async function liveContent(): Promise<unknown> {
        return JSON.parse(await rawAt());
    }
    async function exists(): Promise<boolean> {
        try {
            await head();
            return true;
        } catch (err) {
            if (err instanceof ssm.InvalidDocument) return false;
            throw err;
        }
    }
    async function tags(): Promise<Record<string, string>> {
        const { TagList } = await client.send(new ssm.ListTagsForResourceCommand({ ResourceType: "Document", ResourceId: documentName }));
        return Object.fromEntries((TagList ?? []).map((t) => [t.Key!, t.Value!]));
    }
    async function createDirectly(raw: string, format: "JSON" | "YAML" = "JSON"): Promise<void> {
        await client.send(new ssm.CreateDocumentCommand({ Name: documentName, Content: raw, DocumentType: "Session", DocumentFormat: format }));
    }
    /** A change made in the console: a new version, made the default. */
    async function consoleEdit(edited: unknown): Promise<string> {
        const { DocumentDescription } = await client.send(
            new ssm.UpdateDocumentCommand({ Name: documentName, Content: JSON.stringify(edited), DocumentFormat: "JSON", DocumentVersion: "$LATEST" }),
        );
        const version = DocumentDescription!.DocumentVersion!;
        await client.send(new ssm.UpdateDocumentDefaultVersionCommand({ Name: documentName, DocumentVersion: version }));
        return version;
    }

    const someoneElses = content({ idleSessionTimeout: "45", cloudWatchLogGroupName: "legacy-logs" });
    const legacyYaml = `# Set by hand in 2021: keep sessions short
schemaVersion: '1.0'
description: Legacy preferences
sessionType: Standard_Stream
inputs:
  s3BucketName: ''
  idleSessionTimeout: '10'
  runAsEnabled: false
`;

    describe("tags of your own", () => {
        async function tagsInMoto(): Promise<Record<string, string>> {
            const { TagList } = await client.send(new ssm.ListTagsForResourceCommand({ ResourceType: "Document", ResourceId: documentName }));
            return Object.fromEntries((TagList ?? []).map((t) => [t.Key!, t.Value!]));
        }
        const management = (tags: Record<string, string>) => Object.keys(tags).filter((k) => k.startsWith("session-manager-preferences:"));

        it("sets them with the management tags, changes and drops them on update, and removes them on release", async () => {
            await client.send(
                new ssm.CreateDocumentCommand({
                    Name: documentName,
                    Content: JSON.stringify(content()),
                    DocumentType: "Session",
                    Tags: [{ Key: "cost-centre", Value: "42" }],
                }),
            );
            const { state } = await provider.create({ tags: { team: "platform", tier: "prod" } });
            expect(await tagsInMoto()).to.include({ team: "platform", tier: "prod", "cost-centre": "42" });
            expect(management(await tagsInMoto())).to.have.length(2);
            const updated = await provider.update(state, { tags: { team: "security" } });
            expect(await tagsInMoto())
                .to.include({ team: "security", "cost-centre": "42" })
                .and.not.have.property("tier");
            await provider.delete(updated);
            // What was there before this stack is all that is left.
            expect(await tagsInMoto()).to.deep.equal({ "cost-centre": "42" });
        });

        it("refuses, before writing anything, a key the document already has with another value", async () => {
            await client.send(
                new ssm.CreateDocumentCommand({
                    Name: documentName,
                    Content: JSON.stringify(content()),
                    DocumentType: "Session",
                    Tags: [{ Key: "team", Value: "network" }],
                }),
            );
            let failure: unknown;
            try {
                await provider.create({ tags: { team: "platform" } });
            } catch (err) {
                failure = err;
            }
            expect(String(failure)).to.include('already has the tag(s) team="network", which this stack did not set');
            expect(await tagsInMoto()).to.deep.equal({ team: "network" });
        });

        it("refuses tag keys of AWS or of this program, naming the key", async () => {
            const { failures } = await provider.check(rawInputs({ tags: { "session-manager-preferences:owner": "me", ok: "yes" } }));
            expect(failures!.map((f) => f.reason)).to.deep.equal([
                "tags.session-manager-preferences:owner: \"me\" is not valid: a tag key not starting with aws: (AWS's) or session-manager-preferences: (this program's own)",
            ]);
        });
    });

    describe("check", () => {
        it("applies the defaults: SSM-SessionManagerRunShell, restore, 100 versions kept, no take-over", async () => {
            const inputs = await provider.checked(rawInputs());
            expect(inputs).to.include({ documentName, onDelete: "restore", keepDocumentVersions: 100, takeOver: false, owner });
            expect(inputs).not.to.have.property("roleArn");
        });

        it("fails a malformed Region, naming region and the value", async () => {
            const { failures } = await provider.check(rawInputs({ region: "EU-West-1" }));
            expect(failures).to.have.length(1);
            expect(failures![0].property).to.equal("region");
            expect(failures![0].reason).to.contain('"EU-West-1"');
        });

        it("fails an account ID that is not 12 digits, naming accountId", async () => {
            for (const accountId of ["12345678901", "1234567890123", "12345678901a", 12345678901]) {
                const { failures } = await provider.check(rawInputs({ accountId }));
                expect(
                    failures!.map((f) => f.property),
                    String(accountId),
                ).to.deep.equal(["accountId"]);
            }
        });

        it("takes a 12-digit account ID given as a number as the configuration does, and keeps it as a string", async () => {
            const { inputs, failures } = await provider.check(rawInputs({ accountId: Number(motoDefaultAccount) }));
            expect(failures).to.deep.equal([]);
            expect(inputs?.accountId).to.equal(motoDefaultAccount);
        });

        it("fails a role in another account than accountId, naming roleArn", async () => {
            const { failures } = await provider.check(rawInputs({ roleArn: "arn:aws:iam::111111111111:role/Deploy" }));
            expect(failures!.map((f) => f.property)).to.deep.equal(["roleArn"]);
            expect(failures![0].reason).to.contain("111111111111").and.contain(motoDefaultAccount);
        });

        it("refuses what the configuration refuses, in the configuration's words: one rule per field", async () => {
            const { failures } = await provider.check(rawInputs({ keepDocumentVersions: 5000, onDelete: "destroy" }));
            const reasons = Object.fromEntries(failures!.map((f) => [f.property, f.reason]));
            const configured = (raw: Record<string, unknown>) => {
                try {
                    parseSettings(raw);
                } catch (err) {
                    return (err as ConfigErrors).errors[0].message.replace(/^sessionManager:/, "");
                }
                throw new Error("accepted");
            };
            expect(reasons.keepDocumentVersions).to.equal(configured({ keepDocumentVersions: 5000 }));
            expect(reasons.onDelete).to.equal(configured({ onDelete: "destroy" }));
        });

        it("fails onDelete, keepDocumentVersions, documentName and takeOver values outside what is allowed", async () => {
            const { failures } = await provider.check(
                rawInputs({ onDelete: "destroy", keepDocumentVersions: -1, documentName: "AWS-RunShell", takeOver: "yes" }),
            );
            expect(failures!.map((f) => f.property).sort()).to.deep.equal(["documentName", "keepDocumentVersions", "onDelete", "takeOver"]);
            expect(failures!.find((f) => f.property === "onDelete")!.reason).to.contain("restore, reset, retain");
        });

        it("fails content over SSM's 64 KB limit", async () => {
            const { failures } = await provider.check(rawInputs({ content: content({ shellProfile: { windows: "", linux: "x".repeat(70_000) } }) }));
            expect(failures!.map((f) => f.property)).to.deep.equal(["content"]);
        });

        it("accepts the strings `pulumi config` produces for numbers and booleans", async () => {
            const inputs = await provider.checked(rawInputs({ keepDocumentVersions: "5", takeOver: "true" }));
            expect(inputs).to.include({ keepDocumentVersions: 5, takeOver: true });
        });

        it("lets values not known until apply pass unchecked at preview", async () => {
            const partlyKnown = content({ kmsKeyId: unknownValue });
            const { failures } = await provider.check(rawInputs({ accountId: unknownValue, content: partlyKnown }));
            expect(failures).to.deep.equal([]);
        });
    });

    describe("diff", () => {
        const olds = (): SessionDocumentState => ({
            accountId: motoDefaultAccount,
            region,
            documentName,
            content: content(),
            onDelete: "restore",
            keepDocumentVersions: 100,
            owner,
            takeOver: false,
            documentVersion: "1",
            adoptedContent: null,
            adoptedFormat: null,
            adoptedVersion: null,
        });

        it("reports no change when the content is equal with its keys in another order", async () => {
            const reordered = reversedKeys(content());
            const news = await provider.checked(rawInputs({ content: reordered }));
            expect(await provider.diff(olds(), news))
                .to.include({ changes: false })
                .and.have.property("replaces").that.is.empty;
        });

        it("reports an update, not a replacement, when the content or a setting changes", async () => {
            for (const change of [{ content: content({ idleSessionTimeout: "15" }) }, { onDelete: "retain" }, { keepDocumentVersions: 3 }]) {
                const result = await provider.diff(olds(), await provider.checked(rawInputs(change)));
                expect(result.changes, JSON.stringify(change).slice(0, 40)).to.equal(true);
                expect(result.replaces).to.deep.equal([]);
            }
        });

        it("replaces only when the account, Region or document name changes", async () => {
            const cases: [Record<string, unknown>, string][] = [
                [{ accountId: "210987654321" }, "accountId"],
                [{ region: "eu-central-1" }, "region"],
                [{ documentName: "Org-SessionPreferences" }, "documentName"],
            ];
            for (const [change, property] of cases) {
                const result = await provider.diff(olds(), await provider.checked(rawInputs(change)));
                expect(result).to.include({ changes: true });
                expect(result.replaces).to.deep.equal([property]);
            }
        });

        it("reports a change while part of the content is not known yet", async () => {
            const news = await provider.checked(rawInputs({ content: content({ kmsKeyId: unknownValue }) }));
            expect(await provider.diff(olds(), news)).to.include({ changes: true });
        });

        // The SDK's dynamic provider cannot pass a detailed diff on; an "unknown" answer
        // makes the engine compare the recorded inputs with the new ones itself, and that
        // comparison is what lets `pulumi preview --diff` mark just the changed fields.
        const applied = (): SessionDocumentState => ({ ...olds(), appliedContentSha256: operations.contentDigest(content()) });

        it("leaves a change the recorded inputs show to the engine's comparison (changes unknown) when the live content is the one last applied", async () => {
            for (const change of [{ content: content({ idleSessionTimeout: "15" }) }, { onDelete: "retain" }]) {
                const result = await provider.diff(applied(), await provider.checked(rawInputs(change)));
                expect(result, JSON.stringify(change).slice(0, 40)).to.have.property("changes", undefined);
                expect(result.replaces).to.deep.equal([]);
            }
            // Nothing changed stays a plain "no".
            expect(await provider.diff(applied(), await provider.checked(rawInputs()))).to.include({ changes: false });
        });

        it("digests content as diff compares it: key order does not count, a value does", () => {
            expect(operations.contentDigest(reversedKeys(content()))).to.equal(operations.contentDigest(content()));
            expect(operations.contentDigest(content({ idleSessionTimeout: "15" }))).not.to.equal(operations.contentDigest(content()));
            expect(operations.contentDigest(null)).not.to.equal(operations.contentDigest(content()));
        });

        it("answers 'changed' itself whenever the recorded inputs would not show the whole change", async () => {
            const change = { content: content({ idleSessionTimeout: "15" }) };
            const news = await provider.checked(rawInputs(change));
            const withProvider = <T extends object>(state: T, code: string): T => ({ ...state, __provider: code });
            const cases: [string, SessionDocumentState, SessionDocumentInputs][] = [
                // Edited outside the stack: the recorded inputs still hold what was applied.
                ["live content edited", { ...applied(), content: content({ idleSessionTimeout: "60" }) }, news],
                ["document deleted", { ...applied(), content: null }, news],
                // State written before the digest existed, or imported.
                ["no digest", olds(), news],
                // The engine's comparison would include the serialized provider itself.
                ["provider code changed", withProvider(applied(), "exports.a = 1;"), withProvider(news, "exports.a = 2;")],
            ];
            for (const [spec, state, inputs] of cases) {
                expect(await provider.diff(state, inputs), spec).to.include({ changes: true });
            }
            // A replacement and an unknown value are answered as before.
            expect(await provider.diff(applied(), await provider.checked(rawInputs({ region: "eu-central-1" })))).to.include({ changes: true });
            expect(await provider.diff(applied(), await provider.checked(rawInputs({ content: content({ kmsKeyId: unknownValue }) })))).to.include({
                changes: true,
            });
        });
    });

    describe("create", () => {
        it("creates the document when absent, tagged with its owner, and records in state and in a tag that nothing was adopted", async () => {
            const { id, state } = await provider.create();
            expect(id).to.equal(`${motoDefaultAccount}/${region}/${documentName}`);
            expect(await liveContent()).to.deep.equal(content());
            expect(await head()).to.deep.equal({ defaultVersion: "1", latestVersion: "1", format: "JSON" });
            expect(await tags()).to.deep.equal({ [operations.ownerTagKey]: owner, [operations.adoptedVersionTagKey]: "none" });
            expect(state).to.include({ documentVersion: "1", adoptedContent: null, adoptedFormat: null, accountId: motoDefaultAccount, region, documentName });
            expect(state.content).to.deep.equal(content());
        });

        it("adopts an existing document: records its exact content, and its version in a tag, then writes one new default version", async () => {
            const original = JSON.stringify(someoneElses, null, 4);
            await createDirectly(original);
            const { state } = await provider.create();
            expect(state).to.include({ adoptedContent: original, adoptedFormat: "JSON", adoptedVersion: "1", documentVersion: "2" });
            expect(await head()).to.include({ defaultVersion: "2", latestVersion: "2" });
            expect(await liveContent()).to.deep.equal(content());
            expect(await tags()).to.deep.equal({ [operations.ownerTagKey]: owner, [operations.adoptedVersionTagKey]: "1" });
        });

        it("writes no version when the existing content is equal, though stored as YAML with other key order", async () => {
            const equalYaml = `# written by hand\n${yaml.dump(content(), { sortKeys: true })}`;
            await createDirectly(equalYaml, "YAML");
            const { state } = await provider.create();
            expect(state).to.include({ documentVersion: "1", adoptedContent: equalYaml, adoptedFormat: "YAML" });
            expect(await head()).to.deep.equal({ defaultVersion: "1", latestVersion: "1", format: "YAML" });
        });

        it("finishes an apply interrupted between writing and promoting: promotes the version already holding the content", async () => {
            await createDirectly(JSON.stringify(someoneElses));
            // The interrupted apply got as far as this: SSM will call the same write a duplicate.
            await client.send(
                new ssm.UpdateDocumentCommand({
                    Name: documentName,
                    Content: operations.serializeContent(content()),
                    DocumentFormat: "JSON",
                    DocumentVersion: "$LATEST",
                }),
            );
            expect(await head()).to.include({ defaultVersion: "1", latestVersion: "2" });

            const { state } = await provider.create();
            expect(state).to.include({ documentVersion: "2", adoptedContent: JSON.stringify(someoneElses), adoptedVersion: "1" });
            expect(await head()).to.include({ defaultVersion: "2", latestVersion: "2" });
            expect(await liveContent()).to.deep.equal(content());
        });
    });

    describe("update", () => {
        it("makes exactly one new version and promotes it to default", async () => {
            const { state } = await provider.create();
            const updated = await provider.update(state, { content: content({ idleSessionTimeout: "15" }) });
            expect(updated.documentVersion).to.equal("2");
            expect(await head()).to.include({ defaultVersion: "2", latestVersion: "2" });
            expect(await versionsInMoto()).to.deep.equal(["1", "2"]);
            expect(await liveContent()).to.deep.equal(content({ idleSessionTimeout: "15" }));
        });

        it("carries the adoption record through updates", async () => {
            await createDirectly(legacyYaml, "YAML");
            const { state } = await provider.create();
            const updated = await provider.update(state, { content: content({ idleSessionTimeout: "15" }), onDelete: "reset" });
            expect(updated).to.include({ adoptedContent: legacyYaml, adoptedFormat: "YAML", adoptedVersion: "1", onDelete: "reset" });
        });

        it("writes nothing when only a setting changes", async () => {
            const { state } = await provider.create();
            const updated = await provider.update(state, { keepDocumentVersions: 10 });
            expect(updated).to.include({ documentVersion: "1", keepDocumentVersions: 10 });
            expect(await head()).to.include({ latestVersion: "1" });
        });

        it("returns to earlier content without tripping over SSM's duplicate-content check", async () => {
            const { state } = await provider.create();
            const changed = await provider.update(state, { content: content({ idleSessionTimeout: "15" }) });
            const back = await provider.update(changed, {});
            // moto refuses content equal to any earlier version, so version 1 is promoted;
            // real SSM only refuses the latest version's content, so it would write version 3.
            expect(await head()).to.include({ defaultVersion: back.documentVersion });
            expect(await liveContent()).to.deep.equal(content());
        });
    });

    describe("read", () => {
        it("sees a change made in the console, so refresh shows drift, and the next update puts the content back", async () => {
            const { id, state } = await provider.create();
            const edited = content({ idleSessionTimeout: "60", runAsEnabled: true, runAsDefaultUser: "admin" });
            await consoleEdit(edited);

            const refreshed = await provider.read(id, state);
            expect(refreshed.content).to.deep.equal(edited);
            expect(refreshed.documentVersion).to.equal("2");
            // The refresh keeps the digest of what was applied, so diff can tell the edit apart.
            expect(state.appliedContentSha256).to.equal(operations.contentDigest(content()));
            expect(refreshed.appliedContentSha256).to.equal(state.appliedContentSha256);

            const desired = await provider.checked(rawInputs());
            expect(await provider.diff(refreshed, desired))
                .to.include({ changes: true })
                .and.have.property("replaces").that.is.empty;
            const repaired = await provider.update(refreshed, {});
            // Real SSM writes version 3; moto promotes version 1, which already holds this content.
            expect(await head()).to.include({ defaultVersion: repaired.documentVersion });
            expect(await liveContent()).to.deep.equal(content());
        });

        it("reports no drift when nothing changed", async () => {
            const { id, state } = await provider.create();
            const refreshed = await provider.read(id, state);
            expect(await provider.diff(refreshed, await provider.checked(rawInputs()))).to.include({ changes: false });
            expect(refreshed).to.deep.equal(state);
        });

        it("keeps what was adopted when the document was deleted behind its back, and the next update recreates it", async () => {
            await createDirectly(legacyYaml, "YAML");
            const { id, state } = await provider.create();
            await client.send(new ssm.DeleteDocumentCommand({ Name: documentName }));

            const refreshed = await provider.read(id, state);
            expect(refreshed).to.include({ content: null, documentVersion: null, adoptedContent: legacyYaml });
            const recreated = await provider.update(refreshed, {});
            expect(recreated).to.include({ documentVersion: "1", adoptedContent: legacyYaml });
            expect(await liveContent()).to.deep.equal(content());
        });
    });

    describe("onDelete: restore", () => {
        it("puts back the content found when the document was adopted, by promoting its original version", async () => {
            await createDirectly(legacyYaml, "YAML");
            const { state } = await provider.create();
            const updated = await provider.update(state, { content: content({ idleSessionTimeout: "15" }) });
            await provider.delete(updated);

            expect(await rawAt(undefined, "YAML")).to.equal(legacyYaml);
            expect(await head()).to.include({ defaultVersion: "1", latestVersion: "3", format: "YAML" });
            expect(await tags()).to.deep.equal({});
        });

        it("writes the adopted content back, exactly, when its version was deleted by hand", async () => {
            await createDirectly(legacyYaml, "YAML");
            const { state } = await provider.create();
            const updated = await provider.update(state, { content: content({ idleSessionTimeout: "15" }) });
            await client.send(new ssm.DeleteDocumentCommand({ Name: documentName, DocumentVersion: "1" }));
            expect(await versionsInMoto()).to.not.include("1");

            await provider.delete(updated);
            expect(await rawAt(undefined, "YAML")).to.equal(legacyYaml);
            expect(await head()).to.include({ format: "YAML" });
        });

        it("deletes the document when there was none at adoption", async () => {
            const { state } = await provider.create();
            await provider.update(state, { content: content({ idleSessionTimeout: "15" }) });
            await provider.delete(state);
            expect(await exists()).to.equal(false);
        });

        it("puts the adopted content back even when the document was deleted meanwhile", async () => {
            await createDirectly(legacyYaml, "YAML");
            const { state } = await provider.create();
            await client.send(new ssm.DeleteDocumentCommand({ Name: documentName }));
            await provider.delete(state);
            expect(await rawAt(undefined, "YAML")).to.equal(legacyYaml);
        });
    });

    describe("onDelete: reset", () => {
        it("writes the AWS default preferences, as the CloudFormation sample does", async () => {
            await createDirectly(legacyYaml, "YAML");
            const { state } = await provider.create({ onDelete: "reset" });
            await provider.delete(state);
            expect(await liveContent()).to.deep.equal(awsDefaultDocument());
            expect(await head()).to.include({ defaultVersion: "3" });
            expect(await tags()).to.deep.equal({});
        });
    });

    describe("onDelete: retain", () => {
        it("leaves the managed content in place and removes only the owner tag", async () => {
            const { state } = await provider.create({ onDelete: "retain" });
            await client.send(
                new ssm.AddTagsToResourceCommand({ ResourceType: "Document", ResourceId: documentName, Tags: [{ Key: "team", Value: "platform" }] }),
            );
            await provider.delete(state);
            expect(await liveContent()).to.deep.equal(content());
            expect(await head()).to.include({ defaultVersion: "1", latestVersion: "1" });
            expect(await tags()).to.deep.equal({ team: "platform" });
        });
    });

    describe("version pruning", () => {
        async function applyTimeouts(timeouts: number[], keepDocumentVersions: number): Promise<SessionDocumentState> {
            let { state } = await provider.create({ keepDocumentVersions });
            for (const t of timeouts) state = await provider.update(state, { content: content({ idleSessionTimeout: String(t) }), keepDocumentVersions });
            return state;
        }

        it("keeps the newest versions, up to keepDocumentVersions", async () => {
            const state = await applyTimeouts([21, 22, 23, 24], 3);
            expect(state.documentVersion).to.equal("5");
            expect(await versionsInMoto()).to.deep.equal(["3", "4", "5"]);
            expect(await liveContent()).to.deep.equal(content({ idleSessionTimeout: "24" }));
        });

        it("never deletes the default version, and keeps the newest", async () => {
            await applyTimeouts([21, 22, 23, 24], 0);
            await client.send(new ssm.UpdateDocumentDefaultVersionCommand({ Name: documentName, DocumentVersion: "2" }));
            const deleted = await operations.pruneVersions(client, documentName, 3);
            expect(deleted).to.deep.equal(["3", "1"]);
            expect(await versionsInMoto()).to.deep.equal(["2", "4", "5"]);
            expect(await head()).to.include({ defaultVersion: "2" });
        });

        it("never deletes the adopted original, which restore puts back", async () => {
            await createDirectly(legacyYaml, "YAML");
            const { state } = await provider.create({ keepDocumentVersions: 2 });
            let current = state;
            for (const idle of ["11", "12", "13", "14"])
                current = await provider.update(current, { content: content({ idleSessionTimeout: idle }), keepDocumentVersions: 2 });
            expect(await versionsInMoto()).to.deep.equal(["1", "5", "6"]);

            await provider.delete(current);
            expect(await head()).to.include({ defaultVersion: "1", format: "YAML" });
            expect(await rawAt(undefined, "YAML")).to.equal(legacyYaml);
        });

        it("keeps the default and the newest even when keepDocumentVersions is 1", async () => {
            await applyTimeouts([21, 22], 0);
            await client.send(new ssm.UpdateDocumentDefaultVersionCommand({ Name: documentName, DocumentVersion: "1" }));
            await operations.pruneVersions(client, documentName, 1);
            expect(await versionsInMoto()).to.deep.equal(["1", "3"]);
        });

        it("keeps every version when keepDocumentVersions is 0", async () => {
            await applyTimeouts([21, 22, 23, 24], 0);
            expect(await versionsInMoto()).to.deep.equal(["1", "2", "3", "4", "5"]);
        });
    });
});
