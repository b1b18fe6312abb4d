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

export function roleArn(partition: Partition, accountId: string, roleName: string): string {
    return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}
