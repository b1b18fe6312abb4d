// The Pulumi program: this stack's settings, validated, deployed to every target (direct) or
// as a StackSet (components/program.ts). The layers and the path of a setting to SSM:
// docs/architecture.md.
import { deployStack } from "./components/program";
import { readStackSettings } from "./components/stackSettings";

// Validated as the program loads, before any resource: a bad configuration then fails the
// run at once. Thrown from the async entry point instead, the same error took the engine
// about 25 s longer to report (measured with this repository's CLI build).
const settings = readStackSettings();

export = () => deployStack(settings);
