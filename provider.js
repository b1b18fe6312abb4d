// `session-manager-preferences/provider`: the Session document provider as every document's
// state loads it. The state holds a few calls that require this entry point by the package's
// name (providers/engineProvider.ts), so keep its name and its export, and keep the provider
// able to read states that earlier releases wrote.
//
// Plain CommonJS, so that it loads in the dynamic-provider process with nothing else set up:
// installed from the packed package, it loads the compiled provider in lib/; in a checkout
// (the TypeScript sources beside it, which the package does not ship), it bundles those sources
// with esbuild into a file named by the bundle's hash, under node_modules/.cache, and loads that.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const source = path.join(__dirname, "api", "provider.ts");

/** The sources as one CommonJS file for the Node.js that runs this, its packages left to node_modules. */
function bundledSources() {
    const esbuild = require("esbuild");
    const [output] = esbuild.buildSync({
        absWorkingDir: __dirname,
        entryPoints: [path.relative(__dirname, source)],
        bundle: true,
        platform: "node",
        format: "cjs",
        target: `node${process.versions.node.split(".")[0]}`,
        packages: "external",
        keepNames: true,
        charset: "utf8",
        write: false,
        logLevel: "silent",
    }).outputFiles;
    const hash = crypto.createHash("sha256").update(output.text).digest("hex").slice(0, 16);
    // Under node_modules, so that the bundle's requires resolve from the checkout's node_modules.
    const dir = path.join(__dirname, "node_modules", ".cache", "session-manager-preferences");
    const file = path.join(dir, `provider-${hash}.js`);
    if (!fs.existsSync(file)) {
        fs.mkdirSync(dir, { recursive: true });
        // Written whole under another name first: several provider processes may start at once.
        const partial = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(partial, output.text);
        fs.renameSync(partial, file);
    }
    return file;
}

module.exports = require(fs.existsSync(source) ? bundledSources() : path.join(__dirname, "lib", "api", "provider.js"));
