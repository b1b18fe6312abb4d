// Faults through the real engine: a proxy in front of moto throttles a quarter of the SSM
// requests and drops a tenth of the connections, and `up` on the local stack still converges,
// with nothing lost on the way back (`destroy` restores the console-made documents exactly).
// Then the state a crash leaves between UpdateDocument and the default-version promotion is
// finished by the next `up` without another version.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Stack } from "@pulumi/pulumi/automation";
import { serializeContent } from "../providers/documentOperations";
import { createLocalStack, engineEnv, pulumiBin, removeLocalStack } from "../devtools/engine";
import { consoleDocument, desiredFor, DocumentInspector, DocumentView, settingsOf, stackFileConfig, TargetKey, targetKeys } from "../devtools/documents";
import { FaultProxy, FaultStats, startFaultProxy } from "./support/faultProxy";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";

const rates = { throttleRate: 0.25, dropRate: 0.1 };

/** Throttled plus dropped SSM requests: the faults the provider had to ride out. */
function ssmFaults(stats: FaultStats): { throttled: number; dropped: number; received: number } {
    const sum = { throttled: 0, dropped: 0, received: 0 };
    for (const [target, counts] of Object.entries(stats.byTarget)) {
        if (!target.startsWith("AmazonSSM.")) continue;
        sum.throttled += counts.throttled;
        sum.dropped += counts.dropped;
        sum.received += counts.received;
    }
    return sum;
}

describe("faults: throttling and dropped connections in front of moto, and a crash before promotion", function () {
    this.timeout(6 * 60_000);
    const localConfig = stackFileConfig("Pulumi.local.yaml");
    const settings = settingsOf(localConfig);
    const targets = targetKeys(settings);
    const seeded = new Map<TargetKey, string>();
    let moto: Moto;
    let proxy: FaultProxy;
    let tmp: string;
    let stack: Stack;
    let docs: DocumentInspector;

    before(async function () {
        // The first run on a machine may build the CLI from Go modules (minutes; progress on stderr).
        this.timeout(60 * 60_000);
        await pulumiBin();
        moto = await startMoto();
        // The provider's clients make up to 6 attempts per call, so a call faulted on every one
        // fails by design; at most 3 faults per call keeps every run within what retries absorb,
        // whatever order the engine's concurrent checks send their requests in.
        proxy = await startFaultProxy({ target: moto.endpoint, seed: 20251128, maxFaultsPerCall: 3, ...rates });
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-faults-"));
        const workDir = projectCopy(path.join(tmp, "project"), ["Pulumi.local.yaml"]);
        const backendDir = path.join(tmp, "backend");
        // The engine and the provider talk to the proxy; the test reads moto directly, unfaulted.
        const env = { ...(await engineEnv(moto, backendDir)), AWS_ENDPOINT_URL: proxy.endpoint };
        docs = new DocumentInspector(moto.endpoint);
        for (const target of targets) seeded.set(target, await docs.seed(target, consoleDocument(target)));
        stack = await createLocalStack({ stackName: "local", workDir, backendDir, env });
    });

    after(async function () {
        this.timeout(60_000);
        if (stack) await removeLocalStack(stack).catch(() => undefined);
        docs?.close();
        await proxy?.close();
        await moto?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("up converges on every target while SSM requests are throttled and connections dropped", async () => {
        proxy.resetStats();
        const up = await stack.up({ parallel: 1 });
        expect(up.summary.result).to.equal("succeeded");
        expect(up.summary.resourceChanges).to.deep.equal({ create: 1 + 2 * targets.length });

        const faults = ssmFaults(proxy.stats());
        expect(faults.throttled, JSON.stringify(proxy.stats().byTarget)).to.be.greaterThan(0);
        expect(faults.dropped, JSON.stringify(proxy.stats().byTarget)).to.be.greaterThan(0);
        // Writes were among the faulted requests, so retried writes are part of what converged.
        const writes = ["UpdateDocument", "UpdateDocumentDefaultVersion", "AddTagsToResource", "CreateDocument"].map(
            (op) => proxy.stats().byTarget[`AmazonSSM.${op}`],
        );
        expect(writes.reduce((n, c) => n + (c ? c.throttled + c.dropped : 0), 0)).to.be.greaterThan(0);
        // Every request was answered one way or another; none failed upstream.
        expect(proxy.stats().total.failed).to.equal(0);

        const outputs = up.outputs.targets.value as Record<string, { documentVersion: string }>;
        for (const target of targets) {
            const view = await docs.mustView(target);
            expect(view.content, target).to.deep.equal(desiredFor(settings, target));
            // Retried writes made no extra version: the console's version 1 and the stack's version 2.
            expect(view.versions, target).to.deep.equal(["1", "2"]);
            expect(view.defaultVersion, target).to.equal("2");
            expect(outputs[target].documentVersion, target).to.equal("2");
        }
    });

    it("a crash between UpdateDocument and the promotion is finished by the next up, with no further version", async () => {
        // The repair itself is what is under test here, so nothing else is faulted.
        proxy.setRates({ throttleRate: 0, dropRate: 0 });
        const changed = settingsOf({ ...localConfig, "sessionManager:idleSessionTimeout": 10 });
        const before = new Map<TargetKey, DocumentView>();
        for (const target of targets) {
            // Exactly what the provider's UpdateDocument would have written, left unpromoted: the
            // state a crash right after that call leaves. The stack's state still says version 2.
            const written = await docs.editOutOfBand(target, serializeContent(desiredFor(changed, target)), false);
            expect(written, target).to.equal("3");
            const view = await docs.mustView(target);
            expect(view.defaultVersion, target).to.equal("2");
            before.set(target, view);
        }
        await stack.setConfig("sessionManager:idleSessionTimeout", { value: "10" });

        proxy.resetStats();
        const up = await stack.up({ parallel: 1 });
        expect(up.summary.result).to.equal("succeeded");
        expect(up.summary.resourceChanges).to.deep.equal({ same: 1 + targets.length, update: targets.length });
        const outputs = up.outputs.targets.value as Record<string, { documentVersion: string }>;
        for (const target of targets) {
            const view = await docs.mustView(target);
            expect(view.content, target).to.deep.equal(desiredFor(changed, target));
            expect(view.defaultVersion, target).to.equal("3");
            expect(view.versions, target).to.deep.equal((before.get(target) as DocumentView).versions);
            expect(view.latestVersion, target).to.equal("3");
            expect(outputs[target].documentVersion, target).to.equal("3");
        }
        // The path taken: one write per target, refused by SSM as a duplicate of version 3 (no
        // version was added), then one promotion of the version that holds the content.
        const calls = proxy.stats().byTarget;
        expect(calls["AmazonSSM.UpdateDocument"]?.received, JSON.stringify(calls)).to.equal(targets.length);
        expect(calls["AmazonSSM.UpdateDocumentDefaultVersion"]?.received, JSON.stringify(calls)).to.equal(targets.length);
        expect(calls["AmazonSSM.CreateDocument"], JSON.stringify(calls)).to.equal(undefined);
    });

    it("destroy under the same faults loses nothing: each console-made document comes back exactly", async () => {
        proxy.setRates(rates);
        proxy.resetStats();
        const destroy = await stack.destroy({ parallel: 1 });
        expect(destroy.summary.result).to.equal("succeeded");
        expect(destroy.summary.resourceChanges).to.deep.equal({ delete: 1 + 2 * targets.length });
        const faults = ssmFaults(proxy.stats());
        expect(faults.throttled + faults.dropped, JSON.stringify(proxy.stats().byTarget)).to.be.greaterThan(0);
        for (const target of targets) {
            const view = await docs.mustView(target);
            expect(view.raw, target).to.equal(seeded.get(target));
            expect(view.format, target).to.equal("JSON");
            expect(view.defaultVersion, target).to.equal("1");
        }
    });
});
