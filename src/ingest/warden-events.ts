/**
 * Builders for Warden's own audit events in OCSF, so every feature records the same shapes:
 * API calls (6003), share uploads/downloads (6006), account changes of developers/users (3001),
 * grants and revocations (3005) and Warden sign-ins (3002).
 */
import {
  AccountChangeActivity,
  ApiActivity,
  FileHostingActivityId,
  OCSF_VERSION,
  type OcsfEvent,
  ocsfEvent,
  Severity,
  type SeverityId,
  Status,
  UserAccessActivity,
} from "./ocsf.types.ts";

export interface WardenActor {
  /** Warden user id of whoever acted (admin, developer, service token). */
  userId: string;
  name?: string;
  email?: string;
  developerId?: string;
  tokenId?: string;
  ip?: string;
}

interface Common {
  at: number;
  actor: WardenActor;
  /** Warden's own event id (idempotency key). */
  uid: string;
  success?: boolean;
  detail?: string;
  severity?: SeverityId;
  message?: string;
}

function common(c: Common) {
  const success = c.success ?? true;
  return {
    time: c.at,
    severity_id: c.severity ?? Severity.informational,
    status_id: success ? Status.success : Status.failure,
    status: success ? "Success" : "Failure",
    ...(c.detail ? { status_detail: c.detail } : {}),
    ...(c.message ? { message: c.message } : {}),
    actor: {
      user: {
        uid: c.actor.userId,
        ...(c.actor.name ? { name: c.actor.name } : {}),
        ...(c.actor.email ? { email_addr: c.actor.email } : {}),
      },
    },
    ...(c.actor.ip ? { src_endpoint: { ip: c.actor.ip } } : {}),
    metadata: {
      version: OCSF_VERSION,
      product: { name: "Warden", vendor_name: "Warden" },
      uid: c.uid,
      log_name: "audit",
    },
  };
}

function warden(c: Common, resource?: { kind: string; name: string }) {
  return {
    source: "warden",
    ...(c.actor.developerId ? { developerId: c.actor.developerId } : {}),
    ...(c.actor.tokenId ? { credential: { tokenId: c.actor.tokenId } } : {}),
    ...(resource ? { resource } : {}),
  };
}

const API_VERBS = {
  create: ApiActivity.create,
  read: ApiActivity.read,
  update: ApiActivity.update,
  delete: ApiActivity.delete,
} as const;

/** A state-changing (or sensitive read) API call: operation "vendors.create", resource "vendor:v_1". */
export function apiActivityEvent(
  c: Common & { verb: keyof typeof API_VERBS; operation: string; resource?: { kind: string; name: string } },
): OcsfEvent {
  return ocsfEvent("apiActivity", {
    ...common(c),
    activity_id: API_VERBS[c.verb],
    activity_name: c.verb[0]!.toUpperCase() + c.verb.slice(1),
    api: { operation: c.operation, service: { name: "Warden" } },
    ...(c.resource ? { resources: [{ type: c.resource.kind, name: c.resource.name }] } : {}),
    warden: warden(c, c.resource),
  });
}

/** An encrypted share uploaded or downloaded. */
export function shareTransferEvent(
  c: Common & { direction: "upload" | "download"; shareId: string; fileName: string },
): OcsfEvent {
  return ocsfEvent("fileHostingActivity", {
    ...common(c),
    activity_id: c.direction === "upload" ? FileHostingActivityId.upload : FileHostingActivityId.download,
    activity_name: c.direction === "upload" ? "Upload" : "Download",
    file: { name: c.fileName, uid: c.shareId, type: "Share" },
    warden: warden(c, { kind: "share", name: c.shareId }),
  });
}

const ACCOUNT_ACTIVITIES = {
  create: AccountChangeActivity.create,
  enable: AccountChangeActivity.enable,
  disable: AccountChangeActivity.disable,
  delete: AccountChangeActivity.delete,
  passwordChange: AccountChangeActivity.passwordChange,
  mfaEnable: AccountChangeActivity.mfaEnable,
  mfaDisable: AccountChangeActivity.mfaDisable,
  lock: AccountChangeActivity.lock,
  unlock: AccountChangeActivity.unlock,
} as const;

/** A user or developer account created, disabled, given MFA… */
export function accountChangeEvent(
  c: Common & { change: keyof typeof ACCOUNT_ACTIVITIES; subject: { uid: string; name?: string } },
): OcsfEvent {
  return ocsfEvent("accountChange", {
    ...common(c),
    activity_id: ACCOUNT_ACTIVITIES[c.change],
    activity_name: c.change,
    user: { uid: c.subject.uid, ...(c.subject.name ? { name: c.subject.name } : {}) },
    warden: warden(c),
  });
}

/** A grant provisioned (assign) or revoked/expired (revoke) for a developer on a resource. */
export function accessChangeEvent(
  c: Common & {
    change: "grant" | "revoke";
    subject: { uid: string; name?: string };
    resource: { kind: string; name: string };
    privileges: string[];
  },
): OcsfEvent {
  return ocsfEvent("userAccessManagement", {
    ...common(c),
    activity_id:
      c.change === "grant" ? UserAccessActivity.assignPrivileges : UserAccessActivity.revokePrivileges,
    activity_name: c.change === "grant" ? "Assign Privileges" : "Revoke Privileges",
    user: { uid: c.subject.uid, ...(c.subject.name ? { name: c.subject.name } : {}) },
    privileges: c.privileges,
    resources: [{ type: c.resource.kind, name: c.resource.name }],
    warden: { ...warden(c, c.resource), developerId: c.subject.uid },
  });
}

/** A sign-in to Warden itself (web UI or API token), successful or not. */
export function signInEvent(c: Common & { method: string; mfa?: boolean }): OcsfEvent {
  return ocsfEvent("authentication", {
    ...common(c),
    activity_id: 1,
    activity_name: "Logon",
    auth_protocol: c.method,
    user: { uid: c.actor.userId, ...(c.actor.name ? { name: c.actor.name } : {}) },
    unmapped: { is_mfa: c.mfa ?? false },
    warden: warden(c, { kind: "app", name: "warden" }),
  });
}
