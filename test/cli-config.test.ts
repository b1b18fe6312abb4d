// Bad configuration through the real CLI: `pulumi preview` on the local stack (in a project copy)
// must exit non-zero with a message naming the key at fault, and must not touch any document.
// One invalid case per validation rule of the configuration (test/config.test.ts has the full
// catalogue against the parser alone); each runs alone against an otherwise valid stack.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Stack } from "@pulumi/pulumi/automation";
import { createLocalStack, engineEnv, pulumiBin, removeLocalStack, toConfigMap } from "../devtools/engine";
import { consoleDocument, DocumentInspector, DocumentView, settingsOf, stackFileConfig, TargetKey, targetKeys } from "../devtools/documents";
import { Moto, startMoto } from "../devtools/moto";
import { projectCopy } from "../devtools/project";

interface Rule {
    /** The key the message must name, as `sessionManager:<key>`. */
    key: string;
    /** A fragment of what the message's line for that key says is allowed. */
    says: string;
}

interface BadCase {
    /** What is wrong, for the test title. */
    title: string;
    /** Keys (without the namespace) set to these values; other keys keep Pulumi.local.yaml's. */
    set?: Record<string, string | number | boolean | readonly unknown[]>;
    /** Keys (without the namespace) removed from the stack. */
    remove?: string[];
    /** Every rule broken, each of which the one message must report. */
    rules: Rule[];
}

const role = "SessionManagerAdmin";

// A failing preview costs about 30 s here (a successful one about 7), so the cases are grouped:
// the parser reports every key that is wrong on its own in one message, and the rules that
// relate two keys in one message once every key is valid alone. Each rule of the configuration
// catalogue is broken once; test/config.test.ts checks each one alone against the parser.
const cases: BadCase[] = [
    {
        title: "every rule a single key breaks (range, integer, names, ARN, retention, enumerations, unknown key, account ID)",
        set: {
            idleSessionTimeout: 61,
            maxSessionDuration: "90.5",
            runAsDefaultUser: "Admin",
            s3BucketName: "Session_Logs",
            cwLogGroupName: "session logs",
            logRetentionInDays: 31,
            sessionDataKeyArn: "arn:aws:kms:us-east-1:999999999999:alias/session-manager/data",
            idleSessionTimout: 20,
            onDelete: "delete",
            deployment: "stacksets",
            targets: [{ accountId: "11111111111", regions: ["us-east-1"], roleName: role }],
        },
        rules: [
            { key: "idleSessionTimeout", says: "a whole number from 1 to 60" },
            { key: "maxSessionDuration", says: "a whole number from 1 to 1440" },
            { key: "runAsDefaultUser", says: "a Linux user name" },
            { key: "s3BucketName", says: "an S3 bucket name" },
            { key: "cwLogGroupName", says: "a CloudWatch Logs group name" },
            { key: "logRetentionInDays", says: "retention periods CloudWatch Logs accepts" },
            { key: "sessionDataKeyArn", says: "a KMS key ARN" },
            { key: "idleSessionTimout", says: "did you mean sessionManager:idleSessionTimeout?" },
            { key: "onDelete", says: "one of restore, reset, retain" },
            { key: "deployment", says: "one of direct, stackset" },
            { key: "targets[0].accountId", says: "a 12-digit AWS account ID" },
        ],
    },
    {
        title: "the rules between keys: Run As on without a user, S3 logging on without a bucket, a shell profile over the size limit",
        set: { s3Logging: true, linuxShellProfile: "x".repeat(66_000) },
        remove: ["runAsDefaultUser"],
        rules: [
            { key: "runAsDefaultUser", says: "required when runAsEnabled is true" },
            { key: "s3BucketName", says: "required when s3Logging is true" },
            { key: "linuxShellProfile", says: "limited to 65536 bytes" },
        ],
    },
    {
        title: "a malformed Region",
        set: { targets: [{ accountId: "111111111111", regions: ["us-east-1", "eu-west"], roleName: role }] },
        rules: [{ key: "targets[0].regions[1]", says: "an AWS Region name" }],
    },
    {
        title: "the same account and Region twice",
        set: {
            targets: [
                { accountId: "111111111111", regions: ["us-east-1", "eu-west-1"], roleName: role },
                { accountId: "111111111111", regions: ["eu-west-1"], roleName: "Other" },
            ],
        },
        rules: [{ key: "targets[1]", says: "account 111111111111 Region eu-west-1 is already a target in targets[0]" }],
    },
];

/** The exit code in a CommandError's message ("code: 255 ..."), or undefined when it has none. */
function exitCodeOf(err: unknown): number | undefined {
    const match = /code: (-?\d+)/.exec(String(err));
    return match ? Number(match[1]) : undefined;
}

describe("bad configuration through the real CLI: preview fails naming the key, nothing changes", function () {
    this.timeout(3 * 60_000);
    let moto: Moto;
    let tmp: string;
    let stackFile: string;
    /** Pulumi.local.yaml as the stack holds it when valid (with the salt the CLI wrote). */
    let validStackFile: string;
    let stack: Stack;
    let docs: DocumentInspector;
    const targets = targetKeys(settingsOf(stackFileConfig("Pulumi.local.yaml")));
    const seeded = new Map<TargetKey, DocumentView>();

    async function expectUnchanged(): Promise<void> {
        for (const [target, was] of seeded) {
            const now = await docs.mustView(target);
            expect(now.raw, target).to.equal(was.raw);
            expect(now.versions, target).to.deep.equal(was.versions);
            expect(now.defaultVersion, target).to.equal(was.defaultVersion);
            expect(now.tags, target).to.deep.equal(was.tags);
        }
    }

    before(async function () {
        // The first run on a machine may build the CLI from Go modules (minutes; progress on stderr).
        this.timeout(60 * 60_000);
        await pulumiBin();
        moto = await startMoto();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-cli-config-"));
        const workDir = projectCopy(path.join(tmp, "project"), ["Pulumi.local.yaml"]);
        stackFile = path.join(workDir, "Pulumi.local.yaml");
        const backendDir = path.join(tmp, "backend");
        docs = new DocumentInspector(moto.endpoint);
        for (const target of targets) {
            await docs.seed(target, consoleDocument(target));
            seeded.set(target, await docs.mustView(target));
        }
        stack = await createLocalStack({ stackName: "local", workDir, backendDir, env: await engineEnv(moto, backendDir) });
    });

    after(async function () {
        this.timeout(60_000);
        if (stack) await removeLocalStack(stack).catch(() => undefined);
        docs?.close();
        await moto?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    afterEach(() => {
        // Back to the valid configuration for the next case: the file is the stack's config.
        if (validStackFile !== undefined) fs.writeFileSync(stackFile, validStackFile);
    });

    /** The error of a preview that must fail. */
    async function previewFailure(): Promise<Error> {
        const failure = await stack.preview().then(
            () => undefined,
            (err: unknown) => err,
        );
        expect(failure, "preview succeeded").to.be.instanceOf(Error);
        return failure as Error;
    }

    it("the local stack as shipped previews cleanly: a document for each of the 4 targets", async () => {
        const preview = await stack.preview();
        expect(preview.changeSummary).to.deep.equal({ create: 1 + 2 * targets.length });
        validStackFile = fs.readFileSync(stackFile, "utf8");
        await expectUnchanged();
    });

    it("fails a preview whose credentials act in another account than a target's, naming the account: up would fail there", async () => {
        if (validStackFile === undefined) throw new Error("the valid stack did not preview");
        // No role: the ambient credentials, moto's default account, are not 111111111111's.
        await stack.setAllConfig(toConfigMap({ targets: [{ accountId: "111111111111", regions: ["us-east-1"] }] }));
        const message = String(await previewFailure());
        expect(message).to.include("cannot act in every target account");
        expect(message).to.match(/account 111111111111: the credentials this runs with act in account \d{12} .*not 111111111111/);
        await expectUnchanged();
    });

    for (const c of cases) {
        it(`rejects ${c.title}`, async () => {
            if (validStackFile === undefined) throw new Error("the valid stack did not preview");
            if (c.set) await stack.setAllConfig(toConfigMap(c.set));
            if (c.remove) await stack.removeAllConfig(c.remove.map((k) => `sessionManager:${k}`));

            const failure = await previewFailure();
            const message = String(failure);
            const code = exitCodeOf(failure);
            expect(code, message.slice(0, 400)).to.be.a("number");
            expect(code, message.slice(0, 400)).to.not.equal(0);
            expect(message).to.include("invalid sessionManager configuration");
            const lines = message.split("\n");
            for (const rule of c.rules) {
                // The message's own line for the key, e.g. "  - sessionManager:onDelete: \"delete\" is not valid: one of ...".
                const line = lines.find((l) => l.includes(`- sessionManager:${rule.key}: `) && l.includes(rule.says));
                expect(line, `no line names sessionManager:${rule.key} with "${rule.says}"`).to.be.a("string");
            }
            // Nothing but the configuration is reported: no stack trace buries the keys.
            expect(message).to.not.match(/^\s+at .*index\.ts/m);
            await expectUnchanged();
        });
    }
});
