import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../src/alerts/index.ts";
import {
  createSyslogReceiver,
  type OcsfEvent,
  parseSshdMessage,
  type SyslogReceiver,
} from "../../src/ingest/index.ts";
import { createTestApp, type TestApp, type TestClient } from "../harness.ts";

/**
 * Alerts leave Warden: notifications (e-mail to a local SMTP server, a signed Slack-compatible webhook)
 * and SIEM forwarding of the log (syslog RFC 5424 + CEF into a real syslog receiver, ECS JSON over HTTP),
 * with retries, dead letters and re-drive.
 */
const SECRET = "alert-webhook-secret-0123";
const mails: { to: string[]; data: string }[] = [];
const hooks: { body: any; ok: boolean }[] = [];
const siemPosts: { url: string; body: string; headers: IncomingHttpHeaders }[] = [];
let siemStatus = 200;
const cefLines: string[] = [];
let smtp: SMTPServer;
let http: Server;
let syslog: SyslogReceiver;
let t: TestApp;
let admin: TestClient;
let httpBase = "";

function failedLogin(at: number, ip: string): OcsfEvent {
  const e = parseSshdMessage({
    message: `Failed password for root from ${ip} port 4000 ssh2`,
    time: at,
    hostname: "bastion",
  })!;
  e.metadata.uid = randomUUID();
  e.warden.source = "syslog";
  return e;
}

async function settle() {
  for (let i = 0; i < 3; i++) {
    await t.app.eventLog.writer.idle();
    await t.app.alerts.detection.idle();
  }
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, cb) {
      let data = "";
      stream.on("data", (c: Buffer) => {
        data += c.toString();
      });
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", r));
  http = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      if (req.url === "/hook") {
        const ok = verifyWebhookSignature({
          body,
          secret: SECRET,
          signature: req.headers["x-warden-signature"] as string | undefined,
          timestamp: req.headers["x-warden-timestamp"] as string | undefined,
          nowSec: Math.floor(t.clock.now().getTime() / 1000),
        });
        hooks.push({ body: JSON.parse(body), ok });
        res.end();
        return;
      }
      siemPosts.push({ url: req.url ?? "", body, headers: req.headers });
      res.statusCode = siemStatus;
      res.end();
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  // A real syslog receiver stands in for the SIEM's collector; it keeps every line it is sent.
  syslog = await createSyslogReceiver({
    tcpPort: 0,
    normalise: () => undefined,
    onMessage: (m) => cefLines.push(m.message),
  });
  t = await createTestApp({
    now: "2026-11-02T10:00:00Z",
    env: {
      WARDEN_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      WARDEN_SMTP_FROM: "warden@example.test",
      WARDEN_NOTIFY_WEBHOOK_URL: `${httpBase}/hook`,
      WARDEN_NOTIFY_WEBHOOK_SECRET: SECRET,
      WARDEN_PUBLIC_URL: "https://warden.example.test",
    },
  });
  admin = await t.admin();
});
afterAll(async () => {
  await t?.close();
  await syslog?.close();
  await new Promise<void>((r) => smtp.close(() => r()));
  await new Promise<void>((r) => http.close(() => r()));
});

describe("alert notifications", () => {
  it("e-mails the security team and posts a signed Slack-compatible webhook for a new high alert", async () => {
    const sec = await t.signIn("security", { email: "soc@example.test" });
    expect(sec.userId).toBeTruthy();
    const t0 = Date.parse("2026-11-02T09:00:00Z");
    await t.app.eventLog.appendEvents(
      Array.from({ length: 15 }, (_, i) => failedLogin(t0 + i * 1000, "192.0.2.50")),
    );
    await settle();
    await t.app.scheduler.runNow("notify.deliver");
    // One alert per address and one per account: two e-mails.
    const toSoc = mails
      .filter((m) => m.to.includes("soc@example.test"))
      .map((m) => m.data.replace(/=\r\n/g, ""));
    expect(toSoc).toHaveLength(2);
    expect(toSoc.every((d) => /Subject: \[Warden\] HIGH: Burst of failed logins/.test(d))).toBe(true);
    expect(toSoc.some((d) => /failed logins from 192\.0\.2\.50/.test(d))).toBe(true);
    expect(toSoc.some((d) => /failed logins for account root on bastion/.test(d))).toBe(true);
    expect(toSoc[0]).toMatch(/https:\/\/warden\.example\.test\/alerts\//);
    const hook = hooks.find((h) => h.body.topic === "alerts.alert.opened");
    expect(hook?.ok).toBe(true);
    expect(hook?.body.text).toMatch(/^\[HIGH\] HIGH: Burst of failed logins/);
    expect(hook?.body.data).toMatchObject({ ruleId: "failed-login-burst", severity: "high" });
    // Repeats of the burst grow the alert; they do not notify again.
    const before = hooks.length;
    await t.app.eventLog.appendEvents([failedLogin(t0 + 20_000, "192.0.2.50")]);
    await settle();
    await t.app.scheduler.runNow("notify.deliver");
    expect(hooks.length).toBe(before);
  });

  it("does not notify below the configured severity", async () => {
    const r = await admin.put("/api/v1/alerts/rules", {
      notify: { minSeverity: "critical", roles: ["security"] },
    });
    expect(r.status).toBe(200);
    const before = hooks.length;
    await t.app.eventLog.appendEvents(
      Array.from({ length: 10 }, (_, i) => failedLogin(Date.parse("2026-11-02T09:10:00Z") + i, "192.0.2.51")),
    );
    await settle();
    await t.app.scheduler.runNow("notify.deliver");
    expect(hooks.length).toBe(before);
    // A new alert by address (the one by account for root@bastion was open already and grew).
    expect((await admin.get("/api/v1/alerts?q=192.0.2.51")).body.total).toBe(1);
  });
});

describe("SIEM forwarding", () => {
  let syslogDest = "";
  let ecsDest = "";

  it("forwards new log events as RFC 5424 + CEF over TCP and as ECS JSON over HTTP", async () => {
    let r = await admin.post("/api/v1/siem/destinations", {
      kind: "syslog",
      name: "Collector",
      config: { host: "127.0.0.1", port: syslog.ports.tcp, transport: "tcp", classes: [3002] },
    });
    expect(r.status).toBe(201);
    syslogDest = r.body.id;
    r = await admin.post("/api/v1/siem/destinations", {
      kind: "ecs_http",
      name: "Elastic",
      config: { url: `${httpBase}/_bulk` },
      secretHeaders: { Authorization: "ApiKey c2llbS1zZWNyZXQ=" },
    });
    expect(r.status).toBe(201);
    expect(r.body.secretHeaderNames).toEqual(["Authorization"]);
    expect(JSON.stringify(r.body)).not.toContain("c2llbS1zZWNyZXQ=");
    ecsDest = r.body.id;

    await t.app.eventLog.appendEvents([failedLogin(Date.parse("2026-11-02T09:50:00Z"), "198.51.100.200")]);
    await settle();
    await t.app.scheduler.runNow("siem.forward");
    await expect.poll(() => cefLines.length).toBeGreaterThan(0);
    const line = cefLines.find((l) => l.includes("198.51.100.200"));
    expect(line).toMatch(/^CEF:0\|[^|]+\|OpenSSH\|[^|]*\|300201\|Authentication: Logon\|/);
    expect(line).toMatch(/src=198\.51\.100\.200/);
    // The syslog destination takes authentication events only; the HTTP one takes everything.
    expect(cefLines.some((l) => l.includes("alerts.destination.create"))).toBe(false);
    const bulk = siemPosts.find((p) => p.body.includes("198.51.100.200"));
    expect(bulk?.headers.authorization).toBe("ApiKey c2llbS1zZWNyZXQ=");
    expect(bulk?.headers["content-type"]).toBe("application/x-ndjson");
    const doc = bulk!.body
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((d) => d.source?.ip === "198.51.100.200");
    expect(doc).toMatchObject({
      event: { category: ["authentication"], outcome: "failure" },
      ocsf: { class_uid: 3002 },
    });
    const dest = (await admin.get(`/api/v1/siem/destinations/${ecsDest}`)).body;
    expect(dest.forwarded).toBeGreaterThan(0);
    expect(dest.lag).toBe(0);
  });

  it("retries a failing destination with backoff, then keeps the batch as a dead letter to re-drive", async () => {
    siemStatus = 503;
    await t.app.eventLog.appendEvents([failedLogin(Date.parse("2026-11-02T09:55:00Z"), "198.51.100.201")]);
    await settle();
    let attempts = 0;
    for (let i = 0; i < 12; i++) {
      await t.app.scheduler.runNow("siem.forward");
      const d = (await admin.get(`/api/v1/siem/destinations/${ecsDest}`)).body;
      if (d.deadLetters > 0) break;
      expect(d.lastError).toMatch(/503/);
      expect(d.attempts).toBeGreaterThan(attempts);
      attempts = d.attempts;
      expect(Date.parse(d.nextAttemptAt)).toBeGreaterThan(t.clock.now().getTime());
      t.clock.set(d.nextAttemptAt);
    }
    expect(attempts).toBe(7); // the eighth try gives up
    const letters = (await admin.get(`/api/v1/siem/dead-letters?destinationId=${ecsDest}`)).body.items;
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ status: "dead", attempts: 8, destinationName: "Elastic" });
    expect(letters[0].preview).toContain("198.51.100.201");

    // The destination moved on; the syslog one never failed.
    const syslogState = (await admin.get(`/api/v1/siem/destinations/${syslogDest}`)).body;
    expect(syslogState.deadLetters).toBe(0);

    let r = await admin.post(`/api/v1/siem/dead-letters/${letters[0].id}/redrive`);
    expect(r.status).toBe(503);
    siemStatus = 200;
    const received = siemPosts.length;
    r = await admin.post(`/api/v1/siem/dead-letters/${letters[0].id}/redrive`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("delivered");
    expect(siemPosts.length).toBe(received + 1);
    expect(siemPosts.at(-1)!.body).toContain("198.51.100.201");
    const audit = (await admin.get("/api/v1/audit/events?action=alerts.deadletter.redrive")).body.items;
    expect(audit.map((a: any) => a.outcome)).toEqual(["success", "failure"]);
  });

  it("gives up at once on a permanent refusal (HTTP 400)", async () => {
    siemStatus = 400;
    await t.app.eventLog.appendEvents([failedLogin(Date.parse("2026-11-02T09:58:00Z"), "198.51.100.202")]);
    await settle();
    await t.app.scheduler.runNow("siem.forward");
    const letters = (await admin.get(`/api/v1/siem/dead-letters?destinationId=${ecsDest}&status=dead`)).body
      .items;
    expect(letters).toHaveLength(1);
    expect(letters[0].error).toMatch(/400/);
    siemStatus = 200;
  });

  it("tests a destination and refuses a mismatched configuration", async () => {
    const r = await admin.post(`/api/v1/siem/destinations/${syslogDest}/test`);
    expect(r.body).toEqual({ ok: true, error: null });
    await expect.poll(() => cefLines.some((l) => l.includes("alerts.destination.test"))).toBe(true);
    const bad = await admin.patch(`/api/v1/siem/destinations/${syslogDest}`, {
      config: { url: "https://x.test" },
    });
    expect(bad.status).toBe(400);
    const off = await admin.patch(`/api/v1/siem/destinations/${syslogDest}`, { enabled: false });
    expect(off.body.enabled).toBe(false);
    expect((await admin.del(`/api/v1/siem/destinations/${syslogDest}`)).status).toBe(204);
    expect((await admin.get(`/api/v1/siem/destinations/${syslogDest}`)).status).toBe(404);
  });
});

describe("alerts forwarded to SIEMs as alerts", () => {
  let cefDest = "";
  let ecsDest = "";
  /** What the alerts-only HTTP destination received (the other one takes the whole log). */
  const alertPosts = () => siemPosts.filter((p) => p.url === "/alerts/_bulk");
  const alertDocs = () =>
    alertPosts()
      .flatMap((p) =>
        p.body
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l)),
      )
      .filter((d) => d.event?.kind === "alert");
  const burst = async (ip: string) => {
    const at = t.clock.now().getTime();
    await t.app.eventLog.appendEvents(Array.from({ length: 10 }, (_, i) => failedLogin(at + i * 1000, ip)));
    await settle();
    const alerts = (await admin.get(`/api/v1/alerts?q=${ip}`)).body.items;
    expect(alerts).toHaveLength(1);
    return alerts[0];
  };

  it("sends a new alert as an OCSF Detection Finding: CEF over syslog and an ECS alert over HTTP", async () => {
    let r = await admin.post("/api/v1/siem/destinations", {
      kind: "syslog",
      name: "SOC alerts",
      config: { host: "127.0.0.1", port: syslog.ports.tcp, transport: "tcp", classes: [2004] },
    });
    expect(r.status).toBe(201);
    cefDest = r.body.id;
    r = await admin.post("/api/v1/siem/destinations", {
      kind: "ecs_http",
      name: "Elastic alerts",
      config: { url: `${httpBase}/alerts/_bulk`, classes: [2004] },
    });
    expect(r.status).toBe(201);
    ecsDest = r.body.id;
    const linesBefore = cefLines.length;
    const postsBefore = alertPosts().length;

    const alert = await burst("198.51.100.210");
    await t.app.scheduler.runNow("siem.forward");
    await expect.poll(() => cefLines.length).toBeGreaterThan(linesBefore);
    // Only the finding reached the alerts-only destinations: no failed login, no audit record.
    const lines = cefLines.slice(linesBefore);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^CEF:0\|Warden\|Warden\|1\.3\.0\|alert:failed-login-burst\|Burst of failed logins\|7\|/,
    );
    expect(lines[0]).toContain(`externalId=${alert.id}`);
    expect(lines[0]).toContain("act=Create");
    expect(lines[0]).toContain("cs4Label=alertStatus cs4=New");
    expect(lines[0]).toContain(`cs5=https://warden.example.test/alerts/${alert.id}`);
    const posts = alertPosts().slice(postsBefore);
    expect(posts).toHaveLength(1);
    const docs = posts[0]!.body
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({
      message: alert.summary,
      event: { kind: "alert", category: ["intrusion_detection"], action: "alert-opened", severity: 4 },
      rule: { id: "failed-login-burst", name: "Burst of failed logins" },
      labels: { warden_alert_id: alert.id, warden_alert_status: "New", warden_alert_count: 1 },
      ocsf: { class_uid: 2004, activity_id: 1 },
    });
    // The events behind it are named by their ids in Warden's log.
    const detail = (await admin.get(`/api/v1/alerts/${alert.id}`)).body;
    expect(docs[0].ocsf.related_events).toEqual(
      expect.arrayContaining(detail.events.map((e: { eventId: string }) => e.eventId)),
    );
  });

  it("sends what people do with it as updates, and its resolution as a Close", async () => {
    const alert = (await admin.get("/api/v1/alerts?q=198.51.100.210")).body.items[0];
    const postsBefore = alertPosts().length;
    const linesBefore = cefLines.length;
    expect(
      (await admin.patch(`/api/v1/alerts/${alert.id}`, { status: "acknowledged", severity: "critical" }))
        .status,
    ).toBe(200);
    expect((await admin.patch(`/api/v1/alerts/${alert.id}`, { status: "resolved" })).status).toBe(200);
    await t.app.scheduler.runNow("siem.forward");
    await expect.poll(() => cefLines.length).toBe(linesBefore + 2);
    expect(cefLines.slice(linesBefore).map((l) => /act=(\w+)/.exec(l)?.[1])).toEqual(["Update", "Close"]);
    expect(cefLines[linesBefore]).toMatch(/\|9\|.*cs4=In Progress/);
    expect(cefLines[linesBefore + 1]).toContain("cs4=Resolved");
    const docs = alertPosts()
      .slice(postsBefore)
      .flatMap((p) => p.body.trim().split("\n"))
      .map((l) => JSON.parse(l));
    expect(docs.map((d) => [d.event.action, d.labels.warden_alert_status, d.event.severity])).toEqual([
      ["alert-updated", "In Progress", 5],
      ["alert-closed", "Resolved", 5],
    ]);
  });

  it("keeps a refused alert batch as a dead letter and sends it again on re-drive", async () => {
    siemStatus = 400;
    const alert = await burst("198.51.100.211");
    await t.app.scheduler.runNow("siem.forward");
    const letters = (await admin.get(`/api/v1/siem/dead-letters?destinationId=${ecsDest}&status=dead`)).body
      .items;
    expect(letters).toHaveLength(1);
    expect(letters[0].events).toBe(1);
    expect(letters[0].preview).toContain(`"warden_alert_id":"${alert.id}"`);
    // The syslog destination got it all the same.
    await expect.poll(() => cefLines.some((l) => l.includes(`externalId=${alert.id}`))).toBe(true);
    siemStatus = 200;
    const r = await admin.post(`/api/v1/siem/dead-letters/${letters[0].id}/redrive`);
    expect(r.status).toBe(200);
    expect(alertDocs().some((d) => d.labels.warden_alert_id === alert.id)).toBe(true);
    expect((await admin.get(`/api/v1/siem/destinations/${cefDest}`)).body.deadLetters).toBe(0);
  });
});
