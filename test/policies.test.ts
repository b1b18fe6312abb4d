import { expect } from "chai";
import * as fc from "fast-check";
import {
    instanceProfilePolicy,
    InstancePolicyInputs,
    keyIdOfArn,
    logGroupArn,
    logsKeyPolicy,
    PolicyDocument,
    PolicyStatement,
    policyScope,
    sessionDataKeyPolicy,
} from "../core/policies";

const account = "111122223333";

function statement(policy: PolicyDocument, sid: string): PolicyStatement {
    const found = policy.Statement.find((s) => s.Sid === sid);
    if (!found) throw new Error(`no statement ${sid} in ${JSON.stringify(policy)}`);
    return found;
}

function sids(policy: PolicyDocument): string[] {
    return policy.Statement.map((s) => s.Sid).sort();
}

/** Every ARN anywhere in a policy, so partition checks cannot miss one. */
function arnsIn(value: unknown): string[] {
    if (typeof value === "string") return value.startsWith("arn:") ? [value] : [];
    if (Array.isArray(value)) return value.flatMap(arnsIn);
    if (value && typeof value === "object") return Object.values(value).flatMap(arnsIn);
    return [];
}

describe("policies", () => {
    describe("session-data key policy", () => {
        it("only delegates the key to the account's IAM: no other principal, no service", () => {
            const policy = sessionDataKeyPolicy(policyScope(account, "eu-west-1"));
            expect(policy.Version).to.equal("2012-10-17");
            expect(policy.Statement).to.deep.equal([
                { Sid: "EnableIamPoliciesInTheAccount", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" },
            ]);
        });

        it("names the account root in the target's partition", () => {
            expect(sessionDataKeyPolicy(policyScope(account, "us-gov-west-1")).Statement[0].Principal).to.deep.equal({
                AWS: `arn:aws-us-gov:iam::${account}:root`,
            });
            expect(sessionDataKeyPolicy(policyScope(account, "cn-north-1")).Statement[0].Principal).to.deep.equal({ AWS: `arn:aws-cn:iam::${account}:root` });
        });
    });

    describe("CloudWatch Logs key policy", () => {
        it("lets the Region's logs service use the key only for the session log group", () => {
            const policy = logsKeyPolicy(policyScope(account, "eu-west-1"), "ssm-sessionmanager-logs");
            const logs = statement(policy, "CloudWatchLogsEncryptsTheSessionLogGroup");
            expect(logs.Principal).to.deep.equal({ Service: "logs.eu-west-1.amazonaws.com" });
            expect(logs.Condition).to.deep.equal({
                ArnEquals: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:eu-west-1:${account}:log-group:ssm-sessionmanager-logs` },
            });
            expect(logs.Action).to.include.members(["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"]);
            expect(logs.Action).not.to.include("kms:*");
        });

        it("keeps the account able to manage the key", () => {
            const policy = logsKeyPolicy(policyScope(account, "eu-west-1"), "g");
            expect(statement(policy, "EnableIamPoliciesInTheAccount").Principal).to.deep.equal({ AWS: `arn:aws:iam::${account}:root` });
        });

        it("uses the GovCloud partition and logs principal in us-gov Regions", () => {
            const policy = logsKeyPolicy(policyScope(account, "us-gov-east-1"), "g");
            expect(statement(policy, "CloudWatchLogsEncryptsTheSessionLogGroup").Principal).to.deep.equal({ Service: "logs.us-gov-east-1.amazonaws.com" });
            expect(arnsIn(policy).every((a) => a.startsWith("arn:aws-us-gov:"))).to.equal(true);
        });

        it("uses the China partition and the amazonaws.com.cn principal in cn Regions", () => {
            const policy = logsKeyPolicy(policyScope(account, "cn-northwest-1"), "g");
            expect(statement(policy, "CloudWatchLogsEncryptsTheSessionLogGroup").Principal).to.deep.equal({ Service: "logs.cn-northwest-1.amazonaws.com.cn" });
            expect(arnsIn(policy).every((a) => a.startsWith("arn:aws-cn:"))).to.equal(true);
        });
    });

    describe("instance-profile policy", () => {
        const base: InstancePolicyInputs = policyScope(account, "eu-west-1");

        it("with nothing to log or decrypt, grants only the session channels", () => {
            const policy = instanceProfilePolicy(base);
            expect(policy.Statement).to.deep.equal([
                {
                    Sid: "SessionChannels",
                    Effect: "Allow",
                    Action: [
                        "ssmmessages:CreateControlChannel",
                        "ssmmessages:CreateDataChannel",
                        "ssmmessages:OpenControlChannel",
                        "ssmmessages:OpenDataChannel",
                    ],
                    Resource: "*",
                },
            ]);
        });

        it("with CloudWatch logging, writes only to the session log group and its streams", () => {
            const policy = instanceProfilePolicy({ ...base, logGroupName: "ssm-sessionmanager-logs" });
            expect(sids(policy)).to.deep.equal(["FindSessionLogGroup", "SessionChannels", "WriteSessionLogs"]);
            expect(statement(policy, "FindSessionLogGroup")).to.include({ Action: "logs:DescribeLogGroups", Resource: "*" });
            const write = statement(policy, "WriteSessionLogs");
            expect(write.Action).to.deep.equal(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]);
            expect(write.Resource).to.equal(`arn:aws:logs:eu-west-1:${account}:log-group:ssm-sessionmanager-logs:*`);
        });

        it("with S3 logging, puts objects only under the target's prefix and reads the bucket's encryption", () => {
            const policy = instanceProfilePolicy({ ...base, s3: { bucketName: "org-session-logs", keyPrefix: "sessionmanager/111122223333/eu-west-1" } });
            expect(sids(policy)).to.deep.equal(["CheckSessionLogBucketEncryption", "SessionChannels", "WriteSessionLogObjects"]);
            expect(statement(policy, "WriteSessionLogObjects")).to.include({
                Action: "s3:PutObject",
                Resource: "arn:aws:s3:::org-session-logs/sessionmanager/111122223333/eu-west-1/*",
            });
            expect(statement(policy, "CheckSessionLogBucketEncryption")).to.include({
                Action: "s3:GetEncryptionConfiguration",
                Resource: "arn:aws:s3:::org-session-logs",
            });
        });

        it("with an empty S3 prefix, puts objects anywhere in the bucket rather than under `//`", () => {
            const policy = instanceProfilePolicy({ ...base, s3: { bucketName: "b", keyPrefix: "" } });
            expect(statement(policy, "WriteSessionLogObjects").Resource).to.equal("arn:aws:s3:::b/*");
        });

        it("with session data encryption, may only decrypt with that one key", () => {
            const keyArn = `arn:aws:kms:eu-west-1:${account}:key/0b7a1e4c-5f2d-4a9e-8c3b-2d6f1a9e7c44`;
            const policy = instanceProfilePolicy({ ...base, sessionDataKeyArn: keyArn });
            expect(statement(policy, "DecryptSessionData")).to.include({ Action: "kms:Decrypt", Resource: keyArn });
        });

        it("grants nothing on '*' beyond the channels and DescribeLogGroups, whatever is on", () => {
            fc.assert(
                fc.property(fc.boolean(), fc.boolean(), fc.boolean(), (cw, s3, kms) => {
                    const policy = instanceProfilePolicy({
                        ...base,
                        logGroupName: cw ? "g" : undefined,
                        s3: s3 ? { bucketName: "b", keyPrefix: "p" } : undefined,
                        sessionDataKeyArn: kms ? `arn:aws:kms:eu-west-1:${account}:key/k` : undefined,
                    });
                    const wildcard = policy.Statement.filter((s) => s.Resource === "*").map((s) => s.Sid);
                    expect(wildcard).to.deep.equal(cw ? ["SessionChannels", "FindSessionLogGroup"] : ["SessionChannels"]);
                    expect(policy.Statement.every((s) => s.Effect === "Allow" && !String(s.Action).includes("*"))).to.equal(true);
                }),
            );
        });

        for (const [region, partition] of [
            ["us-gov-west-1", "aws-us-gov"],
            ["cn-north-1", "aws-cn"],
            ["eu-central-1", "aws"],
        ] as const) {
            it(`builds every ARN in the ${partition} partition for ${region}`, () => {
                const policy = instanceProfilePolicy({ ...policyScope(account, region), logGroupName: "g", s3: { bucketName: "b", keyPrefix: "p" } });
                const arns = arnsIn(policy);
                expect(arns).to.have.length(3);
                expect(arns.every((a) => a.startsWith(`arn:${partition}:`))).to.equal(true, arns.join(", "));
            });
        }
    });

    describe("ARN helpers", () => {
        it("builds log group ARNs without the trailing :* that KMS conditions do not match", () => {
            expect(logGroupArn(policyScope(account, "us-gov-west-1"), "a/b")).to.equal(`arn:aws-us-gov:logs:us-gov-west-1:${account}:log-group:a/b`);
        });

        it("takes the key ID from single- and multi-Region key ARNs", () => {
            expect(keyIdOfArn(`arn:aws:kms:eu-west-1:${account}:key/0b7a1e4c-5f2d-4a9e-8c3b-2d6f1a9e7c44`)).to.equal("0b7a1e4c-5f2d-4a9e-8c3b-2d6f1a9e7c44");
            expect(keyIdOfArn(`arn:aws-cn:kms:cn-north-1:${account}:key/mrk-0123456789abcdef0123456789abcdef`)).to.equal(
                "mrk-0123456789abcdef0123456789abcdef",
            );
            expect(() => keyIdOfArn(`arn:aws:kms:eu-west-1:${account}:alias/x`)).to.throw(/not a KMS key ARN/);
        });
    });
});
