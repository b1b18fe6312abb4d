/**
 * The package's root: the components and their argument and output types, what another Pulumi
 * program imports (`import { SessionManagerPreferences } from "session-manager-preferences"`).
 * The configuration parser and the per-target plan come from `session-manager-preferences/config`,
 * the organization rollout (Automation API) from `session-manager-preferences/rollout`
 * (docs/package.md). Built by `npm run build` into lib/, with type declarations.
 */

export { SessionManagerPreferences, InvalidArguments } from "../components/preferences";
export type {
    DocumentPreferencesArgs,
    InstancePolicyArgs,
    LogGroupArgs,
    LogsKeyArgs,
    SessionDataKeyArgs,
    SessionManagerPreferencesArgs,
} from "../components/preferences";

export { StackSetPreferences } from "../components/stackSetPreferences";
export type { StackSetPreferencesArgs } from "../components/stackSetPreferences";

export { SessionDocument } from "../providers/sessionDocument";
export type { SessionDocumentArgs } from "../providers/sessionDocument";

export { PartConflictError } from "../core/parts";
export type { OptionalPart, Part } from "../core/parts";
export type { SessionContentInputs, SessionDocumentContent } from "../core/document";
export type { DocumentPreferences, OnDelete, Settings } from "../core/settings";
