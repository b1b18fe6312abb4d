/**
 * The Session document as a Pulumi resource: one SSM Session document in one account and
 * Region, adopted (what was there is recorded), kept equal to the desired content, and
 * handed back per `onDelete` (the state machine: docs/architecture.md). The provider is in
 * providers/sessionDocumentProvider.ts; providers/engineProvider.ts says in what form the
 * engine gets it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { SessionDocumentContent } from "../core/document";
import { dynamicProviderKey, genericDynamicResourceType, sessionDocumentType } from "../core/names";
import { defaultDocumentName, defaultPreferences, OnDelete } from "../core/settings";
import type { DocumentFormat } from "./documentOperations";
import { engineProviderText } from "./engineProvider";
import { defaultKeepDocumentVersions, defaultOnDelete } from "./sessionDocumentProvider";

export * from "./sessionDocumentProvider";

export interface SessionDocumentArgs {
    /** 12-digit ID of the account that holds the document; the credentials used must be for it. */
    readonly accountId: pulumi.Input<string>;
    /** Region of the document, e.g. eu-west-1. */
    readonly region: pulumi.Input<string>;
    /** Role to assume to write (create, update, delete); none means the ambient credentials. */
    readonly roleArn?: pulumi.Input<string>;
    /** Role to assume to read (refresh, preview, drift check), in the same account; default roleArn. */
    readonly readOnlyRoleArn?: pulumi.Input<string>;
    /** SSM document name; default SSM-SessionManagerRunShell, the one Session Manager reads. */
    readonly documentName?: pulumi.Input<string>;
    /** The desired document content. */
    readonly content: pulumi.Input<SessionDocumentContent>;
    /** What delete does: restore (default) the adopted content, reset to AWS defaults, or retain. */
    readonly onDelete?: pulumi.Input<OnDelete>;
    /** Versions to keep, counting the default and the newest; 0 keeps all; default 100. */
    readonly keepDocumentVersions?: pulumi.Input<number>;
    /** Written to the document's owner tag; default `<project>/<stack>`. */
    readonly owner?: pulumi.Input<string>;
    /** Manage the document even when another owner's tag is on it; default false. */
    readonly takeOver?: pulumi.Input<boolean>;
    /** Tags of your own on the document, beside the management tags; default none. A key already on the document with another value is refused. */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * One SSM Session document (Session Manager's preferences) in one account and Region.
 * Creating it adopts whatever document is there and records it; deleting it follows
 * `onDelete`.
 */
export class SessionDocument extends pulumi.CustomResource {
    declare public readonly accountId: pulumi.Output<string>;
    declare public readonly region: pulumi.Output<string>;
    declare public readonly documentName: pulumi.Output<string>;
    /** The default version's content; after `pulumi refresh`, what is live. */
    declare public readonly content: pulumi.Output<SessionDocumentContent>;
    /** The default version after the last operation. */
    declare public readonly documentVersion: pulumi.Output<string>;
    /** The content found at adoption, exactly as stored; null when there was no document. */
    declare public readonly adoptedContent: pulumi.Output<string | null>;
    /** JSON or YAML: the format of `adoptedContent`; null when there was no document. */
    declare public readonly adoptedFormat: pulumi.Output<DocumentFormat | null>;

    constructor(name: string, args: SessionDocumentArgs, opts?: pulumi.CustomResourceOptions) {
        const props = {
            accountId: args.accountId,
            region: args.region,
            roleArn: args.roleArn,
            readOnlyRoleArn: args.readOnlyRoleArn,
            documentName: args.documentName ?? defaultDocumentName,
            content: args.content,
            onDelete: args.onDelete ?? defaultOnDelete,
            keepDocumentVersions: args.keepDocumentVersions ?? defaultKeepDocumentVersions,
            owner: args.owner ?? `${pulumi.getProject()}/${pulumi.getStack()}`,
            takeOver: args.takeOver ?? defaultPreferences.takeOver,
            tags: args.tags,
            documentVersion: undefined,
            adoptedContent: undefined,
            adoptedFormat: undefined,
            adoptedVersion: undefined,
        };
        // The generic type of earlier releases, as an alias: their stacks' documents move to this type without a replacement.
        const aliases = [...(opts?.aliases ?? []), { type: genericDynamicResourceType }];
        // A dynamic resource (the pulumi-nodejs package's type) with the provider text written in
        // providers/engineProvider.ts, rather than pulumi.dynamic.Resource's serialized closure.
        super(sessionDocumentType, name, { ...props, [dynamicProviderKey]: engineProviderText() }, { ...opts, aliases });
    }
}
