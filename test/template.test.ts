import { documentWriteActions } from "../core/accessPolicies";
import { expect } from "chai";
import * as fc from "fast-check";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    logsKeyAlias,
    operatorPolicyName,
    operatorPolicyPath,
    sessionDataKeyAlias,
    sessionDataKeyParameterName,
    stackSetHandlerLogGroupName,
    stackSetHandlerRoleName,
} from "../core/names";
import { desiredDocument, s3KeyPrefixFor } from "../core/document";
import { guardrailExceptions, operatorPolicy, operatorPolicyInputs } from "../core/landingZone";
import { dnsSuffixOf, partitionOf } from "../core/partition";
import { planTarget, sessionDataKeyPart } from "../core/plan";
import { instanceProfilePolicy, logsKeyPolicy, PolicyDocument, PolicyStatement, policyScope, sessionDataKeyPolicy } from "../core/policies";
import { relatedFieldProblems } from "../core/fieldRules";
import { defaultDocumentName, defaultOrganizationSettings, defaultPreferences, documentPreferenceKeys, LogArchive, Preferences } from "../core/settings";
import {
    CfnTemplate,
    CfnValue,
    conditionIds,
    customResourceType,
    handlerRuntime,
    logicalIds as L,
    maxParameterValueBytes,
    maxTemplateUrlBytes,
    parameterisedKeys,
    parameterNames,
    parameterValue,
    repairTokenParameter,
    renderTemplate,
    sessionManagerTemplate,
    TemplateContext,
    TemplateTooLargeError,
} from "../core/template";
import { buildBundle, handlerBundle, sourceRoot } from "../lambda/bundle";
import { parseProperties } from "../lambda/handler";
import { cfnLint, resolveIntrinsics, StackValues, templateStack } from "./support/cloudformation";
import { documentProperties } from "./support/customResource";
import { preferencesArbitrary } from "./support/preferencesArbitrary";

const code = handlerBundle();
const context: TemplateContext = { handlerCode: code, owner: "session-manager-preferences/test:stackset", regions: ["eu-west-1", "us-east-1"] };
const prefs = (overrides: Partial<Preferences> = {}): Preferences => ({ ...defaultPreferences, deployment: "stackset", ...overrides });
const template = (overrides: Partial<Preferences> = {}): CfnTemplate => sessionManagerTemplate(prefs(overrides), context);
/** CreateStackSet's limit for an inline TemplateBody, in bytes. */
const maxTemplateBodyBytes = 51_200;

const existingKeyArn = "arn:aws:kms:eu-west-1:999988887777:key/11111111-2222-3333-4444-555555555555";

/** Session logs to a log archive, as the configuration sets them (core/config.ts). */
function withArchive(archive: Partial<LogArchive>): Partial<Preferences> {
    const logArchive: LogArchive = {
        accountId: "999988887777",
        organizationId: "o-a1b2c3d4e5",
        regions: ["eu-west-1", "us-east-1"],
        bucketName: "org-session-logs-{region}",
        create: true,
        retentionInDays: 365,
        ...archive,
    };
    return { logArchive, s3Logging: true, s3BucketName: logArchive.bucketName };
}

/** The log archives a template can point at: a bucket per Region or one, a created key, an existing one, none. */
const archives: [string, Partial<Preferences>][] = [
    ["per-region-created", withArchive({})],
    ["per-region-existing-key", withArchive({ create: false, kmsKeyArn: "arn:aws:kms:{region}:999988887777:key/mrk-0123456789abcdef0123456789abcdef" })],
    ["single-created", withArchive({ regions: ["eu-west-1"], bucketName: "org-session-logs" })],
    ["single-existing-key", withArchive({ regions: ["eu-west-1"], bucketName: "org-session-logs", create: false, kmsKeyArn: existingKeyArn })],
    ["single-no-key", withArchive({ regions: ["eu-west-1"], bucketName: "org-session-logs", create: false })],
];

/** What CloudFormation would fill in for one stack instance. */
function stackIn(accountId: string, region: string): StackValues {
    const partition = partitionOf(region);
    const keyId = "0a1b2c3d-1111-2222-3333-444455556666";
    return {
        "AWS::AccountId": accountId,
        "AWS::Region": region,
        "AWS::Partition": partition,
        "AWS::URLSuffix": dnsSuffixOf(partition),
        [L.sessionDataKey]: keyId,
        [`${L.sessionDataKey}.Arn`]: `arn:${partition}:kms:${region}:${accountId}:key/${keyId}`,
        [`${L.logsKey}.Arn`]: `arn:${partition}:kms:${region}:${accountId}:key/logs-key`,
        [L.logGroup]: "resolved-log-group",
        [`${L.handler}.Arn`]: `arn:${partition}:lambda:${region}:${accountId}:function:handler`,
        [`${L.handlerRole}.Arn`]: `arn:${partition}:iam::${accountId}:role/handler`,
        [L.handlerLogGroup]: "handler-log-group",
        [`${L.handlerLogGroup}.Arn`]: `arn:${partition}:logs:${region}:${accountId}:log-group:handler-log-group:*`,
        [`${L.handlerLogsKey}.Arn`]: `arn:${partition}:kms:${region}:${accountId}:key/handler-logs-key`,
    };
}

/** Fn::Equals of a template's Condition, as CloudFormation decides it in one stack. */
function conditionHolds(t: CfnTemplate, id: string, stack: StackValues): boolean {
    const condition = t.Conditions?.[id] as { "Fn::Equals": CfnValue[] } | undefined;
    expect(condition, id).to.have.property("Fn::Equals");
    const [a, b] = resolveIntrinsics(condition!["Fn::Equals"], stack) as unknown[];
    return a === b;
}

/** The document the custom resource writes in one stack: its properties there, as the handler reads them. */
function documentContentIn(t: CfnTemplate, stack: StackValues, parameters: Record<string, string> = {}): unknown {
    return parseProperties(documentProperties(t, stack, parameters)).desired.content;
}

/** The sample's conditions: each decides which resources exist or what the document says. */
const sampleConditions = [
    "s3Logging",
    "sessionDataEncryption",
    "createCWLogGroup",
    "cwEncryptionEnabled",
    "runAsEnabled",
    "winShellProfile",
    "linuxShellProfile",
] as const;

function combination(index: number): Preferences {
    const on = (name: (typeof sampleConditions)[number]) => ((index >> sampleConditions.indexOf(name)) & 1) === 1;
    return prefs({
        s3Logging: on("s3Logging"),
        s3BucketName: on("s3Logging") ? "org-session-logs" : "",
        sessionDataEncryption: on("sessionDataEncryption"),
        createCWLogGroup: on("createCWLogGroup"),
        cwEncryptionEnabled: on("cwEncryptionEnabled"),
        runAsEnabled: on("runAsEnabled"),
        runAsDefaultUser: on("runAsEnabled") ? "ec2-user" : "",
        winShellProfile: on("winShellProfile") ? "Set-Location $env:USERPROFILE" : "",
        linuxShellProfile: on("linuxShellProfile") ? "cd ${HOME}; exec bash" : "",
        // Plain values, not conditions: they only change what the document says.
        s3EncryptionEnabled: index % 2 === 0,
        cwStreamingEnabled: index % 3 === 0,
    });
}

describe("StackSet template", () => {
    describe("cfn-lint", () => {
        it("finds no error in the template for any combination of the sample's conditions, nor for the other choices", async function () {
            this.timeout(600_000);
            const variants: [string, Preferences][] = [];
            for (let i = 0; i < 2 ** sampleConditions.length; i++) {
                const on = sampleConditions.filter((_, bit) => ((i >> bit) & 1) === 1);
                variants.push([`conditions-${on.join("+") || "none"}`, combination(i)]);
            }
            const all = combination(2 ** sampleConditions.length - 1);
            variants.push(
                ["existing-key", { ...all, sessionDataKeyArn: existingKeyArn }],
                ["existing-key-per-region", { ...all, sessionDataKeyArn: "arn:aws:kms:{region}:{accountId}:key/mrk-0123456789abcdef0123456789abcdef" }],
                ["no-instance-policy", { ...all, instancePolicy: false }],
                ["instance-policy-attached", { ...all, instanceRoleNames: ["AppServerRole", "BastionRole"] }],
                ["reset-on-delete", { ...all, onDelete: "reset" }],
                ["retain-on-delete", { ...all, onDelete: "retain" }],
                ["logs-kept-forever", { ...all, logRetentionInDays: 0 }],
                ["no-cloudwatch-logging", { ...all, cwLogging: false }],
                ["s3-without-prefix", { ...all, s3KeyPrefix: "" }],
                ["shell-profile-longer-than-a-parameter", { ...all, linuxShellProfile: "x".repeat(maxParameterValueBytes + 1) }],
                ...archives.map(([name, archive]): [string, Preferences] => [`archive-${name}`, { ...all, s3BucketName: "", ...archive }]),
                ["operator-policy", { ...all, operatorPolicy: { roleNames: ["OperatorRole"], instanceTag: { key: "team", value: "payments" } } }],
                ["operator-policy-existing-key", { ...all, sessionDataKeyArn: existingKeyArn, operatorPolicy: { roleNames: [] } }],
            );
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-cfn-lint-"));
            try {
                const files = variants.map(([name, p]) => {
                    const file = path.join(dir, `${name}.json`);
                    fs.writeFileSync(file, renderTemplate(p, context));
                    return file;
                });
                const findings = await cfnLint(files);
                const errors = findings.filter((f) => f.Level === "Error");
                const report = findings.map((f) => `${f.Level} ${f.Rule.Id} ${path.basename(f.Filename)} ${f.Location.Path.join(".")}: ${f.Message}`);
                if (report.length > 0) console.log(`cfn-lint findings:\n  ${report.join("\n  ")}`);
                expect(errors, report.join("\n")).to.deep.equal([]);
                expect(report, "warnings too").to.deep.equal([]);
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("custom-resource handler bundle", () => {
        it("is byte-identical on every build, so an unchanged program shows no StackSet diff", () => {
            const first = Buffer.from(buildBundle());
            const second = Buffer.from(buildBundle());
            expect(first.equals(second)).to.equal(true);
            expect(second.equals(Buffer.from(code))).to.equal(true);
        });

        it("holds no absolute path, source map or timestamp", () => {
            expect(code).to.not.include(sourceRoot());
            expect(code).to.not.include(os.tmpdir());
            expect(code).to.not.include("sourceMappingURL");
            expect(code).to.not.match(/20\d\d-\d\d-\d\dT\d\d:/);
        });

        it("leaves the AWS SDK and Node.js's own modules to the Lambda runtime and bundles everything else", () => {
            const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
            expect([...new Set(required)].sort()).to.deep.equal(["@aws-sdk/client-ssm", "node:crypto", "node:module"]);
        });

        it("is the function's inline code, run as index.handler on the Node.js it was built for", () => {
            const fn = template().Resources[L.handler].Properties;
            expect(fn.Runtime).to.equal(handlerRuntime);
            expect(fn.Handler).to.equal("index.handler");
            expect(fn.Code).to.deep.equal({ ZipFile: code });
        });
    });

    describe("size", () => {
        const largest = () => combination(2 ** sampleConditions.length - 1);

        it(`fits the ${maxTemplateUrlBytes} bytes CloudFormation reads from a TemplateURL, with every part present`, () => {
            const bytes = Buffer.byteLength(renderTemplate(largest(), context));
            console.log(`      handler bundle: ${Buffer.byteLength(code)} bytes; template with every part: ${bytes} bytes`);
            expect(bytes).to.be.at.most(maxTemplateUrlBytes);
        });

        it(`goes through S3: with the bundle inline it is larger than the ${maxTemplateBodyBytes} bytes of an inline TemplateBody`, () => {
            expect(
                Buffer.byteLength(renderTemplate(prefs({ sessionDataEncryption: false, createCWLogGroup: false, instancePolicy: false }), context)),
            ).to.be.above(maxTemplateBodyBytes);
        });

        it("fits with both shell profiles as long as SSM lets a document be", () => {
            const p = prefs({ linuxShellProfile: "x".repeat(30_000), winShellProfile: "${y}".repeat(6_000) });
            expect(Buffer.byteLength(renderTemplate(p, context))).to.be.at.most(maxTemplateUrlBytes);
        });

        it("refuses a template over the TemplateURL limit, naming the limit and what takes the room", () => {
            const oversized = { ...context, handlerCode: "x".repeat(maxTemplateUrlBytes) };
            expect(() => renderTemplate(prefs(), oversized)).to.throw(
                TemplateTooLargeError,
                new RegExp(`at most ${maxTemplateUrlBytes} bytes from a TemplateURL.*handler accounts for ${maxTemplateUrlBytes} bytes`),
            );
        });
    });

    describe("template body", () => {
        it("has no conditions without an operator policy or an instance policy: the configuration decided those resources at synthesis", () => {
            expect(template({ instancePolicy: false })).to.not.have.property("Conditions");
            expect(Object.keys(template().Conditions ?? {})).to.have.members([conditionIds.s3Logging, conditionIds.s3KeyPrefix]);
        });

        it("hard-codes no partition: every ARN it builds uses ${AWS::Partition}", () => {
            // The handler's code is left out: its error messages quote example ARNs.
            const t = JSON.parse(renderTemplate(combination(2 ** sampleConditions.length - 1), context)) as CfnTemplate;
            delete (t.Resources[L.handler].Properties as { Code?: unknown }).Code;
            const body = JSON.stringify(t);
            expect(body).to.not.match(/arn:aws[-a-z]*:/);
            expect(body).to.include("arn:${AWS::Partition}:");
        });
    });

    describe("parameters", () => {
        const all = combination(2 ** sampleConditions.length - 1);

        it("are the twelve document preferences, each defaulting to the base setting as CloudFormation writes it, and an empty repair token", () => {
            const t = sessionManagerTemplate(all, context);
            expect(Object.keys(t.Parameters)).to.have.members([...Object.values(parameterNames), repairTokenParameter]);
            for (const key of documentPreferenceKeys) expect(t.Parameters[parameterNames[key]].Default, key).to.equal(String(all[key]));
            expect(t.Parameters.IdleSessionTimeout).to.include({ Type: "Number", MinValue: 1, MaxValue: 60 });
            expect(t.Parameters.RunAsEnabled.AllowedValues).to.deep.equal(["true", "false"]);
            expect(t.Parameters[repairTokenParameter].Default).to.equal("");
            expect(t.Resources[L.document].Properties).to.deep.include({
                IdleSessionTimeout: { Ref: "IdleSessionTimeout" },
                RepairToken: { Ref: "RepairToken" },
            });
        });

        it("write the S3 key prefix without leading or trailing slashes, which the document leaves out anyway", () => {
            expect(template({ s3KeyPrefix: "/logs/ssm/" }).Parameters.S3KeyPrefix.Default).to.equal("logs/ssm");
        });

        it("make the document and the instance policy of the instance's own settings when an instance override sets them, in any account and Region", () => {
            fc.assert(
                fc.property(
                    preferencesArbitrary.filter((p) => !p.logArchive),
                    preferencesArbitrary,
                    fc.constantFrom("eu-west-1", "us-gov-west-1", "cn-north-1"),
                    (base, other, region) => {
                        const accountId = "123456789012";
                        const t = sessionManagerTemplate(base, context);
                        const overridden = parameterisedKeys(base).filter((k) => parameterisedKeys(other).includes(k));
                        const overrides = Object.fromEntries(overridden.map((k) => [parameterNames[k], parameterValue(k, other[k])]));
                        const merged: Preferences = { ...base, ...Object.fromEntries(overridden.map((k) => [k, other[k]])) };
                        // Only overrides that keep the cross-field rules: preferencesFor refuses the others before any deployment.
                        fc.pre(relatedFieldProblems(merged).length === 0);
                        const stack = stackIn(accountId, region);
                        const part = sessionDataKeyPart(base, { accountId, region });
                        const kmsKeyId = "skip" in part ? "" : "existing" in part ? part.existing.arn : stack[L.sessionDataKey];
                        expect(documentContentIn(t, stack, overrides)).to.deep.equal(desiredDocument(merged, { accountId, region, kmsKeyId }));
                        if (base.instancePolicy) {
                            const expected = instanceProfilePolicy({
                                ...policyScope(accountId, region),
                                logGroupName: base.cwLogging ? base.cwLogGroupName : undefined,
                                s3: merged.s3Logging
                                    ? { bucketName: merged.s3BucketName, keyPrefix: s3KeyPrefixFor(merged.s3KeyPrefix, accountId, region) }
                                    : undefined,
                                sessionDataKeyArn: "skip" in part ? undefined : "existing" in part ? part.existing.arn : stack[`${L.sessionDataKey}.Arn`],
                            });
                            const resolved = resolveIntrinsics(t.Resources[L.instancePolicy].Properties.PolicyDocument, templateStack(t, stack, overrides));
                            expect(resolved).to.deep.equal(expected);
                        }
                    },
                ),
                { numRuns: 200 },
            );
        });

        it("leave a shell profile longer than a parameter may be in the template itself, so that it cannot be overridden per instance", () => {
            const long = "echo hi; ".repeat(500);
            const t = template({ linuxShellProfile: long });
            expect(t.Parameters).to.not.have.property(parameterNames.linuxShellProfile);
            expect(t.Parameters).to.have.property(parameterNames.winShellProfile);
            expect(t.Resources[L.document].Properties[parameterNames.linuxShellProfile]).to.equal(long);
            const content = documentContentIn(t, stackIn("111122223333", "eu-west-1")) as { inputs: { shellProfile: { linux: string } } };
            expect(content.inputs.shellProfile.linux).to.equal(long);
        });

        it("allow only the log archive's bucket and prefix when there is one: the archive decides where every target's logs go", () => {
            const t = template(archives[0][1]);
            expect(t.Parameters.S3Logging.AllowedValues).to.deep.equal(["true"]);
            expect(t.Parameters.S3BucketName.AllowedValues).to.deep.equal(["org-session-logs-{region}"]);
            expect(t.Parameters.S3KeyPrefix.AllowedValues).to.deep.equal(["sessionmanager"]);
            const content = documentContentIn(t, stackIn("111122223333", "us-east-1")) as { inputs: { s3BucketName: string } };
            expect(content.inputs.s3BucketName).to.equal("org-session-logs-us-east-1");
        });

        it("a new repair token changes nothing but the custom resource's properties, and not the document it makes", () => {
            const t = template();
            const stack = stackIn("111122223333", "eu-west-1");
            const before = documentProperties(t, stack);
            const after = documentProperties(t, stack, { [repairTokenParameter]: "repair-1" });
            expect({ ...after, RepairToken: before.RepairToken }).to.deep.equal(before);
            expect(after.RepairToken).to.equal("repair-1");
            expect(parseProperties(after).desired).to.deep.equal(parseProperties(before).desired);
            for (const [id, resource] of Object.entries(t.Resources)) {
                if (id !== L.document) expect(JSON.stringify(resource), id).to.not.include(repairTokenParameter);
            }
        });
    });

    describe("document content", () => {
        it("equals the direct mode's desired document for the same settings, in any account and Region", () => {
            fc.assert(
                fc.property(
                    preferencesArbitrary,
                    fc.stringMatching(/^\d{12}$/),
                    fc.constantFrom("eu-west-1", "us-east-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5", "us-iso-east-1"),
                    (p, accountId, region) => {
                        const stack = stackIn(accountId, region);
                        const part = sessionDataKeyPart(p, { accountId, region });
                        const kmsKeyId = "skip" in part ? "" : "existing" in part ? part.existing.arn : stack[L.sessionDataKey];
                        const t = sessionManagerTemplate(p, context);
                        expect(documentContentIn(t, stack)).to.deep.equal(desiredDocument(p, { accountId, region, kmsKeyId }));
                    },
                ),
                { numRuns: 300 },
            );
        });

        it("names the Session document SSM-SessionManagerRunShell", () => {
            expect(template().Resources[L.document].Properties.DocumentName).to.equal(defaultDocumentName);
        });

        it("writes a literal ${...} in a shell profile as it is, not as a CloudFormation reference", () => {
            const t = template({ linuxShellProfile: "echo ${HOME} ${!x}" });
            const content = documentContentIn(t, stackIn("111122223333", "eu-west-1")) as { inputs: { shellProfile: { linux: string } } };
            expect(content.inputs.shellProfile.linux).to.equal("echo ${HOME} ${!x}");
        });

        it("hands onDelete, keepDocumentVersions, the owner and takeOver to the custom resource, as the strings CloudFormation sends", () => {
            const props = template({ onDelete: "reset", keepDocumentVersions: 7, takeOver: true }).Resources[L.document].Properties;
            expect(props).to.include({ OnDelete: "reset", KeepDocumentVersions: "7", Owner: context.owner, TakeOver: "true" });
            expect(template().Resources[L.document].Properties).to.include({ OnDelete: "restore", KeepDocumentVersions: "100", TakeOver: "false" });
        });
    });

    describe("policies", () => {
        it("equal the direct mode's key and instance policies once CloudFormation fills in the partition, account and Region", () => {
            fc.assert(
                fc.property(preferencesArbitrary, fc.constantFrom("eu-west-1", "us-gov-east-1", "cn-northwest-1", "us-isob-east-1"), (p, region) => {
                    const accountId = "123456789012";
                    const stack = stackIn(accountId, region);
                    const t = sessionManagerTemplate(p, context);
                    const resolved = (id: string, property: string) => resolveIntrinsics(t.Resources[id]?.Properties[property], templateStack(t, stack));
                    const part = sessionDataKeyPart(p, { accountId, region });
                    if ("args" in part) expect(resolved(L.sessionDataKey, "KeyPolicy")).to.deep.equal(sessionDataKeyPolicy(policyScope(accountId, region)));
                    if (p.cwLogging && p.createCWLogGroup && p.cwEncryptionEnabled) {
                        expect(resolved(L.logsKey, "KeyPolicy")).to.deep.equal(logsKeyPolicy(policyScope(accountId, region), p.cwLogGroupName));
                    }
                    if (p.instancePolicy) {
                        const expected = instanceProfilePolicy({
                            ...policyScope(accountId, region),
                            logGroupName: p.cwLogging ? p.cwLogGroupName : undefined,
                            s3: p.s3Logging ? { bucketName: p.s3BucketName, keyPrefix: s3KeyPrefixFor(p.s3KeyPrefix, accountId, region) } : undefined,
                            sessionDataKeyArn: "skip" in part ? undefined : "existing" in part ? part.existing.arn : stack[`${L.sessionDataKey}.Arn`],
                        });
                        expect(resolved(L.instancePolicy, "PolicyDocument")).to.deep.equal(expected);
                    }
                }),
                { numRuns: 200 },
            );
        });

        it("give the custom resource's role the Session document and its own log group, nothing else", () => {
            const role = resolveIntrinsics(template().Resources[L.handlerRole].Properties, stackIn("111122223333", "us-gov-west-1")) as {
                AssumeRolePolicyDocument: unknown;
                Policies: { PolicyDocument: { Statement: { Action: string[]; Resource: string }[] } }[];
            };
            expect(role.Policies).to.have.length(1);
            expect(role.Policies[0].PolicyDocument.Statement.map((s) => [s.Action, s.Resource])).to.deep.equal([
                [[...documentWriteActions], "arn:aws-us-gov:ssm:us-gov-west-1:111122223333:document/SSM-SessionManagerRunShell"],
                [["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws-us-gov:logs:us-gov-west-1:111122223333:log-group:handler-log-group:*"],
            ]);
            expect(JSON.stringify(role.AssumeRolePolicyDocument)).to.include('"Service":"lambda.amazonaws.com"');
        });

        it("name the instance policy per Region, as the direct mode does, and attach it to the configured roles", () => {
            const policy = template({ instanceRoleNames: ["AppServerRole"] }).Resources[L.instancePolicy].Properties;
            expect(resolveIntrinsics(policy.ManagedPolicyName, stackIn("111122223333", "eu-west-1"))).to.equal("SessionManagerInstance-eu-west-1");
            expect(policy.Path).to.equal("/session-manager/");
            expect(policy.Roles).to.deep.equal(["AppServerRole"]);
        });
    });

    describe("resources", () => {
        const ids = (t: CfnTemplate) => Object.keys(t.Resources).sort();
        const always = [L.handlerLogsKey, L.handlerLogGroup, L.handlerRole, L.handler, L.document];

        it("with the defaults: both keys with aliases, the key-ID parameter, the log group, the instance policy and the document", () => {
            expect(ids(template())).to.deep.equal(
                [L.sessionDataKey, L.sessionDataKeyAlias, L.sessionDataKeyParameter, L.logsKey, L.logsKeyAlias, L.logGroup, L.instancePolicy, ...always].sort(),
            );
        });

        it("with everything off or existing: only the custom resource and its function", () => {
            const t = template({ sessionDataEncryption: false, createCWLogGroup: false, instancePolicy: false });
            expect(ids(t)).to.deep.equal([...always].sort());
            expect(t.Resources[L.document].Type).to.equal(customResourceType);
        });

        it("points the document at an existing session-data key by ARN and creates no key", () => {
            const t = template({ sessionDataKeyArn: "arn:aws:kms:{region}:999988887777:key/mrk-0123456789abcdef0123456789abcdef" });
            expect(ids(t)).to.not.include(L.sessionDataKey);
            expect(ids(t)).to.not.include(L.sessionDataKeyParameter);
            const content = documentContentIn(t, stackIn("111122223333", "ap-south-1")) as { inputs: { kmsKeyId: string } };
            expect(content.inputs.kmsKeyId).to.equal("arn:aws:kms:ap-south-1:999988887777:key/mrk-0123456789abcdef0123456789abcdef");
        });

        it("names the aliases and the key-ID parameter as the direct mode does", () => {
            const t = template();
            expect(t.Resources[L.sessionDataKeyAlias].Properties.AliasName).to.equal(sessionDataKeyAlias);
            expect(t.Resources[L.logsKeyAlias].Properties.AliasName).to.equal(logsKeyAlias);
            expect(t.Resources[L.sessionDataKeyParameter].Properties.Name).to.equal(sessionDataKeyParameterName);
        });

        it("keeps the log group and the key that encrypts it when the stack is deleted or replaces them", () => {
            const t = template();
            for (const id of [L.logGroup, L.logsKey]) {
                expect(t.Resources[id].DeletionPolicy, id).to.equal("Retain");
                expect(t.Resources[id].UpdateReplacePolicy, id).to.equal("Retain");
            }
        });

        it("keeps the session-data key only when the document is retained, since it keeps naming the key", () => {
            expect(template({ onDelete: "retain" }).Resources[L.sessionDataKey].DeletionPolicy).to.equal("Retain");
            expect(template({ onDelete: "restore" }).Resources[L.sessionDataKey].DeletionPolicy).to.equal("Delete");
        });

        it("encrypts the log group with the logs key, whose service principal is scoped to that group", () => {
            const stack = stackIn("111122223333", "cn-north-1");
            const t = template({ cwLogGroupName: "org/sessions" });
            const group = resolveIntrinsics(t.Resources[L.logGroup].Properties, stack) as Record<string, unknown>;
            expect(group).to.deep.equal({ LogGroupName: "org/sessions", RetentionInDays: 90, KmsKeyId: stack[`${L.logsKey}.Arn`] });
            const statement = (resolveIntrinsics(t.Resources[L.logsKey].Properties.KeyPolicy, stack) as { Statement: Record<string, unknown>[] }).Statement[1];
            expect(statement.Principal).to.deep.equal({ Service: "logs.cn-north-1.amazonaws.com.cn" });
            expect(statement.Condition).to.deep.equal({
                ArnEquals: { "kms:EncryptionContext:aws:logs:arn": "arn:aws-cn:logs:cn-north-1:111122223333:log-group:org/sessions" },
            });
        });

        it("leaves the log group unencrypted and keyless when CloudWatch encryption is off", () => {
            const t = template({ cwEncryptionEnabled: false });
            expect(ids(t)).to.not.include(L.logsKey);
            expect(t.Resources[L.logGroup].Properties).to.not.have.property("KmsKeyId");
        });

        it("applies the document after the log group it names exists", () => {
            expect(template().Resources[L.document].DependsOn).to.deep.equal([L.logGroup]);
            expect(template({ createCWLogGroup: false }).Resources[L.document]).to.not.have.property("DependsOn");
        });
    });
    describe("log archive", () => {
        const accountId = "111122223333";
        const statementOf = (document: unknown, sid: string) => (document as PolicyDocument).Statement.find((st: PolicyStatement) => st.Sid === sid);

        it("gives instances the direct mode's instance policy for a target in the stack's Region, archive key included", () => {
            for (const [name, archive] of archives) {
                const p = prefs({ ...archive, instanceRoleNames: ["AppServerRole"] });
                const t = sessionManagerTemplate(p, context);
                for (const region of context.regions) {
                    const stack = stackIn(accountId, region);
                    const plan = planTarget(p, { accountId, region });
                    const archiveTarget = "args" in plan.instancePolicy ? plan.instancePolicy.args?.logArchive : undefined;
                    expect(archiveTarget, name).to.not.equal(undefined);
                    const expected = instanceProfilePolicy({
                        ...policyScope(accountId, region),
                        logGroupName: p.cwLogGroupName,
                        s3: { bucketName: plan.preferences.s3BucketName, keyPrefix: s3KeyPrefixFor(p.s3KeyPrefix, accountId, region), archive: archiveTarget },
                        sessionDataKeyArn: stack[`${L.sessionDataKey}.Arn`],
                    });
                    expect(resolveIntrinsics(t.Resources[L.instancePolicy].Properties.PolicyDocument, stack), `${name} in ${region}`).to.deep.equal(expected);
                    const content = documentContentIn(t, stack);
                    expect(content, `${name} in ${region}`).to.deep.equal(desiredDocument(p, { accountId, region, kmsKeyId: stack[L.sessionDataKey] }));
                    expect(content, `${name} in ${region}`).to.have.nested.property("inputs.s3BucketName", plan.preferences.s3BucketName);
                }
            }
        });

        it("lets instances use the archive key of their own Region's bucket, through S3 in that Region, when there is a bucket per Region", () => {
            const stack = stackIn(accountId, "us-east-1");
            const created = resolveIntrinsics(template(archives[0][1]).Resources[L.instancePolicy].Properties.PolicyDocument, stack);
            expect(statementOf(created, "EncryptSessionLogsForTheArchive")).to.deep.include({
                Resource: "arn:aws:kms:us-east-1:999988887777:key/*",
                Condition: {
                    StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" },
                    StringLike: {
                        "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::org-session-logs-us-east-1", "arn:aws:s3:::org-session-logs-us-east-1/*"],
                    },
                },
            });
            const existing = resolveIntrinsics(template(archives[1][1]).Resources[L.instancePolicy].Properties.PolicyDocument, stack);
            expect(statementOf(existing, "EncryptSessionLogsForTheArchive")?.Resource).to.equal(
                "arn:aws:kms:us-east-1:999988887777:key/mrk-0123456789abcdef0123456789abcdef",
            );
        });

        it("lets instances in every Region use the one bucket's key in its Region, and no key when the bucket has none", () => {
            const stack = stackIn(accountId, "us-east-1");
            const created = resolveIntrinsics(template(archives[2][1]).Resources[L.instancePolicy].Properties.PolicyDocument, stack);
            expect(statementOf(created, "EncryptSessionLogsForTheArchive")).to.deep.include({
                Resource: "arn:aws:kms:eu-west-1:999988887777:key/*",
                Condition: {
                    StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
                    StringLike: { "kms:EncryptionContext:aws:s3:arn": ["arn:aws:s3:::org-session-logs", "arn:aws:s3:::org-session-logs/*"] },
                },
            });
            const existing = resolveIntrinsics(template(archives[3][1]).Resources[L.instancePolicy].Properties.PolicyDocument, stack);
            expect(statementOf(existing, "EncryptSessionLogsForTheArchive")?.Resource).to.equal(existingKeyArn);
            const none = resolveIntrinsics(template(archives[4][1]).Resources[L.instancePolicy].Properties.PolicyDocument, stack);
            expect(statementOf(none, "EncryptSessionLogsForTheArchive")).to.equal(undefined);
            expect(statementOf(none, "WriteSessionLogObjects")?.Resource).to.equal(`arn:aws:s3:::org-session-logs/sessionmanager/${accountId}/us-east-1/*`);
        });
    });

    describe("operator policy", () => {
        const operator = { roleNames: ["OperatorRole"], instanceTag: { key: "team", value: "payments" } };
        const regions = ["eu-west-1", "us-east-1", "ap-southeast-2"];
        const operatorTemplate = (overrides: Partial<Preferences> = {}) =>
            sessionManagerTemplate(prefs({ operatorPolicy: operator, ...overrides }), { ...context, regions });

        it("is made once per account: in the stack of the StackSet's first Region only", () => {
            const t = operatorTemplate();
            expect(t.Resources[L.operatorPolicy].Condition).to.equal(conditionIds.operatorPolicyRegion);
            expect(t.Outputs.OperatorPolicyArn.Condition).to.equal(conditionIds.operatorPolicyRegion);
            const madeIn = regions.filter((region) => conditionHolds(t, conditionIds.operatorPolicyRegion, stackIn("111122223333", region)));
            expect(madeIn).to.deep.equal(["eu-west-1"]);
            expect(template().Conditions).to.not.have.property(conditionIds.operatorPolicyRegion);
            expect(template().Resources).to.not.have.property(L.operatorPolicy);
        });

        it("is the direct mode's policy for the account, naming every Region of the StackSet, in any partition", () => {
            for (const [region, overrides] of [
                ["eu-west-1", {}],
                ["us-gov-west-1", { sessionDataKeyArn: "arn:aws-us-gov:kms:{region}:{accountId}:key/mrk-0123456789abcdef0123456789abcdef" }],
                ["cn-north-1", { sessionDataEncryption: false }],
            ] as const) {
                const p = prefs({ operatorPolicy: operator, ...overrides });
                const t = operatorTemplate(overrides);
                const stack = stackIn("111122223333", region);
                const expected = operatorPolicy(operatorPolicyInputs(p, { partition: partitionOf(region), accountId: "111122223333", regions }));
                const document = resolveIntrinsics(t.Resources[L.operatorPolicy].Properties.PolicyDocument, stack) as PolicyDocument;
                expect(document, region).to.deep.equal(expected);
                for (const r of regions) expect(JSON.stringify(document.Statement[0].Resource), region).to.include(`:ec2:${r}:111122223333:instance/*`);
                expect(document.Statement[0].Condition?.StringEquals).to.deep.equal({ "ssm:resourceTag/team": "payments" });
                // ${aws:userid} is IAM's, not CloudFormation's: it reaches IAM as it is.
                expect(JSON.stringify(document)).to.include('"ssm:resourceTag/aws:ssmmessages:session-id":"${aws:userid}"');
            }
        });

        it("has the one name and path of every account's operator policy and is attached to the configured roles", () => {
            const props = operatorTemplate().Resources[L.operatorPolicy].Properties;
            expect(props).to.include({ ManagedPolicyName: operatorPolicyName, Path: operatorPolicyPath });
            expect(props.Roles).to.deep.equal(["OperatorRole"]);
            expect(operatorTemplate({ operatorPolicy: { roleNames: [] } }).Resources[L.operatorPolicy].Properties).to.not.have.property("Roles");
        });
    });

    describe("custom resource handler", () => {
        it("runs as a role of a fixed name per Region, which the guardrail excepts", () => {
            const roleName = resolveIntrinsics(template().Resources[L.handlerRole].Properties.RoleName, stackIn("111122223333", "us-gov-west-1"));
            expect(roleName).to.equal(stackSetHandlerRoleName("us-gov-west-1"));
            const excepted = guardrailExceptions({ ...defaultOrganizationSettings, targets: [], deployment: "stackset", guardrail: undefined });
            // The guardrail names roles by ARN patterns, where * matches anything.
            const literal = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
            const matches = (pattern: string) => new RegExp(`^${pattern.split("*").map(literal).join(".*")}$`).test(roleName as string);
            expect(excepted.filter(matches)).to.have.length(1);
        });

        it("logs to a log group of a fixed name, encrypted with a key that CloudWatch Logs may use for that log group only", () => {
            const stack = stackIn("111122223333", "cn-north-1");
            const t = template();
            const group = resolveIntrinsics(t.Resources[L.handlerLogGroup].Properties, stack);
            expect(group).to.deep.equal({ LogGroupName: stackSetHandlerLogGroupName, RetentionInDays: 90, KmsKeyId: stack[`${L.handlerLogsKey}.Arn`] });
            const key = resolveIntrinsics(t.Resources[L.handlerLogsKey].Properties, stack) as { KeyPolicy: PolicyDocument };
            expect(key.KeyPolicy).to.deep.equal(logsKeyPolicy(policyScope("111122223333", "cn-north-1"), stackSetHandlerLogGroupName));
            expect(key.KeyPolicy.Statement[1].Condition).to.deep.equal({
                ArnEquals: { "kms:EncryptionContext:aws:logs:arn": `arn:aws-cn:logs:cn-north-1:111122223333:log-group:${stackSetHandlerLogGroupName}` },
            });
            expect(t.Resources[L.handler].Properties.LoggingConfig).to.deep.equal({ LogGroup: { Ref: L.handlerLogGroup } });
        });

        it("deletes the log group and its key with the stack, the key after KMS's shortest wait, and rotates it as configured", () => {
            const t = template({ kmsKeyRotation: false });
            for (const id of [L.handlerLogGroup, L.handlerLogsKey])
                expect(t.Resources[id], id).to.include({ DeletionPolicy: "Delete", UpdateReplacePolicy: "Delete" });
            expect(t.Resources[L.handlerLogsKey].Properties).to.include({ PendingWindowInDays: 7, EnableKeyRotation: false });
            expect(template().Resources[L.handlerLogsKey].Properties.EnableKeyRotation).to.equal(true);
        });
    });
});
