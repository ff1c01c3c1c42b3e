/**
 * The subset of OCSF 1.x (schema.ocsf.io) that Warden's sources produce. Field names follow OCSF exactly
 * (snake_case, `raw_data` for the original record, `unmapped` for source fields with no OCSF home) so the
 * events can be exported as OCSF JSON without a translation step. Warden's own additions live under
 * `warden`, which OCSF consumers ignore.
 */

export const OCSF_VERSION = "1.3.0";

/** Category and class ids used here (OCSF 1.x). type_uid = class_uid * 100 + activity_id. */
export const OcsfClass = {
  accountChange: { class_uid: 3001, category_uid: 3, class_name: "Account Change" },
  authentication: { class_uid: 3002, category_uid: 3, class_name: "Authentication" },
  userAccessManagement: { class_uid: 3005, category_uid: 3, class_name: "User Access Management" },
  sshActivity: { class_uid: 4007, category_uid: 4, class_name: "SSH Activity" },
  apiActivity: { class_uid: 6003, category_uid: 6, class_name: "API Activity" },
  fileHostingActivity: { class_uid: 6006, category_uid: 6, class_name: "File Hosting Activity" },
  /** Warden's alerts, as forwarded to SIEMs (never appended to the log: the log holds the events). */
  detectionFinding: { class_uid: 2004, category_uid: 2, class_name: "Detection Finding" },
} as const;
export type OcsfClassKey = keyof typeof OcsfClass;

/** Activity ids per class, named as in the OCSF dictionary. 99 = Other everywhere. */
export const AuthenticationActivity = { logon: 1, logoff: 2, other: 99 } as const;
export const SshActivity = {
  open: 1,
  close: 2,
  reset: 3,
  fail: 4,
  refuse: 5,
  traffic: 6,
  listen: 7,
  other: 99,
} as const;
export const ApiActivity = { create: 1, read: 2, update: 3, delete: 4, other: 99 } as const;
export const FileHostingActivityId = {
  upload: 1,
  download: 2,
  update: 3,
  delete: 4,
  rename: 5,
  copy: 6,
  move: 7,
  restore: 8,
  preview: 9,
  lock: 10,
  unlock: 11,
  share: 12,
  unshare: 13,
  open: 14,
  sync: 15,
  unsync: 16,
  other: 99,
} as const;
export const AccountChangeActivity = {
  create: 1,
  enable: 2,
  passwordChange: 3,
  passwordReset: 4,
  disable: 5,
  delete: 6,
  attachPolicy: 7,
  detachPolicy: 8,
  lock: 9,
  mfaEnable: 10,
  mfaDisable: 11,
  unlock: 12,
  other: 99,
} as const;
export const UserAccessActivity = { assignPrivileges: 1, revokePrivileges: 2, other: 99 } as const;
export const DetectionFindingActivity = { create: 1, update: 2, close: 3, other: 99 } as const;
/** Detection Finding's own status_id (the finding's state, not an outcome). */
export const FindingStatus = {
  unknown: 0,
  new: 1,
  inProgress: 2,
  suppressed: 3,
  resolved: 4,
  other: 99,
} as const;

export const Status = { unknown: 0, success: 1, failure: 2, other: 99 } as const;
export const Severity = {
  unknown: 0,
  informational: 1,
  low: 2,
  medium: 3,
  high: 4,
  critical: 5,
  fatal: 6,
  other: 99,
} as const;
export type SeverityId = (typeof Severity)[keyof typeof Severity];

/** OCSF auth_type_id of SSH Activity. */
export const SshAuthType = {
  unknown: 0,
  certificate: 1,
  gssapi: 2,
  hostBased: 3,
  keyboardInteractive: 4,
  password: 5,
  publicKey: 6,
  other: 99,
} as const;

export interface OcsfUser {
  name?: string;
  uid?: string;
  email_addr?: string;
  /** e.g. "User", "DeployKey", "Bot" */
  type?: string;
}

export interface OcsfEndpoint {
  ip?: string;
  port?: number;
  hostname?: string;
  location?: { country?: string; city?: string; lat?: number; long?: number };
}

export interface OcsfMetadata {
  version: string;
  product: { name: string; vendor_name?: string; version?: string };
  /** The source's own event id, when it has one (idempotency key together with the source). */
  uid?: string;
  /** The program that logged it, e.g. "sshd" (syslog APP-NAME / tag). */
  log_provider?: string;
  log_name?: string;
  /** The timestamp exactly as the source wrote it. */
  original_time?: string;
  correlation_uid?: string;
}

/** What identified the actor at the source; the input to actor resolution. */
export interface ActorCredential {
  /** SSH certificate key id (the `-I` of ssh-keygen); in Warden it names the grant. */
  sshKeyId?: string;
  sshCertSerial?: string;
  sshCaFingerprint?: string;
  /** Fingerprint of the public key used, e.g. "SHA256:...". */
  sshKeyFingerprint?: string;
  gitUsername?: string;
  email?: string;
  /** An API token id (never the token itself). */
  tokenId?: string;
}

export interface WardenFields {
  /** Set when the actor was mapped to a Warden developer. */
  developerId?: string;
  /** Which source produced the event, e.g. "syslog", "git-hook", "github-audit", "gitlab-audit". */
  source: string;
  credential?: ActorCredential;
  /** The protected thing the event touched, for grant checks. */
  resource?: { kind: "git_repository" | "server" | "file" | "api" | "share" | string; name: string };
  /** The event is use of a break-glass path (emergency account, break-glass certificate...). */
  breakGlass?: boolean;
}

export interface OcsfEvent {
  class_uid: number;
  class_name?: string;
  category_uid: number;
  activity_id: number;
  activity_name?: string;
  type_uid: number;
  /** Milliseconds since the Unix epoch (OCSF timestamp_t). */
  time: number;
  severity_id: SeverityId;
  status_id: number;
  status?: string;
  status_detail?: string;
  message?: string;
  actor?: { user?: OcsfUser; app_name?: string; session?: { uid?: string } };
  /** Authentication: the account being authenticated. Account Change / User Access: the subject. */
  user?: OcsfUser;
  src_endpoint?: OcsfEndpoint;
  dst_endpoint?: OcsfEndpoint;
  auth_protocol?: string;
  /** SSH Activity (4007). */
  auth_type_id?: number;
  api?: { operation: string; service?: { name: string }; request?: { uid?: string } };
  file?: { name: string; path?: string; type?: string; uid?: string };
  privileges?: string[];
  resources?: Array<{ type?: string; name?: string; uid?: string }>;
  /** Detection Finding (2004): what was found, by which analytic, and the events behind it. */
  finding_info?: OcsfFindingInfo;
  /** Findings: how many times the finding was seen, and the first and latest time. */
  count?: number;
  start_time?: number;
  end_time?: number;
  metadata: OcsfMetadata;
  unmapped?: Record<string, unknown>;
  /** The original record as received (OCSF `raw_data`). */
  raw_data?: string;
  warden: WardenFields;
}

/** OCSF `finding_info` (1.3). */
export interface OcsfFindingInfo {
  uid: string;
  title: string;
  desc?: string;
  types?: string[];
  created_time?: number;
  first_seen_time?: number;
  last_seen_time?: number;
  modified_time?: number;
  /** The rule that raised it (type_id 1 = Rule). */
  analytic?: { uid?: string; name?: string; type_id: number; type?: string; category?: string };
  related_events?: Array<{ uid: string }>;
  src_url?: string;
}

export interface NewEventInput
  extends Omit<OcsfEvent, "class_uid" | "category_uid" | "type_uid" | "class_name"> {}

/** Builds an event of a class, filling class/category/type ids consistently. */
export function ocsfEvent(cls: OcsfClassKey, input: NewEventInput): OcsfEvent {
  const c = OcsfClass[cls];
  return {
    class_uid: c.class_uid,
    class_name: c.class_name,
    category_uid: c.category_uid,
    type_uid: c.class_uid * 100 + input.activity_id,
    ...input,
  };
}

export function statusName(statusId: number): string {
  return statusId === 1 ? "Success" : statusId === 2 ? "Failure" : statusId === 99 ? "Other" : "Unknown";
}

/** Maps a source identity to a Warden developer id. Injected; must be fast (called inline per event). */
export type ResolveActor = (credential: ActorCredential) => string | undefined;

/** Sets `warden.developerId` from the event's credential, when the resolver knows it. */
export function attributeActor(event: OcsfEvent, resolveActor: ResolveActor | undefined): OcsfEvent {
  if (!resolveActor || event.warden.developerId) return event;
  const cred: ActorCredential = { ...event.warden.credential };
  const email = event.actor?.user?.email_addr ?? event.user?.email_addr;
  if (email && !cred.email) cred.email = email;
  const developerId = resolveActor(cred);
  if (developerId) event.warden.developerId = developerId;
  return event;
}
