/**
 * The Session document's dynamic provider: one SSM Session document in one account and
 * Region, adopted (what was there is recorded), kept equal to the desired content, and
 * handed back per `onDelete` (the state machine: docs/architecture.md).
 *
 * This code runs in the dynamic provider process (providers/engineProvider.ts: bundled,
 * or required from the installed package). So it never touches `pulumi` at run time,
 * requires the AWS SDK inside functions, and keeps nothing in its modules' scope: Pulumi
 * serializes what the provider's functions reach. The one thing a process keeps, its checked
 * sessions (see checkedSession), hangs off the global object, which Pulumi never serializes.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { SSMClient, SSMClientConfig } from "@aws-sdk/client-ssm";
import { adoptionMessage, adoptionPreview } from "../core/adoptionPreview";
import { documentResourceSettings, SessionDocumentContent } from "../core/document";
import { fieldDifferences, unknownValue } from "../core/fieldChanges";
import { releaseMessage } from "../core/release";
import { dynamicProviderKey } from "../core/names";
import * as f from "../core/fieldRules";
import { isPlainObject } from "../core/fieldRules";
import * as rules from "../core/rules";
import { defaultDocumentName, defaultPreferences, OnDelete } from "../core/settings";
import * as operations from "./documentOperations";
import type { DocumentFormat } from "./documentOperations";
import { callerIdentity, roleCredentials, TemporaryCredentials } from "./identity";
import { requireFromPackage } from "./packageRequire";

/** The inputs after `check`: validated, defaults applied. */
export interface SessionDocumentInputs {
    accountId: string;
    region: string;
    /** The role that writes: create, update, delete. */
    roleArn?: string;
    /** The role that reads: refresh, and the look at a document before it is adopted; default roleArn. */
    readOnlyRoleArn?: string;
    documentName: string;
    content: SessionDocumentContent;
    onDelete: OnDelete;
    keepDocumentVersions: number;
    owner: string;
    takeOver: boolean;
    /** The user's own tags on the document, beside the management tags. */
    tags?: Record<string, string>;
}

/** What the resource records in state. */
export interface SessionDocumentState extends Omit<SessionDocumentInputs, "content"> {
    /** The default version's content; after a refresh, the live one. Null when refresh finds no document. */
    content: SessionDocumentContent | null;
    /** The default version after the last operation; null when refresh finds no document. */
    documentVersion: string | null;
    /** The default version's content found at adoption, exactly; null when there was no document. */
    adoptedContent: string | null;
    adoptedFormat: DocumentFormat | null;
    adoptedVersion: string | null;
    /**
     * `contentDigest` of the content the last create or update applied; a refresh keeps it.
     * Absent in state written before it existed (and after an import): then the document
     * counts as possibly edited outside the stack.
     */
    appliedContentSha256?: string;
}

/** The document's defaults are the configuration's (core/settings.ts). */
export const defaultOnDelete: OnDelete = defaultPreferences.onDelete;
export const defaultKeepDocumentVersions: number = defaultPreferences.keepDocumentVersions;

export { unknownValue } from "../core/fieldChanges";

export { roleSessionName } from "../core/names";

type Failure = pulumi.dynamic.CheckFailure;

function containsUnknown(value: unknown): boolean {
    if (value === unknownValue) return true;
    if (Array.isArray(value)) return value.some(containsUnknown);
    return isPlainObject(value) && Object.values(value).some(containsUnknown);
}

/** A role ARN, or none ("" and null mean none too). */
const optionalRoleArn: f.Rule<string | undefined> = (value, key) => (value === undefined || value === null || value === "" ? undefined : f.roleArn(value, key));

const content: f.Rule<SessionDocumentContent> = (value, key) => {
    const problem = f.sessionDocumentContentProblem(value, (c) => (containsUnknown(c) ? 0 : Buffer.byteLength(operations.serializeContent(c), "utf8")));
    if (problem) throw new f.InvalidValue(key, value, problem);
    return value as SessionDocumentContent;
};

/** One rule per input, from core/fieldRules.ts: the same as the configuration's and the StackSet handler's. */
const inputRules: { [K in keyof SessionDocumentInputs]-?: f.Rule<SessionDocumentInputs[K]> } = {
    accountId: f.accountId,
    region: f.region,
    roleArn: optionalRoleArn,
    readOnlyRoleArn: optionalRoleArn,
    documentName: (value, key) => (value === "" ? defaultDocumentName : f.withDefault(f.documentName, defaultDocumentName)(value, key)),
    content,
    onDelete: f.withDefault(f.onDelete, defaultOnDelete),
    keepDocumentVersions: f.withDefault(f.keepDocumentVersions, defaultKeepDocumentVersions),
    owner: f.owner,
    takeOver: f.withDefault(f.takeOver, defaultPreferences.takeOver),
    tags: (value, key) => (value === undefined || value === null ? undefined : f.tags(value, key)),
};

/** An assumed role in another account would pass the account check only to act somewhere unexpected. */
function roleAccountFailures(inputs: SessionDocumentInputs): Failure[] {
    const failures: Failure[] = [];
    for (const property of ["roleArn", "readOnlyRoleArn"] as const) {
        const arn = inputs[property];
        if (!arn || containsUnknown(arn) || containsUnknown(inputs.accountId)) continue;
        const roleAccount = rules.accountOfArn(arn);
        if (roleAccount !== inputs.accountId)
            failures.push({ property, reason: `${property} ${arn} is in account ${roleAccount}, but accountId is ${inputs.accountId}` });
    }
    if (inputs.readOnlyRoleArn !== undefined && inputs.readOnlyRoleArn === inputs.roleArn && !containsUnknown(inputs.roleArn)) {
        failures.push({
            property: "readOnlyRoleArn",
            reason: `readOnlyRoleArn is the write role ${inputs.roleArn}: name a role that cannot write, or leave it unset`,
        });
    }
    return failures;
}

/** Validates and normalizes raw inputs; values not yet known (preview) pass through unchecked. */
export function checkSessionDocumentInputs(news: unknown): { inputs: SessionDocumentInputs; failures: Failure[] } {
    const raw = isPlainObject(news) ? news : {};
    const failures: Failure[] = [];
    const inputs = {} as Record<string, unknown>;
    for (const [property, rule] of Object.entries(inputRules) as [keyof SessionDocumentInputs, f.Rule<unknown>][]) {
        const value = raw[property];
        if (value === unknownValue) {
            inputs[property] = value;
            continue;
        }
        try {
            inputs[property] = rule(value, property);
        } catch (err) {
            if (!(err instanceof f.InvalidValue)) throw err;
            failures.push({ property, reason: err.message });
            inputs[property] = value;
        }
    }
    const checked = inputs as unknown as SessionDocumentInputs;
    failures.push(...roleAccountFailures(checked));
    return { inputs: withoutUndefined(checked), failures };
}

/** create and update are only called with checked inputs; checking again keeps them honest. */
function requireValid(news: unknown): SessionDocumentInputs {
    const { inputs, failures } = checkSessionDocumentInputs(news);
    if (failures.length > 0) throw new Error(failures.map((f) => f.reason).join("; "));
    return inputs;
}

/** The engine cannot carry `undefined` in resource properties. */
function withoutUndefined<T extends object>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Where a document is and how to reach it. */
export interface DocumentLocation {
    accountId: string;
    region: string;
    roleArn?: string;
}

/**
 * Where a document is, reached through the role for the kind of access: reads (refresh, the
 * look before adoption) through the read-only role when there is one, so a preview, a drift
 * check or a refresh never assumes the write role; writes through the write role. Both roles
 * are inputs recorded in the state, so neither shows as a change between runs.
 */
function reachedFor(props: Pick<SessionDocumentInputs, "accountId" | "region" | "roleArn" | "readOnlyRoleArn">, access: "read" | "write"): DocumentLocation {
    const roleArn = access === "read" ? (props.readOnlyRoleArn ?? props.roleArn) : props.roleArn;
    return { accountId: props.accountId, region: props.region, roleArn };
}

/**
 * An SSM client for the target, after checking with STS that the credentials are for the
 * target's account: wrong credentials must fail here, not write another account's
 * document. Endpoints are not set: the SDK honours AWS_ENDPOINT_URL, which tests use.
 * `npm run org -- audit` reads through it too (orchestrator/audit.ts), so its targets share one
 * checked session per role, with the same retries.
 */
export async function connect(target: DocumentLocation): Promise<SSMClient> {
    const { SSMClient: Client }: typeof import("@aws-sdk/client-ssm") = requireFromPackage("@aws-sdk/client-ssm");
    const { credentials, identity } = await checkedSession(target);
    if (identity.Account !== target.accountId) {
        const via = target.roleArn ? `role ${target.roleArn}` : "the ambient credentials";
        throw new Error(
            `Refusing to touch the Session document: ${via} act in account ${identity.Account} (${identity.Arn}), but the document belongs to account ${target.accountId}`,
        );
    }
    return new Client({ ...clientBase(target.region), credentials });
}

function clientBase(region: string) {
    // Adaptive retries absorb SSM's throttling when many accounts and Regions apply at once.
    return { region, retryMode: "adaptive", maxAttempts: 6 } satisfies SSMClientConfig;
}

/** Credentials (undefined: the ambient ones) and the identity STS gave for them. */
interface CheckedSession {
    credentials: SSMClientConfig["credentials"];
    identity: { Account?: string; Arn?: string };
}

function checkedSessions(): Map<string, Promise<CheckedSession>> {
    // The name is written here rather than kept in a constant: installed as a package, the
    // provider's functions are serialized with every value they capture, and a symbol is not
    // one Pulumi can carry (the package test runs that provider).
    const holder = globalThis as { sessionManagerPreferencesCheckedSessions?: Map<string, Promise<CheckedSession>> };
    return (holder.sessionManagerPreferencesCheckedSessions ??= new Map());
}

/**
 * The session a document is reached through, checked with STS once per provider process and
 * way of acting (a role ARN, or the ambient credentials): every document reached the same way
 * shares one AssumeRole and one GetCallerIdentity, and connect still compares the checked
 * account with each document's own. A role ARN names its account, and the role's
 * credentials, renewed before they expire (renewedOnce), stay in it. A check that fails is
 * not kept: a document
 * that waited on another's failed check makes its own, in its own Region. The engine starts
 * the provider process for one operation, so nothing outlives it.
 */
function checkedSession(target: DocumentLocation): Promise<CheckedSession> {
    const sessions = checkedSessions();
    const key = target.roleArn ?? "";
    const shared = sessions.get(key);
    const check = () => {
        const own = checkSession(target);
        sessions.set(key, own);
        own.catch(() => {
            if (sessions.get(key) === own) sessions.delete(key);
        });
        return own;
    };
    return shared ? shared.catch(check) : check();
}

async function checkSession(target: DocumentLocation): Promise<CheckedSession> {
    const base = clientBase(target.region);
    const credentials = target.roleArn ? renewedOnce(roleCredentials(target.roleArn, target.region, base)) : undefined;
    const { account, arn } = await callerIdentity(target.region, credentials, base);
    return { credentials, identity: { Account: account, Arn: arn } };
}

/**
 * The role's credentials, assumed once for every client of the session (each SDK client
 * would otherwise assume the role for itself) and again five minutes before they expire, or
 * after an attempt failed.
 */
function renewedOnce(assume: TemporaryCredentials): TemporaryCredentials {
    let pending: ReturnType<TemporaryCredentials> | undefined;
    return async (options) => {
        const current = pending && (await pending.catch(() => undefined));
        if (current && (!current.expiration || current.expiration.getTime() - Date.now() > 5 * 60_000)) return current;
        pending = assume(options);
        return pending;
    };
}

/**
 * Forgets this process's checked sessions. For tests only: moto, reset between two tests,
 * forgets the credentials it issued, which AWS never does within a process's life.
 */
export function forgetCheckedSessions(): void {
    checkedSessions().clear();
}

/**
 * A message in the engine's output (`pulumi destroy` shows it under Diagnostics, the
 * automation API as a diagnostic event). Dynamic providers get the engine's address as
 * their first argument but no logger of their own; if the engine cannot be reached the
 * message goes to stderr, which the engine also shows.
 */
async function engineLog(severity: "info" | "warning", message: string): Promise<void> {
    const engineAddress = process.argv[2] ?? "";
    try {
        if (!/^[\w.-]+:\d+$/.test(engineAddress)) throw new Error("not running under the engine");
        const grpc: typeof import("@grpc/grpc-js") = requireFromPackage("@grpc/grpc-js");
        const engineRpc = requireFromPackage<typeof import("@pulumi/pulumi/proto/engine_grpc_pb")>("@pulumi/pulumi/proto/engine_grpc_pb");
        const engineProto = requireFromPackage<typeof import("@pulumi/pulumi/proto/engine_pb")>("@pulumi/pulumi/proto/engine_pb");
        const engine = new engineRpc.EngineClient(engineAddress, grpc.credentials.createInsecure());
        const request = new engineProto.LogRequest();
        request.setSeverity(severity === "warning" ? engineProto.LogSeverity.WARNING : engineProto.LogSeverity.INFO);
        request.setMessage(message);
        const deadline = { deadline: Date.now() + 10_000 };
        await new Promise<void>((resolve, reject) =>
            engine.log(request, new grpc.Metadata(), deadline, (err: Error | null) => (err ? reject(err) : resolve())),
        );
        engine.close();
    } catch {
        console.error(`${severity}: ${message}`);
    }
}

/**
 * Reads the live document through the read-only role and tells the engine what adopting it
 * will do (core/adoptionPreview.ts): the fields the first up changes, current against wanted,
 * and what destroy gives back. Nothing is known yet when the document's location is not: then
 * it says nothing. A read that fails is a warning, not a failed check: up reports its own error.
 */
async function logAdoptionPreview(inputs: SessionDocumentInputs): Promise<void> {
    const location = reachedFor(inputs, "read");
    if ([location.accountId, location.region, location.roleArn, inputs.documentName, inputs.owner, inputs.takeOver].some(containsUnknown)) return;
    const document = resourceId(inputs);
    try {
        const client = await connect(location);
        const inspection = await operations.inspectForAdoption(client, {
            name: inputs.documentName,
            owner: inputs.owner,
            takeOver: inputs.takeOver,
            tags: inputs.tags,
        });
        const preview = adoptionPreview({
            document,
            onDelete: inputs.onDelete,
            foundVersion: inspection.found?.version,
            taggedVersion: inspection.taggedVersion,
            blocker: inspection.blocker,
            differences: inspection.found ? fieldDifferences(inputs.content, inspection.found.content) : [],
        });
        await engineLog(preview.kind === "blocked" ? "warning" : "info", adoptionMessage(preview));
    } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        const preview = {
            document,
            kind: "unread" as const,
            fields: [],
            summary: `could not read it to show what up will change (${reason}); up adopts what it finds then`,
        };
        await engineLog("warning", adoptionMessage(preview));
    }
}

function resourceId(inputs: { accountId: string; region: string; documentName: string }): string {
    return `${inputs.accountId}/${inputs.region}/${inputs.documentName}`;
}

function desiredOf(inputs: SessionDocumentInputs): operations.DesiredDocument {
    return {
        name: inputs.documentName,
        content: inputs.content,
        owner: inputs.owner,
        takeOver: inputs.takeOver,
        keepDocumentVersions: inputs.keepDocumentVersions,
        tags: inputs.tags,
    };
}

function stateOf(
    inputs: SessionDocumentInputs,
    adoption: operations.Adoption,
    documentVersion: string | null,
    content: SessionDocumentContent | null,
): SessionDocumentState {
    const appliedContentSha256 = operations.contentDigest(inputs.content);
    return withoutUndefined({ ...inputs, content, documentVersion, ...adoption, appliedContentSha256 });
}

/** What the state records as adopted. */
function adoptionInState(state: Partial<SessionDocumentState>): operations.Adoption {
    return { adoptedContent: state.adoptedContent ?? null, adoptedFormat: state.adoptedFormat ?? null, adoptedVersion: state.adoptedVersion ?? null };
}

/** State for an ID alone (an import): the document as it is now counts as what was adopted. */
function stateFromId(id: string): Partial<SessionDocumentState> {
    const [accountId, region, documentName] = id.split("/");
    return { accountId, region, documentName: documentName ?? defaultDocumentName };
}

const replacingProperties = ["accountId", "region", "documentName"] as const;

/**
 * Whether the engine's own comparison of the recorded inputs with the new ones shows this
 * change exactly. Then `diff` answers "unknown" and the engine computes the detailed diff
 * (the SDK's dynamic provider cannot pass one on), so `pulumi preview --diff` marks just the
 * changed fields. It does when the live content (the state's, refreshed or not) is the content
 * last applied, nothing forces a replacement, no value is unknown yet, and the provider's code
 * is the same (otherwise the provider's text would be in the diff). In any other
 * case, a document edited outside the stack above all, `diff` answers "changed" itself: the
 * recorded inputs would not show that edit, and the engine would do nothing.
 */
function inputsTellTheChange(olds: SessionDocumentState, news: SessionDocumentInputs, replaces: readonly string[], unknown: boolean): boolean {
    const liveIsApplied = olds.appliedContentSha256 !== undefined && olds.appliedContentSha256 === operations.contentDigest(olds.content);
    const sameProvider = (olds as unknown as Record<string, unknown>)[dynamicProviderKey] === (news as unknown as Record<string, unknown>)[dynamicProviderKey];
    return liveIsApplied && sameProvider && replaces.length === 0 && !unknown;
}

export const sessionDocumentProvider: pulumi.dynamic.ResourceProvider<SessionDocumentInputs, SessionDocumentState> = {
    async check(olds, news) {
        const { inputs, failures } = checkSessionDocumentInputs(news);
        // The engine checks a document it is about to create: say what adopting it will do.
        if (failures.length === 0 && (!olds || Object.keys(olds).length === 0)) await logAdoptionPreview(inputs);
        return { inputs, failures };
    },

    async diff(_id, olds, news) {
        const replaces = replacingProperties.filter((key) => news[key] === unknownValue || olds[key] !== news[key]);
        const unknown = containsUnknown(news.content);
        const contentChanged = unknown || !operations.sameContent(olds.content, news.content);
        const settingsChanged = documentResourceSettings.some((key) => olds[key] !== news[key]);
        const changes = replaces.length > 0 || contentChanged || settingsChanged;
        return { changes: changes && inputsTellTheChange(olds, news, replaces, unknown) ? undefined : changes, replaces, deleteBeforeReplace: false };
    },

    async create(news) {
        const inputs = requireValid(news);
        const client = await connect(reachedFor(inputs, "write"));
        const result = await operations.adoptDocument(client, desiredOf(inputs));
        const adoption = adoptionInState(result);
        return { id: resourceId(inputs), outs: stateOf(inputs, adoption, result.documentVersion, inputs.content) };
    },

    async read(id, props) {
        const known: Partial<SessionDocumentState> = props && typeof props.accountId === "string" ? props : stateFromId(id);
        const client = await connect(reachedFor(known as SessionDocumentInputs, "read"));
        const live = await operations.readDefault(client, known.documentName ?? defaultDocumentName);
        const imported = known.adoptedContent === undefined;
        const adoption: operations.Adoption = imported ? operations.adoptionOf(live) : adoptionInState(known);
        const state = {
            ...known,
            ...adoption,
            // A missing document keeps its state (and what was adopted): the next update recreates it.
            content: (live?.content as SessionDocumentContent | undefined) ?? null,
            documentVersion: live?.version ?? null,
        };
        return { id, props: withoutUndefined(state) as SessionDocumentState };
    },

    async update(_id, olds, news) {
        const inputs = requireValid(news);
        const client = await connect(reachedFor(inputs, "write"));
        const result = await operations.updateDocument(client, desiredOf(inputs), olds.owner ?? inputs.owner, adoptionInState(olds), olds.tags ?? {});
        return { outs: stateOf(inputs, adoptionInState(olds), result.documentVersion, inputs.content) };
    },

    async delete(id, props) {
        const client = await connect(reachedFor(props, "write"));
        const onDelete = props.onDelete ?? defaultOnDelete;
        const outcome = await operations.releaseDocument(client, {
            name: props.documentName,
            owner: props.owner,
            onDelete,
            tags: props.tags,
            ...adoptionInState(props),
        });
        // Every document says what became of it; one left to another owner is worth a warning.
        await engineLog(outcome.kind === "left to its owner" ? "warning" : "info", releaseMessage({ document: id, ...outcome }, onDelete));
    },
};
