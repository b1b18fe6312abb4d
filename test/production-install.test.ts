// A production install: the program copied to a scratch directory, `npm ci --omit=dev` from
// the npm cache, then loaded as the Pulumi language host loads it (ts-node, type checking),
// under Pulumi mocks, with the example organization config switched to a StackSet. Nothing
// the program needs at `pulumi up` may be a devDependency: esbuild bundles the custom
// resource's handler right then.
import { execFile } from "node:child_process";
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { templateObjectKey } from "../components/stackSetPreferences";
import { stackSetOwner } from "../core/stackSet";
import { CfnTemplate, logicalIds, renderTemplate } from "../core/template";
import { handlerBundle } from "../lambda/bundle";
import { settingsOf, stackFileConfig } from "../devtools/documents";
import { repoRoot } from "../devtools/engine";

const run = promisify(execFile);

/** What `pulumi up` needs of the repository: the project, its lockfile and the program's sources. */
const programFiles = ["Pulumi.yaml", "package.json", "package-lock.json", "tsconfig.json", "index.ts", "core", "components", "providers", "lambda"];
const project = "session-manager-preferences";
const stack = "prod";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

describe("production install (npm ci --omit=dev) with deployment: stackset", function () {
    this.timeout(10 * 60_000);
    let dir: string;
    let registered: Registered[];
    let typescript: string;
    let warnings: string;
    const config = { ...stackFileConfig("Pulumi.prod.yaml"), "sessionManager:deployment": "stackset", "sessionManager:organizationalUnitIds": ["r-ab12"] };

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-production-"));
        for (const file of programFiles) fs.cpSync(path.join(repoRoot, file), path.join(dir, file), { recursive: true });
        fs.copyFileSync(path.join(repoRoot, "test", "fixtures", "production-install", "run-with-mocks.js"), path.join(dir, "run-with-mocks.js"));
        // From the cache that the development install filled; the registry only for what it lacks.
        await run("npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, timeout: 5 * 60_000 });
        // Pulumi hands config over as strings, lists and objects as JSON.
        const asPulumiGivesIt = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
        const { stdout, stderr } = await run(process.execPath, ["run-with-mocks.js", project, stack, JSON.stringify(asPulumiGivesIt)], {
            cwd: dir,
            timeout: 2 * 60_000,
            maxBuffer: 16 << 20,
        });
        // The last line: the program's log lines come before it.
        ({ registered, typescript } = JSON.parse(stdout.trim().split("\n").pop() ?? "") as { registered: Registered[]; typescript: string });
        warnings = stderr;
    });

    after(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const only = (type: string): Registered => {
        const found = registered.filter((r) => r.type === type);
        expect(
            found.map((r) => r.name),
            type,
        ).to.have.length(1);
        return found[0];
    };

    it("installs esbuild and none of the devDependencies", () => {
        const devDependencies = Object.keys(
            (JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies,
        );
        expect(fs.existsSync(path.join(dir, "node_modules", "esbuild", "package.json"))).to.equal(true);
        // ts-node comes along all the same, as a peer of @pulumi/pulumi, and with it typescript and @types/node.
        const present = devDependencies.filter(
            (name) => !["typescript", "ts-node", "@types/node"].includes(name) && fs.existsSync(path.join(dir, "node_modules", name)),
        );
        expect(present).to.deep.equal([]);
    });

    it("type-checks and loads the program with the project's TypeScript, not the SDK's vendored 3.8", () => {
        expect(typescript).to.match(/^5\./);
    });

    it("produces the StackSet's template, with the same handler bundle as a development install", () => {
        const object = only("aws:s3/bucketObjectv2:BucketObjectv2").inputs;
        const body = object.content as string;
        const template = JSON.parse(body) as CfnTemplate;
        const code = (template.Resources[logicalIds.handler].Properties.Code as { ZipFile: string }).ZipFile;
        expect(code).to.equal(handlerBundle());
        // The Regions the StackSet's instances go to, which the template's operator policy would name.
        const regions = registered
            .filter((r) => r.type === "aws:cloudformation/stackSetInstance:StackSetInstance")
            .map((r) => r.inputs.stackSetInstanceRegion as string);
        expect(body).to.equal(renderTemplate(settingsOf(config), { handlerCode: handlerBundle(), owner: stackSetOwner(project, stack), regions }));
        expect(object.key).to.equal(templateObjectKey(body));
        expect(only("aws:cloudformation/stackSet:StackSet").inputs.templateUrl).to.match(new RegExp(`^https://.+/${templateObjectKey(body)}$`));
        console.log(`      template: ${Buffer.byteLength(body)} bytes, of which the handler ${Buffer.byteLength(code)}`);
    });

    it("warns, naming it, about the key the StackSet does not use (the example config's targets)", () => {
        expect(warnings).to.match(/sessionManager:targets is set, but deployment: stackset does not use it/);
    });
});
