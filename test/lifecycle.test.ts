// The document's lifecycle through the real engine: the Pulumi CLI and Node.js language host,
// LocalWorkspace, a local file backend, the program and its dynamic provider, and moto, with
// every assertion made on the engine's result AND on what moto holds afterwards.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Stack } from "@pulumi/pulumi/automation";
import { awsDefaultDocument } from "../core/document";
import { parseReleaseMessage } from "../core/release";
import { parseAdoptionMessage } from "../core/adoptionPreview";
import { fieldDifferences } from "../core/fieldChanges";
import { ownerTagKey } from "../providers/documentOperations";
import { createLocalStack, engineEnv, pulumiBin, removeLocalStack } from "../devtools/engine";
import {
    asStackConfig,
    consoleDocument,
    documentName,
    desiredFor,
    DocumentInspector,
    documentStates,
    DocumentView,
    settingsOf,
    stackFileConfig,
    TargetKey,
    targetKeys,
} from "../devtools/documents";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";

const project = "session-manager-preferences";
const localConfig = stackFileConfig("Pulumi.local.yaml");
const role = "SessionManagerAdmin";

/** The local stack's settings, for one account only: most cases need no more. */
function oneAccount(regions: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...localConfig, "sessionManager:targets": [{ accountId: "111111111111", regions, roleName: role }], ...extra };
}

/** Only "same" entries: the engine saw nothing to do. */
/** What each document's release reported in the engine output: document ID to outcome. */
function releasesIn(output: string): Map<string, string> {
    const found = new Map<string, string>();
    for (const line of output.split("\n")) {
        const release = parseReleaseMessage(line);
        if (release) found.set(release.document, release.kind);
    }
    return found;
}

function onlySame(changes: Record<string, number> | undefined): boolean {
    return Object.keys(changes ?? {}).every((op) => op === "same");
}

describe("document lifecycle through the real engine (LocalWorkspace, local backend, moto)", function () {
    // Every engine operation starts the CLI, node, ts-node and the provider: seconds each on a busy machine.
    this.timeout(6 * 60_000);
    let moto: Moto;
    let tmp: string;
    let workDir: string;
    let backendDir: string;
    let env: Record<string, string>;
    let docs: DocumentInspector;
    const stacks: Stack[] = [];

    async function stackNamed(stackName: string, config?: Record<string, unknown>): Promise<Stack> {
        const stack = await createLocalStack({ stackName, workDir, backendDir, env, config: config && asStackConfig(config) });
        stacks.push(stack);
        return stack;
    }

    async function viewsOf(targets: TargetKey[]): Promise<Map<TargetKey, DocumentView>> {
        return new Map(await Promise.all(targets.map(async (t) => [t, await docs.mustView(t)] as const)));
    }

    /** moto forgets the roles' sessions too, so the inspector's cached credentials must go with it. */
    async function resetMoto(): Promise<void> {
        await moto.reset();
        docs.close();
    }

    before(async function () {
        // The first run on a machine may build the CLI from Go modules (minutes; progress on stderr).
        this.timeout(60 * 60_000);
        await pulumiBin();
        moto = await startMoto();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-lifecycle-"));
        // Stacks run in a copy: the CLI writes the passphrase salt into Pulumi.<stack>.yaml.
        workDir = projectCopy(path.join(tmp, "project"), ["Pulumi.local.yaml"]);
        backendDir = path.join(tmp, "backend");
        env = await engineEnv(moto, backendDir);
        docs = new DocumentInspector(moto.endpoint);
    });

    after(async function () {
        this.timeout(2 * 60_000);
        for (const stack of stacks) await removeLocalStack(stack).catch(() => undefined);
        docs?.close();
        await moto?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    describe("the local stack (Pulumi.local.yaml: 2 accounts x 2 Regions through an assumed role)", () => {
        const settings = settingsOf(localConfig);
        const targets = targetKeys(settings);
        /** No document here before the stack: restore must delete the one the stack made. */
        const neverSeeded = "222222222222/eu-west-1";
        const seeded = new Map<TargetKey, string>();
        let stack: Stack;

        before(async () => {
            await resetMoto();
            for (const target of targets) if (target !== neverSeeded) seeded.set(target, await docs.seed(target, consoleDocument(target)));
            // Its config is the copied Pulumi.local.yaml itself.
            stack = await stackNamed("local");
        });

        it("the first preview names, per console-made document, every live field the first up overwrites, and says the content is kept for destroy", async () => {
            const messages: string[] = [];
            const preview = await stack.preview({ onEvent: (e) => void (e.diagnosticEvent && messages.push(e.diagnosticEvent.message)) });
            expect(preview.changeSummary).to.deep.equal({ create: 1 + 2 * targets.length });
            const adoptions = new Map(
                messages.flatMap((m) =>
                    parseAdoptionMessage(m) ? [[parseAdoptionMessage(m)!.document.split("/").slice(0, 2).join("/"), parseAdoptionMessage(m)!]] : [],
                ),
            );
            expect([...adoptions.keys()].sort()).to.deep.equal([...targets].sort());
            for (const target of targets) {
                const adoption = adoptions.get(target)!;
                if (target === neverSeeded) {
                    expect(adoption.kind, target).to.equal("absent");
                    continue;
                }
                expect(adoption.kind, target).to.equal("adopt");
                expect(adoption.summary, target).to.include("its current content (version 1) is kept: destroy puts it back");
                const expected = fieldDifferences(desiredFor(settings, target), JSON.parse(seeded.get(target)!)).map((d) => ({
                    field: d.field,
                    current: d.found,
                    wanted: d.wanted,
                }));
                expect(adoption.fields, target).to.deep.equal(expected);
            }
            // A preview writes nothing: the console-made documents are as they were.
            for (const [target, raw] of seeded) expect((await docs.mustView(target)).raw, target).to.equal(raw);
        });

        it("up adopts every console-made document: desired content as the default version, the found text recorded exactly", async () => {
            expect(targets).to.have.length(4);
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            // The stack, one component and one document per target: nothing of @pulumi/aws.
            expect(up.summary.resourceChanges).to.deep.equal({ create: 1 + 2 * targets.length });

            const outputs = up.outputs.targets.value as Record<string, { documentVersion: string }>;
            expect(Object.keys(outputs)).to.have.members(targets);
            const states = documentStates(await stack.exportStack());
            expect([...states.keys()]).to.have.members(targets);
            for (const target of targets) {
                const view = await docs.mustView(target);
                expect(view.content, target).to.deep.equal(desiredFor(settings, target));
                expect(view.defaultVersion, target).to.equal(view.latestVersion);
                expect(outputs[target].documentVersion, target).to.equal(view.defaultVersion);
                expect(docs.owner(view), target).to.equal(`${project}/local`);

                const state = states.get(target)?.outputs ?? {};
                if (target === neverSeeded) {
                    expect(view.versions, target).to.deep.equal(["1"]);
                    expect(state.adoptedContent, target).to.equal(null);
                    expect(state.adoptedVersion, target).to.equal(null);
                } else {
                    // The console's version 1 is kept; the stack's content is version 2, the default.
                    expect(view.versions, target).to.deep.equal(["1", "2"]);
                    expect(state.adoptedContent, target).to.equal(seeded.get(target));
                    expect(state.adoptedFormat, target).to.equal("JSON");
                    expect(state.adoptedVersion, target).to.equal("1");
                }
            }
        });

        it("a second up reports no changes and creates no document version", async () => {
            const before = await viewsOf(targets);
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            expect(onlySame(up.summary.resourceChanges), JSON.stringify(up.summary.resourceChanges)).to.equal(true);
            expect(up.summary.resourceChanges?.same).to.equal(1 + 2 * targets.length);
            for (const [target, view] of await viewsOf(targets)) {
                const was = before.get(target) as DocumentView;
                expect(view.versions, target).to.deep.equal(was.versions);
                expect(view.defaultVersion, target).to.equal(was.defaultVersion);
                expect(view.raw, target).to.equal(was.raw);
            }
        });

        it("refresh reports an out-of-band edit as an update of that document, and up repairs it", async () => {
            const edited = "111111111111/eu-west-1";
            const desired = desiredFor(settings, edited);
            const consoleEdit = { ...desired, inputs: { ...desired.inputs, idleSessionTimeout: "60", runAsEnabled: false, runAsDefaultUser: "" } };
            await docs.editOutOfBand(edited, JSON.stringify(consoleEdit));
            const others = await viewsOf(targets.filter((t) => t !== edited));

            const refresh = await stack.refresh();
            expect(refresh.summary.result).to.equal("succeeded");
            expect(refresh.summary.resourceChanges?.update, JSON.stringify(refresh.summary.resourceChanges)).to.equal(1);
            // The refreshed state holds what is live: the drift, in the edited target only.
            const states = documentStates(await stack.exportStack());
            expect(states.get(edited)?.outputs.content).to.deep.equal(consoleEdit);
            for (const target of others.keys()) expect(states.get(target)?.outputs.content, target).to.deep.equal(desiredFor(settings, target));

            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            expect(up.summary.resourceChanges?.update, JSON.stringify(up.summary.resourceChanges)).to.equal(1);
            const repaired = await docs.mustView(edited);
            expect(repaired.content).to.deep.equal(desired);
            expect((up.outputs.targets.value as Record<string, { documentVersion: string }>)[edited].documentVersion).to.equal(repaired.defaultVersion);
            for (const [target, was] of others) {
                const view = await docs.mustView(target);
                expect(view.versions, target).to.deep.equal(was.versions);
                expect(view.defaultVersion, target).to.equal(was.defaultVersion);
            }
            const again = await stack.up();
            expect(onlySame(again.summary.resourceChanges), JSON.stringify(again.summary.resourceChanges)).to.equal(true);
        });

        it("a settings change makes exactly one new version per target, and it is the default", async () => {
            const before = await viewsOf(targets);
            await stack.setConfig("sessionManager:idleSessionTimeout", { value: "10" });
            const changed = settingsOf({ ...localConfig, "sessionManager:idleSessionTimeout": 10 });
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            expect(up.summary.resourceChanges).to.deep.equal({ same: 1 + targets.length, update: targets.length });
            const outputs = up.outputs.targets.value as Record<string, { documentVersion: string }>;
            for (const [target, view] of await viewsOf(targets)) {
                const was = before.get(target) as DocumentView;
                const added = String(Number(was.latestVersion) + 1);
                expect(view.versions, target).to.deep.equal([...was.versions, added]);
                expect(view.latestVersion, target).to.equal(added);
                expect(view.defaultVersion, target).to.equal(added);
                expect(view.content, target).to.deep.equal(desiredFor(changed, target));
                expect(view.content.inputs.idleSessionTimeout, target).to.equal("10");
                expect(outputs[target].documentVersion, target).to.equal(added);
            }
        });

        it("destroy (onDelete restore) gives back each console-made document exactly and deletes the one that was not there", async () => {
            const destroy = await stack.destroy();
            expect(destroy.summary.result).to.equal("succeeded");
            expect(destroy.summary.resourceChanges).to.deep.equal({ delete: 1 + 2 * targets.length });
            // Each document says what became of it, in the output the user reads.
            expect(releasesIn(destroy.stdout)).to.deep.equal(new Map(targets.map((t) => [`${t}/${documentName}`, t === neverSeeded ? "deleted" : "restored"])));
            for (const target of targets) {
                const view = await docs.view(target);
                if (target === neverSeeded) {
                    expect(view, target).to.equal(undefined);
                    continue;
                }
                if (!view) throw new Error(`restore left no document in ${target}`);
                expect(view.raw, target).to.equal(seeded.get(target));
                expect(view.format, target).to.equal("JSON");
                // The stack no longer claims the document.
                expect(view.tags, target).to.not.have.property(ownerTagKey);
            }
        });
    });

    describe("the other onDelete policies (1 account x 2 Regions)", () => {
        const regions = ["us-east-1", "eu-west-1"];
        const targets = regions.map((r) => `111111111111/${r}`);
        let stack: Stack;

        before(async () => {
            await resetMoto();
            stack = await stackNamed("test-ondelete", oneAccount(regions, { "sessionManager:onDelete": "reset" }));
        });

        it("reset writes the AWS defaults, whatever was there before", async () => {
            for (const target of targets) await docs.seed(target, consoleDocument(target));
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            const destroy = await stack.destroy();
            expect(destroy.summary.result).to.equal("succeeded");
            expect(destroy.summary.resourceChanges).to.deep.equal({ delete: 1 + 2 * targets.length });
            expect(releasesIn(destroy.stdout)).to.deep.equal(new Map(targets.map((t) => [`${t}/${documentName}`, "reset"])));
            for (const target of targets) {
                const view = await docs.mustView(target);
                expect(view.content, target).to.deep.equal(awsDefaultDocument());
                expect(view.defaultVersion, target).to.equal(view.latestVersion);
                expect(view.tags, target).to.not.have.property(ownerTagKey);
            }
        });

        it("retain leaves the managed content as the default version", async () => {
            await resetMoto();
            for (const target of targets) await docs.seed(target, consoleDocument(target));
            await stack.setConfig("sessionManager:onDelete", { value: "retain" });
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            const applied = await viewsOf(targets);
            const destroy = await stack.destroy();
            expect(destroy.summary.result).to.equal("succeeded");
            expect(releasesIn(destroy.stdout)).to.deep.equal(new Map(targets.map((t) => [`${t}/${documentName}`, "retained"])));
            const settings = settingsOf(oneAccount(regions));
            for (const [target, view] of await viewsOf(targets)) {
                const was = applied.get(target) as DocumentView;
                expect(view.content, target).to.deep.equal(desiredFor(settings, target));
                expect(view.versions, target).to.deep.equal(was.versions);
                expect(view.defaultVersion, target).to.equal(was.defaultVersion);
                expect(view.raw, target).to.not.equal(consoleDocument(target));
                expect(view.tags, target).to.not.have.property(ownerTagKey);
            }
        });
    });

    describe("S3-only session logging (cwLogging: false)", () => {
        it("up writes a document that names the bucket and no log group; destroy removes it again", async () => {
            await resetMoto();
            const target = "111111111111/us-east-1";
            const config = oneAccount(["us-east-1"], {
                "sessionManager:cwLogging": false,
                "sessionManager:s3Logging": true,
                "sessionManager:s3BucketName": "org-session-logs",
            });
            const stack = await stackNamed("test-s3-only", config);
            expect((await stack.up()).summary.result).to.equal("succeeded");
            const view = await docs.mustView(target);
            expect(view.content).to.deep.equal(desiredFor(settingsOf(config), target));
            expect(view.content.inputs.cloudWatchLogGroupName).to.equal("");
            expect(view.content.inputs.s3BucketName).to.equal("org-session-logs");
            expect((await stack.destroy()).summary.result).to.equal("succeeded");
            expect(await docs.view(target)).to.equal(undefined);
        });
    });

    describe("two stacks for the same account and Region", () => {
        const target = "111111111111/us-east-1";
        let first: Stack;
        let second: Stack;

        before(async () => {
            await resetMoto();
            await docs.seed(target, consoleDocument(target));
            first = await stackNamed("test-first", oneAccount(["us-east-1"]));
            second = await stackNamed("test-second", oneAccount(["us-east-1"], { "sessionManager:idleSessionTimeout": 30 }));
        });

        it("the second up fails naming the first stack, and the document is unchanged", async () => {
            const up = await first.up();
            expect(up.summary.result).to.equal("succeeded");
            const owned = await docs.mustView(target);
            expect(docs.owner(owned)).to.equal(`${project}/test-first`);

            let failure: unknown;
            try {
                await second.up();
            } catch (err) {
                failure = err;
            }
            expect(failure, "the second stack's up succeeded").to.be.instanceOf(Error);
            const message = String(failure);
            expect(message).to.include(`is managed by "${project}/test-first"`);
            expect(message).to.include(ownerTagKey);
            expect(message).to.include("takeOver: true");

            const after = await docs.mustView(target);
            expect(after.raw).to.equal(owned.raw);
            expect(after.versions).to.deep.equal(owned.versions);
            expect(after.defaultVersion).to.equal(owned.defaultVersion);
            expect(docs.owner(after)).to.equal(`${project}/test-first`);
            // The failed create left nothing in the second stack's state.
            expect(documentStates(await second.exportStack()).size).to.equal(0);
        });

        it("with takeOver: true the second stack succeeds and owns it; the first stack's destroy then leaves it alone", async () => {
            await second.setConfig("sessionManager:takeOver", { value: "true" });
            const up = await second.up();
            expect(up.summary.result).to.equal("succeeded");
            const taken = await docs.mustView(target);
            expect(taken.content).to.deep.equal(desiredFor(settingsOf(oneAccount(["us-east-1"], { "sessionManager:idleSessionTimeout": 30 })), target));
            expect(taken.defaultVersion).to.equal(taken.latestVersion);
            expect(docs.owner(taken)).to.equal(`${project}/test-second`);

            const destroy = await first.destroy();
            expect(destroy.summary.result).to.equal("succeeded");
            // It says so, as a warning, rather than silently doing nothing.
            expect(destroy.stdout).to.match(
                /warning: SSM document \S+ released: left to its owner "session-manager-preferences\/test-second" \(taken over, so not restored here/,
            );
            const after = await docs.mustView(target);
            expect(after.raw).to.equal(taken.raw);
            expect(after.defaultVersion).to.equal(taken.defaultVersion);
            expect(docs.owner(after)).to.equal(`${project}/test-second`);
        });

        it("the second stack inherited the console-made original from the first, and its destroy gives that back exactly", async () => {
            const destroy = await second.destroy();
            expect(destroy.summary.result).to.equal("succeeded");
            const after = await docs.mustView(target);
            expect(after.raw).to.equal(consoleDocument(target));
            expect(after.defaultVersion).to.equal("1");
            expect(after.tags).to.deep.equal({});
        });
    });
});
