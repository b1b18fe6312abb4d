import { mapBounded } from "../core/concurrency";
import { partitionOf, roleArn } from "../core/partition";
import { Access, roleNameFor, TargetRegion } from "../core/settings";
import { callerIdentity, roleCredentials } from "./identity";

/** An account the rollout cannot act in, with what to do about it. */
export interface AccessProblem {
    accountId: string;
    roleName?: string;
    message: string;
}

const noCredentialsHint =
    "no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where credentials are provided " +
    "(in GitHub Actions, aws-actions/configure-aws-credentials)";

function explain(err: unknown, target: { accountId: string }, arn: string | undefined): string {
    const error = err as { name?: string; message?: string };
    if (error.name === "CredentialsProviderError" && !arn) return noCredentialsHint;
    const text = error.message ?? String(err);
    if (arn && /not authorized to perform: sts:AssumeRole|AccessDenied/i.test(text)) {
        return `cannot assume ${arn}: ${text}. The role must exist in account ${target.accountId} and trust the credentials this runs with`;
    }
    if (error.name === "CredentialsProviderError" || /Could not load credentials/i.test(text)) return noCredentialsHint;
    return arn ? `cannot assume ${arn}: ${text}` : text;
}

/**
 * One STS call per account and role: assume the roles the run will assume (`read`: the
 * read-only role where there is one, else the write role; `write`: the write role; `up`
 * needs both, reading through one and writing through the other) and check the account each
 * lands in.
 * `npm run org` makes it before any engine work, and the program at preview, so missing
 * credentials, a role that cannot be assumed or credentials for another account fail at once,
 * saying what to set, rather than halfway through a run.
 */
export async function checkAccess(targets: readonly TargetRegion[], parallel: number, access: readonly Access[]): Promise<AccessProblem[]> {
    const firstPerAccount = new Map<string, { accountId: string; region: string; roleName?: string }>();
    for (const target of targets) {
        for (const roleName of new Set(access.map((kind) => roleNameFor(target, kind)))) {
            const key = `${target.accountId}/${roleName ?? ""}`;
            if (!firstPerAccount.has(key)) firstPerAccount.set(key, { accountId: target.accountId, region: target.region, roleName });
        }
    }
    const check = async (target: { accountId: string; region: string; roleName?: string }): Promise<AccessProblem | undefined> => {
        const clientConfig = { maxAttempts: 3 };
        const arn = target.roleName ? roleArn(partitionOf(target.region), target.accountId, target.roleName) : undefined;
        try {
            const identity = await callerIdentity(target.region, arn ? roleCredentials(arn, target.region, clientConfig) : undefined, clientConfig);
            if (identity.account === target.accountId) return undefined;
            const via = arn ? `role ${arn}` : "the credentials this runs with";
            return {
                accountId: target.accountId,
                roleName: target.roleName,
                message: `${via} act in account ${identity.account} (${identity.arn}), not ${target.accountId}`,
            };
        } catch (err) {
            return { accountId: target.accountId, roleName: target.roleName, message: explain(err, target, arn) };
        }
    };
    const found = await mapBounded([...firstPerAccount.values()], parallel, check);
    const problems = found.filter((p): p is AccessProblem => p !== undefined);
    return problems.sort((a, b) => a.accountId.localeCompare(b.accountId) || (a.roleName ?? "").localeCompare(b.roleName ?? ""));
}

/** The problems as lines for a person: `account 111111111111 (role OrgAdmin): ...`. */
export function describeAccessProblems(problems: readonly AccessProblem[]): string[] {
    return problems.map((p) => `account ${p.accountId}${p.roleName ? ` (role ${p.roleName})` : ""}: ${p.message}`);
}
