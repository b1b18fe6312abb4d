// CloudFormation's side of a Lambda-backed custom resource, for tests: the code loaded from
// the template the way Lambda loads index.js, events sent the way CloudFormation sends them,
// and a local HTTP server standing in for the pre-signed response URL.
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { CustomResourceEvent, LambdaContext } from "../../lambda/handler";
import { CfnTemplate, logicalIds } from "../../core/template";
import { resolveIntrinsics, StackValues, templateStack } from "./cloudformation";

export type Handler = (event: CustomResourceEvent, context: LambdaContext) => Promise<void>;

/** What the handler PUT to the response URL. */
export interface CfnResponse {
    Status: "SUCCESS" | "FAILED";
    Reason: string;
    PhysicalResourceId: string;
    StackId: string;
    RequestId: string;
    LogicalResourceId: string;
}

/** Stands in for CloudFormation's pre-signed response URL: records each PUT by path. */
export class ResponseServer {
    readonly bodies = new Map<string, string>();
    /** Paths that answer 500 this many more times before accepting. */
    readonly failures = new Map<string, number>();
    private server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d: Buffer) => (body += d.toString()));
        req.on("end", () => {
            const url = req.url ?? "";
            const failing = this.failures.get(url) ?? 0;
            if (req.method !== "PUT" || failing > 0) {
                this.failures.set(url, failing - 1);
                res.writeHead(500).end();
                return;
            }
            this.bodies.set(url, body);
            res.writeHead(200).end();
        });
    });
    private port = 0;
    private next = 0;

    async start(): Promise<void> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
        this.port = (this.server.address() as net.AddressInfo).port;
    }

    newUrl(): string {
        return `http://127.0.0.1:${this.port}/response/${++this.next}?X-Amz-Signature=test`;
    }

    responseTo(url: string): CfnResponse | undefined {
        const body = this.bodies.get(new URL(url).pathname + new URL(url).search);
        return body === undefined ? undefined : (JSON.parse(body) as CfnResponse);
    }

    stop(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }
}

/**
 * The function's code exactly as the template carries it (Code.ZipFile), loaded as Lambda
 * loads index.js. Only the AWS SDK is beside it, standing in for the runtime's: anything
 * else the bundle failed to include fails to load here too.
 */
export function loadTemplateHandler(template: CfnTemplate): Handler {
    const code = (template.Resources[logicalIds.handler].Properties.Code as { ZipFile: string }).ZipFile;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-handler-"));
    // Kept while the process runs: the bundle requires the SDK lazily, at call time.
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, "index.js"), code);
    fs.mkdirSync(path.join(dir, "node_modules"));
    // Found through the SDK itself, since these tests also run compiled from dist/.
    const sdk = path.resolve(require.resolve("@aws-sdk/client-ssm/package.json"), "..", "..");
    fs.symlinkSync(sdk, path.join(dir, "node_modules", "@aws-sdk"), "dir");
    return (require(path.join(dir, "index.js")) as { handler: Handler }).handler;
}

export const lambdaContext = (remainingMs = 120_000): LambdaContext => {
    const deadline = Date.now() + remainingMs;
    return { getRemainingTimeInMillis: () => deadline - Date.now() };
};

/** CloudFormation hands every scalar in ResourceProperties to the function as a string. */
function asSent(value: unknown): unknown {
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (Array.isArray(value)) return value.map(asSent);
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asSent(v)]));
    return value;
}

/** The document resource's properties as CloudFormation sends them in one stack, with its parameter overrides if any. */
export function documentProperties(
    template: CfnTemplate,
    stack: StackValues,
    parameters: Record<string, string> = {},
): CustomResourceEvent["ResourceProperties"] {
    const values = templateStack(template, stack, parameters);
    return asSent(resolveIntrinsics(template.Resources[logicalIds.document].Properties, values)) as CustomResourceEvent["ResourceProperties"];
}

/** Sends events to a handler as CloudFormation does and returns what it answered. */
export class CustomResourceInvoker {
    /** Everything the handler logged, per invocation. */
    readonly logged: unknown[][] = [];

    constructor(
        private readonly handler: Handler,
        private readonly responses: ResponseServer,
    ) {}

    async invoke(event: Partial<CustomResourceEvent>, context = lambdaContext()): Promise<CfnResponse> {
        const url = this.responses.newUrl();
        const consoleLog = console.log;
        console.log = (...args: unknown[]) => this.logged.push(args);
        try {
            await this.handler(
                { ResponseURL: url, StackId: "stack-1", RequestId: `req-${url}`, LogicalResourceId: logicalIds.document, ...event } as CustomResourceEvent,
                context,
            );
        } finally {
            console.log = consoleLog;
        }
        const response = this.responses.responseTo(url);
        if (!response) throw new Error(`the handler returned without answering CloudFormation; it logged ${JSON.stringify(this.logged.slice(-3))}`);
        if (response.RequestId !== `req-${url}` || response.StackId !== "stack-1" || response.LogicalResourceId !== logicalIds.document) {
            throw new Error(`the handler answered for another request: ${JSON.stringify(response)}`);
        }
        return response;
    }
}
