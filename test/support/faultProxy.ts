// A fault-injecting HTTP proxy in front of moto: it throttles a share of AWS JSON-protocol
// requests the way AWS does and drops a share of connections, so tests can show that clients
// and the engine converge anyway.
//
//     const proxy = await startFaultProxy({ target: moto.endpoint, throttleRate: 0.3, dropRate: 0.1 });
//     const env = await engineEnv({ ...moto, endpoint: proxy.endpoint }, backendDir);
import * as http from "node:http";
import * as net from "node:net";
import { AssumedRoles, credentialScope } from "../../devtools/awsProxy";

export interface FaultRates {
    /** Share of faultable requests answered with HTTP 400 ThrottlingException, not forwarded. */
    throttleRate: number;
    /** Share of faultable requests whose connection is destroyed before forwarding. */
    dropRate: number;
    /**
     * Share of faultable requests that are forwarded, so moto applies them, and whose
     * connection is then destroyed instead of answered: the client cannot tell whether its
     * write happened.
     */
    dropResponseRate: number;
}

export interface FaultProxyOptions extends Partial<FaultRates> {
    /** Where requests go: must be a loopback http:// URL such as moto.endpoint. */
    target: string;
    /** Seed of the PRNG that picks the faulted requests; the same arrival order gives the same faults. */
    seed?: number;
    /**
     * Which requests may be faulted, by X-Amz-Target (e.g. "AmazonSSM.UpdateDocument").
     * Only requests that carry that header (the AWS JSON protocols) are ever faulted, since the
     * throttling answer is in that protocol's error shape. Default: all of them.
     */
    faultable?: (target: string) => boolean;
    /**
     * Decides a request's fate before the rates do: "deny" answers it with a 400
     * AccessDeniedException (which SDK clients do not retry, so the caller's operation fails
     * at exactly that call), "forward" exempts it from the rates. Called once per faultable
     * request, in arrival order, with the Region its signature names.
     */
    script?: (request: ScriptedRequest) => "deny" | "forward" | undefined;
    /**
     * At most this many attempts of one SDK call (the requests that share its
     * amz-sdk-invocation-id header) are faulted by the rates; later attempts go through.
     * Default: no limit.
     */
    maxFaultsPerCall?: number;
}

export interface ScriptedRequest {
    /** X-Amz-Target, e.g. "AmazonSSM.UpdateDocument". */
    target: string;
    /** From the SigV4 credential scope; "" when the request is unsigned. */
    region: string;
    /** The role whose assumed-role session signed the request; undefined for the starting credentials. */
    role?: string;
}

/** Each received request has exactly one outcome, so the outcome counts add up to `received`. */
export interface FaultCounts {
    received: number;
    forwarded: number;
    throttled: number;
    dropped: number;
    responseDropped: number;
    /** Answered AccessDeniedException by the script. */
    denied: number;
    /** The target did not answer; the client got HTTP 502. */
    failed: number;
}

export interface FaultStats {
    total: FaultCounts;
    /** Keyed by X-Amz-Target, or "(none)" for requests without one. */
    byTarget: Record<string, FaultCounts>;
}

export interface FaultProxy {
    /** e.g. http://127.0.0.1:40124, to use where moto.endpoint would go. */
    endpoint: string;
    port: number;
    stats(): FaultStats;
    /** Changes the fault rates from the next request on, e.g. to stop faults mid-test. */
    setRates(rates: Partial<FaultRates>): void;
    resetStats(): void;
    close(): Promise<void>;
}

const noTarget = "(none)";
const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

/** mulberry32: tiny, seedable, and good enough to spread faults evenly. */
function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function loopbackTarget(target: string): URL {
    const url = new URL(target);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const loopback = host === "localhost" || (net.isIPv4(host) && host.startsWith("127.")) || host === "::1";
    if (url.protocol !== "http:" || !loopback) throw new Error(`fault proxy only forwards to a loopback http:// target, not ${target}`);
    return url;
}

function checkRates(rates: FaultRates): void {
    for (const [name, value] of Object.entries(rates)) {
        if (!(value >= 0 && value <= 1)) throw new Error(`${name} must be between 0 and 1, got ${value}`);
    }
    if (rates.throttleRate + rates.dropRate + rates.dropResponseRate > 1) throw new Error("fault rates add up to more than 1");
}

function zeroCounts(): FaultCounts {
    return { received: 0, forwarded: 0, throttled: 0, dropped: 0, responseDropped: 0, denied: 0, failed: 0 };
}

/** Starts the proxy on a free 127.0.0.1 port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
    const target = loopbackTarget(options.target);
    const rates: FaultRates = { throttleRate: options.throttleRate ?? 0, dropRate: options.dropRate ?? 0, dropResponseRate: options.dropResponseRate ?? 0 };
    checkRates(rates);
    const random = prng(options.seed ?? 1);
    const faultable = options.faultable ?? (() => true);
    let total = zeroCounts();
    let byTarget: Record<string, FaultCounts> = {};
    const agent = new http.Agent({ keepAlive: true });
    const roles = new AssumedRoles();
    const faultsPerCall = new Map<string, number>();

    function count(key: string, outcome: Exclude<keyof FaultCounts, "received">): void {
        total[outcome]++;
        byTarget[key][outcome]++;
    }

    const server = http.createServer((req, res) => {
        const amzTarget = req.headers["x-amz-target"];
        const key = typeof amzTarget === "string" && amzTarget ? amzTarget : noTarget;
        total.received++;
        (byTarget[key] ??= zeroCounts()).received++;
        req.on("error", () => undefined);
        res.on("error", () => undefined);

        let outcome: "forward" | "throttle" | "drop" | "dropResponse" | "deny" = "forward";
        const scripted =
            key !== noTarget && faultable(key)
                ? options.script?.({
                      target: key,
                      region: credentialScope(req.headers.authorization)?.region ?? "",
                      role: roles.signer(req.headers.authorization)?.roleArn,
                  })
                : undefined;
        if (scripted === "deny") {
            outcome = "deny";
        } else if (scripted === undefined && key !== noTarget && faultable(key)) {
            const r = random();
            if (r < rates.throttleRate) outcome = "throttle";
            else if (r < rates.throttleRate + rates.dropRate) outcome = "drop";
            else if (r < rates.throttleRate + rates.dropRate + rates.dropResponseRate) outcome = "dropResponse";
            const call = req.headers["amz-sdk-invocation-id"];
            if (outcome !== "forward" && options.maxFaultsPerCall !== undefined && typeof call === "string") {
                const faulted = (faultsPerCall.get(call) ?? 0) + 1;
                if (faulted > options.maxFaultsPerCall) outcome = "forward";
                else faultsPerCall.set(call, faulted);
            }
        }

        if (outcome === "drop") {
            count(key, "dropped");
            req.socket.destroy();
            return;
        }
        if (outcome === "throttle" || outcome === "deny") {
            count(key, outcome === "throttle" ? "throttled" : "denied");
            const [type, message] = outcome === "throttle" ? ["ThrottlingException", "Rate exceeded"] : ["AccessDeniedException", `fault proxy: ${key} denied`];
            // Drain the request so a keep-alive connection stays usable for the retry.
            req.resume();
            req.on("end", () => {
                const body = JSON.stringify({ __type: type, message });
                res.writeHead(400, {
                    "Content-Type": "application/x-amz-json-1.1",
                    "Content-Length": Buffer.byteLength(body),
                    "x-amzn-ErrorType": type,
                    "x-amzn-RequestId": `fault-proxy-${total.received}`,
                });
                res.end(body);
            });
            return;
        }

        // STS (query protocol, no X-Amz-Target) is never faulted; its AssumeRole answers are read
        // on the way back, to tell the script which role signs each later request.
        if (key === noTarget) return forwardNoted(req, res);

        // Only the path of the request is kept: whatever authority a client names, the
        // request goes to the one target.
        const incoming = new URL(req.url ?? "/", target);
        const headers: http.OutgoingHttpHeaders = {};
        for (const [name, value] of Object.entries(req.headers)) {
            if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
        }
        const upstream = http.request(
            {
                agent,
                protocol: target.protocol,
                hostname: target.hostname,
                port: target.port,
                method: req.method,
                path: incoming.pathname + incoming.search,
                headers,
            },
            (answer) => {
                if (outcome === "dropResponse") {
                    // moto answers only once it has applied the request; read the answer to the
                    // end anyway so nothing of it reaches the client.
                    count(key, "responseDropped");
                    answer.resume();
                    answer.on("end", () => req.socket.destroy());
                    return;
                }
                const responseHeaders: http.OutgoingHttpHeaders = {};
                for (const [name, value] of Object.entries(answer.headers)) {
                    if (value !== undefined && !hopByHop.has(name)) responseHeaders[name] = value;
                }
                count(key, "forwarded");
                res.writeHead(answer.statusCode ?? 502, responseHeaders);
                answer.pipe(res);
            },
        );
        upstream.on("error", (err) => {
            count(key, "failed");
            if (res.headersSent) {
                req.socket.destroy();
                return;
            }
            res.writeHead(502, { "Content-Type": "text/plain" });
            res.end(`fault proxy: ${target.origin} did not answer: ${err.message}`);
        });
        req.pipe(upstream);
    });

    /** Forwards a request whole, noting the session an AssumeRole answer issues. */
    function forwardNoted(req: http.IncomingMessage, res: http.ServerResponse): void {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = Buffer.concat(chunks);
            const roleArn = AssumedRoles.requested(body.toString("utf8"));
            const headers: http.OutgoingHttpHeaders = {};
            for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
            const incoming = new URL(req.url ?? "/", target);
            const upstream = http.request(
                {
                    agent,
                    protocol: target.protocol,
                    hostname: target.hostname,
                    port: target.port,
                    method: req.method,
                    path: incoming.pathname + incoming.search,
                    headers,
                },
                (answer) => {
                    const parts: Buffer[] = [];
                    answer.on("data", (c: Buffer) => parts.push(c));
                    answer.on("end", () => {
                        const text = Buffer.concat(parts);
                        if (roleArn) roles.issued(roleArn, text.toString("utf8"));
                        const responseHeaders: http.OutgoingHttpHeaders = {};
                        for (const [name, value] of Object.entries(answer.headers))
                            if (value !== undefined && !hopByHop.has(name)) responseHeaders[name] = value;
                        count(noTarget, "forwarded");
                        res.writeHead(answer.statusCode ?? 502, responseHeaders);
                        res.end(text);
                    });
                },
            );
            upstream.on("error", (err) => {
                count(noTarget, "failed");
                res.writeHead(502, { "Content-Type": "text/plain" });
                res.end(`fault proxy: ${target.origin} did not answer: ${err.message}`);
            });
            upstream.end(body);
        });
    }

    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;

    return {
        endpoint: `http://127.0.0.1:${port}`,
        port,
        stats() {
            return { total: { ...total }, byTarget: Object.fromEntries(Object.entries(byTarget).map(([k, v]) => [k, { ...v }])) };
        },
        setRates(next) {
            const merged = { ...rates, ...next };
            checkRates(merged);
            Object.assign(rates, merged);
        },
        resetStats() {
            total = zeroCounts();
            byTarget = {};
        },
        close() {
            return new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
                agent.destroy();
            });
        },
    };
}
