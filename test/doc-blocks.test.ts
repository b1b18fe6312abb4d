// The documentation's blocks as a reader meets them: error messages shown are the ones the code
// prints, TypeScript shown compiles against the package, and the shell steps that can run here
// run as written (in a scratch copy of the repository) and leave nothing git would commit.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import * as ts from "typescript";
import { InvalidArguments, SessionManagerPreferences } from "../components/preferences";
import { ConfigErrors, parseStackSettings } from "../core/config";
import { repoRoot } from "../devtools/engine";
import { run } from "./support/npm";
import { useMocks } from "./support/pulumiMocks";

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { name: string; version: string };
const read = (page: string) => fs.readFileSync(path.join(repoRoot, page), "utf8");

/** The fenced blocks of a page, with their language. */
function blocks(page: string): { lang: string; body: string; at: number }[] {
    const text = read(page);
    return [...text.matchAll(/^ *```(\w*)\n([\s\S]*?)^ *```$/gm)].map((m) => ({
        lang: m[1],
        // Blocks inside list items are indented; the code is not.
        body: m[2].replace(new RegExp(`^${" ".repeat(/^ */.exec(m[0])?.[0].length ?? 0)}`, "gm"), ""),
        at: m.index ?? 0,
    }));
}

/** The block right after `<!-- doc-block: <name>`. */
function marked(page: string, name: string): string {
    const text = read(page);
    const at = text.indexOf(`<!-- doc-block: ${name}`);
    expect(at, `${page} has the ${name} block`).to.be.greaterThan(0);
    const block = blocks(page).find((b) => b.at > at);
    if (!block) throw new Error(`${page}: no block after the ${name} marker`);
    return block.body;
}

describe("the documentation's blocks", () => {
    it("the README's bad-value example is what preview prints for it", () => {
        const shown = blocks("README.md").find((b) => b.body.includes("pulumi config set sessionManager:idleSessionTimeout 90"));
        if (!shown) throw new Error("README.md: no bad-value example");
        let printed = "";
        try {
            parseStackSettings({ "sessionManager:idleSessionTimeout": "90" });
        } catch (err) {
            expect(err).to.be.instanceOf(ConfigErrors);
            printed = `error: ${(err as Error).message}`;
        }
        expect(shown.body.slice(shown.body.indexOf("error:")).trim()).to.equal(printed);
    });

    it("docs/package.md's InvalidArguments example is the component's message for the arguments it names", async () => {
        await useMocks();
        let thrown: unknown;
        try {
            new SessionManagerPreferences("eu-west-1", { preferences: { idleSessionTimeout: 90 }, keepDocumentVersions: 5000 });
        } catch (err) {
            thrown = err;
        }
        expect(thrown).to.be.instanceOf(InvalidArguments);
        expect(marked("docs/package.md", "invalid-arguments").trim()).to.equal((thrown as Error).message);
        expect(read("docs/package.md")).to.include("`preferences: { idleSessionTimeout: 90 }, keepDocumentVersions: 5000`");
    });

    it("every TypeScript block of the README, docs/package.md and docs/ci.md compiles against the package's declarations", function () {
        this.timeout(120_000);
        // Under dist/ (build output, ignored), so that @pulumi/* resolve from the repository's node_modules.
        const dir = path.join(repoRoot, "dist", "doc-blocks");
        fs.rmSync(dir, { recursive: true, force: true });
        fs.mkdirSync(dir, { recursive: true });
        const files: string[] = [];
        for (const page of ["README.md", "docs/package.md", "docs/ci.md"]) {
            for (const [i, block] of blocks(page)
                .filter((b) => b.lang === "ts")
                .entries()) {
                const file = path.join(dir, `${page.replace(/\W/g, "_")}.${i}.ts`);
                // Each block is a program's index.ts of its own.
                fs.writeFileSync(file, `${block.body}\nexport {};\n`);
                files.push(file);
            }
        }
        expect(files.length, "TypeScript blocks found").to.be.at.least(2);
        const program = ts.createProgram(files, {
            strict: true,
            noEmit: true,
            target: ts.ScriptTarget.ES2022,
            module: ts.ModuleKind.CommonJS,
            moduleResolution: ts.ModuleResolutionKind.Node10,
            esModuleInterop: true,
            skipLibCheck: true,
            types: ["node"],
            baseUrl: repoRoot,
            // The package's own entry points, as package.json's exports map them.
            paths: {
                "session-manager-preferences": ["api/index.ts"],
                "session-manager-preferences/*": ["api/*.ts"],
            },
        });
        const problems = ts
            .getPreEmitDiagnostics(program)
            .map((d) => `${d.file ? path.basename(d.file.fileName) : ""}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
        expect(problems).to.deep.equal([]);
    });

    describe("shell steps, run as written in a scratch copy of the repository", function () {
        this.timeout(5 * 60_000);
        let copy: string;

        before(() => {
            // The files git would see (tracked, and new ones not ignored), committed in a repository of their own.
            copy = fs.mkdtempSync(path.join(os.tmpdir(), "doc-blocks-"));
            const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot }).toString().split("\0");
            for (const file of listed.filter((f) => f && fs.existsSync(path.join(repoRoot, f)))) {
                fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
                fs.copyFileSync(path.join(repoRoot, file), path.join(copy, file));
            }
            fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(copy, "node_modules"), "dir");
            const git = (...args: string[]) =>
                execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: copy, stdio: "pipe" });
            git("init", "-q");
            git("add", "-A");
            git("commit", "-qm", "copy");
        });

        after(() => {
            if (copy) fs.rmSync(copy, { recursive: true, force: true });
        });

        /** What git would commit in the copy after a step: nothing, when every file it wrote is ignored. */
        const uncommitted = () => execFileSync("git", ["status", "--porcelain"], { cwd: copy }).toString();

        it("docs/iam.md's policies step writes each role's policies into iam/, and git ignores them", async () => {
            const step = blocks("docs/iam.md").find((b) => b.body.includes("org -- policies"));
            if (!step) throw new Error("docs/iam.md: no policies step");
            const r = await run("bash", ["-euo", "pipefail", "-c", step.body], { cwd: copy, timeoutMs: 4 * 60_000 });
            expect(r.code, r.stderr).to.equal(0);
            const written = fs.readdirSync(path.join(copy, "iam")).sort();
            expect(written).to.include.members(["roles.json", "SessionManagerReader.trust.json", "SessionManagerReader.permissions.json"]);
            expect(uncommitted()).to.equal("");
        });

        it("the README's policies step runs with an account ID in place of <id>, and git ignores what it writes", async () => {
            const step = blocks("README.md").find((b) => b.body.includes("org -- policies"));
            if (!step) throw new Error("README.md: no policies step");
            fs.rmSync(path.join(copy, "iam"), { recursive: true, force: true });
            const r = await run("bash", ["-euo", "pipefail", "-c", step.body.replace("<id>", "999988887777")], { cwd: copy, timeoutMs: 4 * 60_000 });
            expect(r.code, r.stderr).to.equal(0);
            expect(fs.readdirSync(path.join(copy, "iam"))).to.include("roles.json");
            expect(uncommitted()).to.equal("");
        });

        it("files the pages' commands write by redirection or npm pack are ignored", () => {
            const written = new Set<string>();
            for (const page of ["README.md", ...fs.readdirSync(path.join(repoRoot, "docs")).map((f) => `docs/${f}`)]) {
                for (const block of blocks(page).filter((b) => b.lang === "sh")) {
                    for (const m of block.body.matchAll(/(?:^|\s)>\s*([\w./-]+)/gm)) if (!m[1].startsWith("/dev/")) written.add(m[1]);
                    if (/\bnpm pack\b/.test(block.body)) written.add(`${manifest.name}-${manifest.version}.tgz`);
                }
            }
            expect([...written], "redirections found").to.not.be.empty;
            for (const file of written) {
                let ignored = true;
                try {
                    execFileSync("git", ["check-ignore", "-q", file], { cwd: copy });
                } catch {
                    ignored = false;
                }
                expect(ignored, `${file} is ignored by git`).to.equal(true);
            }
        });
    });
});
