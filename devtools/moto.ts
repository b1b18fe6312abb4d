import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

/** The account moto answers as when no role has been assumed. */
export const motoDefaultAccount = "123456789012";

export interface Moto {
    /** e.g. http://127.0.0.1:40123 */
    endpoint: string;
    port: number;
    /** The moto_server process (the benchmark counts its CPU time). */
    pid: number;
    /** Forgets every emulated resource in every account and Region. */
    reset(): Promise<void>;
    stop(): Promise<void>;
}

/** The virtualenv scripts/bootstrap.js installed the pinned Python tools into. */
export function pythonVenv(): string {
    // Compiled, this runs from dist/devtools; through ts-node, from devtools.
    const marker = path.resolve(__dirname, "..", "..", "node_modules", ".python-venv");
    const fallback = path.resolve(__dirname, "..", "node_modules", ".python-venv");
    const file = fs.existsSync(marker) ? marker : fallback;
    if (!fs.existsSync(file)) throw new Error("Python tools are not installed: run `node scripts/bootstrap.js` (npm test does)");
    return fs.readFileSync(file, "utf8").trim();
}

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address() as net.AddressInfo;
            server.close(() => resolve(address.port));
        });
    });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode} before it was ready`);
        try {
            const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1000) });
            if (res.ok) return;
        } catch {
            // not listening yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`moto_server did not answer at ${endpoint} within ${timeoutMs} ms`);
}

/** Starts moto server on a free loopback port. Call stop() when done. */
export async function startMoto(options: { timeoutMs?: number } = {}): Promise<Moto> {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn(path.join(pythonVenv(), "bin", "moto_server"), ["-H", "127.0.0.1", "-p", String(port)], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true" },
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
    });
    try {
        await waitUntilUp(endpoint, child, options.timeoutMs ?? 30_000);
    } catch (err) {
        child.kill("SIGKILL");
        throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
    }
    return {
        endpoint,
        port,
        pid: child.pid as number,
        async reset() {
            const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST", signal: AbortSignal.timeout(10_000) });
            if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
        },
        stop() {
            return new Promise<void>((resolve) => {
                if (child.exitCode !== null) return resolve();
                const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
                child.once("exit", () => {
                    clearTimeout(timer);
                    resolve();
                });
                child.kill("SIGTERM");
            });
        },
    };
}

/** Environment that points the AWS SDK (and any child process) at moto with dummy credentials. */
export function motoEnv(moto: Moto, region = "us-east-1"): Record<string, string> {
    return {
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
    };
}
