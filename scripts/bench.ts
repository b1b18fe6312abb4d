// `npm run bench`: the one-stack fan-out (1 to 256 targets) against the loop of stacks, per
// account and Region (1 to 64 targets) and per account (4 to 64), through the real engine and
// moto, the read-only audit (1 to 256 targets, no engine; `--audit-only` runs just that), and a
// no-op `pulumi preview` of the local stack, each against a floor measured in the
// same run: `pulumi preview` of an empty TypeScript program that imports @pulumi/pulumi and
// @pulumi/aws, on the same CLI. From those figures, a projection for 1,000 accounts x 17
// Regions on 16 two-core runners. Not part of the tests: it prints figures. The engine runs
// with the user's environment (the harness's engineEnv adds only where AWS and the backend are).
//
// SSM calls are counted at a loopback proxy in front of moto (devtools/awsProxy), which sees
// every request the document provider makes, whichever process makes it.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { parseSettings } from "../core/config";
import { mapBounded } from "../core/concurrency";
import { desiredDocument } from "../core/document";
import { auditTargets } from "../orchestrator/audit";
import { forgetCheckedSessions } from "../providers/sessionDocumentProvider";
import { DocumentInspector } from "../devtools/documents";
import { formatDuration, markdownTable, textTable } from "../orchestrator/format";
import { defaultParallelism } from "../orchestrator/cli";
import { Command } from "../orchestrator/result";
import { inlineProgramFor } from "../orchestrator/program";
import { runRollout } from "../orchestrator/run";
import { byAccount, OrgTarget, stackNameFor } from "../orchestrator/targets";
import { AwsProxy, isWrite, startAwsProxy } from "../devtools/awsProxy";
import { createLocalStack, engineEnv, pulumiBin, repoRoot } from "../devtools/engine";
import { projectCopy } from "../devtools/project";
import { startMoto } from "../devtools/moto";

/** Targets (4 Regions per account) of each mode. */
const sizes = { fanOut: [1, 4, 16, 64, 256], loop: [1, 4, 16, 64], loopPerAccount: [4, 16, 64], audit: [1, 4, 16, 64, 256] };
const regions = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"];
const roleName = "OrgAdmin";
const preferences = { sessionDataEncryption: false, createCWLogGroup: false, instancePolicy: false, idleSessionTimeout: 15 };
type Phase = "first up" | "no-op up" | "drift" | "audit";

type Mode = "fan-out" | "loop" | "loop per account" | "audit";

interface Measurement {
    mode: Mode;
    n: number;
    /** Stacks the phase ran: 1 for the fan-out, N for the loop, N/4 for the loop per account. */
    stacks: number;
    /** The fan-out's state file after its first up, per document. */
    stateBytesPerDoc?: number;
    phase: Phase;
    ms: number;
    /** CPU time of every process the run used (see cpuMs), or undefined where it cannot be read. */
    cpuMs?: number;
    reads: number;
    writes: number;
    /** Every AWS call through the proxy (STS, Organizations, SSM). */
    calls: number;
    failed: number;
}

/**
 * N targets as accounts x Regions, four Regions per account. Every mode and size gets
 * accounts of its own (`series`, then N, in the ID): two stacks may not manage one document.
 */
function targetsFor(n: number, series: number): OrgTarget[] {
    return Array.from({ length: n }, (_, i) => {
        const accountId = `${series}${String(n).padStart(3, "0")}${String(Math.floor(i / regions.length)).padStart(8, "0")}`;
        const region = regions[i % regions.length];
        return { accountId, region, roleName, stackName: stackNameFor(`bench-loop-${n}`, accountId, region) };
    });
}

/** The same N targets as stacks per account: N/4 stacks, each over its account's 4 Regions. */
function accountTargetsFor(n: number, series: number): OrgTarget[] {
    return byAccount(targetsFor(n, series), `bench-account-${n}`);
}

/** The size of a stack's state file in a file backend. */
function stateBytes(backendDir: string, stackName: string): number {
    const find = (dir: string): string | undefined => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                const found = find(p);
                if (found) return found;
            } else if (entry.name === `${stackName}.json`) return p;
        }
        return undefined;
    };
    const file = find(backendDir);
    if (!file) throw new Error(`no state file for ${stackName} under ${backendDir}`);
    return fs.statSync(file).size;
}

/** Runs of each single-stack preview; the median is kept, since one run is noisy on a shared machine. */
const previewRuns = 5;

/**
 * Rounds of the fan-out's and the loop's phases (first up, no-op up, drift, then a destroy
 * that is not timed, so the next round's first up is a first up again). Each row keeps the
 * round with the median wall time; writes and failures are the worst of all rounds. From 64
 * targets on, one round: those rows measure how cost grows, and one round of them takes minutes.
 */
const roundsFor = (n: number) => (n >= 64 ? 1 : 5);

type Measured = Omit<Measurement, "mode" | "n" | "phase" | "stacks" | "stateBytesPerDoc">;

function medianRound(runs: Measured[]): Measured {
    const kept = [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)];
    return { ...kept, writes: Math.max(...runs.map((r) => r.writes)), failed: Math.max(...runs.map((r) => r.failed)) };
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
}

/** An empty TypeScript program importing @pulumi/pulumi and @pulumi/aws, with the repository's tsconfig.json. */
function floorProject(dir: string): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: floor\nruntime: nodejs\n");
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "floor", main: "index.ts", devDependencies: { typescript: "*" } }));
    fs.writeFileSync(
        path.join(dir, "index.ts"),
        'import * as pulumi from "@pulumi/pulumi";\nimport * as aws from "@pulumi/aws";\nexport const project = pulumi.getProject();\nexport const awsLoaded = typeof aws.getPartition;\n',
    );
    fs.copyFileSync(path.join(repoRoot, "tsconfig.json"), path.join(dir, "tsconfig.json"));
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
    return dir;
}

async function medianPreviewMs(preview: () => Promise<unknown>): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < previewRuns; i++) {
        const t0 = Date.now();
        await preview();
        times.push(Date.now() - t0);
    }
    return median(times);
}

function ssmCounts(proxy: AwsProxy): { reads: number; writes: number } {
    const ssm = proxy.calls.filter((c) => c.service === "ssm");
    const writes = ssm.filter((c) => isWrite(c.action)).length;
    return { reads: ssm.length - writes, writes };
}

/** Clock ticks per second, the unit of /proc's CPU times. */
const clockTicks = (() => {
    try {
        return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
        return 100;
    }
})();

/** User + system CPU time of a process in ms (with `children`, of the children it has waited for), from /proc. */
function procCpuMs(pid: number | "self", children: boolean): number {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may hold spaces: field 3 (state) is [0], utime (14) is [11].
    const fields = stat
        .slice(stat.lastIndexOf(")") + 2)
        .split(" ")
        .map(Number);
    const ticks = fields[11] + fields[12] + (children ? fields[13] + fields[14] : 0);
    return (ticks * 1000) / clockTicks;
}

/**
 * CPU time used so far by every process a run involves: this one (the benchmark, the counting
 * proxy and, for the loop, the program that runs inline), the processes it has waited for
 * (each CLI, and the language hosts and provider plugins each CLI waited for), and moto.
 * Linux only; undefined elsewhere.
 */
function cpuMs(motoPid: number): number | undefined {
    try {
        return procCpuMs("self", true) + procCpuMs(motoPid, true);
    } catch {
        return undefined;
    }
}

async function measure(proxy: AwsProxy, motoPid: number, work: () => Promise<number>): Promise<Measured> {
    proxy.resetCounts();
    const t0 = Date.now();
    const cpu0 = cpuMs(motoPid);
    const failed = await work();
    const cpu1 = cpuMs(motoPid);
    return {
        ms: Date.now() - t0,
        cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
        failed,
        calls: proxy.calls.length,
        ...ssmCounts(proxy),
    };
}

/** The organization the projection is for, and the runners it runs on. */
const projected = { accounts: 1000, regions: 17, runners: 16, coresPerRunner: 2 };
const projectionHead = ["STACKS", "PHASE", "STACK COUNT", "CPU/STACK", "CPU/PASS", "WALL/RUNNER", "GOAL (NO-OP < 15 MIN)"];

/**
 * A no-op pass and a first up of the projected organization, from measured costs: a stack's
 * CPU (the loop's at 64 targets, per stack, for either granularity), plus, for a stack per
 * account, each document beyond the measured stack's four at the fan-out's marginal CPU per
 * document between 64 and 256 targets. The pass's CPU spread over every runner's cores.
 */
function projectionRows(results: readonly Measurement[]): string[][] {
    const find = (mode: Mode, n: number, phase: Phase) => results.find((r) => r.mode === mode && r.n === n && r.phase === phase);
    const rows: string[][] = [];
    const cores = projected.runners * projected.coresPerRunner;
    for (const phase of ["no-op up", "first up"] as const) {
        const fan64 = find("fan-out", 64, phase);
        const fan256 = find("fan-out", 256, phase);
        const perRegion = find("loop", 64, phase);
        const perAccount = find("loop per account", 64, phase);
        if (!fan64?.cpuMs || !fan256?.cpuMs || !perRegion?.cpuMs || !perAccount?.cpuMs) continue;
        const perDocument = Math.max(0, (fan256.cpuMs - fan64.cpuMs) / (256 - 64));
        const measuredDocs = perAccount.n / perAccount.stacks;
        const variants: [string, number, number][] = [
            ["per account and Region", projected.accounts * projected.regions, perRegion.cpuMs / perRegion.stacks],
            ["per account", projected.accounts, perAccount.cpuMs / perAccount.stacks + (projected.regions - measuredDocs) * perDocument],
        ];
        for (const [name, count, cpuPerStack] of variants) {
            const pass = count * cpuPerStack;
            const wall = pass / cores;
            rows.push([
                name,
                phase,
                count.toLocaleString("en"),
                `${(cpuPerStack / 1000).toFixed(2)}s`,
                `${Math.round(pass / 1000).toLocaleString("en")}s`,
                formatDuration(wall),
                phase === "no-op up" ? (wall < 15 * 60_000 ? "met" : "NOT MET") : "",
            ]);
        }
    }
    return rows;
}

/** The audit's preferences: the benchmark's, as parsed settings. */
const auditSettings = parseSettings(preferences);

/**
 * The audit of N targets whose documents are as wanted, as `npm run org -- audit` reads them
 * (the CLI's default parallelism, one AssumeRole per account): no engine, no state. The
 * documents are made first, straight at moto, uncounted.
 */
async function auditRuns(n: number, proxy: AwsProxy, moto: { endpoint: string; pid: number }): Promise<Measured[]> {
    const targets = targetsFor(n, 5).map((t) => ({ accountId: t.accountId, region: t.region, roleName }));
    const inspector = new DocumentInspector(moto.endpoint);
    await mapBounded(targets, 8, (t) =>
        inspector.seed(
            `${t.accountId}/${t.region}`,
            JSON.stringify(desiredDocument(auditSettings, { accountId: t.accountId, region: t.region, kmsKeyId: "" })),
        ),
    );
    inspector.close();
    const runs: Measured[] = [];
    for (let round = 0; round < roundsFor(n); round++) {
        // Each round as a fresh process: no session kept from the round before.
        forgetCheckedSessions();
        runs.push(
            await measure(proxy, moto.pid, async () => {
                const findings = await auditTargets(auditSettings, targets, { parallel: defaultParallelism(), owners: () => ["*"] });
                return findings.filter((f) => f.status !== "compliant").length;
            }),
        );
    }
    return runs;
}

async function main(): Promise<void> {
    const auditOnly = process.argv.includes("--audit-only");
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-bench-"));
    // Stack files go to this copy of the project, never to the repository.
    const projectDir = projectCopy(path.join(workDir, "project"));
    const moto = await startMoto();
    const proxy = await startAwsProxy(moto.endpoint);
    const env = { ...(await engineEnv(moto, path.join(workDir, "backend"))), AWS_ENDPOINT_URL: proxy.endpoint };
    // The loop's program runs in this process, as `npm run org` runs it in the user's shell.
    Object.assign(process.env, env);
    const pulumiCommand = auditOnly ? undefined : await PulumiCommand.get({ root: path.dirname(await pulumiBin()) });
    const parallel = defaultParallelism();
    const results: Measurement[] = [];
    const backendDir = path.join(workDir, "backend");

    // The floor, and the local stack's no-op preview, before anything else loads the machine.
    let floorMs = NaN;
    let localPreviewMs = NaN;
    if (!auditOnly) {
        const floor = await createLocalStack({ stackName: "bench-floor", workDir: floorProject(path.join(workDir, "floor")), backendDir, env });
        await floor.preview();
        floorMs = await medianPreviewMs(() => floor.preview());
        process.stderr.write(`bench: floor (empty program) preview: ${formatDuration(floorMs)}\n`);
        const localProject = projectCopy(path.join(workDir, "local-project"), ["Pulumi.local.yaml"]);
        const local = await createLocalStack({ stackName: "local", workDir: localProject, backendDir, env });
        await local.up();
        localPreviewMs = await medianPreviewMs(() => local.preview());
        process.stderr.write(`bench: local stack (4 documents) no-op preview: ${formatDuration(localPreviewMs)}\n`);
        await local.destroy();
    }
    const record = (m: Measurement) => {
        results.push(m);
        process.stderr.write(
            `bench: ${m.mode} N=${m.n} ${m.phase}: ${formatDuration(m.ms)}, SSM ${m.reads} reads ${m.writes} writes${m.failed ? `, ${m.failed} FAILED` : ""}\n`,
        );
    };
    try {
        for (const n of auditOnly ? [] : sizes.fanOut) {
            // (a) One stack whose program fans out over N targets.
            const fanTargets = targetsFor(n, 2);
            const byAccount = new Map<string, string[]>();
            for (const t of fanTargets) byAccount.set(t.accountId, [...(byAccount.get(t.accountId) ?? []), t.region]);
            const stackName = `bench-fan-${n}`;
            const stack = await createLocalStack({
                stackName,
                workDir: projectDir,
                backendDir,
                env,
                config: {
                    ...Object.fromEntries(Object.entries(preferences).map(([k, v]) => [`sessionManager:${k}`, v])),
                    "aws:region": "us-east-1",
                    "sessionManager:targets": [...byAccount].map(([accountId, rs]) => ({ accountId, regions: rs, roleName })),
                },
            });
            const fanOps: [Phase, () => Promise<unknown>][] = [
                ["first up", () => stack.up({ refresh: true })],
                ["no-op up", () => stack.up({ refresh: true })],
                ["drift", () => stack.previewRefresh()],
            ];
            const fanRuns = new Map<Phase, Measured[]>(fanOps.map(([phase]) => [phase, []]));
            let bytes = 0;
            for (let round = 0; round < roundsFor(n); round++) {
                for (const [phase, op] of fanOps) {
                    const m = await measure(proxy, moto.pid, async () => {
                        await op();
                        return 0;
                    });
                    fanRuns.get(phase)?.push(m);
                    if (phase === "first up") bytes = stateBytes(backendDir, stackName);
                }
                await stack.destroy();
            }
            for (const [phase, runs] of fanRuns) record({ mode: "fan-out", n, stacks: 1, phase, ...medianRound(runs), stateBytesPerDoc: bytes / n });
        }

        // (b) The loop: one stack per target (account and Region), or per account, as `npm run org` runs them.
        const loops: [Mode, number[], (n: number) => OrgTarget[]][] = [
            ["loop", sizes.loop, (n) => targetsFor(n, 3)],
            ["loop per account", sizes.loopPerAccount, (n) => accountTargetsFor(n, 4)],
        ];
        for (const [mode, loopSizes, targetsOf] of auditOnly ? [] : loops) {
            for (const n of loopSizes) {
                const loopTargets = targetsOf(n);
                const loopOps: [Phase, Command][] = [
                    ["first up", "up"],
                    ["no-op up", "up"],
                    ["drift", "drift"],
                ];
                const loopRuns = new Map<Phase, Measured[]>(loopOps.map(([phase]) => [phase, []]));
                const rollout = (command: Command) =>
                    runRollout({
                        command,
                        targets: loopTargets,
                        stackConfig: (t) => ({
                            "aws:region": t.region,
                            ...Object.fromEntries(Object.entries(preferences).map(([k, v]) => [`sessionManager:${k}`, String(v)])),
                            "sessionManager:targets": JSON.stringify([{ accountId: t.accountId, regions: t.regions ?? [t.region], roleName }]),
                        }),
                        projectDir,
                        // As `npm run org -- up` runs it: this repository's program, inline.
                        program: inlineProgramFor(projectDir),
                        parallel,
                        logDir: path.join(workDir, "logs"),
                        envVars: env,
                        pulumiCommand,
                    });
                for (let round = 0; round < roundsFor(n); round++) {
                    for (const [phase, command] of loopOps) {
                        const m = await measure(proxy, moto.pid, async () => (await rollout(command)).results.filter((r) => r.outcome === "failed").length);
                        loopRuns.get(phase)?.push(m);
                    }
                    await rollout("destroy");
                }
                for (const [phase, runs] of loopRuns) record({ mode, n, stacks: loopTargets.length, phase, ...medianRound(runs) });
            }
        }

        // (c) The audit: read-only, no engine, one finding per target.
        for (const n of sizes.audit) record({ mode: "audit", n, stacks: 0, phase: "audit", ...medianRound(await auditRuns(n, proxy, moto)) });
    } finally {
        await proxy.close();
        await moto.stop();
        fs.rmSync(workDir, { recursive: true, force: true });
    }

    // A stack per account with one target is a stack per account and Region: its base is the loop's.
    const base = (m: Measurement) => results.find((r) => r.mode === (m.mode === "loop per account" ? "loop" : m.mode) && r.phase === m.phase && r.n === 1);
    const ratio = (ms: number, to: number) => (Number.isNaN(to) ? "" : `${(ms / to).toFixed(2)}x`);
    const cpuPerTarget = (m: Measurement) => (m.cpuMs === undefined ? "" : `${(m.cpuMs / 1000 / m.n).toFixed(2)}s`);
    const rows = [
        ...(auditOnly
            ? []
            : [
                  ["floor: empty program", "-", "-", "preview", formatDuration(floorMs), "", "1.00x", "", "", "", "", ""],
                  ["local stack", "4", "1", "no-op preview", formatDuration(localPreviewMs), "", ratio(localPreviewMs, floorMs), "", "", "", "", ""],
              ]),
        ...results.map((m) => [
            m.mode,
            String(m.n),
            m.mode === "audit" ? "-" : String(m.stacks),
            m.phase,
            formatDuration(m.ms),
            base(m) ? ratio(m.ms, (base(m) as Measurement).ms) : "",
            ratio(m.ms, floorMs),
            cpuPerTarget(m),
            (m.reads / m.n).toFixed(1),
            (m.writes / m.n).toFixed(1),
            m.stateBytesPerDoc === undefined || m.phase !== "first up" ? "" : `${(m.stateBytesPerDoc / 1024).toFixed(1)} KB`,
            [
                m.mode === "audit" ? `${(m.calls / m.n).toFixed(1)} AWS calls/target, ${formatDuration(m.ms / m.n)} wall/target` : "",
                m.failed ? `${m.failed} ${m.mode === "audit" ? "not compliant" : "failed"}` : "",
            ]
                .filter(Boolean)
                .join("; "),
        ]),
    ];
    const projection = projectionRows(results);
    // With --markdown, stdout holds the Markdown tables only; everything for people goes to stderr.
    const markdown = process.argv.includes("--markdown");
    const human = markdown ? process.stderr : process.stdout;
    const auditNote = `Audit rows: npm run org -- audit's reads of N documents as wanted, ${parallel} targets at a time, no engine; its last column counts every AWS call (STS, SSM).\n\n`;
    human.write(
        auditOnly
            ? `\n${auditNote}`
            : `\nFloor: pulumi preview of an empty TypeScript program importing @pulumi/pulumi and @pulumi/aws, same CLI, same run (median of ${previewRuns}, as is the local stack's preview).\n` +
                  `Fan-out and loop rows: the median of ${roundsFor(1)} rounds (1 from 64 targets on) of first up, no-op up and drift, each round ended by a destroy.\n` +
                  `N/1 = wall time / wall time with 1 target; the loops run ${parallel} stacks at a time. CPU per target: every process the run used\n` +
                  `(this one, each CLI and the plugins it ran, moto), divided by N. SSM calls per target through the proxy. STATE/DOC: the fan-out's state file after its first up, per document.\n` +
                  auditNote,
    );
    const head = ["MODE", "N", "STACKS", "PHASE", "WALL", "N/1", "x FLOOR", "CPU/TARGET", "SSM READS/TARGET", "SSM WRITES/TARGET", "STATE/DOC", ""];
    human.write(`${textTable(head, rows)}\n`);
    if (!auditOnly) {
        human.write(
            `\nProjection: ${projected.accounts.toLocaleString("en")} accounts x ${projected.regions} Regions on ${projected.runners} runners of ${projected.coresPerRunner} cores, CPU only\n` +
                "(per stack: the loop's CPU per stack at 64 targets; each further document of a stack: the fan-out's CPU from 64 to 256 targets, per document):\n\n",
        );
        human.write(`${textTable(projectionHead, projection)}\n`);
    }
    // For docs/performance.md, whose tables come from a run of this: then stdout holds them and nothing else.
    if (markdown) {
        const audits = results.filter((m) => m.mode === "audit");
        const auditTable = markdownTable(
            ["N", "WALL", "WALL/TARGET", "CPU/TARGET", "SSM READS/TARGET", "AWS CALLS/TARGET", "SSM WRITES/TARGET"],
            audits.map((m) => [
                String(m.n),
                formatDuration(m.ms),
                formatDuration(m.ms / m.n),
                cpuPerTarget(m),
                (m.reads / m.n).toFixed(1),
                (m.calls / m.n).toFixed(1),
                (m.writes / m.n).toFixed(1),
            ]),
        );
        const engineRows = rows.filter((r) => r[0] !== "audit");
        process.stdout.write(
            auditOnly
                ? `${auditTable}\n`
                : `${markdownTable(
                      head.slice(0, -1),
                      engineRows.map((r) => r.slice(0, -1)),
                  )}\n\n${markdownTable(projectionHead, projection)}\n\n${auditTable}\n`,
        );
    }
    // What the machine allows the loop: its CPU time spread over every core it may use.
    const cores = Math.min(os.availableParallelism(), parallel);
    const bounds = results.flatMap((m) => {
        const one = base(m);
        if (m.mode !== "loop" || m.n === 1 || !one || m.cpuMs === undefined) return [];
        const leastMs = m.cpuMs / cores;
        return [
            `${m.phase}, ${m.n} targets: ${(m.cpuMs / 1000).toFixed(1)} CPU-s / ${cores} cores = ${formatDuration(leastMs)} at the least, ` +
                `${ratio(leastMs, one.ms)} one target's ${formatDuration(one.ms)}; measured ${formatDuration(m.ms)}, ${ratio(m.ms, one.ms)}`,
        ];
    });
    if (bounds.length > 0) human.write(`\nThe loop's least wall time, its CPU time on every core it may use:\n${bounds.map((b) => `  ${b}`).join("\n")}\n`);
    // A no-op up and the read-only audit must not write at all.
    const noOpWrites = results.filter((m) => (m.phase === "no-op up" || m.phase === "audit") && m.writes > 0);
    const failures = results.filter((m) => m.failed > 0);
    if (noOpWrites.length > 0 || failures.length > 0) {
        human.write(
            `\nFAIL: ${noOpWrites
                .map((m) => `${m.mode} N=${m.n} ${m.phase} made ${m.writes} SSM writes`)
                .concat(failures.map((m) => `${m.mode} N=${m.n} ${m.phase}: ${m.failed} targets failed`))
                .join("; ")}\n`,
        );
        process.exitCode = 1;
    } else {
        human.write("\nOK: every no-op up and every audit made zero SSM write calls.\n");
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
});
