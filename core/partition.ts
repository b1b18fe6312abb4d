import { Partition } from "./settings";

/** The ARN partition a Region belongs to. */
export function partitionOf(region: string): Partition {
    if (region.startsWith("us-gov-")) return "aws-us-gov";
    if (region.startsWith("cn-")) return "aws-cn";
    if (region.startsWith("us-isob-")) return "aws-iso-b";
    if (region.startsWith("us-iso-")) return "aws-iso";
    return "aws";
}

/**
 * What differs between partitions: the DNS suffix of service principals and endpoints, and
 * the Region Organizations (a global service) answers from. The isolated partitions keep
 * us-east-1 for Organizations, as the orchestrator has always called it.
 */
const partitionFacts: Record<Partition, { dnsSuffix: string; organizationsRegion: string }> = {
    aws: { dnsSuffix: "amazonaws.com", organizationsRegion: "us-east-1" },
    "aws-us-gov": { dnsSuffix: "amazonaws.com", organizationsRegion: "us-gov-west-1" },
    "aws-cn": { dnsSuffix: "amazonaws.com.cn", organizationsRegion: "cn-northwest-1" },
    "aws-iso": { dnsSuffix: "c2s.ic.gov", organizationsRegion: "us-east-1" },
    "aws-iso-b": { dnsSuffix: "sc2s.sgov.gov", organizationsRegion: "us-east-1" },
};

/** The DNS suffix of service principals and endpoints in a partition. */
export function dnsSuffixOf(partition: Partition): string {
    return partitionFacts[partition].dnsSuffix;
}

/** Where to call Organizations in a partition. */
export function organizationsRegionOf(partition: Partition): string {
    return partitionFacts[partition].organizationsRegion;
}

export function roleArn(partition: Partition, accountId: string, roleName: string): string {
    return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}
