// How `npm run org` writes each stack's settings: one file write, no CLI process.
import { expect } from "chai";
import * as yaml from "js-yaml";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeStackConfig } from "../orchestrator/run";

describe("writeStackConfig: a stack's settings in one step", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-stack-config-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const read = (stack: string) => yaml.load(fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8")) as Record<string, unknown>;

    it("replaces the whole config, so keys dropped from the organization config leave the stack", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.org.1.yaml"), 'config:\n  aws:region: us-east-1\n  sessionManager:runAsEnabled: "true"\n');
        writeStackConfig(dir, "org.1", { "aws:region": "eu-west-1", "sessionManager:targets": '[{"accountId":"111111111111","regions":["eu-west-1"]}]' });
        expect(read("org.1")).to.deep.equal({
            config: { "aws:region": "eu-west-1", "sessionManager:targets": '[{"accountId":"111111111111","regions":["eu-west-1"]}]' },
        });
    });

    it("keeps what stack init wrote beside the config, such as the passphrase salt", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.org.2.yaml"), "encryptionsalt: v1:abc:def\n");
        writeStackConfig(dir, "org.2", { "aws:region": "us-east-1" });
        expect(read("org.2")).to.deep.equal({ encryptionsalt: "v1:abc:def", config: { "aws:region": "us-east-1" } });
        expect(fs.readdirSync(dir)).to.deep.equal(["Pulumi.org.2.yaml"]);
    });

    it("keeps values that look like numbers, booleans or lists as the strings Pulumi config holds", () => {
        writeStackConfig(dir, "org.3", { "sessionManager:idleSessionTimeout": "15", "sessionManager:runAsEnabled": "true", "sessionManager:regions": "[]" });
        expect(read("org.3").config).to.deep.equal({
            "sessionManager:idleSessionTimeout": "15",
            "sessionManager:runAsEnabled": "true",
            "sessionManager:regions": "[]",
        });
    });
});
