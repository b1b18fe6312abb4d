import * as fs from "node:fs";
import * as path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";

/** The repository root: this file runs from orchestrator/ (ts-node) or dist/orchestrator/ (compiled). */
function ownProjectDir(): string | undefined {
    return [path.resolve(__dirname, ".."), path.resolve(__dirname, "..", "..")].find((dir) => fs.existsSync(path.join(dir, "Pulumi.yaml")));
}

/**
 * The program to run inline for the stacks of `projectDir`, when that project runs this
 * repository's own program (its index.ts, or a link to it, and no other `main`). The
 * Automation API then runs it in this process for every target's stack, so each stack no
 * longer starts a Node.js process that loads and transpiles the program again (README,
 * Benchmark). It is the same program: the settings are read and checked per stack, exactly
 * as index.ts does. Any other project (`--project-dir`) runs as its own program.
 */
export function inlineProgramFor(projectDir: string): PulumiFn | undefined {
    const own = ownProjectDir();
    const index = path.join(projectDir, "index.ts");
    if (!own || !fs.existsSync(index) || fs.realpathSync(index) !== fs.realpathSync(path.join(own, "index.ts"))) return undefined;
    if (/^main:/m.test(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"))) return undefined;
    // Loaded only now: the orchestrator's other commands and tests need none of the program.
    const { deployStack }: typeof import("../components/program") = require("../components/program");
    const { readStackSettings }: typeof import("../components/stackSettings") = require("../components/stackSettings");
    return () => deployStack(readStackSettings());
}
