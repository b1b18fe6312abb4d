import * as fc from "fast-check";
import { logRetentionDays } from "../../core/rules";
import { defaultPreferences, onDeleteValues, Preferences } from "../../core/settings";

const lower = "abcdefghijklmnopqrstuvwxyz".split("");
const digits = "0123456789".split("");

const bucketName = fc
    .tuple(
        fc.constantFrom(...lower),
        fc.array(fc.constantFrom(...lower, ...digits, "-"), { minLength: 1, maxLength: 20 }),
        fc.constantFrom(...lower, ...digits),
    )
    .map(([first, middle, last]) => `${first}${middle.join("")}${last}`);

const keyPrefix = fc
    .array(fc.array(fc.constantFrom(...lower, ...digits, "-", "_", "!", "(", ")"), { minLength: 1, maxLength: 8 }), { maxLength: 3 })
    .map((segments) => segments.map((s) => s.join("")).join("/"));

const logGroupName = fc.array(fc.constantFrom(...lower, "/", "-", "_", ".", "#"), { minLength: 1, maxLength: 30 }).map((c) => `g${c.join("")}`);

const linuxUser = fc.array(fc.constantFrom(...lower, ...digits, "_", "-"), { maxLength: 10 }).map((c) => `u${c.join("")}`);

/** Shell profiles may hold anything, including what Fn::Sub and the template's placeholders treat specially. */
const shellProfile = fc.oneof(
    fc.constant(""),
    fc.string({ maxLength: 80 }),
    fc.constantFrom("cd ${HOME}", "echo ${!x} $${y} ${", "@@Region@@ @@@AccountId@@@", "}${AWS::Region}", 'printf "%s\\n" \\"'),
);

const keyArn = fc.constantFrom(
    "arn:aws:kms:eu-west-1:999988887777:key/11111111-2222-3333-4444-555555555555",
    "arn:aws:kms:{region}:999988887777:key/mrk-0123456789abcdef0123456789abcdef",
    "arn:aws-us-gov:kms:{region}:{accountId}:key/mrk-0123456789abcdef0123456789abcdef",
);

/** Preferences as core/config.ts would hand them over: every value within its rules. */
export const preferencesArbitrary: fc.Arbitrary<Preferences> = fc
    .record({
        s3Logging: fc.boolean(),
        s3BucketName: bucketName,
        s3KeyPrefix: keyPrefix,
        s3EncryptionEnabled: fc.boolean(),
        createCWLogGroup: fc.boolean(),
        cwLogging: fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, { arbitrary: fc.constant(false), weight: 1 }),
        cwLogGroupName: logGroupName,
        cwEncryptionEnabled: fc.boolean(),
        cwStreamingEnabled: fc.boolean(),
        sessionDataEncryption: fc.boolean(),
        runAsEnabled: fc.boolean(),
        runAsDefaultUser: linuxUser,
        idleSessionTimeout: fc.integer({ min: 1, max: 60 }),
        maxSessionDuration: fc.integer({ min: 1, max: 1440 }),
        winShellProfile: shellProfile,
        linuxShellProfile: shellProfile,
        sessionDataKeyArn: fc.option(keyArn, { nil: undefined }),
        kmsKeyRotation: fc.boolean(),
        logRetentionInDays: fc.constantFrom(...logRetentionDays),
        instancePolicy: fc.boolean(),
        instanceRoleNames: fc.array(fc.constantFrom("AppServerRole", "BastionRole"), { maxLength: 2 }).map((r) => [...new Set(r)]),
        onDelete: fc.constantFrom(...onDeleteValues),
    })
    .map((p) => ({
        ...defaultPreferences,
        ...p,
        s3BucketName: p.s3Logging ? p.s3BucketName : "",
        runAsDefaultUser: p.runAsEnabled ? p.runAsDefaultUser : "",
        // The configuration refuses an idle timeout longer than the session (core/fieldRules.ts relatedFieldProblems).
        maxSessionDuration: Math.max(p.maxSessionDuration, p.idleSessionTimeout),
        deployment: "stackset" as const,
    }));
