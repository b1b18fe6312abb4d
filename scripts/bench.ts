// `npm run bench`: the one-stack fan-out against the loop of per-target stacks, through the
// real engine and moto, with 1, 4 and 16 targets, and a no-op `pulumi preview` of the local
// stack, each against a floor measured in the same run: `pulumi preview` of an empty
// TypeScript program that imports @pulumi/pulumi and @pulumi/aws, on the same CLI. Not part
// of the tests: it prints figures. The engine runs with the user's environment (the
// harness's engineEnv adds only where AWS and the backend are).
//
// SSM calls are counted at a loopback proxy in front of moto (devtools/awsProxy), which sees
// every request the document provider makes, whichever process makes it.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { formatDuration, markdownTable, textTable } from "../orchestrator/format";
import { defaultParallelism } from "../orchestrator/cli";
import { Command } from "../orchestrator/result";
import { inlineProgramFor } from "../orchestrator/program";
import { runRollout } from "../orchestrator/run";
import { OrgTarget, stackNameFor } from "../orchestrator/targets";
import { AwsProxy, isWrite, startAwsProxy } from "../devtools/awsProxy";
import { createLocalStack, engineEnv, pulumiBin, repoRoot } from "../devtools/engine";
import { projectCopy } from "../devtools/project";
import { startMoto } from "../devtools/moto";

const sizes = [1, 4, 16];
const regions = ["us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"];
const roleName = "OrgAdmin";
const preferences = { sessionDataEncryption: false, createCWLogGroup: false, instancePolicy: false, idleSessionTimeout: 15 };
type Phase = "first up" | "no-op up" | "drift";

interface Measurement {
    mode: "fan-out" | "loop";
    n: number;
    phase: Phase;
    ms: number;
    /** CPU time of every process the run used (see cpuMs), or undefined where it cannot be read. */
    cpuMs?: number;
    reads: number;
    writes: number;
    failed: number;
}

/**
 * N targets as accounts x Regions, four Regions per account. Every mode and size gets
 * accounts of its own (`series`, then N, in the ID): two stacks may not manage one document.
 */
function targetsFor(n: number, series: number): OrgTarget[] {
    return Array.from({ length: n }, (_, i) => {
        const accountId = `${series}${String(n).padStart(2, "0")}${String(Math.floor(i / regions.length)).padStart(9, "0")}`;
        const region = regions[i % regions.length];
        return { accountId, region, roleName, stackName: stackNameFor(`bench-loop-${n}`, accountId, region) };
    });
}

/** Runs of each single-stack preview; the median is kept, since one run is noisy on a shared machine. */
const previewRuns = 5;

/**
 * Rounds of the fan-out's and the loop's phases (first up, no-op up, drift, then a destroy
 * that is not timed, so the next round's first up is a first up again). Each row keeps the
 * round with the median wall time; writes and failures are the worst of all rounds.
 */
const rounds = 5;

type Measured = Omit<Measurement, "mode" | "n" | "phase">;

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
    return { ms: Date.now() - t0, cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0, failed, ...ssmCounts(proxy) };
}

async function main(): Promise<void> {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-bench-"));
    // Stack files go to this copy of the project, never to the repository.
    const projectDir = projectCopy(path.join(workDir, "project"));
    const moto = await startMoto();
    const proxy = await startAwsProxy(moto.endpoint);
    const env = { ...(await engineEnv(moto, path.join(workDir, "backend"))), AWS_ENDPOINT_URL: proxy.endpoint };
    // The loop's program runs in this process, as `npm run org` runs it in the user's shell.
    Object.assign(process.env, env);
    const pulumiCommand = await PulumiCommand.get({ root: path.dirname(await pulumiBin()) });
    const parallel = defaultParallelism();
    const results: Measurement[] = [];
    const backendDir = path.join(workDir, "backend");

    // The floor, and the local stack's no-op preview, before anything else loads the machine.
    const floor = await createLocalStack({ stackName: "bench-floor", workDir: floorProject(path.join(workDir, "floor")), backendDir, env });
    await floor.preview();
    const floorMs = await medianPreviewMs(() => floor.preview());
    process.stderr.write(`bench: floor (empty program) preview: ${formatDuration(floorMs)}\n`);
    const localProject = projectCopy(path.join(workDir, "local-project"), ["Pulumi.local.yaml"]);
    const local = await createLocalStack({ stackName: "local", workDir: localProject, backendDir, env });
    await local.up();
    const localPreviewMs = await medianPreviewMs(() => local.preview());
    process.stderr.write(`bench: local stack (4 documents) no-op preview: ${formatDuration(localPreviewMs)}\n`);
    await local.destroy();
    const record = (m: Measurement) => {
        results.push(m);
        process.stderr.write(
            `bench: ${m.mode} N=${m.n} ${m.phase}: ${formatDuration(m.ms)}, SSM ${m.reads} reads ${m.writes} writes${m.failed ? `, ${m.failed} FAILED` : ""}\n`,
        );
    };
    try {
        for (const n of sizes) {
            // (a) One stack whose program fans out over N targets.
            const fanTargets = targetsFor(n, 2);
            const byAccount = new Map<string, string[]>();
            for (const t of fanTargets) byAccount.set(t.accountId, [...(byAccount.get(t.accountId) ?? []), t.region]);
            const stack = await createLocalStack({
                stackName: `bench-fan-${n}`,
                workDir: projectDir,
                backendDir: path.join(workDir, "backend"),
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
            for (let round = 0; round < rounds; round++) {
                for (const [phase, op] of fanOps) {
                    const m = await measure(proxy, moto.pid, async () => {
                        await op();
                        return 0;
                    });
                    fanRuns.get(phase)?.push(m);
                }
                await stack.destroy();
            }
            for (const [phase, runs] of fanRuns) record({ mode: "fan-out", n, phase, ...medianRound(runs) });

            // (b) The loop: one stack per target, as `npm run org` runs them.
            const loopTargets = targetsFor(n, 3);
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
                        "sessionManager:targets": JSON.stringify([{ accountId: t.accountId, regions: [t.region], roleName }]),
                    }),
                    projectDir,
                    // As `npm run org -- up` runs it: this repository's program, inline.
                    program: inlineProgramFor(projectDir),
                    parallel,
                    logDir: path.join(workDir, "logs"),
                    envVars: env,
                    pulumiCommand,
                });
            for (let round = 0; round < rounds; round++) {
                for (const [phase, command] of loopOps) {
                    const m = await measure(proxy, moto.pid, async () => (await rollout(command)).results.filter((r) => r.outcome === "failed").length);
                    loopRuns.get(phase)?.push(m);
                }
                await rollout("destroy");
            }
            for (const [phase, runs] of loopRuns) record({ mode: "loop", n, phase, ...medianRound(runs) });
        }
    } finally {
        await proxy.close();
        await moto.stop();
        fs.rmSync(workDir, { recursive: true, force: true });
    }

    const base = (m: Measurement) => results.find((r) => r.mode === m.mode && r.phase === m.phase && r.n === 1);
    const ratio = (ms: number, to: number) => `${(ms / to).toFixed(2)}x`;
    const cpuPerTarget = (m: Measurement) => (m.cpuMs === undefined ? "" : `${(m.cpuMs / 1000 / m.n).toFixed(2)}s`);
    const rows = [
        ["floor: empty program", "-", "preview", formatDuration(floorMs), "", "1.00x", "", "", "", ""],
        ["local stack", "4", "no-op preview", formatDuration(localPreviewMs), "", ratio(localPreviewMs, floorMs), "", "", "", ""],
        ...results.map((m) => [
            m.mode,
            String(m.n),
            m.phase,
            formatDuration(m.ms),
            base(m) ? ratio(m.ms, (base(m) as Measurement).ms) : "",
            ratio(m.ms, floorMs),
            cpuPerTarget(m),
            (m.reads / m.n).toFixed(1),
            (m.writes / m.n).toFixed(1),
            m.failed ? `${m.failed} failed` : "",
        ]),
    ];
    // With --markdown, stdout holds the Markdown table only; everything for people goes to stderr.
    const markdown = process.argv.includes("--markdown");
    const human = markdown ? process.stderr : process.stdout;
    human.write(
        `\nFloor: pulumi preview of an empty TypeScript program importing @pulumi/pulumi and @pulumi/aws, same CLI, same run (median of ${previewRuns}, as is the local stack's preview).\n` +
            `Fan-out and loop rows: the median of ${rounds} rounds of first up, no-op up and drift, each round ended by a destroy.\n` +
            `N/1 = wall time / wall time with 1 target; loop runs ${parallel} stacks at a time. CPU per target: every process the run used\n` +
            `(this one, each CLI and the plugins it ran, moto), divided by N. SSM calls per target through the proxy.\n\n`,
    );
    const head = ["MODE", "N", "PHASE", "WALL", "N/1", "x FLOOR", "CPU/TARGET", "SSM READS/TARGET", "SSM WRITES/TARGET", ""];
    human.write(`${textTable(head, rows)}\n`);
    // For docs/performance.md, whose table comes from a run of this: then stdout holds it and nothing else.
    if (markdown)
        process.stdout.write(
            `${markdownTable(
                head.slice(0, -1),
                rows.map((r) => r.slice(0, -1)),
            )}\n`,
        );
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
    const noOpWrites = results.filter((m) => m.phase === "no-op up" && m.writes > 0);
    const failures = results.filter((m) => m.failed > 0);
    if (noOpWrites.length > 0 || failures.length > 0) {
        human.write(
            `\nFAIL: ${noOpWrites
                .map((m) => `${m.mode} N=${m.n} no-op up made ${m.writes} SSM writes`)
                .concat(failures.map((m) => `${m.mode} N=${m.n} ${m.phase}: ${m.failed} targets failed`))
                .join("; ")}\n`,
        );
        process.exitCode = 1;
    } else {
        human.write("\nOK: every no-op up made zero SSM write calls.\n");
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
});
