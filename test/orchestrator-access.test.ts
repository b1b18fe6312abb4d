// The one STS check per account that `npm run org` makes before any engine work (moto server).
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runScript } from "./support/childProcess";
import { checkAccess } from "../providers/targetAccess";
import { OrgTarget } from "../orchestrator/targets";
import { Moto, motoDefaultAccount, motoEnv, startMoto } from "../devtools/moto";

function target(accountId: string, region: string, roleName?: string): OrgTarget {
    return { accountId, region, roleName, stackName: `org.${accountId}.${region}` };
}

describe("checkAccess: every account reachable before any engine work (moto server)", function () {
    this.timeout(60_000);
    let moto: Moto;
    const saved = { ...process.env };

    before(async () => {
        moto = await startMoto();
    });
    beforeEach(() => {
        process.env = { ...saved, ...motoEnv(moto) };
    });
    after(async () => {
        process.env = saved;
        await moto?.stop();
    });

    it("passes when the role lands in each target's account", async () => {
        const targets = [
            target("111111111111", "us-east-1", "OrgAdmin"),
            target("111111111111", "eu-west-1", "OrgAdmin"),
            target("222222222222", "us-east-1", "OrgAdmin"),
        ];
        expect(await checkAccess(targets, 4, ["read"])).to.deep.equal([]);
    });

    it("names the account the ambient credentials are really for, when a target has no role", async () => {
        const problems = await checkAccess([target("111111111111", "us-east-1")], 4, ["read"]);
        expect(problems).to.have.length(1);
        expect(problems[0].accountId).to.equal("111111111111");
        expect(problems[0].message).to.include(`act in account ${motoDefaultAccount}`).and.include("not 111111111111");
    });

    it("says what to set when there are no credentials at all", async () => {
        for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) delete process.env[key];
        // No ~/.aws files, and no instance metadata service to ask: as on a workstation or runner without credentials.
        Object.assign(process.env, {
            AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
            AWS_CONFIG_FILE: "/nonexistent/config",
            AWS_EC2_METADATA_DISABLED: "true",
        });
        const problems = await checkAccess([target("111111111111", "us-east-1", "OrgAdmin"), target("222222222222", "us-east-1", "OrgAdmin")], 4, ["write"]);
        expect(problems.map((p) => p.accountId)).to.deep.equal(["111111111111", "222222222222"]);
        for (const p of problems) expect(p.message).to.include("no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID");
    });

    it("npm run org stops before any engine work, one line per account, when there are no credentials", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-access-"));
        try {
            const config = path.join(dir, "org.yaml");
            fs.writeFileSync(
                config,
                'config:\n  aws:region: us-east-1\n  sessionManager:targets:\n    - accountId: "111111111111"\n      regions: [us-east-1, eu-west-1]\n      roleName: OrgAdmin\n',
            );
            fs.mkdirSync(path.join(dir, "backend"));
            const env: Record<string, string> = {
                ...motoEnv(moto),
                PULUMI_BACKEND_URL: `file://${path.join(dir, "backend")}`,
                PULUMI_CONFIG_PASSPHRASE: "unused",
                AWS_ACCESS_KEY_ID: "",
                AWS_SECRET_ACCESS_KEY: "",
                AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/credentials",
                AWS_CONFIG_FILE: "/nonexistent/config",
                AWS_EC2_METADATA_DISABLED: "true",
            };
            const run = await runScript(
                "scripts/org.ts",
                ["preview", "--json", "--config", config, "--log-dir", path.join(dir, "logs"), "--project-dir", dir],
                { env, timeoutMs: 50_000 },
            );
            expect(run.code, run.stderr).to.equal(1);
            // The JSON report says it too, for a workflow that posts it.
            const report = JSON.parse(run.stdout) as { exitCode: number; problem: { kind: string; details: string[] }; targets: unknown[] };
            expect(report).to.deep.include({ exitCode: 1, targets: [] });
            expect(report.problem.kind).to.equal("access");
            expect(report.problem.details).to.deep.equal([
                "account 111111111111 (role OrgAdmin): no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where credentials are provided (in GitHub Actions, aws-actions/configure-aws-credentials)",
            ]);
            expect(run.stderr).to.match(/error: account 111111111111 \(role OrgAdmin\): no AWS credentials were found/);
            expect(run.stderr).to.include("preview: nothing was run");
            expect(fs.existsSync(path.join(dir, "logs"))).to.equal(false);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
