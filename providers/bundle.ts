/**
 * One minified CommonJS text from an entry file and what it imports, made by esbuild in
 * memory, for code that runs somewhere else: the StackSet custom resource's Lambda handler
 * (lambda/bundle.ts) and the Session document provider as the engine gets it
 * (providers/engineProvider.ts). The same sources and esbuild version give the same text: no
 * timestamps, no absolute paths, no source map.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * This package's root, seen from the directory of one of its modules: one level up when the
 * module runs from its sources (lambda/, providers/), two when compiled (dist/…, lib/…).
 */
export function packageRootFrom(moduleDir: string): string {
    const candidates = [path.resolve(moduleDir, ".."), path.resolve(moduleDir, "..", "..")];
    const root = candidates.find((dir) => fs.existsSync(path.join(dir, "package.json")));
    if (!root) throw new Error(`cannot find this package's package.json; looked in ${candidates.join(", ")}`);
    return root;
}

export interface BundleOptions {
    /** The directory paths in the bundle are relative to. */
    root: string;
    /** The entry file, relative to `root`. */
    entry: string;
    /** esbuild's target, e.g. node22. */
    target: string;
    /** Modules left as `require` calls, loaded where the bundle runs. */
    external: string[];
    /** What the bundle is, for the error when esbuild makes nothing. */
    what: string;
}

export function commonJsBundle(options: BundleOptions): string {
    // Loaded on use: a program that bundles nothing never loads esbuild.
    const esbuild: typeof import("esbuild") = require("esbuild");
    const result = esbuild.buildSync({
        absWorkingDir: options.root,
        entryPoints: [options.entry],
        bundle: true,
        platform: "node",
        target: options.target,
        format: "cjs",
        external: options.external,
        minify: true,
        // Function names stay in the stack traces of the bundled code's errors.
        keepNames: true,
        legalComments: "eof",
        charset: "utf8",
        sourcemap: false,
        write: false,
        logLevel: "silent",
    });
    const [output] = result.outputFiles;
    if (!output) throw new Error(`esbuild produced no output for ${options.what}`);
    return output.text;
}
