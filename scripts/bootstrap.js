#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm dependencies from the lockfile when they are
// missing or stale, and the pinned Python tools (moto, cfn-lint) into a cached virtualenv.
// Plain Node.js with no dependencies, because it runs before node_modules exists.
"use strict";
const { execFileSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const cacheRoot = process.env.SMP_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "session-manager-preferences");

function sha256(file) {
    return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex").slice(0, 16);
}

function log(message) {
    process.stderr.write(`bootstrap: ${message}\n`);
}

function ensureNodeModules() {
    const stamp = path.join(root, "node_modules", ".bootstrap-lock-hash");
    const want = sha256(path.join(root, "package-lock.json"));
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === want) return;
    log("installing npm dependencies from package-lock.json (npm ci)");
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: root, stdio: "inherit" });
    fs.writeFileSync(stamp, want);
}

function ensurePythonTools() {
    const requirements = path.join(root, "requirements-test.txt");
    const venv = path.join(cacheRoot, `venv-${sha256(requirements)}`);
    const ready = path.join(venv, ".ready");
    if (!fs.existsSync(ready)) {
        log(`installing ${fs.readFileSync(requirements, "utf8").split("\n").filter((l) => l && !l.startsWith("#")).join(", ")} into ${venv}`);
        fs.rmSync(venv, { recursive: true, force: true });
        fs.mkdirSync(cacheRoot, { recursive: true });
        execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
        execFileSync(path.join(venv, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", "-r", requirements], { stdio: "inherit" });
        fs.writeFileSync(ready, new Date().toISOString());
    }
    // Tests and scripts find the tools through this file, whatever the cache directory is.
    fs.writeFileSync(path.join(root, "node_modules", ".python-venv"), venv);
}

ensureNodeModules();
ensurePythonTools();
