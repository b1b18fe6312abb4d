/**
 * Who a set of credentials acts as: the one STS identity check, used by the document provider
 * (before it touches a document), by the program at preview and by `npm run org` before any
 * engine work (providers/targetAccess.ts), and to find the current account when no target is
 * configured. It runs in the dynamic provider process too, so the AWS SDK is required inside the
 * functions, from this package's own location (providers/packageRequire.ts).
 */
import type { STSClientConfig } from "@aws-sdk/client-sts";
import { roleSessionName } from "../core/names";
import { requireFromPackage } from "./packageRequire";

/** Credentials as the AWS SDK's clients take them. */
export type Credentials = STSClientConfig["credentials"];

export type TemporaryCredentials = ReturnType<typeof import("@aws-sdk/credential-providers").fromTemporaryCredentials>;

/** Temporary credentials of `roleArn`, assumed with the ambient credentials through STS in `region`. */
export function roleCredentials(roleArn: string, region: string, clientConfig: Record<string, unknown> = {}): TemporaryCredentials {
    const { fromTemporaryCredentials }: typeof import("@aws-sdk/credential-providers") = requireFromPackage("@aws-sdk/credential-providers");
    return fromTemporaryCredentials({ params: { RoleArn: roleArn, RoleSessionName: roleSessionName }, clientConfig: { region, ...clientConfig } });
}

/** The account and ARN the credentials (the ambient ones when none are given) act as, asked of STS in `region`. */
export async function callerIdentity(
    region: string,
    credentials?: Credentials,
    clientConfig: Record<string, unknown> = {},
): Promise<{ account: string; arn: string }> {
    const { STSClient, GetCallerIdentityCommand }: typeof import("@aws-sdk/client-sts") = requireFromPackage("@aws-sdk/client-sts");
    const sts = new STSClient({ region, ...clientConfig, credentials });
    try {
        const identity = await sts.send(new GetCallerIdentityCommand({}));
        if (!identity.Account) throw new Error("STS GetCallerIdentity returned no account ID");
        return { account: identity.Account, arn: identity.Arn ?? "" };
    } finally {
        sts.destroy();
    }
}
