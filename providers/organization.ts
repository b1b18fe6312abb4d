/**
 * Where accounts sit in the organization: the accounts below OUs or roots, and the OUs and root
 * above each account, for overrides that select by OU (core/overrides.ts). Read calls only
 * (ListAccountsForParent, ListOrganizationalUnitsForParent, ListParents), from the management
 * account or a delegated administrator.
 */
import {
    AccountStatus,
    ListAccountsForParentCommand,
    ListOrganizationalUnitsForParentCommand,
    ListParentsCommand,
    OrganizationsClient,
} from "@aws-sdk/client-organizations";

/** The ACTIVE accounts found, sorted, and for each every OU and the root above it, nearest first. */
export interface OrganizationAccounts {
    accounts: string[];
    parents: Map<string, string[]>;
}

/**
 * The OUs and the root above an account or OU, nearest first (ListParents up to the root: one
 * call per level).
 */
export async function parentsOf(client: OrganizationsClient, childId: string): Promise<string[]> {
    const chain: string[] = [];
    let id = childId;
    // An organization is at most five OUs deep below its root; the bound stops a loop on bad data.
    for (let depth = 0; depth < 8; depth++) {
        const page = await client.send(new ListParentsCommand({ ChildId: id }));
        const parent = page.Parents?.[0];
        if (!parent?.Id) break;
        chain.push(parent.Id);
        if (parent.Type === "ROOT") break;
        id = parent.Id;
    }
    return chain;
}

/**
 * The ACTIVE accounts anywhere below the given OUs or roots, child OUs included, each with the
 * OUs above it. With `ancestors`, the OUs above each given OU are looked up too (ListParents),
 * so that an override of an OU higher up than those listed applies; without, the chain stops at
 * the OU listed. Suspended and closing accounts are left out: their roles cannot be assumed.
 */
export async function discoverOrganization(
    client: OrganizationsClient,
    parentIds: readonly string[],
    options: { ancestors?: boolean } = {},
): Promise<OrganizationAccounts> {
    const parents = new Map<string, string[]>();
    const visited = new Set<string>();
    const queue: { id: string; chain: string[] }[] = [];
    for (const id of parentIds) queue.push({ id, chain: [id, ...(options.ancestors ? await parentsOf(client, id) : [])] });
    while (queue.length > 0) {
        const { id: parentId, chain } = queue.shift() as { id: string; chain: string[] };
        // An OU listed together with its ancestor would otherwise be walked twice.
        if (visited.has(parentId)) continue;
        visited.add(parentId);
        let token: string | undefined;
        do {
            const page = await client.send(new ListAccountsForParentCommand({ ParentId: parentId, NextToken: token }));
            for (const account of page.Accounts ?? []) {
                if (account.Id && isActive(account) && !parents.has(account.Id)) parents.set(account.Id, chain);
            }
            token = page.NextToken;
        } while (token);
        do {
            const page = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: token }));
            for (const ou of page.OrganizationalUnits ?? []) if (ou.Id) queue.push({ id: ou.Id, chain: [ou.Id, ...chain] });
            token = page.NextToken;
        } while (token);
    }
    return { accounts: [...parents.keys()].sort(), parents };
}

/**
 * The OUs above each account: those `known` already has (from discoverOrganization), the rest
 * looked up with ListParents, a few at a time.
 */
export async function parentsOfAccounts(
    client: OrganizationsClient,
    accountIds: readonly string[],
    known: ReadonlyMap<string, string[]> = new Map(),
): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    const missing = [...new Set(accountIds)].filter((a) => {
        const chain = known.get(a);
        if (chain) result.set(a, chain);
        return !chain;
    });
    const width = 4;
    for (let i = 0; i < missing.length; i += width) {
        const batch = missing.slice(i, i + width);
        const chains = await Promise.all(batch.map((a) => parentsOf(client, a)));
        batch.forEach((a, j) => result.set(a, chains[j]));
    }
    return result;
}

function isActive(account: { State?: string; Status?: string }): boolean {
    // `State` replaces the deprecated `Status`; emulators and older APIs may fill only one.
    if (account.State !== undefined) return account.State === "ACTIVE";
    return account.Status === undefined || account.Status === AccountStatus.ACTIVE;
}
