// Rolls Session Manager preferences out from a script, through the Pulumi Automation API:
// one stack of ../program per account (or per account and Region, as stackGranularity says),
// a few at a time, with the package's runRollout. Usage:
//
//     npx ts-node rollout.ts <preview|up|refresh|drift|destroy> [--config org.yaml] [--json]
//         [--parallel 2] [--stack-prefix rollout] [--log-dir logs]
//
// The Pulumi CLI on PATH runs the stacks, against whatever backend it is logged in to (or
// PULUMI_BACKEND_URL). Exit codes: 0 done (drift: in sync), 1 a target failed, 2 drift found.
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
    Command,
    commands,
    defaultDiscoveredRoleName,
    deriveTargets,
    exitCodeFor,
    loadOrgConfig,
    Progress,
    renderJson,
    renderText,
    runRollout,
    stackConfigFor,
} from "session-manager-preferences/rollout";

async function main(argv: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            config: { type: "string", default: "org.yaml" },
            parallel: { type: "string", default: "2" },
            "stack-prefix": { type: "string", default: "rollout" },
            "log-dir": { type: "string", default: "logs" },
            json: { type: "boolean", default: false },
        },
    });
    const command = positionals[0] as Command;
    if (positionals.length !== 1 || !commands.includes(command)) {
        process.stderr.write(`usage: rollout.ts <${commands.join("|")}> [--config org.yaml] [--json]\n`);
        return 64;
    }

    // Throws, naming every bad key, before any stack runs.
    const org = loadOrgConfig(values.config);
    // Only the listed targets here; accounts under sessionManager:organizationalUnitIds would
    // come from discoverAccounts() (also exported) as discoveredAccounts.
    const targets = deriveTargets(org.settings, {
        prefix: values["stack-prefix"],
        discoveredAccounts: [],
        discoveredRoleName: defaultDiscoveredRoleName,
        defaultRegion: org.region,
    });

    const report = await runRollout({
        command,
        targets,
        // Each stack gets the preferences and its account and Regions as sessionManager:* config.
        stackConfig: (target) => stackConfigFor(org, target),
        projectDir: path.resolve(__dirname, "..", "program"),
        parallel: Number(values.parallel),
        logDir: path.resolve(values["log-dir"]),
        progress: new Progress(
            targets.map((t) => t.stackName),
            process.stderr,
        ),
    });

    process.stdout.write(values.json ? renderJson(report) : renderText(report));
    return exitCodeFor(report);
}

main(process.argv.slice(2)).then(
    (code) => {
        process.exitCode = code;
    },
    (err: unknown) => {
        process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
    },
);
