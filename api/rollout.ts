/**
 * `session-manager-preferences/rollout`: the organization rollout of `npm run org`, for scripts
 * of your own: one stack per account and Region through the Automation API, with its progress
 * and reports (docs/organization-rollout.md).
 */

export { runRollout } from "../orchestrator/run";
export type { RolloutOptions } from "../orchestrator/run";
export { commands, exitCodeFor, exitCodes } from "../orchestrator/result";
export type { Command, Outcome, RolloutReport, RunProblem, TargetResult } from "../orchestrator/result";
export { defaultDiscoveredRoleName, deriveTargets, discoverAccounts, organizationsRegion, shardOf, stackNameFor } from "../orchestrator/targets";
export type { DeriveOptions, OrgTarget, Shard } from "../orchestrator/targets";
export { mergeReports, parseJsonReport } from "../orchestrator/merge";
export { loadOrgConfig, OrgConfigError, parseOrgConfig, stackConfigFor } from "../orchestrator/orgConfig";
export type { OrgConfig } from "../orchestrator/orgConfig";
export { Progress, silentProgress } from "../orchestrator/progress";
export type { ProgressListener, ProgressStream, TargetState } from "../orchestrator/progress";
export { renderJson, renderMarkdown, renderText } from "../orchestrator/report";
export type { DocumentChange, DocumentDrift } from "../orchestrator/drift";
export type { FieldDrift } from "../core/fieldChanges";
