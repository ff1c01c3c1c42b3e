import { describe, expect, it } from "vitest";
import { parseSshdMessage, parseSyslog } from "../ingest/index.ts";
import type { Alert } from "./alert.types.ts";
import {
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
