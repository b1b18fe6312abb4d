// The Session document provider across accounts and stacks (moto server): assumed roles
// keep accounts apart, wrong credentials write nothing, the owner tag stops two stacks
// fighting over one document, and the provider still works as Pulumi serializes it.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as ssm from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { desiredDocument, SessionDocumentContent } from "../core/document";
import { defaultPreferences } from "../core/settings";
import { ownerTagKey } from "../providers/documentOperations";
import { engineProviderText } from "../providers/engineProvider";
import {
    checkSessionDocumentInputs,
    forgetCheckedSessions,
    SessionDocument,
    sessionDocumentProvider,
    SessionDocumentInputs,
    SessionDocumentState,
    unknownValue,
} from "../providers/sessionDocument";
import { Moto, motoDefaultAccount, motoEnv, startMoto } from "../devtools/moto";
import { AwsProxy, isWrite, startAwsProxy } from "../devtools/awsProxy";
import { consoleDocument, DocumentInspector } from "../devtools/documents";
import { documentReadActions, documentWriteActions } from "../core/accessPolicies";
import { parseAdoptionMessage } from "../core/adoptionPreview";
import { fieldDifferences } from "../core/fieldChanges";
import { dynamicResourceType, settled, useMocks, valueOf } from "./support/pulumiMocks";

const region = "us-west-2";
const documentName = "SSM-SessionManagerRunShell";

function contentFor(accountId: string, idleSessionTimeout = 20): SessionDocumentContent {
    return desiredDocument({ ...defaultPreferences, idleSessionTimeout }, { accountId, region, kmsKeyId: `alias/data-${accountId}` });
}

function wire<T>(value: unknown): T {
    return Struct.fromJavaScript(value as Record<string, never>).toJavaScript() as unknown as T;
}

type Provider = pulumi.dynamic.ResourceProvider<SessionDocumentInputs, SessionDocumentState>;

/** check then create, with properties crossing the wire as the engine sends them. */
async function create(provider: Provider, raw: Record<string, unknown>): Promise<SessionDocumentState> {
    const { inputs, failures } = await provider.check!({} as SessionDocumentInputs, wire(raw));
    expect(failures ?? []).to.deep.equal([]);
    const { outs } = await provider.create(wire(inputs));
    return wire(outs);
}

/** create with inputs checked as check does, without check's look at the live document: what create alone does. */
async function createOnly(raw: Record<string, unknown>): Promise<SessionDocumentState> {
    const { inputs, failures } = checkSessionDocumentInputs(wire(raw));
    expect(failures).to.deep.equal([]);
    const { outs } = await sessionDocumentProvider.create(wire(inputs));
    return wire(outs);
}

async function update(olds: SessionDocumentState, raw: Record<string, unknown>): Promise<SessionDocumentState> {
    const { inputs } = await sessionDocumentProvider.check!({} as SessionDocumentInputs, wire(raw));
    const { outs } = await sessionDocumentProvider.update!("id", wire(olds), wire(inputs));
    return wire(outs);
}

describe("SessionDocument provider across accounts and stacks (moto server)", function () {
    this.timeout(120_000);
    let moto: Moto;
    const savedEnv = { ...process.env };

    before(async () => {
        moto = await startMoto();
        Object.assign(process.env, motoEnv(moto, region));
    });
    after(async () => {
        process.env = savedEnv;
        await moto?.stop();
    });
    beforeEach(() => moto.reset());

    /** A document made in the console in `accountId` (moto itself, not through any proxy); returns its exact text. */
    async function seedConsoleDocument(accountId: string): Promise<string> {
        const inspector = new DocumentInspector(moto.endpoint);
        try {
            return await inspector.seed(`${accountId}/${region}`, consoleDocument(`${accountId}/${region}`));
        } finally {
            inspector.close();
        }
    }

    /** An SSM client acting in `accountId`: moto maps an assumed role's credentials to the role's account. */
    async function clientIn(accountId: string): Promise<ssm.SSMClient> {
        if (accountId === motoDefaultAccount) return new ssm.SSMClient({ region });
        const { Credentials } = await new STSClient({ region }).send(
            new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/Inspector`, RoleSessionName: "test" }),
        );
        return new ssm.SSMClient({
            region,
            credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken },
        });
    }
    async function liveContent(accountId: string): Promise<unknown | undefined> {
        try {
            const got = await (await clientIn(accountId)).send(new ssm.GetDocumentCommand({ Name: documentName }));
            return JSON.parse(got.Content!);
        } catch (err) {
            if (err instanceof ssm.InvalidDocument) return undefined;
            throw err;
        }
    }
    async function ownerTag(accountId = motoDefaultAccount): Promise<string | undefined> {
        const client = await clientIn(accountId);
        const { TagList } = await client.send(new ssm.ListTagsForResourceCommand({ ResourceType: "Document", ResourceId: documentName }));
        return TagList?.find((t) => t.Key === ownerTagKey)?.Value;
    }

    describe("accounts", () => {
        it("keeps two accounts reached through assumed roles separate", async () => {
            for (const accountId of ["111111111111", "222222222222"]) {
                const state = await create(sessionDocumentProvider, {
                    accountId,
                    region,
                    roleArn: `arn:aws:iam::${accountId}:role/SessionManagerDeployer`,
                    content: contentFor(accountId),
                    owner: "org/prod",
                });
                expect(state).to.include({ accountId, roleArn: `arn:aws:iam::${accountId}:role/SessionManagerDeployer`, documentVersion: "1" });
            }
            expect(await liveContent("111111111111")).to.deep.equal(contentFor("111111111111"));
            expect(await liveContent("222222222222")).to.deep.equal(contentFor("222222222222"));
            expect(await liveContent(motoDefaultAccount), "the deploying account").to.equal(undefined);
        });

        it("refuses credentials for another account than accountId, and writes nothing anywhere", async () => {
            const attempt = create(sessionDocumentProvider, { accountId: "111111111111", region, content: contentFor("111111111111"), owner: "org/prod" });
            await expectRejection(attempt, [motoDefaultAccount, "111111111111"]);
            expect(await liveContent(motoDefaultAccount)).to.equal(undefined);
            expect(await liveContent("111111111111")).to.equal(undefined);
        });

        it("deletes in the account it was created in, through the same role", async () => {
            const roleArn = "arn:aws:iam::111111111111:role/SessionManagerDeployer";
            const state = await create(sessionDocumentProvider, {
                accountId: "111111111111",
                region,
                roleArn,
                content: contentFor("111111111111"),
                owner: "org/prod",
            });
            await sessionDocumentProvider.delete!("id", state);
            expect(await liveContent("111111111111")).to.equal(undefined);
        });
    });

    describe("checked sessions", () => {
        const roleOf = (accountId: string) => `arn:aws:iam::${accountId}:role/SessionManagerDeployer`;
        let proxy: AwsProxy;
        let endpoint: string | undefined;
        before(async () => {
            proxy = await startAwsProxy(moto.endpoint, { unreachableService: "sts" });
            endpoint = process.env.AWS_ENDPOINT_URL;
            process.env.AWS_ENDPOINT_URL = proxy.endpoint;
        });
        after(async () => {
            process.env.AWS_ENDPOINT_URL = endpoint;
            await proxy?.close();
        });
        beforeEach(() => proxy.resetCounts());

        it("checks each role once for all its documents, writes each in its own account and Region, and still refuses a checked session to another account", async () => {
            const accounts = ["111111111111", "222222222222"];
            const regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
            const targets = accounts.flatMap((accountId) => regions.map((r) => ({ accountId, region: r })));
            await Promise.all(
                targets.map((t) =>
                    create(sessionDocumentProvider, { ...t, roleArn: roleOf(t.accountId), content: contentFor(t.accountId), owner: "org/prod" }),
                ),
            );
            const sts = proxy.calls.filter((c) => c.service === "sts").map((c) => `${c.action} as ${c.account}`);
            expect(sts.sort()).to.deep.equal(
                [...accounts.map(() => `AssumeRole as ${motoDefaultAccount}`), ...accounts.map((a) => `GetCallerIdentity as ${a}`)].sort(),
            );
            const ssmWrites = proxy.calls.filter((c) => c.service === "ssm" && c.action === "CreateDocument").map((c) => `${c.account}/${c.region}`);
            expect(ssmWrites.sort()).to.deep.equal(targets.map((t) => `${t.accountId}/${t.region}`).sort());

            // The ambient credentials' session, checked and kept for a document of their own account,
            // is still refused to a document of another account.
            await create(sessionDocumentProvider, { accountId: motoDefaultAccount, region, content: contentFor(motoDefaultAccount), owner: "org/prod" });
            proxy.resetCounts();
            const wrong = create(sessionDocumentProvider, { accountId: accounts[0], region, content: contentFor(accounts[0]), owner: "org/prod" });
            await expectRejection(wrong, ["Refusing", motoDefaultAccount, accounts[0]]);
            expect(proxy.calls, "no STS call (the session was checked) and no SSM call").to.deep.equal([]);
        });

        it("a document that waited on another's failed check checks again in its own Region", async () => {
            // The role is assumed with the ambient credentials: in eu-west-1, that STS endpoint is down.
            proxy.unreachable.add(`${motoDefaultAccount}/eu-west-1`);
            try {
                const inputs = { accountId: "333333333333", roleArn: roleOf("333333333333"), content: contentFor("333333333333"), owner: "org/prod" };
                const [first, second] = await Promise.allSettled([
                    createOnly({ ...inputs, region: "eu-west-1" }),
                    createOnly({ ...inputs, region: "us-east-1" }),
                ]);
                expect(first.status, "the document whose Region's STS is down").to.equal("rejected");
                expect(second.status === "fulfilled" ? second.value.documentVersion : second.reason).to.equal("1");
            } finally {
                proxy.unreachable.clear();
            }
        });
    });

    describe("the read-only role and the write role", () => {
        const writer = "arn:aws:iam::111111111111:role/SessionManagerDeployer";
        const reader = "arn:aws:iam::111111111111:role/SessionManagerReader";
        const target = { accountId: "111111111111", region, roleArn: writer, readOnlyRoleArn: reader, owner: "org/prod" };
        let proxy: AwsProxy;
        let endpoint: string | undefined;
        let logged: string[];
        const consoleError = console.error;
        before(async () => {
            proxy = await startAwsProxy(moto.endpoint);
            endpoint = process.env.AWS_ENDPOINT_URL;
            process.env.AWS_ENDPOINT_URL = proxy.endpoint;
        });
        after(async () => {
            process.env.AWS_ENDPOINT_URL = endpoint;
            await proxy?.close();
        });
        beforeEach(() => {
            proxy.resetCounts();
            // Outside the engine, the provider's messages to it go to stderr.
            logged = [];
            console.error = (...args: unknown[]) => void logged.push(args.map(String).join(" "));
        });
        afterEach(() => {
            console.error = consoleError;
        });

        /** The roles assumed, and the SSM calls with the role that signed each, since the last look. */
        function seen(): { assumed: string[]; ssm: { action: string; signedBy?: string }[] } {
            const calls = proxy.calls.splice(0, proxy.calls.length);
            return {
                assumed: [...new Set(calls.filter((c) => c.action === "AssumeRole").map((c) => c.roleArn ?? "?"))],
                ssm: calls.filter((c) => c.service === "ssm").map((c) => ({ action: c.action, signedBy: c.signedBy })),
            };
        }

        it("checks and reads through the read-only role only, and creates, updates and deletes through the write role", async () => {
            const seeded = await seedConsoleDocument("111111111111");
            const { inputs } = await sessionDocumentProvider.check!({} as SessionDocumentInputs, wire({ ...target, content: contentFor("111111111111") }));
            const look = seen();
            expect(look.assumed, "check").to.deep.equal([reader]);
            expect(
                look.ssm.filter((c) => isWrite(c.action)),
                "check writes nothing",
            ).to.deep.equal([]);
            expect(look.ssm.every((c) => c.signedBy === reader)).to.equal(true);

            const { outs } = await sessionDocumentProvider.create(wire(inputs));
            const state = wire<SessionDocumentState>(outs);
            const created = seen();
            expect(created.assumed, "create").to.deep.equal([writer]);
            expect(created.ssm.filter((c) => isWrite(c.action)).length).to.be.greaterThan(0);
            expect(created.ssm.every((c) => c.signedBy === writer)).to.equal(true);
            expect(state).to.include({ roleArn: writer, readOnlyRoleArn: reader, adoptedContent: seeded });

            await sessionDocumentProvider.read!(`111111111111/${region}/${documentName}`, state);
            const read = seen();
            expect(read.ssm.length).to.be.greaterThan(0);
            expect(
                read.ssm.every((c) => c.signedBy === reader && !isWrite(c.action)),
                "read",
            ).to.equal(true);

            const updated = await update(state, { ...target, content: contentFor("111111111111", 25) });
            expect(
                seen()
                    .ssm.filter((c) => isWrite(c.action))
                    .every((c) => c.signedBy === writer),
                "update",
            ).to.equal(true);
            await sessionDocumentProvider.delete!("id", updated);
            const deleted = seen();
            expect(
                deleted.ssm.every((c) => c.signedBy === writer),
                "delete",
            ).to.equal(true);
            expect(await liveContent("111111111111")).to.deep.equal(JSON.parse(seeded));
        });

        it("makes only calls the generated role policies allow: every write-role call is in the write role's document actions, every read in the read-only role's", async () => {
            const writes = new Set<string>();
            const reads = new Set<string>();
            const record = () => {
                for (const c of seen().ssm) (c.signedBy === reader ? reads : writes).add(`ssm:${c.action}`);
            };
            for (const [onDelete, consoleMade] of [
                ["restore", true],
                ["reset", true],
                ["retain", true],
                ["restore", false],
            ] as const) {
                await moto.reset();
                forgetCheckedSessions();
                if (consoleMade) await seedConsoleDocument("111111111111");
                // keepDocumentVersions 1 prunes on every write: the whole lifecycle's calls.
                let state = await create(sessionDocumentProvider, { ...target, onDelete, keepDocumentVersions: 1, content: contentFor("111111111111") });
                for (const idle of [25, 30, 35])
                    state = await update(state, { ...target, onDelete, keepDocumentVersions: 1, content: contentFor("111111111111", idle) });
                await sessionDocumentProvider.read!("id", state);
                await sessionDocumentProvider.delete!("id", state);
                record();
            }
            expect(
                [...writes].filter((a) => !(documentWriteActions as readonly string[]).includes(a)),
                "write calls outside the write policy",
            ).to.deep.equal([]);
            expect(
                [...reads].filter((a) => !(documentReadActions as readonly string[]).includes(a)),
                "read calls outside the read-only policy",
            ).to.deep.equal([]);
            // And nothing in the policies goes unused: each action is one the provider calls.
            expect([...reads].sort()).to.deep.equal([...documentReadActions].sort());
            expect([...writes].sort()).to.deep.equal([...documentWriteActions].sort());
        });

        it("tells the engine, when it checks a document it will create, which live fields the first up overwrites and that destroy puts the content back", async () => {
            await seedConsoleDocument("111111111111");
            await sessionDocumentProvider.check!({} as SessionDocumentInputs, wire({ ...target, content: contentFor("111111111111") }));
            const preview = logged.map((line) => parseAdoptionMessage(line.replace(/^info: /, ""))).find((p) => p !== undefined);
            expect(preview, logged.join("\n")).to.not.equal(undefined);
            expect(preview!.kind).to.equal("adopt");
            expect(preview!.document).to.equal(`111111111111/${region}/${documentName}`);
            expect(preview!.summary).to.include("version 1").and.include("destroy puts it back");
            const fields = Object.fromEntries(preview!.fields.map((f) => [f.field, [f.current, f.wanted]]));
            expect(fields["inputs.idleSessionTimeout"]).to.deep.equal(["45", "20"]);
            expect(fields["inputs.s3BucketName"]).to.deep.equal(["console-logs-111111111111", ""]);
            // Each field the first up changes, and no other.
            const wanted = contentFor("111111111111");
            const found = JSON.parse(consoleDocument(`111111111111/${region}`));
            expect(preview!.fields.map((f) => f.field)).to.deep.equal(fieldDifferences(wanted, found).map((d) => d.field));
        });

        it("says so when there is no document, and when another stack owns it, without writing anything", async () => {
            await sessionDocumentProvider.check!({} as SessionDocumentInputs, wire({ ...target, content: contentFor("111111111111") }));
            const none = logged.map((line) => parseAdoptionMessage(line.replace(/^\w+: /, ""))).find((p) => p);
            expect(none).to.include({ kind: "absent" });
            await create(sessionDocumentProvider, { ...target, owner: "org/other", content: contentFor("111111111111") });
            logged = [];
            proxy.resetCounts();
            await sessionDocumentProvider.check!({} as SessionDocumentInputs, wire({ ...target, content: contentFor("111111111111", 30) }));
            const blocked = logged.map((line) => parseAdoptionMessage(line.replace(/^\w+: /, ""))).find((p) => p);
            expect(blocked).to.include({ kind: "blocked" });
            expect(blocked!.summary).to.include("org/other").and.include("takeOver");
            expect(seen().ssm.filter((c) => isWrite(c.action))).to.deep.equal([]);
        });

        it("refuses a read-only role in another account, or the write role itself", async () => {
            const { failures } = checkSessionDocumentInputs({
                ...target,
                readOnlyRoleArn: "arn:aws:iam::222222222222:role/SessionManagerReader",
                content: contentFor("111111111111"),
            });
            expect(failures.map((f) => f.property)).to.deep.equal(["readOnlyRoleArn"]);
            expect(failures[0].reason).to.include("222222222222").and.include("111111111111");
            const same = checkSessionDocumentInputs({ ...target, readOnlyRoleArn: writer, content: contentFor("111111111111") });
            expect(same.failures.map((f) => f.reason).join()).to.include("write role");
        });
    });

    describe("ownership", () => {
        const stackA = "org/stack-a";
        const stackB = "org/stack-b";
        const inputsFor = (owner: string, extra: Record<string, unknown> = {}) => ({
            accountId: motoDefaultAccount,
            region,
            content: contentFor(motoDefaultAccount, owner === stackA ? 20 : 30),
            owner,
            ...extra,
        });

        it("refuses a second owner with a message naming the first, and leaves the document alone", async () => {
            await create(sessionDocumentProvider, inputsFor(stackA));
            await expectRejection(create(sessionDocumentProvider, inputsFor(stackB)), [stackA, "takeOver"]);
            expect(await liveContent(motoDefaultAccount)).to.deep.equal(contentFor(motoDefaultAccount, 20));
            expect(await ownerTag()).to.equal(stackA);
        });

        it("lets takeOver manage a document another stack owns, inheriting what that stack adopted (here: no document)", async () => {
            await create(sessionDocumentProvider, inputsFor(stackA));
            const state = await create(sessionDocumentProvider, inputsFor(stackB, { takeOver: true }));
            expect(state).to.include({ adoptedContent: null, adoptedFormat: null, adoptedVersion: null });
            expect(await liveContent(motoDefaultAccount)).to.deep.equal(contentFor(motoDefaultAccount, 30));
            expect(await ownerTag()).to.equal(stackB);
        });

        it("stops the first stack from updating or deleting a document taken over from it", async () => {
            const first = await create(sessionDocumentProvider, inputsFor(stackA));
            await create(sessionDocumentProvider, inputsFor(stackB, { takeOver: true }));

            await expectRejection(update(first, inputsFor(stackA, { content: contentFor(motoDefaultAccount, 25) })), [stackB]);
            // Its restore would delete the document (there was none when it adopted it).
            await sessionDocumentProvider.delete!("id", first);
            expect(await liveContent(motoDefaultAccount)).to.deep.equal(contentFor(motoDefaultAccount, 30));
            expect(await ownerTag()).to.equal(stackB);
        });

        it("moves its own tag when the owner is renamed", async () => {
            const state = await create(sessionDocumentProvider, inputsFor(stackA));
            const renamed = await update(state, inputsFor("org/stack-a-renamed", { content: state.content }));
            expect(renamed.owner).to.equal("org/stack-a-renamed");
            expect(await ownerTag()).to.equal("org/stack-a-renamed");
        });
    });

    describe("as Pulumi serializes it", () => {
        it("creates, reads and deletes through the provider text every document carries, which holds no credentials", async () => {
            // What SessionDocument hands the engine: requires of the stable entry point, which
            // resolve from the working directory (here the checkout, as for `pulumi up` in it).
            const text = engineProviderText();
            expect(text).not.to.match(/secretAccessKey|sessionToken/i);
            expect(text, "endpoints come from the environment where it runs").not.to.contain(moto.endpoint);
            // This is how the dynamic provider host loads it.
            const requireFromString: (code: string) => { handler(): Provider } = require("require-from-string");
            const loaded = requireFromString(text).handler();

            const content = contentFor(motoDefaultAccount);
            const state = await create(loaded, { accountId: motoDefaultAccount, region, content, owner: "org/prod" });
            const { props } = await loaded.read!(`${motoDefaultAccount}/${region}/${documentName}`, state);
            expect(props!.content).to.deep.equal(content);
            await loaded.delete!("id", state);
            expect(await liveContent(motoDefaultAccount)).to.equal(undefined);
        });

        it("uses the engine's marker for unknown values", () => {
            expect(unknownValue).to.equal(pulumi.runtime.unknownValue);
        });
    });

    describe("the SessionDocument resource", () => {
        it("registers a dynamic resource with the defaults filled in and exposes the state as outputs", async () => {
            const mocks = await useMocks();
            const content = contentFor(motoDefaultAccount);
            const document = new SessionDocument("doc", { accountId: motoDefaultAccount, region, content });
            await settled();
            const registered = mocks.named("doc");
            expect(registered.type).to.equal(dynamicResourceType);
            expect(registered.inputs).to.include({
                documentName,
                onDelete: "restore",
                keepDocumentVersions: 100,
                owner: "session-manager-preferences/test",
                takeOver: false,
            });
            expect(registered.inputs.__provider).to.be.a("string");
            expect(await valueOf(document.documentVersion)).to.equal("1");
            expect(await valueOf(document.content)).to.deep.equal(content);
            expect(await valueOf(document.accountId)).to.equal(motoDefaultAccount);
        });
    });
});

async function expectRejection(attempt: Promise<unknown>, mentions: string[]): Promise<void> {
    let failure: unknown;
    try {
        await attempt;
    } catch (err) {
        failure = err;
    }
    expect(failure, "expected the operation to fail").to.be.instanceOf(Error);
    for (const mention of mentions) expect((failure as Error).message).to.contain(mention);
}
