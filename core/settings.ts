/**
 * The validated preferences model. Everything in core/ is pure: no Pulumi, no AWS SDK.
 * Config parsing (core/config.ts) turns raw stack configuration into these types; the
 * document, policies and template are computed from them. Defaults are applied once, by
 * the parser; see docs/architecture.md for where each rule lives.
 */

export type OnDelete = "restore" | "reset" | "retain";
export const onDeleteValues: readonly OnDelete[] = ["restore", "reset", "retain"];

export type Deployment = "direct" | "stackset";
export const deploymentValues: readonly Deployment[] = ["direct", "stackset"];

/**
 * What one stack of `npm run org` holds: every Region of one account (`<prefix>.<account>`),
 * or one account and Region (`<prefix>.<account>.<region>`).
 */
export type StackGranularity = "account" | "accountRegion";
export const stackGranularityValues: readonly StackGranularity[] = ["account", "accountRegion"];

export type StackSetCallAs = "SELF" | "DELEGATED_ADMIN";
export const stackSetCallAsValues: readonly StackSetCallAs[] = ["SELF", "DELEGATED_ADMIN"];

export type Partition = "aws" | "aws-us-gov" | "aws-cn" | "aws-iso" | "aws-iso-b";

/** One account and the Regions in it that get the preferences. */
export interface Target {
    /** 12-digit AWS account ID. */
    accountId: string;
    /** Region names, e.g. eu-west-1. */
    regions: string[];
    /** Role to assume in the account; none means the ambient credentials are used. */
    roleName?: string;
    /**
     * Role that read-only runs (preview, drift, refresh) and every read of the document
     * assume in the account; none means they use `roleName` (or the ambient credentials).
     */
    readOnlyRoleName?: string;
}

/** One account and Region: the unit a document, a provider or a stack is made for. */
export interface TargetRegion {
    accountId: string;
    region: string;
    /** The write role: what creates, updates and releases. */
    roleName?: string;
    /** The read-only role: what previews, drift checks, refreshes and reads. */
    readOnlyRoleName?: string;
}

/**
 * A central bucket, in a log-archive account, that every target's session logs go to (each
 * account under `<s3KeyPrefix>/<account>/<region>`): core/landingZone.ts builds its policies.
 */
export interface LogArchive {
    /** The log-archive account. */
    accountId: string;
    /** The organization (o-...) whose principals may write: the bucket and key policies' `aws:PrincipalOrgID`. */
    organizationId: string;
    /** Where the bucket is: one Region, or with `{region}` in bucketName, one bucket per listed Region. */
    regions: string[];
    /** The bucket; `{region}` in it makes one bucket per Region (an instance without internet reaches S3 in its own Region only). */
    bucketName: string;
    /** The role to assume in the log-archive account to create the bucket; none means the ambient credentials. */
    roleName?: string;
    /** The role previews assume there instead (they never hold a write credential); none means roleName. */
    readOnlyRoleName?: string;
    /** Create the bucket, its key and their policies (true), or point at existing ones (false). */
    create: boolean;
    /** With create false: the existing bucket's KMS key (may say {region}); none means the bucket is not KMS-encrypted. */
    kmsKeyArn?: string;
    /** Days objects are kept (current and earlier versions); 0 keeps them forever. */
    retentionInDays: number;
}

/** The managed policy, in each target account, for the people who start sessions. */
export interface OperatorPolicy {
    /** IAM roles in each target account to attach it to. */
    roleNames: string[];
    /** Start sessions only on instances with this tag; none means every instance of the account in the target Regions. */
    instanceTag?: { key: string; value: string };
}

/** A service control policy that keeps everyone but this program's roles off the Session document. */
export interface Guardrail {
    /** OU or root IDs it is attached to; empty means organizationalUnitIds. */
    targetIds: string[];
    /** The management account or delegated administrator it is made in; none means the account the stack runs in. */
    accountId?: string;
    /** The role to assume there; none means the ambient credentials. */
    roleName?: string;
    /** The role previews assume there instead; none means roleName. */
    readOnlyRoleName?: string;
    /** Roles excepted besides every target's roleName (and, in StackSet mode, the custom resource's role). */
    exceptRoleNames: string[];
}

/** Where the log archive and the guardrail are made (see the README's configuration table). */
export type SharedResources = "here" | "elsewhere" | "only";
export const sharedResourcesValues: readonly SharedResources[] = ["here", "elsewhere", "only"];

/** Session Manager preferences, with every default applied. Keys are the config keys of the README's configuration table. */
export interface Preferences {
    s3Logging: boolean;
    s3BucketName: string;
    s3KeyPrefix: string;
    s3EncryptionEnabled: boolean;
    /** Session logs to CloudWatch Logs; false for S3-only or no session logging. */
    cwLogging: boolean;
    createCWLogGroup: boolean;
    cwLogGroupName: string;
    cwEncryptionEnabled: boolean;
    cwStreamingEnabled: boolean;
    sessionDataEncryption: boolean;
    runAsEnabled: boolean;
    runAsDefaultUser: string;
    /** Minutes, 1 to 60. */
    idleSessionTimeout: number;
    /** Minutes, 1 to 1440. */
    maxSessionDuration: number;
    winShellProfile: string;
    linuxShellProfile: string;
    /** An existing KMS key ARN for session data (may hold {region} and {accountId}); when set, no key is created. */
    sessionDataKeyArn?: string;
    kmsKeyRotation: boolean;
    logRetentionInDays: number;
    instancePolicy: boolean;
    instanceRoleNames: string[];
    onDelete: OnDelete;
    /** 0 keeps every version. */
    keepDocumentVersions: number;
    deployment: Deployment;
    /** Take over a document another stack manages (its owner tag) instead of failing. */
    takeOver: boolean;
    /** Session logs to a central bucket in a log-archive account (instead of s3BucketName). */
    logArchive?: LogArchive;
    /** A managed policy for the people who start sessions, in every target account. */
    operatorPolicy?: OperatorPolicy;
}

/**
 * Document preferences that differ for some targets: those of the listed accounts, of accounts
 * anywhere below the listed OUs, in the listed Regions (every selector given must match).
 * core/overrides.ts applies them.
 */
export interface Override {
    /** Names the override in previews, reports and errors. */
    name: string;
    /** When two overrides set one key for one target, the higher priority wins; equal priorities are an error. */
    priority: number;
    /** Empty: any account. */
    accountIds: string[];
    /** OU or root IDs, child OUs included; empty: any OU. */
    organizationalUnitIds: string[];
    /** Empty: any Region. */
    regions: string[];
    /** The preferences it sets. */
    set: Partial<DocumentPreferences>;
}

/** Where the preferences go in `stackset` mode and in organization rollouts. */
export interface OrganizationSettings {
    /** OU (or root) IDs: StackSet deployment targets, and accounts discovered by the orchestrator. */
    organizationalUnitIds: string[];
    /** Regions for StackSet instances and for discovered accounts; empty means aws:region. */
    regions: string[];
    excludeAccounts: string[];
    excludeRegions: string[];
    /** `npm run org`: one stack per account (fanning out over its Regions), or per account and Region. */
    stackGranularity: StackGranularity;
    stackSetName: string;
    stackSetCallAs: StackSetCallAs;
    /** Percent of accounts per Region deployed at once, 1 to 100. */
    stackSetMaxConcurrentPercentage: number;
    /** Percent of accounts per Region that may fail before the operation stops, 0 to 100. */
    stackSetFailureTolerancePercentage: number;
    /** A service control policy against edits of the Session document by anyone but this program. */
    guardrail?: Guardrail;
    /** Whether this stack makes the log archive and the guardrail, leaves them to another stack, or makes only them. */
    sharedResources: SharedResources;
    /** Document preferences that differ per account, OU or Region. */
    overrides: Override[];
}

/** Validated stack configuration: the preferences plus where they go. */
export interface Settings extends Preferences, OrganizationSettings {
    /** Empty means "the current account and aws:region", resolved by the program. Each target's readOnlyRoleName is resolved. */
    targets: Target[];
    /**
     * The read-only role of every target that names none of its own, and of accounts
     * discovered under organizationalUnitIds; none means read-only runs use the write role.
     */
    readOnlyRoleName?: string;
}

/** The preferences that only shape the document's content; the rest decide which parts exist. */
export const documentPreferenceKeys = [
    "s3Logging",
    "s3BucketName",
    "s3KeyPrefix",
    "s3EncryptionEnabled",
    "cwEncryptionEnabled",
    "cwStreamingEnabled",
    "runAsEnabled",
    "runAsDefaultUser",
    "idleSessionTimeout",
    "maxSessionDuration",
    "winShellProfile",
    "linuxShellProfile",
] as const satisfies readonly (keyof Preferences)[];

export type DocumentPreferences = Pick<Preferences, (typeof documentPreferenceKeys)[number]>;

/** The document preferences of complete preferences. */
export function documentPreferencesOf(prefs: DocumentPreferences): DocumentPreferences {
    return Object.fromEntries(documentPreferenceKeys.map((key) => [key, prefs[key]])) as unknown as DocumentPreferences;
}

export const defaultPreferences: Preferences = {
    s3Logging: false,
    s3BucketName: "",
    s3KeyPrefix: "sessionmanager",
    s3EncryptionEnabled: true,
    cwLogging: true,
    createCWLogGroup: true,
    cwLogGroupName: "ssm-sessionmanager-logs",
    cwEncryptionEnabled: true,
    cwStreamingEnabled: false,
    sessionDataEncryption: true,
    runAsEnabled: false,
    runAsDefaultUser: "",
    idleSessionTimeout: 20,
    maxSessionDuration: 60,
    winShellProfile: "",
    linuxShellProfile: "",
    sessionDataKeyArn: undefined,
    kmsKeyRotation: true,
    logRetentionInDays: 90,
    instancePolicy: true,
    instanceRoleNames: [],
    onDelete: "restore",
    keepDocumentVersions: 100,
    deployment: "direct",
    takeOver: false,
    logArchive: undefined,
    operatorPolicy: undefined,
};

export const defaultOrganizationSettings: OrganizationSettings = {
    organizationalUnitIds: [],
    regions: [],
    excludeAccounts: [],
    excludeRegions: [],
    stackGranularity: "account",
    stackSetName: "session-manager-preferences",
    stackSetCallAs: "SELF",
    stackSetMaxConcurrentPercentage: 100,
    stackSetFailureTolerancePercentage: 10,
    guardrail: undefined,
    sharedResources: "here",
    overrides: [],
};

export const defaultDocumentName = "SSM-SessionManagerRunShell";

/**
 * Targets less `excludeAccounts` and `excludeRegions`: the one exclusion rule of the direct
 * mode's plan (core/plan.ts) and `npm run org` (orchestrator/targets.ts), so both agree.
 */
export function withoutExcluded<T extends { accountId: string; region: string }>(
    settings: Pick<OrganizationSettings, "excludeAccounts" | "excludeRegions">,
    targets: readonly T[],
): T[] {
    const excludedAccounts = new Set(settings.excludeAccounts);
    const excludedRegions = new Set(settings.excludeRegions);
    return targets.filter((t) => !excludedAccounts.has(t.accountId) && !excludedRegions.has(t.region));
}

/** Flattens targets into one entry per account and Region, in config order. */
export function targetRegions(targets: Target[]): TargetRegion[] {
    return targets.flatMap((t) =>
        t.regions.map((region) => withoutUndefinedRoles({ accountId: t.accountId, region, roleName: t.roleName, readOnlyRoleName: t.readOnlyRoleName })),
    );
}

function withoutUndefinedRoles(t: TargetRegion): TargetRegion {
    if (t.roleName === undefined) delete t.roleName;
    if (t.readOnlyRoleName === undefined) delete t.readOnlyRoleName;
    return t;
}

/** The kinds of AWS access a run needs: reads only (preview, drift, refresh), or writes too. */
export type Access = "read" | "write";

/** The role a target's runs of that kind assume: the read-only role for reads when there is one, else the write role. */
export function roleNameFor(target: Pick<TargetRegion, "roleName" | "readOnlyRoleName">, access: Access): string | undefined {
    return access === "read" ? (target.readOnlyRoleName ?? target.roleName) : target.roleName;
}
