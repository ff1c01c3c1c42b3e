/**
 * Log entries: the exact bytes that become leaves of the Merkle tree, and the columns Warden indexes
 * them by. An entry is RFC 8785 canonical JSON (UTF-8), so anyone can re-serialise and re-hash it.
 *
 * Two shapes share the log:
 * - v1, Warden's own audit records, exactly as the foundation's hash-chained trail wrote them (its
 *   leaf_hash was already SHA-256(0x00 ‖ entry), so migrated entries keep their leaf hashes);
 * - v2, an OCSF event from a source, wrapped with Warden's id and the time Warden received it.
 */

import {
  AccountChangeActivity,
  ApiActivity,
  AuthenticationActivity,
  OCSF_VERSION,
  type OcsfClassKey,
  type OcsfEvent,
  ocsfEvent,
  Severity,
  Status,
  UserAccessActivity,
} from "../ingest/index.ts";
import { MAX_ENTRY_BYTES } from "../tlog/index.ts";
import { canonicalJson } from "./canonical-json.ts";

export interface AuditRecordEntry {
  v: 1;
  /** 1-based position in the log (leaf index + 1). */
  seq: number;
  id: string;
  at: string;
  actor: { type: string; id: string | null; label: string };
  action: string;
  target: { type: string | null; id: string | null };
  outcome: string;
  summary: Record<string, unknown>;
  source: { ip: string | null; userAgent: string | null; requestId: string | null };
}

export interface OcsfRecordEntry {
  v: 2;
  id: string;
  /** When Warden accepted it (ISO 8601). The event's own time is `event.time`. */
  received: string;
  event: OcsfEvent;
}

export type LogEntry = AuditRecordEntry | OcsfRecordEntry;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeEntry(entry: LogEntry): { text: string; bytes: Uint8Array } {
  const text = canonicalJson(entry);
  const bytes = encoder.encode(text);
  return { text, bytes };
}

export const entryTooLarge = (bytes: Uint8Array) => bytes.length > MAX_ENTRY_BYTES;

/** Parses stored entry text; undefined when it is not one of the two shapes. */
export function decodeEntry(text: string | Uint8Array): LogEntry | undefined {
  try {
    const doc = JSON.parse(typeof text === "string" ? text : decoder.decode(text)) as LogEntry;
    if (doc && typeof doc === "object" && (doc.v === 1 || doc.v === 2) && typeof doc.id === "string")
      return doc;
  } catch {
    // not JSON: reported by the caller
  }
  return undefined;
}

/** The columns Warden searches by; derived from the entry only (verify recomputes and compares them). */
export interface IndexColumns {
  kind: "audit" | "ocsf";
  at: Date;
  receivedAt: Date;
  classUid: number;
  activityId: number;
  statusId: number;
  severityId: number;
  source: string;
  sourceUid: string | null;
  actorId: string | null;
  actorLabel: string | null;
  developerId: string | null;
  subjectDeveloperId: string | null;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  srcIp: string | null;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const asUuid = (v: unknown): string | null => (typeof v === "string" && UUID_RE.test(v) ? v : null);
const clip = (v: unknown, n = 500): string | null =>
  typeof v === "string" && v.length > 0 ? v.slice(0, n) : null;
const slugs = new Map<string, string>();
/** "Account Change" → "account_change" (remembered: every event of a class asks for the same few). */
const slug = (s: string) => {
  let out = slugs.get(s);
  if (out === undefined) {
    out = s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_|_$/g, "");
    if (slugs.size < 1024) slugs.set(s, out);
  }
  return out;
};

/** `developerId` of a v1 record is the acting account's developer, known to the caller (not in the entry). */
export function indexColumns(entry: LogEntry, actorDeveloperId?: string | null): IndexColumns {
  if (entry.v === 1) {
    const ocsf = auditToOcsf(entry);
    return {
      kind: "audit",
      at: new Date(entry.at),
      receivedAt: new Date(entry.at),
      classUid: ocsf.class_uid,
      activityId: ocsf.activity_id,
      statusId: ocsf.status_id,
      severityId: ocsf.severity_id,
      source: "warden",
      sourceUid: null,
      actorId: clip(entry.actor.id, 100),
      actorLabel: clip(entry.actor.label),
      developerId: asUuid(actorDeveloperId),
      subjectDeveloperId: entry.target.type === "developer" ? asUuid(entry.target.id) : null,
      action: entry.action.slice(0, 200),
      resourceType: clip(entry.target.type, 100),
      resourceId: clip(entry.target.id, 500),
      srcIp: clip(entry.source.ip, 100),
    };
  }
  const e = entry.event;
  const resource =
    e.warden.resource ??
    (e.file ? { kind: e.file.type ?? "file", name: e.file.name } : undefined) ??
    (e.resources?.[0]?.name
      ? { kind: e.resources[0].type ?? "resource", name: e.resources[0].name }
      : undefined);
  const unmapped = e.unmapped as { action?: unknown; git?: { type?: unknown } } | undefined;
  const unmappedAction = unmapped?.action ?? unmapped?.git?.type;
  const action =
    e.api?.operation ??
    (typeof unmappedAction === "string" ? unmappedAction : undefined) ??
    `${slug(e.class_name ?? String(e.class_uid))}.${slug(e.activity_name ?? String(e.activity_id))}`;
  const actorUser = e.actor?.user;
  return {
    kind: "ocsf",
    at: new Date(e.time),
    receivedAt: new Date(entry.received),
    classUid: e.class_uid,
    activityId: e.activity_id,
    statusId: e.status_id,
    severityId: e.severity_id,
    source: e.warden.source.slice(0, 64),
    sourceUid: clip(e.metadata.uid, 200),
    actorId: clip(actorUser?.uid, 100),
    actorLabel: clip(actorUser?.name ?? actorUser?.email_addr ?? e.user?.name ?? e.user?.email_addr),
    developerId: asUuid(e.warden.developerId),
    subjectDeveloperId: null,
    action: action.slice(0, 200),
    resourceType: clip(resource?.kind, 100),
    resourceId: clip(resource?.name, 500),
    srcIp: clip(e.src_endpoint?.ip, 100),
  };
}

type Mapping = { cls: OcsfClassKey; activity: number; name: string };

/** Which OCSF class a Warden audit action belongs to. */
function classifyAudit(action: string): Mapping {
  const verb = action.split(".").pop() ?? "";
  if (/^auth\.(login|mfa|sign_?in)/.test(action))
    return { cls: "authentication", activity: AuthenticationActivity.logon, name: "Logon" };
  if (/^auth\.(logout|sign_?out)/.test(action))
    return { cls: "authentication", activity: AuthenticationActivity.logoff, name: "Logoff" };
  if (/^(auth\.(lockout|totp)|user\.|setup\.|invite\.accept)/.test(action)) {
    const activity = /lock/.test(action)
      ? action.includes("unlock")
        ? AccountChangeActivity.unlock
        : AccountChangeActivity.lock
      : /totp\.enabled|mfa_enable/.test(action)
        ? AccountChangeActivity.mfaEnable
        : /mfa_reset|mfa_disable/.test(action)
          ? AccountChangeActivity.mfaDisable
          : /first_admin|accept|create/.test(action)
            ? AccountChangeActivity.create
            : AccountChangeActivity.other;
    return { cls: "accountChange", activity, name: verb };
  }
  if (/^(access\.)?grant\.|^access\.(grant|revoke|breakglass)/.test(action)) {
    const revoke = /revok|expire|end|lapse/.test(action);
    return {
      cls: "userAccessManagement",
      activity: revoke ? UserAccessActivity.revokePrivileges : UserAccessActivity.assignPrivileges,
      name: revoke ? "Revoke Privileges" : "Assign Privileges",
    };
  }
  const activity = /^(create|add|upload|record|raise|request|open|opened|created)/.test(verb)
    ? ApiActivity.create
    : /^(read|download|list|view)/.test(verb)
      ? ApiActivity.read
      : /^(update|activate|terminate|decide|resolve|verify|approve|enable|disable|unlock|rotate)/.test(verb)
        ? ApiActivity.update
        : /^(delete|revoke|remove|purge)/.test(verb)
          ? ApiActivity.delete
          : ApiActivity.other;
  const names: Record<number, string> = { 1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other" };
  return { cls: "apiActivity", activity, name: names[activity] ?? "Other" };
}

/** A Warden audit record as an OCSF event (for rules, search and OCSF export). */
export function auditToOcsf(entry: AuditRecordEntry, developerId?: string | null): OcsfEvent {
  const m = classifyAudit(entry.action);
  const ok = entry.outcome !== "failure";
  const actorUser = {
    ...(entry.actor.id ? { uid: entry.actor.id } : {}),
    name: entry.actor.label,
    type: entry.actor.type === "user" ? "User" : entry.actor.type === "system" ? "System" : "Unknown",
  };
  const target = entry.target.type
    ? { type: entry.target.type, uid: entry.target.id ?? undefined }
    : undefined;
  const event = ocsfEvent(m.cls, {
    activity_id: m.activity,
    activity_name: m.name,
    time: Date.parse(entry.at),
    severity_id: ok ? Severity.informational : Severity.low,
    status_id: ok ? Status.success : Status.failure,
    status: ok ? "Success" : "Failure",
    message: entry.action,
    actor: { user: actorUser, app_name: "Warden" },
    ...(entry.source.ip ? { src_endpoint: { ip: entry.source.ip } } : {}),
    metadata: {
      version: OCSF_VERSION,
      product: { name: "Warden", vendor_name: "Warden" },
      uid: entry.id,
      log_name: "audit",
      ...(entry.source.requestId ? { correlation_uid: entry.source.requestId } : {}),
    },
    unmapped: {
      action: entry.action,
      summary: entry.summary,
      ...(entry.source.userAgent ? { user_agent: entry.source.userAgent } : {}),
      seq: entry.seq,
    },
    warden: {
      source: "warden",
      ...(developerId ? { developerId } : {}),
      ...(target ? { resource: { kind: target.type, name: target.uid ?? "" } } : {}),
      ...(/breakglass|break_glass/.test(entry.action) ? { breakGlass: true } : {}),
    },
  });
  if (m.cls === "apiActivity") event.api = { operation: entry.action, service: { name: "Warden" } };
  if (target) event.resources = [{ type: target.type, ...(target.uid ? { uid: target.uid } : {}) }];
  if ((m.cls === "accountChange" || m.cls === "userAccessManagement") && entry.target.id)
    event.user = { uid: entry.target.id };
  return event;
}

/** Any entry as OCSF. */
export function entryToOcsf(entry: LogEntry, developerId?: string | null): OcsfEvent {
  return entry.v === 1 ? auditToOcsf(entry, developerId) : entry.event;
}
