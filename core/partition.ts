import { Partition } from "./settings";

/** The ARN partition a Region belongs to. */
export function partitionOf(region: string): Partition {
    if (region.startsWith("us-gov-")) return "aws-us-gov";
    if (region.startsWith("cn-")) return "aws-cn";
    if (region.startsWith("us-isob-")) return "aws-iso-b";
    if (region.startsWith("us-iso-")) return "aws-iso";
    return "aws";
}

/** The DNS suffix of service principals and endpoints in a partition. */
export function dnsSuffixOf(partition: Partition): string {
    switch (partition) {
        case "aws-cn":
            return "amazonaws.com.cn";
        case "aws-iso":
            return "c2s.ic.gov";
        case "aws-iso-b":
            return "sc2s.sgov.gov";
        default:
            return "amazonaws.com";
    }
}

/**
 * Organizations is a global service answered from one Region per partition. The isolated
 * partitions are not told apart here: the orchestrator has always called us-east-1 for them.
 */
export function organizationsRegionOf(partition: Partition): string {
    switch (partition) {
        case "aws-us-gov":
            return "us-gov-west-1";
        case "aws-cn":
            return "cn-northwest-1";
        default:
            return "us-east-1";
    }
}

export function roleArn(partition: Partition, accountId: string, roleName: string): string {
    return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}
