import { expect } from "chai";
import { runScript } from "./support/childProcess";
import { pulumiBin } from "../devtools/engine";

/** `npm run demo` is the README's main command: it must keep doing what the README says. */
describe("npm run demo", function () {
    this.timeout(10 * 60_000);

    before(async function () {
        this.timeout(60 * 60_000);
        await pulumiBin();
    });

    it("runs the whole lifecycle, checking each step, and exits 0", async () => {
        const { code, stdout, stderr } = await runScript("scripts/demo.ts", [], { timeoutMs: 9 * 60_000 });
        expect(code, `${stdout}\n${stderr}`).to.equal(0);
        for (const claim of [
            "every target has the stack's settings",
            "the engine reports no changes",
            "no document version was created",
            "refresh found exactly one drifted document",
            "inputs.idleSessionTimeout",
            "has the stack's settings again",
            "every document holds exactly the console-made content again",
        ]) {
            expect(stdout).to.include(claim);
        }
        expect(stdout).to.match(/pulumi up: 9 create/);
        expect(stdout).to.match(/pulumi up: no changes \(9 unchanged\)/);
    });
});
