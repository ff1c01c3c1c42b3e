import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp } from "../../test/harness.ts";
import { verifyWebhookSignature } from "../alerts/forward.format.ts";
import { deliveryBackoffMs, MAX_ATTEMPTS } from "./index.ts";

const SECRET = "webhook-secret-0123456789";
const mails: { to: string[]; data: string }[] = [];
const hooks: { body: string; ok: boolean }[] = [];
let webhookStatus = 200;
let smtp: SMTPServer;
let http: Server;
let t: TestApp;

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
      const ok = verifyWebhookSignature({
        body,
        secret: SECRET,
        signature: req.headers["x-warden-signature"] as string | undefined,
        timestamp: req.headers["x-warden-timestamp"] as string | undefined,
        nowSec: Math.floor(t.clock.now().getTime() / 1000),
      });
      hooks.push({ body, ok });
      res.statusCode = webhookStatus;
      res.end();
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  t = await createTestApp({
    env: {
      WARDEN_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      WARDEN_SMTP_FROM: "warden@example.test",
      WARDEN_NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`,
      WARDEN_NOTIFY_WEBHOOK_SECRET: SECRET,
    },
  });
});
afterAll(async () => {
  await t.close();
  await new Promise<void>((r) => smtp.close(() => r()));
  await new Promise<void>((r) => http.close(() => r()));
});

describe("notifications outbox", () => {
  it("sends nothing for a change that rolled back", async () => {
    await expect(
      t.store.tx(async (q) => {
        await t.app.notify.enqueue(q, {
          topic: "t.rollback",
          subject: "never",
          text: "x",
          to: { emails: ["a@example.test"] },
        });
        throw new Error("the change failed");
      }),
    ).rejects.toThrow("the change failed");
    await t.app.notify.deliverDue();
    expect(mails.some((m) => m.data.includes("never"))).toBe(false);
    expect((await t.app.notify.list({ limit: 100 })).some((d) => d.topic === "t.rollback")).toBe(false);
  });

  it("e-mails the resolved recipients and posts a signed, Slack-compatible webhook", async () => {
    const sec = await t.signIn("security");
    const before = mails.length;
    await t.store.tx((q) =>
      t.app.notify.enqueue(q, {
        topic: "access.request.created",
        subject: "Request to approve",
        text: "A developer asks for read on db-staging.\n",
        to: { roles: ["security"], emails: ["Owner@Example.test"] },
        severity: "medium",
        refs: ["req-1"],
      }),
    );
    expect(await t.app.notify.deliverDue()).toMatchObject({ sent: expect.any(Number), dead: 0 });
    const newMails = mails.slice(before);
    const recipients = newMails.flatMap((m) => m.to);
    expect(recipients).toContain(sec.email.toLowerCase());
    expect(recipients).toContain("owner@example.test");
    expect(newMails[0]?.data).toContain("Subject: [Warden] Request to approve");
    const hook = hooks.at(-1);
    expect(hook?.ok).toBe(true);
    expect(JSON.parse(hook?.body ?? "{}")).toMatchObject({
      text: "[MEDIUM] Request to approve",
      topic: "access.request.created",
      refs: ["req-1"],
    });
  });

  it("retries a failing webhook with backoff, keeps it as a dead letter, and re-drives it", async () => {
    webhookStatus = 503;
    await t.store.tx((q) => t.app.notify.enqueue(q, { topic: "t.flaky", subject: "Flaky", text: "x" }));
    for (let n = 1; n <= MAX_ATTEMPTS; n++) {
      await t.app.notify.deliverDue();
      t.clock.advance(deliveryBackoffMs(n));
    }
    const [dead] = (await t.app.notify.list({ status: "dead", limit: 10 })).filter(
      (d) => d.topic === "t.flaky",
    );
    expect(dead).toMatchObject({ attempts: MAX_ATTEMPTS, lastError: "the webhook answered HTTP 503" });

    const auditor = (await t.signIn("auditor")).client;
    const listed = await auditor.get("/api/v1/notifications/deliveries?status=dead");
    expect(listed.body.items.map((d: { id: string }) => d.id)).toContain(dead?.id);
    expect((await auditor.post(`/api/v1/notifications/deliveries/${dead?.id}/redrive`, {})).status).toBe(403);

    webhookStatus = 200;
    const admin = (await t.signIn("admin")).client;
    expect((await admin.post(`/api/v1/notifications/deliveries/${dead?.id}/redrive`, {})).status).toBe(204);
    await t.app.notify.deliverDue();
    const [again] = (await t.app.notify.list({ limit: 100 })).filter((d) => d.id === dead?.id);
    expect(again).toMatchObject({ status: "sent", attempts: 1 });
    expect((await admin.post(`/api/v1/notifications/deliveries/${dead?.id}/redrive`, {})).status).toBe(404);
  });

  it("queues a test notification through the API, audited", async () => {
    const admin = await t.signIn("admin");
    const r = await admin.client.post("/api/v1/notifications/test", {});
    expect(r.status).toBe(202);
    await t.app.notify.deliverDue();
    expect(mails.at(-1)?.to).toEqual([admin.email.toLowerCase()]);
    const ev = await admin.client.get("/api/v1/audit/events?action=notification.test");
    expect(ev.body.items[0]?.target?.id).toBe(r.body.id);
  });

  it("runs as the notify.deliver task of the scheduler", async () => {
    await t.store.tx((q) =>
      t.app.notify.enqueue(q, {
        topic: "t.sched",
        subject: "Via scheduler",
        text: "x",
        to: { emails: ["s@example.test"] },
      }),
    );
    const run = await t.app.scheduler.runNow("notify.deliver");
    expect(run.outcome).toBe("ok");
    expect(mails.at(-1)?.to).toEqual(["s@example.test"]);
  });
});
