/**
 * The `npm run org` command lines that reports, warnings and errors suggest. A suggestion
 * repeats the flags that chose the run's stacks and accounts (`--config`, `--stack-prefix`,
 * `--role-name`, `--project-dir`, `--shard`, as given), so pasting it acts on the same stacks.
 */

/** The flags that choose which stacks and accounts a run acts on. */
export const selectionFlags = ["config", "stack-prefix", "role-name", "project-dir", "shard", "stack"] as const;

/** One word for a POSIX shell: as it is when nothing in it is special, else single-quoted. */
export function shellWord(word: string): string {
    return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `npm run org -- <command>` with the run's selection flags and any extra flags. */
export function orgCommand(command: string, selection: readonly string[] = [], ...extra: string[]): string {
    return ["npm", "run", "org", "--", command, ...selection, ...extra].map(shellWord).join(" ");
}

/** The selection's flag-value pairs whose flag `keep` accepts. */
export function selectionWhere(selection: readonly string[], keep: (flag: string) => boolean): string[] {
    const kept: string[] = [];
    for (let i = 0; i + 1 < selection.length; i += 2) if (keep(selection[i])) kept.push(selection[i], selection[i + 1]);
    return kept;
}

/** The selection flags `policies` also takes (it runs no stacks). */
export function policySelection(selection: readonly string[]): string[] {
    return selectionWhere(selection, (flag) => flag === "--config" || flag === "--role-name");
}
