/**
 * The custom resource's code as the template carries it: lambda/handler.ts and the document
 * operations it calls, bundled by esbuild into one CommonJS file for the Lambda Node.js
 * runtime. The bundle is made when the program runs (preview, up), from the TypeScript
 * sources, so esbuild is a runtime dependency and nothing generated is committed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { handlerRuntime } from "../core/template";
import { commonJsBundle, packageRootFrom } from "../providers/bundle";

/** The Node.js the template's Lambda runtime provides: nodejs22.x is node22. */
const esbuildTarget = handlerRuntime.replace(/^nodejs(\d+)\.x$/, "node$1");

const entryName = "handler.ts";

/**
 * The directory holding the TypeScript sources: lambda/ beside this file when the program
 * runs (ts-node), or the repository's when compiled tests run from dist/lambda.
 */
export function sourceRoot(): string {
    const root = packageRootFrom(__dirname);
    if (!fs.existsSync(path.join(root, "lambda", entryName))) throw new Error(`cannot find lambda/${entryName} under ${root}`);
    return root;
}

let cached: string | undefined;

/**
 * The bundled handler. The same sources and esbuild version always give the same text: no
 * timestamps, no absolute paths, no source map. So an unchanged program shows no StackSet diff.
 */
export function handlerBundle(): string {
    cached ??= buildBundle();
    return cached;
}

export function buildBundle(): string {
    return commonJsBundle({
        root: sourceRoot(),
        entry: path.join("lambda", entryName),
        target: esbuildTarget,
        // The Lambda Node.js runtimes include the AWS SDK for JavaScript v3.
        external: ["@aws-sdk/*"],
        what: "the custom-resource handler",
    });
}
