// The form the engine gets the Session document provider in (providers/engineProvider.ts) and
// the entry point that form requires (provider.js): what a document's state carries, and what
// the entry point loads in a checkout. test/provider-accounts.test.ts runs the provider that
// text loads against moto; the engine tests run it through `pulumi up`; the package test runs
// it installed, and the upgrade test after states written in earlier forms.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { engineProviderText, providerEntryPoint } from "../providers/engineProvider";
import { repoRoot } from "../devtools/engine";

const cacheDir = path.join(repoRoot, "node_modules", ".cache", "session-manager-preferences");

describe("the provider as the engine gets it", () => {
    it("is a few lines that require the stable entry point by the package's name: small, the same for every document, naming no path of this machine", () => {
        expect(providerEntryPoint()).to.equal("session-manager-preferences/provider");
        const text = engineProviderText();
        expect(text).to.include('"session-manager-preferences/provider"');
        expect(text).not.to.include(repoRoot);
        expect(engineProviderText()).to.equal(text);
        // Each document carries it twice (inputs and outputs).
        expect(Buffer.byteLength(text)).to.be.below(400);
    });

    it("the entry point, in a checkout, loads the TypeScript sources bundled into a cache file named by its content", () => {
        // As the provider process resolves it: by the package's name, from the project.
        const resolved = require.resolve("session-manager-preferences/provider", { paths: [repoRoot] });
        expect(resolved).to.equal(path.join(repoRoot, "provider.js"));
        const exported = require(resolved) as { sessionDocumentProvider?: { create?: unknown } };
        expect(exported.sessionDocumentProvider?.create).to.be.a("function");
        const bundles = fs.readdirSync(cacheDir).filter((f) => /^provider-[0-9a-f]{16}\.js$/.test(f));
        expect(bundles, "a bundle in node_modules/.cache").to.not.be.empty;
        expect(
            fs.readdirSync(cacheDir).filter((f) => f.endsWith(".tmp")),
            "no partial file left",
        ).to.deep.equal([]);
    });

    it("reuses the bundle while no source changes, and bundles again when one does", () => {
        // A provider process, as each stack run starts one.
        const load = () => execFileSync(process.execPath, ["-e", 'require("./provider.js")'], { cwd: repoRoot });
        const manifestFile = path.join(cacheDir, "provider-inputs.json");
        load();
        const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as { bundle: string; inputs: Record<string, [number, number]> };
        expect(fs.existsSync(path.join(cacheDir, manifest.bundle))).to.equal(true);
        expect(Object.keys(manifest.inputs)).to.include.members(["api/provider.ts", "providers/sessionDocumentProvider.ts", "core/document.ts"]);
        expect(
            Object.keys(manifest.inputs).filter((f) => f.includes("node_modules")),
            "packages stay external",
        ).to.deep.equal([]);
        // Unchanged sources: the manifest is not written again.
        const written = fs.statSync(manifestFile).mtimeMs;
        load();
        expect(fs.statSync(manifestFile).mtimeMs).to.equal(written);
        // A source saved again (same content, new time): bundled again, the same bundle, the new time recorded.
        const source = path.join(repoRoot, "core", "names.ts");
        const stat = fs.statSync(source);
        const later = new Date(stat.mtimeMs + 5_000);
        fs.utimesSync(source, later, later);
        try {
            load();
            const again = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as { bundle: string; inputs: Record<string, [number, number]> };
            expect(again.bundle).to.equal(manifest.bundle);
            expect(again.inputs["core/names.ts"][1]).to.equal(fs.statSync(source).mtimeMs);
        } finally {
            fs.utimesSync(source, stat.atime, stat.mtime);
        }
    });
});
