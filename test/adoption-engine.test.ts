// Every failure point between two SSM calls, through the real engine: one stack over many
// Regions, and a proxy in front of moto that denies, in each Region, a different call of the
// operation under test (the 1st in one Region, the 2nd in the next, ...), so one `pulumi up`
// or `pulumi destroy` fails at every point at once. Then the user's next step (run it
// again), and a final `destroy`: every original must be back byte for byte. The calls counted
// are the write role's: the reads through the read-only role (the look before adoption, the
// refresh) write nothing, and their failures only fail the run.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Stack } from "@pulumi/pulumi/automation";
import { createLocalStack, engineEnv, pulumiBin, removeLocalStack } from "../devtools/engine";
import { asStackConfig, consoleDocument, desiredFor, DocumentInspector, settingsOf, stackFileConfig, TargetKey } from "../devtools/documents";
import { FaultProxy, startFaultProxy } from "./support/faultProxy";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";

const account = "111111111111";
/** Enough Regions for a reference target plus up to 8 failure points per original format. */
const regions = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
]; // prettier-ignore
const maxCalls = 8;
const formats = ["JSON", "YAML"] as const;
type Format = (typeof formats)[number];

/** A console-made original in `format`, laid out its own way, so only an exact copy compares equal. */
function original(target: TargetKey, format: Format): string {
    if (format === "JSON") return consoleDocument(target);
    const [, region] = target.split("/");
    return `# Saved by hand in ${region}\nschemaVersion: '1.0'\ndescription: Legacy preferences\nsessionType: Standard_Stream\ninputs:\n  s3BucketName: ''\n  idleSessionTimeout: '10'\n  runAsEnabled: false\n`;
}

interface Plan {
    /** Region -> which of its SSM calls to deny (1-based); absent: none. */
    failAt: Map<string, number>;
    /** Region -> the SSM calls seen, in order. */
    seen: Map<string, string[]>;
}

describe("the original survives a failure at every SSM call, through the real engine (fault proxy, moto)", function () {
    this.timeout(10 * 60_000);
    const reference = regions[0];
    /** Region -> [format, failing call]; the reference Region fails nowhere and measures the call count. */
    const assignment = new Map<string, { format: Format; failAt?: number }>([[reference, { format: "JSON" }]]);
    formats.forEach((format, f) => {
        for (let k = 1; k <= maxCalls; k++) assignment.set(regions[1 + f * maxCalls + k - 1], { format, failAt: k });
    });
    const targets = [...assignment.keys()].map((region) => `${account}/${region}`);
    const config = {
        ...stackFileConfig("Pulumi.local.yaml"),
        "sessionManager:targets": [
            { accountId: account, regions: [...assignment.keys()], roleName: "SessionManagerAdmin", readOnlyRoleName: "SessionManagerReader" },
        ],
    };
    const settings = settingsOf(config);
    const plan: Plan = { failAt: new Map(), seen: new Map() };
    let moto: Moto;
    let proxy: FaultProxy;
    let tmp: string;
    let docs: DocumentInspector;
    let stack: Stack;

    before(async function () {
        this.timeout(60 * 60_000);
        await pulumiBin();
        moto = await startMoto();
        proxy = await startFaultProxy({
            target: moto.endpoint,
            faultable: (target) => target.startsWith("AmazonSSM."),
            script: ({ target, region, role }) => {
                if (role?.endsWith(":role/SessionManagerReader")) return "forward";
                const seen = plan.seen.get(region) ?? [];
                seen.push(target.replace("AmazonSSM.", ""));
                plan.seen.set(region, seen);
                return seen.length === plan.failAt.get(region) ? "deny" : "forward";
            },
        });
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-adoption-engine-"));
        const workDir = projectCopy(path.join(tmp, "project"), []);
        const backendDir = path.join(tmp, "backend");
        // The engine and the provider talk to the proxy; the test reads moto directly.
        const env = { ...(await engineEnv(moto, backendDir)), AWS_ENDPOINT_URL: proxy.endpoint };
        docs = new DocumentInspector(moto.endpoint);
        stack = await createLocalStack({ stackName: "test-adoption-faults", workDir, backendDir, env, config: asStackConfig(config) });
    });

    after(async function () {
        this.timeout(120_000);
        if (stack) await removeLocalStack(stack).catch(() => undefined);
        docs?.close();
        await proxy?.close();
        await moto?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    async function seedOriginals(): Promise<void> {
        await moto.reset();
        docs.close();
        for (const target of targets) {
            const region = target.split("/")[1];
            const { format } = assignment.get(region)!;
            await docs.seed(target, original(target, format), format);
        }
    }

    /** Arms the proxy: in each Region its assigned call fails; counts start afresh. */
    function arm(): void {
        plan.seen.clear();
        plan.failAt = new Map([...assignment].filter(([, a]) => a.failAt !== undefined).map(([region, a]) => [region, a.failAt!]));
    }

    function disarm(): void {
        plan.failAt = new Map();
    }

    /**
     * Runs `operation` with the proxy armed (with continueOnError, so a failure in one Region
     * does not keep the engine from reaching the others); returns the calls the reference
     * Region made: the whole operation for one target.
     */
    async function failEverywhere(operation: () => Promise<unknown>): Promise<string[]> {
        arm();
        let failure: unknown;
        try {
            await operation();
        } catch (err) {
            failure = err;
        } finally {
            disarm();
        }
        const calls = plan.seen.get(reference) ?? [];
        expect(calls.length, "SSM calls of one target").to.be.within(1, maxCalls);
        expect(failure, "the operation should have failed where calls were denied").to.be.instanceOf(Error);
        // Every Region whose assigned call exists was stopped at exactly that call.
        for (const [region, { failAt }] of assignment) {
            if (failAt === undefined || failAt > calls.length) continue;
            expect(plan.seen.get(region)?.slice(0, failAt), region).to.deep.equal(calls.slice(0, failAt));
            expect(proxy.stats().byTarget[`AmazonSSM.${calls[failAt - 1]}`]?.denied, calls[failAt - 1]).to.be.greaterThan(0);
        }
        return calls;
    }

    async function expectOriginalsBack(what: string): Promise<void> {
        for (const target of targets) {
            const region = target.split("/")[1];
            const { format, failAt } = assignment.get(region)!;
            const view = await docs.mustView(target);
            const context = `${what}: ${target}, ${format} original, call ${failAt ?? "none"} failed`;
            expect(view.raw, context).to.equal(original(target, format));
            expect(view.format, context).to.equal(format);
            expect(view.tags, context).to.deep.equal({});
        }
    }

    it("create: whichever call of the first `up` fails, running `up` again converges and `destroy` restores every original", async () => {
        await seedOriginals();
        const calls = await failEverywhere(() => stack.up({ continueOnError: true }));
        expect(calls).to.include.members(["AddTagsToResource", "UpdateDocument", "UpdateDocumentDefaultVersion"]);

        const rerun = await stack.up();
        expect(rerun.summary.result).to.equal("succeeded");
        for (const target of targets) expect((await docs.mustView(target)).content, target).to.deep.equal(desiredFor(settings, target));

        const destroy = await stack.destroy();
        expect(destroy.summary.result).to.equal("succeeded");
        await expectOriginalsBack("after create faults");
    });

    it("update: whichever call of a changing `up` fails, running `up` again converges and `destroy` restores every original", async () => {
        await seedOriginals();
        expect((await stack.up()).summary.result).to.equal("succeeded");
        await stack.setConfig("sessionManager:idleSessionTimeout", { value: "25" });
        try {
            const calls = await failEverywhere(() => stack.up({ continueOnError: true }));
            expect(calls).to.include.members(["UpdateDocument", "UpdateDocumentDefaultVersion"]);

            const rerun = await stack.up();
            expect(rerun.summary.result).to.equal("succeeded");
            const changed = settingsOf({ ...config, "sessionManager:idleSessionTimeout": 25 });
            for (const target of targets) expect((await docs.mustView(target)).content, target).to.deep.equal(desiredFor(changed, target));
        } finally {
            await stack.setConfig("sessionManager:idleSessionTimeout", { value: String(settings.idleSessionTimeout) });
        }
        expect((await stack.destroy()).summary.result).to.equal("succeeded");
        await expectOriginalsBack("after update faults");
    });

    it("delete: whichever call of `destroy` fails, running `destroy` again restores every original", async () => {
        await seedOriginals();
        expect((await stack.up()).summary.result).to.equal("succeeded");
        const calls = await failEverywhere(() => stack.destroy({ continueOnError: true }));
        expect(calls).to.include.members(["UpdateDocumentDefaultVersion", "RemoveTagsFromResource"]);

        const rerun = await stack.destroy();
        expect(rerun.summary.result).to.equal("succeeded");
        await expectOriginalsBack("after delete faults");
    });
});
