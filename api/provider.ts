/**
 * `session-manager-preferences/provider`: the Session document's dynamic provider, as a stack's
 * state loads it. Installed as a package, every document's state names this entry point (not a
 * file of lib/), so a later release may move its files and still refresh, update and destroy
 * what an earlier one made: keep this export, with this name and these methods.
 */

export { sessionDocumentProvider } from "../providers/sessionDocumentProvider";
export { stackSetOverridesProvider } from "../providers/stackSetOverridesProvider";
