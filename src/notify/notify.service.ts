import { randomUUID } from "node:crypto";
import nodemailer from "nodemailer";
import { signWebhook } from "../alerts/forward.format.ts";
import type { Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import type { Role } from "../core/context.ts";
import type { Logger } from "../core/logger.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { SqlClient, Store } from "../store/store.ts";

/**
 * Notifications as a transactional outbox. A feature calls `enqueue(q, message)` with the transaction
 * of the change it announces, so a notification exists exactly when its change committed. The
 * `notify.deliver` task then sends each delivery (e-mail through SMTP, a signed Slack-compatible
 * webhook) outside any transaction, retrying with backoff; after MAX_ATTEMPTS it becomes a dead letter
 * that an operator sees and can re-drive.
 */
export type Severity = "info" | "low" | "medium" | "high" | "critical";

export interface NotifyMessage {
  /** What happened, dotted: `access.request.created`. */
  topic: string;
  subject: string;
  text: string;
  /** Who gets an e-mail. Resolved to addresses when enqueued; disabled accounts are skipped. */
  to?: { userIds?: string[]; developerIds?: string[]; emails?: string[]; roles?: Role[] };
  /** Also post to the configured webhook (default true). */
  webhook?: boolean;
  severity?: Severity;
  /** Machine-readable details for the webhook body (ids, not secrets). */
  data?: Record<string, unknown>;
  /** Ids of the records concerned (request, grant, alert…). */
  refs?: string[];
}

export interface DeliveryView {
  id: string;
  notificationId: string;
  topic: string;
  subject: string;
  severity: Severity;
  createdAt: Date;
  channel: "email" | "webhook";
  target: string;
  status: "pending" | "sent" | "dead";
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  sentAt: Date | null;
}

export interface NotifyDeps {
  store: Store;
  clock: Clock;
  config: Config;
  logger: Logger;
  scheduler: Scheduler;
}

export const MAX_ATTEMPTS = 8;
const BATCH = 50;
/** Backoff before try n+1: 30 s, 1 min, 2 min … capped at 1 hour (about 4 hours to a dead letter). */
export const deliveryBackoffMs = (attempts: number) => Math.min(3_600_000, 30_000 * 2 ** (attempts - 1));

/** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465 (implicit TLS). */
function smtpOptions(url: string) {
  const u = new URL(url);
  const secure = u.protocol === "smtps:";
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    ...(u.username
      ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } }
      : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  };
}

const oneLine = (s: string, max: number) => s.replace(/[\r\n]+/g, " ").slice(0, max);

export function createNotifyService(deps: NotifyDeps) {
  const { store, clock, config, logger } = deps;
  const smtp = config.notify.smtp;
  const webhook = config.notify.webhook;
  const transport = smtp ? nodemailer.createTransport(smtpOptions(smtp.url)) : undefined;

  async function resolveEmails(q: SqlClient, to: NonNullable<NotifyMessage["to"]>): Promise<string[]> {
    const emails = new Set((to.emails ?? []).map((e) => e.toLowerCase()));
    if (to.userIds?.length || to.roles?.length) {
      const r = await q.query<{ email: string }>(
        `select email from users
          where disabled_at is null and (id = any($1::uuid[]) or role = any($2::text[]))`,
        [to.userIds ?? [], to.roles ?? []],
      );
      for (const row of r.rows) emails.add(row.email.toLowerCase());
    }
    if (to.developerIds?.length) {
      const r = await q.query<{ email: string }>("select email from developers where id = any($1::uuid[])", [
        to.developerIds,
      ]);
      for (const row of r.rows) emails.add(row.email.toLowerCase());
    }
    return [...emails].sort();
  }

  /** Queues a notification; call inside the transaction of the change it announces. */
  async function enqueue(q: SqlClient, msg: NotifyMessage): Promise<string> {
    const id = randomUUID();
    const now = clock.now();
    await q.query(
      `insert into notifications (id, created_at, topic, severity, subject, body, data, refs)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        id,
        now,
        msg.topic,
        msg.severity ?? "info",
        oneLine(msg.subject, 200),
        msg.text.slice(0, 20_000),
        JSON.stringify(msg.data ?? {}),
        msg.refs ?? [],
      ],
    );
    const targets: { channel: "email" | "webhook"; target: string }[] = [];
    if (smtp && msg.to) {
      for (const email of await resolveEmails(q, msg.to)) targets.push({ channel: "email", target: email });
    }
    if (webhook && msg.webhook !== false) targets.push({ channel: "webhook", target: "webhook" });
    for (const t of targets) {
      await q.query(
        `insert into notification_deliveries (id, notification_id, channel, target, status, next_attempt_at)
         values ($1, $2, $3, $4, 'pending', $5)`,
        [randomUUID(), id, t.channel, t.target, now],
      );
    }
    if (targets.length) void deps.scheduler.nudge("notify.deliver").catch(() => {});
    return id;
  }

  interface DueRow {
    id: string;
    channel: "email" | "webhook";
    target: string;
    attempts: number;
    notification_id: string;
    created_at: Date;
    topic: string;
    severity: Severity;
    subject: string;
    body: string;
    data: Record<string, unknown>;
    refs: string[];
  }

  async function send(d: DueRow): Promise<void> {
    if (d.channel === "email") {
      if (!transport || !smtp) throw new Error("SMTP is not configured (WARDEN_SMTP_URL)");
      await transport.sendMail({
        from: smtp.from,
        to: d.target,
        subject: `[Warden] ${d.subject}`,
        text: d.body,
        headers: { "X-Warden-Topic": d.topic, "X-Warden-Notification-Id": d.notification_id },
      });
      return;
    }
    if (!webhook) throw new Error("The webhook is not configured (WARDEN_NOTIFY_WEBHOOK_URL)");
    // Slack-compatible: Slack and its clones read `text`; other receivers get the structured fields.
    const body = JSON.stringify({
      text: `[${d.severity.toUpperCase()}] ${d.subject}`,
      id: d.notification_id,
      topic: d.topic,
      severity: d.severity,
      subject: d.subject,
      body: d.body,
      data: d.data,
      refs: d.refs,
      createdAt: new Date(d.created_at).toISOString(),
    });
    const ts = Math.floor(clock.now().getTime() / 1000);
    const res = await fetch(webhook.url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...signWebhook(body, webhook.secret, ts) },
      signal: AbortSignal.timeout(10_000),
      redirect: "error",
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`the webhook answered HTTP ${res.status}`);
  }

  /** Sends what is due; one try per delivery per run (the row keeps the retry schedule). */
  async function deliverDue(): Promise<{ sent: number; retrying: number; dead: number }> {
    const counts = { sent: 0, retrying: 0, dead: 0 };
    for (;;) {
      const now = clock.now();
      // Claim a batch by pushing its next attempt out, so a concurrent node skips it (skip locked)
      // and a node that dies mid-send leaves it to be retried after the lease.
      const due = await store.tx(async (q) => {
        const rows = (
          await q.query<DueRow>(
            `select d.id, d.channel, d.target, d.attempts, d.notification_id, n.created_at, n.topic,
                    n.severity, n.subject, n.body, n.data, n.refs
               from notification_deliveries d join notifications n on n.id = d.notification_id
              where d.status = 'pending' and d.next_attempt_at <= $1
              order by d.next_attempt_at limit $2
              for update of d skip locked`,
            [now, BATCH],
          )
        ).rows;
        if (rows.length) {
          await q.query(
            "update notification_deliveries set next_attempt_at = $2 where id = any($1::uuid[])",
            [rows.map((r) => r.id), new Date(now.getTime() + 5 * 60_000)],
          );
        }
        return rows;
      });
      if (due.length === 0) return counts;
      for (const d of due) {
        const attempts = d.attempts + 1;
        try {
          await send(d);
          await store.query(
            "update notification_deliveries set status = 'sent', attempts = $2, sent_at = $3, last_error = null where id = $1",
            [d.id, attempts, clock.now()],
          );
          counts.sent++;
        } catch (err) {
          const message = oneLine(err instanceof Error ? err.message : String(err), 500);
          const dead = attempts >= MAX_ATTEMPTS;
          logger.warn(
            { delivery: d.id, channel: d.channel, attempts, dead, error: message },
            "notification failed",
          );
          await store.query(
            `update notification_deliveries set status = $2, attempts = $3, last_error = $4, next_attempt_at = $5
              where id = $1`,
            [
              d.id,
              dead ? "dead" : "pending",
              attempts,
              message,
              new Date(clock.now().getTime() + deliveryBackoffMs(attempts)),
            ],
          );
          if (dead) counts.dead++;
          else counts.retrying++;
        }
      }
      if (due.length < BATCH) return counts;
    }
  }

  deps.scheduler.register({
    name: "notify.deliver",
    description: "Sends queued notifications (e-mail, webhook), retrying failures with backoff",
    everyMs: 5_000,
    run: deliverDue,
  });

  async function list(f: { status?: "pending" | "sent" | "dead"; limit: number }): Promise<DeliveryView[]> {
    const r = await store.query<DueRow & Record<string, unknown>>(
      `select d.id, d.notification_id, n.topic, n.subject, n.severity, n.created_at, d.channel, d.target,
              d.status, d.attempts, d.next_attempt_at, d.last_error, d.sent_at
         from notification_deliveries d join notifications n on n.id = d.notification_id
        where ($1::text is null or d.status = $1)
        order by n.created_at desc, d.id limit $2`,
      [f.status ?? null, f.limit],
    );
    return r.rows.map((row) => ({
      id: row.id,
      notificationId: row.notification_id,
      topic: row.topic,
      subject: row.subject,
      severity: row.severity,
      createdAt: new Date(row.created_at),
      channel: row.channel,
      target: row.target,
      status: row.status as DeliveryView["status"],
      attempts: row.attempts,
      nextAttemptAt: new Date(row.next_attempt_at as Date),
      lastError: (row.last_error as string | null) ?? null,
      sentAt: row.sent_at ? new Date(row.sent_at as Date) : null,
    }));
  }

  /** Puts a dead letter back in the queue, due now, with a fresh count of tries. */
  async function redrive(id: string): Promise<boolean> {
    const r = await store.query(
      `update notification_deliveries set status = 'pending', attempts = 0, next_attempt_at = $2
        where id = $1 and status = 'dead'`,
      [id, clock.now()],
    );
    if ((r.affectedRows ?? 0) === 1) void deps.scheduler.nudge("notify.deliver").catch(() => {});
    return (r.affectedRows ?? 0) === 1;
  }

  return { enqueue, deliverDue, list, redrive, close: () => transport?.close() };
}

export type NotifyService = ReturnType<typeof createNotifyService>;
