#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm dependencies from the lockfile when they are
// missing or stale, and the pinned Python tools (moto, cfn-lint) into a cached virtualenv.
// Plain Node.js with no dependencies, because it runs before node_modules exists.
//
// Everything it and the installers it runs print goes to stderr: it is the pre-hook of
// `npm run org`, whose stdout may be a JSON or Markdown report redirected to a file.
// `--npm-only` (the org hook, CI's deploy jobs) skips the Python test tools.
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

/** Child processes: no stdin, and their stdout joins our stderr (fd 2). */
const toStderr = ["ignore", 2, 2];

function log(message) {
    process.stderr.write(`bootstrap: ${message}\n`);
}

function ensureNodeModules() {
    const stamp = path.join(root, "node_modules", ".bootstrap-lock-hash");
    const want = sha256(path.join(root, "package-lock.json"));
    if (fs.existsSync(stamp) && fs.readFileSync(stamp, "utf8") === want) return;
    log("installing npm dependencies from package-lock.json (npm ci)");
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: root, stdio: toStderr });
    fs.writeFileSync(stamp, want);
}

function ensurePythonTools() {
    const requirements = path.join(root, "requirements-test.txt");
    const venv = path.join(cacheRoot, `venv-${sha256(requirements)}`);
    const ready = path.join(venv, ".ready");
    if (!fs.existsSync(ready)) {
        log(
            `installing ${fs
                .readFileSync(requirements, "utf8")
                .split("\n")
                .filter((l) => l && !l.startsWith("#"))
                .join(", ")} into ${venv}`,
        );
        fs.rmSync(venv, { recursive: true, force: true });
        fs.mkdirSync(cacheRoot, { recursive: true });
        execFileSync("python3", ["-m", "venv", venv], { stdio: toStderr });
        execFileSync(path.join(venv, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", "-r", requirements], { stdio: toStderr });
        fs.writeFileSync(ready, new Date().toISOString());
    }
    // Tests and scripts find the tools through this file, whatever the cache directory is.
    fs.writeFileSync(path.join(root, "node_modules", ".python-venv"), venv);
}

/** The workflow linter the tests run (test/workflow-lint.test.ts), built from its Go module once per version. */
const actionlintModule = "github.com/rhysd/actionlint/cmd/actionlint";
const actionlintVersion = "v1.7.12";

function ensureActionlint() {
    const bin = path.join(cacheRoot, `actionlint-${actionlintVersion}`, "bin");
    const exe = path.join(bin, "actionlint");
    if (!fs.existsSync(exe)) {
        try {
            execFileSync("go", ["version"], { stdio: "ignore" });
        } catch {
            // The demo needs no linter; test/workflow-lint.test.ts says what is missing.
            log(`go is not on PATH: ${actionlintModule} (the workflow linter the tests run) is not built`);
            return;
        }
        log(`building ${actionlintModule}@${actionlintVersion} into ${bin} (go install)`);
        fs.mkdirSync(bin, { recursive: true });
        execFileSync("go", ["install", `${actionlintModule}@${actionlintVersion}`], {
            stdio: toStderr,
            env: { ...process.env, GOBIN: bin, GOFLAGS: "-mod=mod" },
        });
    }
    fs.writeFileSync(path.join(root, "node_modules", ".actionlint"), exe);
}

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== "--npm-only");
if (unknown.length > 0) {
    log(`unknown argument ${unknown.join(" ")}; the only one is --npm-only (skip the Python test tools)`);
    process.exit(64);
}
ensureNodeModules();
if (!args.includes("--npm-only")) {
    ensurePythonTools();
    ensureActionlint();
}
