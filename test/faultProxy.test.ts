import { expect } from "chai";
import * as http from "node:http";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { FaultCounts, FaultProxy, startFaultProxy } from "./support/faultProxy";
import { Moto, startMoto } from "../devtools/moto";

const region = "us-east-1";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

function ssm(endpoint: string, maxAttempts: number): SSMClient {
    return new SSMClient({ endpoint, region, credentials, retryMode: "adaptive", maxAttempts });
}

function outcomes(c: FaultCounts): number {
    return c.forwarded + c.throttled + c.dropped + c.responseDropped + c.failed;
}

/** One raw JSON-protocol call, so a test sees exactly what the proxy answered. */
function rawCall(endpoint: string, action: string, body: object): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string } | "dropped"> {
    return new Promise((resolve, reject) => {
        const req = http.request(
            `${endpoint}/`,
            { method: "POST", agent: false, headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AmazonSSM.${action}` } },
            (res) => {
                let text = "";
                res.on("data", (d: Buffer) => (text += d.toString()));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
            },
        );
        req.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" ? resolve("dropped") : reject(err)));
        req.end(JSON.stringify(body));
    });
}

describe("fault proxy in front of moto", function () {
    this.timeout(120_000);
    let moto: Moto;
    let proxy: FaultProxy | undefined;

    before(async () => {
        moto = await startMoto();
    });
    after(async () => {
        await moto?.stop();
    });
    afterEach(async () => {
        await proxy?.close();
        proxy = undefined;
        await moto.reset();
    });

    it("lets an SSM client with adaptive retries succeed through 30% throttling and 10% dropped connections", async () => {
        proxy = await startFaultProxy({ target: moto.endpoint, throttleRate: 0.3, dropRate: 0.1, seed: 42 });
        const client = ssm(proxy.endpoint, 10);
        // Adaptive mode slows the client to about one request a second once it sees throttling,
        // so a few calls are enough; the seed makes both faults happen among them.
        const calls = 6;
        for (let i = 0; i < calls; i++) {
            await client.send(new PutParameterCommand({ Name: `/fault/p${i}`, Value: `v${i}`, Type: "String" }));
            const got = await client.send(new GetParameterCommand({ Name: `/fault/p${i}` }));
            expect(got.Parameter?.Value).to.equal(`v${i}`);
        }
        client.destroy();

        const { total, byTarget } = proxy.stats();
        expect(total.throttled, "some requests were throttled").to.be.greaterThan(0);
        expect(total.dropped, "some connections were dropped").to.be.greaterThan(0);
        expect(outcomes(total)).to.equal(total.received);
        for (const [target, counts] of Object.entries(byTarget)) expect(outcomes(counts), target).to.equal(counts.received);
        expect(byTarget["AmazonSSM.PutParameter"].forwarded).to.equal(calls);
        expect(byTarget["AmazonSSM.GetParameter"].forwarded).to.equal(calls);
        const summed = Object.values(byTarget).reduce((a, c) => a + c.received, 0);
        expect(summed).to.equal(total.received);

        // Straight to moto: every write landed exactly once, with the value sent.
        const direct = ssm(moto.endpoint, 1);
        for (let i = 0; i < calls; i++) {
            const got = await direct.send(new GetParameterCommand({ Name: `/fault/p${i}` }));
            expect(got.Parameter).to.include({ Value: `v${i}`, Version: 1 });
        }
        direct.destroy();
    });

    it("answers throttled requests the way AWS does, so the SDK classifies them as throttling", async () => {
        proxy = await startFaultProxy({ target: moto.endpoint, throttleRate: 1 });
        const raw = await rawCall(proxy.endpoint, "GetParameter", { Name: "/x" });
        expect(raw).to.not.equal("dropped");
        if (raw === "dropped") return;
        expect(raw.status).to.equal(400);
        expect(raw.headers["x-amzn-errortype"]).to.equal("ThrottlingException");
        expect(JSON.parse(raw.body)).to.deep.equal({ __type: "ThrottlingException", message: "Rate exceeded" });

        // A retried error proves the SDK took it for a transient one.
        const client = ssm(proxy.endpoint, 2);
        const err = await client.send(new GetParameterCommand({ Name: "/x" })).then(
            () => undefined,
            (e: unknown) => e as Error & { $metadata?: { attempts?: number; httpStatusCode?: number } },
        );
        client.destroy();
        expect(err?.name).to.equal("ThrottlingException");
        expect(err?.$metadata).to.include({ attempts: 2, httpStatusCode: 400 });
        expect(proxy.stats().total).to.include({ received: 3, throttled: 3, forwarded: 0 });
    });

    it("faults at most maxFaultsPerCall attempts of one SDK call, so its retries get through", async () => {
        proxy = await startFaultProxy({ target: moto.endpoint, throttleRate: 0.5, dropRate: 0.5, maxFaultsPerCall: 2 });
        const client = ssm(proxy.endpoint, 6);
        const answer = await client.send(new PutParameterCommand({ Name: "/capped", Value: "v", Type: "String" }));
        client.destroy();
        expect(answer.$metadata.attempts).to.equal(3);
        const total = proxy.stats().total;
        expect(total.throttled + total.dropped, JSON.stringify(total)).to.equal(2);
        expect(total.forwarded).to.equal(1);
    });

    it("drops connections without an answer, before or after moto applied the request", async () => {
        proxy = await startFaultProxy({ target: moto.endpoint, dropRate: 1 });
        const client = ssm(proxy.endpoint, 1);
        const put = (name: string) => client.send(new PutParameterCommand({ Name: name, Value: "v", Type: "String" }));
        const before = await put("/drop/before").then(
            () => undefined,
            (e: unknown) => e as Error,
        );
        expect(before, "the client sees an error").to.be.instanceOf(Error);

        proxy.setRates({ dropRate: 0, dropResponseRate: 1 });
        const after = await put("/drop/after").then(
            () => undefined,
            (e: unknown) => e as Error,
        );
        expect(after, "the client sees an error").to.be.instanceOf(Error);
        client.destroy();

        const direct = ssm(moto.endpoint, 1);
        const names = (await Promise.allSettled(["/drop/before", "/drop/after"].map((Name) => direct.send(new GetParameterCommand({ Name }))))).map(
            (r) => r.status,
        );
        direct.destroy();
        expect(names, "only the request whose answer was dropped reached moto").to.deep.equal(["rejected", "fulfilled"]);
        expect(proxy.stats().byTarget["AmazonSSM.PutParameter"]).to.include({ received: 2, dropped: 1, responseDropped: 1, forwarded: 0 });
    });

    it("picks the same requests to fault for the same seed", async () => {
        const run = async (seed: number) => {
            const p = await startFaultProxy({ target: moto.endpoint, throttleRate: 0.3, dropRate: 0.2, seed });
            const seen: string[] = [];
            for (let i = 0; i < 30; i++) {
                const r = await rawCall(p.endpoint, "DescribeParameters", {});
                seen.push(r === "dropped" ? "drop" : String(r.status));
            }
            await p.close();
            return seen;
        };
        const a = await run(7);
        expect(await run(7)).to.deep.equal(a);
        expect(await run(8)).to.not.deep.equal(a);
        expect(a).to.include.members(["200", "400", "drop"]);
    });

    it("faults only AWS JSON requests, and only the chosen targets", async () => {
        proxy = await startFaultProxy({ target: moto.endpoint, throttleRate: 1, faultable: (t) => t === "AmazonSSM.PutParameter" });
        const res = await fetch(`${proxy.endpoint}/moto-api/data.json`);
        expect(res.status).to.equal(200);
        const raw = await rawCall(proxy.endpoint, "DescribeParameters", {});
        expect(raw === "dropped" ? raw : raw.status).to.equal(200);
        const { byTarget } = proxy.stats();
        expect(byTarget["(none)"]).to.include({ received: 1, forwarded: 1 });
        expect(byTarget["AmazonSSM.DescribeParameters"]).to.include({ received: 1, forwarded: 1 });
    });

    it("forwards only to a loopback target", async () => {
        for (const target of ["http://192.0.2.1:80", "https://127.0.0.1:443", "http://example.invalid"]) {
            const err = await startFaultProxy({ target }).then(
                (p) => p.close().then(() => undefined),
                (e: unknown) => e as Error,
            );
            expect(err?.message, target).to.match(/loopback/);
        }
    });
});
