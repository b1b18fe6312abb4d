/**
 * The Session document provider as the engine gets it. Every dynamic resource carries, in its
 * inputs and outputs (`__provider`), the CommonJS text that Pulumi's dynamic-provider process
 * runs to get its provider: the process calls the text's `handler` export once per text. For
 * the Session document that text is written here, not serialized from a closure: a few lines
 * that require the package's stable entry point, `session-manager-preferences/provider`
 * (provider.js at the package root), from the project the process runs in (its working
 * directory). That resolves to the package in the project's node_modules when it is
 * installed (or linked) there, and to the package itself, through its `exports`, when the
 * project is a checkout of it. So:
 *
 * - every document's share of the state is small and the same for every document and every
 *   release, whatever the provider's code weighs, and the CLI has that much less to write
 *   after each step;
 * - the state names no file of the package, so a later release may move its files and still
 *   refresh, update and destroy what this one made: keep the entry point, its export, and the
 *   provider's reading of earlier states.
 *
 * States written before this form hold other forms, which keep working: a self-contained
 * esbuild bundle of the provider (run from a checkout), a serialized closure that requires
 * the entry point, or requires of `<package>/lib/...` files (installed; `./lib/*` stays
 * exported for them).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { packageRootFrom } from "./bundle";

/** This package's name, as a project requires it. */
export function packageName(root: string = packageRootFrom(__dirname)): string {
    return (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { name: string }).name;
}

/** The stable entry point every document's state requires. */
export function providerEntryPoint(): string {
    return `${packageName()}/provider`;
}

/** The providers the entry point exports, by name: the Session document's, and the StackSet instance overrides'. */
export type ProviderExport = "sessionDocumentProvider" | "stackSetOverridesProvider";

/** The text of every Session document's `__provider`: its `handler` returns the provider `entry` exports (as `name`). */
export function providerText(entry: string, name: ProviderExport = "sessionDocumentProvider"): string {
    return [
        "exports.handler = () => {",
        `    const entry = ${JSON.stringify(entry)};`,
        '    const project = require("node:path").join(process.cwd(), "package.json");',
        `    const provider = require("node:module").createRequire(project)(entry).${name};`,
        `    if (!provider) throw new Error(entry + " exports no ${name}");`,
        "    return provider;",
        "};",
        "",
    ].join("\n");
}

const forEngine = new Map<ProviderExport, string>();

/** What every Session document (or the StackSet overrides resource) of a program hands the engine as its `__provider`. */
export function engineProviderText(name: ProviderExport = "sessionDocumentProvider"): string {
    let text = forEngine.get(name);
    if (!text) forEngine.set(name, (text = providerText(providerEntryPoint(), name)));
    return text;
}
