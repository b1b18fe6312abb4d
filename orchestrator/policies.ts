/**
 * `npm run org -- policies`: the IAM roles the organization config needs, as trust and
 * permissions policies to copy (core/accessPolicies.ts). It reads the config only: no
 * Pulumi, no AWS call, so it runs before any role exists.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { accessRoles, AccessRoles, accessScope } from "../core/accessPolicies";
import type { PoliciesOptions } from "./cli";
import { textTable } from "./format";
import { loadOrgConfig, OrgConfig, OrgConfigError } from "./orgConfig";

/** The roles for the config and the starting point the options name. */
export function rolesFor(
    org: Pick<OrgConfig, "settings" | "region">,
    options: Omit<PoliciesOptions, "command" | "configFile" | "json" | "outDir">,
): AccessRoles {
    const scope = accessScope(org.settings, { defaultRegion: org.region, discoveredRoleName: options.roleName });
    return accessRoles(
        org.settings,
        scope,
        {
            accountId: options.startingAccount,
            githubRepository: options.githubRepository,
            previewRoleName: options.previewRoleName,
            rolloutRoleName: options.rolloutRoleName,
            backendUrl: options.backendUrl,
        },
        org.region ?? scope.regions[0],
    );
}

/** The file names of one role's two policies. */
export function policyFiles(roleName: string): { trust: string; permissions: string } {
    return { trust: `${roleName}.trust.json`, permissions: `${roleName}.permissions.json` };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Prints (or writes) the roles; returns the text for stdout. */
export function renderPolicies(result: AccessRoles, options: Pick<PoliciesOptions, "json" | "outDir">): string {
    if (options.outDir) {
        fs.mkdirSync(options.outDir, { recursive: true });
        for (const role of result.roles) {
            const files = policyFiles(role.roleName);
            fs.writeFileSync(path.join(options.outDir, files.trust), json(role.trustPolicy));
            fs.writeFileSync(path.join(options.outDir, files.permissions), json(role.permissions));
        }
        const summary = result.roles.map((r) => ({
            roleName: r.roleName,
            where: r.where,
            purpose: r.purpose,
            maxSessionDuration: r.maxSessionDuration,
            ...policyFiles(r.roleName),
        }));
        fs.writeFileSync(path.join(options.outDir, "roles.json"), json({ roles: summary, notes: result.notes }));
    }
    if (options.json) return json(result);
    const table = textTable(
        ["ROLE", "MAX SESSION", "CREATE IN"],
        result.roles.map((r) => [r.roleName, `${r.maxSessionDuration}s`, r.where]),
    );
    const parts = [table];
    for (const note of result.notes) parts.push(`note: ${note}`);
    if (options.outDir) {
        parts.push(`written to ${options.outDir}: <role>.trust.json and <role>.permissions.json for each role, and roles.json`);
        return `${parts.join("\n")}\n`;
    }
    for (const role of result.roles) {
        parts.push("", `== ${role.roleName}: ${role.purpose}`, `create in: ${role.where}; MaxSessionDuration: ${role.maxSessionDuration}`);
        parts.push("trust policy:", JSON.stringify(role.trustPolicy, null, 2), "permissions policy:", JSON.stringify(role.permissions, null, 2));
    }
    return `${parts.join("\n")}\n`;
}

/** The whole command. Throws OrgConfigError / ConfigErrors for a bad config, as the rollout does. */
export function runPolicies(options: PoliciesOptions): string {
    const org = loadOrgConfig(options.configFile);
    let roles: AccessRoles;
    try {
        roles = rolesFor(org, options);
    } catch (err) {
        throw new OrgConfigError(`${org.file}: ${(err as Error).message}`);
    }
    return renderPolicies(roles, options);
}
