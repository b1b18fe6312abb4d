// Every IAM policy the program generates, linted by Parliament (pinned in requirements-test.txt):
// the roles that run it (core/accessPolicies.ts), the key and instance policies it creates
// (core/policies.ts), the landing zone's archive, operator and service control policies
// (core/landingZone.ts), and the policies inside the StackSet template (core/template.ts), in
// each partition. No finding at any severity may stand unless it is a documented false positive,
// or an accepted finding (true, and the role's job: test/support/parliament.ts).
import { expect } from "chai";
import * as path from "node:path";
import { accessRoles, accessScope, auditPermissions, StartingPoint } from "../core/accessPolicies";
import { parseSettings } from "../core/config";
import { dnsSuffixOf, partitionOf } from "../core/partition";
import {
    archiveBucketPolicy,
    archiveKeyPolicy,
    archiveTargetFor,
    guardrailExceptions,
    guardrailPolicy,
    operatorPolicy,
    operatorPolicyInputs,
} from "../core/landingZone";
import { instanceProfilePolicy, logsKeyPolicy, policyScope, sessionDataKeyPolicy } from "../core/policies";
import { defaultDocumentName, defaultPreferences, LogArchive, Preferences, Settings } from "../core/settings";
import { logicalIds as L, sessionManagerTemplate } from "../core/template";
import { repoRoot } from "../devtools/engine";
import { handlerBundle } from "../lambda/bundle";
import { loadOrgConfig } from "../orchestrator/orgConfig";
import { resolveIntrinsics, templateStack } from "./support/cloudformation";
import { explanationOf, NamedPolicy, parliament, parliamentAcceptedFindings, parliamentFalsePositives } from "./support/parliament";

const start: StartingPoint = {
    accountId: "999988887777",
    githubRepository: "acme/landing-zone",
    previewRoleName: "SessionManagerPreview",
    rolloutRoleName: "SessionManagerRollout",
    backendUrl: "s3://acme-pulumi-state/session-manager",
};

const targets = (region: string) => [
    { accountId: "111122223333", regions: [region], roleName: "SessionManagerDeployer", readOnlyRoleName: "SessionManagerReader" },
    { accountId: "444455556666", regions: [region], roleName: "SessionManagerDeployer", readOnlyRoleName: "SessionManagerReader" },
];

/** The log archive, the operator policy and the guardrail, each with its own pair of roles. */
const landingZone = (region: string) => ({
    instanceRoleNames: ["AppServerRole"],
    operatorPolicy: { roleNames: ["PlatformOperators"], instanceTag: { key: "session-access", value: "platform" } },
    logArchive: {
        accountId: "777788889999",
        organizationId: "o-a1b2c3d4e5",
        regions: [region],
        bucketName: "org-session-logs-{region}",
        roleName: "SessionManagerLogArchiveDeployer",
        readOnlyRoleName: "SessionManagerLogArchiveReader",
    },
    guardrail: {
        targetIds: ["ou-ab12-cdef3456", "r-ab12"],
        accountId: "999988887777",
        roleName: "SessionManagerGuardrailDeployer",
        readOnlyRoleName: "SessionManagerGuardrailReader",
    },
    targets: targets(region),
});

/** Configurations that together use every statement the roles can have, in each partition. */
function configurations(): [string, Settings, string][] {
    const prod = loadOrgConfig(path.join(repoRoot, "Pulumi.prod.yaml"));
    const all = { instanceRoleNames: ["AppServerRole"], s3Logging: true, s3BucketName: "org-session-logs" };
    return [
        ["Pulumi.prod.yaml", prod.settings, prod.region ?? "eu-west-1"],
        ["every part, aws", parseSettings({ ...all, targets: targets("eu-west-1") }), "eu-west-1"],
        ["every part, aws-us-gov", parseSettings({ ...all, targets: targets("us-gov-west-1") }), "us-gov-west-1"],
        ["every part, aws-cn", parseSettings({ ...all, targets: targets("cn-north-1") }), "cn-north-1"],
        ["landing zone, aws", parseSettings(landingZone("eu-west-1")), "eu-west-1"],
        ["landing zone, aws-us-gov", parseSettings(landingZone("us-gov-west-1")), "us-gov-west-1"],
        ["landing zone, aws-cn", parseSettings(landingZone("cn-north-1")), "cn-north-1"],
        [
            // No role in the log-archive account or for the guardrail: the starting roles hold their permissions.
            "landing zone, starting credentials",
            parseSettings({
                ...landingZone("eu-west-1"),
                logArchive: { ...landingZone("eu-west-1").logArchive, roleName: undefined, readOnlyRoleName: undefined },
                guardrail: true,
                organizationalUnitIds: ["ou-ab12-cdef3456"],
            }),
            "eu-west-1",
        ],
        [
            "document only",
            parseSettings({ sessionDataEncryption: false, createCWLogGroup: false, instancePolicy: false, targets: targets("eu-west-1") }),
            "eu-west-1",
        ],
        [
            "accounts under OUs",
            parseSettings({ organizationalUnitIds: ["ou-ab12-cdef3456"], regions: ["eu-west-1", "us-east-1"], readOnlyRoleName: "SessionManagerReader" }),
            "eu-west-1",
        ],
        [
            "accounts under OUs, an override by OU",
            parseSettings({
                organizationalUnitIds: ["ou-ab12-cdef3456"],
                regions: ["eu-west-1"],
                readOnlyRoleName: "SessionManagerReader",
                overrides: [{ name: "sandbox", organizationalUnitIds: ["ou-ab12-sandbox1"], idleSessionTimeout: 60 }],
            }),
            "eu-west-1",
        ],
        ["ambient credentials", parseSettings({ targets: [{ accountId: "999988887777", regions: ["eu-west-1"] }] }), "eu-west-1"],
        [
            "StackSet, delegated administrator",
            parseSettings({ deployment: "stackset", organizationalUnitIds: ["ou-ab12-cdef3456"], regions: ["eu-west-1"], stackSetCallAs: "DELEGATED_ADMIN" }),
            "eu-west-1",
        ],
    ];
}

function rolePolicies(): NamedPolicy[] {
    return configurations().flatMap(([name, settings, region]) =>
        accessRoles(settings, accessScope(settings, { defaultRegion: region, discoveredRoleName: "SessionManagerDeployer" }), start, region).roles.flatMap(
            (role) => [
                { name: `${name}: ${role.roleName} trust`, kind: "trust" as const, document: role.trustPolicy },
                { name: `${name}: ${role.roleName} permissions`, kind: "identity" as const, document: role.permissions },
            ],
        ),
    );
}

/** The audit's least privilege (npm run org -- audit): its read role's and its starting credentials', for each configuration. */
function auditPolicies(): NamedPolicy[] {
    return configurations().flatMap(([name, settings, region]) => {
        const { target, starting } = auditPermissions(
            settings,
            accessScope(settings, { defaultRegion: region, discoveredRoleName: "SessionManagerDeployer" }),
            "SessionManagerDeployer",
        );
        return [
            { name: `${name}: audit's read role`, kind: "identity" as const, document: target },
            ...(starting.Statement.length > 0 ? [{ name: `${name}: audit's starting credentials`, kind: "identity" as const, document: starting }] : []),
        ];
    });
}

/** A log archive in another account with a bucket in `region` (`{region}` in its name makes one per Region). */
function archiveIn(region: string, changes: Partial<LogArchive> = {}): LogArchive {
    return {
        accountId: "999988887777",
        organizationId: "o-a1b2c3d4e5",
        regions: [region],
        bucketName: "org-session-logs-{region}",
        create: true,
        retentionInDays: 365,
        ...changes,
    };
}

function createdPolicies(): NamedPolicy[] {
    return ["eu-west-1", "us-gov-west-1", "cn-north-1"].flatMap((region) => {
        const scope = policyScope("111122223333", region);
        const keyArn = `arn:${scope.partition}:kms:${region}:111122223333:key/0a1b2c3d-1111-2222-3333-444455556666`;
        const archiveScope = policyScope("999988887777", region);
        const archiveKeyArn = `arn:${scope.partition}:kms:${region}:999988887777:key/0a1b2c3d-3333-2222-3333-444455556666`;
        const bucketName = `org-session-logs-${region}`;
        const operator = (name: string, settings: Partial<Preferences>): NamedPolicy => ({
            name: `operator policy, ${name}, ${region}`,
            kind: "identity",
            document: operatorPolicy(
                operatorPolicyInputs(
                    { sessionDataEncryption: true, operatorPolicy: { roleNames: ["OperatorRole"] }, ...settings },
                    { partition: scope.partition, accountId: "111122223333", regions: [region] },
                ),
            ),
        });
        const archiveInstancePolicy = (name: string, archive: LogArchive): NamedPolicy => ({
            name: `instance policy, log archive ${name}, ${region}`,
            kind: "identity",
            document: instanceProfilePolicy({
                ...scope,
                logGroupName: "org/sessions",
                s3: { bucketName, keyPrefix: `sessions/111122223333/${region}`, archive: archiveTargetFor(archive, region) },
                sessionDataKeyArn: keyArn,
            }),
        });
        return [
            {
                name: `archive bucket policy, ${region}`,
                kind: "resource" as const,
                document: archiveBucketPolicy(archiveScope, bucketName, "sessions", "o-a1b2c3d4e5"),
            },
            { name: `archive key policy, ${region}`, kind: "resource" as const, document: archiveKeyPolicy(archiveScope, bucketName, "o-a1b2c3d4e5") },
            operator("created session keys", {}),
            operator("instance tag", { operatorPolicy: { roleNames: ["OperatorRole"], instanceTag: { key: "team", value: "payments" } } }),
            operator("existing session key", { sessionDataKeyArn: keyArn }),
            operator("existing session key, instance tag", {
                sessionDataKeyArn: keyArn,
                operatorPolicy: { roleNames: ["OperatorRole"], instanceTag: { key: "team", value: "payments" } },
            }),
            {
                // A service control policy: Parliament reads it as an identity policy.
                name: `guardrail, ${region}`,
                kind: "identity" as const,
                document: guardrailPolicy(
                    scope.partition,
                    defaultDocumentName,
                    guardrailExceptions({ targets: [], deployment: "stackset", guardrail: { targetIds: [], exceptRoleNames: ["SessionManagerDeployer"] } }),
                ),
            },
            archiveInstancePolicy("created key", archiveIn(region)),
            archiveInstancePolicy("existing key", archiveIn(region, { create: false, kmsKeyArn: archiveKeyArn })),
            archiveInstancePolicy("without a key", archiveIn(region, { create: false })),
            { name: `session-data key policy, ${region}`, kind: "resource" as const, document: sessionDataKeyPolicy(scope) },
            { name: `logs key policy, ${region}`, kind: "resource" as const, document: logsKeyPolicy(scope, "org/sessions") },
            {
                name: `instance policy, every part, ${region}`,
                kind: "identity" as const,
                document: instanceProfilePolicy({
                    ...scope,
                    logGroupName: "org/sessions",
                    s3: { bucketName: "org-session-logs", keyPrefix: `sessions/111122223333/${region}` },
                    sessionDataKeyArn: keyArn,
                }),
            },
            { name: `instance policy, no logging or key, ${region}`, kind: "identity" as const, document: instanceProfilePolicy({ ...scope }) },
        ];
    });
}

/** The IAM policies inside the StackSet template, as CloudFormation resolves them in one account and Region. */
function templatePolicies(): NamedPolicy[] {
    const handlerCode = handlerBundle();
    return ["eu-west-1", "us-gov-west-1", "cn-north-1"].flatMap((region) => {
        const partition = partitionOf(region);
        const account = "111122223333";
        const stack = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": partition,
            "AWS::URLSuffix": dnsSuffixOf(partition),
            [L.sessionDataKey]: "0a1b2c3d-1111-2222-3333-444455556666",
            [`${L.sessionDataKey}.Arn`]: `arn:${partition}:kms:${region}:${account}:key/0a1b2c3d-1111-2222-3333-444455556666`,
            [`${L.logsKey}.Arn`]: `arn:${partition}:kms:${region}:${account}:key/0a1b2c3d-2222-2222-3333-444455556666`,
            [L.logGroup]: "org/sessions",
            [L.logsKey]: "0a1b2c3d-2222-2222-3333-444455556666",
            [`${L.handlerLogGroup}.Arn`]: `arn:${partition}:logs:${region}:${account}:log-group:handler:*`,
            [L.handlerLogGroup]: "handler",
            [`${L.handlerLogsKey}.Arn`]: `arn:${partition}:kms:${region}:${account}:key/0a1b2c3d-4444-2222-3333-444455556666`,
            [`${L.handlerRole}.Arn`]: `arn:${partition}:iam::${account}:role/handler`,
            [`${L.handler}.Arn`]: `arn:${partition}:lambda:${region}:${account}:function:handler`,
        };
        const base: Preferences = { ...defaultPreferences, deployment: "stackset", s3Logging: true, instanceRoleNames: ["AppServerRole"] };
        const operatorPolicy = { roleNames: ["OperatorRole"], instanceTag: { key: "team", value: "payments" } };
        const existingArchiveKey = `arn:${partition}:kms:{region}:999988887777:key/0a1b2c3d-3333-2222-3333-444455556666`;
        const variants: [string, Preferences][] = [
            ["own bucket", { ...base, s3BucketName: "org-session-logs" }],
            // A log archive sets s3BucketName to its own (core/config.ts).
            ["archive per Region, operator policy", { ...base, logArchive: archiveIn(region), s3BucketName: archiveIn(region).bucketName, operatorPolicy }],
            [
                "archive with an existing key, existing session key, operator policy",
                {
                    ...base,
                    logArchive: archiveIn(region, { create: false, kmsKeyArn: existingArchiveKey }),
                    s3BucketName: archiveIn(region).bucketName,
                    sessionDataKeyArn: `arn:${partition}:kms:{region}:{accountId}:key/0a1b2c3d-1111-2222-3333-444455556666`,
                    operatorPolicy: { roleNames: [] },
                },
            ],
        ];
        const found: NamedPolicy[] = [];
        for (const [variant, prefs] of variants) {
            const template = sessionManagerTemplate(prefs, { handlerCode, owner: "p/s:stackset", regions: [region] });
            const resources = resolveIntrinsics(template.Resources, templateStack(template, stack)) as Record<
                string,
                { Type: string; Properties: Record<string, unknown> }
            >;
            const named = (what: string) => `template (${variant}) ${what}, ${region}`;
            for (const [id, r] of Object.entries(resources)) {
                if (r.Type === "AWS::KMS::Key") found.push({ name: named(id), kind: "resource", document: r.Properties.KeyPolicy });
                if (r.Type === "AWS::IAM::ManagedPolicy") found.push({ name: named(id), kind: "identity", document: r.Properties.PolicyDocument });
                if (r.Type === "AWS::IAM::Role") {
                    found.push({ name: named(`${id} trust`), kind: "trust", document: r.Properties.AssumeRolePolicyDocument });
                    for (const p of r.Properties.Policies as { PolicyName: string; PolicyDocument: unknown }[]) {
                        found.push({ name: named(`${id} ${p.PolicyName}`), kind: "identity", document: p.PolicyDocument });
                    }
                }
            }
        }
        return found;
    });
}

describe("every generated IAM policy, linted by Parliament", function () {
    this.timeout(120_000);

    it("finds nothing in any role, key, instance or template policy, at any severity, but the documented false positives and accepted findings", async () => {
        const policies = [...rolePolicies(), ...auditPolicies(), ...createdPolicies(), ...templatePolicies()];
        expect(policies.length).to.be.greaterThan(60);
        // LOW too: Parliament ranks an action that does not exist (a typo) as LOW.
        const findings = await parliament(policies, "LOW");
        const unexplained = findings.filter((f) => !explanationOf(f)).map((f) => `${f.policy}: ${f.severity} ${f.issue} ${JSON.stringify(f.detail)}`);
        expect(unexplained, unexplained.join("\n")).to.deep.equal([]);
        // Each documented false positive or accepted finding still occurs: a list of excuses must not outlive the findings.
        for (const fp of [...parliamentFalsePositives, ...parliamentAcceptedFindings])
            expect(
                findings.some((f) => explanationOf(f) === fp),
                fp.issue,
            ).to.equal(true);
    });

    it("the linter does find a real problem: an action in a policy that does not exist, and a resource that no action takes", async () => {
        const findings = await parliament(
            [
                {
                    name: "broken",
                    kind: "identity",
                    document: {
                        Version: "2012-10-17",
                        Statement: [
                            { Sid: "Misspelt", Effect: "Allow", Action: "ssm:UpdateDocumnt", Resource: "*" },
                            { Sid: "WrongResource", Effect: "Allow", Action: "kms:CreateAlias", Resource: "arn:aws:ssm:eu-west-1:111122223333:document/x" },
                        ],
                    },
                },
            ],
            "LOW",
        );
        expect(findings.map((f) => f.issue).sort()).to.deep.equal(["RESOURCE_MISMATCH", "UNKNOWN_ACTION"]);
    });
});
