/** Delivery against real local servers: HTTP (node:http), SMTP (smtp-server) and Warden's syslog receiver. */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock } from "../core/clock.ts";
import { createSyslogReceiver, parseSshdMessage, type SyslogMessage } from "../ingest/index.ts";
import type { Alert } from "./alert.types.ts";
import {
  createEcsHttpForwarder,
  createEmailNotifier,
  createSyslogForwarder,
  createWebhookNotifier,
  type DeadLetter,
  withRetry,
} from "./delivery.service.ts";
import { verifyWebhookSignature } from "./forward.format.ts";

const t = Date.parse("2026-03-10T12:00:00Z");
const alert: Alert = {
  id: "al_1",
  ruleId: "off-hours",
  title: "Activity outside the developer's working hours",
  severity: "medium",
  status: "open",
  groupKey: "dev_7|2026-03-11",
  summary: "dev_7 active at 02:00 Asia/Tokyo (2026-03-11), outside working hours 09:00–18:00",
  developerId: "dev_7",
  firstSeen: t,
  lastSeen: t,
  count: 1,
  eventRefs: ["e1"],
  details: {},
  createdAt: t,
};
const noWait = { sleep: async () => {}, random: () => 0.5 };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function httpServer(
  handler: (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void,
) {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("retry with backoff", () => {
  it("backs off exponentially with jitter and stops after the last attempt", async () => {
    const waits: number[] = [];
    let tries = 0;
    await expect(
      withRetry(
        async () => {
          tries++;
          throw new Error("down");
        },
        {
          attempts: 4,
          baseDelayMs: 100,
          maxDelayMs: 250,
          sleep: async (ms) => void waits.push(ms),
          random: () => 0.999,
        },
      ),
    ).rejects.toThrow("down");
    expect(tries).toBe(4);
    expect(waits).toEqual([99, 199, 249]);
  });
});

describe("signed webhook notifier", () => {
  it("retries a failing endpoint and delivers a body whose signature verifies", async () => {
    const received: Array<{ body: string; sig?: string; ts?: string }> = [];
    let calls = 0;
    const url = await httpServer((req, body, res) => {
      calls++;
      if (calls <= 2) {
        res.statusCode = 503;
        return res.end();
      }
      received.push({
        body,
        sig: req.headers["x-warden-signature"] as string,
        ts: req.headers["x-warden-timestamp"] as string,
      });
      res.end("ok");
    });
    const clock = manualClock("2026-03-10T12:00:00Z");
    const notifier = createWebhookNotifier({
      url: `${url}/hooks/secret-path`,
      secret: "whsec",
      clock,
      retry: noWait,
    });
    const result = await notifier.notify(alert);
    expect(result).toEqual({ delivered: true, attempts: 3 });
    const [r] = received;
    expect(JSON.parse(r!.body)).toMatchObject({
      text: expect.stringContaining("[MEDIUM]"),
      warden: { alertId: "al_1" },
    });
    expect(
      verifyWebhookSignature({
        body: r!.body,
        secret: "whsec",
        signature: r!.sig,
        timestamp: r!.ts,
        nowSec: clock.now().getTime() / 1000,
      }),
    ).toBe(true);
  });

  it("dead-letters at once on a 4xx, without retrying and without the URL's secret path", async () => {
    let calls = 0;
    const url = await httpServer((_req, _body, res) => {
      calls++;
      res.statusCode = 404;
      res.end();
    });
    const letters: DeadLetter[] = [];
    const notifier = createWebhookNotifier({
      url: `${url}/T000/B000/xoxsecret`,
      secret: "s",
      clock: manualClock(),
      retry: noWait,
      onDeadLetter: (l) => letters.push(l),
    });
    expect(await notifier.notify(alert)).toEqual({ delivered: false, attempts: 1 });
    expect(calls).toBe(1);
    expect(letters[0]).toMatchObject({ channel: "webhook", refs: ["al_1"], attempts: 1 });
    expect(JSON.stringify(letters)).not.toContain("xoxsecret");
  });
});

describe("ECS HTTP forwarder", () => {
  it("posts NDJSON batches and honours Retry-After", async () => {
    const bodies: string[] = [];
    let calls = 0;
    const url = await httpServer((_req, body, res) => {
      calls++;
      if (calls === 1) {
        res.statusCode = 429;
        res.setHeader("retry-after", "7");
        return res.end();
      }
      bodies.push(body);
      res.end();
    });
    const waits: number[] = [];
    const fwd = createEcsHttpForwarder({ url, retry: { sleep: async (ms) => void waits.push(ms) } });
    const e = parseSshdMessage({
      message: "Accepted password for ana from 198.51.100.4 port 1 ssh2",
      time: t,
    })!;
    expect(await fwd.send([e, e])).toEqual({ delivered: true, attempts: 2 });
    expect(waits).toEqual([7000]);
    const lines = bodies[0]!
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      event: { category: ["authentication"], outcome: "success" },
      user: { name: "ana" },
    });
  });
});

describe("syslog CEF forwarder", () => {
  it.each(["tcp", "udp"] as const)(
    "delivers RFC 5424 + CEF lines over %s to a syslog receiver",
    async (transport) => {
      const got: SyslogMessage[] = [];
      const receiver = await createSyslogReceiver({
        [transport === "tcp" ? "tcpPort" : "udpPort"]: 0,
        onMessage: (m) => got.push(m),
      });
      cleanups.push(() => receiver.close());
      const fwd = createSyslogForwarder({
        host: "127.0.0.1",
        port: receiver.ports[transport]!,
        transport,
        hostname: "warden-1",
      });
      cleanups.push(() => fwd.close());
      const e = parseSshdMessage({
        message: "Failed password for root from 203.0.113.9 port 1 ssh2",
        time: t,
      })!;
      await fwd.sendEvent(e);
      await fwd.sendAlert(alert);
      const deadline = Date.now() + 5000;
      while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(got.map((m) => m.msgId)).toEqual(["event", "alert"]);
      expect(got[0]!.message).toMatch(/^CEF:0\|OpenBSD\|OpenSSH\|/);
      expect(got[1]!.message).toContain("cs1=dev_7");
    },
  );

  it("dead-letters when nothing listens", async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const letters: DeadLetter[] = [];
    const fwd = createSyslogForwarder({
      host: "127.0.0.1",
      port,
      transport: "tcp",
      hostname: "w",
      retry: { attempts: 2, ...noWait },
      onDeadLetter: (l) => letters.push(l),
    });
    expect(await fwd.sendAlert(alert)).toEqual({ delivered: false, attempts: 2 });
    expect(letters[0]).toMatchObject({ channel: "syslog", error: expect.stringContaining("ECONNREFUSED") });
  });
});

describe("email notifier", () => {
  async function smtp(opts: { failFirst?: number; permanent?: boolean }) {
    const mails: string[] = [];
    let attempts = 0;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onRcptTo(_address, _session, cb) {
        attempts++;
        if (opts.permanent) return cb(Object.assign(new Error("mailbox unavailable"), { responseCode: 550 }));
        if (attempts <= (opts.failFirst ?? 0))
          return cb(Object.assign(new Error("try later"), { responseCode: 451 }));
        cb();
      },
      onData(stream, _session, cb) {
        let data = "";
        stream.on("data", (c: Buffer) => {
          data += c.toString();
        });
        stream.on("end", () => {
          mails.push(data);
          cb();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    return { port: (server.server.address() as AddressInfo).port, mails, attempts: () => attempts };
  }

  it("sends the alert after a temporary refusal", async () => {
    const s = await smtp({ failFirst: 1 });
    const notifier = createEmailNotifier({
      smtp: { host: "127.0.0.1", port: s.port, ignoreTLS: true },
      from: "warden@example.com",
      to: ["security@example.com"],
      retry: noWait,
      alertUrl: (a) => `https://warden.example/alerts/${a.id}`,
    });
    cleanups.push(() => notifier.close());
    expect(await notifier.notify(alert)).toEqual({ delivered: true, attempts: 2 });
    expect(s.mails).toHaveLength(1);
    expect(s.mails[0]).toContain("Subject: [Warden] MEDIUM: Activity outside the developer's working hours");
    expect(s.mails[0]).toMatch(/^X-Warden-Alert-Id: al_1\r?$/im);
    expect(s.mails[0]).toContain("https://warden.example/alerts/al_1");
  });

  it("dead-letters a permanent refusal without retrying", async () => {
    const s = await smtp({ permanent: true });
    const letters: DeadLetter[] = [];
    const notifier = createEmailNotifier({
      smtp: { host: "127.0.0.1", port: s.port, ignoreTLS: true },
      from: "warden@example.com",
      to: ["nobody@example.com"],
      retry: noWait,
      onDeadLetter: (l) => letters.push(l),
    });
    cleanups.push(() => notifier.close());
    expect(await notifier.notify(alert)).toEqual({ delivered: false, attempts: 1 });
    expect(s.attempts()).toBe(1);
    expect(letters[0]).toMatchObject({ channel: "email", refs: ["al_1"] });
  });
});
