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
}

export interface AwsProxy {
    endpoint: string;
    calls: AwsCall[];
    /** `<account>/<region>` pairs whose `service` calls have their connection dropped unanswered. */
    unreachable: Set<string>;
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

export function startAwsProxy(upstream: string, options: { unreachableService?: string; defaultAccount?: string } = {}): Promise<AwsProxy> {
    const defaultAccount = options.defaultAccount ?? "123456789012";
    // moto issues each assumed-role session its own access key; remembering which role (and
    // so which account) it was issued for lets calls be attributed to accounts, as moto itself
    // does, and to the role that made them.
    const roleOfKey = new Map<string, { account: string; roleArn: string }>();
    const target = new URL(upstream);
    const calls: AwsCall[] = [];
    const unreachable = new Set<string>();
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
            const signer = roleOfKey.get(accessKeyOf(req.headers.authorization) ?? "");
            const account = signer?.account ?? defaultAccount;
            if (service === unreachableService && unreachable.has(`${account}/${region}`)) {
                // What a client sees from an endpoint that is down: the connection just ends.
                req.socket.destroy();
                return;
            }
            const targetHeader = req.headers["x-amz-target"];
            const text = body.toString("utf8");
            const action = actionOf(Array.isArray(targetHeader) ? targetHeader[0] : targetHeader, text);
            const roleArn = action === "AssumeRole" ? (new URLSearchParams(text).get("RoleArn") ?? undefined) : undefined;
            calls.push({ account, service, region, action, ...(roleArn ? { roleArn } : {}), ...(signer ? { signedBy: signer.roleArn } : {}) });
            const assumedAccount = roleArn ? /^arn:[^:]+:iam::(\d{12}):/.exec(roleArn)?.[1] : undefined;
            const forward = http.request(
                { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, timeout: 30_000 },
                (upstreamRes) => {
                    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
                    if (!assumedAccount) return void upstreamRes.pipe(res);
                    const parts: Buffer[] = [];
                    upstreamRes.on("data", (c: Buffer) => parts.push(c));
                    upstreamRes.on("end", () => {
                        const xml = Buffer.concat(parts);
                        const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(xml.toString("utf8"))?.[1];
                        if (key && roleArn) roleOfKey.set(key, { account: assumedAccount, roleArn });
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
