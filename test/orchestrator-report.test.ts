import { expect } from "chai";
import { Writable } from "node:stream";
import { formatDuration, markdownTable, textTable } from "../orchestrator/format";
import { Progress } from "../orchestrator/progress";
import { renderJson, renderMarkdown, renderText } from "../orchestrator/report";
import { exitCodeFor, RolloutReport, TargetResult } from "../orchestrator/result";
import { countChanges, engineErrorSummary, Mutex, releasesFromEvents } from "../orchestrator/run";
import { mapBounded } from "../core/concurrency";
import { parseReleaseMessage, ReleaseOutcome, releaseMessage } from "../core/release";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { fieldDifferences } from "../orchestrator/drift";
import * as fc from "fast-check";
import { adoptionKinds, adoptionMessage, adoptionPreview, parseAdoptionMessage } from "../core/adoptionPreview";
import { unknownValue } from "../core/fieldChanges";

function result(overrides: Partial<TargetResult> & Pick<TargetResult, "accountId" | "region" | "outcome">): TargetResult {
    return {
        stackName: `org.${overrides.accountId}.${overrides.region}`,
        changes: 0,
        changeSummary: { same: 2 },
        durationMs: 12_300,
        logFile: `logs/org.${overrides.accountId}.${overrides.region}.log`,
        ...overrides,
    };
}

const upReport: RolloutReport = {
    command: "up",
    startedAt: "2025-01-01T00:00:00.000Z",
    durationMs: 30_000,
    results: [
        result({ accountId: "111111111111", region: "eu-west-1", outcome: "succeeded", changes: 1, changeSummary: { same: 1, update: 1 } }),
        result({ accountId: "222222222222", region: "eu-west-1", outcome: "failed", error: "connect ECONNREFUSED 127.0.0.1:9" }),
    ],
};

const driftReport: RolloutReport = {
    command: "drift",
    startedAt: "2025-01-01T00:00:00.000Z",
    durationMs: 8_000,
    results: [
        result({ accountId: "111111111111", region: "eu-west-1", outcome: "in sync", drift: [] }),
        result({
            accountId: "222222222222",
            region: "eu-west-1",
            outcome: "drifted",
            changes: 1,
            drift: [{ target: "222222222222/eu-west-1", deleted: false, fields: [{ field: "inputs.idleSessionTimeout", wanted: "20", found: "45" }] }],
        }),
    ],
};

const destroyReport: RolloutReport = {
    command: "destroy",
    startedAt: "2025-01-01T00:00:00.000Z",
    durationMs: 9_000,
    results: [
        result({
            accountId: "111111111111",
            region: "eu-west-1",
            outcome: "succeeded",
            changes: 3,
            released: [{ document: "111111111111/eu-west-1/SSM-SessionManagerRunShell", kind: "restored" }],
        }),
        result({
            accountId: "222222222222",
            region: "eu-west-1",
            outcome: "succeeded",
            changes: 3,
            released: [{ document: "222222222222/eu-west-1/SSM-SessionManagerRunShell", kind: "left to its owner", owner: "platform/prod" }],
        }),
    ],
};

const previewReport: RolloutReport = {
    command: "preview",
    startedAt: "2025-01-01T00:00:00.000Z",
    durationMs: 9_000,
    results: [
        result({
            accountId: "111111111111",
            region: "ap-southeast-2",
            outcome: "succeeded",
            changes: 1,
            documentChanges: [
                {
                    target: "111111111111/ap-southeast-2",
                    op: "update",
                    fields: [
                        { field: "inputs.idleSessionTimeout", current: "45", wanted: "15" },
                        { field: "inputs.shellProfile.linux", current: "", wanted: "exec bash -l; ".repeat(8) },
                    ],
                    repairsDrift: true,
                },
            ],
        }),
        result({
            accountId: "222222222222",
            region: "eu-west-1",
            outcome: "succeeded",
            changes: 1,
            documentChanges: [{ target: "222222222222/eu-west-1", op: "create", fields: [], repairsDrift: false }],
        }),
        result({ accountId: "333333333333", region: "eu-west-1", outcome: "succeeded", documentChanges: [] }),
    ],
};

describe("orchestrator report", () => {
    describe("summary table", () => {
        it("has one row per target with result, resources changed and duration", () => {
            const text = renderText(upReport);
            expect(text).to.match(/^up: 2 targets: 1 succeeded, 1 failed; 30\.0s/);
            expect(text).to.match(/TARGET\s+STACK\s+RESULT\s+CHANGED\s+DURATION/);
            expect(text).to.match(/111111111111\/eu-west-1\s+org\.111111111111\.eu-west-1\s+succeeded\s+1\s+12\.3s/);
            expect(text).to.match(/222222222222\/eu-west-1\s+org\.222222222222\.eu-west-1\s+failed\s+0\s+12\.3s/);
        });

        it("lists each failure with its error and its log file", () => {
            expect(renderText(upReport)).to.include("222222222222/eu-west-1: connect ECONNREFUSED 127.0.0.1:9\n    log: logs/org.222222222222.eu-west-1.log");
        });

        it("shows drifted fields with wanted and found values", () => {
            expect(renderText(driftReport)).to.match(/222222222222\/eu-west-1\s+inputs\.idleSessionTimeout\s+"20"\s+"45"/);
        });
    });

    describe("field-level changes (preview, up)", () => {
        it("lists each changed field, current vs wanted, with drift repairs marked, and says what a new document does", () => {
            const text = renderText(previewReport);
            expect(text).to.include("What up would change (current = live document, wanted = config):");
            expect(text).to.match(/111111111111\/ap-southeast-2 \*\s+inputs\.idleSessionTimeout\s+"45"\s+"15"\n/);
            expect(text).to.include("* drifted: edited outside the stack; up puts the config back.");
            expect(text).to.match(/222222222222\/eu-west-1\s+\(adopt, then apply\)/);
            expect(text).not.to.match(/333333333333\/eu-west-1\s+\S+\s+"/);
        });

        it("tables them for a pull-request comment, saying what a drift repair is", () => {
            const markdown = renderMarkdown(previewReport);
            expect(markdown).to.include("#### What `up` would change");
            expect(markdown).to.include("were edited outside the stack; `up` puts the config back there");
            expect(markdown).to.include('| 111111111111/ap-southeast-2 | `inputs.idleSessionTimeout` | `"45"` | `"15"` | *repairs drift* |');
            expect(markdown).to.include("| 222222222222/eu-west-1 | (adopt, then apply) |  |  |  |");
        });

        it("carries them whole in the JSON, long values included", () => {
            const json = JSON.parse(renderJson(previewReport)) as { targets: { documentChanges: unknown }[] };
            expect(json.targets.map((t) => t.documentChanges)).to.deep.equal(previewReport.results.map((r) => r.documentChanges));
        });

        it("fits in 80 columns, cutting long values", () => {
            const text = renderText(previewReport, { columns: 80 });
            for (const line of text.split("\n")) expect(line.length, line).to.be.at.most(79);
            expect(text, text).to.match(/inputs\.shellProfile\.linux\s+""\s+"exec b.*…/);
        });
    });

    describe("overrides (preview, up)", () => {
        const overridden: RolloutReport = {
            command: "preview",
            startedAt: "2025-01-01T00:00:00.000Z",
            durationMs: 5_000,
            results: [
                result({
                    accountId: "111111111111",
                    region: "eu-west-1",
                    regions: ["eu-west-1", "us-east-1"],
                    outcome: "succeeded",
                    overrides: {
                        "eu-west-1": { idleSessionTimeout: "sandbox" },
                        "us-east-1": { idleSessionTimeout: "sandbox", maxSessionDuration: "regulated" },
                    },
                }),
                result({ accountId: "222222222222", region: "eu-west-1", outcome: "succeeded" }),
            ],
        };

        it("says per account and Region which field comes from which override, and nothing for targets without one", () => {
            const text = renderText(overridden);
            expect(text).to.include("Overrides (sessionManager:overrides; every other field is the base setting):");
            expect(text).to.include("  111111111111/eu-west-1: idleSessionTimeout from sandbox\n");
            expect(text).to.include("  111111111111/us-east-1: idleSessionTimeout from sandbox, maxSessionDuration from regulated\n");
            expect(text).not.to.match(/222222222222\/eu-west-1:/);
            expect(renderText({ ...overridden, results: [overridden.results[1]] })).not.to.include("Overrides");
        });

        it("tables them in Markdown and carries them in the JSON", () => {
            expect(renderMarkdown(overridden))
                .to.include("#### Overrides")
                .and.include("| 111111111111/us-east-1 | idleSessionTimeout from sandbox, maxSessionDuration from regulated |");
            const json = JSON.parse(renderJson(overridden)) as { targets: { overrides?: unknown }[] };
            expect(json.targets[0].overrides).to.deep.equal(overridden.results[0].overrides);
            expect(json.targets[1]).to.not.have.property("overrides");
        });
    });

    describe("documents not managed yet (the first preview)", () => {
        const summary =
            "up adopts it and changes 2 field(s), current => wanted; its current content (version 1) is kept: destroy puts it back (onDelete: restore)";
        const firstPreview: RolloutReport = {
            command: "preview",
            startedAt: "2025-01-01T00:00:00.000Z",
            durationMs: 5_000,
            results: [
                result({
                    accountId: "111111111111",
                    region: "eu-west-1",
                    outcome: "succeeded",
                    changes: 1,
                    documentChanges: [
                        {
                            target: "111111111111/eu-west-1",
                            op: "create",
                            repairsDrift: false,
                            adoption: { kind: "adopt", summary },
                            fields: [
                                { field: "inputs.idleSessionTimeout", current: "45", wanted: "20" },
                                { field: "inputs.kmsKeyId", current: "", wanted: unknownValue },
                            ],
                        },
                    ],
                }),
                result({
                    accountId: "222222222222",
                    region: "eu-west-1",
                    outcome: "succeeded",
                    changes: 1,
                    documentChanges: [
                        {
                            target: "222222222222/eu-west-1",
                            op: "create",
                            repairsDrift: false,
                            adoption: { kind: "absent", summary: "there is no document: up creates it" },
                            fields: [],
                        },
                    ],
                }),
            ],
        };

        it("lists each live field the first up overwrites, marks the target as adopted, and says what destroy gives back", () => {
            const text = renderText(firstPreview);
            expect(text).to.match(/111111111111\/eu-west-1 \+\s+inputs\.idleSessionTimeout\s+"45"\s+"20"/);
            expect(text).to.match(/inputs\.kmsKeyId\s+""\s+\(known after up\)/);
            expect(text).to.match(/222222222222\/eu-west-1\s+\(create: no document yet\)/);
            expect(text).to.include("+ not managed yet: up adopts the document; its current content is kept for destroy");
            expect(text).to.include(`Not managed yet (what up does, and what destroy gives back):\n  111111111111/eu-west-1: ${summary}`);
        });

        it("tables them for the pull-request comment, with the same summary per document", () => {
            const md = renderMarkdown(firstPreview);
            expect(md).to.include('| 111111111111/eu-west-1 | `inputs.idleSessionTimeout` | `"45"` | `"20"` | *adopts* |');
            expect(md).to.include('| 111111111111/eu-west-1 | `inputs.kmsKeyId` | `""` | `(known after up)` | *adopts* |');
            expect(md).to.include("#### Not managed yet");
            expect(md).to.include(`| 111111111111/eu-west-1 | ${summary} |`);
            expect(md).to.include("Targets marked *adopts* hold a document this rollout does not manage yet");
        });

        it("carries the adoption whole in the JSON", () => {
            const json = JSON.parse(renderJson(firstPreview)) as { targets: { documentChanges: { adoption: unknown; fields: unknown[] }[] }[] };
            expect(json.targets[0].documentChanges[0].adoption).to.deep.equal({ kind: "adopt", summary });
            expect(json.targets[0].documentChanges[0].fields).to.have.length(2);
        });

        it("reads the provider's message back exactly, whatever the values hold", () => {
            const value = fc.oneof(
                fc.jsonValue(),
                fc.constantFrom(unknownValue, " => ", '" => "', "(absent)", "a\nb"),
                fc.string().map((s) => `${s} => ${s}`),
            );
            fc.assert(
                fc.property(
                    fc.array(fc.record({ field: fc.stringMatching(/^[a-z][a-zA-Z.]{0,20}$/), current: value, wanted: value }), { maxLength: 4 }),
                    fc.constantFrom(...adoptionKinds),
                    (fields, kind) => {
                        const preview = { document: "111111111111/eu-west-1/SSM-SessionManagerRunShell", kind, summary: "up adopts it => kept", fields };
                        expect(parseAdoptionMessage(adoptionMessage(preview))).to.deep.equal(JSON.parse(JSON.stringify(preview)));
                    },
                ),
            );
            expect(parseAdoptionMessage("SSM document x released: restored (the content found at adoption is the default version again)")).to.equal(undefined);
        });

        it("words the summary after what was found and onDelete", () => {
            const base = { document: "d", onDelete: "restore" as const, differences: [] };
            expect(adoptionPreview(base).summary).to.equal("there is no document: up creates it, and destroy deletes it again (onDelete: restore)");
            expect(adoptionPreview({ ...base, foundVersion: "3" }).summary).to.equal(
                "up adopts it and changes nothing: its content is already the wanted one; its current content (version 3) is kept: destroy puts it back (onDelete: restore)",
            );
            expect(adoptionPreview({ ...base, foundVersion: "3", taggedVersion: "1", onDelete: "reset" }).summary).to.include(
                "version 1, which its adopted-version tag names as the content before this program",
            );
            expect(adoptionPreview({ ...base, foundVersion: "3", onDelete: "retain" }).summary).to.include(
                "destroy leaves the applied content (onDelete: retain)",
            );
            expect(adoptionPreview({ ...base, foundVersion: "3", blocker: 'managed by "org/x"' })).to.include({ kind: "blocked" });
        });
    });

    describe("a run that never started", () => {
        const problem: RolloutReport = {
            command: "preview",
            startedAt: "2025-01-01T00:00:00.000Z",
            durationMs: 0,
            results: [],
            problem: {
                kind: "config",
                summary: "the organization config Pulumi.prod.yaml is not valid",
                details: ['sessionManager:idleSessionTimeout: "90" is not valid: a whole number from 1 to 60 (minutes)', "a `quoted` value"],
                fix: "correct each key above in Pulumi.prod.yaml",
            },
        };

        it("says in Markdown what failed, each problem and the fix: never an empty comment", () => {
            expect(renderMarkdown(problem)).to.equal(
                [
                    "### Session Manager preferences: preview",
                    "",
                    "**Nothing was run: the organization config Pulumi.prod.yaml is not valid**",
                    "",
                    '- `sessionManager:idleSessionTimeout: "90" is not valid: a whole number from 1 to 60 (minutes)`',
                    "- `` a `quoted` value ``",
                    "",
                    "**To fix:** correct each key above in Pulumi.prod.yaml",
                    "",
                ].join("\n"),
            );
        });

        it("says the same in the text and the JSON, with exit code 1 (64 for a bad command line)", () => {
            expect(renderText(problem)).to.include(
                "preview: Nothing was run: the organization config Pulumi.prod.yaml is not valid\n  - sessionManager:idleSessionTimeout",
            );
            const json = JSON.parse(renderJson(problem)) as { exitCode: number; problem: { kind: string }; targets: unknown[] };
            expect(json).to.deep.include({ exitCode: 1, targets: [] });
            expect(json.problem.kind).to.equal("config");
            expect(exitCodeFor({ ...problem, problem: { ...problem.problem!, kind: "usage" } })).to.equal(64);
        });

        it("notes what a target's run did differently from what was asked", () => {
            const noted: RolloutReport = {
                ...upReport,
                command: "preview",
                results: [
                    result({
                        accountId: "111111111111",
                        region: "eu-west-1",
                        outcome: "succeeded",
                        warnings: ["not refreshed: the state records the write role"],
                    }),
                ],
            };
            expect(renderText(noted)).to.include("Notes:\n  111111111111/eu-west-1: not refreshed: the state records the write role");
            expect(renderMarkdown(noted)).to.include("| 111111111111/eu-west-1 | not refreshed: the state records the write role |");
            expect(JSON.parse(renderJson(noted)).targets[0].warnings).to.deep.equal(["not refreshed: the state records the write role"]);
        });
    });

    describe("released documents (destroy, prune)", () => {
        const kinds: ReleaseOutcome[] = [
            { kind: "restored" },
            { kind: "deleted" },
            { kind: "reset" },
            { kind: "retained" },
            { kind: "absent" },
            { kind: "left to its owner", owner: "session-manager-preferences/org.1.eu-west-1" },
        ];

        it("reads back every outcome from the line the provider logs, and nothing from other lines", () => {
            for (const outcome of kinds) {
                const release = { document: "111111111111/eu-west-1/SSM-SessionManagerRunShell", ...outcome };
                const line = releaseMessage(release, "restore");
                expect(parseReleaseMessage(`    info: ${line}\n`), line).to.deep.equal(release);
            }
            expect(parseReleaseMessage("SSM document 1/eu-west-1/x was updated")).to.equal(undefined);
        });

        it("collects one release per document from the engine's diagnostic events, ignoring every other event", () => {
            const line = (document: string, outcome: ReleaseOutcome) => releaseMessage({ document, ...outcome }, "reset");
            const events = [
                { sequence: 1, timestamp: 0, diagnosticEvent: { message: line("2/eu-west-1/d", { kind: "reset" }), color: "never", severity: "info" } },
                { sequence: 2, timestamp: 0, diagnosticEvent: { message: "some other warning", color: "never", severity: "warning" } },
                { sequence: 3, timestamp: 0, resourcePreEvent: { metadata: { op: "delete", urn: "u", type: "t", provider: "" } } },
                {
                    sequence: 4,
                    timestamp: 0,
                    diagnosticEvent: { message: line("1/eu-west-1/d", { kind: "left to its owner", owner: "a/b" }), color: "never", severity: "warning" },
                },
            ] as unknown as EngineEvent[];
            expect(releasesFromEvents(events)).to.deep.equal([
                { document: "1/eu-west-1/d", kind: "left to its owner", owner: "a/b" },
                { document: "2/eu-west-1/d", kind: "reset" },
            ]);
        });

        it("lists each document with what became of it, in the text, the JSON and the Markdown", () => {
            expect(renderText(destroyReport)).to.match(/111111111111\/eu-west-1\/SSM-SessionManagerRunShell\s+restored\n/);
            expect(renderText(destroyReport)).to.match(/222222222222\/eu-west-1\/SSM-SessionManagerRunShell\s+left to its owner platform\/prod/);
            const json = JSON.parse(renderJson(destroyReport)) as { targets: { released: unknown }[] };
            expect(json.targets.map((t) => t.released)).to.deep.equal(destroyReport.results.map((r) => r.released));
            expect(renderMarkdown(destroyReport)).to.include("| `222222222222/eu-west-1/SSM-SessionManagerRunShell` | left to its owner platform/prod |");
        });

        it("fits in 80 columns", () => {
            const text = renderText(destroyReport, { columns: 80 });
            for (const line of text.split("\n")) expect(line.length, line).to.be.at.most(79);
        });
    });

    describe("JSON", () => {
        it("carries every target's result, counts, log file, error and the exit code", () => {
            const json = JSON.parse(renderJson(upReport));
            expect(json.exitCode).to.equal(1);
            expect(json.targets[0]).to.deep.include({
                target: "111111111111/eu-west-1",
                result: "succeeded",
                changes: 1,
                changeSummary: { same: 1, update: 1 },
            });
            expect(json.targets[1]).to.deep.include({
                result: "failed",
                error: "connect ECONNREFUSED 127.0.0.1:9",
                logFile: "logs/org.222222222222.eu-west-1.log",
            });
        });

        it("carries the drifted fields", () => {
            const json = JSON.parse(renderJson(driftReport));
            expect(json.exitCode).to.equal(2);
            expect(json.targets[1].drift[0].fields).to.deep.equal([{ field: "inputs.idleSessionTimeout", wanted: "20", found: "45" }]);
        });
    });

    describe("Markdown", () => {
        it("says drift was found and tables the fields for a pull-request comment", () => {
            const md = renderMarkdown(driftReport);
            expect(md).to.match(/^### Session Manager preferences: drift check/);
            expect(md).to.include("**Drift found.**");
            expect(md).to.include('| 222222222222/eu-west-1 | `inputs.idleSessionTimeout` | `"20"` | `"45"` |');
        });

        it("suggests commands that act on the same stacks: the run's --config and --stack-prefix repeated", () => {
            const selection = ["--config", "envs/prod org.yaml", "--stack-prefix", "prod"];
            const md = renderMarkdown({ ...driftReport, selection, staleStacks: ["prod.333333333333.us-east-1"] });
            expect(md).to.include("Run `npm run org -- up --config 'envs/prod org.yaml' --stack-prefix prod` to put the wanted preferences back");
            expect(md).to.include("`npm run org -- prune --config 'envs/prod org.yaml' --stack-prefix prod` releases each document");
            const text = renderText({ ...driftReport, selection, staleStacks: ["prod.333333333333.us-east-1"] });
            expect(text.replace(/\s+/g, " ")).to.include("(npm run org -- prune --config 'envs/prod org.yaml' --stack-prefix prod releases and removes them)");
            // Without flags the defaults are meant, and the command says nothing more.
            expect(renderMarkdown(driftReport)).to.include("Run `npm run org -- up` to put");
        });

        it("says all is in sync when nothing drifted", () => {
            const md = renderMarkdown({ ...driftReport, results: [driftReport.results[0]] });
            expect(md).to.include("All targets match their stacks.");
            expect(md).not.to.include("#### Drift");
        });

        it("escapes pipes so a value cannot break the table", () => {
            expect(markdownTable(["a"], [["x|y"]])).to.equal("| a |\n| --- |\n| x\\|y |");
        });
    });

    describe("exit codes", () => {
        it("is 0 when every target succeeded", () => {
            expect(exitCodeFor({ command: "up", results: [upReport.results[0]] })).to.equal(0);
        });
        it("is 1 when any target failed", () => {
            expect(exitCodeFor(upReport)).to.equal(1);
        });
        it("is 2 for drift found, 0 for all in sync", () => {
            expect(exitCodeFor(driftReport)).to.equal(2);
            expect(exitCodeFor({ command: "drift", results: [driftReport.results[0]] })).to.equal(0);
        });
        it("counts a target without a stack as drift, but not as a refresh failure", () => {
            const missing = result({ accountId: "333333333333", region: "eu-west-1", outcome: "not deployed" });
            expect(exitCodeFor({ command: "drift", results: [missing] })).to.equal(2);
            expect(exitCodeFor({ command: "refresh", results: [missing] })).to.equal(0);
        });
        it("is 1 when the drift check failed somewhere, even with drift elsewhere", () => {
            expect(exitCodeFor({ command: "drift", results: [...driftReport.results, upReport.results[1]] })).to.equal(1);
        });
    });

    describe("drift fields", () => {
        it("names each differing leaf of the document by its path", () => {
            const wanted = { schemaVersion: "1.0", inputs: { idleSessionTimeout: "20", shellProfile: { linux: "", windows: "" } } };
            const found = { schemaVersion: "1.0", inputs: { idleSessionTimeout: "45", shellProfile: { linux: "bash", windows: "" } } };
            expect(fieldDifferences(wanted, found)).to.deep.equal([
                { field: "inputs.idleSessionTimeout", wanted: "20", found: "45" },
                { field: "inputs.shellProfile.linux", wanted: "", found: "bash" },
            ]);
        });
        it("reports a field missing on one side", () => {
            expect(fieldDifferences({ inputs: { a: 1 } }, { inputs: {} })).to.deep.equal([{ field: "inputs.a", wanted: 1, found: undefined }]);
        });
        it("finds nothing in equal content whatever the key order", () => {
            expect(fieldDifferences({ a: 1, b: { c: true } }, { b: { c: true }, a: 1 })).to.deep.equal([]);
        });
    });

    describe("progress", () => {
        function sink(isTTY: boolean) {
            const chunks: string[] = [];
            const out = new Writable({
                write(c, _e, cb) {
                    chunks.push(String(c));
                    cb();
                },
            });
            return { chunks, stream: { write: (t: string) => out.write(t), isTTY, rows: 40 } };
        }

        it("prints one plain line per state change when not on a terminal", () => {
            let now = 0;
            const { chunks, stream } = sink(false);
            const p = new Progress(["org.111111111111.eu-west-1", "org.2.x"], stream, () => now);
            p.update("org.111111111111.eu-west-1", "running");
            now = 4200;
            p.update("org.111111111111.eu-west-1", "succeeded", "1 changed");
            p.finish();
            expect(chunks.join("")).to.equal(
                ["org.111111111111.eu-west-1  running          0ms", "org.111111111111.eu-west-1  succeeded       4.2s  1 changed", ""].join("\n"),
            );
            expect(chunks.join("")).not.to.include("\x1b[");
        });

        it("redraws the block in place on a terminal", () => {
            const { chunks, stream } = sink(true);
            const p = new Progress(["a", "b"], stream, () => 0);
            p.update("a", "running");
            p.finish();
            expect(chunks[0]).to.equal("\x1b[2Ka  queued\n\x1b[2Kb  queued\n");
            // Later frames start by moving the cursor back up over the two lines.
            expect(chunks[1].startsWith("\x1b[2F")).to.equal(true);
            expect(chunks[1]).to.include("a  running");
        });
    });

    describe("terminal width", () => {
        const longError =
            "assuming role arn:aws:iam::222222222222:role/OrganizationAccountAccessRole: AccessDenied: User arn:aws:sts::111111111111:assumed-role/x is not authorized to perform sts:AssumeRole";

        it("cuts every redrawn progress line to one column short of the terminal, ending in …", () => {
            const chunks: string[] = [];
            const stream = { write: (t: string) => chunks.push(t) > 0, isTTY: true, rows: 40, columns: 80 };
            const p = new Progress(["org.222222222222.ap-southeast-2", "org.1.x"], stream, () => 0);
            p.update("org.222222222222.ap-southeast-2", "failed", longError);
            p.finish();
            // eslint-disable-next-line no-control-regex -- strips the terminal's cursor movements
            const last = chunks[chunks.length - 1].replace(/\x1b\[\d*[A-Za-z]/g, "");
            const lines = last.split("\n").filter(Boolean);
            expect(lines).to.have.length(2);
            for (const l of lines) expect(l.length, l).to.be.at.most(79);
            expect(lines[0]).to.match(/^org\.222222222222\.ap-southeast-2\s+failed\s+0ms\s+assuming role.*…$/);
        });

        it("keeps whole lines when not on a terminal", () => {
            const chunks: string[] = [];
            const p = new Progress(["org.2.x"], { write: (t: string) => chunks.push(t) > 0, isTTY: false, columns: 60 }, () => 0);
            p.update("org.2.x", "failed", longError);
            expect(chunks.join("")).to.include(longError);
        });

        const wide: RolloutReport = {
            command: "drift",
            startedAt: "2025-01-01T00:00:00.000Z",
            durationMs: 8_000,
            results: [
                result({ accountId: "111111111111", region: "ap-southeast-2", outcome: "failed", error: longError }),
                result({
                    accountId: "222222222222",
                    region: "ap-southeast-2",
                    outcome: "drifted",
                    changes: 1,
                    drift: [
                        {
                            target: "222222222222/ap-southeast-2",
                            deleted: false,
                            fields: [{ field: "inputs.shellProfile.linux", wanted: "", found: "x".repeat(300) }],
                        },
                    ],
                }),
            ],
        };

        it("fits the summary in 80 columns: the STACK column gives way to one line saying how stacks are named, values are cut, failures wrapped", () => {
            const text = renderText(wide, { columns: 80 });
            for (const l of text.split("\n")) expect(l.length, l).to.be.at.most(79);
            expect(text).to.include("stacks: org.<account>.<region>");
            expect(text).to.match(/TARGET\s+RESULT\s+DRIFTED DOCS\s+DURATION/);
            expect(text).to.match(/222222222222\/ap-southeast-2\s+inputs\.shellProfile\.linux\s+""\s+"x+…/);
            expect(text.replace(/\n\s+/g, " ")).to.include(longError);
        });

        it("keeps the full table when it fits, and everything whole without a terminal", () => {
            expect(renderText(upReport, { columns: 120 })).to.equal(renderText(upReport));
            const whole = renderText(wide);
            expect(whole).to.match(/TARGET\s+STACK\s+RESULT/);
            expect(whole).to.include(`"${"x".repeat(300)}"`);
            expect(whole).to.include(`  111111111111/ap-southeast-2: ${longError}\n    log: logs/org.111111111111.ap-southeast-2.log`);
        });
    });

    describe("runner helpers", () => {
        it("runs at most `limit` tasks at once and keeps result order", async () => {
            let inFlight = 0;
            let most = 0;
            const out = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
                inFlight++;
                most = Math.max(most, inFlight);
                await new Promise((r) => setTimeout(r, n * 5));
                inFlight--;
                return n * 10;
            });
            expect(out).to.deep.equal([50, 10, 40, 20, 30]);
            expect(most).to.equal(2);
        });

        it("serializes stack preparation even when a task fails", async () => {
            const mutex = new Mutex();
            const order: string[] = [];
            const slow = mutex.run(async () => {
                order.push("a start");
                await new Promise((r) => setTimeout(r, 20));
                order.push("a end");
                throw new Error("boom");
            });
            const fast = mutex.run(async () => {
                order.push("b");
            });
            await Promise.allSettled([slow, fast]);
            expect(order).to.deep.equal(["a start", "a end", "b"]);
        });

        it("counts every engine op except same", () => {
            expect(countChanges({ same: 3, update: 1, create: 2 })).to.equal(3);
            expect(countChanges(undefined)).to.equal(0);
        });

        it("keeps the engine's error diagnostics, not the whole transcript", () => {
            const message =
                "code: 255\n stdout: Updating (org.1)\n    error: assuming role arn:aws:iam::1:role/x: AccessDenied\n\n stderr: error: update failed\n";
            expect(engineErrorSummary(new Error(message))).to.equal("assuming role arn:aws:iam::1:role/x: AccessDenied");
        });

        it("formats durations for the table", () => {
            expect([formatDuration(850), formatDuration(12_340), formatDuration(125_000)]).to.deep.equal(["850ms", "12.3s", "2m05s"]);
            expect(textTable(["A", "B"], [["xx", "y"]])).to.equal("A   B\n--  -\nxx  y");
        });
    });
});
