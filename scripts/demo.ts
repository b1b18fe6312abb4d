/**
 * `npm run demo`: the whole lifecycle through the real Pulumi engine, against moto and a
 * local file backend, narrated step by step with the per-target document settings.
 *
 * The `local` stack (Pulumi.local.yaml) manages two accounts with two Regions each. moto is
 * seeded with what real accounts already have: a console-saved SSM-SessionManagerRunShell,
 * the log group, and a multi-Region session-data key in a security account.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CloudWatchLogsClient, CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateKeyCommand, KMSClient, ReplicateKeyCommand } from "@aws-sdk/client-kms";
import {
    CreateDocumentCommand,
    DescribeDocumentCommand,
    DocumentFormat,
    GetDocumentCommand,
    SSMClient,
    UpdateDocumentCommand,
    UpdateDocumentDefaultVersionCommand,
} from "@aws-sdk/client-ssm";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import * as yaml from "js-yaml";
import { parseSettings } from "../core/config";
import {
    archiveBucketName,
    archiveBucketPolicy,
    archiveKeyPolicy,
    guardrailContent,
    guardrailExceptions,
    guardrailPolicy,
    operatorPolicy,
    operatorPolicyInputs,
} from "../core/landingZone";
import { archiveKeyAlias, operatorPolicyName } from "../core/names";
import { partitionOf } from "../core/partition";
import { planTargets } from "../core/plan";
import { PolicyDocument, policyScope } from "../core/policies";
import { SessionDocumentContent } from "../core/document";
import { defaultDocumentName, targetRegions, TargetRegion } from "../core/settings";
import { driftFromRefreshEvents } from "../orchestrator/drift";
import { textTable } from "../orchestrator/format";
import { showValue } from "../orchestrator/report";
import { createLocalStack, engineEnv, pulumiBin, repoRoot } from "../devtools/engine";
import { Moto, motoEnv, startMoto } from "../devtools/moto";
import { consoleDocument } from "../devtools/documents";
import { projectCopy } from "../devtools/project";

const stackFile = "Pulumi.local.yaml";
const securityAccount = "999999999999";
const seedRole = "SessionManagerAdmin";

function say(text: string): void {
    process.stdout.write(`${text}\n`);
}

function heading(step: string): void {
    say(`\n=== ${step} ${"=".repeat(Math.max(0, 76 - step.length))}`);
}

/** SDK clients for one account and Region, through the same assumed role the program uses. */
function clientsFor(accountId: string, region: string) {
    const credentials = fromTemporaryCredentials({
        params: { RoleArn: `arn:aws:iam::${accountId}:role/${seedRole}`, RoleSessionName: "session-manager-preferences-demo" },
        clientConfig: { region },
    });
    return {
        ssm: new SSMClient({ region, credentials }),
        logs: new CloudWatchLogsClient({ region, credentials }),
        kms: new KMSClient({ region, credentials }),
    };
}

async function seed(targets: TargetRegion[]): Promise<string> {
    for (const t of targets) {
        const { ssm, logs } = clientsFor(t.accountId, t.region);
        await logs.send(new CreateLogGroupCommand({ logGroupName: "ssm-sessionmanager-logs" }));
        const content = consoleDocument(`${t.accountId}/${t.region}`);
        await ssm.send(
            new CreateDocumentCommand({ Name: defaultDocumentName, DocumentType: "Session", DocumentFormat: DocumentFormat.JSON, Content: content }),
        );
    }
    // A multi-Region key keeps its ID in every Region: one setting serves the whole organization.
    const primary = clientsFor(securityAccount, "us-east-1").kms;
    const key = await primary.send(new CreateKeyCommand({ MultiRegion: true, Description: "Session Manager session data (organization)" }));
    const keyId = key.KeyMetadata?.KeyId;
    if (!keyId) throw new Error("moto returned no key ID");
    const regions = [...new Set(targets.map((t) => t.region))].filter((r) => r !== "us-east-1");
    for (const region of regions) await primary.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: region }));
    say(`seeded each target with a console-saved ${defaultDocumentName} (S3 logging to console-logs-<account>, idle 45 min) and the log group`);
    say(`seeded the multi-Region key ${keyId} in the security account ${securityAccount} (us-east-1, replicated to ${regions.join(", ")})`);
    return `arn:aws:kms:{region}:${securityAccount}:key/${keyId}`;
}

interface LiveDocument {
    version: string;
    versions: number;
    content: SessionDocumentContent;
    text: string;
}

async function liveDocument(t: TargetRegion): Promise<LiveDocument | undefined> {
    const { ssm } = clientsFor(t.accountId, t.region);
    try {
        const described = await ssm.send(new DescribeDocumentCommand({ Name: defaultDocumentName }));
        const got = await ssm.send(new GetDocumentCommand({ Name: defaultDocumentName, DocumentFormat: DocumentFormat.JSON }));
        const text = got.Content ?? "";
        return {
            version: described.Document?.DefaultVersion ?? "?",
            versions: Number(described.Document?.LatestVersion ?? 0),
            content: JSON.parse(text) as SessionDocumentContent,
            text,
        };
    } catch (err) {
        if ((err as Error).name === "InvalidDocument") return undefined;
        throw err;
    }
}

function keyColumn(kmsKeyId: string): string {
    if (!kmsKeyId) return "-";
    const [, , , region, account, resource] = kmsKeyId.split(":");
    return region ? `${account}/${region}/${resource.replace(/^key\//, "").slice(0, 12)}…` : kmsKeyId;
}

async function printDocuments(targets: TargetRegion[]): Promise<Map<string, LiveDocument | undefined>> {
    const found = new Map<string, LiveDocument | undefined>();
    const rows: string[][] = [];
    for (const t of targets) {
        const doc = await liveDocument(t);
        found.set(`${t.accountId}/${t.region}`, doc);
        if (!doc) {
            rows.push([`${t.accountId}/${t.region}`, "(no document)", "", "", "", "", "", "", ""]);
            continue;
        }
        const i = doc.content.inputs;
        rows.push([
            `${t.accountId}/${t.region}`,
            `${doc.version} of ${doc.versions}`,
            `${i.idleSessionTimeout || "-"}/${i.maxSessionDuration || "-"}`,
            i.runAsEnabled ? `on: ${i.runAsDefaultUser}` : "off",
            i.cloudWatchLogGroupName ? `${i.cloudWatchLogGroupName}${i.cloudWatchStreamingEnabled ? " (stream)" : ""}` : "-",
            i.s3BucketName ? `${i.s3BucketName}/${i.s3KeyPrefix}` : "-",
            keyColumn(i.kmsKeyId),
        ]);
    }
    say(textTable(["target", "version", "idle/max min", "Run As", "CloudWatch Logs", "S3", "session-data key"], rows));
    return found;
}

function changes(summary: { resourceChanges?: Record<string, number> }): string {
    const entries = Object.entries(summary.resourceChanges ?? {}).filter(([op]) => op !== "same");
    const same = summary.resourceChanges?.same ?? 0;
    return entries.length === 0 ? `no changes (${same} unchanged)` : `${entries.map(([op, n]) => `${n} ${op}`).join(", ")}${same ? `, ${same} unchanged` : ""}`;
}

async function engineStep<T extends { summary: { resourceChanges?: Record<string, number> } }>(label: string, run: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const result = await run();
    say(`pulumi ${label}: ${changes(result.summary)} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return result;
}

function check(condition: boolean, message: string): void {
    if (!condition) throw new Error(`demo check failed: ${message}`);
    say(`  ✓ ${message}`);
}

async function run(moto: Moto, tmp: string): Promise<void> {
    const stackConfig = (yaml.load(fs.readFileSync(path.join(repoRoot, stackFile), "utf8")) as { config: Record<string, unknown> }).config;
    const raw = Object.fromEntries(
        Object.entries(stackConfig)
            .filter(([k]) => k.startsWith("sessionManager:"))
            .map(([k, v]) => [k.slice("sessionManager:".length), v]),
    );
    const targets = targetRegions(parseSettings(raw).targets);

    heading("Seeding moto with what the accounts already have");
    const keyArn = await seed(targets);
    await printDocuments(targets);

    const workDir = projectCopy(path.join(tmp, "project"), [stackFile]);
    const backendDir = path.join(tmp, "backend");
    const stack: Stack = await createLocalStack({
        stackName: "local",
        workDir,
        backendDir,
        env: await engineEnv(moto, backendDir),
        config: { sessionDataKeyArn: keyArn },
    });
    const onOutput = process.env.DEMO_VERBOSE ? (line: string) => process.stdout.write(`    ${line}`) : undefined;

    heading("0. The landing zone: the policies it would attach (docs/landing-zone.md)");
    showLandingZonePolicies(raw);

    heading("1. pulumi up: adopt the console-made documents and apply the settings");
    const first = await engineStep("up", () => stack.up({ onOutput }));
    const applied = await printDocuments(targets);
    check(first.summary.result === "succeeded", "up succeeded");
    check(
        [...applied.values()].every((d) => d?.content.inputs.idleSessionTimeout === "15" && d.content.inputs.runAsDefaultUser === "ssm-user"),
        "every target has the stack's settings",
    );

    heading("2. pulumi up again: nothing to change, nothing written");
    const second = await engineStep("up", () => stack.up({ onOutput }));
    const unchanged = await printDocuments(targets);
    check(
        Object.keys(second.summary.resourceChanges ?? {}).every((op) => op === "same"),
        "the engine reports no changes",
    );
    check(
        [...unchanged.entries()].every(([k, d]) => d?.versions === applied.get(k)?.versions),
        "no document version was created",
    );

    const edited = targets[targets.length - 1];
    heading(`3. Someone edits ${edited.accountId}/${edited.region} in the console`);
    const { ssm } = clientsFor(edited.accountId, edited.region);
    const before = await liveDocument(edited);
    if (!before) throw new Error("the edited target has no document");
    const consoleEdit = { ...before.content, inputs: { ...before.content.inputs, idleSessionTimeout: "60", runAsEnabled: false, runAsDefaultUser: "" } };
    const update = await ssm.send(
        new UpdateDocumentCommand({
            Name: defaultDocumentName,
            Content: JSON.stringify(consoleEdit),
            DocumentVersion: "$LATEST",
            DocumentFormat: DocumentFormat.JSON,
        }),
    );
    await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: defaultDocumentName, DocumentVersion: update.DocumentDescription?.DocumentVersion }));
    say("idleSessionTimeout 15 -> 60, Run As turned off");
    await printDocuments(targets);

    heading("4. pulumi refresh: the drift shows");
    const events: EngineEvent[] = [];
    const refresh = await engineStep("refresh", () => stack.refresh({ onOutput, onEvent: (e) => events.push(e) }));
    const drift = driftFromRefreshEvents(events);
    say(
        textTable(
            ["target", "field", "wanted", "found"],
            drift.flatMap((d) => d.fields.map((f) => [d.target, f.field, showValue(f.wanted), showValue(f.found)])),
        ),
    );
    check((refresh.summary.resourceChanges?.update ?? 0) === 1, "refresh found exactly one drifted document");
    check(
        drift.length === 1 && drift[0].target === `${edited.accountId}/${edited.region}`,
        `the drift is in ${edited.accountId}/${edited.region}: ${drift[0]?.fields.map((f) => f.field).join(", ")}`,
    );

    heading("5. pulumi up: the drift is repaired");
    await engineStep("up", () => stack.up({ onOutput }));
    const repaired = await printDocuments(targets);
    const fixed = repaired.get(`${edited.accountId}/${edited.region}`);
    check(
        fixed?.content.inputs.idleSessionTimeout === "15" && fixed.content.inputs.runAsEnabled === true,
        `${edited.accountId}/${edited.region} has the stack's settings again`,
    );

    heading("6. pulumi destroy: the console-made settings come back");
    await engineStep("destroy", () => stack.destroy({ onOutput }));
    const restored = await printDocuments(targets);
    check(
        [...restored.entries()].every(([target, d]) => d?.text === consoleDocument(target)),
        "every document holds exactly the console-made content again",
    );
    await stack.workspace.removeStack(stack.name);
}

/**
 * The local stack with a landing zone on: a log archive per Region, an operator policy and a
 * guardrail. Their resources need the @pulumi/aws plugin, which the demo does not install, so it
 * shows their policies (built exactly as a deployment builds them) instead of deploying them.
 */
function showLandingZonePolicies(raw: Record<string, unknown>): void {
    const settings = parseSettings({
        ...raw,
        logArchive: {
            accountId: securityAccount,
            organizationId: "o-demo000001",
            regions: ["eu-west-1", "us-east-1"],
            bucketName: "demo-session-logs-{region}",
        },
        operatorPolicy: { roleNames: ["PlatformOperators"], instanceTag: { key: "session-access", value: "platform" } },
        guardrail: { targetIds: ["r-demo"] },
    });
    const [plan] = planTargets(settings);
    const { accountId, region } = plan.target;
    const archiveBucket = archiveBucketName(settings.logArchive!.bucketName, region);
    const policies: [string, PolicyDocument][] = [
        [
            `bucket policy of ${archiveBucket}`,
            archiveBucketPolicy(policyScope(securityAccount, region), archiveBucket, settings.s3KeyPrefix, settings.logArchive!.organizationId),
        ],
        [
            `key policy of ${archiveKeyAlias} (${region})`,
            archiveKeyPolicy(policyScope(securityAccount, region), archiveBucket, settings.logArchive!.organizationId),
        ],
        [
            `${operatorPolicyName} in ${accountId}`,
            operatorPolicy(
                operatorPolicyInputs(settings, {
                    partition: partitionOf(region),
                    accountId,
                    regions: planTargets(settings)
                        .filter((p) => p.target.accountId === accountId)
                        .map((p) => p.target.region),
                }),
            ),
        ],
        ["guardrail (service control policy)", guardrailPolicy(partitionOf(region), defaultDocumentName, guardrailExceptions(settings))],
    ];
    const list = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(" ") : (v ?? ""));
    say(
        textTable(
            ["policy", "statement", "effect", "actions", "resources"],
            policies.flatMap(([name, doc]) => doc.Statement.map((st) => [name, st.Sid, st.Effect, list(st.Action), list(st.Resource)])),
        ),
    );
    const excepted = guardrailExceptions(settings);
    check(
        settings.targets.every((t) => t.roleName !== undefined && excepted.includes(t.roleName)),
        `the guardrail excepts every target's write role (${excepted.join(", ")})`,
    );
    check(
        guardrailContent(guardrailPolicy(partitionOf(region), defaultDocumentName, excepted)).problem === undefined,
        "the guardrail fits AWS's 5,120 characters",
    );
}

async function main(): Promise<void> {
    const started = Date.now();
    say("Session Manager preferences as code: the lifecycle against an emulated AWS (moto) and a local Pulumi backend.");
    await pulumiBin();
    const moto = await startMoto();
    Object.assign(process.env, motoEnv(moto));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-demo-"));
    say(`moto: ${moto.endpoint}    backend: file://${path.join(tmp, "backend")}`);
    try {
        await run(moto, tmp);
        say(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(0)}s.`);
    } finally {
        await moto.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

main().catch((err: unknown) => {
    process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
});
