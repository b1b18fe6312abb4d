/**
 * Validated settings to one plan per account and Region: which parts are created, taken as
 * existing or skipped, and what the document gets (docs/architecture.md, "The data path").
 */
import { OptionalPart, Part } from "./parts";
import { partitionOf, roleArn } from "./partition";
import { resolveKeyArnTemplate } from "./rules";
import { archiveBucketName, archiveRegionProblem, archiveTargetFor } from "./landingZone";
import { ArchiveTarget } from "./policies";
import { ConfigError, ConfigErrors, preferencesFor } from "./config";
import { Sources } from "./overrides";
import { DocumentPreferences, documentPreferencesOf, OnDelete, Preferences, Settings, TargetRegion, targetRegions, withoutExcluded } from "./settings";

export type { DocumentPreferences } from "./settings";
export { documentPreferencesOf } from "./settings";

export type SessionDataKeyPart = Part<{ enableKeyRotation: boolean }, { arn: string }>;
export type LogsKeyPart = Part<{ enableKeyRotation: boolean }, { arn: string }>;
export type LogGroupPart = Part<{ name: string; retentionInDays: number; kmsKey: LogsKeyPart }, { name: string }>;
export type InstancePolicyPart = OptionalPart<{ roleNames: string[]; logArchive?: ArchiveTarget }>;

/** Everything the program needs to build one account and Region. */
export interface TargetPlan {
    target: TargetRegion;
    /** Pulumi name of the target's provider and component: stable across runs, unique per account and Region. */
    name: string;
    /** The target's key in the `targets` stack output. */
    outputKey: string;
    /** Role the provider and the document provider assume to write; absent means ambient credentials. */
    roleArn?: string;
    /** Role assumed for reads (refresh, preview, drift); absent means roleArn. */
    readOnlyRoleArn?: string;
    /** False when only the document is managed: then no aws.Provider is needed either. */
    createsAwsResources: boolean;
    sessionDataKey: SessionDataKeyPart;
    logGroup: LogGroupPart;
    instancePolicy: InstancePolicyPart;
    preferences: DocumentPreferences;
    onDelete: OnDelete;
    keepDocumentVersions: number;
    takeOver: boolean;
    /** The document preferences an override set for this target, and which (by name); absent when none did. */
    overrides?: Sources;
}

export function sessionDataKeyPart(prefs: Preferences, target: TargetRegion): SessionDataKeyPart {
    if (!prefs.sessionDataEncryption) return { skip: true };
    if (prefs.sessionDataKeyArn) return { existing: { arn: resolveKeyArnTemplate(prefs.sessionDataKeyArn, target) } };
    return { args: { enableKeyRotation: prefs.kmsKeyRotation } };
}

export function logGroupPart(prefs: Preferences): LogGroupPart {
    if (!prefs.cwLogging) return { skip: true };
    if (!prefs.createCWLogGroup) return { existing: { name: prefs.cwLogGroupName } };
    return {
        args: {
            name: prefs.cwLogGroupName,
            retentionInDays: prefs.logRetentionInDays,
            // A group someone else created keeps whatever key it has; only ours gets one.
            kmsKey: prefs.cwEncryptionEnabled ? { args: { enableKeyRotation: prefs.kmsKeyRotation } } : { skip: true },
        },
    };
}

/** The instance policy: with a log archive, it also names the archive's bucket and key for the target's Region. */
export function instancePolicyPart(prefs: Preferences, region?: string): InstancePolicyPart {
    if (!prefs.instancePolicy) return { skip: true };
    const logArchive = prefs.logArchive && region !== undefined ? archiveTargetFor(prefs.logArchive, region) : undefined;
    return { args: { roleNames: [...prefs.instanceRoleNames], ...(logArchive ? { logArchive } : {}) } };
}

export function createsAwsResources(parts: Pick<TargetPlan, "sessionDataKey" | "logGroup" | "instancePolicy">): boolean {
    const created = (p: object) => !("skip" in p) && !("existing" in p);
    return created(parts.sessionDataKey) || created(parts.logGroup) || created(parts.instancePolicy);
}

export function targetName(target: TargetRegion): string {
    return `${target.accountId}-${target.region}`;
}

export function targetOutputKey(target: TargetRegion): string {
    return `${target.accountId}/${target.region}`;
}

export function planTarget(prefs: Preferences, target: TargetRegion): TargetPlan {
    if (prefs.logArchive) {
        // The configuration's Regions are checked as it is parsed; the current Region only now.
        const problem = archiveRegionProblem(prefs.logArchive, target.region);
        if (problem) throw new Error(`sessionManager:logArchive: ${problem}`);
    }
    const parts = {
        sessionDataKey: sessionDataKeyPart(prefs, target),
        logGroup: logGroupPart(prefs),
        instancePolicy: instancePolicyPart(prefs, target.region),
    };
    const plan: TargetPlan = {
        target,
        name: targetName(target),
        outputKey: targetOutputKey(target),
        createsAwsResources: createsAwsResources(parts),
        ...parts,
        // A log archive's bucket name may say {region}: each target gets its own Region's bucket.
        preferences: { ...documentPreferencesOf(prefs), s3BucketName: archiveBucketName(prefs.s3BucketName, target.region) },
        onDelete: prefs.onDelete,
        keepDocumentVersions: prefs.keepDocumentVersions,
        takeOver: prefs.takeOver,
    };
    if (target.roleName) plan.roleArn = roleArn(partitionOf(target.region), target.accountId, target.roleName);
    if (target.readOnlyRoleName) plan.readOnlyRoleArn = roleArn(partitionOf(target.region), target.accountId, target.readOnlyRoleName);
    return plan;
}

/**
 * One plan per account and Region, in config order, less `excludeAccounts` and
 * `excludeRegions` (withoutExcluded, as `npm run org` applies them, so both rollouts agree).
 * `current` is the caller's account and aws:region, used only when no target is configured.
 */
/**
 * Why this stack needs a Region of its own (aws:region or AWS_REGION), or undefined when its
 * targets name every Region. Checked as the program loads (components/stackSettings.ts).
 */
export function stackRegionNeed(settings: Pick<Settings, "deployment" | "targets" | "regions" | "guardrail" | "sharedResources">): string | undefined {
    if (settings.deployment === "stackset")
        return settings.regions.length === 0
            ? "deployment is stackset with no sessionManager:regions, so the StackSet deploys to the stack's Region and is created there"
            : "deployment is stackset, and the StackSet is created in the stack's Region";
    if (settings.guardrail && settings.sharedResources !== "elsewhere")
        return "sessionManager:guardrail is set, and AWS Organizations is called from the stack's Region";
    if (targetRegions(settings.targets).length === 0) return "sessionManager:targets is empty, so the current account and Region are used";
    return undefined;
}

/** The message for a stack that needs a Region and has none. */
export function missingRegionMessage(need: string): string {
    return `${need}, but no Region is set: set aws:region (pulumi config set aws:region <region>) or AWS_REGION`;
}

export function planTargets(settings: Settings, current?: TargetRegion, parents?: ReadonlyMap<string, readonly string[]>): TargetPlan[] {
    const targets = targetRegions(settings.targets);
    if (targets.length === 0) {
        if (!current) throw new Error("sessionManager:targets is empty and the current account and Region are unknown");
        targets.push(current);
    }
    // Every target's overrides are resolved before any plan is used: a conflict fails the run with nothing changed.
    const errors: ConfigError[] = [];
    const plans = withoutExcluded(settings, targets).flatMap((t) => {
        try {
            const { preferences, sources } = preferencesFor(settings, { accountId: t.accountId, region: t.region, parents: parents?.get(t.accountId) });
            const plan = planTarget(preferences, t);
            if (Object.keys(sources).length > 0) plan.overrides = sources;
            return [plan];
        } catch (err) {
            if (!(err instanceof ConfigErrors)) throw err;
            errors.push(...err.errors);
            return [];
        }
    });
    if (errors.length > 0) throw new ConfigErrors(errors);
    return plans;
}
