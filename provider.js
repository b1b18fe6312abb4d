// `session-manager-preferences/provider`: the Session document provider as every document's
// state loads it. The state holds a few calls that require this entry point by the package's
// name (providers/engineProvider.ts), so keep its name and its export, and keep the provider
// able to read states that earlier releases wrote.
//
// Plain CommonJS, so that it loads in the dynamic-provider process with nothing else set up:
// installed from the packed package, it loads the compiled provider in lib/; in a checkout
// (the TypeScript sources beside it, which the package does not ship), it bundles those sources
// with esbuild into a file named by the bundle's hash, under node_modules/.cache, and loads that;
// later processes load the same file without esbuild while no source has changed (the manifest
// beside it records each source's size and modification time).
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const source = path.join(__dirname, "api", "provider.ts");

const cacheDir = path.join(__dirname, "node_modules", ".cache", "session-manager-preferences");
/** Which bundle the sources last made, and each source file's size and modification time then. */
const manifestFile = path.join(cacheDir, "provider-inputs.json");

/** Writes a file whole under another name first: several provider processes may start at once. */
function writeWhole(file, text) {
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, text);
    fs.renameSync(partial, file);
}

/** The bundle the manifest names, when every source it was made from is as it was then. */
function unchangedBundle() {
    try {
        const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
        const file = path.join(cacheDir, manifest.bundle);
        if (!fs.existsSync(file)) return undefined;
        for (const [input, [size, mtimeMs]] of Object.entries(manifest.inputs)) {
            const stat = fs.statSync(path.join(__dirname, input));
            if (stat.size !== size || stat.mtimeMs !== mtimeMs) return undefined;
        }
        return file;
    } catch {
        return undefined;
    }
}

/** The sources as one CommonJS file for the Node.js that runs this, its packages left to node_modules. */
function bundledSources() {
    const esbuild = require("esbuild");
    const { outputFiles, metafile } = esbuild.buildSync({
        absWorkingDir: __dirname,
        entryPoints: [path.relative(__dirname, source)],
        bundle: true,
        platform: "node",
        format: "cjs",
        target: `node${process.versions.node.split(".")[0]}`,
        packages: "external",
        keepNames: true,
        charset: "utf8",
        metafile: true,
        write: false,
        logLevel: "silent",
    });
    const [output] = outputFiles;
    const hash = crypto.createHash("sha256").update(output.text).digest("hex").slice(0, 16);
    // Under node_modules, so that the bundle's requires resolve from the checkout's node_modules.
    const bundle = `provider-${hash}.js`;
    const file = path.join(cacheDir, bundle);
    fs.mkdirSync(cacheDir, { recursive: true });
    if (!fs.existsSync(file)) writeWhole(file, output.text);
    const inputs = {};
    for (const input of Object.keys(metafile.inputs)) {
        const stat = fs.statSync(path.join(__dirname, input));
        inputs[input] = [stat.size, stat.mtimeMs];
    }
    writeWhole(manifestFile, JSON.stringify({ bundle, inputs }));
    return file;
}

// A provider process starts for every stack run: esbuild runs only when a source changed.
module.exports = require(fs.existsSync(source) ? (unchangedBundle() ?? bundledSources()) : path.join(__dirname, "lib", "api", "provider.js"));
