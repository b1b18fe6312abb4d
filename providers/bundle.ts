/**
 * One minified CommonJS text from an entry file and what it imports, made by esbuild in
 * memory, for code that runs somewhere else: the StackSet custom resource's Lambda handler
 * (lambda/bundle.ts) and the Session document provider as the engine gets it
 * (providers/engineProvider.ts). The same sources and esbuild version give the same text: no
 * timestamps, no absolute paths, no source map.
 */
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
