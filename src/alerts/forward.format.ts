/**
 * Formats for sending events and alerts to other systems:
 * - CEF (ArcSight Common Event Format, rev. 25) inside an RFC 5424 syslog line, what most SIEMs parse;
 * - ECS-shaped JSON (Elastic Common Schema field names) for HTTP ingestion;
 * - a Slack-compatible webhook body with an HMAC-SHA256 signature over timestamp and body.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import {
  DetectionFindingActivity,
  FindingStatus,
  OCSF_VERSION,
  type OcsfEvent,
  ocsfEvent,
  type SeverityId,
} from "../ingest/index.ts";
import type { Alert, AlertSeverity, AlertStatus } from "./alert.types.ts";

// ------------------------------------------------------------------------ alerts as OCSF Detection Findings

export const DETECTION_FINDING_CLASS = 2004;

const ALERT_SEVERITY_ID: Record<AlertSeverity, SeverityId> = {
  informational: 1,
  low: 2,
  medium: 3,
  high: 4,
  critical: 5,
};
/** OCSF 1.3 Detection Finding status_id: 1 New, 2 In Progress, 4 Resolved. */
const FINDING_STATUS: Record<AlertStatus, { id: number; name: string }> = {
  open: { id: FindingStatus.new, name: "New" },
  acknowledged: { id: FindingStatus.inProgress, name: "In Progress" },
  resolved: { id: FindingStatus.resolved, name: "Resolved" },
};
const FINDING_ACTIVITY = {
  create: { id: DetectionFindingActivity.create, name: "Create" },
  update: { id: DetectionFindingActivity.update, name: "Update" },
  close: { id: DetectionFindingActivity.close, name: "Close" },
} as const;

/** One change of an alert's life (opened, worked, resolved), to forward as a Detection Finding. */
export interface FindingChange {
  alert: Alert;
  activity: keyof typeof FINDING_ACTIVITY;
  /** The alert's status and severity right after this change. */
  status: AlertStatus;
  severity: AlertSeverity;
  /** When the change happened (ms), and a unique id for it (the log record's id). */
  time: number;
  uid: string;
  developerName?: string | null | undefined;
  assignee?: string | null | undefined;
  /** Ids of events behind the alert in Warden's log (newest first, a few). */
  relatedEvents?: readonly string[];
  /** The alert's page in Warden. */
  url?: string | undefined;
}

/**
 * An alert as an OCSF 1.3 Detection Finding (class 2004): finding_info names the alert (uid), the rule
 * (analytic), the first and last event times and the events behind it; status_id is the finding's
 * state; count is how many hits were grouped into it.
 */
export function alertToDetectionFinding(c: FindingChange): OcsfEvent {
  const a = c.alert;
  const status = FINDING_STATUS[c.status];
  const activity = FINDING_ACTIVITY[c.activity];
  return ocsfEvent("detectionFinding", {
    activity_id: activity.id,
    activity_name: activity.name,
    time: c.time,
    severity_id: ALERT_SEVERITY_ID[c.severity],
    status_id: status.id,
    status: status.name,
    message: a.summary,
    count: a.count,
    start_time: a.firstSeen,
    end_time: a.lastSeen,
    finding_info: {
      uid: a.id,
      title: a.title,
      desc: a.summary,
      types: [a.ruleId.startsWith("sigma:") ? "Sigma" : "Warden built-in rule"],
      created_time: a.createdAt,
      first_seen_time: a.firstSeen,
      last_seen_time: a.lastSeen,
      modified_time: c.time,
      analytic: { uid: a.ruleId, name: a.title, type_id: 1, type: "Rule" },
      ...(c.relatedEvents?.length ? { related_events: c.relatedEvents.map((uid) => ({ uid })) } : {}),
      ...(c.url ? { src_url: c.url } : {}),
    },
    ...(a.developerId
      ? { user: { uid: a.developerId, ...(c.developerName ? { name: c.developerName } : {}) } }
      : {}),
    metadata: {
      version: OCSF_VERSION,
      product: { name: "Warden", vendor_name: "Warden" },
      uid: c.uid,
      log_name: "alerts",
    },
    unmapped: {
      group_key: a.groupKey,
      ...(c.assignee ? { assignee: c.assignee } : {}),
      ...(Object.keys(a.details).length ? { details: a.details } : {}),
    },
    warden: { source: "warden", ...(a.developerId ? { developerId: a.developerId } : {}) },
  });
}

const isFinding = (e: OcsfEvent) => e.class_uid === DETECTION_FINDING_CLASS && !!e.finding_info;
const findingGroupKey = (e: OcsfEvent) => (e.unmapped as { group_key?: unknown } | undefined)?.group_key;

// ------------------------------------------------------------------------------------------------- CEF

/** Header fields escape backslash and pipe. */
const cefHeader = (s: string) =>
  s
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/[\r\n]+/g, " ");
/** Extension values escape backslash, equals sign and line breaks. */
const cefValue = (s: string) =>
  s.replace(/\\/g, "\\\\").replace(/=/g, "\\=").replace(/\r/g, "\\r").replace(/\n/g, "\\n");

/** OCSF severity_id (0–6) → CEF severity (0–10). */
const CEF_SEVERITY = [0, 1, 3, 5, 7, 9, 10];
const ALERT_CEF_SEVERITY: Record<AlertSeverity, number> = {
  informational: 1,
  low: 3,
  medium: 5,
  high: 7,
  critical: 9,
};

function cefLine(header: string[], ext: Array<[string, unknown]>): string {
  const extension = ext
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${k}=${cefValue(String(v))}`)
    .join(" ");
  return `CEF:0|${header.map(cefHeader).join("|")}|${extension}`;
}

export function eventToCef(e: OcsfEvent): string {
  if (isFinding(e)) return findingToCef(e);
  const outcome = e.status_id === 1 ? "success" : e.status_id === 2 ? "failure" : "unknown";
  return cefLine(
    [
      e.metadata.product.vendor_name ?? "Warden",
      e.metadata.product.name,
      e.metadata.version,
      String(e.type_uid),
      `${e.class_name ?? `class ${e.class_uid}`}: ${e.activity_name ?? e.activity_id}`,
      String(CEF_SEVERITY[e.severity_id] ?? 0),
    ],
    [
      ["rt", e.time],
      ["cat", e.class_name],
      ["act", e.activity_name],
      ["outcome", outcome],
      ["reason", e.status_detail],
      ["src", e.src_endpoint?.ip],
      ["spt", e.src_endpoint?.port],
      ["dst", e.dst_endpoint?.ip],
      ["dpt", e.dst_endpoint?.port],
      ["dhost", e.dst_endpoint?.hostname],
      ["suser", e.actor?.user?.name],
      ["duser", e.user?.name],
      ["fname", e.file?.name],
      ["request", e.api?.operation],
      ["externalId", e.metadata.uid],
      ["cs1Label", e.warden.developerId ? "wardenDeveloperId" : undefined],
      ["cs1", e.warden.developerId],
      ["cs2Label", e.warden.resource ? "wardenResource" : undefined],
      ["cs2", e.warden.resource ? `${e.warden.resource.kind}:${e.warden.resource.name}` : undefined],
      ["cs3Label", e.warden.credential?.sshKeyId ? "sshCertificateKeyId" : undefined],
      ["cs3", e.warden.credential?.sshKeyId],
      ["msg", e.message],
    ],
  );
}

/** A Detection Finding as CEF, the way alertToCef writes an alert, plus the change and its status. */
function findingToCef(e: OcsfEvent): string {
  const f = e.finding_info!;
  const groupKey = findingGroupKey(e);
  return cefLine(
    [
      "Warden",
      "Warden",
      e.metadata.version,
      `alert:${f.analytic?.uid ?? "unknown"}`,
      f.title,
      String(CEF_SEVERITY[e.severity_id] ?? 0),
    ],
    [
      ["rt", e.time],
      ["start", e.start_time],
      ["end", e.end_time],
      ["cnt", e.count],
      ["cat", e.class_name],
      ["act", e.activity_name],
      ["externalId", f.uid],
      ["duser", e.user?.name],
      ["cs1Label", e.warden.developerId ? "wardenDeveloperId" : undefined],
      ["cs1", e.warden.developerId],
      ["cs2Label", typeof groupKey === "string" ? "groupKey" : undefined],
      ["cs2", typeof groupKey === "string" ? groupKey : undefined],
      ["cs4Label", "alertStatus"],
      ["cs4", e.status],
      ["cs5Label", f.src_url ? "alertUrl" : undefined],
      ["cs5", f.src_url],
      ["msg", e.message],
    ],
  );
}

export function alertToCef(a: Alert): string {
  return cefLine(
    ["Warden", "Warden", "1", `alert:${a.ruleId}`, a.title, String(ALERT_CEF_SEVERITY[a.severity])],
    [
      ["rt", a.lastSeen],
      ["start", a.firstSeen],
      ["cnt", a.count],
      ["externalId", a.id],
      ["cs1Label", a.developerId ? "wardenDeveloperId" : undefined],
      ["cs1", a.developerId],
      ["cs2Label", "groupKey"],
      ["cs2", a.groupKey],
      ["msg", a.summary],
    ],
  );
}

const SYSLOG_SEVERITY: Record<number, number> = { 0: 6, 1: 6, 2: 5, 3: 4, 4: 3, 5: 2, 6: 0, 99: 5 };
const ALERT_SYSLOG_SEVERITY: Record<AlertSeverity, number> = {
  informational: 6,
  low: 5,
  medium: 4,
  high: 3,
  critical: 2,
};

export interface SyslogLineOptions {
  /** HOSTNAME field: this Warden node. */
  hostname: string;
  appName?: string;
  /** Default 13 (log audit), as RFC 5424 lists it. */
  facility?: number;
}

/** One RFC 5424 line (no framing) carrying a CEF payload. */
export function syslogCefLine(item: OcsfEvent | Alert, opts: SyslogLineOptions, msgId?: string): string {
  const isEvent = "class_uid" in item;
  const severity = isEvent ? (SYSLOG_SEVERITY[item.severity_id] ?? 5) : ALERT_SYSLOG_SEVERITY[item.severity];
  const pri = (opts.facility ?? 13) * 8 + severity;
  const time = new Date(isEvent ? item.time : item.lastSeen).toISOString();
  const nil = (s: string | undefined, max: number) =>
    s ? s.replace(/[^\x21-\x7e]/g, "_").slice(0, max) : "-";
  const cef = isEvent ? eventToCef(item) : alertToCef(item);
  const kind = !isEvent || isFinding(item) ? "alert" : "event";
  return `<${pri}>1 ${time} ${nil(opts.hostname, 255)} ${nil(opts.appName ?? "warden", 48)} - ${nil(msgId ?? kind, 32)} - ${cef}`;
}

// ------------------------------------------------------------------------------------------------- ECS

const ECS_CATEGORY: Record<number, { category: string[]; type: (e: OcsfEvent) => string[] }> = {
  3001: {
    category: ["iam"],
    type: (e) => [e.activity_id === 1 ? "creation" : e.activity_id === 6 ? "deletion" : "change", "user"],
  },
  3002: {
    category: ["authentication"],
    type: (e) => [e.activity_id === 1 ? "start" : e.activity_id === 2 ? "end" : "info"],
  },
  3005: { category: ["iam"], type: () => ["change", "group"] },
  4007: {
    category: ["network", "session"],
    type: (e) => [e.activity_id === 1 ? "start" : e.activity_id === 2 ? "end" : "connection"],
  },
  6003: {
    category: ["web"],
    type: (e) => [
      e.activity_id === 1
        ? "creation"
        : e.activity_id === 4
          ? "deletion"
          : e.activity_id === 3
            ? "change"
            : "access",
    ],
  },
  6006: {
    category: ["file"],
    type: (e) => [e.activity_id === 1 ? "creation" : e.activity_id === 4 ? "deletion" : "access"],
  },
};

function clean(o: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null) delete o[k];
    else if (typeof v === "object" && !Array.isArray(v)) {
      clean(v as Record<string, unknown>);
      if (Object.keys(v as object).length === 0) delete o[k];
    } else if (Array.isArray(v) && v.length === 0) delete o[k];
  }
  return o;
}

/** An OCSF event as an ECS document (ECS 8.x field names); the OCSF ids are kept under `ocsf`. */
export function eventToEcs(e: OcsfEvent): Record<string, unknown> {
  if (isFinding(e)) return findingToEcs(e);
  const cat = ECS_CATEGORY[e.class_uid];
  const users = [e.actor?.user?.name, e.user?.name].filter((u): u is string => !!u);
  const ips = [e.src_endpoint?.ip, e.dst_endpoint?.ip].filter((i): i is string => !!i);
  return clean({
    "@timestamp": new Date(e.time).toISOString(),
    message: e.message,
    event: {
      kind: "event",
      category: cat?.category ?? ["host"],
      type: cat?.type(e) ?? ["info"],
      action: e.activity_name,
      outcome: e.status_id === 1 ? "success" : e.status_id === 2 ? "failure" : "unknown",
      reason: e.status_detail,
      code: String(e.type_uid),
      id: e.metadata.uid,
      dataset: `warden.${e.warden.source}`,
      provider: e.metadata.log_provider,
      severity: e.severity_id,
      original: e.raw_data,
    },
    user: {
      name: e.actor?.user?.name ?? e.user?.name,
      id: e.actor?.user?.uid,
      email: e.actor?.user?.email_addr,
      target: e.user?.name && e.actor?.user?.name !== e.user.name ? { name: e.user.name } : undefined,
    },
    source: {
      ip: e.src_endpoint?.ip,
      port: e.src_endpoint?.port,
      geo: e.src_endpoint?.location
        ? { country_iso_code: e.src_endpoint.location.country, city_name: e.src_endpoint.location.city }
        : undefined,
    },
    destination: { ip: e.dst_endpoint?.ip, port: e.dst_endpoint?.port, address: e.dst_endpoint?.hostname },
    host: { hostname: e.dst_endpoint?.hostname },
    file: e.file ? { name: e.file.name, path: e.file.path } : undefined,
    observer: { product: e.metadata.product.name, vendor: e.metadata.product.vendor_name },
    related: { user: [...new Set(users)], ip: [...new Set(ips)] },
    labels: {
      warden_developer_id: e.warden.developerId,
      warden_resource: e.warden.resource ? `${e.warden.resource.kind}:${e.warden.resource.name}` : undefined,
    },
    ocsf: {
      class_uid: e.class_uid,
      category_uid: e.category_uid,
      activity_id: e.activity_id,
      type_uid: e.type_uid,
      status_id: e.status_id,
    },
  });
}

const ECS_ALERT_ACTION: Record<number, string> = { 1: "alert-opened", 2: "alert-updated", 3: "alert-closed" };

/**
 * A Detection Finding as an ECS alert document: `event.kind: alert`, category intrusion_detection, the
 * rule under `rule`, the alert's page as `event.url`; the finding's OCSF ids stay under `ocsf`.
 */
function findingToEcs(e: OcsfEvent): Record<string, unknown> {
  const f = e.finding_info!;
  const groupKey = findingGroupKey(e);
  return clean({
    "@timestamp": new Date(e.time).toISOString(),
    message: e.message,
    event: {
      kind: "alert",
      category: ["intrusion_detection"],
      type: ["info"],
      action: ECS_ALERT_ACTION[e.activity_id] ?? "alert-other",
      id: e.metadata.uid,
      dataset: "warden.alerts",
      provider: "warden",
      severity: e.severity_id,
      start: e.start_time !== undefined ? new Date(e.start_time).toISOString() : undefined,
      end: e.end_time !== undefined ? new Date(e.end_time).toISOString() : undefined,
      url: f.src_url,
    },
    rule: {
      id: f.analytic?.uid,
      name: f.title,
      ruleset: f.types?.[0],
      description: f.desc,
    },
    user: e.user?.name || e.user?.uid ? { name: e.user?.name, id: e.user?.uid } : undefined,
    observer: { product: "Warden", vendor: "Warden" },
    related: { user: e.user?.name ? [e.user.name] : [] },
    labels: {
      warden_alert_id: f.uid,
      warden_alert_status: e.status,
      warden_alert_count: e.count,
      warden_group_key: typeof groupKey === "string" ? groupKey : undefined,
      warden_developer_id: e.warden.developerId,
    },
    ocsf: {
      class_uid: e.class_uid,
      category_uid: e.category_uid,
      activity_id: e.activity_id,
      type_uid: e.type_uid,
      status_id: e.status_id,
      related_events: f.related_events?.map((r) => r.uid),
    },
  });
}

// --------------------------------------------------------------------------------------- signed webhook

const SLACK_COLOR: Record<AlertSeverity, string> = {
  informational: "#8a8a8a",
  low: "#2eb67d",
  medium: "#ecb22e",
  high: "#e01e5a",
  critical: "#8b0000",
};

/** A body Slack incoming webhooks accept (text + blocks + attachment colour), also readable by anything. */
export function slackWebhookBody(alert: Alert, opts: { alertUrl?: string } = {}): Record<string, unknown> {
  const sev = alert.severity.toUpperCase();
  const text = `[${sev}] ${alert.title}: ${alert.summary}`;
  const fields = [
    { type: "mrkdwn", text: `*Severity*\n${alert.severity}` },
    { type: "mrkdwn", text: `*Rule*\n${alert.ruleId}` },
    { type: "mrkdwn", text: `*Occurrences*\n${alert.count}` },
    { type: "mrkdwn", text: `*Last seen*\n${new Date(alert.lastSeen).toISOString()}` },
  ];
  if (alert.developerId) fields.push({ type: "mrkdwn", text: `*Developer*\n${alert.developerId}` });
  const blocks: unknown[] = [
    { type: "header", text: { type: "plain_text", text: `${sev}: ${alert.title}`.slice(0, 150) } },
    { type: "section", text: { type: "mrkdwn", text: alert.summary.slice(0, 3000) }, fields },
  ];
  if (opts.alertUrl) {
    blocks.push({
      type: "actions",
      elements: [
        { type: "button", text: { type: "plain_text", text: "Open in Warden" }, url: opts.alertUrl },
      ],
    });
  }
  return {
    text,
    blocks,
    attachments: [{ color: SLACK_COLOR[alert.severity], fallback: text }],
    warden: { alertId: alert.id, ruleId: alert.ruleId, groupKey: alert.groupKey, severity: alert.severity },
  };
}

export const SIGNATURE_HEADER = "x-warden-signature";
export const TIMESTAMP_HEADER = "x-warden-timestamp";

/**
 * Signature = "v1=" + hex(HMAC-SHA256(secret, "v1:" + timestamp + ":" + body)), the scheme Slack and
 * Stripe use: binding the timestamp lets receivers reject replays older than a tolerance.
 */
export function signWebhook(body: string, secret: string, timestampSec: number): Record<string, string> {
  const mac = createHmac("sha256", secret).update(`v1:${timestampSec}:${body}`).digest("hex");
  return { [SIGNATURE_HEADER]: `v1=${mac}`, [TIMESTAMP_HEADER]: String(timestampSec) };
}

export function verifyWebhookSignature(opts: {
  body: string;
  secret: string;
  signature: string | undefined;
  timestamp: string | undefined;
  nowSec: number;
  toleranceSec?: number;
}): boolean {
  const ts = Number(opts.timestamp);
  if (!opts.signature || !Number.isInteger(ts)) return false;
  if (Math.abs(opts.nowSec - ts) > (opts.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(signWebhook(opts.body, opts.secret, ts)[SIGNATURE_HEADER]!);
  const got = Buffer.from(opts.signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
