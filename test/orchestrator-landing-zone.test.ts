// `npm run org` with a log archive or a guardrail: one landing-zone stack makes them, before the
// targets' stacks (after them on destroy), and the targets' stacks only point at them. The
// landing-zone stack's resources need the @pulumi/aws plugin, which cannot run here: its
// program is tested under mocks (program.test.ts); this tests what the orchestrator gives it.
import { expect } from "chai";
import { parseStackSettings } from "../core/config";
import { guardrailExceptions } from "../core/landingZone";
import { withLandingZone } from "../orchestrator/main";
import { landingZoneStackConfig, landingZoneTarget, parseOrgConfig, stackConfigFor } from "../orchestrator/orgConfig";
import { Command, RolloutReport, TargetResult } from "../orchestrator/result";
import { OrgTarget, parseStackName } from "../orchestrator/targets";

const orgYaml = `
config:
  aws:region: eu-west-1
  sessionManager:organizationalUnitIds: [ou-ab12-cdef3456]
  sessionManager:regions: [eu-west-1, us-east-1]
  sessionManager:instancePolicy: false
  sessionManager:logArchive:
    accountId: "999900001111"
    organizationId: o-a1b2c3d4e5
    regions: [eu-west-1, us-east-1]
    bucketName: acme-session-logs-{region}
    roleName: LogArchiveDeployer
  sessionManager:guardrail:
    targetIds: [ou-ab12-cdef3456]
    accountId: "888800001111"
    roleName: GuardrailDeployer
`;

const target: OrgTarget = {
    accountId: "111122223333",
    region: "eu-west-1",
    regions: ["eu-west-1", "us-east-1"],
    roleName: "Deployer",
    stackName: "smp.111122223333",
};

/** The settings a stack's program reads from the config the orchestrator wrote for it. */
const settingsOf = (config: Record<string, string>) => parseStackSettings(config);

describe("npm run org: the landing-zone stack", () => {
    const org = parseOrgConfig(orgYaml, "org.yaml");

    it("is one stack, <prefix>.landing-zone, in the archive's account, that no account's stack name can be taken for", () => {
        const zone = landingZoneTarget(org, "smp");
        expect(zone).to.deep.equal({ accountId: "999900001111", region: "eu-west-1", stackName: "smp.landing-zone" });
        // prune and the granularity check read stack names of the prefix: this one is none of an account's.
        expect(parseStackName("smp", zone!.stackName)).to.equal(undefined);
        expect(landingZoneTarget(parseOrgConfig("config:\n  aws:region: eu-west-1\n", "plain.yaml"), "smp")).to.equal(undefined);
    });

    it("makes only the archive and the guardrail, and excepts the role npm run org writes with in discovered accounts", () => {
        const zone = landingZoneTarget(org, "smp")!;
        const settings = settingsOf(landingZoneStackConfig(org, zone, "SessionManagerDeployer"));
        expect(settings.sharedResources).to.equal("only");
        expect(settings.logArchive?.create).to.equal(true);
        expect(settings.organizationalUnitIds).to.deep.equal(["ou-ab12-cdef3456"]);
        // The guardrail would otherwise lock the rollout out of every account it found under the OUs.
        expect(guardrailExceptions(settings)).to.include("SessionManagerDeployer");
    });

    it("the targets' stacks point at the archive and leave the archive and guardrail to it", () => {
        const settings = settingsOf(stackConfigFor(org, target));
        expect(settings.sharedResources).to.equal("elsewhere");
        expect(settings.s3Logging).to.equal(true);
        expect(settings.s3BucketName).to.equal("acme-session-logs-{region}");
    });

    describe("order", () => {
        const zone = landingZoneTarget(org, "smp")!;
        const result = (t: OrgTarget, outcome: TargetResult["outcome"]): TargetResult =>
            ({
                stackName: t.stackName,
                accountId: t.accountId,
                region: t.region,
                outcome,
                changes: 0,
                changeSummary: {},
                durationMs: 1,
                logFile: "",
            }) as TargetResult;
        const fakeRun = (command: Command, failing: string[] = []) => {
            const runs: string[][] = [];
            const run = async (targets: OrgTarget[]): Promise<RolloutReport> => {
                runs.push(targets.map((t) => t.stackName));
                return {
                    command,
                    startedAt: new Date().toISOString(),
                    durationMs: 1,
                    results: targets.map((t) => result(t, failing.includes(t.stackName) ? "failed" : "succeeded")),
                };
            };
            return { runs, run };
        };

        for (const command of ["preview", "up", "refresh", "drift"] as Command[]) {
            it(`${command}: the landing zone first, then the targets, in one report`, async () => {
                const { runs, run } = fakeRun(command);
                const report = await withLandingZone(command, zone, [target], run);
                expect(runs).to.deep.equal([["smp.landing-zone"], ["smp.111122223333"]]);
                expect(report.results.map((r) => r.stackName)).to.deep.equal(["smp.landing-zone", "smp.111122223333"]);
            });
        }

        it("destroy: the targets first (their documents are released while the guardrail still excepts the program), then the landing zone", async () => {
            const { runs, run } = fakeRun("destroy");
            await withLandingZone("destroy", zone, [target], run);
            expect(runs).to.deep.equal([["smp.111122223333"], ["smp.landing-zone"]]);
        });

        it("up: a failed landing zone runs no target, which would point documents at a bucket that may not exist", async () => {
            const { runs, run } = fakeRun("up", ["smp.landing-zone"]);
            const report = await withLandingZone("up", zone, [target], run);
            expect(runs).to.deep.equal([["smp.landing-zone"]]);
            expect(report.results.map((r) => r.outcome)).to.deep.equal(["failed"]);
        });

        it("preview: a failed landing zone still previews the targets", async () => {
            const { runs, run } = fakeRun("preview", ["smp.landing-zone"]);
            await withLandingZone("preview", zone, [target], run);
            expect(runs).to.have.length(2);
        });
    });
});
