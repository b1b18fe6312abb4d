// A loopback HTTP proxy in front of moto that counts AWS API calls per account and Region
// and can make one account's Regional endpoint unreachable. Used by the orchestrator's end-to-end test (a failing
// target) and by scripts/bench.ts (SSM reads and writes per target).
import * as http from "node:http";
import * as net from "node:net";

/** One AWS call as the proxy saw it. */
export interface AwsCall {
    /** The account the signing credentials belong to (learnt from the AssumeRole that issued them). */
    account: string;
    service: string;
    region: string;
    /** e.g. GetDocument, AssumeRole */
    action: string;
    /** For AssumeRole: the role asked for. */
    roleArn?: string;
    /** The role whose assumed-role credentials signed the call; undefined for the starting credentials. */
    signedBy?: string;
    /** The request body, when the proxy was started with recordBodies (to assert exactly what was asked). */
    body?: string;
}

export interface AwsProxy {
    endpoint: string;
    calls: AwsCall[];
    /** `<account>/<region>` pairs whose `service` calls have their connection dropped unanswered. */
    unreachable: Set<string>;
    /** Role ARNs whose AssumeRole is answered with STS's AccessDenied, as for a role that does not trust the caller. */
    deniedRoles: Set<string>;
    resetCounts(): void;
    close(): Promise<void>;
}

/** SigV4 names the Region and service in the credential scope: `Credential=AKID/date/region/service/aws4_request`. */
export function credentialScope(authorization: string | undefined): { region: string; service: string } | undefined {
    const m = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? "");
    return m ? { region: m[1], service: m[2] } : undefined;
}

/** JSON protocols (SSM) name the action in X-Amz-Target; query protocols (STS) in the form body. */
export function actionOf(target: string | undefined, body: string): string {
    if (target) return target.split(".").pop() ?? target;
    const m = /(?:^|&)Action=([^&]+)/.exec(body);
    return m ? decodeURIComponent(m[1]) : "(unknown)";
}

/**
 * Actions that change something, by the verbs AWS names them with (SSM, KMS, CloudWatch Logs,
 * IAM, S3); everything else is a read. STS's AssumeRole and GetCallerIdentity are reads.
 */
export function isWrite(action: string): boolean {
    return /^(Create|Update|Delete|Put|Add|Remove|Modify|Register|Deregister|Send|Start|Cancel|Label|Unlabel|Tag|Untag|Associate|Disassociate|Attach|Detach|Enable|Disable|Schedule|Set|Import|Replicate|Rotate|Upload|Copy|Restore|Abort|Complete)/.test(
        action,
    );
}

function accessKeyOf(authorization: string | undefined): string | undefined {
    return /Credential=([^/]+)\//.exec(authorization ?? "")?.[1];
}

/**
 * Which role's session signed a request. moto issues each assumed-role session its own access
 * key; noting which role (and so which account) each AssumeRole answer was for lets a proxy
 * attribute later calls to their role and account, as moto itself does. Shared by this proxy
 * and the tests' fault proxy.
 */
export class AssumedRoles {
    private readonly byKey = new Map<string, { account: string; roleArn: string }>();

    /** The role asked for, when `requestBody` is an STS AssumeRole request (query protocol). */
    static requested(requestBody: string): string | undefined {
        const params = new URLSearchParams(requestBody);
        return params.get("Action") === "AssumeRole" ? (params.get("RoleArn") ?? undefined) : undefined;
    }

    /** Notes the session an AssumeRole answer issued for `roleArn`. */
    issued(roleArn: string, responseBody: string): void {
        const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(responseBody)?.[1];
        const account = /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1];
        if (key && account) this.byKey.set(key, { account, roleArn });
    }

    /** The role (and its account) whose credentials signed a request, if its session was seen being issued. */
    signer(authorization: string | undefined): { account: string; roleArn: string } | undefined {
        return this.byKey.get(accessKeyOf(authorization) ?? "");
    }
}

export function startAwsProxy(
    upstream: string,
    options: { unreachableService?: string; defaultAccount?: string; recordBodies?: boolean } = {},
): Promise<AwsProxy> {
    const defaultAccount = options.defaultAccount ?? "123456789012";
    const roles = new AssumedRoles();
    const target = new URL(upstream);
    const calls: AwsCall[] = [];
    const unreachable = new Set<string>();
    const deniedRoles = new Set<string>();
    const unreachableService = options.unreachableService ?? "ssm";
    const sockets = new Set<net.Socket>();
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = Buffer.concat(chunks);
            const scope = credentialScope(req.headers.authorization);
            const region = scope?.region ?? "(none)";
            const service = scope?.service ?? "(none)";
            const signer = roles.signer(req.headers.authorization);
            const account = signer?.account ?? defaultAccount;
            if (service === unreachableService && unreachable.has(`${account}/${region}`)) {
                // What a client sees from an endpoint that is down: the connection just ends.
                req.socket.destroy();
                return;
            }
            const targetHeader = req.headers["x-amz-target"];
            const text = body.toString("utf8");
            const action = actionOf(Array.isArray(targetHeader) ? targetHeader[0] : targetHeader, text);
            const roleArn = AssumedRoles.requested(text);
            calls.push({
                account,
                service,
                region,
                action,
                ...(roleArn ? { roleArn } : {}),
                ...(signer ? { signedBy: signer.roleArn } : {}),
                ...(options.recordBodies ? { body: text } : {}),
            });
            if (roleArn && deniedRoles.has(roleArn)) {
                res.writeHead(403, { "content-type": "text/xml" });
                res.end(
                    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
                        `<Message>User: arn:aws:iam::${account}:user/test is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message>` +
                        `</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`,
                );
                return;
            }
            const forward = http.request(
                { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, timeout: 30_000 },
                (upstreamRes) => {
                    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
                    if (!roleArn) return void upstreamRes.pipe(res);
                    const parts: Buffer[] = [];
                    upstreamRes.on("data", (c: Buffer) => parts.push(c));
                    upstreamRes.on("end", () => {
                        const xml = Buffer.concat(parts);
                        roles.issued(roleArn, xml.toString("utf8"));
                        res.end(xml);
                    });
                },
            );
            forward.on("timeout", () => forward.destroy(new Error("upstream timeout")));
            forward.on("error", () => {
                if (!res.headersSent) res.writeHead(502);
                res.end();
            });
            forward.end(body);
        });
    });
    server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    return new Promise((resolve, reject) => {
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            resolve({
                endpoint: `http://127.0.0.1:${port}`,
                calls,
                unreachable,
                deniedRoles,
                resetCounts: () => void calls.splice(0, calls.length),
                close: () =>
                    new Promise<void>((done) => {
                        for (const s of sockets) s.destroy();
                        server.close(() => done());
                    }),
            });
        });
    });
}
