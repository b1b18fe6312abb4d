// What a recording proxy saw of UpdateStackInstances (the StackSet tests: moto ignores its DeploymentTargets).
/** The parameters of one UpdateStackInstances call, from its query-protocol body. */
export interface RecordedUpdate {
    accounts: string[];
    regions: string[];
    organizationalUnitIds: string[];
    accountFilterType?: string;
    overrides: Record<string, string>;
}

export function recordedUpdate(body: string): RecordedUpdate {
    const form = new URLSearchParams(body);
    const list = (prefix: string) =>
        [...form.entries()]
            .filter(([k]) => new RegExp(`^${prefix}\\.member\\.\\d+$`).test(k))
            .sort(([a], [b]) => Number(a.split(".").pop()) - Number(b.split(".").pop()))
            .map(([, v]) => v);
    const overrides: Record<string, string> = {};
    for (const [k, v] of form.entries()) {
        const m = /^ParameterOverrides\.member\.(\d+)\.ParameterKey$/.exec(k);
        if (m) overrides[v] = form.get(`ParameterOverrides.member.${m[1]}.ParameterValue`) ?? "";
    }
    return {
        accounts: list("DeploymentTargets.Accounts"),
        regions: list("Regions"),
        organizationalUnitIds: list("DeploymentTargets.OrganizationalUnitIds"),
        accountFilterType: form.get("DeploymentTargets.AccountFilterType") ?? undefined,
        overrides,
    };
}
