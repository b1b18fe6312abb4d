// Entry point of `npm run org -- <command> [flags]`; the logic is in orchestrator/.
import * as path from "node:path";
import { main } from "../orchestrator/main";

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }, path.resolve(__dirname, ".."))
    .then(({ exitCode }) => {
        process.exitCode = exitCode;
    })
    .catch((err: unknown) => {
        process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 1;
    });
