/**
 * The Session document provider as the engine gets it. Pulumi serializes a dynamic
 * provider into every resource's inputs and state (`__provider`), and the dynamic provider
 * process runs that text:
 *
 * - Installed under node_modules, the serialized provider is a few calls that require the
 *   package's stable entry point, `<package>/provider` (api/provider.ts), where the provider
 *   process runs: the state names no file of the package, so a later release may move its
 *   files and still refresh, update and destroy what this one made. (States made by releases
 *   before the entry point require `<package>/lib/...` files by path; `./lib/*` stays exported
 *   for them.)
 * - Run from a checkout (this repository as the project, `npm link`, a `file:` directory
 *   dependency), Pulumi would copy every function the provider reaches, each wrapped on its
 *   own, twice per document in the state (inputs and outputs), carried through the engine on
 *   every step. Instead the provider is bundled by esbuild into one minified CommonJS text
 *   that the serialized provider evaluates on first use: smaller (docs/performance.md has
 *   the sizes), and the state stays self-contained, so a later `destroy` runs the code that
 *   was recorded.
 *
 * The bundle is made once per program from the TypeScript sources when they are there (so
 * `pulumi up` by hand, `npm run org` and the tests record the same text), otherwise from the
 * compiled files beside this one, for the oldest Node.js the package supports (its
 * `engines`). The same sources and esbuild version give the same bundle: no timestamps, no
 * paths, no source map. The serialized provider adds the entry's path, from which the
 * bundled code resolves the AWS SDK and the other modules it loads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { commonJsBundle, packageRootFrom } from "./bundle";
import type { SessionDocumentInputs, SessionDocumentState } from "./sessionDocumentProvider";

type Provider = pulumi.dynamic.ResourceProvider<SessionDocumentInputs, SessionDocumentState>;

const providerModule = "sessionDocumentProvider";

/** Whether Pulumi serializes this package's modules by reference: it does for code under node_modules. */
export function installedAsPackage(file: string = __filename): boolean {
    return file.split(path.sep).includes("node_modules");
}

/** The provider's entry file: its TypeScript source when the checkout has it, else the compiled file beside this one. */
export function providerEntry(root: string = packageRootFrom(__dirname)): string {
    const source = path.join(root, "providers", `${providerModule}.ts`);
    return fs.existsSync(source) ? source : path.join(__dirname, `${providerModule}.js`);
}

/** esbuild's target for the oldest Node.js an `engines.node` range allows: `^22.12.0 || ^24.0.0` gives node22. */
export function nodeTarget(range: string): string {
    const majors = [...range.matchAll(/(\d+)(?:\.\d+){0,2}/g)].map((m) => Number(m[1]));
    if (majors.length === 0) throw new Error(`package.json engines.node names no Node.js version: ${JSON.stringify(range)}`);
    return `node${Math.min(...majors)}`;
}

function packageNodeTarget(root: string = packageRootFrom(__dirname)): string {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { engines?: { node?: string } };
    return nodeTarget(manifest.engines?.node ?? "");
}

/** The provider and everything it reaches from this package, as one minified CommonJS module. */
export function providerBundle(entry: string = providerEntry(), target: string = packageNodeTarget()): string {
    return commonJsBundle({
        root: path.dirname(entry),
        entry: path.basename(entry),
        target,
        // Loaded at run time through requireFromPackage (providers/packageRequire.ts), which
        // resolves them beside this package.
        external: ["@aws-sdk/*", "@grpc/grpc-js", "@pulumi/pulumi", "@pulumi/pulumi/*", "js-yaml", "fast-deep-equal"],
        what: entry,
    });
}

/**
 * A provider whose every method evaluates `code` (once) and calls the bundled provider.
 * `filename` stands in for the bundle's own path: the bundled `requireFromPackage` resolves
 * the AWS SDK and the other modules from there.
 */
export function bundledProvider(code: string, filename: string): Provider {
    // An object, not a variable: Pulumi serializes an object once, at the top of the text,
    // while a captured variable would start out empty again on every call.
    const evaluated: { provider?: Provider } = {};
    const provider = (): Provider => {
        if (evaluated.provider === undefined) {
            const { dirname }: typeof import("node:path") = require("node:path");
            const module = { exports: {} as { sessionDocumentProvider?: Provider } };
            new Function("exports", "require", "module", "__filename", "__dirname", code)(module.exports, require, module, filename, dirname(filename));
            if (!module.exports.sessionDocumentProvider) throw new Error("the bundled Session document provider exports no sessionDocumentProvider");
            evaluated.provider = module.exports.sessionDocumentProvider;
        }
        return evaluated.provider;
    };
    return {
        check: (olds, news) => provider().check!(olds, news),
        diff: (id, olds, news) => provider().diff!(id, olds, news),
        create: (inputs) => provider().create(inputs),
        read: (id, props) => provider().read!(id, props),
        update: (id, olds, news) => provider().update!(id, olds, news),
        delete: (id, props) => provider().delete!(id, props),
    };
}

/**
 * A provider whose every method requires `entry` (the package's stable entry point) where the
 * provider process runs, and calls the provider it exports.
 */
export function requiredProvider(entry: string): Provider {
    const provider = (): Provider => (require(entry) as { sessionDocumentProvider: Provider }).sessionDocumentProvider;
    return {
        check: (olds, news) => provider().check!(olds, news),
        diff: (id, olds, news) => provider().diff!(id, olds, news),
        create: (inputs) => provider().create(inputs),
        read: (id, props) => provider().read!(id, props),
        update: (id, olds, news) => provider().update!(id, olds, news),
        delete: (id, props) => provider().delete!(id, props),
    };
}

/** This package's name, as another project requires it. */
function packageName(root: string = packageRootFrom(__dirname)): string {
    return (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { name: string }).name;
}

let forEngine: Provider | undefined;

/** The provider to hand to `pulumi.dynamic.Resource`: the same object for every document of a program. */
export function engineProvider(): Provider {
    if (!forEngine) {
        if (installedAsPackage()) {
            forEngine = requiredProvider(`${packageName()}/provider`);
        } else {
            const entry = providerEntry();
            forEngine = bundledProvider(providerBundle(entry), entry);
        }
    }
    return forEngine;
}
