// The form the engine gets the Session document provider in (providers/engineProvider.ts):
// the bundle's entry, target and text. test/provider-accounts.test.ts runs the serialized
// bundle against moto; the engine tests run it through `pulumi up`.
import { expect } from "chai";
import * as path from "node:path";
import { installedAsPackage, nodeTarget, providerBundle, providerEntry } from "../providers/engineProvider";

const repoRoot = path.resolve(__dirname, "..", "..");

describe("the provider as the engine gets it", () => {
    it("bundles from the TypeScript source in a checkout, whether the program runs from the sources or compiled", () => {
        // The tests run compiled, from dist/; `pulumi up` and `npm run org` from the sources.
        expect(providerEntry()).to.equal(path.join(repoRoot, "providers", "sessionDocumentProvider.ts"));
    });

    it("is required by name when installed under node_modules, bundled otherwise", () => {
        expect(installedAsPackage(path.join("/", "p", "node_modules", "session-manager-preferences", "lib", "providers", "engineProvider.js"))).to.equal(true);
        expect(installedAsPackage(path.join(repoRoot, "providers", "engineProvider.ts"))).to.equal(false);
    });

    it("targets the oldest Node.js that package.json's engines allow, and says so when it names none", () => {
        expect(nodeTarget("^22.12.0 || ^24.0.0")).to.equal("node22");
        expect(nodeTarget(">=24")).to.equal("node24");
        expect(() => nodeTarget("latest")).to.throw(/engines\.node names no Node\.js version: "latest"/);
    });

    it("gives the same text for the same sources, with no path of this machine in it", () => {
        const first = providerBundle();
        expect(providerBundle()).to.equal(first);
        expect(first).not.to.include(repoRoot);
        expect(first).to.include("sessionDocumentProvider");
    });
});
