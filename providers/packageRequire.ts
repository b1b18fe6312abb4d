/**
 * `require` for the modules the Session document provider loads at run time (the AWS SDK,
 * js-yaml, fast-deep-equal), resolved from this package's own location.
 *
 * Pulumi serializes the provider into the dynamic-provider process. Code it serializes by
 * value (this repository's program, or the package linked into another project with
 * `npm link` / a `file:` directory dependency) runs with a `require` that resolves from that
 * process's working directory, the consumer's project: a linked package's dependencies are
 * not there ("Cannot find module '@aws-sdk/client-ssm'"). Serialized by value, `anchor`
 * below is this file's path as a string, so resolution starts beside the package. When the
 * package is installed under node_modules, Pulumi captures this module by reference (it
 * is `require`d by its path through the package's `exports`) and `anchor` is the installed
 * file itself. If the anchor no longer exists (state made on another machine), the plain
 * `require` of the working directory is the fallback.
 */

/** This file's path where the program ran; kept by value when Pulumi serializes the provider. */
const anchor: string = __filename;

export function requireFromPackage<T = unknown>(id: string): T {
    const { createRequire }: typeof import("node:module") = require("node:module");
    try {
        return createRequire(anchor)(id) as T;
    } catch (err) {
        if ((err as { code?: string }).code !== "MODULE_NOT_FOUND") throw err;
    }
    // Literal requires, so that a bundler (the StackSet custom resource's esbuild bundle)
    // sees and includes the modules the document operations need; the AWS SDK is the
    // Lambda runtime's.
    switch (id) {
        case "fast-deep-equal":
            return require("fast-deep-equal") as T;
        case "js-yaml":
            return require("js-yaml") as T;
        default:
            return require(id) as T;
    }
}
