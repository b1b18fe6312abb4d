// The rollout's workspace (orchestrator/workspace.ts): the Automation API through its public
// Workspace interface, and the one SDK internal it leans on, checked here so that an SDK
// upgrade that changes it fails with a message naming the file to update.
import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { pulumiBin, repoRoot } from "../devtools/engine";
import { sdkCliRunner } from "../orchestrator/workspace";

describe("the rollout's workspace (Automation API)", () => {
    it("still finds the SDK's CLI runner, through which it skips the follow-up `stack history`", async function () {
        this.timeout(10 * 60_000);
        const command = await PulumiCommand.get({ root: path.dirname(await pulumiBin()) });
        const run = sdkCliRunner(command);
        const result = await run(["version"], repoRoot, {});
        expect(result.stdout.trim()).to.match(/^v?\d+\.\d+\.\d+/);
    });

    it("says which file to update when an SDK upgrade takes the runner away", () => {
        expect(() => sdkCliRunner({ command: "pulumi" } as unknown as PulumiCommand)).to.throw("orchestrator/workspace.ts");
    });

    it("no module outside the tests reassigns a method of an Automation API object", () => {
        const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts"], { cwd: repoRoot, encoding: "utf8" })
            .split("\n")
            .filter((f) => f && !f.startsWith("test/"));
        const grep = spawnSync("grep", ["-nE", "\\.(selectStack|createStack|removeStack|outputs|info|run)\\s*=[^=>]", ...files], {
            cwd: repoRoot,
            encoding: "utf8",
        });
        expect(grep.status, grep.stderr).to.equal(1);
        expect(grep.stdout).to.equal("");
    });
});
