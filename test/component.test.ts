import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import {
    InvalidArguments,
    logsKeyAlias,
    sessionDataKeyAlias,
    sessionDataKeyParameterName,
    SessionManagerPreferences,
    SessionManagerPreferencesArgs,
} from "../components/preferences";
import { PartConflictError } from "../core/parts";
import { PolicyDocument, PolicyStatement } from "../core/policies";
import { dynamicResourceType, providerName, RecordingMocks, Registered, settled, useMocks, valueOf } from "./support/pulumiMocks";

const account = "111122223333";
const existingKeyArn = "arn:aws:kms:eu-west-1:999988887777:key/mrk-0123456789abcdef0123456789abcdef";
const componentType = "session-manager-preferences:index:Preferences";

const T = {
    key: "aws:kms/key:Key",
    alias: "aws:kms/alias:Alias",
    parameter: "aws:ssm/parameter:Parameter",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    policy: "aws:iam/policy:Policy",
    attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
};

let mocks: RecordingMocks;

async function deploy(args: Partial<SessionManagerPreferencesArgs> = {}, opts?: pulumi.ComponentResourceOptions): Promise<SessionManagerPreferences> {
    // The default aws provider acts where the test's component is, as it would with the right credentials and Region.
    if (typeof args.region === "string") mocks.ambient = { ...mocks.ambient, region: args.region };
    const component = new SessionManagerPreferences("prefs", { accountId: account, region: "eu-west-1", ...args }, opts);
    await settled();
    return component;
}

/** The error an output failed with (Output#promise is the SDK's own, not in its type declarations). */
function rejectionOf(output: pulumi.Output<unknown>): Promise<unknown> {
    return (output as unknown as { promise(): Promise<unknown> }).promise().then(
        () => undefined,
        (err: unknown) => err,
    );
}

function only(type: string): Registered {
    const found = mocks.ofType(type);
    expect(found, type).to.have.length(1);
    return found[0];
}

function document(): { inputs: Record<string, unknown>; content: { inputs: Record<string, unknown> } } {
    const doc = only(dynamicResourceType);
    return { inputs: doc.inputs, content: doc.inputs.content as { inputs: Record<string, unknown> } };
}

function instancePolicy(): PolicyDocument {
    return JSON.parse(only(T.policy).inputs.policy as string) as PolicyDocument;
}

function statement(policy: PolicyDocument, sid: string): PolicyStatement | undefined {
    return policy.Statement.find((s) => s.Sid === sid);
}

describe("SessionManagerPreferences component", () => {
    beforeEach(async () => {
        mocks = await useMocks();
        // The default aws provider acts in the component's account and Region, as it would with the right credentials.
        mocks.ambient = { accountId: account, region: "eu-west-1" };
    });

    describe("with every part created (the defaults)", () => {
        it("creates both keys with their aliases, the key-ID parameter, the log group, the policy and the document", async () => {
            await deploy();
            expect(mocks.types()).to.deep.equal([componentType, T.key, T.key, T.alias, T.alias, T.parameter, T.logGroup, T.policy, dynamicResourceType].sort());
        });

        it("feeds the new key's ID to the document and the parameter directly", async () => {
            const component = await deploy();
            const key = mocks.named("prefs-session-data-key");
            expect(key.inputs.enableKeyRotation).to.equal(true);
            expect(mocks.named("prefs-session-data-key-alias").inputs).to.include({ name: sessionDataKeyAlias, targetKeyId: "key-prefs-session-data-key" });
            expect(mocks.named("prefs-session-data-key-id").inputs).to.include({
                name: sessionDataKeyParameterName,
                type: "String",
                insecureValue: "key-prefs-session-data-key",
            });
            expect(document().content.inputs.kmsKeyId).to.equal("key-prefs-session-data-key");
            expect(await valueOf(component.sessionDataKeyId!)).to.equal("key-prefs-session-data-key");
            expect(await valueOf(component.sessionDataKeyArn!)).to.equal("arn:aws:kms:mock-region:000000000000:key/key-prefs-session-data-key");
        });

        it("encrypts the log group with the logs key, whose policy is scoped to that group", async () => {
            const component = await deploy({ logGroup: { args: { name: "audit/ssm", retentionInDays: 365 } } });
            const group = only(T.logGroup);
            expect(group.inputs).to.include({
                name: "audit/ssm",
                retentionInDays: 365,
                kmsKeyId: "arn:aws:kms:mock-region:000000000000:key/key-prefs-logs-key",
            });
            expect(mocks.named("prefs-logs-key-alias").inputs).to.include({ name: logsKeyAlias });
            const keyPolicy = JSON.parse(mocks.named("prefs-logs-key").inputs.policy as string) as PolicyDocument;
            expect(statement(keyPolicy, "CloudWatchLogsEncryptsTheSessionLogGroup")?.Condition).to.deep.equal({
                ArnEquals: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:eu-west-1:${account}:log-group:audit/ssm` },
            });
            expect(document().content.inputs.cloudWatchLogGroupName).to.equal("audit/ssm");
            expect(await valueOf(component.logGroupName!)).to.equal("audit/ssm");
            expect(await valueOf(component.logsKeyArn!)).to.equal("arn:aws:kms:mock-region:000000000000:key/key-prefs-logs-key");
        });

        it("uses the documented log group defaults: ssm-sessionmanager-logs, 90 days", async () => {
            await deploy();
            expect(only(T.logGroup).inputs).to.include({ name: "ssm-sessionmanager-logs", retentionInDays: 90 });
        });

        it("gives the session-data key a policy that only delegates to the account", async () => {
            await deploy();
            const keyPolicy = JSON.parse(mocks.named("prefs-session-data-key").inputs.policy as string) as PolicyDocument;
            expect(keyPolicy.Statement.map((s) => s.Principal)).to.deep.equal([{ AWS: `arn:aws:iam::${account}:root` }]);
        });

        it("keeps the log group and its key when removed, but not the session-data key", async () => {
            const retained = new Map<string, boolean | undefined>();
            await deploy({}, { transformations: [(a) => void retained.set(a.name, a.opts.retainOnDelete)] });
            expect(retained.get("prefs-log-group")).to.equal(true);
            expect(retained.get("prefs-logs-key")).to.equal(true);
            expect(retained.get("prefs-session-data-key")).to.equal(false);
        });

        it("keeps the session-data key too when onDelete is retain, since the kept document names it", async () => {
            const retained = new Map<string, boolean | undefined>();
            await deploy({ onDelete: "retain" }, { transformations: [(a) => void retained.set(a.name, a.opts.retainOnDelete)] });
            expect(retained.get("prefs-session-data-key")).to.equal(true);
        });

        it("parents every resource to the component", async () => {
            // A component's transformations reach only resources parented (directly or not) to it.
            const parented: string[] = [];
            await deploy({ instancePolicy: { args: { roleNames: ["app"] } } }, { transformations: [(a) => void parented.push(a.name)] });
            expect(parented.filter((n) => n !== "prefs").sort()).to.deep.equal(
                mocks.resources
                    .filter((r) => r.type !== componentType)
                    .map((r) => r.name)
                    .sort(),
            );
        });

        it("registers its aws resources with the provider it is given", async () => {
            const provider = new aws.Provider("eu", { region: "eu-west-1" });
            await deploy({}, { providers: [provider] });
            const awsResources = mocks.resources.filter((r) => r.type.startsWith("aws:"));
            expect(awsResources).to.have.length(7);
            expect(awsResources.map(providerName)).to.deep.equal(awsResources.map(() => "eu"));
        });
    });

    describe("session-data key", () => {
        it("skipped: no key, alias or parameter; the document does not encrypt; instances get no kms permission", async () => {
            const component = await deploy({ sessionDataKey: { skip: true } });
            expect(mocks.resources.filter((r) => r.name.startsWith("prefs-session-data-key"))).to.deep.equal([]);
            expect(document().content.inputs.kmsKeyId).to.equal("");
            expect(statement(instancePolicy(), "DecryptSessionData")).to.equal(undefined);
            expect(component.sessionDataKeyId).to.equal(undefined);
            expect(component.sessionDataKeyArn).to.equal(undefined);
        });

        it("existing: nothing created; the document names the key by ARN, since it may be in another account", async () => {
            const component = await deploy({ sessionDataKey: { existing: { arn: existingKeyArn } } });
            expect(mocks.resources.filter((r) => r.name.startsWith("prefs-session-data-key"))).to.deep.equal([]);
            expect(document().content.inputs.kmsKeyId).to.equal(existingKeyArn);
            expect(statement(instancePolicy(), "DecryptSessionData")?.Resource).to.equal(existingKeyArn);
            expect(await valueOf(component.sessionDataKeyId!)).to.equal("mrk-0123456789abcdef0123456789abcdef");
            expect(await valueOf(component.sessionDataKeyArn!)).to.equal(existingKeyArn);
        });

        it("created without rotation when asked", async () => {
            await deploy({ sessionDataKey: { args: { enableKeyRotation: false } } });
            expect(mocks.named("prefs-session-data-key").inputs.enableKeyRotation).to.equal(false);
        });

        it("created: instances may decrypt with exactly that key", async () => {
            await deploy();
            expect(statement(instancePolicy(), "DecryptSessionData")?.Resource).to.equal("arn:aws:kms:mock-region:000000000000:key/key-prefs-session-data-key");
        });

        it("two shapes at once: one clear error and nothing registered", async () => {
            const both = { args: {}, skip: true } as unknown as { skip: true };
            expect(() => new SessionManagerPreferences("prefs", { accountId: account, region: "eu-west-1", sessionDataKey: both })).to.throw(
                PartConflictError,
                "sessionDataKey: give one of args, existing or skip, not args and skip",
            );
            await settled();
            expect(mocks.resources).to.deep.equal([]);
        });
    });

    describe("log group", () => {
        it("created without CloudWatch encryption: no logs key, an unencrypted group", async () => {
            const component = await deploy({ logGroup: { args: { kmsKey: { skip: true } } }, preferences: { cwEncryptionEnabled: false } });
            expect(mocks.resources.filter((r) => r.name.startsWith("prefs-logs-key"))).to.deep.equal([]);
            expect(only(T.logGroup).inputs.kmsKeyId).to.equal(undefined);
            expect(document().content.inputs.cloudWatchEncryptionEnabled).to.equal(false);
            expect(component.logsKeyArn).to.equal(undefined);
        });

        it("created with an existing logs key: the group uses it and no key is made", async () => {
            const logsKey = "arn:aws:kms:eu-west-1:111122223333:key/0b7a1e4c-5f2d-4a9e-8c3b-2d6f1a9e7c44";
            await deploy({ logGroup: { args: { kmsKey: { existing: { arn: logsKey } } } } });
            expect(mocks.resources.filter((r) => r.name.startsWith("prefs-logs-key"))).to.deep.equal([]);
            expect(only(T.logGroup).inputs.kmsKeyId).to.equal(logsKey);
        });

        it("existing: no group and no logs key; the document and the policy point at the named group", async () => {
            const component = await deploy({ logGroup: { existing: { name: "legacy-sessions" } } });
            expect(mocks.ofType(T.logGroup)).to.deep.equal([]);
            expect(mocks.resources.filter((r) => r.name.startsWith("prefs-logs-key"))).to.deep.equal([]);
            expect(document().content.inputs.cloudWatchLogGroupName).to.equal("legacy-sessions");
            expect(statement(instancePolicy(), "WriteSessionLogs")?.Resource).to.equal(`arn:aws:logs:eu-west-1:${account}:log-group:legacy-sessions:*`);
            expect(await valueOf(component.logGroupName!)).to.equal("legacy-sessions");
        });

        it("skipped: no CloudWatch logging in the document and no logs permissions", async () => {
            const component = await deploy({ logGroup: { skip: true } });
            expect(mocks.ofType(T.logGroup)).to.deep.equal([]);
            expect(document().content.inputs.cloudWatchLogGroupName).to.equal("");
            expect(instancePolicy().Statement.filter((s) => String(s.Action).includes("logs:"))).to.deep.equal([]);
            expect(component.logGroupName).to.equal(undefined);
        });
    });

    describe("instance policy", () => {
        it("skipped: no policy, no attachment, no output", async () => {
            const component = await deploy({ instancePolicy: { skip: true } });
            expect(mocks.ofType(T.policy)).to.deep.equal([]);
            expect(mocks.ofType(T.attachment)).to.deep.equal([]);
            expect(component.instancePolicyArn).to.equal(undefined);
        });

        it("attached to each named role", async () => {
            const component = await deploy({ instancePolicy: { args: { roleNames: ["app", "bastion"] } } });
            const arn = await valueOf(component.instancePolicyArn!);
            expect(arn).to.equal("arn:aws:iam::000000000000:policy/session-manager/SessionManagerInstance-eu-west-1");
            expect(mocks.ofType(T.attachment).map((a) => a.inputs)).to.deep.equal([
                { role: "app", policyArn: arn },
                { role: "bastion", policyArn: arn },
            ]);
        });

        it("is named per Region, since IAM names are account-wide", async () => {
            await deploy({ region: "ap-southeast-2" });
            expect(only(T.policy).inputs).to.include({ name: "SessionManagerInstance-ap-southeast-2", path: "/session-manager/" });
        });

        it("S3 logging on: may put objects under <prefix>/<account>/<region> and read the bucket's encryption", async () => {
            await deploy({ preferences: { s3Logging: true, s3BucketName: "org-session-logs", s3KeyPrefix: "ssm" } });
            const policy = instancePolicy();
            expect(statement(policy, "WriteSessionLogObjects")?.Resource).to.equal(`arn:aws:s3:::org-session-logs/ssm/${account}/eu-west-1/*`);
            expect(statement(policy, "CheckSessionLogBucketEncryption")?.Resource).to.equal("arn:aws:s3:::org-session-logs");
            expect(document().content.inputs).to.include({ s3BucketName: "org-session-logs", s3KeyPrefix: `ssm/${account}/eu-west-1` });
        });

        it("S3 logging off: no s3 permission at all", async () => {
            await deploy({ preferences: { s3Logging: false, s3BucketName: "org-session-logs" } });
            expect(instancePolicy().Statement.filter((s) => String(s.Action).includes("s3:"))).to.deep.equal([]);
            expect(document().content.inputs.s3BucketName).to.equal("");
        });
    });

    describe("nothing to create", () => {
        it("registers only the document: no aws resource at all", async () => {
            const component = await deploy({
                sessionDataKey: { existing: { arn: existingKeyArn } },
                logGroup: { existing: { name: "legacy-sessions" } },
                instancePolicy: { skip: true },
            });
            expect(mocks.types()).to.deep.equal([componentType, dynamicResourceType].sort());
            expect(mocks.aws()).to.deep.equal([]);
            expect(await valueOf(component.documentVersion)).to.equal("1");
        });

        it("also with encryption and CloudWatch logging off", async () => {
            await deploy({ sessionDataKey: { skip: true }, logGroup: { skip: true }, instancePolicy: { skip: true } });
            expect(mocks.aws()).to.deep.equal([]);
            expect(mocks.ofType(dynamicResourceType)).to.have.length(1);
        });
    });

    describe("the document", () => {
        it("gets the account, Region, role, delete policy and version limit, and the preferences as content", async () => {
            await deploy({
                roleArn: `arn:aws:iam::${account}:role/Deployer`,
                onDelete: "retain",
                keepDocumentVersions: 10,
                takeOver: true,
                preferences: {
                    runAsEnabled: true,
                    runAsDefaultUser: "ssm-user",
                    idleSessionTimeout: 15,
                    maxSessionDuration: 120,
                    linuxShellProfile: "exec bash",
                },
            });
            const { inputs, content } = document();
            expect(inputs).to.include({
                accountId: account,
                region: "eu-west-1",
                roleArn: `arn:aws:iam::${account}:role/Deployer`,
                onDelete: "retain",
                keepDocumentVersions: 10,
                takeOver: true,
            });
            expect(content).to.include({ schemaVersion: "1.0", sessionType: "Standard_Stream" });
            expect(content.inputs).to.include({ runAsEnabled: true, runAsDefaultUser: "ssm-user", idleSessionTimeout: "15", maxSessionDuration: "120" });
            expect(content.inputs.shellProfile).to.deep.equal({ windows: "", linux: "exec bash" });
        });

        it("uses the documented defaults for preferences not given", async () => {
            await deploy();
            expect(document().content.inputs).to.include({
                idleSessionTimeout: "20",
                maxSessionDuration: "60",
                cloudWatchEncryptionEnabled: true,
                cloudWatchStreamingEnabled: false,
                runAsEnabled: false,
            });
        });

        it("accepts preferences that are outputs of other resources", async () => {
            await deploy({ preferences: { s3Logging: true, s3BucketName: pulumi.output("from-another-stack") } });
            expect(document().content.inputs.s3BucketName).to.equal("from-another-stack");
        });
    });

    describe("partitions", () => {
        it("aws-us-gov: the logs key policy and instance policy use GovCloud ARNs and principal", async () => {
            await deploy({ region: "us-gov-west-1", preferences: { s3Logging: true, s3BucketName: "gov-logs" } });
            const logsKey = JSON.parse(mocks.named("prefs-logs-key").inputs.policy as string) as PolicyDocument;
            expect(statement(logsKey, "CloudWatchLogsEncryptsTheSessionLogGroup")?.Principal).to.deep.equal({ Service: "logs.us-gov-west-1.amazonaws.com" });
            expect(statement(logsKey, "EnableIamPoliciesInTheAccount")?.Principal).to.deep.equal({ AWS: `arn:aws-us-gov:iam::${account}:root` });
            const policy = instancePolicy();
            expect(statement(policy, "WriteSessionLogs")?.Resource).to.match(/^arn:aws-us-gov:logs:us-gov-west-1:/);
            expect(statement(policy, "WriteSessionLogObjects")?.Resource).to.match(/^arn:aws-us-gov:s3:::gov-logs\//);
        });

        it("aws-cn: the logs principal ends in amazonaws.com.cn and ARNs use aws-cn", async () => {
            await deploy({ region: "cn-north-1" });
            const logsKey = JSON.parse(mocks.named("prefs-logs-key").inputs.policy as string) as PolicyDocument;
            expect(statement(logsKey, "CloudWatchLogsEncryptsTheSessionLogGroup")?.Principal).to.deep.equal({ Service: "logs.cn-north-1.amazonaws.com.cn" });
            const sessionKey = JSON.parse(mocks.named("prefs-session-data-key").inputs.policy as string) as PolicyDocument;
            expect(sessionKey.Statement[0].Principal).to.deep.equal({ AWS: `arn:aws-cn:iam::${account}:root` });
            expect(statement(instancePolicy(), "WriteSessionLogs")?.Resource).to.match(/^arn:aws-cn:logs:cn-north-1:/);
        });
    });

    describe("its arguments, checked with the configuration's rules", () => {
        function failure(make: () => unknown): Error {
            try {
                make();
            } catch (err) {
                return err as Error;
            }
            throw new Error("the component was made");
        }

        it("refuses values the configuration refuses, naming the component and each argument, before registering anything", () => {
            const err = failure(
                () =>
                    new SessionManagerPreferences("bad", {
                        accountId: account,
                        region: "eu-west-1",
                        preferences: { idleSessionTimeout: 90, s3BucketName: "Not_A_Bucket" },
                        keepDocumentVersions: 5000,
                        tags: { "aws:reserved": "x" },
                    }),
            );
            expect(err).to.be.instanceOf(InvalidArguments);
            expect(err.message).to.equal(
                [
                    'invalid arguments of SessionManagerPreferences "bad":',
                    "  - keepDocumentVersions: 5000 is not valid: a whole number from 0 to 1000 (0 keeps all; SSM keeps at most 1000 versions of a document), written as digits only",
                    "  - tags.aws:reserved: \"x\" is not valid: a tag key not starting with aws: (AWS's) or session-manager-preferences: (this program's own)",
                    '  - preferences.s3BucketName: "Not_A_Bucket" is not valid: an S3 bucket name: 3 to 63 characters of a-z, 0-9, . and -, starting and ending with a letter or digit',
                    "  - preferences.idleSessionTimeout: 90 is not valid: a whole number from 1 to 60 (minutes), written as digits only",
                ].join("\n"),
            );
            expect(mocks.resources).to.deep.equal([]);
        });

        it("refuses preferences that do not go together, as the configuration does", () => {
            const err = failure(
                () =>
                    new SessionManagerPreferences("bad", {
                        accountId: account,
                        region: "eu-west-1",
                        preferences: { s3Logging: true, idleSessionTimeout: 30, maxSessionDuration: 20 },
                    }),
            );
            expect(err.message).to.include('preferences.s3BucketName: "" is not valid: required when preferences.s3Logging is true');
            expect(err.message).to.include("preferences.idleSessionTimeout: 30 is not valid: at most preferences.maxSessionDuration (20 minutes)");
        });

        it("checks an argument given as an output when it resolves, and then registers no document", async () => {
            const component = new SessionManagerPreferences("late", {
                accountId: account,
                region: "eu-west-1",
                preferences: { idleSessionTimeout: pulumi.output(90) },
                sessionDataKey: { skip: true },
                logGroup: { skip: true },
                instancePolicy: { skip: true },
            });
            await settled();
            expect(String(await rejectionOf(component.documentVersion)))
                .to.include('invalid arguments of SessionManagerPreferences "late"')
                .and.include("preferences.idleSessionTimeout: 90 is not valid");
            expect(mocks.ofType(dynamicResourceType)).to.deep.equal([]);
        });
    });

    describe("account and Region, and the aws provider in opts", () => {
        it("fails when the provider acts in another account than accountId, naming both", async () => {
            const provider = new aws.Provider("elsewhere", { region: "eu-west-1", allowedAccountIds: ["999988887777"] });
            const component = new SessionManagerPreferences("prefs", { accountId: account, region: "eu-west-1" }, { providers: [provider] });
            await settled();
            expect(String(await rejectionOf(component.documentVersion))).to.include(
                `accountId: "${account}" is not valid: the account of the aws provider the component's resources use, 999988887777`,
            );
            expect(mocks.ofType(dynamicResourceType)).to.deep.equal([]);
        });

        it("fails when the provider acts in another Region than region", async () => {
            const provider = new aws.Provider("ireland", { region: "eu-west-1", allowedAccountIds: [account] });
            const component = new SessionManagerPreferences("prefs", { accountId: account, region: "us-east-1" }, { providers: [provider] });
            await settled();
            expect(String(await rejectionOf(component.documentVersion))).to.include(
                'region: "us-east-1" is not valid: the Region of the aws provider the component\'s resources use, eu-west-1',
            );
        });

        it("takes both from the provider when they are left out", async () => {
            const provider = new aws.Provider("frankfurt", { region: "eu-central-1", allowedAccountIds: ["444455556666"] });
            await deploy({ accountId: undefined, region: undefined }, { providers: [provider] });
            expect(document().inputs).to.include({ accountId: "444455556666", region: "eu-central-1" });
            expect(only(T.policy).inputs).to.include({ name: "SessionManagerInstance-eu-central-1" });
        });

        it("needs them as arguments when only the document is made and no provider is given", () => {
            const err = (() => {
                try {
                    new SessionManagerPreferences("doc", {
                        region: "eu-west-1",
                        sessionDataKey: { skip: true },
                        logGroup: { skip: true },
                        instancePolicy: { skip: true },
                    });
                } catch (e) {
                    return e as Error;
                }
                throw new Error("made");
            })();
            expect(err.message).to.include("accountId: undefined is not valid: required when no aws provider is given in opts");
            expect(mocks.calls, "a document-only component asks no aws provider anything").to.deep.equal([]);
        });
    });

    describe("tags", () => {
        it("are applied to every taggable resource: the keys, the key-ID parameter, the log group, the instance policy and the document", async () => {
            await deploy({ tags: { team: "platform" } });
            for (const type of [T.key, T.parameter, T.logGroup, T.policy, dynamicResourceType]) {
                for (const r of mocks.ofType(type)) expect(r.inputs.tags, `${type} ${r.name}`).to.deep.equal({ team: "platform" });
            }
            expect(mocks.ofType(T.key)).to.have.length(2);
        });
    });
});
