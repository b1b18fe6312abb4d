/**
 * `session-manager-preferences/config`: the `sessionManager:*` configuration of this program,
 * for a program that wants the same keys, defaults and messages: the parser, the settings and
 * their defaults, the per-target plan, and the program's own body (`deployStack`).
 */

export { ConfigError, ConfigErrors, parseSettings, parseStackSettings } from "../core/config";
export { InvalidValue } from "../core/fieldRules";
export { readStackSettings } from "../components/stackSettings";
export { deployStack } from "../components/program";
export { deployPlannedTarget } from "../components/preferences";
export { deployStackSet } from "../components/stackSetPreferences";
export {
    defaultDocumentName,
    defaultOrganizationSettings,
    defaultPreferences,
    deploymentValues,
    onDeleteValues,
    stackGranularityValues,
    stackSetCallAsValues,
} from "../core/settings";
export type {
    Deployment,
    OrganizationSettings,
    Partition,
    Preferences,
    Settings,
    StackGranularity,
    StackSetCallAs,
    Target,
    TargetRegion,
} from "../core/settings";
export { configNamespace } from "../core/stackConfig";
export { planTargets } from "../core/plan";
export type { TargetPlan } from "../core/plan";
