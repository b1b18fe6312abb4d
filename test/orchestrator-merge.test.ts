// merge (orchestrator/merge.ts): shard reports, as renderJson writes them, read back and merged.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AuditFinding } from "../orchestrator/audit";
import { auditExitCode, AuditReport, renderAuditJson } from "../orchestrator/auditReport";
import { CliOptions, parseCli, UsageError } from "../orchestrator/cli";
import { MergeError, mergeAuditReports, mergeFiles, mergeReports, parseAuditJson, parseJsonReport } from "../orchestrator/merge";
import { renderJson } from "../orchestrator/report";
import { exitCodeFor, RolloutReport, TargetResult } from "../orchestrator/result";

function result(accountId: string, outcome: TargetResult["outcome"], regions?: string[]): TargetResult {
    return {
        stackName: `org.${accountId}`,
        accountId,
        region: regions?.[0] ?? "eu-west-1",
        ...(regions ? { regions } : {}),
        outcome,
        changes: 0,
        changeSummary: { same: 1 },
        durationMs: 1000,
        logFile: `/logs/org.${accountId}.log`,
    };
}

function shard(index: number, count: number, results: TargetResult[], extra: Partial<RolloutReport> = {}): { file: string; report: RolloutReport } {
    const report: RolloutReport = {
        command: "drift",
        startedAt: `2026-12-06T05:0${index}:00.000Z`,
        durationMs: index * 1000,
        results,
        staleStacks: [],
        selection: ["--config", "org.yaml", "--shard", `${index}/${count}`],
        shard: { index, count },
        ...extra,
    };
    // Through the JSON a shard job writes, as merge reads it.
    return { file: `drift-${index}.json`, report: parseJsonReport(renderJson(report), `drift-${index}.json`) };
}

describe("merge of shard reports", () => {
    it("reads back every field a report's JSON holds", () => {
        const { report } = shard(2, 3, [result("111111111111", "drifted", ["eu-west-1", "us-east-1"])], { staleStacks: ["org.999999999999"] });
        expect(report.results[0]).to.deep.equal(result("111111111111", "drifted", ["eu-west-1", "us-east-1"]));
        expect(report).to.deep.include({ command: "drift", shard: { index: 2, count: 3 }, staleStacks: ["org.999999999999"] });
    });

    it("merges results by stack, the earliest start, the longest duration, the stale stacks of all; the selection loses --shard", () => {
        const merged = mergeReports([
            shard(2, 2, [result("333333333333", "in sync")], { staleStacks: ["org.999999999999"] }),
            shard(1, 2, [result("222222222222", "drifted"), result("111111111111", "in sync")]),
        ]);
        expect(merged.results.map((r) => r.stackName)).to.deep.equal(["org.111111111111", "org.222222222222", "org.333333333333"]);
        expect(merged).to.deep.include({
            startedAt: "2026-12-06T05:01:00.000Z",
            durationMs: 2000,
            staleStacks: ["org.999999999999"],
            selection: ["--config", "org.yaml"],
        });
        expect(merged).to.not.have.property("shard");
        expect(exitCodeFor(merged)).to.equal(2);
    });

    it("fails the merge when a shard ran nothing, naming it, and keeps the others' results", () => {
        const problem = {
            kind: "access" as const,
            summary: "1 of the target accounts cannot be reached",
            details: ["account 222222222222: AccessDenied"],
            fix: "check the role",
        };
        const merged = mergeReports([
            shard(1, 3, [result("111111111111", "in sync")]),
            shard(2, 3, [], { problem }),
            shard(3, 3, [result("333333333333", "in sync")]),
        ]);
        expect(merged.problem).to.deep.equal({ ...problem, summary: "shard 2/3: 1 of the target accounts cannot be reached" });
        expect(merged.results).to.have.length(2);
        expect(exitCodeFor(merged)).to.equal(1);
        const missing = mergeReports([shard(1, 3, [result("111111111111", "in sync")])]);
        expect(missing.problem?.kind).to.equal("shards");
        expect(missing.problem?.details).to.deep.equal(["shard 2/3: no report", "shard 3/3: no report"]);
        expect(exitCodeFor(missing)).to.equal(1);
    });

    it("refuses reports that are not of one run: two commands, two shard counts, a shard twice, not a report", () => {
        expect(() => mergeReports([shard(1, 2, []), { ...shard(2, 2, []), report: { ...shard(2, 2, []).report, command: "up" } }])).to.throw(
            MergeError,
            /drift-2\.json is a report of up/,
        );
        expect(() => mergeReports([shard(1, 2, []), shard(1, 3, [])])).to.throw(MergeError, /different shard counts \(2, 3\)/);
        expect(() => mergeReports([shard(1, 2, []), shard(1, 2, [])])).to.throw(MergeError, /both shard 1\/2/);
        expect(() => parseJsonReport("{}", "x.json")).to.throw(MergeError, /x\.json: not a report/);
        expect(() => parseJsonReport("not json", "y.json")).to.throw(MergeError, /y\.json: not JSON/);
    });

    describe("the audit's shard reports", () => {
        function auditShard(index: number, count: number, findings: AuditFinding[]): { file: string; report: AuditReport } {
            const report: AuditReport = {
                command: "audit",
                startedAt: `2026-12-06T05:0${index}:00.000Z`,
                durationMs: index * 1000,
                findings,
                shard: { index, count },
            };
            return { file: `audit-${index}.json`, report: parseAuditJson(renderAuditJson(report), `audit-${index}.json`) };
        }
        const finding = (accountId: string, status: AuditFinding["status"], extra: Partial<AuditFinding> = {}): AuditFinding => ({
            accountId,
            region: "eu-west-1",
            status,
            sources: {},
            ...extra,
        });

        it("reads back every field of a finding, and merges them sorted by account and Region with the whole audit's exit code", () => {
            const drifted = finding("222222222222", "drifted", {
                sources: { idleSessionTimeout: "sandbox" },
                fields: [{ field: "inputs.idleSessionTimeout", wanted: "60", found: "20" }],
                owner: "session-manager-preferences/org.222222222222",
                documentVersion: "3",
                durationMs: 12,
            });
            expect(auditShard(1, 1, [drifted]).report.findings).to.deep.equal([drifted]);
            const merged = mergeAuditReports([
                auditShard(2, 2, [finding("333333333333", "compliant")]),
                auditShard(1, 2, [drifted, finding("111111111111", "compliant")]),
            ]);
            expect(merged.findings.map((f) => f.accountId)).to.deep.equal(["111111111111", "222222222222", "333333333333"]);
            expect(merged).to.deep.include({ startedAt: "2026-12-06T05:01:00.000Z", durationMs: 2000 });
            expect(merged).to.not.have.property("shard");
            expect(auditExitCode(merged)).to.equal(2);
            expect(auditExitCode(mergeAuditReports([auditShard(1, 2, [])]))).to.equal(1);
        });

        it("refuses an audit report among another command's, and an audit status it does not know", () => {
            const files = [auditShard(1, 2, []), shard(2, 2, [])].map((r, i) => {
                const file = path.join(os.tmpdir(), `smp-merge-${process.pid}-${i}.json`);
                fs.writeFileSync(file, r.report.command === "audit" ? renderAuditJson(r.report as AuditReport) : renderJson(r.report as RolloutReport));
                return file;
            });
            try {
                expect(() => mergeFiles(files)).to.throw(
                    MergeError,
                    /smp-merge-\d+-0\.json is a report of audit, .*smp-merge-\d+-1\.json of drift: merge the shards of one run/,
                );
            } finally {
                for (const file of files) fs.rmSync(file, { force: true });
            }
            const text = renderAuditJson(auditShard(1, 1, [finding("111111111111", "compliant")]).report).replace('"status": "compliant"', '"status": "fine"');
            expect(() => parseAuditJson(text, "a.json")).to.throw(
                MergeError,
                /a\.json: target 111111111111\/eu-west-1 has status "fine"; an audit report's are compliant, drifted/,
            );
            expect(() => parseJsonReport(text, "a.json")).to.throw(MergeError, /a\.json: an audit report, where a report of preview, up/);
        });
    });
});

describe("command line: --shard, --stack, regroup and merge", () => {
    const parse = (...argv: string[]) => parseCli(argv, "/repo");

    it("takes --shard k/n with 1 <= k <= n <= 256, and says what is allowed otherwise", () => {
        expect((parse("up", "--shard", "2/4") as CliOptions).shard).to.deep.equal({ index: 2, count: 4 });
        expect((parse("drift", "--shard", "2/4") as CliOptions).selection).to.deep.equal(["--shard", "2/4"]);
        for (const bad of ["0/3", "4/3", "1/0", "1/257", "2", "a/b", "1/3/4"])
            expect(() => parse("up", "--shard", bad), bad).to.throw(UsageError, `--shard ${bad}: k/n with 1 <= k <= n <= 256`);
        expect(() => parse("regroup", "--shard", "1/2")).to.throw(UsageError, /--shard does not go with regroup/);
    });

    it("takes --stack with drift and refresh only", () => {
        expect((parse("drift", "--stack", "acme/prod") as CliOptions).stack).to.equal("acme/prod");
        for (const command of ["up", "preview", "destroy", "prune", "regroup"])
            expect(() => parse(command, "--stack", "prod"), command).to.throw(UsageError, /--stack goes with drift and refresh only/);
        expect(() => parse("drift", "--stack", "prod", "--shard", "1/2")).to.throw(UsageError, /--stack and --shard/);
    });

    it("regroup is an up that first moves the stacks", () => {
        expect(parse("regroup")).to.deep.include({ command: "up", regroup: true });
        expect(parse("up")).to.deep.include({ command: "up", regroup: false });
    });

    it("merge takes report files and --json or --markdown, nothing else", () => {
        expect(parse("merge", "a.json", "b.json", "--markdown")).to.deep.equal({
            command: "merge",
            files: [path.resolve("a.json"), path.resolve("b.json")],
            json: false,
            markdown: true,
        });
        expect(() => parse("merge")).to.throw(UsageError, /merge needs the shard reports/);
        expect(() => parse("merge", "a.json", "--parallel", "2")).to.throw(UsageError, /--parallel does not go with merge/);
        expect(() => parse("merge", "a.json", "--json", "--markdown")).to.throw(UsageError, /choose one/);
    });
});
