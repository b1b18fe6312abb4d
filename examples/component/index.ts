// Session Manager preferences in one account and Region, from the component with plain
// arguments: no sessionManager:* configuration. Where they go comes from this project's own
// config (accountId, region, and optionally the roles to assume).
import * as pulumi from "@pulumi/pulumi";
import { SessionManagerPreferences } from "session-manager-preferences";

const config = new pulumi.Config();
const accountId = config.require("accountId");
const region = config.require("region");

const preferences = new SessionManagerPreferences(`${accountId}-${region}`, {
    accountId,
    region,
    roleArn: config.get("roleArn"),
    readOnlyRoleArn: config.get("readOnlyRoleArn"),
    preferences: { idleSessionTimeout: 15, maxSessionDuration: 120, runAsEnabled: true, runAsDefaultUser: "ssm-user" },
    // The document only: session data unencrypted here, an existing log group, no instance policy.
    sessionDataKey: { skip: true },
    logGroup: { existing: { name: "ssm-sessionmanager-logs" } },
    instancePolicy: { skip: true },
    tags: { "managed-by": "platform-team" },
});

export const documentVersion = preferences.documentVersion;
