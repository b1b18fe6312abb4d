import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pythonVenv } from "../../devtools/moto";

/** What kind of policy a document is: the linter reads identity policies; the others it half understands. */
export type PolicyKind = "identity" | "trust" | "resource";

/** One document to lint, by a name that says where it came from. */
export interface NamedPolicy {
    name: string;
    kind: PolicyKind;
    document: unknown;
}

/** One finding of Parliament, with the policy it was found in. */
export interface ParliamentFinding {
    policy: string;
    kind: PolicyKind;
    issue: string;
    severity: "CRITICAL" | "HIGH" | "MEDIUM" | "LOW" | "INFO";
    detail: unknown;
}

/**
 * A finding the linter reports that stands, with the reason: a false positive (not a problem of
 * the policy), or an accepted finding (true, and the role's job). The one list of each:
 * docs/iam.md says the same in prose.
 */
export interface ExplainedFinding {
    issue: string;
    kinds: readonly PolicyKind[];
    detail: RegExp;
    why: string;
}

export const parliamentFalsePositives: readonly ExplainedFinding[] = [
    {
        issue: "MALFORMED",
        kinds: ["trust"],
        detail: /Statement contains neither Resource nor NotResource/,
        why: "a role's trust policy has no Resource element: the role it is attached to is the resource",
    },
    {
        issue: "UNKNOWN_FEDERATION_SOURCE",
        kinds: ["trust"],
        detail: /:oidc-provider\/token\.actions\.githubusercontent\.com$/,
        why: "Parliament knows a fixed list of federation sources; GitHub's is an IAM OIDC identity provider in the account, named by its ARN",
    },
    {
        issue: "RESOURCE_STAR",
        kinds: ["resource"],
        detail: /^\["kms:/,
        why: 'in a key policy, "Resource": "*" means the key the policy is attached to, and nothing else',
    },
    {
        issue: "MISMATCHED_TYPE",
        kinds: ["resource"],
        detail: /ArnEquals requires a value of type Arn but given String/,
        why: "kms:EncryptionContext:aws:logs:arn holds the log group's ARN, which AWS's key policy for CloudWatch Logs compares with ArnEquals; Parliament types every encryption-context key as a string",
    },
    {
        issue: "UNKNOWN_CONDITION_FOR_ACTION",
        kinds: ["identity"],
        detail: /^Unknown condition ssm:SessionDocumentAccessCheck for action ssm:StartSession$/,
        why: "Session Manager documents ssm:SessionDocumentAccessCheck on ssm:StartSession (enforcing the session document check); Parliament's IAM definitions predate it",
    },
    {
        issue: "RESOURCE_MISMATCH",
        kinds: ["identity"],
        detail: /^\[(\{"action":"ssmmessages:OpenDataChannel","required_format":"\*"\},?)+\]$/,
        why: "ssmmessages:OpenDataChannel takes a session ARN (AWS's end-user sample policies scope it to sessions); Parliament's IAM definitions predate that and allow only *",
    },
    {
        issue: "UNKNOWN_CONDITION_FOR_ACTION",
        kinds: ["identity"],
        detail: /^Unknown condition kms:ResourceAliases for action kms:GenerateDataKey$/,
        why: "kms:ResourceAliases (alias-based access control) applies to every operation on a KMS key, GenerateDataKey included; Parliament's IAM definitions predate it",
    },
];

/**
 * Findings that are true of the policy, and accepted because what they warn of is the role's job.
 * test/accessPolicies.test.ts checks that only the role they are about holds the permission.
 */
export const parliamentAcceptedFindings: readonly ExplainedFinding[] = [
    {
        issue: "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
        kinds: ["identity"],
        detail: /^Possible resource policy privilege escalation on arn:[a-z-]+:s3:::[^ ]+ due to s3:(GetObject|PutObject|DeleteObject) not being allowed, but does allow s3:(PutBucketPolicy|PutLifecycleConfiguration)$/,
        why: "the log archive's write role sets the archive bucket's policy and retention, so it could grant itself its objects or expire them; no narrower permission sets them. Only the rollout role may assume it, and no other role may set a bucket policy",
    },
];

/** Lints every policy with the pinned Parliament (one process), keeping findings at or above `minimum`. */
export async function parliament(policies: readonly NamedPolicy[], minimum: "MEDIUM" | "LOW" = "MEDIUM"): Promise<ParliamentFinding[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smp-parliament-"));
    try {
        const byFile = new Map<string, NamedPolicy>();
        policies.forEach((p, i) => {
            const file = path.join(dir, `${i}.json`);
            fs.writeFileSync(file, JSON.stringify(p.document, null, 2));
            byFile.set(file, p);
        });
        const stdout = await run(path.join(pythonVenv(), "bin", "parliament"), [
            "--json",
            "--minimum_severity",
            minimum,
            "--directory",
            dir,
            "--include_policy_extension",
            "json",
        ]);
        return stdout
            .split("\n")
            .filter((line) => line.trim())
            .map((line) => {
                const f = JSON.parse(line) as { issue: string; severity: ParliamentFinding["severity"]; detail: unknown; location: { filepath: string } };
                const policy = byFile.get(f.location.filepath);
                if (!policy) throw new Error(`Parliament reported a file it was not given: ${f.location.filepath}`);
                return { policy: policy.name, kind: policy.kind, issue: f.issue, severity: f.severity, detail: f.detail };
            });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The false positive or accepted finding a finding is, if it is one. */
export function explanationOf(finding: ParliamentFinding): ExplainedFinding | undefined {
    const detail = typeof finding.detail === "string" ? finding.detail : JSON.stringify(finding.detail);
    return [...parliamentFalsePositives, ...parliamentAcceptedFindings].find(
        (fp) => fp.issue === finding.issue && fp.kinds.includes(finding.kind) && fp.detail.test(detail),
    );
}

function run(bin: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        // No stdin: Parliament reads a policy from stdin when it is not a terminal, and then refuses --directory.
        const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        // Exit code 1 means findings were printed; anything printed on stderr means it could not run.
        child.on("close", (code) =>
            (code !== 0 && code !== 1) || stderr.trim() ? reject(new Error(`parliament failed (exit ${code}): ${stderr}`)) : resolve(stdout),
        );
    });
}
