import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { partitionOf, roleArn } from "../core/partition";
import { roleSessionName } from "../providers/sessionDocument";
import { mapBounded } from "./run";
import { OrgTarget } from "./targets";

/** An account the rollout cannot act in, with what to do about it. */
export interface AccessProblem {
    accountId: string;
    roleName?: string;
    message: string;
}

const noCredentialsHint =
    "no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where credentials are provided " +
    "(in GitHub Actions, aws-actions/configure-aws-credentials)";

function explain(err: unknown, target: OrgTarget, arn: string | undefined): string {
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
 * One STS call per account (and role) before any engine work: assume the role the stacks
 * will assume, and check the account it lands in. Missing credentials or a role that cannot
 * be assumed then fail the rollout at once, saying what to set, instead of every target
 * failing separately after the engine's retries.
 */
export async function checkAccess(targets: readonly OrgTarget[], parallel: number): Promise<AccessProblem[]> {
    const firstPerAccount = new Map<string, OrgTarget>();
    for (const target of targets) {
        const key = `${target.accountId}/${target.roleName ?? ""}`;
        if (!firstPerAccount.has(key)) firstPerAccount.set(key, target);
    }
    const problems = await mapBounded([...firstPerAccount.values()], parallel, async (target): Promise<AccessProblem | undefined> => {
        const clientConfig = { region: target.region, maxAttempts: 3 };
        const arn = target.roleName ? roleArn(partitionOf(target.region), target.accountId, target.roleName) : undefined;
        const credentials = arn ? fromTemporaryCredentials({ params: { RoleArn: arn, RoleSessionName: roleSessionName }, clientConfig }) : undefined;
        const sts = new STSClient({ ...clientConfig, credentials });
        try {
            const identity = await sts.send(new GetCallerIdentityCommand({}));
            if (identity.Account === target.accountId) return undefined;
            const via = arn ? `role ${arn}` : "the credentials this runs with";
            return { accountId: target.accountId, roleName: target.roleName, message: `${via} act in account ${identity.Account} (${identity.Arn}), not ${target.accountId}` };
        } catch (err) {
            return { accountId: target.accountId, roleName: target.roleName, message: explain(err, target, arn) };
        } finally {
            sts.destroy();
        }
    });
    return problems.filter((p): p is AccessProblem => p !== undefined);
}
