// An upgrade, as a team that installed the package would make it: a stack created with an
// earlier release (the package packed from a fixed earlier commit of this repository, installed
// in a scratch project, running that commit's example program) is refreshed, updated and
// destroyed after installing this release, through the real engine against moto. Its document
// moves to the resource type of its own without being replaced, the state then names the
// package's stable entry point instead of its files, and destroy gives the console-made
// original back exactly.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Stack } from "@pulumi/pulumi/automation";
import { genericDynamicResourceType, sessionDocumentType } from "../core/names";
import { createLocalStack, engineEnv, pulumiBin, removeLocalStack, repoRoot } from "../devtools/engine";
import { projectCopy } from "../devtools/project";
import { consoleDocument, desiredFor, DocumentInspector, settingsOf } from "../devtools/documents";
import { Moto, startMoto } from "../devtools/moto";
import { checkout, ok, pack, run } from "./support/npm";

/** The last release before the package had a stable entry point and the document a type of its own. */
const earlierRelease = "9c203c5";
const packageName = "session-manager-preferences";

describe(`an upgrade from the release at ${earlierRelease}: refresh, update and destroy keep the original`, function () {
    this.timeout(8 * 60_000);
    const target = "111111111111/us-east-1";
    const config = {
        "aws:region": "us-east-1",
        "sessionManager:targets": [{ accountId: "111111111111", regions: ["us-east-1"], roleName: "SessionManagerAdmin" }],
        "sessionManager:sessionDataEncryption": false,
        "sessionManager:createCWLogGroup": false,
        "sessionManager:instancePolicy": false,
        "sessionManager:idleSessionTimeout": 15,
    };
    let tmp: string;
    let project: string;
    let newTarball: string;
    let moto: Moto;
    let docs: DocumentInspector;
    let stack: Stack;
    let seeded: string;

    /** The document's resource in the stack's state. */
    async function documentResource(): Promise<{ type: string; urn: string; inputs: { __provider: string } }> {
        const deployment = await stack.exportStack();
        const found = (deployment.deployment.resources as { type: string; urn: string; inputs: { __provider: string } }[]).filter(
            (r) => r.type === sessionDocumentType || r.type === genericDynamicResourceType,
        );
        expect(found, "one document in the state").to.have.length(1);
        return found[0];
    }

    before(async function () {
        this.timeout(60 * 60_000);
        await pulumiBin();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-upgrade-"));
        const earlier = path.join(tmp, "earlier");
        checkout(repoRoot, earlierRelease, earlier);
        const old = await pack(earlier, tmp);
        newTarball = (await pack(repoRoot, path.join(tmp, "new"))).tarball;

        // The earlier release's example program, depending on the earlier release's tarball.
        project = path.join(tmp, "project");
        fs.cpSync(path.join(earlier, "examples", "program"), project, { recursive: true });
        const manifest = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")) as { dependencies: Record<string, string> };
        manifest.dependencies[packageName] = `file:${old.tarball}`;
        fs.writeFileSync(path.join(project, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
        ok(
            await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: project, timeoutMs: 5 * 60_000 }),
            "npm install",
        );

        moto = await startMoto();
        docs = new DocumentInspector(moto.endpoint);
        seeded = await docs.seed(target, consoleDocument(target));
        const backendDir = path.join(tmp, "backend");
        stack = await createLocalStack({ stackName: "test-upgrade", workDir: project, backendDir, env: await engineEnv(moto, backendDir), config });
        // What a team has before the upgrade: the earlier release's stack, which adopted the document.
        const up = await stack.up();
        expect(up.summary.result).to.equal("succeeded");
        expect((await documentResource()).type).to.equal(genericDynamicResourceType);
        expect((await docs.mustView(target)).content).to.deep.equal(desiredFor(settingsOf(config), target));
    });

    after(async function () {
        this.timeout(2 * 60_000);
        if (stack) await removeLocalStack(stack).catch(() => undefined);
        docs?.close();
        await moto?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("installs this release and its example program over the earlier ones", async () => {
        ok(
            await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", newTarball], {
                cwd: project,
                timeoutMs: 5 * 60_000,
            }),
            "npm install",
        );
        fs.copyFileSync(path.join(repoRoot, "examples", "program", "index.ts"), path.join(project, "index.ts"));
        const installed = JSON.parse(fs.readFileSync(path.join(project, "node_modules", packageName, "package.json"), "utf8")) as {
            exports: Record<string, unknown>;
        };
        expect(installed.exports).to.have.property("./provider");
    });

    it("refresh reads the document through the provider the earlier release recorded, with this release's modules", async () => {
        const refresh = await stack.refresh();
        expect(refresh.summary.result).to.equal("succeeded");
        expect(
            Object.keys(refresh.summary.resourceChanges ?? {}).filter((op) => op !== "same"),
            "nothing drifted",
        ).to.deep.equal([]);
    });

    it("up moves the document to its own type without replacing it, and the state then names the stable entry point", async () => {
        const before = await documentResource();
        const up = await stack.up();
        expect(up.summary.result).to.equal("succeeded");
        const ops = up.summary.resourceChanges ?? {};
        expect(ops, JSON.stringify(ops)).to.not.have.any.keys("create", "delete", "replace", "create-replacement", "delete-replaced");
        const after = await documentResource();
        expect(after.type).to.equal(sessionDocumentType);
        expect(after.inputs.__provider).to.include(`${packageName}/provider`);
        expect(after.inputs.__provider).to.not.include(`${packageName}/lib/`);
        expect(before.inputs.__provider, "the earlier release's provider named files").to.include(`${packageName}/lib/`);
        // Nothing was written to the document: it already held the wanted content.
        const view = await docs.mustView(target);
        expect(view.versions).to.deep.equal(["1", "2"]);
    });

    it("destroy, with this release, gives the console-made original back exactly", async () => {
        const destroy = await stack.destroy();
        expect(destroy.summary.result).to.equal("succeeded");
        const view = await docs.mustView(target);
        expect(view.raw).to.equal(seeded);
        expect(view.tags).to.deep.equal({});
    });
});

/** The release before the document's provider went into the state as a few lines naming the package's entry point. */
const earlierCheckout = "f005691";

describe(`an upgrade of a checkout from the release at ${earlierCheckout}: refresh, update and destroy keep the original`, function () {
    this.timeout(8 * 60_000);
    const target = "222222222222/eu-west-1";
    const config = {
        "aws:region": "eu-west-1",
        "sessionManager:targets": [{ accountId: "222222222222", regions: ["eu-west-1"], roleName: "SessionManagerAdmin" }],
        "sessionManager:sessionDataEncryption": false,
        "sessionManager:createCWLogGroup": false,
        "sessionManager:instancePolicy": false,
        "sessionManager:idleSessionTimeout": 25,
    };
    let tmp: string;
    let moto: Moto;
    let docs: DocumentInspector;
    let earlierStack: Stack;
    let stack: Stack;
    let seeded: string;

    async function providerText(s: Stack): Promise<string> {
        const deployment = await s.exportStack();
        const [doc] = (deployment.deployment.resources as { type: string; inputs: { __provider: string } }[]).filter((r) => r.type === sessionDocumentType);
        return doc.inputs.__provider;
    }

    before(async function () {
        this.timeout(20 * 60_000);
        await pulumiBin();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-upgrade-checkout-"));
        // The earlier release's repository, run as a checkout is: `pulumi up` in it, its own program.
        const earlier = path.join(tmp, "earlier");
        checkout(repoRoot, earlierCheckout, earlier);
        moto = await startMoto();
        docs = new DocumentInspector(moto.endpoint);
        seeded = await docs.seed(target, consoleDocument(target));
        const backendDir = path.join(tmp, "backend");
        const env = await engineEnv(moto, backendDir);
        earlierStack = await createLocalStack({ stackName: "test-upgrade-checkout", workDir: earlier, backendDir, env, config });
        const up = await earlierStack.up();
        expect(up.summary.result).to.equal("succeeded");
        expect((await docs.mustView(target)).content).to.deep.equal(desiredFor(settingsOf(config), target));
        // This release's checkout: the same stack, now run from a copy of this repository.
        fs.copyFileSync(
            path.join(earlier, "Pulumi.test-upgrade-checkout.yaml"),
            path.join(projectCopy(path.join(tmp, "current")), "Pulumi.test-upgrade-checkout.yaml"),
        );
        stack = await createLocalStack({ stackName: "test-upgrade-checkout", workDir: path.join(tmp, "current"), backendDir, env });
    });

    after(async function () {
        this.timeout(2 * 60_000);
        if (stack) await removeLocalStack(stack).catch(() => undefined);
        docs?.close();
        await moto?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("the earlier checkout recorded its whole provider in the state", async () => {
        expect((await providerText(stack)).length, "a self-contained bundle").to.be.greaterThan(20_000);
    });

    it("refresh with this checkout finds nothing changed", async () => {
        const refresh = await stack.refresh();
        expect(refresh.summary.result).to.equal("succeeded");
        expect(Object.keys(refresh.summary.resourceChanges ?? {}).filter((op) => op !== "same")).to.deep.equal([]);
    });

    it("up replaces nothing, writes no document version, and leaves a few lines naming the entry point in the state", async () => {
        const up = await stack.up();
        expect(up.summary.result).to.equal("succeeded");
        const ops = up.summary.resourceChanges ?? {};
        expect(ops, JSON.stringify(ops)).to.not.have.any.keys("create", "delete", "replace", "create-replacement", "delete-replaced");
        const text = await providerText(stack);
        expect(text.length).to.be.lessThan(1_000);
        expect(text).to.include(`${packageName}/provider`);
        expect((await docs.mustView(target)).versions).to.deep.equal(["1", "2"]);
    });

    it("a settings change updates the document, and destroy gives the console-made original back exactly", async () => {
        await stack.setConfig("sessionManager:idleSessionTimeout", { value: "35" });
        const up = await stack.up();
        expect(up.summary.result).to.equal("succeeded");
        expect((await docs.mustView(target)).content).to.deep.equal(desiredFor(settingsOf({ ...config, "sessionManager:idleSessionTimeout": 35 }), target));
        const destroy = await stack.destroy();
        expect(destroy.summary.result).to.equal("succeeded");
        const view = await docs.mustView(target);
        expect(view.raw).to.equal(seeded);
        expect(view.tags).to.deep.equal({});
    });
});
