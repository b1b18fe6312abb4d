// The IAM roles that run the program (core/accessPolicies.ts): least privilege per configuration,
// a preview role that cannot reach a write role, and partitions in every ARN.
import { expect } from "chai";
import { parseSettings } from "../core/config";
import { accessRoles, accessScope, RoleSpec, StartingPoint, targetReadPermissions, targetWritePermissions, workflowRoles } from "../core/accessPolicies";
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

    describe("the read-only role in the targets", () => {
        it("holds no action that writes, for any combination of parts", () => {
            for (const raw of [documentOnly, {}, { instanceRoleNames: ["AppRole"] }, { cwLogging: false }, { operatorPolicy: { roleNames: ["Operators"] } }]) {
                const s = settings(raw);
                const granted = actions(targetReadPermissions(s, accessScope(s, {})));
                expect(
                    granted.filter((a) => isWrite(a.split(":")[1])),
                    JSON.stringify(raw),
                ).to.deep.equal([]);
                expect(granted).to.include.members(["ssm:DescribeDocument", "ssm:GetDocument", "ssm:ListTagsForResource"]);
            }
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
                    targets: [{ accountId: "111111111111", regions: [region], roleName: "Deployer", readOnlyRoleName: "Reader" }],
                });
                const text = JSON.stringify([...rolesOf(s).values()]);
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
    });
});
