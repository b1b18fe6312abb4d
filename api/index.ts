/**
 * The package entry point: what `import ... from "session-manager-preferences"` gives another
 * Pulumi program or an Automation API script. Built by `npm run build` (tsconfig.package.json)
 * into lib/, with type declarations; the repository's own program (index.ts) does not use it.
 *
 * - SessionManagerPreferences: one account and Region's preferences (document, keys, log
 *   group, instance policy), the component this repository's program deploys per target.
 * - SessionDocument: the Session document alone, as a dynamic resource.
 * - parseSettings and the settings types: the `sessionManager:*` configuration, validated.
 * - planTargets: settings to per-target component arguments, as the program does it.
 * - runRollout and its helpers: one stack per account and Region through the Automation API.
 */

// --- Components and resources -----------------------------------------------------------

export { readStackSettings } from "../components/stackSettings";
export { SessionManagerPreferences, deployPlannedTarget, logsKeyAlias, sessionDataKeyAlias, sessionDataKeyParameterName } from "../components/preferences";
export type {
    DocumentPreferencesArgs,
    InstancePolicyArgs,
    LogGroupArgs,
    LogsKeyArgs,
    SessionDataKeyArgs,
    SessionManagerPreferencesArgs,
} from "../components/preferences";

export { SessionDocument, defaultKeepDocumentVersions, defaultOnDelete } from "../providers/sessionDocument";
export type { SessionDocumentArgs, SessionDocumentState } from "../providers/sessionDocument";
export { ownerTagKey } from "../providers/documentOperations";
export type { DocumentFormat } from "../providers/documentOperations";

export { awsDefaultDocument, desiredDocument, documentContent, maxDocumentContentBytes } from "../core/document";
export type { DocumentContext, DocumentParts, SessionContentInputs, SessionDocumentContent } from "../core/document";

export { PartConflictError } from "../core/parts";
export type { OptionalPart, Part } from "../core/parts";

// --- Settings: the sessionManager:* configuration ---------------------------------------

export { ConfigError, ConfigErrors, knownKeys, parseSettings } from "../core/config";
export {
    defaultDocumentName,
    defaultOrganizationSettings,
    defaultPreferences,
    deploymentValues,
    onDeleteValues,
    stackSetCallAsValues,
    targetRegions,
} from "../core/settings";
export type { Deployment, OnDelete, OrganizationSettings, Partition, Preferences, Settings, StackSetCallAs, Target, TargetRegion } from "../core/settings";
export { configNamespace, currentRegion, namespaceValues } from "../core/stackConfig";

export { documentPreferencesOf, planTarget, planTargets, targetName, targetOutputKey } from "../core/plan";
export type { DocumentPreferences, InstancePolicyPart, LogGroupPart, LogsKeyPart, SessionDataKeyPart, TargetPlan } from "../core/plan";

// --- Rollout: one stack per account and Region (Automation API) --------------------------

export { runRollout } from "../orchestrator/run";
export type { RolloutOptions } from "../orchestrator/run";
export { commands, exitCodeFor, exitCodes } from "../orchestrator/result";
export type { Command, Outcome, RolloutReport, TargetResult } from "../orchestrator/result";
export { defaultDiscoveredRoleName, deriveTargets, discoverAccounts, organizationsRegion, stackNameFor } from "../orchestrator/targets";
export type { DeriveOptions, OrgTarget } from "../orchestrator/targets";
export { loadOrgConfig, OrgConfigError, parseOrgConfig, stackConfigFor } from "../orchestrator/orgConfig";
export type { OrgConfig } from "../orchestrator/orgConfig";
export { Progress, silentProgress } from "../orchestrator/progress";
export type { ProgressListener, ProgressStream, TargetState } from "../orchestrator/progress";
export { renderJson, renderMarkdown, renderText } from "../orchestrator/report";
export type { DocumentDrift, FieldDrift } from "../orchestrator/drift";
