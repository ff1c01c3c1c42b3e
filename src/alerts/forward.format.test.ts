import { describe, expect, it } from "vitest";
import { parseSshdMessage, parseSyslog } from "../ingest/index.ts";
import type { Alert } from "./alert.types.ts";
import {
  alertToDetectionFinding,
  eventToCef,
  eventToEcs,
  signWebhook,
  slackWebhookBody,
  syslogCefLine,
  verifyWebhookSignature,
} from "./forward.format.ts";

const t = Date.parse("2026-03-10T12:00:00Z");
const failed = parseSshdMessage({
  message: "Failed password for root from 203.0.113.9 port 5122 ssh2",
  time: t,
  hostname: "bastion",
  raw: "sshd[1]: Failed password|x=y",
})!;
failed.warden.developerId = "dev_7";

const alert: Alert = {
  id: "al_1",
  ruleId: "failed-login-burst",
  title: "Burst of failed logins",
  severity: "high",
  status: "open",
  groupKey: "address|203.0.113.9",
  summary: "12 failed logins from 203.0.113.9 within 5 min",
  firstSeen: t,
  lastSeen: t + 60_000,
  count: 3,
  eventRefs: ["e1"],
  details: {},
  createdAt: t,
};

describe("CEF and syslog forwarding format", () => {
  it("writes a CEF line with escaped header and extension values", () => {
    failed.message = "a=b\nc\\d";
    const cef = eventToCef(failed);
    expect(cef.startsWith("CEF:0|OpenBSD|OpenSSH|1.3.0|300201|Authentication: Logon|3|")).toBe(true);
    expect(cef).toContain("src=203.0.113.9 spt=5122");
    expect(cef).toContain("duser=root");
    expect(cef).toContain("outcome=failure");
    expect(cef).toContain("cs1Label=wardenDeveloperId cs1=dev_7");
    expect(cef).toContain("msg=a\\=b\\nc\\\\d");
  });

  it("wraps CEF in an RFC 5424 line that Warden's own parser reads back", () => {
    const line = syslogCefLine(failed, { hostname: "warden-1" });
    const parsed = parseSyslog(line, { receivedAt: 0 });
    expect(parsed.ok && parsed.message).toMatchObject({
      format: "rfc5424",
      facility: 13,
      severity: 5,
      hostname: "warden-1",
      appName: "warden",
      msgId: "event",
      time: t,
    });
    expect(parsed.ok && parsed.message.message.startsWith("CEF:0|")).toBe(true);
    expect(syslogCefLine(alert, { hostname: "warden-1" })).toMatch(
      /^<107>1 2026-03-10T12:01:00.000Z warden-1 warden - alert - CEF:0\|Warden\|Warden\|1\|alert:failed-login-burst\|Burst of failed logins\|7\|/,
    );
  });
});

describe("ECS JSON", () => {
  it("maps an OCSF authentication failure to ECS fields", () => {
    expect(eventToEcs(failed)).toMatchObject({
      "@timestamp": "2026-03-10T12:00:00.000Z",
      event: {
        kind: "event",
        category: ["authentication"],
        type: ["start"],
        outcome: "failure",
        code: "300201",
        dataset: "warden.syslog",
      },
      user: { name: "root" },
      source: { ip: "203.0.113.9", port: 5122 },
      host: { hostname: "bastion" },
      related: { user: ["root"], ip: ["203.0.113.9"] },
      labels: { warden_developer_id: "dev_7" },
      ocsf: { class_uid: 3002 },
    });
  });
});

describe("alerts as OCSF Detection Findings", () => {
  const opened = alertToDetectionFinding({
    alert,
    activity: "create",
    status: "open",
    severity: "high",
    time: t + 61_000,
    uid: "rec_1:finding",
    relatedEvents: ["e1", "e0"],
    url: "https://warden.example/alerts/al_1",
  });

  it("writes a Detection Finding (class 2004) naming the alert, its rule and the events behind it", () => {
    expect(opened).toMatchObject({
      class_uid: 2004,
      category_uid: 2,
      class_name: "Detection Finding",
      activity_id: 1,
      activity_name: "Create",
      type_uid: 200401,
      time: t + 61_000,
      severity_id: 4,
      status_id: 1,
      status: "New",
      count: 3,
      start_time: t,
      end_time: t + 60_000,
      message: alert.summary,
      finding_info: {
        uid: "al_1",
        title: "Burst of failed logins",
        first_seen_time: t,
        last_seen_time: t + 60_000,
        analytic: { uid: "failed-login-burst", type_id: 1, type: "Rule" },
        related_events: [{ uid: "e1" }, { uid: "e0" }],
        src_url: "https://warden.example/alerts/al_1",
      },
      metadata: { version: "1.3.0", uid: "rec_1:finding", product: { name: "Warden" } },
      unmapped: { group_key: "address|203.0.113.9" },
    });
    const closed = alertToDetectionFinding({
      alert,
      activity: "close",
      status: "resolved",
      severity: "medium",
      time: t,
      uid: "x",
    });
    expect(closed).toMatchObject({ activity_id: 3, type_uid: 200403, status_id: 4, severity_id: 3 });
  });

  it("forwards a finding as an alert in CEF and in syslog", () => {
    const cef = eventToCef(opened);
    expect(cef).toMatch(
      /^CEF:0\|Warden\|Warden\|1\.3\.0\|alert:failed-login-burst\|Burst of failed logins\|7\|/,
    );
    expect(cef).toContain("act=Create");
    expect(cef).toContain("externalId=al_1");
    expect(cef).toContain("cnt=3");
    expect(cef).toContain("cs2Label=groupKey cs2=address|203.0.113.9");
    expect(cef).toContain("cs4Label=alertStatus cs4=New");
    expect(cef).toContain("cs5Label=alertUrl cs5=https://warden.example/alerts/al_1");
    const line = syslogCefLine(opened, { hostname: "warden-1" });
    const parsed = parseSyslog(line, { receivedAt: 0 });
    expect(parsed.ok && parsed.message).toMatchObject({ severity: 3, msgId: "alert" });
  });

  it("forwards a finding as an ECS alert document", () => {
    expect(eventToEcs(opened)).toEqual({
      "@timestamp": new Date(t + 61_000).toISOString(),
      message: alert.summary,
      event: {
        kind: "alert",
        category: ["intrusion_detection"],
        type: ["info"],
        action: "alert-opened",
        id: "rec_1:finding",
        dataset: "warden.alerts",
        provider: "warden",
        severity: 4,
        start: new Date(t).toISOString(),
        end: new Date(t + 60_000).toISOString(),
        url: "https://warden.example/alerts/al_1",
      },
      rule: {
        id: "failed-login-burst",
        name: "Burst of failed logins",
        ruleset: "Warden built-in rule",
        description: alert.summary,
      },
      observer: { product: "Warden", vendor: "Warden" },
      labels: {
        warden_alert_id: "al_1",
        warden_alert_status: "New",
        warden_alert_count: 3,
        warden_group_key: "address|203.0.113.9",
      },
      ocsf: {
        class_uid: 2004,
        category_uid: 2,
        activity_id: 1,
        type_uid: 200401,
        status_id: 1,
        related_events: ["e1", "e0"],
      },
    });
  });
});

describe("signed Slack-compatible webhook", () => {
  it("builds a Slack body with text and blocks", () => {
    const body = slackWebhookBody(alert, { alertUrl: "https://warden.example/alerts/al_1" });
    expect(body.text).toBe("[HIGH] Burst of failed logins: 12 failed logins from 203.0.113.9 within 5 min");
    expect(JSON.stringify(body.blocks)).toContain("Open in Warden");
  });

  it("verifies its own signature, and rejects a changed body, another secret and an old timestamp", () => {
    const body = JSON.stringify(slackWebhookBody(alert));
    const h = signWebhook(body, "s3cret", 1_000_000);
    const ok = {
      body,
      secret: "s3cret",
      signature: h["x-warden-signature"],
      timestamp: h["x-warden-timestamp"],
      nowSec: 1_000_100,
    };
    expect(h["x-warden-signature"]).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(ok)).toBe(true);
    expect(verifyWebhookSignature({ ...ok, body: `${body} ` })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, secret: "other" })).toBe(false);
    expect(verifyWebhookSignature({ ...ok, nowSec: 1_000_301 })).toBe(false);
  });
});
