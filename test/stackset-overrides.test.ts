// Overrides in StackSet mode: which stack instances get which instance parameter overrides of
// the one template, and which UpdateStackInstances calls repair exactly the drifted instances.
import { expect } from "chai";
import { ConfigError, ConfigErrors, parseSettings } from "../core/config";
import { overrideUpdates, planStackSet, repairPlan, stackSetOverrideGroups } from "../core/stackSet";
import { maxParameterValueBytes } from "../core/template";
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import { overrideGroups } from "../providers/stackSetInstances";

const root = "r-ab12";
const workloads = "ou-ab12-workload";
const sandbox = "ou-ab12-sandbox1";
const regulated = "222222222222";
const regions = ["eu-west-1", "us-east-1"];

/** The organization: a sandbox OU with 60-minute idle sessions, and one regulated account with 12-hour sessions and Run As. */
const raw = {
    deployment: "stackset",
    organizationalUnitIds: [root],
    regions,
    idleSessionTimeout: 20,
    maxSessionDuration: 60,
    overrides: [
        { name: "sandbox", organizationalUnitIds: [sandbox], idleSessionTimeout: 60 },
        { name: "regulated", accountIds: [regulated], maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: "ssm-user" },
    ],
};
const placements = [
    { accountId: "111111111111", parents: [workloads, root] },
    { accountId: regulated, parents: [workloads, root] },
    { accountId: "333333333333", parents: [sandbox, root] },
    { accountId: "444444444444", parents: [sandbox, root] },
    { accountId: "555555555555", parents: [root] },
];

function configErrors(run: () => unknown): ConfigError[] {
    try {
        run();
    } catch (err) {
        expect(err).to.be.instanceOf(ConfigErrors);
        return (err as ConfigErrors).errors;
    }
    throw new Error("expected ConfigErrors");
}

describe("overrides in StackSet mode", () => {
    describe("instance parameter overrides (stackSetOverrideGroups)", () => {
        const settings = parseSettings(raw);

        it("gives the sandbox OU's accounts and the regulated account their parameters, in every Region, and leaves the others in no group", () => {
            const groups = stackSetOverrideGroups(settings, placements, regions);
            expect(groups).to.deep.equal([
                {
                    accounts: [regulated],
                    regions,
                    parameters: { MaxSessionDuration: "720", RunAsDefaultUser: "ssm-user", RunAsEnabled: "true" },
                    sources: { maxSessionDuration: "regulated", runAsDefaultUser: "regulated", runAsEnabled: "regulated" },
                },
                { accounts: ["333333333333", "444444444444"], regions, parameters: { IdleSessionTimeout: "60" }, sources: { idleSessionTimeout: "sandbox" } },
            ]);
            const overridden = new Set(groups.flatMap((g) => g.accounts));
            expect(overridden.has("111111111111") || overridden.has("555555555555")).to.equal(false);
        });

        it("merges the overrides of an account selected twice into one group of its own, each field naming its override", () => {
            const groups = stackSetOverrideGroups(settings, [{ accountId: regulated, parents: [sandbox, root] }], regions);
            expect(groups).to.have.length(1);
            expect(groups[0].parameters).to.deep.equal({
                IdleSessionTimeout: "60",
                MaxSessionDuration: "720",
                RunAsDefaultUser: "ssm-user",
                RunAsEnabled: "true",
            });
            expect(groups[0].sources).to.include({ idleSessionTimeout: "sandbox", maxSessionDuration: "regulated" });
        });

        it("splits a Region-scoped override into the Regions it names: UpdateStackInstances takes every account in every Region", () => {
            const s = parseSettings({ ...raw, overrides: [{ name: "us-short", regions: ["us-east-1"], idleSessionTimeout: 10 }] });
            expect(stackSetOverrideGroups(s, placements.slice(0, 2), regions)).to.deep.equal([
                {
                    accounts: ["111111111111", regulated],
                    regions: ["us-east-1"],
                    parameters: { IdleSessionTimeout: "10" },
                    sources: { idleSessionTimeout: "us-short" },
                },
            ]);
        });

        it("asks Organizations nothing when every override names its accounts, and the same groups come out", async () => {
            const byAccount = parseSettings({ ...raw, overrides: [raw.overrides[1]] });
            const refusing = { send: () => Promise.reject(new Error("Organizations was asked")) } as unknown as OrganizationsClient;
            const groups = await overrideGroups(byAccount, planStackSet(byAccount), refusing);
            expect(groups).to.deep.equal(stackSetOverrideGroups(byAccount, placements, regions));
            const byOu = parseSettings(raw);
            let failure: Error | undefined;
            await overrideGroups(byOu, planStackSet(byOu), refusing).catch((err: Error) => (failure = err));
            expect(failure?.message, "an override by OU needs the organization").to.equal("Organizations was asked");
        });

        it("leaves excluded accounts out, and has no groups without overrides", () => {
            const s = parseSettings({ ...raw, excludeAccounts: [regulated] });
            expect(stackSetOverrideGroups(s, placements, regions).flatMap((g) => g.accounts)).to.not.include(regulated);
            expect(stackSetOverrideGroups(parseSettings({ ...raw, overrides: [] }), placements, regions)).to.deep.equal([]);
        });

        it("refuses, naming the override, a shell profile longer than a StackSet parameter may be", () => {
            const long = "x".repeat(maxParameterValueBytes + 1);
            const s = parseSettings({ ...raw, overrides: [{ name: "long", accountIds: [regulated], linuxShellProfile: long }] });
            const errors = configErrors(() => stackSetOverrideGroups(s, placements, regions));
            expect(errors).to.have.length(1);
            expect(errors[0].key).to.equal("overrides[0].linuxShellProfile");
            expect(errors[0].message).to.include(`at most ${maxParameterValueBytes} bytes in deployment: stackset`);
        });

        it("refuses conflicting overrides for an instance before anything changes, naming both", () => {
            const s = parseSettings({
                ...raw,
                overrides: [
                    { name: "a", accountIds: [regulated], idleSessionTimeout: 10 },
                    { name: "b", regions: ["eu-west-1"], idleSessionTimeout: 15 },
                ],
            });
            const errors = configErrors(() => stackSetOverrideGroups(s, placements, regions));
            expect(errors.map((e) => e.message).join("\n")).to.include("overrides a (overrides[0]) and b (overrides[1]) both set idleSessionTimeout");
        });
    });

    describe("repair (repairPlan)", () => {
        const settings = parseSettings(raw);
        const plan = planStackSet(settings);
        const groups = stackSetOverrideGroups(settings, placements, regions);

        it("names exactly the drifted instances, each with its own overrides kept and the new repair token", () => {
            const drifted = [
                { accountId: "111111111111", region: "eu-west-1" },
                { accountId: regulated, region: "us-east-1" },
                { accountId: "333333333333", region: "eu-west-1" },
                { accountId: "444444444444", region: "eu-west-1" },
            ];
            expect(repairPlan(settings, plan, groups, drifted, "repair-1")).to.deep.equal([
                { accounts: ["111111111111"], regions: ["eu-west-1"], parameterOverrides: { RepairToken: "repair-1" } },
                {
                    accounts: [regulated],
                    regions: ["us-east-1"],
                    parameterOverrides: { MaxSessionDuration: "720", RunAsDefaultUser: "ssm-user", RunAsEnabled: "true", RepairToken: "repair-1" },
                },
                {
                    accounts: ["333333333333", "444444444444"],
                    regions: ["eu-west-1"],
                    parameterOverrides: { IdleSessionTimeout: "60", RepairToken: "repair-1" },
                },
            ]);
        });

        it("never makes a rectangle that covers an instance that did not drift", () => {
            const drifted = [
                { accountId: "111111111111", region: "eu-west-1" },
                { accountId: "555555555555", region: "us-east-1" },
            ];
            const updates = repairPlan(settings, plan, groups, drifted, "t");
            const covered = updates.flatMap((u) => u.accounts.flatMap((a) => u.regions.map((r) => `${a}/${r}`))).sort();
            expect(covered).to.deep.equal(["111111111111/eu-west-1", "555555555555/us-east-1"]);
        });

        it("refuses an instance the StackSet does not have, and a token the template would refuse", () => {
            expect(() => repairPlan(settings, plan, groups, [{ accountId: "111111111111", region: "ap-south-1" }], "t")).to.throw(
                ConfigError,
                /111111111111\/ap-south-1.*stack instances of StackSet .*: accounts of organizationalUnitIds less excludeAccounts, in eu-west-1, us-east-1/,
            );
            const excluded = parseSettings({ ...raw, excludeAccounts: [regulated] });
            expect(() => repairPlan(excluded, planStackSet(excluded), [], [{ accountId: regulated, region: "eu-west-1" }], "t")).to.throw(
                ConfigError,
                /222222222222\/eu-west-1/,
            );
            for (const token of ["", "has space", "x".repeat(129)]) {
                expect(() => repairPlan(settings, plan, groups, [], token), JSON.stringify(token)).to.throw(ConfigError, /1 to 128 letters, digits and \._:-/);
            }
        });
    });

    describe("applying them (overrideUpdates)", () => {
        const settings = parseSettings(raw);
        const groups = stackSetOverrideGroups(settings, placements, regions);
        const instances = placements.flatMap((p) => regions.map((region) => ({ accountId: p.accountId, region, overrides: {} })));

        it("on a StackSet without overrides: one call per group, naming exactly that group's instances", () => {
            expect(overrideUpdates(groups, instances)).to.deep.equal([
                { accounts: [regulated], regions, parameterOverrides: { MaxSessionDuration: "720", RunAsDefaultUser: "ssm-user", RunAsEnabled: "true" } },
                { accounts: ["333333333333", "444444444444"], regions, parameterOverrides: { IdleSessionTimeout: "60" } },
            ]);
        });

        it("changes nothing once every instance has its overrides, and keeps a repair token without sending it again", () => {
            const applied = instances.map((i) => ({
                ...i,
                overrides: {
                    ...(groups.find((g) => g.accounts.includes(i.accountId))?.parameters ?? {}),
                    ...(i.accountId === "111111111111" ? { RepairToken: "r1" } : {}),
                },
            }));
            expect(overrideUpdates(groups, applied)).to.deep.equal([]);
        });

        it("clears the overrides of an instance no override selects any more, keeping its repair token, and leaves instances CloudFormation has not made", () => {
            const current = [
                { accountId: "555555555555", region: "eu-west-1", overrides: { IdleSessionTimeout: "60", RepairToken: "r1" } },
                { accountId: "555555555555", region: "us-east-1", overrides: { IdleSessionTimeout: "60" } },
                { accountId: "333333333333", region: "eu-west-1", overrides: { IdleSessionTimeout: "60" } },
            ];
            expect(overrideUpdates(groups, current)).to.deep.equal([
                { accounts: ["555555555555"], regions: ["eu-west-1"], parameterOverrides: { RepairToken: "r1" } },
                { accounts: ["555555555555"], regions: ["us-east-1"], parameterOverrides: {} },
            ]);
        });
    });
});
