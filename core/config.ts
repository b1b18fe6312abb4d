import { Settings } from "./settings";

/** A configuration error a user caused: names the key, the value given and what is allowed. */
export class ConfigError extends Error {
    constructor(
        public readonly key: string,
        public readonly value: unknown,
        public readonly allowed: string,
    ) {
        super(`sessionManager:${key}: ${JSON.stringify(value)} is not valid: ${allowed}`);
        this.name = "ConfigError";
    }
}

/** Every problem found in one configuration, so a user fixes them all in one pass. */
export class ConfigErrors extends Error {
    constructor(public readonly errors: ConfigError[]) {
        super(errors.map((e) => e.message).join("\n"));
        this.name = "ConfigErrors";
    }
}

/**
 * Parses and validates the `sessionManager` namespace. `raw` maps key names (without the
 * namespace) to what Pulumi config holds: YAML values, or the strings `pulumi config set`
 * writes. Throws ConfigErrors listing every problem. (Implementation in progress.)
 */
export function parseSettings(raw: Record<string, unknown>): Settings {
    throw new Error(`parseSettings not implemented yet (${Object.keys(raw).length} keys)`);
}
