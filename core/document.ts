import { archiveBucketName } from "./landingZone";
import { DocumentPreferences, Preferences } from "./settings";

/** The twelve inputs of a Session Manager preferences (Session type) document: its `inputs` block. */
export interface SessionContentInputs {
    s3BucketName: string;
    s3KeyPrefix: string;
    s3EncryptionEnabled: boolean;
    cloudWatchLogGroupName: string;
    cloudWatchEncryptionEnabled: boolean;
    cloudWatchStreamingEnabled: boolean;
    kmsKeyId: string;
    runAsEnabled: boolean;
    runAsDefaultUser: string;
    /** Minutes, as a string: that is how Session Manager stores it. */
    idleSessionTimeout: string;
    maxSessionDuration: string;
    shellProfile: { windows: string; linux: string };
}

export interface SessionDocumentContent {
    schemaVersion: "1.0";
    description: string;
    sessionType: "Standard_Stream";
    inputs: SessionContentInputs;
}

export const documentDescription = "Document to hold regional settings for Session Manager";

/**
 * The Session document resource's settings besides where it is and what it holds: a change
 * to one is an update (the provider's diff) and shows in a preview's field-level changes
 * (orchestrator/drift.ts).
 */
export const documentResourceSettings = ["roleArn", "readOnlyRoleArn", "onDelete", "keepDocumentVersions", "owner", "takeOver", "tags"] as const;

/** What the document's content depends on besides the preferences. */
export interface DocumentContext {
    accountId: string;
    region: string;
    /** Session-data key ID or ARN; ignored when session data encryption is off. */
    kmsKeyId: string;
}

/** Where the document's key and log group come from once the parts are made: "" for none. */
export interface DocumentParts {
    accountId: string;
    region: string;
    /** The session-data key ID or ARN; "" when session data is not encrypted. */
    kmsKeyId: string;
    /** The session log group; "" when there is no CloudWatch logging. */
    logGroupName: string;
}

/**
 * The Session document content for validated settings in one account and Region: the
 * settings decide whether the key and the log group are named (see documentContent).
 */
export function desiredDocument(prefs: Preferences, ctx: DocumentContext): SessionDocumentContent {
    return documentContent(prefs, {
        accountId: ctx.accountId,
        region: ctx.region,
        kmsKeyId: prefs.sessionDataEncryption ? ctx.kmsKeyId : "",
        logGroupName: prefs.cwLogging ? prefs.cwLogGroupName : "",
    });
}

/**
 * The Session document content from the document preferences and the parts it points at;
 * the one place preferences become document inputs (docs/architecture.md). The S3 prefix
 * follows the sample: `<prefix>/<account>/<region>`, so one bucket can serve the whole
 * organization.
 */
export function documentContent(prefs: DocumentPreferences, parts: DocumentParts): SessionDocumentContent {
    return {
        schemaVersion: "1.0",
        description: documentDescription,
        sessionType: "Standard_Stream",
        inputs: {
            // A log archive's bucket per Region: its name says {region} (core/landingZone.ts).
            s3BucketName: prefs.s3Logging ? archiveBucketName(prefs.s3BucketName, parts.region) : "",
            s3KeyPrefix: prefs.s3Logging ? s3KeyPrefixFor(prefs.s3KeyPrefix, parts.accountId, parts.region) : "",
            s3EncryptionEnabled: prefs.s3EncryptionEnabled,
            // An empty name is how the document says "no CloudWatch logging".
            cloudWatchLogGroupName: parts.logGroupName,
            cloudWatchEncryptionEnabled: prefs.cwEncryptionEnabled,
            cloudWatchStreamingEnabled: prefs.cwStreamingEnabled,
            kmsKeyId: parts.kmsKeyId,
            runAsEnabled: prefs.runAsEnabled,
            runAsDefaultUser: prefs.runAsEnabled ? prefs.runAsDefaultUser : "",
            idleSessionTimeout: String(prefs.idleSessionTimeout),
            maxSessionDuration: String(prefs.maxSessionDuration),
            shellProfile: { windows: prefs.winShellProfile, linux: prefs.linuxShellProfile },
        },
    };
}

export function s3KeyPrefixFor(prefix: string, accountId: string, region: string): string {
    const trimmed = prefix.replace(/^\/+|\/+$/g, "");
    return trimmed ? `${trimmed}/${accountId}/${region}` : `${accountId}/${region}`;
}

/**
 * The content Session Manager uses when an account has never saved preferences: what
 * `onDelete: reset` writes back (the CloudFormation sample's delete behaviour).
 */
export function awsDefaultDocument(): SessionDocumentContent {
    return {
        schemaVersion: "1.0",
        description: documentDescription,
        sessionType: "Standard_Stream",
        inputs: {
            s3BucketName: "",
            s3KeyPrefix: "",
            s3EncryptionEnabled: true,
            cloudWatchLogGroupName: "",
            cloudWatchEncryptionEnabled: true,
            cloudWatchStreamingEnabled: true,
            kmsKeyId: "",
            runAsEnabled: false,
            runAsDefaultUser: "",
            idleSessionTimeout: "20",
            maxSessionDuration: "",
            shellProfile: { windows: "", linux: "" },
        },
    };
}

/** The document size limit SSM enforces on content, in bytes. */
export const maxDocumentContentBytes = 64 * 1024;
