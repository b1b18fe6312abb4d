import { expect } from "chai";
import * as fc from "fast-check";
import { parseSettings } from "../core/config";
import { awsDefaultDocument, desiredDocument, s3KeyPrefixFor } from "../core/document";
import { partitionOf } from "../core/partition";

const ctx = { accountId: "111111111111", region: "eu-west-1", kmsKeyId: "0b7a1e4c-5f2d-4a9e-8c3b-2d6f1a9e7c44" };

describe("desired Session document", () => {
    it("is a schema 1.0 Standard_Stream document with the twelve inputs", () => {
        const doc = desiredDocument(parseSettings({}), ctx);
        expect(doc.schemaVersion).to.equal("1.0");
        expect(doc.sessionType).to.equal("Standard_Stream");
        expect(Object.keys(doc.inputs)).to.have.members([
            "s3BucketName",
            "s3KeyPrefix",
            "s3EncryptionEnabled",
            "cloudWatchLogGroupName",
            "cloudWatchEncryptionEnabled",
            "cloudWatchStreamingEnabled",
            "kmsKeyId",
            "runAsEnabled",
            "runAsDefaultUser",
            "idleSessionTimeout",
            "maxSessionDuration",
            "shellProfile",
        ]);
    });

    it("holds the defaults as Session Manager stores them (minutes as strings)", () => {
        expect(desiredDocument(parseSettings({}), ctx).inputs).to.deep.equal({
            s3BucketName: "",
            s3KeyPrefix: "",
            s3EncryptionEnabled: true,
            cloudWatchLogGroupName: "ssm-sessionmanager-logs",
            cloudWatchEncryptionEnabled: true,
            cloudWatchStreamingEnabled: false,
            kmsKeyId: ctx.kmsKeyId,
            runAsEnabled: false,
            runAsDefaultUser: "",
            idleSessionTimeout: "20",
            maxSessionDuration: "60",
            shellProfile: { windows: "", linux: "" },
        });
    });

    describe("S3 logging", () => {
        it("on: names the bucket and appends account and Region to the prefix, as the sample does", () => {
            const inputs = desiredDocument(parseSettings({ s3Logging: true, s3BucketName: "org-session-logs", s3KeyPrefix: "ssm" }), ctx).inputs;
            expect(inputs.s3BucketName).to.equal("org-session-logs");
            expect(inputs.s3KeyPrefix).to.equal("ssm/111111111111/eu-west-1");
        });

        it("off: leaves bucket and prefix empty even when a bucket is configured", () => {
            const inputs = desiredDocument(parseSettings({ s3Logging: false, s3BucketName: "org-session-logs" }), ctx).inputs;
            expect(inputs.s3BucketName).to.equal("");
            expect(inputs.s3KeyPrefix).to.equal("");
        });

        it("passes s3EncryptionEnabled through", () => {
            expect(desiredDocument(parseSettings({ s3EncryptionEnabled: false }), ctx).inputs.s3EncryptionEnabled).to.equal(false);
        });

        it("does not double slashes around the prefix", () => {
            expect(s3KeyPrefixFor("/logs/ssm/", "111111111111", "us-east-1")).to.equal("logs/ssm/111111111111/us-east-1");
            expect(s3KeyPrefixFor("", "111111111111", "us-east-1")).to.equal("111111111111/us-east-1");
        });
    });

    describe("session data encryption", () => {
        it("on: carries the key ID it is given", () => {
            expect(desiredDocument(parseSettings({}), ctx).inputs.kmsKeyId).to.equal(ctx.kmsKeyId);
        });

        it("off: leaves kmsKeyId empty", () => {
            expect(desiredDocument(parseSettings({ sessionDataEncryption: false }), ctx).inputs.kmsKeyId).to.equal("");
        });
    });

    describe("CloudWatch Logs", () => {
        it("names the log group and carries encryption and streaming", () => {
            const inputs = desiredDocument(parseSettings({ cwLogGroupName: "/org/ssm", cwEncryptionEnabled: false, cwStreamingEnabled: true }), ctx).inputs;
            expect(inputs).to.include({ cloudWatchLogGroupName: "/org/ssm", cloudWatchEncryptionEnabled: false, cloudWatchStreamingEnabled: true });
        });
    });

    describe("Run As", () => {
        it("on: names the default user", () => {
            const inputs = desiredDocument(parseSettings({ runAsEnabled: true, runAsDefaultUser: "ec2-user" }), ctx).inputs;
            expect(inputs).to.include({ runAsEnabled: true, runAsDefaultUser: "ec2-user" });
        });

        it("off: leaves the user empty even when one is configured", () => {
            const inputs = desiredDocument(parseSettings({ runAsEnabled: false, runAsDefaultUser: "ec2-user" }), ctx).inputs;
            expect(inputs).to.include({ runAsEnabled: false, runAsDefaultUser: "" });
        });
    });

    describe("shell profiles", () => {
        it("are empty unless set", () => {
            expect(desiredDocument(parseSettings({}), ctx).inputs.shellProfile).to.deep.equal({ windows: "", linux: "" });
        });

        it("carry each profile that is set", () => {
            const inputs = desiredDocument(parseSettings({ linuxShellProfile: "exec bash -l", winShellProfile: "Set-Location C:\\" }), ctx).inputs;
            expect(inputs.shellProfile).to.deep.equal({ windows: "Set-Location C:\\", linux: "exec bash -l" });
        });
    });

    it("is valid JSON for any combination of the sample's conditions (property)", () => {
        fc.assert(
            fc.property(
                fc.record({
                    s3Logging: fc.boolean(),
                    sessionDataEncryption: fc.boolean(),
                    cwEncryptionEnabled: fc.boolean(),
                    cwStreamingEnabled: fc.boolean(),
                    runAsEnabled: fc.boolean(),
                    idleSessionTimeout: fc.integer({ min: 1, max: 60 }),
                    linuxShellProfile: fc.string({ maxLength: 200 }),
                }),
                (raw) => {
                    const settings = parseSettings({ ...raw, s3BucketName: "org-logs", runAsDefaultUser: "ssm-user", maxSessionDuration: 60 });
                    const doc = desiredDocument(settings, ctx);
                    const roundTrip = JSON.parse(JSON.stringify(doc));
                    expect(roundTrip).to.deep.equal(doc);
                    expect(doc.inputs.s3BucketName !== "").to.equal(raw.s3Logging);
                    expect(doc.inputs.kmsKeyId !== "").to.equal(raw.sessionDataEncryption);
                    expect(doc.inputs.runAsDefaultUser !== "").to.equal(raw.runAsEnabled);
                },
            ),
        );
    });

    it("the AWS defaults (onDelete: reset) turn logging and encryption choices off", () => {
        const inputs = awsDefaultDocument().inputs;
        expect(inputs).to.include({ s3BucketName: "", cloudWatchLogGroupName: "", kmsKeyId: "", runAsEnabled: false, idleSessionTimeout: "20" });
    });
});

describe("partitions", () => {
    for (const [region, partition] of [
        ["eu-west-1", "aws"],
        ["us-gov-west-1", "aws-us-gov"],
        ["cn-northwest-1", "aws-cn"],
        ["us-iso-east-1", "aws-iso"],
        ["us-isob-east-1", "aws-iso-b"],
    ] as const) {
        it(`${region} is in ${partition}`, () => {
            expect(partitionOf(region)).to.equal(partition);
        });
    }
});
