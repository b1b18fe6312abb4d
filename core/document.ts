import { Preferences } from "./settings";

/** The twelve inputs of a Session Manager preferences (Session type) document. */
export interface SessionDocumentInputs {
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
    inputs: SessionDocumentInputs;
}

export const documentDescription = "Document to hold regional settings for Session Manager";

/** What the document's content depends on besides the preferences. */
export interface DocumentContext {
    accountId: string;
    region: string;
    /** Session-data key ID or ARN; empty when session data encryption is off. */
    kmsKeyId: string;
}

/**
 * The Session document content for one account and Region. The S3 prefix follows the
 * sample: `<prefix>/<account>/<region>`, so one bucket can serve the whole organization.
 */
export function desiredDocument(prefs: Preferences, ctx: DocumentContext): SessionDocumentContent {
    return {
        schemaVersion: "1.0",
        description: documentDescription,
        sessionType: "Standard_Stream",
        inputs: {
            s3BucketName: prefs.s3Logging ? prefs.s3BucketName : "",
            s3KeyPrefix: prefs.s3Logging ? s3KeyPrefixFor(prefs.s3KeyPrefix, ctx.accountId, ctx.region) : "",
            s3EncryptionEnabled: prefs.s3EncryptionEnabled,
            // An empty name is how the document says "no CloudWatch logging".
            cloudWatchLogGroupName: prefs.cwLogging ? prefs.cwLogGroupName : "",
            cloudWatchEncryptionEnabled: prefs.cwEncryptionEnabled,
            cloudWatchStreamingEnabled: prefs.cwStreamingEnabled,
            kmsKeyId: prefs.sessionDataEncryption ? ctx.kmsKeyId : "",
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
