// `npm run org -- audit`: every target's live document against the config, overrides applied,
// read-only and without Pulumi. Against moto (Organizations, STS, SSM) through the counting
// proxy, which also denies one role and makes one account's Region unreachable.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { createOrganization } from "./support/organization";
import { runOrg } from "./support/org";
import { AddTagsToResourceCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { auditOrganizationsActions, auditStartingActions, auditTargetActions } from "../core/accessPolicies";
import { desiredDocument } from "../core/document";
import { sessionDataKeyParameterName } from "../core/names";
import { defaultPreferences, Preferences } from "../core/settings";
import { AuditFinding, auditTargets, ownerMatches, ownerPatterns } from "../orchestrator/audit";
import { parseCli, UsageError } from "../orchestrator/cli";
import { parseOrgConfig } from "../orchestrator/orgConfig";
import { forgetCheckedSessions } from "../providers/sessionDocumentProvider";
import { AwsProxy, isWrite, startAwsProxy } from "../devtools/awsProxy";
import { startFaultProxy } from "./support/faultProxy";
import { DocumentInspector } from "../devtools/documents";
import { repoRoot } from "../devtools/engine";
import { Moto, motoEnv, startMoto } from "../devtools/moto";

interface JsonTarget {
    target: string;
    status: string;
    overrides: Record<string, string>;
    owner?: string;
    fields?: { field: string; wanted: unknown; found: unknown }[];
    reason?: string;
}

interface JsonAudit {
    command: string;
    exitCode: number;
    counts: Record<string, number>;
    problem?: { kind: string; summary: string; details: string[] };
    targets: JsonTarget[];
}

const project = "session-manager-preferences";
/** The document-only preferences every config here has: no key, an existing log group. */
const base: Preferences = { ...defaultPreferences, sessionDataEncryption: false, createCWLogGroup: false, instancePolicy: false };

function content(accountId: string, region: string, prefs: Partial<Preferences> = {}): string {
    return JSON.stringify(desiredDocument({ ...base, ...prefs }, { accountId, region, kmsKeyId: "" }), null, 2);
}

describe("audit: every target's live document against the config (moto, read-only)", function () {
    this.timeout(120_000);
    let moto: Moto;
    let proxy: AwsProxy;
    let inspector: DocumentInspector;
    let workDir: string;
    const saved = { ...process.env };
    const ids = { root: "", workloads: "", sandbox: "", a: "", b: "", c: "", d: "", e: "" };

    function writeConfig(name: string, lines: string[]): string {
        const file = path.join(workDir, name);
        fs.writeFileSync(
            file,
            [
                "config:",
                "  aws:region: us-east-1",
                "  sessionManager:sessionDataEncryption: false",
                "  sessionManager:createCWLogGroup: false",
                "  sessionManager:instancePolicy: false",
                "  sessionManager:readOnlyRoleName: OrgReader",
                ...lines,
                "",
            ].join("\n"),
        );
        return file;
    }

    /** The organization config of the issue: two OUs in two Regions, a sandbox override by OU and a regulated account's. */
    function orgConfig(): string {
        return writeConfig("org.yaml", [
            `  sessionManager:organizationalUnitIds: [${ids.workloads}, ${ids.sandbox}]`,
            "  sessionManager:regions: [us-east-1, eu-west-1]",
            "  sessionManager:overrides:",
            `    - { name: sandbox, organizationalUnitIds: [${ids.sandbox}], idleSessionTimeout: 60 }`,
            `    - { name: regulated, accountIds: ["${ids.c}"], maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: ssm-user }`,
        ]);
    }

    async function tagOwner(target: string, owner: string): Promise<void> {
        await inspector.client(target).send(
            new AddTagsToResourceCommand({
                ResourceType: "Document",
                ResourceId: "SSM-SessionManagerRunShell",
                Tags: [{ Key: "session-manager-preferences:owner", Value: owner }],
            }),
        );
    }

    function awsCalls(): string[] {
        return [...new Set(proxy.calls.map((c) => `${c.service}:${c.action}`))].sort();
    }

    before(async () => {
        moto = await startMoto();
        proxy = await startAwsProxy(moto.endpoint);
        Object.assign(process.env, { ...motoEnv(moto), AWS_ENDPOINT_URL: proxy.endpoint });
        forgetCheckedSessions();
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-audit-"));
        inspector = new DocumentInspector(moto.endpoint);
        const orgs = new OrganizationsClient({ region: "us-east-1", endpoint: moto.endpoint });
        const made = await createOrganization(orgs, {
            ous: [
                ["workloads", "root"],
                ["sandbox", "root"],
            ],
            accounts: [
                ["plain", "workloads"],
                ["play", "sandbox"],
                ["regulated", "workloads"],
                ["shared", "workloads"],
                ["locked", "sandbox"],
            ],
        });
        Object.assign(ids, { root: made.root, workloads: made.workloads, sandbox: made.sandbox });
        Object.assign(ids, { a: made.plain, b: made.play, c: made.regulated, d: made.shared, e: made.locked });
        orgs.destroy();

        // a: as wanted in both Regions; us-east-1 under the loop's stack, eu-west-1 made by hand and never managed.
        await inspector.seed(`${ids.a}/us-east-1`, content(ids.a, "us-east-1"));
        await tagOwner(`${ids.a}/us-east-1`, `${project}/org.${ids.a}`);
        await inspector.seed(`${ids.a}/eu-west-1`, content(ids.a, "eu-west-1"));
        // b (sandbox): compliant only with the sandbox's 60 minutes; in eu-west-1 a console edit put 20 back.
        await inspector.seed(`${ids.b}/us-east-1`, content(ids.b, "us-east-1", { idleSessionTimeout: 60 }));
        await inspector.seed(`${ids.b}/eu-west-1`, content(ids.b, "eu-west-1", { idleSessionTimeout: 60 }));
        await inspector.editOutOfBand(`${ids.b}/eu-west-1`, content(ids.b, "eu-west-1", { idleSessionTimeout: 20 }));
        // c (regulated): 12-hour sessions with Run As in us-east-1; no document in eu-west-1.
        await inspector.seed(`${ids.c}/us-east-1`, content(ids.c, "us-east-1", { maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: "ssm-user" }));
        // d: another tool's document in us-east-1; eu-west-1 does not answer.
        await inspector.seed(`${ids.d}/us-east-1`, content(ids.d, "us-east-1", { idleSessionTimeout: 45 }));
        await tagOwner(`${ids.d}/us-east-1`, "landing-zone-accelerator/baseline");
        proxy.unreachable.add(`${ids.d}/eu-west-1`);
        // e: its read-only role does not trust the audit's credentials.
        proxy.deniedRoles.add(`arn:aws:iam::${ids.e}:role/OrgReader`);
    });

    after(async () => {
        inspector?.close();
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
        await proxy?.close();
        await moto?.stop();
        if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    });

    beforeEach(() => proxy.resetCounts());

    describe("an organization with every status", () => {
        let run: { exitCode: number; stdout: string; stderr: string };
        let report: JsonAudit;
        let calls: AwsProxy["calls"];
        const byTarget = (accountId: string, region: string) => report.targets.find((t) => t.target === `${accountId}/${region}`) as JsonTarget;

        before(async () => {
            proxy.resetCounts();
            // Sessions checked by the runs before this one would be reused: start as a fresh process does.
            forgetCheckedSessions();
            run = await runOrg(["audit", "--config", orgConfig(), "--json", "--parallel", "4"]);
            report = JSON.parse(run.stdout) as JsonAudit;
            calls = [...proxy.calls];
        });

        it("reads every account under the OUs in every Region, and exits 2 because not all are compliant", () => {
            expect(run.exitCode, run.stderr).to.equal(2);
            expect(report.exitCode).to.equal(2);
            expect(report.targets.map((t) => t.target).sort()).to.deep.equal(
                [ids.a, ids.b, ids.c, ids.d, ids.e].flatMap((a) => [`${a}/eu-west-1`, `${a}/us-east-1`]).sort(),
            );
            expect(report.counts).to.deep.equal({ compliant: 4, drifted: 1, missing: 1, "owned by another": 1, unreachable: 3 });
        });

        it("calls a document compliant whether the loop's stack owns it or nothing does yet", () => {
            expect(byTarget(ids.a, "us-east-1")).to.include({ status: "compliant", owner: `${project}/org.${ids.a}` });
            expect(byTarget(ids.a, "eu-west-1")).to.include({ status: "compliant" });
            expect(byTarget(ids.a, "eu-west-1").owner).to.equal(undefined);
        });

        it("wants each target's overrides, and says which override each field came from", () => {
            expect(byTarget(ids.b, "us-east-1")).to.deep.include({ status: "compliant", overrides: { idleSessionTimeout: "sandbox" } });
            expect(byTarget(ids.c, "us-east-1")).to.deep.include({
                status: "compliant",
                overrides: { maxSessionDuration: "regulated", runAsEnabled: "regulated", runAsDefaultUser: "regulated" },
            });
            expect(byTarget(ids.a, "us-east-1").overrides).to.deep.equal({});
        });

        it("reports a console edit as drifted, field by field, wanted (with the override) against found", () => {
            expect(byTarget(ids.b, "eu-west-1")).to.deep.include({
                status: "drifted",
                fields: [{ field: "inputs.idleSessionTimeout", wanted: "60", found: "20" }],
            });
        });

        it("reports a target without the document as missing", () => {
            expect(byTarget(ids.c, "eu-west-1").status).to.equal("missing");
        });

        it("reports a document another tool's owner tag names as owned by another, with the tag and its differing fields", () => {
            const d = byTarget(ids.d, "us-east-1");
            expect(d).to.deep.include({ status: "owned by another", owner: "landing-zone-accelerator/baseline" });
            expect(d.fields).to.deep.equal([{ field: "inputs.idleSessionTimeout", wanted: "20", found: "45" }]);
        });

        it("reports a role that cannot be assumed and a Region that does not answer as unreachable, each with why", () => {
            for (const region of ["us-east-1", "eu-west-1"]) {
                const e = byTarget(ids.e, region);
                expect(e.status).to.equal("unreachable");
                expect(e.reason).to.include(`cannot assume arn:aws:iam::${ids.e}:role/OrgReader`).and.include("not authorized to perform: sts:AssumeRole");
            }
            const d = byTarget(ids.d, "eu-west-1");
            expect(d.status).to.equal("unreachable");
            expect(d.reason).to.include("the SSM endpoint in eu-west-1 did not answer").and.include(`is the Region enabled in account ${ids.d}`);
        });

        it("writes nothing, calls only the documented actions, and reads the targets through the read-only role alone", () => {
            expect(calls.filter((c) => isWrite(c.action))).to.deep.equal([]);
            const documented = new Set<string>([...auditTargetActions(base), ...auditStartingActions, ...auditOrganizationsActions]);
            const called = [...new Set(calls.map((c) => `${c.service}:${c.action}`))].sort();
            expect(called.filter((a) => !documented.has(a))).to.deep.equal([]);
            expect(called).to.include.members(["ssm:GetDocument", "ssm:DescribeDocument", "ssm:ListTagsForResource", "organizations:ListParents"]);
            const assumed = [...new Set(calls.filter((c) => c.action === "AssumeRole").map((c) => c.roleArn?.split("/").pop()))];
            expect(assumed).to.deep.equal(["OrgReader"]);
            expect(calls.filter((c) => c.service === "ssm").every((c) => c.signedBy?.endsWith(":role/OrgReader"))).to.equal(true);
        });

        it("assumes each account's role once, however many Regions it reads there", () => {
            const perRole = new Map<string, number>();
            for (const c of calls) if (c.action === "AssumeRole" && c.roleArn) perRole.set(c.roleArn, (perRole.get(c.roleArn) ?? 0) + 1);
            for (const account of [ids.a, ids.b, ids.c, ids.d]) expect(perRole.get(`arn:aws:iam::${account}:role/OrgReader`), account).to.equal(1);
        });

        it("prints the table on stderr with --json, and nothing but JSON on stdout", () => {
            expect(run.stderr).to.match(/audit: 10 targets, 4 at a time/);
            expect(run.stderr).to.match(/TARGET\s+STATUS\s+OWNER\s+OVERRIDES/);
            expect(() => JSON.parse(run.stdout) as unknown).not.to.throw();
        });
    });

    // Mocha runs a suite's own tests before its nested suites: these change documents, so they come last.
    describe("other deployments and keys (these change documents)", () => {
        it("audits a StackSet deployment: every account under its OUs in its Regions, less exclusions, StackSet owners its own", async () => {
            await tagOwner(`${ids.b}/us-east-1`, `${project}/prod:stackset`);
            const config = writeConfig("stackset.yaml", [
                "  sessionManager:deployment: stackset",
                `  sessionManager:organizationalUnitIds: [${ids.sandbox}]`,
                "  sessionManager:regions: [us-east-1]",
                `  sessionManager:excludeAccounts: ["${ids.e}"]`,
                "  sessionManager:idleSessionTimeout: 60",
            ]);
            const run = await runOrg(["audit", "--config", config, "--json"]);
            expect(run.exitCode, run.stderr).to.equal(0);
            const report = JSON.parse(run.stdout) as JsonAudit;
            expect(report.targets.map((t) => [t.target, t.status, t.owner])).to.deep.equal([[`${ids.b}/us-east-1`, "compliant", `${project}/prod:stackset`]]);
        });

        it("in StackSet mode, a loop stack's owner tag is another deployer's", async () => {
            const config = writeConfig("stackset-a.yaml", [
                "  sessionManager:deployment: stackset",
                `  sessionManager:organizationalUnitIds: [${ids.workloads}]`,
                "  sessionManager:regions: [us-east-1]",
                `  sessionManager:excludeAccounts: ["${ids.c}", "${ids.d}"]`,
            ]);
            const run = await runOrg(["audit", "--config", config, "--json"]);
            expect(run.exitCode).to.equal(2);
            expect((JSON.parse(run.stdout) as JsonAudit).targets.map((t) => [t.target, t.status])).to.deep.equal([[`${ids.a}/us-east-1`, "owned by another"]]);
        });

        it("retries SSM's throttling: a target read through a throttling endpoint is still compliant", async () => {
            const faults = await startFaultProxy({ target: moto.endpoint, throttleRate: 0.5, seed: 7, maxFaultsPerCall: 2 });
            const endpoint = process.env.AWS_ENDPOINT_URL;
            process.env.AWS_ENDPOINT_URL = faults.endpoint;
            try {
                forgetCheckedSessions();
                const settings = parseOrgConfig(fs.readFileSync(orgConfig(), "utf8").replace(/ {2}sessionManager:overrides:[\s\S]*/, ""), "org.yaml").settings;
                const targets = ["us-east-1", "eu-west-1"].map((region) => ({ accountId: ids.a, region, roleName: "OrgReader" }));
                const findings = await auditTargets(settings, targets, { parallel: 2, owners: () => ["*"] });
                expect(findings.map((f) => f.status)).to.deep.equal(["compliant", "compliant"]);
                expect(faults.stats().total.throttled).to.be.greaterThan(0);
            } finally {
                process.env.AWS_ENDPOINT_URL = endpoint;
                forgetCheckedSessions();
                await faults.close();
            }
        });

        it("compares kmsKeyId with the key-ID parameter when the program makes the key, exactly with sessionDataKeyArn when one is named", async () => {
            const target = `${ids.a}/eu-west-1`;
            const ssm = inspector.client(target);
            await ssm.send(new PutParameterCommand({ Name: sessionDataKeyParameterName, Value: "1234abcd-12ab-34cd-56ef-1234567890ab", Type: "String" }));
            await inspector.editOutOfBand(
                target,
                JSON.stringify(
                    desiredDocument(
                        { ...base, sessionDataEncryption: true },
                        { accountId: ids.a, region: "eu-west-1", kmsKeyId: "1234abcd-12ab-34cd-56ef-1234567890ab" },
                    ),
                ),
            );
            const settings = parseOrgConfig(
                "config:\n  sessionManager:createCWLogGroup: false\n  sessionManager:instancePolicy: false\n  sessionManager:readOnlyRoleName: OrgReader\n",
                "created.yaml",
            ).settings;
            const audit = (s: typeof settings, accountId: string, region: string): Promise<AuditFinding[]> =>
                auditTargets(s, [{ accountId, region, roleName: "OrgReader" }], { parallel: 1, owners: () => ["*"] });
            expect((await audit(settings, ids.a, "eu-west-1"))[0].status).to.equal("compliant");
            // us-east-1 has no parameter and names no key.
            const [east] = await audit(settings, ids.a, "us-east-1");
            expect(east.status).to.equal("drifted");
            expect(east.fields).to.deep.equal([
                { field: "inputs.kmsKeyId", wanted: "(the ID in /session-manager/session-data-key: no such parameter)", found: "" },
            ]);
            const named = parseOrgConfig(
                "config:\n  sessionManager:createCWLogGroup: false\n  sessionManager:instancePolicy: false\n  sessionManager:sessionDataKeyArn: arn:aws:kms:{region}:999999999999:key/mrk-1234abcd12ab34cd56ef1234567890ab\n",
                "named.yaml",
            ).settings;
            const [west] = await audit(named, ids.a, "eu-west-1");
            expect(west.fields).to.deep.equal([
                {
                    field: "inputs.kmsKeyId",
                    wanted: "arn:aws:kms:eu-west-1:999999999999:key/mrk-1234abcd12ab34cd56ef1234567890ab",
                    found: "1234abcd-12ab-34cd-56ef-1234567890ab",
                },
            ]);
        });
    });

    it("text: a table per target, the differing fields and why the others are not compliant", async () => {
        const run = await runOrg(["audit", "--config", orgConfig(), "--parallel", "2"]);
        expect(run.exitCode, run.stderr).to.equal(2);
        expect(run.stdout).to.include("audit: 10 targets: 4 compliant, 1 drifted, 1 missing, 1 owned by another, 3 unreachable");
        expect(run.stdout).to.match(new RegExp(`${ids.b}/us-east-1\\s+compliant\\s+idleSessionTimeout from sandbox`));
        expect(run.stdout).to.match(new RegExp(`${ids.b}/eu-west-1\\s+inputs.idleSessionTimeout\\s+"60"\\s+"20"`));
        expect(run.stdout).to.match(new RegExp(`${ids.c}/eu-west-1\\s+missing\\s+.*maxSessionDuration from regulated`));
        expect(run.stdout).to.include(`${ids.d}/us-east-1 owned by another: owner tag "landing-zone-accelerator/baseline"`);
    });

    it("text on a terminal: every line fits its width, values cut, reasons wrapped", async () => {
        const run = await runOrg(["audit", "--config", orgConfig()], { columns: 80 });
        expect(run.exitCode).to.equal(2);
        for (const line of run.stdout.split("\n")) expect(line.length, line).to.be.at.most(79);
        expect(run.stdout).to.include("…");
    });

    it("markdown: a table per target and a table of fields, for an issue or the job summary", async () => {
        const run = await runOrg(["audit", "--config", orgConfig(), "--markdown"]);
        expect(run.exitCode).to.equal(2);
        expect(run.stdout).to.match(/^### Session Manager preferences: audit\n\n\*\*Not every target is compliant\*\*/);
        expect(run.stdout).to.include("| Target | Status | Owner | Overrides |");
        expect(run.stdout).to.include(`| ${ids.b}/eu-west-1 | **drifted** |  | idleSessionTimeout from sandbox |`);
        expect(run.stdout).to.include("#### Fields that differ");
        expect(run.stdout).to.include(`| ${ids.b}/eu-west-1 | \`inputs.idleSessionTimeout\` | \`"60"\` | \`"20"\` |`);
        expect(run.stdout).to.include("#### Not compliant");
    });

    it("--shard k/n audits each account in exactly one shard; merge makes the shards' JSON the whole audit's report", async () => {
        const shard = async (k: number) => {
            const run = await runOrg(["audit", "--config", orgConfig(), "--json", "--shard", `${k}/2`]);
            const file = path.join(workDir, `audit-${k}.json`);
            fs.writeFileSync(file, run.stdout);
            return { file, targets: (JSON.parse(run.stdout) as JsonAudit).targets.map((t) => t.target) };
        };
        const [one, two] = [await shard(1), await shard(2)];
        expect([...one.targets, ...two.targets].sort()).to.deep.equal(
            [ids.a, ids.b, ids.c, ids.d, ids.e].flatMap((a) => [`${a}/eu-west-1`, `${a}/us-east-1`]).sort(),
        );
        expect(one.targets.filter((t) => two.targets.includes(t))).to.deep.equal([]);

        const whole = await runOrg(["audit", "--config", orgConfig(), "--json"]);
        const merged = await runOrg(["merge", two.file, one.file, "--json"]);
        expect(merged.exitCode, merged.stderr).to.equal(whole.exitCode).and.to.equal(2);
        const withoutTimes = (text: string) => {
            const report = JSON.parse(text) as JsonAudit;
            const targets = report.targets.map(({ durationMs: _d, ...t }: JsonTarget & { durationMs?: number }) => t);
            return { exitCode: report.exitCode, counts: report.counts, targets: targets.sort((a, b) => a.target.localeCompare(b.target)) };
        };
        expect(withoutTimes(merged.stdout)).to.deep.equal(withoutTimes(whole.stdout));
        // Sorted by account and Region, whatever order the files come in.
        const order = (JSON.parse(merged.stdout) as JsonAudit).targets.map((t) => t.target);
        expect(order).to.deep.equal([...order].sort());
        // The text report, as the audit's own: the drifted field, wanted against found.
        const text = await runOrg(["merge", one.file, two.file]);
        expect(text.stdout).to.match(new RegExp(`${ids.b}/eu-west-1\\s+inputs\\.idleSessionTimeout\\s+"60"\\s+"20"`));

        // A shard that read nothing (here: its copy of the config has no OU) fails the merge, naming it; the other's findings stay.
        // moto's account IDs are random, so one shard may hold every account: the other one fails.
        const [kept, failing] = one.targets.length > 0 ? [one, 2] : [two, 1];
        const broken = writeConfig(`shard-${failing}.yaml`, ["  sessionManager:organizationalUnitIds: [ou-nope]"]);
        const failedRun = await runOrg(["audit", "--config", broken, "--json", "--shard", `${failing}/2`]);
        expect(failedRun.exitCode).to.equal(1);
        const failed = path.join(workDir, `audit-${failing}-failed.json`);
        fs.writeFileSync(failed, failedRun.stdout);
        const partial = await runOrg(["merge", kept.file, failed, "--markdown"]);
        expect(partial.exitCode).to.equal(1);
        expect(partial.stdout).to.include(`**Not every target was read: shard ${failing}/2: `);
        expect(partial.stdout).to.include(`| ${kept.targets[0]} |`);
    });

    it("exits 0 when every target is compliant", async () => {
        const config = writeConfig("compliant.yaml", [
            "  sessionManager:targets:",
            `    - { accountId: "${ids.a}", regions: [us-east-1, eu-west-1], roleName: OrgAdmin }`,
        ]);
        const run = await runOrg(["audit", "--config", config, "--json"]);
        expect(run.exitCode, run.stderr).to.equal(0);
        expect((JSON.parse(run.stdout) as JsonAudit).counts.compliant).to.equal(2);
        // No OU and no override by OU: Organizations is not asked.
        expect(awsCalls().filter((c) => c.startsWith("organizations:"))).to.deep.equal([]);
    });

    it("counts a document as this config's when --owner names its deployer, with {accountId} and *", async () => {
        const config = writeConfig("owner.yaml", ["  sessionManager:targets:", `    - { accountId: "${ids.d}", regions: [us-east-1], roleName: OrgAdmin }`]);
        const before = await runOrg(["audit", "--config", config, "--json"]);
        expect((JSON.parse(before.stdout) as JsonAudit).targets[0].status).to.equal("owned by another");
        const run = await runOrg(["audit", "--config", config, "--json", "--owner", "landing-zone-*/base{accountId}", "--owner", "landing-zone-accelerator/*"]);
        const [target] = (JSON.parse(run.stdout) as JsonAudit).targets;
        expect(target).to.deep.include({ status: "drifted", owner: "landing-zone-accelerator/baseline" });
    });

    describe("bad input stops it before any AWS call", () => {
        it("overrides of one priority that both set a key for a target: exit 1, naming both, nothing read", async () => {
            const config = writeConfig("conflict.yaml", [
                "  sessionManager:targets:",
                `    - { accountId: "${ids.a}", regions: [us-east-1], roleName: OrgAdmin }`,
                "  sessionManager:overrides:",
                `    - { name: one, accountIds: ["${ids.a}"], idleSessionTimeout: 10 }`,
                "    - { name: two, regions: [us-east-1], idleSessionTimeout: 30 }",
            ]);
            const run = await runOrg(["audit", "--config", config, "--json"]);
            expect(run.exitCode).to.equal(1);
            const report = JSON.parse(run.stdout) as JsonAudit;
            expect(report.problem?.kind).to.equal("config");
            expect(report.problem?.details.join("\n")).to.include("overrides one (overrides[0]) and two (overrides[1]) both set idleSessionTimeout");
            expect(awsCalls().filter((c) => !c.startsWith("organizations:"))).to.deep.equal([]);
        });

        it("a missing config: exit 64 with how to make one", async () => {
            const run = await runOrg(["audit", "--config", path.join(workDir, "nope.yaml"), "--json"]);
            expect(run.exitCode).to.equal(64);
            expect((JSON.parse(run.stdout) as JsonAudit).problem?.kind).to.equal("usage");
        });

        for (const [argv, message] of [
            [["audit", "--owner", ""], /--owner "": an owner tag value/],
            [["audit", "--owner", "a b\tc"], /--owner "a b\\tc": an owner tag value/],
            [["audit", "--owner", "x".repeat(257)], /an owner tag value \(1 to 256/],
            [["audit", "--log-dir", "x"], /--log-dir does not go with audit/],
            [["audit", "--no-refresh"], /--no-refresh does not go with audit/],
            [["audit", "--stack", "prod"], /--stack does not go with audit/],
            [["audit", "--json", "--markdown"], /choose one/],
            [["audit", "--parallel", "0"], /--parallel 0: a whole number from 1 to 64/],
            [["audit", "--role-name", "bad role"], /--role-name bad role/],
            [["drift", "--owner", "x"], /--owner goes with audit and repair only/],
            [["policies", "--starting-account", "111111111111", "--owner", "x"], /--owner does not go with policies/],
        ] as const) {
            it(`refuses ${argv.join(" ")}`, () => {
                expect(() => parseCli([...argv], repoRoot)).to.throw(UsageError, message);
            });
        }

        it("a usage error of audit with --json is an audit report", async () => {
            const run = await runOrg(["audit", "--owner", "", "--json"]);
            expect(run.exitCode).to.equal(64);
            expect(JSON.parse(run.stdout)).to.deep.include({ command: "audit", exitCode: 64 });
        });
    });
});

describe("audit owners", () => {
    it("matches * as any run of characters and the rest literally", () => {
        expect(ownerMatches("p/org.1", ["p/org.*"])).to.equal(true);
        expect(ownerMatches("p/orgX1", ["p/org.1"])).to.equal(false);
        expect(ownerMatches("p/prod:stackset", ["p/*:stackset"])).to.equal(true);
        expect(ownerMatches("p/prod", ["p/*:stackset"])).to.equal(false);
    });

    it("owns the loop's stacks of either granularity in direct mode, the project's StackSets in StackSet mode, plus --owner", () => {
        const target = { accountId: "111111111111", region: "eu-west-1" };
        expect(ownerPatterns({ deployment: "direct" }, { project: "p", stackPrefix: "org", extra: ["p/{accountId}-{region}"] })(target)).to.deep.equal([
            "p/org.111111111111",
            "p/org.111111111111.eu-west-1",
            "p/111111111111-eu-west-1",
        ]);
        expect(ownerPatterns({ deployment: "stackset" }, { project: "p", stackPrefix: "org", extra: [] })(target)).to.deep.equal(["p/*:stackset"]);
    });
});
