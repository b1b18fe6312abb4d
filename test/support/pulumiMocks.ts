import * as pulumi from "@pulumi/pulumi";

/** One resource the program registered, as the engine would have received it. */
export interface Registered {
    type: string;
    name: string;
    // Inputs are whatever the resource sent; tests read the fields they care about.
    inputs: Record<string, unknown>;
    /** Provider reference (`<urn>::<id>`) when one was given or inherited. */
    provider?: string;
}

import { sessionDocumentType } from "../../core/names";

/** The Session document's resource type, as the engine receives it. */
export const dynamicResourceType = sessionDocumentType;
export const awsProviderType = "pulumi:providers:aws";

/**
 * Records every registration and answers with the outputs AWS would compute (key IDs,
 * ARNs), so that components wiring one resource's output into another can be checked.
 */
export class RecordingMocks implements pulumi.runtime.Mocks {
    public readonly resources: Registered[] = [];

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const inputs = args.inputs as Record<string, unknown>;
        this.resources.push({ type: args.type, name: args.name, inputs, provider: args.provider });
        const id = `${args.name}-id`;
        return { id, state: { ...inputs, ...computedOutputs(args.type, args.name, inputs) } };
    }

    /** The calls made, by token. */
    public readonly calls: string[] = [];

    /**
     * Answers the two invokes the component makes through its aws provider, as that provider
     * would: the account it may act in (its allowedAccountIds) and its Region. The default
     * provider acts as `ambient`. Any other invoke is a mistake.
     */
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        this.calls.push(args.token);
        const provider = this.resources.find((r) => r.type === awsProviderType && args.provider?.startsWith(`${urnOf(r)}::`));
        const account = provider?.inputs.allowedAccountIds ? (JSON.parse(provider.inputs.allowedAccountIds as string) as string[])[0] : this.ambient.accountId;
        const region = (provider?.inputs.region as string | undefined) ?? this.ambient.region;
        if (args.token === "aws:index/getCallerIdentity:getCallerIdentity")
            return { accountId: account, arn: `arn:aws:sts::${account}:assumed-role/mock/session`, userId: "AROAMOCK:session", id: account };
        if (args.token === "aws:index/getRegion:getRegion")
            return { region, name: region, id: region, description: region, endpoint: `ec2.${region}.amazonaws.com` };
        throw new Error(`unexpected provider function call ${args.token}`);
    }

    /** Who the default aws provider acts as. */
    public ambient = { accountId: "123456789012", region: "us-east-1" };

    ofType(type: string): Registered[] {
        return this.resources.filter((r) => r.type === type);
    }

    named(name: string): Registered {
        const found = this.resources.filter((r) => r.name === name);
        if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}: ${this.resources.map((r) => r.name).join(", ")}`);
        return found[0];
    }

    /** Resources from the @pulumi/aws package, providers included. */
    aws(): Registered[] {
        return this.resources.filter((r) => r.type.startsWith("aws:") || r.type === awsProviderType);
    }

    types(): string[] {
        return this.resources.map((r) => r.type).sort();
    }
}

function computedOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "aws:kms/key:Key": {
            const keyId = `key-${name}`;
            return { keyId, arn: `arn:aws:kms:mock-region:000000000000:key/${keyId}` };
        }
        case "aws:iam/policy:Policy":
            return { arn: `arn:aws:iam::000000000000:policy${inputs.path ?? "/"}${inputs.name ?? name}` };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { arn: `arn:aws:logs:mock-region:000000000000:log-group:${inputs.name}` };
        case dynamicResourceType:
            return { documentVersion: "1" };
        default:
            return {};
    }
}

/** Starts a fresh mocked deployment: an update by default (every output known), or a preview. */
export async function useMocks(options: { dryRun?: boolean } = {}): Promise<RecordingMocks> {
    const mocks = new RecordingMocks();
    await pulumi.runtime.setMocks(mocks, "session-manager-preferences", "test", options.dryRun ?? false);
    return mocks;
}

/** Waits until every registration the program started has reached the mocks. */
export async function settled(): Promise<void> {
    // waitForRPCs is exported by the runtime but left out of its type declarations.
    const runtime = pulumi.runtime as unknown as { waitForRPCs(): Promise<void> };
    await runtime.waitForRPCs();
}

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** The provider a resource was registered with, by the provider's resource name. */
export function providerName(resource: Registered): string | undefined {
    if (!resource.provider) return undefined;
    const urn = resource.provider.split("::").slice(0, -1).join("::");
    return urn.split("::").pop();
}

/** The URN the mocks give a registered resource (stack "test", project session-manager-preferences; no parent types). */
function urnOf(r: Registered): string {
    return `urn:pulumi:test::session-manager-preferences::${r.type}::${r.name}`;
}
