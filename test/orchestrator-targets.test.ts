import {
    CloseAccountCommand,
    CreateOrganizationalUnitCommand,
    CreateOrganizationCommand,
    ListRootsCommand,
    OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { expect } from "chai";
import { discoverOrganization, parentsOf, parentsOfAccounts } from "../providers/organization";
import { ConfigErrors, parseSettings, preferencesFor } from "../core/config";
import { documentPreferencesOf } from "../core/settings";
import { parseOrgConfig, stackConfigFor } from "../orchestrator/orgConfig";
import {
    deriveTargets,
    discoverAccounts,
    discoveryProblem,
    parseStackName,
    shardOf,
    stackNameFor,
    stackPrefixProblem,
    TargetsError,
} from "../orchestrator/targets";
import { Moto, motoEnv, startMoto } from "../devtools/moto";
import { createAccount as createMotoAccount } from "./support/organization";

const noDiscovery = { prefix: "org", discoveredAccounts: [], discoveredRoleName: "OrganizationAccountAccessRole" };

/** Stacks per account and Region unless `raw` says otherwise. */
function settings(raw: Record<string, unknown>) {
    return parseSettings({ sessionDataEncryption: false, createCWLogGroup: false, instancePolicy: false, stackGranularity: "accountRegion", ...raw });
}

describe("orchestrator targets", () => {
    describe("explicit targets", () => {
        const explicit = [
            { accountId: "111111111111", regions: ["eu-west-1", "us-east-1"], roleName: "OrgAdmin" },
            { accountId: "222222222222", regions: ["eu-west-1"] },
        ];

        it("makes one target per account and Region, in config order, named <prefix>.<account>.<region>", () => {
            expect(deriveTargets(settings({ targets: explicit }), noDiscovery)).to.deep.equal([
                { accountId: "111111111111", region: "eu-west-1", roleName: "OrgAdmin", stackName: "org.111111111111.eu-west-1" },
                { accountId: "111111111111", region: "us-east-1", roleName: "OrgAdmin", stackName: "org.111111111111.us-east-1" },
                { accountId: "222222222222", region: "eu-west-1", stackName: "org.222222222222.eu-west-1" },
            ]);
        });

        it("leaves out excluded accounts and excluded Regions", () => {
            const targets = deriveTargets(settings({ targets: explicit, excludeAccounts: ["222222222222"], excludeRegions: ["us-east-1"] }), noDiscovery);
            expect(targets.map((t) => t.stackName)).to.deep.equal(["org.111111111111.eu-west-1"]);
        });

        it("uses the stack prefix given", () => {
            expect(deriveTargets(settings({ targets: explicit }), { ...noDiscovery, prefix: "prod" })[0].stackName).to.equal("prod.111111111111.eu-west-1");
            expect(stackNameFor("x", "333333333333", "ap-south-1")).to.equal("x.333333333333.ap-south-1");
        });

        it("rejects a stack prefix Pulumi would not accept as part of a stack name", () => {
            expect(stackPrefixProblem("org")).to.equal(undefined);
            expect(stackPrefixProblem("team_a.prod-1")).to.equal(undefined);
            expect(stackPrefixProblem("org/prod")).to.match(/--stack-prefix "org\/prod" is not valid/);
            expect(stackPrefixProblem("")).to.match(/not valid/);
        });
    });

    describe("stacks per account (stackGranularity: account, the default)", () => {
        const explicit = [
            { accountId: "111111111111", regions: ["eu-west-1", "us-east-1"], roleName: "OrgAdmin" },
            { accountId: "222222222222", regions: ["eu-west-1"] },
        ];

        it("is the default, and makes one target per account over its Regions, named <prefix>.<account>", () => {
            const s = parseSettings({ sessionDataEncryption: false, targets: explicit });
            expect(s.stackGranularity).to.equal("account");
            expect(deriveTargets(s, noDiscovery)).to.deep.equal([
                { accountId: "111111111111", region: "eu-west-1", regions: ["eu-west-1", "us-east-1"], roleName: "OrgAdmin", stackName: "org.111111111111" },
                { accountId: "222222222222", region: "eu-west-1", regions: ["eu-west-1"], stackName: "org.222222222222" },
            ]);
        });

        it("applies exclusions before grouping, and gives discovered accounts every Region of `regions`", () => {
            const targets = deriveTargets(
                settings({
                    stackGranularity: "account",
                    targets: explicit,
                    organizationalUnitIds: ["r-ab12"],
                    regions: ["eu-west-1", "eu-north-1"],
                    excludeRegions: ["us-east-1"],
                }),
                { ...noDiscovery, discoveredAccounts: ["333333333333"] },
            );
            expect(targets.map((t) => [t.stackName, t.regions])).to.deep.equal([
                ["org.111111111111", ["eu-west-1"]],
                ["org.222222222222", ["eu-west-1"]],
                ["org.333333333333", ["eu-west-1", "eu-north-1"]],
            ]);
        });

        it("refuses an account whose entries give different roles for different Regions, naming the key that fixes it", () => {
            const split = [
                { accountId: "111111111111", regions: ["eu-west-1"], roleName: "OrgAdmin" },
                { accountId: "111111111111", regions: ["us-east-1"], roleName: "Other" },
            ];
            expect(() => deriveTargets(settings({ stackGranularity: "account", targets: split }), noDiscovery)).to.throw(
                TargetsError,
                /account 111111111111 has a different roleName or readOnlyRoleName in us-east-1 than in eu-west-1.*stackGranularity: accountRegion/,
            );
            expect(deriveTargets(settings({ targets: split }), noDiscovery)).to.have.length(2);
        });

        it("narrows a stack's config to its account and all its Regions", () => {
            const org = parseOrgConfig(
                [
                    "config:",
                    "  aws:region: eu-west-1",
                    "  sessionManager:sessionDataEncryption: false",
                    "  sessionManager:targets:",
                    '    - { accountId: "111111111111", regions: [eu-west-1, us-east-1], roleName: OrgAdmin }',
                ].join("\n"),
                "org.yaml",
            );
            const [target] = deriveTargets(org.settings, noDiscovery);
            const config = stackConfigFor(org, target);
            expect(config["aws:region"]).to.equal("eu-west-1");
            expect(JSON.parse(config["sessionManager:targets"])).to.deep.equal([
                { accountId: "111111111111", regions: ["eu-west-1", "us-east-1"], roleName: "OrgAdmin" },
            ]);
            expect(config).to.not.have.property("sessionManager:stackGranularity");
        });

        describe("overrides", () => {
            const sandbox = "ou-ab12-sandbox1";
            const orgText = (granularity: string) =>
                [
                    "config:",
                    "  aws:region: eu-west-1",
                    "  sessionManager:sessionDataEncryption: false",
                    `  sessionManager:stackGranularity: ${granularity}`,
                    "  sessionManager:organizationalUnitIds: [r-ab12]",
                    "  sessionManager:regions: [eu-west-1, us-east-1]",
                    "  sessionManager:targets:",
                    '    - { accountId: "222222222222", regions: [eu-west-1, us-east-1], roleName: OrgAdmin }',
                    "  sessionManager:overrides:",
                    `    - { name: sandbox, organizationalUnitIds: [${sandbox}], idleSessionTimeout: 60 }`,
                    '    - { name: regulated, accountIds: ["222222222222"], maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: ssm-reg }',
                    "    - { name: us-short, regions: [us-east-1], priority: 1, idleSessionTimeout: 10 }",
                ].join("\n");
            const parents = new Map([
                ["222222222222", ["r-ab12"]],
                ["333333333333", [sandbox, "r-ab12"]],
                ["444444444444", ["ou-ab12-other111", "r-ab12"]],
            ]);
            const discovery = { ...noDiscovery, discoveredAccounts: ["333333333333", "444444444444"], parents };
            const perStack = (config: Record<string, string>) =>
                parseSettings(
                    Object.fromEntries(
                        Object.entries(config)
                            .filter(([k]) => k.startsWith("sessionManager:"))
                            .map(([k, v]) => [k.slice("sessionManager:".length), v]),
                    ),
                );

            it("names, per target and Region, the override each changed field comes from", () => {
                const org = parseOrgConfig(orgText("account"), "org.yaml");
                const targets = new Map(deriveTargets(org.settings, discovery).map((t) => [t.accountId, t]));
                expect(targets.get("333333333333")?.overrides).to.deep.equal({
                    "eu-west-1": { idleSessionTimeout: "sandbox" },
                    "us-east-1": { idleSessionTimeout: "us-short" },
                });
                expect(targets.get("222222222222")?.overrides?.["eu-west-1"]).to.deep.equal({
                    runAsEnabled: "regulated",
                    runAsDefaultUser: "regulated",
                    maxSessionDuration: "regulated",
                });
                expect(targets.get("444444444444")?.overrides).to.deep.equal({ "us-east-1": { idleSessionTimeout: "us-short" } });
            });

            it("gives each stack the overrides of its account, by account ID instead of OU, so the stack resolves them as the rollout did", () => {
                const org = parseOrgConfig(orgText("account"), "org.yaml");
                for (const target of deriveTargets(org.settings, discovery)) {
                    const config = stackConfigFor(org, target);
                    const settings = perStack(config);
                    for (const o of settings.overrides) {
                        expect(o.accountIds, target.stackName).to.deep.equal([target.accountId]);
                        expect(o.organizationalUnitIds, target.stackName).to.deep.equal([]);
                    }
                    for (const region of target.regions ?? []) {
                        const inStack = preferencesFor(settings, { accountId: target.accountId, region });
                        const inRollout = preferencesFor(org.settings, { accountId: target.accountId, region, parents: parents.get(target.accountId) });
                        expect(inStack.preferences, `${target.stackName} ${region}`).to.deep.include(documentPreferencesOf(inRollout.preferences));
                        expect(inStack.sources).to.deep.equal(inRollout.sources);
                    }
                }
                const other = deriveTargets(org.settings, discovery).find((t) => t.accountId === "444444444444");
                expect(JSON.parse(stackConfigFor(org, other!)["sessionManager:overrides"])).to.deep.equal([
                    { name: "us-short", priority: 1, accountIds: ["444444444444"], regions: ["us-east-1"], idleSessionTimeout: 10 },
                ]);
            });

            it("leaves sessionManager:overrides out of a stack no override selects", () => {
                const org = parseOrgConfig(orgText("accountRegion"), "org.yaml");
                const target = deriveTargets(org.settings, discovery).find((t) => t.stackName === "org.444444444444.eu-west-1");
                expect(stackConfigFor(org, target!)).to.not.have.property("sessionManager:overrides");
            });

            it("refuses the whole rollout when two overrides of one priority set one key for a target, naming both and the target", () => {
                const org = parseOrgConfig(orgText("account").replace("priority: 1, ", ""), "org.yaml");
                expect(() => deriveTargets(org.settings, discovery))
                    .to.throw(ConfigErrors)
                    .with.property("message")
                    .that.includes("sandbox (overrides[0]) and us-short (overrides[2]) both set idleSessionTimeout for account 333333333333 Region us-east-1");
            });
        });

        it("reads a stack name back: account, and Region for a stack per account and Region", () => {
            expect(parseStackName("org", "org.111111111111")).to.deep.equal({ accountId: "111111111111" });
            expect(parseStackName("org", "org.111111111111.eu-west-1")).to.deep.equal({ accountId: "111111111111", region: "eu-west-1" });
            expect(parseStackName("org", "org.11111111111")).to.equal(undefined);
            expect(parseStackName("org", "other.111111111111")).to.equal(undefined);
            expect(parseStackName("a.b", "a.b.111111111111.us-gov-west-1")).to.deep.equal({ accountId: "111111111111", region: "us-gov-west-1" });
        });
    });

    describe("shards (--shard k/n)", () => {
        const accounts = Array.from({ length: 300 }, (_, i) => String(100000000000 + i * 7919));

        it("puts every account in exactly one shard, by its ID alone, and spreads them", () => {
            for (const n of [1, 3, 16]) {
                const shards = accounts.map((a) => shardOf(a, n));
                for (const k of shards) expect(k).to.be.within(1, n);
                const sizes = Array.from({ length: n }, (_, i) => shards.filter((k) => k === i + 1).length);
                // Within half of the even share either way: a hash, not a round robin.
                for (const size of sizes)
                    expect(size, `sizes ${sizes.join(",")}`).to.be.within(Math.floor(accounts.length / n / 2), Math.ceil((accounts.length / n) * 1.5));
            }
        });

        it("keeps each account where it was when accounts are added", () => {
            const before = new Map(accounts.slice(0, 200).map((a) => [a, shardOf(a, 4)]));
            for (const a of accounts.slice(0, 200)) expect(shardOf(a, 4)).to.equal(before.get(a));
        });

        it("derives only the shard's accounts, keeping an account's Regions together, and the shards together derive everything", () => {
            const s = settings({
                stackGranularity: "accountRegion",
                targets: accounts.slice(0, 12).map((a) => ({ accountId: a, regions: ["eu-west-1", "us-east-1"] })),
            });
            const all = deriveTargets(s, noDiscovery).map((t) => t.stackName);
            const shards = [1, 2, 3].map((index) => deriveTargets(s, { ...noDiscovery, shard: { index, count: 3 } }));
            expect(
                shards
                    .flat()
                    .map((t) => t.stackName)
                    .sort(),
            ).to.deep.equal([...all].sort());
            for (const shard of shards) for (const t of shard) expect(shardOf(t.accountId, 3)).to.equal(shardOf(shard[0].accountId, 3));
        });
    });

    describe("discovered accounts", () => {
        it("deploys each discovered account to every Region of `regions` with the discovery role", () => {
            const targets = deriveTargets(settings({ organizationalUnitIds: ["ou-ab12-cdef3456"], regions: ["eu-west-1", "eu-central-1"] }), {
                ...noDiscovery,
                discoveredAccounts: ["333333333333", "222222222222"],
            });
            expect(targets.map((t) => `${t.stackName} ${t.roleName}`)).to.deep.equal([
                "org.222222222222.eu-west-1 OrganizationAccountAccessRole",
                "org.222222222222.eu-central-1 OrganizationAccountAccessRole",
                "org.333333333333.eu-west-1 OrganizationAccountAccessRole",
                "org.333333333333.eu-central-1 OrganizationAccountAccessRole",
            ]);
        });

        it("gives discovered accounts the top-level read-only role, and refuses one that is the discovery role itself", () => {
            const s = settings({ organizationalUnitIds: ["ou-ab12-cdef3456"], regions: ["eu-west-1"], readOnlyRoleName: "SessionManagerReader" });
            const targets = deriveTargets(s, { ...noDiscovery, discoveredAccounts: ["222222222222"] });
            expect(targets.map((t) => [t.roleName, t.readOnlyRoleName])).to.deep.equal([["OrganizationAccountAccessRole", "SessionManagerReader"]]);
            expect(discoveryProblem(s, "eu-west-1", "OrganizationAccountAccessRole")).to.equal(undefined);
            expect(discoveryProblem(s, "eu-west-1", "SessionManagerReader")).to.include(
                "sessionManager:readOnlyRoleName is SessionManagerReader, the role --role-name makes the write role",
            );
        });

        it("falls back to aws:region when `regions` is empty", () => {
            const targets = deriveTargets(settings({ organizationalUnitIds: ["r-ab12"] }), {
                ...noDiscovery,
                discoveredAccounts: ["222222222222"],
                defaultRegion: "us-west-2",
            });
            expect(targets.map((t) => t.stackName)).to.deep.equal(["org.222222222222.us-west-2"]);
        });

        it("keeps an explicit target's own Regions and role when an OU also holds the account", () => {
            const targets = deriveTargets(
                settings({
                    targets: [{ accountId: "222222222222", regions: ["us-east-1"], roleName: "Custom" }],
                    organizationalUnitIds: ["r-ab12"],
                    regions: ["eu-west-1"],
                }),
                { ...noDiscovery, discoveredAccounts: ["222222222222", "333333333333"] },
            );
            expect(targets.map((t) => `${t.stackName} ${t.roleName}`)).to.deep.equal([
                "org.222222222222.us-east-1 Custom",
                "org.333333333333.eu-west-1 OrganizationAccountAccessRole",
            ]);
        });

        it("applies exclusions to discovered accounts", () => {
            const targets = deriveTargets(
                settings({
                    organizationalUnitIds: ["r-ab12"],
                    regions: ["eu-west-1", "us-east-1"],
                    excludeAccounts: ["333333333333"],
                    excludeRegions: ["us-east-1"],
                }),
                {
                    ...noDiscovery,
                    discoveredAccounts: ["222222222222", "333333333333"],
                },
            );
            expect(targets.map((t) => t.stackName)).to.deep.equal(["org.222222222222.eu-west-1"]);
        });
    });

    describe("per-target stack config", () => {
        const text = `
config:
  aws:region: eu-west-1
  sessionManager:idleSessionTimeout: 15
  sessionManager:sessionDataEncryption: false
  sessionManager:createCWLogGroup: false
  sessionManager:instancePolicy: false
  sessionManager:excludeRegions: [us-east-1]
  sessionManager:targets:
    - accountId: "111111111111"
      regions: [eu-west-1, us-east-1]
      roleName: OrgAdmin
`;

        it("narrows targets to the one account and Region and sets aws:region, keeping every preference", () => {
            const org = parseOrgConfig(text, "Pulumi.test.yaml");
            const [target] = deriveTargets(org.settings, noDiscovery);
            const config = stackConfigFor(org, target);
            expect(config).to.deep.equal({
                "aws:region": "eu-west-1",
                "sessionManager:idleSessionTimeout": "15",
                "sessionManager:sessionDataEncryption": "false",
                "sessionManager:createCWLogGroup": "false",
                "sessionManager:instancePolicy": "false",
                "sessionManager:targets": JSON.stringify([{ accountId: "111111111111", regions: ["eu-west-1"], roleName: "OrgAdmin" }]),
            });
            // What the program will see must be valid and mean the same preferences.
            const perStack = parseSettings(
                Object.fromEntries(
                    Object.entries(config)
                        .filter(([k]) => k.startsWith("sessionManager:"))
                        .map(([k, v]) => [k.slice("sessionManager:".length), v]),
                ),
            );
            expect(perStack.idleSessionTimeout).to.equal(15);
            expect(perStack.targets).to.deep.equal([{ accountId: "111111111111", regions: ["eu-west-1"], roleName: "OrgAdmin" }]);
        });

        it("hands each stack its target's read-only role", () => {
            const org = parseOrgConfig(text.replace("roleName: OrgAdmin", "roleName: OrgAdmin\n      readOnlyRoleName: OrgReader"), "Pulumi.test.yaml");
            const [target] = deriveTargets(org.settings, noDiscovery);
            expect(JSON.parse(stackConfigFor(org, target)["sessionManager:targets"])).to.deep.equal([
                { accountId: "111111111111", regions: ["eu-west-1"], roleName: "OrgAdmin", readOnlyRoleName: "OrgReader" },
            ]);
        });

        it("rejects a stackset deployment, which is not one stack per target", () => {
            expect(() => parseOrgConfig(`${text}  sessionManager:deployment: stackset\n  sessionManager:organizationalUnitIds: [r-ab12]\n`, "f.yaml")).to.throw(
                /deployment is "stackset"/,
            );
        });

        it("names the key of an invalid value, like a stack would", () => {
            expect(() => parseOrgConfig("config:\n  sessionManager:idleSessionTimeout: 90\n", "f.yaml")).to.throw(
                /sessionManager:idleSessionTimeout: 90 is not valid/,
            );
        });

        it("refuses secrets, which per-target stacks could not decrypt", () => {
            expect(() => parseOrgConfig("config:\n  sessionManager:s3BucketName:\n    secure: AAAB\n", "f.yaml")).to.throw(/s3BucketName is a secret/);
        });
    });

    describe("OU discovery against moto Organizations", function () {
        this.timeout(60_000);
        let moto: Moto;
        let client: OrganizationsClient;
        const saved = { ...process.env };
        const ids: Record<string, string> = {};

        const createAccount = (name: string, parentId: string, rootId: string) => createMotoAccount(client, name, parentId, rootId);

        before(async () => {
            moto = await startMoto();
            Object.assign(process.env, motoEnv(moto));
            client = new OrganizationsClient({ region: "us-east-1" });
            await client.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
            const roots = await client.send(new ListRootsCommand({}));
            ids.root = roots.Roots?.[0].Id as string;
            ids.workloads = (await client.send(new CreateOrganizationalUnitCommand({ ParentId: ids.root, Name: "Workloads" }))).OrganizationalUnit
                ?.Id as string;
            ids.prod = (await client.send(new CreateOrganizationalUnitCommand({ ParentId: ids.workloads, Name: "Prod" }))).OrganizationalUnit?.Id as string;
            ids.sandbox = (await client.send(new CreateOrganizationalUnitCommand({ ParentId: ids.root, Name: "Sandbox" }))).OrganizationalUnit?.Id as string;
            ids.app = await createAccount("app", ids.workloads, ids.root);
            ids.db = await createAccount("db", ids.prod, ids.root);
            ids.play = await createAccount("play", ids.sandbox, ids.root);
            ids.loose = await createAccount("loose", ids.root, ids.root);
        });

        after(async () => {
            for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
            Object.assign(process.env, saved);
            await moto?.stop();
        });

        it("lists the accounts of an OU and of its child OUs", async () => {
            expect(await discoverAccounts(client, [ids.workloads])).to.deep.equal([ids.app, ids.db].sort());
        });

        it("lists an account once when an OU and its parent are both given", async () => {
            expect(await discoverAccounts(client, [ids.prod, ids.workloads])).to.deep.equal([ids.app, ids.db].sort());
        });

        it("walks the whole tree from the root, management account included", async () => {
            const all = await discoverAccounts(client, [ids.root]);
            expect(all).to.include.members([ids.app, ids.db, ids.play, ids.loose]);
            expect(all).to.have.length(5);
        });

        it("says where each account sits: the OUs above it up to the OU listed, or up to the root with ancestors", async () => {
            const found = await discoverOrganization(client, [ids.workloads]);
            expect(found.parents.get(ids.db)).to.deep.equal([ids.prod, ids.workloads]);
            expect(found.parents.get(ids.app)).to.deep.equal([ids.workloads]);
            const full = await discoverOrganization(client, [ids.prod], { ancestors: true });
            expect(full.parents.get(ids.db)).to.deep.equal([ids.prod, ids.workloads, ids.root]);
        });

        it("looks up the OUs above accounts it was not given, and keeps those it knows", async () => {
            expect(await parentsOf(client, ids.db)).to.deep.equal([ids.prod, ids.workloads, ids.root]);
            const known = new Map([[ids.app, ["ou-known-11111111"]]]);
            const chains = await parentsOfAccounts(client, [ids.app, ids.play, ids.loose], known);
            expect(Object.fromEntries(chains)).to.deep.equal({
                [ids.app]: ["ou-known-11111111"],
                [ids.play]: [ids.sandbox, ids.root],
                [ids.loose]: [ids.root],
            });
        });

        it("leaves out accounts that are not ACTIVE", async () => {
            const closing = await createAccount("closing", ids.sandbox, ids.root);
            await client.send(new CloseAccountCommand({ AccountId: closing }));
            expect(await discoverAccounts(client, [ids.sandbox])).to.deep.equal([ids.play]);
        });

        it("feeds the target list, exclusions applied", async () => {
            const org = parseOrgConfig(
                [
                    "config:",
                    "  sessionManager:sessionDataEncryption: false",
                    `  sessionManager:organizationalUnitIds: [${ids.workloads}, ${ids.sandbox}]`,
                    "  sessionManager:regions: [eu-west-1, us-east-1]",
                    `  sessionManager:excludeAccounts: ["${ids.play}"]`,
                    "  sessionManager:excludeRegions: [us-east-1]",
                    "  sessionManager:stackGranularity: accountRegion",
                ].join("\n"),
                "org.yaml",
            );
            const discovered = await discoverAccounts(client, org.settings.organizationalUnitIds);
            const targets = deriveTargets(org.settings, { ...noDiscovery, discoveredAccounts: discovered });
            expect(targets.map((t) => t.stackName)).to.deep.equal([ids.app, ids.db].sort().map((a) => `org.${a}.eu-west-1`));
        });
    });
});
