// The npm package as another project gets it: `npm pack` (which builds lib/ through prepack),
// the tarball installed with `npm install` into a scratch project outside the repository, and
// both examples run from there: examples/program through the real engine against moto, and
// examples/rollout (runRollout through the Automation API) over two targets. Nothing in the
// scratch project resolves into this repository: the package and its dependencies come from
// its own node_modules (npm's cache makes the install fast and mostly offline).
import { sessionDocumentType } from "../core/names";
import { expect } from "chai";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { Stack } from "@pulumi/pulumi/automation";
import { ownerTagKey } from "../providers/documentOperations";
import { createLocalStack, engineEnv, pulumiBin, removeLocalStack, repoRoot } from "../devtools/engine";
import { consoleDocument, desiredFor, DocumentInspector, documentStates, settingsOf } from "../devtools/documents";
import { Moto, startMoto } from "../devtools/moto";
import * as api from "../api";
import * as configApi from "../api/config";
import { ok, pack, PackedTarball, run, Run } from "./support/npm";
import * as rolloutApi from "../api/rollout";

const packageName = "session-manager-preferences";
/** Every example, as a project of its own: the component with plain arguments, the config-driven program, the rollout script. */
const examples = ["component", "program", "rollout"];
const exampleProject = "session-manager-preferences-example";
const role = "SessionManagerAdmin";

function readJson<T = Record<string, unknown>>(file: string): T {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

/** Every file below `dir`, relative to it, with `/` separators. */
function filesBelow(dir: string): string[] {
    return (
        fs
            .readdirSync(dir, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
            // Dependencies npm had to nest under the package are not the package's own files.
            .filter((f) => !f.startsWith("node_modules/"))
            .sort()
    );
}

/** The package a module specifier names: `@scope/name/sub` -> `@scope/name`, `node:fs` -> undefined. */
function packageOf(specifier: string): string | undefined {
    if (specifier.startsWith(".") || specifier.startsWith("node:") || path.isAbsolute(specifier)) return undefined;
    const parts = specifier.split("/");
    return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

describe("the npm package: packed, installed into another project, used by both examples", function () {
    // npm pack, npm install and each engine operation take seconds to minutes on a busy 2-core machine.
    this.timeout(8 * 60_000);

    let tmp: string;
    let tarball: string;
    let packed: PackedTarball;
    let consumer: string;
    let installed: string;
    let moto: Moto;
    let backendDir: string;
    let env: Record<string, string>;
    let docs: DocumentInspector;
    const stacks: Stack[] = [];

    before(async function () {
        // The first engine test on a machine may build the Pulumi CLI (minutes; progress on stderr).
        this.timeout(60 * 60_000);
        await pulumiBin();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "smp-package-"));

        // prepack builds lib/ from tsconfig.package.json; --json lists what went into the tarball.
        ({ tarball, packed } = await pack(repoRoot, tmp));

        // One scratch project holding both examples, as copied out of the repository, with the
        // dependency on the package pointed at the tarball; one install serves both (Node.js
        // resolves from program/ and rollout/ up to its node_modules).
        consumer = path.join(tmp, "consumer");
        const dependencies: Record<string, string> = {};
        const devDependencies: Record<string, string> = {};
        for (const example of examples) {
            const dir = path.join(consumer, example);
            fs.cpSync(path.join(repoRoot, "examples", example), dir, {
                recursive: true,
                filter: (src) => !/[/\\](node_modules|logs)$|[/\\]Pulumi\.[^/\\]+\.yaml$/.test(src),
            });
            const manifest = readJson<{ dependencies: Record<string, string>; devDependencies?: Record<string, string> }>(path.join(dir, "package.json"));
            manifest.dependencies[packageName] = `file:${tarball}`;
            fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
            Object.assign(dependencies, manifest.dependencies);
            Object.assign(devDependencies, manifest.devDependencies);
        }
        fs.writeFileSync(
            path.join(consumer, "package.json"),
            `${JSON.stringify({ name: "consumer", private: true, dependencies, devDependencies }, null, 2)}\n`,
        );
        ok(
            await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: consumer, timeoutMs: 5 * 60_000 }),
            "npm install",
        );
        installed = path.join(consumer, "node_modules", packageName);

        moto = await startMoto();
        backendDir = path.join(tmp, "backend");
        env = await engineEnv(moto, backendDir);
        docs = new DocumentInspector(moto.endpoint);
    });

    after(async function () {
        this.timeout(2 * 60_000);
        for (const stack of stacks) await removeLocalStack(stack).catch(() => undefined);
        docs?.close();
        await moto?.stop();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    describe("the tarball and its installation", () => {
        it("holds the built entry point with declarations, and no sources, tests or scripts", () => {
            const files = packed.files.map((f) => f.path).sort();
            expect(files).to.include.members(["package.json", "README.md", "provider.js", "lib/api/index.js", "lib/api/index.d.ts"]);
            // provider.js: the document provider's stable entry point, which states name (in the tarball, it loads lib/).
            for (const file of files) expect(file).to.match(/^(package\.json|README\.md|provider\.js|lib\/.+\.(js|d\.ts))$/);
            // Every compiled module has its declarations.
            for (const file of files.filter((f) => f.startsWith("lib/") && f.endsWith(".js"))) expect(files, file).to.include(file.replace(/\.js$/, ".d.ts"));
            // What npm installed is the tarball's content, a real directory, not a link to this repository.
            expect(fs.lstatSync(installed).isSymbolicLink()).to.equal(false);
            expect(filesBelow(installed)).to.deep.equal(files);
        });

        it("declares every module its code requires at run time as a dependency, and each resolves from the installation", () => {
            const manifest = readJson<{ dependencies: Record<string, string>; devDependencies?: unknown }>(path.join(installed, "package.json"));
            const required = new Set<string>();
            for (const file of filesBelow(path.join(installed, "lib")).filter((f) => f.endsWith(".js"))) {
                const code = fs.readFileSync(path.join(installed, "lib", file), "utf8");
                // `requireFromPackage(...)` is how the dynamic provider loads the AWS SDK, js-yaml and fast-deep-equal.
                for (const m of code.matchAll(/\brequire(?:FromPackage\))?\(\s*"([^"]+)"\s*\)/g)) {
                    const name = packageOf(m[1]);
                    if (name) required.add(name);
                }
            }
            expect([...required]).to.include.members([
                "@aws-sdk/client-ssm",
                "@aws-sdk/client-sts",
                "@aws-sdk/credential-providers",
                "@pulumi/pulumi",
                "@pulumi/aws",
            ]);
            const fromPackage = createRequire(path.join(installed, "lib", "api", "index.js"));
            for (const name of required) {
                expect(Object.keys(manifest.dependencies), `${name} is required at run time`).to.include(name);
                expect(fromPackage.resolve(name).startsWith(path.join(consumer, "node_modules") + path.sep), name).to.equal(true);
            }
        });

        it("resolves its root and its subpaths from require and from import: the components at the root, the configuration and the rollout beside it", async () => {
            const entries = { root: packageName, config: `${packageName}/config`, rollout: `${packageName}/rollout` };
            const script = [
                `const entries = ${JSON.stringify(entries)};`,
                "(async () => {",
                "  const seen = {};",
                "  for (const [name, id] of Object.entries(entries)) {",
                "    const cjs = require(id);",
                "    const esm = await import(id);",
                "    seen[name] = { resolved: require.resolve(id), cjs: Object.keys(cjs).sort(), esm: Object.keys(esm).filter((k) => k !== 'default').sort() };",
                "  }",
                `  seen.types = require(${JSON.stringify(`${packageName}/package.json`)}).types;`,
                "  console.log(JSON.stringify(seen));",
                "})();",
            ].join("\n");
            const r = ok(await run(process.execPath, ["-e", script], { cwd: consumer, timeoutMs: 60_000 }), "node -e");
            const seen = JSON.parse(r.stdout) as Record<"root" | "config" | "rollout", { resolved: string; cjs: string[]; esm: string[] }> & { types: string };
            expect(seen.root.resolved).to.equal(path.join(installed, "lib", "api", "index.js"));
            expect(seen.config.resolved).to.equal(path.join(installed, "lib", "api", "config.js"));
            expect(seen.rollout.resolved).to.equal(path.join(installed, "lib", "api", "rollout.js"));
            expect(fs.existsSync(path.join(installed, seen.types))).to.equal(true);
            // Exactly what api/*.ts export, from both module systems.
            for (const [name, module] of [
                ["root", api],
                ["config", configApi],
                ["rollout", rolloutApi],
            ] as const) {
                expect(seen[name].cjs, name).to.deep.equal(Object.keys(module).sort());
                expect(seen[name].esm, name).to.include.members(seen[name].cjs);
            }
            // The root is the components; the rest is on its subpath.
            expect(seen.root.cjs).to.deep.equal([
                "InvalidArguments",
                "PartConflictError",
                "SessionDocument",
                "SessionManagerPreferences",
                "StackSetPreferences",
            ]);
            expect(seen.config.cjs).to.include.members(["parseSettings", "ConfigErrors", "readStackSettings", "planTargets", "deployPlannedTarget"]);
            expect(seen.rollout.cjs).to.include.members(["runRollout", "stackConfigFor", "deriveTargets", "renderMarkdown"]);
        });

        it("type-checks every example against the installed declarations (strict, no skipLibCheck)", async () => {
            const tsc = path.join(consumer, "node_modules", "typescript", "bin", "tsc");
            for (const example of examples) {
                const r = await run(process.execPath, [tsc, "--noEmit", "-p", "."], { cwd: path.join(consumer, example), timeoutMs: 3 * 60_000 });
                expect(r.code, `${example}:\n${r.stdout}${r.stderr}`).to.equal(0);
            }
        });
    });

    describe("examples/program: a Pulumi program importing the package (1 account, document-only)", () => {
        const target = "111111111111/us-east-1";
        const config = {
            "aws:region": "us-east-1",
            "sessionManager:targets": [{ accountId: "111111111111", regions: ["us-east-1"], roleName: role }],
            // Document-only: an existing log group, no session-data key, no instance policy.
            "sessionManager:sessionDataEncryption": false,
            "sessionManager:createCWLogGroup": false,
            "sessionManager:cwLogGroupName": "ssm-sessionmanager-logs",
            "sessionManager:instancePolicy": false,
            "sessionManager:runAsEnabled": true,
            "sessionManager:runAsDefaultUser": "ssm-user",
            "sessionManager:idleSessionTimeout": 15,
        };
        let stack: Stack;
        let seeded: string;

        before(async () => {
            await moto.reset();
            docs.close();
            seeded = await docs.seed(target, consoleDocument(target));
            stack = await createLocalStack({ stackName: "test-example", workDir: path.join(consumer, "program"), backendDir, env, config });
            stacks.push(stack);
        });

        it("up adopts the console-made document and applies the settings, with the provider loaded from the installed package", async () => {
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            // The stack, the component and its document: nothing of @pulumi/aws.
            expect(up.summary.resourceChanges).to.deep.equal({ create: 3 });
            const view = await docs.mustView(target);
            expect(view.content).to.deep.equal(desiredFor(settingsOf(config), target));
            expect(view.versions).to.deep.equal(["1", "2"]);
            expect(view.defaultVersion).to.equal("2");
            expect(docs.owner(view)).to.equal(`${exampleProject}/test-example`);
            expect((up.outputs.documentVersions.value as Record<string, string>)[target]).to.equal("2");

            const deployment = await stack.exportStack();
            const state = documentStates(deployment).get(target);
            expect(state?.outputs.adoptedContent).to.equal(seeded);
            expect(state?.outputs.adoptedVersion).to.equal("1");
            // The serialized provider requires the package's stable entry point where the provider
            // runs, and names no file of the package; nothing points into this repository.
            const document = deployment.deployment.resources.find((r: { type: string }) => r.type === sessionDocumentType) as {
                inputs: { __provider: string };
            };
            const provider = document.inputs.__provider;
            expect(provider).to.include(`${packageName}/provider`);
            expect(provider).to.not.include(`${packageName}/lib/`);
            expect(JSON.stringify(document)).to.not.include(repoRoot);
            // Small: a few calls, not the provider's code.
            expect(provider.length).to.be.below(4096);
        });

        it("destroy gives the console-made document back exactly", async () => {
            const destroy = await stack.destroy();
            expect(destroy.summary.result).to.equal("succeeded");
            expect(destroy.summary.resourceChanges).to.deep.equal({ delete: 3 });
            const view = await docs.mustView(target);
            expect(view.raw).to.equal(seeded);
            expect(view.format).to.equal("JSON");
            expect(view.tags).to.not.have.property(ownerTagKey);
        });
    });

    describe("examples/component: the component with plain arguments, no sessionManager:* config", () => {
        const target = "333333333333/eu-west-1";
        let stack: Stack;
        let seeded: string;

        before(async () => {
            await moto.reset();
            docs.close();
            seeded = await docs.seed(target, consoleDocument(target));
            const config = {
                "aws:region": "eu-west-1",
                "session-manager-preferences-component-example:accountId": "333333333333",
                "session-manager-preferences-component-example:region": "eu-west-1",
                "session-manager-preferences-component-example:roleArn": `arn:aws:iam::333333333333:role/${role}`,
                "session-manager-preferences-component-example:readOnlyRoleArn": "arn:aws:iam::333333333333:role/SessionManagerReader",
            };
            stack = await createLocalStack({ stackName: "test-component", workDir: path.join(consumer, "component"), backendDir, env, config });
            stacks.push(stack);
        });

        it("up adopts the console-made document, applies the arguments and tags it; destroy gives it back exactly", async () => {
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            expect(up.summary.resourceChanges).to.deep.equal({ create: 3 });
            const view = await docs.mustView(target);
            expect(view.content.inputs).to.include({ idleSessionTimeout: "15", maxSessionDuration: "120", runAsEnabled: true, runAsDefaultUser: "ssm-user" });
            expect(view.tags).to.include({ "managed-by": "platform-team" });
            expect(up.outputs.documentVersion.value).to.equal("2");

            const destroy = await stack.destroy();
            expect(destroy.summary.result).to.equal("succeeded");
            expect((await docs.mustView(target)).raw).to.equal(seeded);
            expect((await docs.mustView(target)).tags).to.deep.equal({});
        });
    });

    describe("linked instead of installed (npm link, a file: directory dependency)", () => {
        // Serialized by value, the provider's `require` resolves from the project; a linked
        // package's dependencies are beside the package, not there. This used to fail with
        // "Cannot find module '@aws-sdk/client-ssm'".
        const target = "111111111111/eu-west-1";
        const config = {
            "aws:region": "eu-west-1",
            "sessionManager:targets": [{ accountId: "111111111111", regions: ["eu-west-1"], roleName: role }],
            "sessionManager:sessionDataEncryption": false,
            "sessionManager:createCWLogGroup": false,
            "sessionManager:instancePolicy": false,
        };
        let project: string;
        let stack: Stack;
        let seeded: string;

        before(async () => {
            // The package as a checkout with its dependencies installed beside it (here: the ones
            // npm installed for the consumer), linked into a project that has only what the
            // program itself imports, as `npm link` leaves it.
            const linked = path.join(tmp, "linked");
            const packageDir = path.join(linked, packageName);
            fs.cpSync(installed, packageDir, { recursive: true, filter: (src) => !src.startsWith(path.join(installed, "node_modules")) });
            fs.symlinkSync(path.join(consumer, "node_modules"), path.join(packageDir, "node_modules"), "dir");
            project = path.join(linked, "project");
            fs.cpSync(path.join(consumer, "program"), project, { recursive: true, filter: (src) => !/Pulumi\.[^/\\]+\.yaml$/.test(src) });
            fs.mkdirSync(path.join(project, "node_modules", "@pulumi"), { recursive: true });
            fs.symlinkSync(packageDir, path.join(project, "node_modules", packageName), "dir");
            for (const dep of ["@pulumi/pulumi", "@pulumi/aws", "typescript"]) {
                fs.symlinkSync(path.join(consumer, "node_modules", dep), path.join(project, "node_modules", dep), "dir");
            }
            expect(() => require.resolve("@aws-sdk/client-ssm", { paths: [project] })).to.throw(/Cannot find module/);

            await moto.reset();
            docs.close();
            seeded = await docs.seed(target, consoleDocument(target));
            stack = await createLocalStack({ stackName: "test-linked", workDir: project, backendDir, env, config });
            stacks.push(stack);
        });

        it("up and destroy work: the provider loads the AWS SDK from beside the package", async () => {
            const up = await stack.up();
            expect(up.summary.result).to.equal("succeeded");
            expect(up.summary.resourceChanges).to.deep.equal({ create: 3 });
            expect((await docs.mustView(target)).content).to.deep.equal(desiredFor(settingsOf(config), target));

            const destroy = await stack.destroy();
            expect(destroy.summary.resourceChanges).to.deep.equal({ delete: 3 });
            expect((await docs.mustView(target)).raw).to.equal(seeded);
        });
    });

    describe("examples/rollout: runRollout from an Automation API script (2 accounts, document-only)", () => {
        const targets = ["111111111111/us-east-1", "222222222222/eu-west-1"];
        const orgConfig = {
            "aws:region": "us-east-1",
            "sessionManager:sessionDataEncryption": false,
            "sessionManager:createCWLogGroup": false,
            "sessionManager:instancePolicy": false,
            "sessionManager:idleSessionTimeout": 25,
            "sessionManager:targets": targets.map((t) => ({ accountId: t.split("/")[0], regions: [t.split("/")[1]], roleName: role })),
        };
        const seededTarget = targets[0];
        let orgFile: string;
        let seeded: string;

        interface JsonReport {
            command: string;
            exitCode: number;
            targets: { target: string; stack: string; result: string; changes: number; changeSummary: Record<string, number>; error?: string }[];
        }

        function rollout(...args: string[]): Promise<Run> {
            const tsNode = path.join(consumer, "node_modules", "ts-node", "dist", "bin.js");
            return run(
                process.execPath,
                [
                    tsNode,
                    "--transpile-only",
                    "rollout.ts",
                    ...args,
                    "--config",
                    orgFile,
                    "--json",
                    "--stack-prefix",
                    "test-rollout",
                    "--log-dir",
                    path.join(tmp, "logs"),
                ],
                {
                    cwd: path.join(consumer, "rollout"),
                    env,
                    timeoutMs: 6 * 60_000,
                },
            );
        }

        function reportOf(r: Run): JsonReport {
            expect(r.stdout, r.stderr).to.match(/^\{/);
            return JSON.parse(r.stdout) as JsonReport;
        }

        before(async () => {
            await moto.reset();
            docs.close();
            seeded = await docs.seed(seededTarget, consoleDocument(seededTarget));
            orgFile = path.join(tmp, "org.yaml");
            // JSON is YAML: the organization config file the script reads.
            fs.writeFileSync(orgFile, `${JSON.stringify({ config: orgConfig }, null, 2)}\n`);
        });

        it("up runs one stack of examples/program per target and applies the preferences in both accounts", async () => {
            const r = await rollout("up");
            expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0);
            const report = reportOf(r);
            expect(report.command).to.equal("up");
            expect(report.targets.map((t) => [t.target, t.stack, t.result])).to.deep.equal(
                targets.map((t) => [t, `test-rollout.${t.split("/")[0]}`, "succeeded"]),
            );
            for (const t of report.targets) expect(t.changeSummary, t.target).to.deep.equal({ create: 3 });
            const settings = settingsOf(orgConfig);
            for (const target of targets) {
                const view = await docs.mustView(target);
                expect(view.content, target).to.deep.equal(desiredFor(settings, target));
                expect(view.content.inputs.idleSessionTimeout, target).to.equal("25");
                expect(docs.owner(view), target).to.equal(`${exampleProject}/test-rollout.${target.split("/")[0]}`);
            }
        });

        it("drift finds both targets in sync, and destroy hands the documents back", async () => {
            const drift = await rollout("drift");
            expect(drift.code, `${drift.stdout}\n${drift.stderr}`).to.equal(0);
            expect(reportOf(drift).targets.map((t) => t.result)).to.deep.equal(["in sync", "in sync"]);

            const destroy = await rollout("destroy");
            expect(destroy.code, `${destroy.stdout}\n${destroy.stderr}`).to.equal(0);
            expect(reportOf(destroy).targets.map((t) => t.changeSummary)).to.deep.equal([{ delete: 3 }, { delete: 3 }]);
            // Restored where the console had made one, deleted where there was none.
            expect((await docs.mustView(seededTarget)).raw).to.equal(seeded);
            expect(await docs.view(targets[1])).to.equal(undefined);
        });
    });
});
