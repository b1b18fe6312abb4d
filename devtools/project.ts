import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "./engine";

/** What the program needs at run time; linked, so the copy always runs the current code. */
const linked = ["index.ts", "core", "providers", "components", "lambda", "api", "provider.js", "node_modules", "package.json", "tsconfig.json"];

/**
 * A throwaway copy of the Pulumi project in `dir`: Pulumi.yaml and the named stack files are
 * copied (the CLI writes to them: the passphrase salt, `config set`), the code is linked.
 * Engine runs use it so the repository's Pulumi.<stack>.yaml files never change, and so
 * concurrent stacks never write the same file.
 */
export function projectCopy(dir: string, stackFiles: string[] = []): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(repoRoot, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    for (const file of stackFiles) fs.copyFileSync(path.join(repoRoot, file), path.join(dir, file));
    for (const entry of linked) {
        const target = path.join(repoRoot, entry);
        if (fs.existsSync(target)) fs.symlinkSync(target, path.join(dir, entry));
    }
    return dir;
}
