// Overrides (the `overrides` key): parsing, which override applies to which target, the
// priority rule between two that set one key, and cross-field rules on the merged result.
import { expect } from "chai";
import { ConfigError, ConfigErrors, parseSettings, parseStackSettings, preferencesFor } from "../core/config";
import { describeSources, selectsByOrganizationalUnit } from "../core/overrides";
import { knownRegions } from "../providers/regionCatalogue";

const sandboxOu = "ou-ab12-sandbox1";
const regulated = "222222222222";

/** The organization of the issue: a sandbox OU with 60-minute idle sessions, and one regulated account with 12-hour sessions and Run As. */
const example = {
    idleSessionTimeout: 20,
    maxSessionDuration: 60,
    overrides: [
        { name: "sandbox", organizationalUnitIds: [sandboxOu], idleSessionTimeout: 60 },
        { name: "regulated", accountIds: [regulated], maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: "ssm-user" },
    ],
};

function errorsOf(raw: Record<string, unknown>): ConfigError[] {
    try {
        parseSettings(raw);
    } catch (err) {
        expect(err).to.be.instanceOf(ConfigErrors);
        return (err as ConfigErrors).errors;
    }
    throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

function expectOneError(raw: Record<string, unknown>, key: string, fragment: string): void {
    const errors = errorsOf(raw);
    expect(errors, errors.map((e) => e.message).join("\n")).to.have.length(1);
    expect(errors[0].key).to.equal(key);
    expect(errors[0].message).to.include(`sessionManager:${key}`).and.include(fragment);
}

function resolutionErrors(raw: Record<string, unknown>, placement: Parameters<typeof preferencesFor>[1]): ConfigError[] {
    const settings = parseSettings(raw);
    try {
        preferencesFor(settings, placement);
    } catch (err) {
        expect(err).to.be.instanceOf(ConfigErrors);
        return (err as ConfigErrors).errors;
    }
    throw new Error("expected the target's preferences to be refused");
}

describe("overrides", () => {
    describe("which override applies where", () => {
        const settings = parseSettings(example);

        it("leaves a target no override selects with the base settings and no sources", () => {
            const { preferences, sources } = preferencesFor(settings, { accountId: "111111111111", region: "eu-west-1", parents: ["r-ab12"] });
            expect(preferences.idleSessionTimeout).to.equal(20);
            expect(preferences.maxSessionDuration).to.equal(60);
            expect(sources).to.deep.equal({});
        });

        it("applies an OU's override to accounts anywhere below it, child OUs included", () => {
            const { preferences, sources } = preferencesFor(settings, {
                accountId: "333333333333",
                region: "eu-west-1",
                parents: ["ou-ab12-child111", sandboxOu, "r-ab12"],
            });
            expect(preferences.idleSessionTimeout).to.equal(60);
            expect(preferences.maxSessionDuration).to.equal(60);
            expect(sources).to.deep.equal({ idleSessionTimeout: "sandbox" });
        });

        it("applies an account's override with every field it sets, and names it per field", () => {
            const { preferences, sources } = preferencesFor(settings, { accountId: regulated, region: "us-east-1", parents: ["r-ab12"] });
            expect(preferences).to.include({ maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: "ssm-user", idleSessionTimeout: 20 });
            expect(sources).to.deep.equal({ maxSessionDuration: "regulated", runAsEnabled: "regulated", runAsDefaultUser: "regulated" });
            expect(describeSources(sources)).to.equal("runAsEnabled from regulated, runAsDefaultUser from regulated, maxSessionDuration from regulated");
        });

        it("applies two overrides that set different keys to an account both select", () => {
            const { preferences, sources } = preferencesFor(settings, { accountId: regulated, region: "us-east-1", parents: [sandboxOu, "r-ab12"] });
            expect(preferences).to.include({ idleSessionTimeout: 60, maxSessionDuration: 720 });
            expect(sources).to.include({ idleSessionTimeout: "sandbox", maxSessionDuration: "regulated" });
        });

        it("needs every selector given to match: an account's override limited to a Region leaves its other Regions alone", () => {
            const s = parseSettings({ overrides: [{ name: "eu", accountIds: [regulated], regions: ["eu-west-1"], idleSessionTimeout: 5 }] });
            expect(preferencesFor(s, { accountId: regulated, region: "eu-west-1" }).preferences.idleSessionTimeout).to.equal(5);
            expect(preferencesFor(s, { accountId: regulated, region: "us-east-1" }).preferences.idleSessionTimeout).to.equal(20);
            expect(preferencesFor(s, { accountId: "111111111111", region: "eu-west-1" }).preferences.idleSessionTimeout).to.equal(20);
        });

        it("says whether the OUs above each account must be looked up", () => {
            expect(selectsByOrganizationalUnit(settings.overrides)).to.equal(true);
            expect(
                selectsByOrganizationalUnit(parseSettings({ overrides: [{ name: "a", regions: ["eu-west-1"], idleSessionTimeout: 5 }] }).overrides),
            ).to.equal(false);
        });

        it("refuses to guess when an override selects by OU and the account's OUs are unknown", () => {
            expect(() => preferencesFor(settings, { accountId: "111111111111", region: "eu-west-1" })).to.throw(/selects by OU.*not known/);
        });
    });

    describe("two overrides that set one key for one target", () => {
        const both = (priorities: [number?, number?]) => ({
            overrides: [
                {
                    name: "sandbox",
                    organizationalUnitIds: [sandboxOu],
                    idleSessionTimeout: 60,
                    ...(priorities[0] === undefined ? {} : { priority: priorities[0] }),
                },
                { name: "tight", accountIds: [regulated], idleSessionTimeout: 10, ...(priorities[1] === undefined ? {} : { priority: priorities[1] }) },
            ],
        });
        const inSandbox = { accountId: regulated, region: "eu-west-1", parents: [sandboxOu] };

        it("is an error naming both overrides, the key and the target when neither has a higher priority", () => {
            const errors = resolutionErrors(both([undefined, undefined]), inSandbox);
            expect(errors).to.have.length(1);
            expect(errors[0].key).to.equal("overrides[1].idleSessionTimeout");
            expect(errors[0].message)
                .to.include("sandbox (overrides[0])")
                .and.include("tight (overrides[1])")
                .and.include(`account ${regulated} Region eu-west-1`)
                .and.include("higher priority");
        });

        it("is the same error whichever comes first in the list: the list's order decides nothing", () => {
            const raw = both([undefined, undefined]);
            const errors = resolutionErrors({ overrides: [...raw.overrides].reverse() }, inSandbox);
            expect(errors[0].message).to.include("both set idleSessionTimeout");
        });

        it("lets the higher priority win, in either order", () => {
            const s = parseSettings(both([undefined, 1]));
            expect(preferencesFor(s, inSandbox).preferences.idleSessionTimeout).to.equal(10);
            expect(preferencesFor(s, inSandbox).sources).to.deep.equal({ idleSessionTimeout: "tight" });
            const reversed = parseSettings({ overrides: [...both([2, 1]).overrides].reverse() });
            expect(preferencesFor(reversed, inSandbox).preferences.idleSessionTimeout).to.equal(60);
        });

        it("is no problem for a target only one of them selects", () => {
            const s = parseSettings(both([undefined, undefined]));
            expect(preferencesFor(s, { accountId: regulated, region: "eu-west-1", parents: ["r-ab12"] }).preferences.idleSessionTimeout).to.equal(10);
            expect(preferencesFor(s, { accountId: "444444444444", region: "eu-west-1", parents: [sandboxOu] }).preferences.idleSessionTimeout).to.equal(60);
        });
    });

    describe("cross-field rules on the merged result", () => {
        it("refuses, as it is parsed, an override whose idle timeout passes the base maximum", () => {
            expectOneError(
                { overrides: [{ name: "long", accountIds: [regulated], idleSessionTimeout: 61 }] },
                "overrides[0].idleSessionTimeout",
                "from 1 to 60",
            );
            expectOneError(
                { maxSessionDuration: 30, overrides: [{ name: "long", accountIds: [regulated], idleSessionTimeout: 45 }] },
                "overrides[0].idleSessionTimeout",
                "at most maxSessionDuration (30 minutes)",
            );
        });

        it("refuses Run As without a user in an override, naming the override's key", () => {
            expectOneError(
                { overrides: [{ name: "ra", accountIds: [regulated], runAsEnabled: true }] },
                "runAsDefaultUser",
                "required when overrides[0].runAsEnabled is true",
            );
        });

        it("refuses, per target, two overrides that are fine alone but not together", () => {
            const raw = {
                overrides: [
                    { name: "short", accountIds: [regulated], maxSessionDuration: 30 },
                    { name: "idle", organizationalUnitIds: [sandboxOu], idleSessionTimeout: 45 },
                ],
            };
            const errors = resolutionErrors(raw, { accountId: regulated, region: "eu-west-1", parents: [sandboxOu] });
            expect(errors).to.have.length(1);
            expect(errors[0].message)
                .to.include("overrides[1].idleSessionTimeout")
                .and.include(`account ${regulated} Region eu-west-1`)
                .and.include("at most overrides[0].maxSessionDuration");
        });

        it("refuses, per target, two profiles from two overrides that together push the document past SSM's limit", () => {
            const raw = {
                overrides: [
                    { name: "linux", accountIds: [regulated], linuxShellProfile: "x".repeat(34_000) },
                    { name: "windows", regions: ["eu-west-1"], winShellProfile: "y".repeat(34_000) },
                ],
            };
            expect(preferencesFor(parseSettings(raw), { accountId: regulated, region: "us-east-1" }).preferences.linuxShellProfile).to.have.length(34_000);
            const errors = resolutionErrors(raw, { accountId: regulated, region: "eu-west-1" });
            expect(errors).to.have.length(1);
            expect(errors[0].message).to.include(`for account ${regulated} Region eu-west-1`).and.include("SSM documents are limited to");
        });

        it("refuses a shell profile that pushes one target's document past SSM's limit", () => {
            expectOneError(
                { overrides: [{ name: "big", accountIds: [regulated], linuxShellProfile: "x".repeat(70_000) }] },
                "overrides[0].linuxShellProfile",
                "bytes",
            );
        });
    });

    describe("bad input, before anything runs", () => {
        const one = (o: Record<string, unknown>) => ({ overrides: [o] });

        it("takes the list as the JSON string `pulumi config set` writes", () => {
            const s = parseSettings({ overrides: JSON.stringify(example.overrides) });
            expect(s.overrides.map((o) => o.name)).to.deep.equal(["sandbox", "regulated"]);
            expect(s.overrides[1].set).to.deep.equal({ maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: "ssm-user" });
        });

        it("takes the settings parseSettings returned, as the components do (the preferences under set)", () => {
            const parsed = parseSettings(example);
            expect(parseSettings({ overrides: parsed.overrides }).overrides).to.deep.equal(parsed.overrides);
            expectOneError(
                { overrides: [{ name: "twice", accountIds: [regulated], idleSessionTimeout: 5, set: { idleSessionTimeout: 6 } }] },
                "overrides[0].set.idleSessionTimeout",
                "set once",
            );
            expectOneError({ overrides: [{ name: "bad", accountIds: [regulated], set: "idle" }] }, "overrides[0].set", "an object of the preference keys");
        });

        for (const bad of [{}, "sandbox", 5, true]) {
            it(`refuses overrides: ${JSON.stringify(bad)}, which is not a list`, () => {
                expectOneError({ overrides: bad }, "overrides", "a list of { name");
            });
        }

        it("refuses an entry that is not an object", () => {
            expectOneError({ overrides: ["sandbox"] }, "overrides[0]", "an object");
        });

        for (const name of [undefined, "", "has space", "-leading", "x".repeat(65), 7]) {
            it(`refuses the name ${JSON.stringify(name)}`, () => {
                expectOneError(one({ name, accountIds: [regulated], idleSessionTimeout: 5 }), "overrides[0].name", "1 to 64 letters");
            });
        }

        it("refuses two overrides of one name", () => {
            const o = { name: "same", accountIds: [regulated], idleSessionTimeout: 5 };
            expectOneError({ overrides: [o, { ...o, accountIds: ["111111111111"] }] }, "overrides[1].name", "overrides[0] is same too");
        });

        it("refuses an override that selects nothing: it would be the base setting", () => {
            expectOneError(one({ name: "all", idleSessionTimeout: 5 }), "overrides[0]", "at least one of accountIds, organizationalUnitIds and regions");
        });

        it("refuses an override that sets nothing", () => {
            expectOneError(one({ name: "none", accountIds: [regulated] }), "overrides[0]", "at least one preference to set");
        });

        it("refuses a near-miss field with the closest one", () => {
            expectOneError(
                one({ name: "typo", accountIds: [regulated], idleSessionTimeOut: 5 }),
                "overrides[0].idleSessionTimeOut",
                "did you mean idleSessionTimeout?",
            );
            expectOneError(one({ name: "typo", acountIds: [regulated], idleSessionTimeout: 5 }), "overrides[0].acountIds", "did you mean accountIds?");
        });

        for (const key of ["logRetentionInDays", "cwLogGroupName", "sessionDataEncryption", "onDelete", "deployment"]) {
            it(`refuses ${key}, which decides which resources exist, and says why`, () => {
                expectOneError(one({ name: "res", accountIds: [regulated], [key]: "x" }), `overrides[0].${key}`, "not a key an override can set");
            });
        }

        it("refuses bad selector values with the rule each breaks", () => {
            expectOneError(one({ name: "a", accountIds: ["12345"], idleSessionTimeout: 5 }), "overrides[0].accountIds[0]", "12");
            expectOneError(
                one({ name: "a", organizationalUnitIds: ["sandbox"], idleSessionTimeout: 5 }),
                "overrides[0].organizationalUnitIds[0]",
                "ou-xxxx-xxxxxxxx",
            );
            expectOneError(one({ name: "a", regions: ["Europe"], idleSessionTimeout: 5 }), "overrides[0].regions[0]", "Region");
            expectOneError(one({ name: "a", accountIds: [regulated, regulated], idleSessionTimeout: 5 }), "overrides[0].accountIds[1]", "each entry once");
        });

        for (const priority of [-1, 1001, 1.5, "high"]) {
            it(`refuses priority ${JSON.stringify(priority)}`, () => {
                expectOneError(one({ name: "p", accountIds: [regulated], idleSessionTimeout: 5, priority }), "overrides[0].priority", "from 0 to 1000");
            });
        }

        it("checks each preference it sets with the base key's rule", () => {
            expectOneError(one({ name: "b", accountIds: [regulated], s3BucketName: "Not_A_Bucket" }), "overrides[0].s3BucketName", "");
            expectOneError(one({ name: "b", accountIds: [regulated], runAsEnabled: "yes" }), "overrides[0].runAsEnabled", "true or false");
        });

        it("refuses a Region the SDK does not know, with the closest one", () => {
            try {
                parseStackSettings({ "sessionManager:overrides": [{ name: "r", regions: ["eu-wst-1"], idleSessionTimeout: 5 }] }, knownRegions());
                expect.fail("parsed");
            } catch (err) {
                expect((err as Error).message)
                    .to.include("sessionManager:overrides[0].regions[0]")
                    .and.include("did you mean eu-west-1?");
            }
        });

        it("refuses an override of where logs go when a log archive decides it", () => {
            const archive = { accountId: "999900001111", organizationId: "o-a1b2c3d4e5", regions: ["eu-west-1"], bucketName: "archive-logs" };
            for (const key of ["s3BucketName", "s3KeyPrefix", "s3Logging"]) {
                const value = key === "s3Logging" ? false : "team-logs";
                expectOneError(
                    { logArchive: archive, overrides: [{ name: "team", accountIds: [regulated], [key]: value }] },
                    `overrides[0].${key}`,
                    "unset when logArchive is set",
                );
            }
        });
    });
});
