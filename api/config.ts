/**
 * `session-manager-preferences/config`: the `sessionManager:*` configuration of this program,
 * for a program that wants the same keys, defaults and messages: the parser, the settings and
 * their defaults, the per-target plan, and the program's own body (`deployStack`).
 */

export { ConfigError, ConfigErrors, parseSettings, parseStackSettings, preferencesFor } from "../core/config";
export type { TargetPreferences } from "../core/config";
export { describeSources, overridableKeys, resolveOverrides } from "../core/overrides";
export type { Placement, Sources } from "../core/overrides";
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
    Override,
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
