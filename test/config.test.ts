import { expect } from "chai";
import * as fc from "fast-check";
import { ConfigError, ConfigErrors, knownKeys, parseSettings, parseStackSettings } from "../core/config";
import { desiredDocument } from "../core/document";
import { knownRegions } from "../providers/regionCatalogue";
import { resolveKeyArnTemplate } from "../core/rules";
import { defaultOrganizationSettings, defaultPreferences } from "../core/settings";

/** The one error a bad configuration produces; fails the test if it parses. */
function errorFor(raw: Record<string, unknown>): ConfigError {
    try {
        parseSettings(raw);
    } catch (err) {
        expect(err).to.be.instanceOf(ConfigErrors);
        const errors = (err as ConfigErrors).errors;
        expect(errors, (err as Error).message).to.have.length(1);
        return errors[0];
    }
    throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

function expectRejected(raw: Record<string, unknown>, key: string, allowedFragment: string): void {
    const error = errorFor(raw);
    expect(error.key).to.equal(key);
    expect(error.message).to.include(`sessionManager:${key}`);
    expect(error.message).to.include(allowedFragment);
    const value = Object.values(raw)[0];
    if (typeof value === "string" && value.length < 100) expect(error.message).to.include(JSON.stringify(value).slice(0, 100));
}

describe("configuration", () => {
    describe("defaults", () => {
        it("are the CloudFormation sample's parameter defaults when nothing is set", () => {
            const s = parseSettings({});
            expect(s).to.deep.include({
                s3Logging: false,
                s3KeyPrefix: "sessionmanager",
                s3EncryptionEnabled: true,
                createCWLogGroup: true,
                cwLogGroupName: "ssm-sessionmanager-logs",
                cwEncryptionEnabled: true,
                cwStreamingEnabled: false,
                sessionDataEncryption: true,
                runAsEnabled: false,
                runAsDefaultUser: "",
                idleSessionTimeout: 20,
                maxSessionDuration: 60,
                winShellProfile: "",
                linuxShellProfile: "",
            });
        });

        it("adds this product's keys with safe defaults", () => {
            const s = parseSettings({});
            expect(s).to.deep.include({
                kmsKeyRotation: true,
                logRetentionInDays: 90,
                instancePolicy: true,
                instanceRoleNames: [],
                onDelete: "restore",
                keepDocumentVersions: 100,
                deployment: "direct",
                targets: [],
                takeOver: false,
            });
            expect(s.sessionDataKeyArn).to.equal(undefined);
            expect(s).to.deep.include(defaultOrganizationSettings);
        });

        it("covers every preference key", () => {
            for (const key of Object.keys(defaultPreferences)) expect(knownKeys).to.include(key);
        });
    });

    describe("value spellings", () => {
        it("accepts booleans and numbers as YAML values or as the strings `pulumi config set` writes", () => {
            const fromYaml = parseSettings({ s3Logging: true, s3BucketName: "logs-bucket", idleSessionTimeout: 15 });
            const fromCli = parseSettings({ s3Logging: "true", s3BucketName: "logs-bucket", idleSessionTimeout: "15" });
            expect(fromCli).to.deep.equal(fromYaml);
        });

        it("accepts lists and targets as JSON strings", () => {
            const s = parseSettings({
                targets: '[{"accountId":"111111111111","regions":["eu-west-1"],"roleName":"OrgAdmin"}]',
                instanceRoleNames: '["web","batch"]',
            });
            expect(s.targets).to.deep.equal([{ accountId: "111111111111", regions: ["eu-west-1"], roleName: "OrgAdmin" }]);
            expect(s.instanceRoleNames).to.deep.equal(["web", "batch"]);
        });

        it("rejects a boolean written any other way", () => {
            expectRejected({ s3Logging: "yes" }, "s3Logging", "true or false");
        });
    });

    describe("idleSessionTimeout and maxSessionDuration", () => {
        it("accepts the edges 1..60 and 1..1440", () => {
            expect(parseSettings({ idleSessionTimeout: 1, maxSessionDuration: 1 }).idleSessionTimeout).to.equal(1);
            expect(parseSettings({ idleSessionTimeout: 60, maxSessionDuration: 1440 }).maxSessionDuration).to.equal(1440);
        });

        // Digits only: a stray space or a decimal point is more likely a typo than a number.
        for (const bad of [0, 61, -5, 20.5, "twenty", "20m", " 20", "20.0", "\t20\n", "+20", ""]) {
            it(`rejects idleSessionTimeout ${JSON.stringify(bad)}`, () => {
                expectRejected({ idleSessionTimeout: bad }, "idleSessionTimeout", "a whole number from 1 to 60");
            });
        }

        for (const bad of [0, 1441, 90.5]) {
            it(`rejects maxSessionDuration ${JSON.stringify(bad)}`, () => {
                expectRejected({ maxSessionDuration: bad }, "maxSessionDuration", "a whole number from 1 to 1440");
            });
        }

        it("rejects an idle timeout longer than the maximum session", () => {
            expectRejected({ idleSessionTimeout: 45, maxSessionDuration: 30 }, "idleSessionTimeout", "at most maxSessionDuration (30 minutes)");
        });

        it("accepts every integer in range and rejects every one outside (property)", () => {
            fc.assert(
                fc.property(fc.integer({ min: -5000, max: 5000 }), (n) => {
                    const ok = n >= 1 && n <= 1440;
                    let accepted = true;
                    try {
                        parseSettings({ maxSessionDuration: n, idleSessionTimeout: 1 });
                    } catch {
                        accepted = false;
                    }
                    return accepted === ok;
                }),
            );
        });
    });

    describe("Run As", () => {
        it("requires a user when enabled", () => {
            expectRejected({ runAsEnabled: true }, "runAsDefaultUser", "required when runAsEnabled is true");
        });

        for (const bad of ["Admin", "1user", "user name", "a".repeat(33), "root;rm"]) {
            it(`rejects the user name ${JSON.stringify(bad)}`, () => {
                expectRejected({ runAsDefaultUser: bad }, "runAsDefaultUser", "a Linux user name");
            });
        }

        for (const good of ["ec2-user", "_svc", "ssm_user", "a".repeat(32)]) {
            it(`accepts the user name ${good}`, () => {
                expect(parseSettings({ runAsEnabled: true, runAsDefaultUser: good }).runAsDefaultUser).to.equal(good);
            });
        }
    });

    describe("S3 logging", () => {
        it("requires a bucket when enabled", () => {
            expectRejected({ s3Logging: true }, "s3BucketName", "required when s3Logging is true");
        });

        for (const bad of [
            "ab",
            "Upper-Case",
            "has_underscore",
            "-leading",
            "trailing-",
            "two..dots",
            "192.168.1.1",
            "xn--bucket",
            "bucket-s3alias",
            "a".repeat(64),
        ]) {
            it(`rejects the bucket name ${JSON.stringify(bad)}`, () => {
                expectRejected({ s3BucketName: bad }, "s3BucketName", "an S3 bucket name");
            });
        }

        for (const good of ["abc", "my.logs-bucket-01", "a".repeat(63)]) {
            it(`accepts the bucket name ${good.length > 20 ? `of ${good.length} characters` : good}`, () => {
                expect(parseSettings({ s3Logging: true, s3BucketName: good }).s3BucketName).to.equal(good);
            });
        }

        it("rejects a key prefix with characters S3 keys should not hold", () => {
            expectRejected({ s3KeyPrefix: "logs/{account}" }, "s3KeyPrefix", "letters, digits");
        });
    });

    describe("CloudWatch Logs", () => {
        it("rejects an empty log group name and points at cwLogging for S3-only or no session logging", () => {
            expectRejected({ cwLogGroupName: "" }, "cwLogGroupName", "set cwLogging to false");
        });

        it("turns CloudWatch logging off with cwLogging: false, so the document names no group", () => {
            const settings = parseSettings({ cwLogging: "false", s3Logging: true, s3BucketName: "org-session-logs" });
            expect(settings.cwLogging).to.equal(false);
            expect(desiredDocument(settings, { accountId: "111122223333", region: "eu-west-1", kmsKeyId: "" }).inputs.cloudWatchLogGroupName).to.equal("");
        });

        for (const bad of ["has space", "aws/reserved", "x".repeat(513), "semi;colon"]) {
            it(`rejects the log group name ${JSON.stringify(bad.length > 20 ? `${bad.slice(0, 5)}...` : bad)}`, () => {
                expectRejected({ cwLogGroupName: bad }, "cwLogGroupName", "a CloudWatch Logs group name");
            });
        }

        it("accepts a path-like log group name", () => {
            expect(parseSettings({ cwLogGroupName: "/org/ssm/sessions#1" }).cwLogGroupName).to.equal("/org/ssm/sessions#1");
        });

        for (const bad of [2, 31, 366, 10000]) {
            it(`rejects retention ${bad}, which CloudWatch does not accept`, () => {
                expectRejected({ logRetentionInDays: bad }, "logRetentionInDays", "retention periods CloudWatch Logs accepts");
            });
        }

        for (const good of [0, 1, 365, 3653]) {
            it(`accepts retention ${good}`, () => {
                expect(parseSettings({ logRetentionInDays: good }).logRetentionInDays).to.equal(good);
            });
        }
    });

    describe("shell profiles", () => {
        it("accepts a profile that keeps the document under SSM's size limit", () => {
            expect(parseSettings({ linuxShellProfile: "x".repeat(60_000) }).linuxShellProfile).to.have.length(60_000);
        });

        it("rejects a profile that would push the document over SSM's size limit", () => {
            const error = errorFor({ linuxShellProfile: "x".repeat(66_000) });
            expect(error.key).to.equal("linuxShellProfile");
            expect(error.message).to.include("limited to 65536 bytes");
        });

        it("counts both profiles together", () => {
            const error = errorFor({ linuxShellProfile: "x".repeat(33_000), winShellProfile: "y".repeat(33_000) });
            expect(error.message).to.include("limited to 65536 bytes");
        });
    });

    describe("sessionDataKeyArn", () => {
        for (const good of [
            "arn:aws:kms:eu-west-1:111111111111:key/0b7a1e4c-5f2d-4a9e-8c3b-2d6f1a9e7c44",
            "arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef",
            "arn:aws-cn:kms:cn-north-1:111111111111:key/0b7a1e4c-5f2d-4a9e-8c3b-2d6f1a9e7c44",
            "arn:aws:kms:eu-west-1:111111111111:key/mrk-28a469e0-6f25-4f28-9c45-42dd59b6401e",
        ]) {
            it(`accepts ${good.split(":")[1]} key ARNs`, () => {
                expect(parseSettings({ sessionDataKeyArn: good }).sessionDataKeyArn).to.equal(good);
            });
        }

        it("accepts {region} and {accountId} placeholders, for a multi-Region or per-account key", () => {
            const arn = "arn:aws:kms:{region}:{accountId}:key/mrk-0123456789abcdef0123456789abcdef";
            expect(parseSettings({ sessionDataKeyArn: arn }).sessionDataKeyArn).to.equal(arn);
            expect(resolveKeyArnTemplate(arn, { accountId: "111111111111", region: "eu-west-1" })).to.equal(
                "arn:aws:kms:eu-west-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef",
            );
        });

        for (const bad of [
            "arn:aws:kms:{regions}:111111111111:key/mrk-0123456789abcdef0123456789abcdef",
            "0b7a1e4c-5f2d-4a9e-8c3b-2d6f1a9e7c44",
            "arn:aws:kms:eu-west-1:111111111111:alias/session",
            "arn:aws:s3:::bucket",
        ]) {
            it(`rejects ${bad}`, () => {
                expectRejected({ sessionDataKeyArn: bad }, "sessionDataKeyArn", "a KMS key ARN");
            });
        }
    });

    describe("targets", () => {
        it("rejects an account ID that is not 12 digits", () => {
            const error = errorFor({ targets: [{ accountId: "12345", regions: ["eu-west-1"] }] });
            expect(error.key).to.equal("targets[0].accountId");
            expect(error.message).to.include("a 12-digit AWS account ID");
        });

        it("rejects an account ID that YAML read as a number and lost its leading zero", () => {
            const error = errorFor({ targets: [{ accountId: 12345678901, regions: ["eu-west-1"] }] });
            expect(error.message).to.include("quote it in YAML");
        });

        for (const bad of ["eu-west", "EU-WEST-1", "euwest1", "eu_west_1", "mars-north-1a"]) {
            it(`rejects the malformed Region ${bad}`, () => {
                const error = errorFor({ targets: [{ accountId: "111111111111", regions: [bad] }] });
                expect(error.key).to.equal("targets[0].regions[0]");
                expect(error.message).to.include("an AWS Region name");
            });
        }

        it("rejects the same account and Region twice, naming both entries", () => {
            const error = errorFor({
                targets: [
                    { accountId: "111111111111", regions: ["eu-west-1", "us-east-1"] },
                    { accountId: "111111111111", regions: ["us-east-1"], roleName: "Other" },
                ],
            });
            expect(error.key).to.equal("targets[1]");
            expect(error.message).to.include("account 111111111111 Region us-east-1 is already a target in targets[0]");
        });

        it("rejects an unknown target field with the closest one", () => {
            const error = errorFor({ targets: [{ accountId: "111111111111", region: ["eu-west-1"] }] });
            expect(error.message).to.include("did you mean regions?");
        });

        it("requires at least one Region per account", () => {
            expect(errorFor({ targets: [{ accountId: "111111111111", regions: [] }] }).key).to.equal("targets[0].regions");
        });
    });

    describe("read-only roles", () => {
        const target = (extra: Record<string, unknown> = {}) => ({ accountId: "111111111111", regions: ["eu-west-1"], roleName: "Deployer", ...extra });

        it("gives every target the top-level readOnlyRoleName unless it names its own", () => {
            const s = parseSettings({
                readOnlyRoleName: "Reader",
                targets: [target(), target({ accountId: "222222222222", readOnlyRoleName: "AuditReader" })],
            });
            expect(s.targets.map((t) => t.readOnlyRoleName)).to.deep.equal(["Reader", "AuditReader"]);
            expect(parseSettings({ targets: [target()] }).targets[0]).to.not.have.property("readOnlyRoleName");
        });

        it("rejects a read-only role name IAM would not accept, at the top level or in a target", () => {
            expectRejected({ readOnlyRoleName: "Session Reader" }, "readOnlyRoleName", "an IAM role name");
            const error = errorFor({ targets: [target({ readOnlyRoleName: "x".repeat(65) })] });
            expect(error.key).to.equal("targets[0].readOnlyRoleName");
            expect(error.message).to.include("an IAM role name: 1 to 64");
        });

        it("rejects a read-only role that is the target's write role: a read-only run must not be able to write", () => {
            for (const raw of [{ readOnlyRoleName: "Deployer", targets: [target()] }, { targets: [target({ readOnlyRoleName: "Deployer" })] }]) {
                const error = errorFor(raw);
                expect(error.key).to.equal("targets[0].readOnlyRoleName");
                expect(error.message).to.include('"Deployer" is not valid: a role other than the write role roleName (Deployer)');
            }
        });

        it("names the target field meant by a near miss", () => {
            const error = errorFor({ targets: [target({ readonlyRoleName: "Reader" })] });
            expect(error.key).to.equal("targets[0].readonlyRoleName");
            expect(error.message).to.include("did you mean readOnlyRoleName?");
        });
    });

    describe("enumerations", () => {
        it("rejects onDelete outside restore, reset, retain", () => {
            expectRejected({ onDelete: "delete" }, "onDelete", "one of restore, reset, retain");
        });

        it("rejects deployment outside direct, stackset", () => {
            expectRejected({ deployment: "stacksets" }, "deployment", "one of direct, stackset");
        });

        it("requires organizational units in stackset mode", () => {
            const error = errorFor({ deployment: "stackset" });
            expect(error.key).to.equal("organizationalUnitIds");
            expect(error.message).to.include("at least one OU or root ID when deployment is stackset");
        });

        it("bounds keepDocumentVersions by SSM's version limit", () => {
            expectRejected({ keepDocumentVersions: 1001 }, "keepDocumentVersions", "0 keeps all");
            expect(parseSettings({ keepDocumentVersions: 0 }).keepDocumentVersions).to.equal(0);
        });
    });

    describe("unknown keys", () => {
        it("names the closest known key", () => {
            const error = errorFor({ idleSessionTimout: 20 });
            expect(error.message).to.include("sessionManager:idleSessionTimout");
            expect(error.message).to.include("did you mean sessionManager:idleSessionTimeout?");
        });

        it("reports every problem at once", () => {
            try {
                parseSettings({ s3Logging: "maybe", idleSessionTimeout: 0, onDelete: "drop" });
                expect.fail("should have thrown");
            } catch (err) {
                expect((err as ConfigErrors).errors.map((e) => e.key)).to.deep.equal(["s3Logging", "idleSessionTimeout", "onDelete"]);
            }
        });
    });

    describe("a misspelt namespace", () => {
        for (const namespace of ["sessionManger", "sessionmanager", "session-manager", "SessionManager"]) {
            it(`reports ${namespace}:idleSessionTimeout, naming sessionManager:idleSessionTimeout, instead of ignoring it`, () => {
                try {
                    parseStackSettings({ "aws:region": "eu-west-1", [`${namespace}:idleSessionTimeout`]: "15" });
                    expect.fail("a near-miss namespace should be an error");
                } catch (err) {
                    expect(err).to.be.instanceOf(ConfigErrors);
                    expect((err as Error).message)
                        .to.include(`${namespace}:idleSessionTimeout: not read`)
                        .and.include("did you mean sessionManager:idleSessionTimeout?");
                }
            });
        }

        it("reports it together with the namespace's own problems, and leaves other namespaces alone", () => {
            try {
                parseStackSettings({ "aws:region": "eu-west-1", "sessionManger:runAsEnabled": "true", "sessionManager:idleSessionTimeout": "90" });
                expect.fail("should have failed");
            } catch (err) {
                expect((err as ConfigErrors).errors.map((e) => e.key)).to.deep.equal(["sessionManger:runAsEnabled", "idleSessionTimeout"]);
            }
            expect(parseStackSettings({ "aws:region": "eu-west-1", "session:x": "1", "sessionManager:idleSessionTimeout": "15" }).idleSessionTimeout).to.equal(
                15,
            );
        });
    });

    describe("Region names against the AWS SDK's partition data", () => {
        it("knows the Regions of every partition, and none that is only well formed", () => {
            expect(knownRegions()).to.include.members(["us-east-1", "eu-west-1", "ap-southeast-5", "us-gov-west-1", "cn-north-1"]);
            expect(knownRegions()).to.not.include("eu-wst-1");
        });

        it("rejects a misspelt Region wherever Regions are listed, with the closest known one", () => {
            try {
                parseStackSettings(
                    {
                        "sessionManager:targets": [{ accountId: "111111111111", regions: ["eu-west-1", "eu-wst-1"] }],
                        "sessionManager:excludeRegions": ["us-esat-1"],
                    },
                    knownRegions(),
                );
                expect.fail("a misspelt Region should be an error");
            } catch (err) {
                const errors = (err as ConfigErrors).errors;
                expect(errors.map((e) => e.key)).to.deep.equal(["targets[0].regions[1]", "excludeRegions[0]"]);
                expect(errors[0].message).to.include('"eu-wst-1" is not valid: a Region the AWS SDK knows; did you mean eu-west-1?');
                expect(errors[1].message).to.include("did you mean us-east-1?");
            }
        });
    });
});
