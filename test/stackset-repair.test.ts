// The StackSet repair, against CloudFormation as moto serves it: moto runs UpdateStackInstances
// but ignores its DeploymentTargets, so a recording proxy in front of it shows exactly which
// instances each call names and with which overrides. CloudFormation's part (an Update of the
// custom resource in each instance it names) is then played with the bundled handler, against
// moto's SSM, as the contract tests do.
import { CloudFormationClient, CreateStackInstancesCommand, CreateStackSetCommand, DescribeStackSetOperationCommand } from "@aws-sdk/client-cloudformation";
import { CreateOrganizationCommand, CreateOrganizationalUnitCommand, ListRootsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { createAccount } from "./support/organization";
import { recordedUpdate } from "./support/stackSetCalls";
import { runOrg } from "./support/org";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseOrgConfig } from "../orchestrator/orgConfig";
import { GetDocumentCommand, DescribeDocumentCommand, SSMClient, UpdateDocumentCommand, UpdateDocumentDefaultVersionCommand } from "@aws-sdk/client-ssm";
import { expect } from "chai";
import { parseSettings } from "../core/config";
import { desiredDocument } from "../core/document";
import { defaultDocumentName } from "../core/settings";
import { planStackSet, repairPlan, stackSetOverrideGroups, StackSetPlan } from "../core/stackSet";
import { repairTokenParameter, sessionManagerTemplate } from "../core/template";
import { AwsProxy, startAwsProxy } from "../devtools/awsProxy";
import { Moto, motoDefaultAccount, motoEnv, startMoto } from "../devtools/moto";
import { handlerBundle } from "../lambda/bundle";
import { updateStackInstances } from "../providers/stackSetInstances";
import { CustomResourceInvoker, documentProperties, loadTemplateHandler, ResponseServer } from "./support/customResource";

const regions = ["eu-west-1", "us-east-1"];
const regulated = motoDefaultAccount;
const plain = "111111111111";
const sandboxAccount = "333333333333";
const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

describe("StackSet repair: exactly the drifted stack instances, their overrides kept", function () {
    this.timeout(120_000);
    let moto: Moto;
    let proxy: AwsProxy;
    let responses: ResponseServer;
    let ou: string;
    const savedEnv = { ...process.env };

    before(async () => {
        moto = await startMoto();
        proxy = await startAwsProxy(moto.endpoint, { recordBodies: true, unreachableService: "none" });
        Object.assign(process.env, motoEnv(moto, "us-east-1"));
        responses = new ResponseServer();
        await responses.start();
    });

    after(async () => {
        process.env = savedEnv;
        await responses?.stop();
        await proxy?.close();
        await moto?.stop();
    });

    beforeEach(async () => {
        await moto.reset();
        proxy.resetCounts();
        const org = new OrganizationsClient({ region: "us-east-1", endpoint: moto.endpoint, credentials });
        await org.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
        const root = (await org.send(new ListRootsCommand({}))).Roots![0].Id!;
        ou = (await org.send(new CreateOrganizationalUnitCommand({ ParentId: root, Name: "workloads" }))).OrganizationalUnit!.Id!;
    });

    function settingsFor() {
        return parseSettings({
            deployment: "stackset",
            organizationalUnitIds: [ou],
            regions,
            sessionDataEncryption: false,
            overrides: [
                { name: "sandbox", accountIds: [sandboxAccount], idleSessionTimeout: 60 },
                { name: "regulated", accountIds: [regulated], maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: "ssm-user" },
            ],
        });
    }

    /** The StackSet as `up` leaves it: moto's, with the template's parameters and one instance per Region over the OU. */
    async function deployed(cfn: CloudFormationClient, plan: StackSetPlan, template: ReturnType<typeof sessionManagerTemplate>): Promise<void> {
        // moto stores the template; a small one with the same Parameters stands in for the one with the handler inline.
        const body = JSON.stringify({ Parameters: template.Parameters, Resources: { Marker: { Type: "AWS::SNS::Topic", Properties: {} } } });
        await cfn.send(new CreateStackSetCommand({ StackSetName: plan.name, TemplateBody: body, PermissionModel: "SERVICE_MANAGED" }));
        await cfn.send(new CreateStackInstancesCommand({ StackSetName: plan.name, DeploymentTargets: { OrganizationalUnitIds: [ou] }, Regions: regions }));
    }

    it("sends one UpdateStackInstances per override group naming only the drifted instances, then their custom resources put the document back", async () => {
        const settings = settingsFor();
        const plan = planStackSet(settings);
        const owner = "session-manager-preferences/test:stackset";
        const template = sessionManagerTemplate(settings, { handlerCode: handlerBundle(), owner, regions: plan.regions });
        const placements = [plain, regulated, sandboxAccount].map((accountId) => ({ accountId, parents: [ou] }));
        const groups = stackSetOverrideGroups(settings, placements, plan.regions);
        const cfn = new CloudFormationClient({ region: "us-east-1", endpoint: proxy.endpoint, credentials });
        await deployed(cfn, plan, template);

        // CloudFormation made the document in the moto account's two Regions, with the regulated override.
        const handler = new CustomResourceInvoker(loadTemplateHandler(template), responses);
        const stackValues = (region: string) => ({
            "AWS::AccountId": regulated,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "DocumentHandler.Arn": `arn:aws:lambda:${region}:${regulated}:function:DocumentHandler`,
        });
        const regulatedOverrides = groups.find((g) => g.accounts.includes(regulated))!.parameters as Record<string, string>;
        const ids: Record<string, string> = {};
        for (const region of regions) {
            process.env.AWS_REGION = region;
            const created = await handler.invoke({
                RequestType: "Create",
                ResourceProperties: documentProperties(template, stackValues(region), regulatedOverrides),
            });
            expect(created.Status, created.Reason).to.equal("SUCCESS");
            ids[region] = created.PhysicalResourceId;
        }
        const ssm = (region: string) => new SSMClient({ region, endpoint: moto.endpoint, credentials });
        const documentIn = async (region: string) =>
            JSON.parse((await ssm(region).send(new GetDocumentCommand({ Name: defaultDocumentName, DocumentFormat: "JSON" }))).Content!) as unknown;
        const versionsIn = async (region: string) =>
            (await ssm(region).send(new DescribeDocumentCommand({ Name: defaultDocumentName }))).Document!.LatestVersion;
        const wanted = (region: string) =>
            desiredDocument(
                { ...settings, maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: "ssm-user" },
                { accountId: regulated, region, kmsKeyId: "" },
            );
        for (const region of regions) expect(await documentIn(region)).to.deep.equal(wanted(region));

        // A console edit in us-east-1: the audit finds it drifted; eu-west-1 stays compliant.
        const edited = {
            ...wanted("us-east-1"),
            inputs: { ...wanted("us-east-1").inputs, runAsEnabled: false, runAsDefaultUser: "", idleSessionTimeout: "5" },
        };
        const made = await ssm("us-east-1").send(
            new UpdateDocumentCommand({ Name: defaultDocumentName, Content: JSON.stringify(edited), DocumentVersion: "$LATEST", DocumentFormat: "JSON" }),
        );
        await ssm("us-east-1").send(
            new UpdateDocumentDefaultVersionCommand({ Name: defaultDocumentName, DocumentVersion: made.DocumentDescription!.DocumentVersion! }),
        );
        const euVersions = await versionsIn("eu-west-1");

        // The repair: the audit's drifted instances, of three kinds (an override group, none, another group).
        const drifted = [
            { accountId: regulated, region: "us-east-1" },
            { accountId: plain, region: "eu-west-1" },
            { accountId: sandboxAccount, region: "eu-west-1" },
            { accountId: sandboxAccount, region: "us-east-1" },
        ];
        proxy.resetCounts();
        const token = "repair-20261206T110000Z";
        const operations = await updateStackInstances(cfn, plan, repairPlan(settings, plan, groups, drifted, token), { pollMs: 20, timeoutMs: 10_000 });
        expect(operations.map((o) => o.status)).to.deep.equal(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);

        const writes = proxy.calls.filter((c) => c.service === "cloudformation" && c.action !== "DescribeStackSetOperation");
        expect(writes.map((c) => c.action)).to.deep.equal(["UpdateStackInstances", "UpdateStackInstances", "UpdateStackInstances"]);
        const sent = writes.map((c) => recordedUpdate(c.body!));
        for (const update of sent) {
            expect(update.accountFilterType).to.equal("INTERSECTION");
            expect(update.organizationalUnitIds).to.deep.equal([ou]);
        }
        expect(sent.map(({ accounts, regions: r, overrides }) => ({ accounts, regions: r, overrides }))).to.have.deep.members([
            {
                accounts: [regulated],
                regions: ["us-east-1"],
                overrides: { MaxSessionDuration: "720", RunAsDefaultUser: "ssm-user", RunAsEnabled: "true", [repairTokenParameter]: token },
            },
            { accounts: [plain], regions: ["eu-west-1"], overrides: { [repairTokenParameter]: token } },
            { accounts: [sandboxAccount], regions: ["eu-west-1", "us-east-1"], overrides: { IdleSessionTimeout: "60", [repairTokenParameter]: token } },
        ]);
        const named = sent.flatMap((u) => u.accounts.flatMap((a) => u.regions.map((r) => `${a}/${r}`))).sort();
        expect(named).to.deep.equal(drifted.map((d) => `${d.accountId}/${d.region}`).sort());

        // CloudFormation's part: an Update of the custom resource in each named instance in the moto account.
        for (const update of sent.filter((u) => u.accounts.includes(regulated))) {
            for (const region of update.regions) {
                process.env.AWS_REGION = region;
                const response = await handler.invoke({
                    RequestType: "Update",
                    PhysicalResourceId: ids[region],
                    ResourceProperties: documentProperties(template, stackValues(region), update.overrides),
                    OldResourceProperties: documentProperties(template, stackValues(region), regulatedOverrides),
                });
                expect(response.Status, response.Reason).to.equal("SUCCESS");
            }
        }
        expect(await documentIn("us-east-1")).to.deep.equal(wanted("us-east-1"));
        // The compliant instance was named by no call: its document has no new version.
        expect(await versionsIn("eu-west-1")).to.equal(euVersions);
    });

    it("a console edit in a StackSet-managed account shows in the audit, and `npm run org -- repair` alone puts it back there only", async () => {
        // An account under the OU, reached as the audit reaches every StackSet account: through the read-only role.
        const org = new OrganizationsClient({ region: "us-east-1", endpoint: moto.endpoint, credentials });
        const root = (await org.send(new ListRootsCommand({}))).Roots![0].Id!;
        const member = await createAccount(org, "member", ou, root);
        const config = [
            "config:",
            "  aws:region: us-east-1",
            "  sessionManager:deployment: stackset",
            `  sessionManager:organizationalUnitIds: ["${ou}"]`,
            `  sessionManager:regions: [${regions.join(", ")}]`,
            "  sessionManager:sessionDataEncryption: false",
            "  sessionManager:readOnlyRoleName: SessionManagerReader",
            "  sessionManager:overrides:",
            `    - { name: regulated, accountIds: ["${member}"], maxSessionDuration: 720, runAsEnabled: true, runAsDefaultUser: ssm-user }`,
        ].join("\n");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-stackset-audit-"));
        const file = path.join(dir, "Pulumi.stackset.yaml");
        fs.writeFileSync(file, `${config}\n`);
        const parsed = parseOrgConfig(config, file, { stackSet: true });
        const settings = parsed.settings;
        const plan = planStackSet(settings);
        const template = sessionManagerTemplate(settings, {
            handlerCode: handlerBundle(),
            owner: "session-manager-preferences/prod:stackset",
            regions: plan.regions,
        });
        const cfn = new CloudFormationClient({ region: "us-east-1", endpoint: proxy.endpoint, credentials });
        await deployed(cfn, plan, template);
        const groups = stackSetOverrideGroups(settings, [{ accountId: member, parents: [ou, root] }], plan.regions);
        const memberOverrides = groups[0].parameters as Record<string, string>;

        // CloudFormation's part of `up` and apply-overrides: the custom resource in the member account, each Region.
        const sts = new STSClient({ region: "us-east-1", endpoint: moto.endpoint, credentials });
        const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${member}:role/Deployer`, RoleSessionName: "cfn" }));
        const asMember = { AWS_ACCESS_KEY_ID: c!.AccessKeyId!, AWS_SECRET_ACCESS_KEY: c!.SecretAccessKey!, AWS_SESSION_TOKEN: c!.SessionToken! };
        const handler = new CustomResourceInvoker(loadTemplateHandler(template), responses);
        const stackValues = (region: string) => ({
            "AWS::AccountId": member,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "DocumentHandler.Arn": `arn:aws:lambda:${region}:${member}:function:DocumentHandler`,
        });
        const physicalIds: Record<string, string> = {};
        const inMember = async <T>(region: string, run: () => Promise<T>): Promise<T> => {
            const before = { ...process.env };
            Object.assign(process.env, asMember, { AWS_REGION: region });
            try {
                return await run();
            } finally {
                process.env = before;
            }
        };
        for (const region of regions) {
            const response = await inMember(region, () =>
                handler.invoke({ RequestType: "Create", ResourceProperties: documentProperties(template, stackValues(region), memberOverrides) }),
            );
            expect(response.Status, response.Reason).to.equal("SUCCESS");
            physicalIds[region] = response.PhysicalResourceId;
        }

        const run = (...argv: string[]) => runOrg([...argv, "--config", file], { endpoint: proxy.endpoint });
        const audit = async () => {
            const r = await run("audit", "--json");
            return { exitCode: r.exitCode, targets: (JSON.parse(r.stdout) as { targets: { target: string; status: string; fields?: unknown[] }[] }).targets };
        };
        const first = await audit();
        expect(first.exitCode).to.equal(0);
        expect(first.targets.map((t) => [t.target, t.status])).to.have.deep.members(regions.map((r) => [`${member}/${r}`, "compliant"]));

        // Someone turns Run As off in the console, in us-east-1.
        const ssm = new SSMClient({
            region: "us-east-1",
            endpoint: moto.endpoint,
            credentials: { accessKeyId: asMember.AWS_ACCESS_KEY_ID, secretAccessKey: asMember.AWS_SECRET_ACCESS_KEY, sessionToken: asMember.AWS_SESSION_TOKEN },
        });
        const live = JSON.parse((await ssm.send(new GetDocumentCommand({ Name: defaultDocumentName, DocumentFormat: "JSON" }))).Content!) as {
            inputs: Record<string, unknown>;
        };
        const edit = await ssm.send(
            new UpdateDocumentCommand({
                Name: defaultDocumentName,
                Content: JSON.stringify({ ...live, inputs: { ...live.inputs, runAsEnabled: false } }),
                DocumentVersion: "$LATEST",
                DocumentFormat: "JSON",
            }),
        );
        await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: defaultDocumentName, DocumentVersion: edit.DocumentDescription!.DocumentVersion! }));

        const drifted = await audit();
        expect(drifted.exitCode).to.equal(2);
        const byTarget = new Map(drifted.targets.map((t) => [t.target, t]));
        expect(byTarget.get(`${member}/us-east-1`)).to.deep.include({
            status: "drifted",
            fields: [{ field: "inputs.runAsEnabled", wanted: true, found: false }],
        });
        expect(byTarget.get(`${member}/eu-west-1`)?.status).to.equal("compliant");

        // The repair command alone: it audits, and names that one instance, its override kept.
        proxy.resetCounts();
        const repair = await run("repair", "--token", "repair-console-edit");
        expect(repair.exitCode, repair.stderr).to.equal(0);
        const sent = proxy.calls.filter((call) => call.action === "UpdateStackInstances").map((call) => recordedUpdate(call.body!));
        expect(sent.map(({ accounts, regions: r, overrides }) => ({ accounts, regions: r, overrides }))).to.deep.equal([
            { accounts: [member], regions: ["us-east-1"], overrides: { ...memberOverrides, [repairTokenParameter]: "repair-console-edit" } },
        ]);
        expect(
            proxy.calls
                .filter((call) => call.service === "ssm")
                .map((call) => call.action)
                .filter((a) => !/^(Get|Describe|List)/.test(a)),
        ).to.deep.equal([]);

        // CloudFormation's part of that operation: an Update of the custom resource in the instance it names.
        const response = await inMember("us-east-1", () =>
            handler.invoke({
                RequestType: "Update",
                PhysicalResourceId: physicalIds["us-east-1"],
                ResourceProperties: documentProperties(template, stackValues("us-east-1"), sent[0].overrides),
                OldResourceProperties: documentProperties(template, stackValues("us-east-1"), memberOverrides),
            }),
        );
        expect(response.Status, response.Reason).to.equal("SUCCESS");
        const after = await audit();
        expect(after.exitCode).to.equal(0);
        expect(after.targets.every((t) => t.status === "compliant")).to.equal(true);
        // Repair again: nothing is drifted or missing, so nothing is sent.
        proxy.resetCounts();
        const again = await run("repair", "--json");
        expect(again.exitCode, again.stderr).to.equal(0);
        expect(JSON.parse(again.stdout)).to.deep.include({ command: "repair", exitCode: 0, updates: [] });
        expect(proxy.calls.filter((call) => call.action === "UpdateStackInstances")).to.deep.equal([]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("gives up waiting on an operation after the time allowed, naming it", async () => {
        const settings = settingsFor();
        const plan = planStackSet(settings);
        // An operation that never ends: UpdateStackInstances starts it, DescribeStackSetOperation always says RUNNING.
        const slow = {
            send: async (command: unknown) =>
                command instanceof DescribeStackSetOperationCommand ? { StackSetOperation: { Status: "RUNNING" } } : { OperationId: "op-1" },
        };
        const update = { accounts: [plain], regions: ["eu-west-1"], parameterOverrides: { RepairToken: "t" } };
        let failure: Error | undefined;
        try {
            await updateStackInstances(slow as unknown as CloudFormationClient, plan, [update], { pollMs: 10, timeoutMs: 50 });
        } catch (err) {
            failure = err as Error;
        }
        expect(failure?.message).to.match(/operation op-1 still RUNNING after 0 s; it goes on/);
    });
});
