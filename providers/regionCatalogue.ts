/**
 * The Region names the AWS SDK knows, from its own partition data (`partition()` of
 * @aws-sdk/core describes a Region it knows and only guesses the partition of one it does
 * not). The SDK does not export the list itself, so it is read off every name of the
 * shapes Regions have: <area>-<direction>-<n>.
 */
import { partition } from "@aws-sdk/core/client";

const areas = ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx", "cn", "us-gov", "us-iso", "us-isob", "us-isof", "eu-isoe"];
const directions = ["east", "west", "north", "south", "central", "northeast", "southeast", "northwest", "southwest"];

let catalogue: readonly string[] | undefined;

export function knownRegions(): readonly string[] {
    catalogue ??= areas.flatMap((area) =>
        directions.flatMap((direction) =>
            Array.from({ length: 9 }, (_, i) => `${area}-${direction}-${i + 1}`).filter(
                (name) => (partition(name) as { description?: string }).description !== undefined,
            ),
        ),
    );
    return catalogue;
}
