/** The config namespace this program reads. */
export const configNamespace = "sessionManager";

/**
 * Every key of one namespace, without its prefix. Reading the whole map rather than asking
 * for known keys one by one is what lets a misspelt key be reported instead of ignored.
 * Values stay as Pulumi hands them over (strings, JSON for lists and objects): parsing
 * them is the config parser's job.
 */
export function namespaceValues(all: Readonly<Record<string, string>>, namespace = configNamespace): Record<string, string> {
    const prefix = `${namespace}:`;
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(all)) {
        if (key.startsWith(prefix)) values[key.slice(prefix.length)] = value;
    }
    return values;
}

/** The Region the default target uses: `aws:region`, else what the AWS SDK itself would read. */
export function currentRegion(all: Readonly<Record<string, string>>, env: Readonly<Record<string, string | undefined>>): string | undefined {
    return all["aws:region"] || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}
