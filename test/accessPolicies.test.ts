// The IAM roles that run the program (core/accessPolicies.ts): least privilege per configuration,
// a preview role that cannot reach a write role, and partitions in every ARN.
import { expect } from "chai";
import { parseSettings } from "../core/config";
import {
    accessRoles,
    accessScope,
    archiveReadPermissions,
    auditPermissions,
    auditTargetActions,
    archiveWritePermissions,
    guardrailReadPermissions,
    guardrailWritePermissions,
    RoleSpec,
    StartingPoint,
    targetReadPermissions,
    targetWritePermissions,
    workflowRoles,
} from "../core/accessPolicies";
import type { PolicyDocument } from "../core/policies";
import { Settings } from "../core/settings";
import { isWrite } from "../devtools/awsProxy";

const start: StartingPoint = { accountId: "999988887777", githubRepository: "acme/landing-zone", previewRoleName: "Preview", rolloutRoleName: "Rollout" };

function settings(raw: Record<string, unknown>): Settings {
    return parseSettings({
        targets: [
            { accountId: "111111111111", regions: ["eu-west-1", "us-east-1"], roleName: "Deployer", readOnlyRoleName: "Reader" },
            { accountId: "222222222222", regions: ["eu-west-1"], roleName: "Deployer", readOnlyRoleName: "Reader" },
        ],
        ...raw,
    });
}

/** Document only: existing key, existing log group, no instance policy. */
const documentOnly = { sessionDataEncryption: false, createCWLogGroup: false, instancePolicy: false };

function rolesOf(s: Settings, startingPoint: StartingPoint = start): Map<string, RoleSpec> {
    const scope = accessScope(s, { defaultRegion: "eu-west-1", discoveredRoleName: "OrganizationAccountAccessRole" });
    return new Map(accessRoles(s, scope, startingPoint, "eu-west-1").roles.map((r) => [r.roleName, r]));
}

function actions(policy: PolicyDocument): string[] {
    return policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

function resources(policy: PolicyDocument): string[] {
    return policy.Statement.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
}

function assumable(role: RoleSpec): string[] {
    return role.permissions.Statement.filter((s) => s.Action === "sts:AssumeRole").flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
}

describe("IAM roles for the rollout (core/accessPolicies.ts)", () => {
    describe("the write role in the targets", () => {
        it("manages only the Session document when nothing else is created, in each configured Region", () => {
            const policy = targetWritePermissions(settings(documentOnly), accessScope(settings(documentOnly), {}));
            expect(policy.Statement.map((s) => s.Sid)).to.deep.equal(["ManageSessionDocument"]);
            expect(resources(policy)).to.deep.equal([
                "arn:aws:ssm:eu-west-1:*:document/SSM-SessionManagerRunShell",
                "arn:aws:ssm:us-east-1:*:document/SSM-SessionManagerRunShell",
            ]);
            expect(policy.Statement[0].Condition).to.deep.equal({ StringEquals: { "aws:ResourceAccount": "${aws:PrincipalAccount}" } });
        });

        it("adds keys, aliases, parameter, log group and instance policy only as the configuration creates them", () => {
            const all = settings({ instanceRoleNames: ["AppRole"] });
            const policy = targetWritePermissions(all, accessScope(all, {}));
            expect(policy.Statement.map((s) => s.Sid)).to.deep.equal([
                "ManageSessionDocument",
                "CreateKeys",
                "ManageKeys",
                "ManageKeyAliases",
                "FindKeyAliases",
                "ManageKeyIdParameter",
                "FindParameters",
                "ManageSessionLogGroup",
                "FindLogGroups",
                "ManageInstancePolicy",
                "AttachInstancePolicy",
                "ReadInstanceRoles",
            ]);
            const noKeys = settings({ sessionDataEncryption: false, cwEncryptionEnabled: false });
            expect(actions(targetWritePermissions(noKeys, accessScope(noKeys, {}))).filter((a) => a.startsWith("kms:"))).to.deep.equal([]);
        });

        it("never deletes a log group (session logs are kept) and schedules key deletion only for a session-data key that goes with the document", () => {
            for (const onDelete of ["restore", "reset", "retain"]) {
                const s = settings({ onDelete });
                const granted = actions(targetWritePermissions(s, accessScope(s, {})));
                expect(granted).to.not.include("logs:DeleteLogGroup");
                expect(granted.includes("kms:ScheduleKeyDeletion"), onDelete).to.equal(onDelete !== "retain");
            }
            const existingKey = settings({ sessionDataKeyArn: "arn:aws:kms:{region}:111111111111:key/mrk-0123456789abcdef0123456789abcdef" });
            expect(actions(targetWritePermissions(existingKey, accessScope(existingKey, {})))).to.not.include("kms:ScheduleKeyDeletion");
        });

        it("attaches the instance policy only to the named roles, and no other policy", () => {
            const s = settings({ instanceRoleNames: ["AppRole", "Bastion"] });
            const attach = targetWritePermissions(s, accessScope(s, {})).Statement.find((st) => st.Sid === "AttachInstancePolicy");
            expect(attach?.Resource).to.deep.equal(["arn:aws:iam::*:role/AppRole", "arn:aws:iam::*:role/Bastion"]);
            expect(attach?.Condition?.ArnLike).to.deep.equal({
                "iam:PolicyARN": [
                    "arn:aws:iam::*:policy/session-manager/SessionManagerInstance-eu-west-1",
                    "arn:aws:iam::*:policy/session-manager/SessionManagerInstance-us-east-1",
                ],
            });
        });
    });

    describe("the operator policy in the targets", () => {
        const operatorSids = (policy: PolicyDocument) => policy.Statement.map((s) => s.Sid).filter((sid) => sid.includes("Operator"));

        it("gives neither target role anything for it unless operatorPolicy is set", () => {
            const s = settings({ instanceRoleNames: ["AppRole"] });
            expect(operatorSids(targetWritePermissions(s, accessScope(s, {})))).to.deep.equal([]);
            expect(operatorSids(targetReadPermissions(s, accessScope(s, {})))).to.deep.equal([]);
        });

        it("lets the write role make, version, tag and delete that one policy, and attach it to the named roles only", () => {
            const s = settings({ ...documentOnly, operatorPolicy: { roleNames: ["Operators", "OnCall"] } });
            const policy = targetWritePermissions(s, accessScope(s, {}));
            expect(operatorSids(policy)).to.deep.equal(["ManageOperatorPolicy", "AttachOperatorPolicy", "ReadOperatorRoles"]);
            const statement = (sid: string) => policy.Statement.find((st) => st.Sid === sid)!;
            const arn = "arn:aws:iam::*:policy/session-manager/SessionManagerOperator";
            expect(statement("ManageOperatorPolicy").Action).to.deep.equal([
                "iam:CreatePolicy",
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:ListPolicyVersions",
                "iam:TagPolicy",
                "iam:UntagPolicy",
            ]);
            expect(statement("ManageOperatorPolicy").Resource).to.deep.equal([arn]);
            expect(statement("AttachOperatorPolicy").Resource).to.deep.equal(["arn:aws:iam::*:role/Operators", "arn:aws:iam::*:role/OnCall"]);
            expect(statement("AttachOperatorPolicy").Condition).to.deep.equal({
                StringEquals: { "aws:ResourceAccount": "${aws:PrincipalAccount}" },
                ArnLike: { "iam:PolicyARN": [arn] },
            });
            expect(statement("ReadOperatorRoles").Action).to.equal("iam:ListAttachedRolePolicies");
        });

        it("attaches nothing when the policy names no role (operatorPolicy: true), and keeps the instance policy's statements apart", () => {
            const s = settings({ instanceRoleNames: ["AppRole"], operatorPolicy: true });
            const policy = targetWritePermissions(s, accessScope(s, {}));
            expect(operatorSids(policy)).to.deep.equal(["ManageOperatorPolicy"]);
            const attach = policy.Statement.find((st) => st.Sid === "AttachInstancePolicy")!;
            expect(JSON.stringify(attach)).to.not.include("SessionManagerOperator");
        });

        it("lets the read-only role read the policy and its attachments, and nothing more", () => {
            const s = settings({ ...documentOnly, operatorPolicy: { roleNames: ["Operators"] } });
            const policy = targetReadPermissions(s, accessScope(s, {}));
            expect(operatorSids(policy)).to.deep.equal(["ReadOperatorPolicy", "ReadOperatorRoles"]);
            expect(policy.Statement.find((st) => st.Sid === "ReadOperatorPolicy")!.Action).to.deep.equal(["iam:GetPolicy", "iam:GetPolicyVersion"]);
            expect(policy.Statement.find((st) => st.Sid === "ReadOperatorRoles")!.Resource).to.deep.equal(["arn:aws:iam::*:role/Operators"]);
        });

        it("gives the starting role the operator permissions itself when a target names no role", () => {
            const s = parseSettings({ ...documentOnly, operatorPolicy: true, targets: [{ accountId: "999988887777", regions: ["eu-west-1"] }] });
            const rollout = accessRoles(s, accessScope(s, {}), start, "eu-west-1").roles.find((r) => r.roleName === "Rollout")!;
            expect(actions(rollout.permissions)).to.include("iam:CreatePolicy");
        });
    });

    describe("the landing zone's roles", () => {
        const archive = {
            accountId: "333333333333",
            organizationId: "o-a1b2c3d4e5",
            regions: ["eu-west-1", "us-east-1"],
            bucketName: "org-session-logs-{region}",
            roleName: "ArchiveDeployer",
            readOnlyRoleName: "ArchiveReader",
        };
        const guardrail = {
            targetIds: ["ou-ab12-cdef3456", "r-ab12"],
            accountId: "444444444444",
            roleName: "GuardrailDeployer",
            readOnlyRoleName: "GuardrailReader",
        };
        const landingZone = settings({ ...documentOnly, logArchive: archive, guardrail });
        const roleNames = (s: Settings) => [...rolesOf(s).keys()];
        const statement = (policy: PolicyDocument, sid: string) => policy.Statement.find((st) => st.Sid === sid)!;

        it("are made only for a created log archive and a guardrail, and only by the stack that makes them", () => {
            expect(roleNames(settings(documentOnly))).to.deep.equal(["Deployer", "Reader", "Preview", "Rollout"]);
            expect(roleNames(landingZone)).to.deep.equal([
                "Deployer",
                "Reader",
                "ArchiveDeployer",
                "ArchiveReader",
                "GuardrailDeployer",
                "GuardrailReader",
                "Preview",
                "Rollout",
            ]);
            // An existing archive is only pointed at; another stack (sharedResources: elsewhere) makes them.
            expect(roleNames(settings({ ...documentOnly, logArchive: { ...archive, create: false } }))).to.not.include("ArchiveDeployer");
            expect(roleNames(settings({ ...documentOnly, logArchive: archive, guardrail, sharedResources: "elsewhere" }))).to.deep.equal([
                "Deployer",
                "Reader",
                "Preview",
                "Rollout",
            ]);
            // A stack that makes only them (sharedResources: only) needs no target role.
            expect(roleNames(settings({ ...documentOnly, logArchive: archive, guardrail, sharedResources: "only" }))).to.deep.equal([
                "ArchiveDeployer",
                "ArchiveReader",
                "GuardrailDeployer",
                "GuardrailReader",
                "Preview",
                "Rollout",
            ]);
        });

        it("live in their accounts, and are trusted and assumed as the target roles are", () => {
            const roles = rolesOf(landingZone);
            expect(roles.get("ArchiveDeployer")!.where).to.include("333333333333");
            expect(roles.get("GuardrailDeployer")!.where).to.include("444444444444");
            for (const writer of ["ArchiveDeployer", "GuardrailDeployer"])
                expect(roles.get(writer)!.trustPolicy.Statement[0].Principal).to.deep.equal({ AWS: ["arn:aws:iam::999988887777:role/Rollout"] });
            for (const reader of ["ArchiveReader", "GuardrailReader"])
                expect(roles.get(reader)!.trustPolicy.Statement[0].Principal).to.deep.equal({
                    AWS: ["arn:aws:iam::999988887777:role/Preview", "arn:aws:iam::999988887777:role/Rollout"],
                });
            expect(assumable(roles.get("Preview")!)).to.deep.equal([
                "arn:aws:iam::111111111111:role/Reader",
                "arn:aws:iam::222222222222:role/Reader",
                "arn:aws:iam::333333333333:role/ArchiveReader",
                "arn:aws:iam::444444444444:role/GuardrailReader",
            ]);
            expect(assumable(roles.get("Rollout")!)).to.include.members([
                "arn:aws:iam::333333333333:role/ArchiveDeployer",
                "arn:aws:iam::333333333333:role/ArchiveReader",
                "arn:aws:iam::444444444444:role/GuardrailDeployer",
                "arn:aws:iam::444444444444:role/GuardrailReader",
            ]);
        });

        it("lets the archive's write role make each Region's bucket, key and alias, and delete neither bucket nor key", () => {
            const scope = accessScope(landingZone, {});
            const policy = archiveWritePermissions(landingZone.logArchive!, scope);
            expect(policy.Statement.map((s) => s.Sid)).to.deep.equal([
                "CreateArchiveKeys",
                "ManageArchiveKeys",
                "ManageArchiveKeyAlias",
                "FindKeyAliases",
                "ManageArchiveBuckets",
            ]);
            expect(statement(policy, "ManageArchiveBuckets").Resource).to.deep.equal([
                "arn:aws:s3:::org-session-logs-eu-west-1",
                "arn:aws:s3:::org-session-logs-us-east-1",
            ]);
            expect(statement(policy, "ManageArchiveKeys").Resource).to.deep.equal([
                "arn:aws:kms:eu-west-1:333333333333:key/*",
                "arn:aws:kms:us-east-1:333333333333:key/*",
            ]);
            expect(resources({ Version: "2012-10-17", Statement: [statement(policy, "ManageArchiveKeyAlias")] })).to.include.members([
                "arn:aws:kms:eu-west-1:333333333333:alias/session-manager/log-archive",
                "arn:aws:kms:us-east-1:333333333333:alias/session-manager/log-archive",
            ]);
            // CreateKey takes no resource: only in the archive's Regions, and only the kind of key it makes.
            const create = statement(policy, "CreateArchiveKeys");
            expect(create.Resource).to.equal("*");
            expect(create.Condition).to.deep.equal({
                StringEquals: { "aws:RequestedRegion": ["eu-west-1", "us-east-1"] },
                StringEqualsIfExists: { "kms:KeySpec": "SYMMETRIC_DEFAULT", "kms:KeyUsage": "ENCRYPT_DECRYPT" },
                BoolIfExists: { "kms:MultiRegion": "false", "kms:BypassPolicyLockoutSafetyCheck": "false" },
            });
            const granted = actions(policy);
            expect(granted).to.include.members([
                "s3:CreateBucket",
                "s3:PutBucketPolicy",
                "s3:PutEncryptionConfiguration",
                "kms:PutKeyPolicy",
                "kms:TagResource",
            ]);
            // Bucket and key are kept when the stack goes (retainOnDelete); nothing uses the key.
            for (const never of ["s3:DeleteBucket", "kms:ScheduleKeyDeletion", "kms:Decrypt", "kms:GenerateDataKey", "s3:PutObject", "s3:GetObject"])
                expect(granted).to.not.include(never);
            // One bucket with no {region}: that bucket only.
            const single = settings({
                ...documentOnly,
                targets: [{ accountId: "111111111111", regions: ["eu-west-1"], roleName: "Deployer" }],
                logArchive: { ...archive, regions: ["eu-west-1"], bucketName: "org-session-logs" },
            });
            expect(statement(archiveWritePermissions(single.logArchive!, accessScope(single, {})), "ManageArchiveBuckets").Resource).to.deep.equal([
                "arn:aws:s3:::org-session-logs",
            ]);
        });

        it("lets no role but the archive's write role set a bucket policy or a retention (test/support/parliament.ts accepts that it can)", () => {
            const holders = [
                ...rolesOf(settings({ logArchive: archive, guardrail, operatorPolicy: true }), { ...start, backendUrl: "s3://acme-state/sm" }).values(),
            ]
                .filter((r) => actions(r.permissions).some((a) => a === "s3:PutBucketPolicy" || a === "s3:PutLifecycleConfiguration"))
                .map((r) => r.roleName);
            expect(holders).to.deep.equal(["ArchiveDeployer"]);
        });

        it("lets the guardrail's write role make only service control policies and attach them only to its OUs and roots", () => {
            const policy = guardrailWritePermissions(landingZone, accessScope(landingZone, {}));
            const scp = "arn:aws:organizations::*:policy/o-*/service_control_policy/p-*";
            const onlyScps = { StringEquals: { "organizations:PolicyType": "SERVICE_CONTROL_POLICY" } };
            expect(statement(policy, "CreateTheGuardrail")).to.deep.include({ Action: "organizations:CreatePolicy", Resource: "*", Condition: onlyScps });
            expect(statement(policy, "ManageTheGuardrail").Resource).to.deep.equal([scp]);
            expect(statement(policy, "AttachTheGuardrail")).to.deep.include({
                Resource: [scp, "arn:aws:organizations::*:ou/o-*/ou-ab12-cdef3456", "arn:aws:organizations::*:root/o-*/r-ab12"],
                Condition: onlyScps,
            });
            // With no targetIds of its own, the guardrail goes to the rollout's OUs.
            const onOus = parseSettings({ ...documentOnly, organizationalUnitIds: ["ou-ab12-11111111"], regions: ["eu-west-1"], guardrail: true });
            expect(statement(guardrailWritePermissions(onOus, accessScope(onOus, {})), "AttachTheGuardrail").Resource).to.deep.equal([
                scp,
                "arn:aws:organizations::*:ou/o-*/ou-ab12-11111111",
            ]);
        });

        it("without roles of their own, leave the starting roles to hold the permissions themselves: writes to the rollout role only", () => {
            const s = settings({
                ...documentOnly,
                logArchive: { ...archive, roleName: undefined, readOnlyRoleName: undefined },
                guardrail: { targetIds: ["r-ab12"] },
            });
            const result = accessRoles(s, accessScope(s, {}), start, "eu-west-1");
            expect(result.roles.map((r) => r.roleName)).to.deep.equal(["Deployer", "Reader", "Preview", "Rollout"]);
            const [preview, rollout] = ["Preview", "Rollout"].map((name) => actions(result.roles.find((r) => r.roleName === name)!.permissions));
            expect(rollout).to.include.members(["kms:CreateKey", "s3:CreateBucket", "organizations:CreatePolicy", "organizations:AttachPolicy"]);
            expect(preview).to.include.members(["s3:GetBucketPolicy", "kms:GetKeyPolicy", "organizations:DescribePolicy"]);
            expect(preview.filter((a) => isWrite(a.split(":")[1]))).to.deep.equal([]);
            expect(result.notes.join(" ")).to.include("logArchive names no roleName").and.include("guardrail names no roleName");
        });

        it("refuse a role name another role already has: each is printed and written to files by its name", () => {
            const s = settings({ ...documentOnly, logArchive: { ...archive, roleName: "Deployer" } });
            expect(() => rolesOf(s)).to.throw("Deployer, the log archive's write role (logArchive.roleName), is also the name of another role");
        });

        it("say so when a write role has no read-only role beside it, and give the preview role no way to the write role", () => {
            const s = settings({ ...documentOnly, logArchive: { ...archive, readOnlyRoleName: undefined } });
            const result = accessRoles(s, accessScope(s, {}), start, "eu-west-1");
            expect(result.notes.join(" ")).to.include("logArchive names no readOnlyRoleName");
            expect(assumable(result.roles.find((r) => r.roleName === "Preview")!)).to.not.include("arn:aws:iam::333333333333:role/ArchiveDeployer");
        });
    });

    describe("the read-only roles", () => {
        it("hold no action that writes, for any combination of parts: in the targets, the log archive and the guardrail's account", () => {
            const landingZone = {
                logArchive: {
                    accountId: "333333333333",
                    organizationId: "o-a1b2c3d4e5",
                    regions: ["eu-west-1", "us-east-1"],
                    bucketName: "org-session-logs-{region}",
                    readOnlyRoleName: "ArchiveReader",
                },
                guardrail: { targetIds: ["r-ab12"], accountId: "444444444444", readOnlyRoleName: "GuardrailReader" },
            };
            const combinations = [
                documentOnly,
                {},
                { instanceRoleNames: ["AppRole"] },
                { cwLogging: false },
                { operatorPolicy: { roleNames: ["Operators"] } },
                landingZone,
            ];
            for (const raw of combinations) {
                const s = settings(raw);
                const scope = accessScope(s, {});
                const readers = [
                    targetReadPermissions(s, scope),
                    ...(s.logArchive ? [archiveReadPermissions(s.logArchive, scope)] : []),
                    ...(s.guardrail ? [guardrailReadPermissions(scope)] : []),
                ];
                const granted = readers.flatMap(actions);
                expect(
                    granted.filter((a) => isWrite(a.split(":")[1])),
                    JSON.stringify(raw),
                ).to.deep.equal([]);
                expect(granted).to.include.members(["ssm:DescribeDocument", "ssm:GetDocument", "ssm:ListTagsForResource"]);
            }
            // What a preview can reach, as printed: its own permissions and every role it may assume.
            const roles = rolesOf(settings(landingZone));
            const reachable = [roles.get("Preview")!, ...assumable(roles.get("Preview")!).map((arn) => roles.get(arn.split("/")[1])!)];
            expect(reachable.map((r) => r.roleName)).to.deep.equal(["Preview", "Reader", "Reader", "ArchiveReader", "GuardrailReader"]);
            const previewCan = reachable.flatMap((r) => actions(r.permissions));
            expect(previewCan).to.include.members(["s3:GetBucketPolicy", "kms:GetKeyPolicy", "organizations:DescribePolicy"]);
            expect(previewCan.filter((a) => isWrite(a.split(":")[1]))).to.deep.equal([]);
        });
    });

    describe("who may assume what", () => {
        it("lets the preview role assume only the read-only roles, and the rollout role both, in the named accounts", () => {
            const roles = rolesOf(settings(documentOnly));
            expect(assumable(roles.get("Preview")!)).to.deep.equal(["arn:aws:iam::111111111111:role/Reader", "arn:aws:iam::222222222222:role/Reader"]);
            expect(assumable(roles.get("Rollout")!)).to.deep.equal([
                "arn:aws:iam::111111111111:role/Deployer",
                "arn:aws:iam::222222222222:role/Deployer",
                "arn:aws:iam::111111111111:role/Reader",
                "arn:aws:iam::222222222222:role/Reader",
            ]);
            expect(roles.get("Deployer")!.trustPolicy.Statement[0].Principal).to.deep.equal({ AWS: ["arn:aws:iam::999988887777:role/Rollout"] });
            expect(roles.get("Reader")!.trustPolicy.Statement[0].Principal).to.deep.equal({
                AWS: ["arn:aws:iam::999988887777:role/Preview", "arn:aws:iam::999988887777:role/Rollout"],
            });
        });

        it("gives the preview role no way to a target that has no read-only role, and says so", () => {
            const s = parseSettings({ ...documentOnly, targets: [{ accountId: "111111111111", regions: ["eu-west-1"], roleName: "Deployer" }] });
            const result = accessRoles(s, accessScope(s, {}), start, "eu-west-1");
            const preview = result.roles.find((r) => r.roleName === "Preview")!;
            expect(assumable(preview)).to.deep.equal([]);
            expect(result.notes.join(" ")).to.include("name no read-only role");
        });

        it("trusts the workflow's jobs by their OIDC subjects, with the session length each needs", () => {
            const roles = rolesOf(settings(documentOnly));
            const condition = (role: string) => roles.get(role)!.trustPolicy.Statement[0].Condition!.StringEquals;
            expect(condition("Preview")).to.deep.equal({
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": ["repo:acme/landing-zone:pull_request", "repo:acme/landing-zone:ref:refs/heads/main"],
            });
            expect(condition("Rollout")["token.actions.githubusercontent.com:sub"]).to.deep.equal(["repo:acme/landing-zone:environment:production"]);
            expect(roles.get("Preview")!.trustPolicy.Statement[0].Principal.Federated).to.equal(
                "arn:aws:iam::999988887777:oidc-provider/token.actions.githubusercontent.com",
            );
            expect(roles.get("Rollout")!.maxSessionDuration).to.equal(workflowRoles.rolloutSessionSeconds);
            expect(roles.get("Preview")!.maxSessionDuration).to.equal(3600);
        });

        it("reaches every account under the OUs, and lists them through Organizations", () => {
            const s = parseSettings({ ...documentOnly, organizationalUnitIds: ["ou-ab12-cdef3456"], regions: ["eu-west-1"], readOnlyRoleName: "Reader" });
            const roles = rolesOf(s);
            expect(assumable(roles.get("Preview")!)).to.deep.equal(["arn:aws:iam::*:role/Reader"]);
            expect(assumable(roles.get("Rollout")!)).to.deep.equal(["arn:aws:iam::*:role/OrganizationAccountAccessRole", "arn:aws:iam::*:role/Reader"]);
            expect(actions(roles.get("Preview")!.permissions)).to.include("organizations:ListAccountsForParent");
        });

        it("may ask Organizations for the OUs above each account only when an override selects by OU", () => {
            const byOu = parseSettings({
                ...documentOnly,
                organizationalUnitIds: ["ou-ab12-cdef3456"],
                regions: ["eu-west-1"],
                overrides: [{ name: "sandbox", organizationalUnitIds: ["ou-ab12-sandbox1"], idleSessionTimeout: 60 }],
            });
            for (const role of ["Preview", "Rollout"]) expect(actions(rolesOf(byOu).get(role)!.permissions), role).to.include("organizations:ListParents");
            const byAccount = parseSettings({
                ...documentOnly,
                organizationalUnitIds: ["ou-ab12-cdef3456"],
                regions: ["eu-west-1"],
                overrides: [{ name: "one", accountIds: ["111122223333"], idleSessionTimeout: 60 }],
            });
            for (const role of ["Preview", "Rollout"])
                expect(actions(rolesOf(byAccount).get(role)!.permissions), role).to.not.include("organizations:ListParents");
        });

        it("gives the starting role the target permissions itself when a target names no role", () => {
            const s = parseSettings({ ...documentOnly, targets: [{ accountId: "999988887777", regions: ["eu-west-1"] }] });
            const result = accessRoles(s, accessScope(s, {}), start, "eu-west-1");
            const rollout = result.roles.find((r) => r.roleName === "Rollout")!;
            expect(actions(rollout.permissions)).to.include("ssm:UpdateDocument");
            expect(result.notes.join(" ")).to.include("name no roleName");
        });

        it("lets both starting roles use an S3 state backend under its prefix only", () => {
            const roles = rolesOf(settings(documentOnly), { ...start, backendUrl: "s3://acme-state/session-manager/" });
            for (const role of ["Preview", "Rollout"]) {
                const backend = roles.get(role)!.permissions.Statement.filter((s) => s.Sid.includes("StateBackend"));
                expect(backend.map((s) => s.Resource)).to.deep.equal(["arn:aws:s3:::acme-state/session-manager/*", "arn:aws:s3:::acme-state"]);
                expect(backend[1].Condition).to.deep.equal({ StringLike: { "s3:prefix": ["session-manager/*"] } });
            }
        });
    });

    describe("partitions", () => {
        for (const [region, partition] of [
            ["us-gov-west-1", "aws-us-gov"],
            ["cn-north-1", "aws-cn"],
        ]) {
            it(`writes every ARN in ${partition} for ${region}`, () => {
                const s = parseSettings({
                    instanceRoleNames: ["AppRole"],
                    operatorPolicy: { roleNames: ["Operators"] },
                    logArchive: {
                        accountId: "333333333333",
                        organizationId: "o-a1b2c3d4e5",
                        regions: [region],
                        bucketName: "org-session-logs-{region}",
                        roleName: "ArchiveDeployer",
                        readOnlyRoleName: "ArchiveReader",
                    },
                    guardrail: {
                        targetIds: ["ou-ab12-cdef3456"],
                        accountId: "444444444444",
                        roleName: "GuardrailDeployer",
                        readOnlyRoleName: "GuardrailReader",
                    },
                    targets: [{ accountId: "111111111111", regions: [region], roleName: "Deployer", readOnlyRoleName: "Reader" }],
                });
                const text = JSON.stringify([...rolesOf(s).values()]);
                for (const arn of [
                    `arn:${partition}:s3:::org-session-logs-${region}`,
                    `arn:${partition}:kms:${region}:333333333333:alias/session-manager/log-archive`,
                    `arn:${partition}:organizations::*:policy/o-*/service_control_policy/p-*`,
                    `arn:${partition}:organizations::*:ou/o-*/ou-ab12-cdef3456`,
                    `arn:${partition}:iam::333333333333:role/ArchiveReader`,
                ])
                    expect(text).to.include(`"${arn}"`);
                expect(text).to.include(`"arn:${partition}:iam::*:policy/session-manager/SessionManagerOperator"`);
                expect(text).to.include(`"arn:${partition}:iam::*:role/Operators"`);
                const arns = [...text.matchAll(/"(arn:[^"]+)"/g)].map((m) => m[1]);
                expect(arns.length).to.be.greaterThan(10);
                for (const arn of arns) expect(arn.split(":")[1], arn).to.equal(partition);
            });
        }

        it("refuses Regions of two partitions in one configuration", () => {
            const s = parseSettings({ targets: [{ accountId: "111111111111", regions: ["eu-west-1", "us-gov-west-1"] }] });
            expect(() => accessScope(s, {})).to.throw("span partitions (aws, aws-us-gov)");
        });
    });

    describe("StackSet mode", () => {
        it("gives the deployer the StackSet, its template bucket and nothing in the targets (the StackSet's own roles act there)", () => {
            const s = parseSettings({
                deployment: "stackset",
                organizationalUnitIds: ["ou-ab12-cdef3456"],
                regions: ["eu-west-1"],
                stackSetCallAs: "DELEGATED_ADMIN",
            });
            const roles = rolesOf(s);
            expect([...roles.keys()]).to.deep.equal(["Preview", "Rollout"]);
            const rollout = actions(roles.get("Rollout")!.permissions);
            expect(rollout).to.include.members(["cloudformation:CreateStackSet", "s3:PutObject", "organizations:ListDelegatedAdministrators"]);
            expect(rollout).to.not.include("sts:AssumeRole");
            const preview = actions(roles.get("Preview")!.permissions);
            expect(preview.filter((a) => isWrite(a.split(":")[1]))).to.deep.equal([]);
        });

        it("lets the deployer run apply-overrides and repair: read and update the stack instances, wait for the operations, find where accounts sit", () => {
            const s = parseSettings({
                deployment: "stackset",
                organizationalUnitIds: ["ou-ab12-cdef3456"],
                regions: ["eu-west-1"],
                overrides: [{ name: "sandbox", organizationalUnitIds: ["ou-ab12-sandbox1"], idleSessionTimeout: 60 }],
            });
            const rollout = actions(rolesOf(s).get("Rollout")!.permissions);
            expect(rollout).to.include.members([
                "cloudformation:UpdateStackInstances",
                "cloudformation:DescribeStackSetOperation",
                "cloudformation:ListStackInstances",
                "cloudformation:DescribeStackInstance",
                "organizations:ListAccountsForParent",
                "organizations:ListOrganizationalUnitsForParent",
                "organizations:ListParents",
            ]);
        });
    });

    describe("the audit (npm run org -- audit)", () => {
        it("reads in the targets only the document, its tags, and the key-ID parameter when the program makes the key: within the read-only role", () => {
            for (const s of [
                settings(documentOnly),
                settings({}),
                settings({ sessionDataKeyArn: "arn:aws:kms:{region}:999999999999:key/mrk-1234abcd12ab34cd56ef1234567890ab" }),
            ]) {
                const scope = accessScope(s, {});
                const { target } = auditPermissions(s, scope, "OrganizationAccountAccessRole");
                expect(actions(target).sort()).to.deep.equal(auditTargetActions(s));
                expect(actions(target).filter((a) => isWrite(a.split(":")[1]))).to.deep.equal([]);
                const readOnly = new Set(actions(targetReadPermissions(s, scope)));
                expect(actions(target).filter((a) => !readOnly.has(a))).to.deep.equal([]);
            }
            expect(auditTargetActions(settings({}))).to.include("ssm:GetParameter");
            expect(auditTargetActions(settings(documentOnly))).not.to.include("ssm:GetParameter");
        });

        it("starts from credentials that may assume the read roles only, and list the organization when OUs are used", () => {
            const named = settings(documentOnly);
            expect(auditPermissions(named, accessScope(named, {}), "OrganizationAccountAccessRole").starting.Statement).to.deep.equal([
                {
                    Sid: "AssumeTheReadRoles",
                    Effect: "Allow",
                    Action: "sts:AssumeRole",
                    Resource: ["arn:aws:iam::111111111111:role/Reader", "arn:aws:iam::222222222222:role/Reader"],
                },
            ]);
            const ous = parseSettings({
                ...documentOnly,
                deployment: "stackset",
                organizationalUnitIds: ["ou-ab12-cdef3456"],
                regions: ["eu-west-1"],
                readOnlyRoleName: "Reader",
            });
            const starting = auditPermissions(ous, accessScope(ous, {}), "OrganizationAccountAccessRole").starting;
            expect(starting.Statement.map((s) => [s.Sid, s.Action, s.Resource])).to.deep.equal([
                ["AssumeTheReadRoles", "sts:AssumeRole", ["arn:aws:iam::*:role/Reader"]],
                ["FindAccountsAndTheirOus", ["organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"], "*"],
            ]);
            const byOu = settings({ ...documentOnly, overrides: [{ name: "sandbox", organizationalUnitIds: ["ou-ab12-cdef3456"], idleSessionTimeout: 60 }] });
            expect(auditPermissions(byOu, accessScope(byOu, {}), "OrganizationAccountAccessRole").starting.Statement[1]).to.deep.include({
                Sid: "FindAccountsAndTheirOus",
                Action: ["organizations:ListParents"],
            });
        });
    });
});
