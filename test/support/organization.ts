// An AWS organization in moto for the tests that select by OU: OUs and ACTIVE accounts where the
// test puts them, their IDs by the names it gives.
import {
    CreateAccountCommand,
    CreateOrganizationalUnitCommand,
    CreateOrganizationCommand,
    DescribeCreateAccountStatusCommand,
    ListRootsCommand,
    MoveAccountCommand,
    OrganizationsClient,
} from "@aws-sdk/client-organizations";

export interface OrganizationShape {
    /** `[name, parent]`, in order: a parent is `root` or an OU named before. */
    ous?: readonly (readonly [string, string])[];
    /** `[name, parent]`: each account is created, then moved under its parent. */
    accounts?: readonly (readonly [string, string])[];
}

/** A moto account, created and moved under `parentId`: its ID. */
export async function createAccount(client: OrganizationsClient, name: string, parentId: string, rootId: string): Promise<string> {
    const created = await client.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
    const status = await client.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: created.CreateAccountStatus?.Id }));
    const accountId = status.CreateAccountStatus?.AccountId as string;
    if (parentId !== rootId) await client.send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: rootId, DestinationParentId: parentId }));
    return accountId;
}

/** Creates the organization (the caller's account its management account) and the shape: every ID by name, `root` included. */
export async function createOrganization(client: OrganizationsClient, shape: OrganizationShape): Promise<Record<string, string>> {
    await client.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
    const ids: Record<string, string> = { root: (await client.send(new ListRootsCommand({}))).Roots?.[0].Id as string };
    for (const [name, parent] of shape.ous ?? []) {
        ids[name] = (await client.send(new CreateOrganizationalUnitCommand({ ParentId: ids[parent], Name: name }))).OrganizationalUnit?.Id as string;
    }
    for (const [name, parent] of shape.accounts ?? []) ids[name] = await createAccount(client, name, ids[parent], ids.root);
    return ids;
}
