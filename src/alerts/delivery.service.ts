/**
 * Delivery to the outside: forwarders (syslog/CEF, ECS over HTTP) and notifiers (signed webhook, email),
 * all with retries, exponential backoff with full jitter, and a dead-letter callback when they give up.
 * Nothing here persists: the caller stores dead letters (the "dead-letter view") and re-drives them.
 */
import dgram from "node:dgram";
import net from "node:net";
import tls from "node:tls";
import nodemailer from "nodemailer";
import type { Clock } from "../core/clock.ts";
import type { OcsfEvent } from "../ingest/index.ts";
import type { Alert } from "./alert.types.ts";
import { eventToEcs, signWebhook, slackWebhookBody, syslogCefLine } from "./forward.format.ts";

export interface RetryPolicy {
  /** Total tries including the first. Default 5. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected for tests; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests; default Math.random. */
  random?: () => number;
}

export interface DeadLetter {
  channel: "webhook" | "email" | "syslog" | "http";
  target: string;
  payload: string;
  error: string;
  attempts: number;
  /** Ids of the alerts or events concerned. */
  refs: string[];
}

export type OnDeadLetter = (letter: DeadLetter) => void;

/** An error that retrying cannot fix (e.g. HTTP 400, SMTP 5xx): delivery stops at once. */
export class PermanentDeliveryError extends Error {
  override name = "PermanentDeliveryError";
}

/** Thrown by a try to ask for a specific wait (HTTP 429/503 Retry-After). */
export class RetryAfterError extends Error {
  readonly delayMs: number;
  constructor(message: string, delayMs: number) {
    super(message);
    this.name = "RetryAfterError";
    this.delayMs = delayMs;
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `attempt` until it resolves; returns the number of tries, or throws the last error. */
export async function withRetry(
  attempt: (n: number) => Promise<void>,
  policy: RetryPolicy = {},
): Promise<number> {
  const attempts = policy.attempts ?? 5;
  const base = policy.baseDelayMs ?? 500;
  const max = policy.maxDelayMs ?? 30_000;
  const sleep = policy.sleep ?? defaultSleep;
  const random = policy.random ?? Math.random;
  let lastError: unknown;
  for (let n = 1; n <= attempts; n++) {
    try {
      await attempt(n);
      return n;
    } catch (err) {
      lastError = err;
      if (err instanceof PermanentDeliveryError || n === attempts) break;
      // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): spreads retry storms.
      const cap = Math.min(max, base * 2 ** (n - 1));
      const wait = err instanceof RetryAfterError ? Math.min(max, err.delayMs) : Math.floor(random() * cap);
      await sleep(wait);
    }
  }
  throw lastError;
}

async function deliver(
  channel: DeadLetter["channel"],
  target: string,
  payload: string,
  refs: string[],
  attempt: () => Promise<void>,
  policy: RetryPolicy | undefined,
  onDeadLetter: OnDeadLetter | undefined,
): Promise<{ delivered: boolean; attempts: number }> {
  let tries = 0;
  try {
    tries = await withRetry(async (n) => {
      tries = n;
      await attempt();
    }, policy);
    return { delivered: true, attempts: tries };
  } catch (err) {
    onDeadLetter?.({ channel, target, payload, error: (err as Error).message, attempts: tries, refs });
    return { delivered: false, attempts: tries };
  }
}

export interface DeliveryResult {
  delivered: boolean;
  attempts: number;
}

// ------------------------------------------------------------------------------------------- HTTP POST

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      body,
      headers,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
  } catch (err) {
    throw new Error(`POST ${redact(url)} failed: ${(err as Error).message}`);
  }
  await res.body?.cancel();
  if (res.ok) return;
  const msg = `POST ${redact(url)} answered ${res.status}`;
  if (res.status === 429 || res.status === 503) {
    const ra = res.headers.get("retry-after");
    const secs = ra && /^\d+$/.test(ra) ? Number(ra) : undefined;
    if (secs !== undefined) throw new RetryAfterError(msg, secs * 1000);
    throw new Error(msg);
  }
  if (res.status >= 400 && res.status < 500 && res.status !== 408) throw new PermanentDeliveryError(msg);
  throw new Error(msg);
}

/** Webhook URLs often embed their secret in the path (Slack's do): never log more than the origin. */
function redact(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return "(invalid URL)";
  }
}

export interface WebhookNotifierOptions {
  url: string;
  /** HMAC secret for the signature header. */
  secret: string;
  clock: Clock;
  retry?: RetryPolicy;
  onDeadLetter?: OnDeadLetter;
  /** Link to the alert in Warden's UI, shown as a button. */
  alertUrl?: (alert: Alert) => string;
  timeoutMs?: number;
}

/** Signed, Slack-compatible webhook notifications. */
export function createWebhookNotifier(opts: WebhookNotifierOptions) {
  return {
    async notify(alert: Alert): Promise<DeliveryResult> {
      const body = JSON.stringify(slackWebhookBody(alert, { alertUrl: opts.alertUrl?.(alert) }));
      return deliver(
        "webhook",
        redact(opts.url),
        body,
        [alert.id],
        () => {
          // Signed per try, so a retry carries a fresh timestamp within the receiver's tolerance.
          const ts = Math.floor(opts.clock.now().getTime() / 1000);
          return post(
            opts.url,
            body,
            { "content-type": "application/json", ...signWebhook(body, opts.secret, ts) },
            opts.timeoutMs ?? 10_000,
          );
        },
        opts.retry,
        opts.onDeadLetter,
      );
    },
  };
}

export interface HttpForwarderOptions {
  url: string;
  /** Extra headers, e.g. { authorization: "ApiKey …" }. */
  headers?: Record<string, string>;
  retry?: RetryPolicy;
  onDeadLetter?: OnDeadLetter;
  timeoutMs?: number;
}

/** The NDJSON body the ECS forwarder posts for a batch of events. */
export const ecsBody = (events: readonly OcsfEvent[]) =>
  `${events.map((e) => JSON.stringify(eventToEcs(e))).join("\n")}\n`;

/** ECS-shaped JSON over HTTP, as one NDJSON batch per call (Elasticsearch bulk-like ingest endpoints). */
export function createEcsHttpForwarder(opts: HttpForwarderOptions) {
  return {
    /** One try, no retry (the caller keeps its own schedule); throws PermanentDeliveryError on 4xx. */
    postOnce: (body: string) =>
      post(
        opts.url,
        body,
        { "content-type": "application/x-ndjson", ...opts.headers },
        opts.timeoutMs ?? 10_000,
      ),
    async send(events: OcsfEvent[]): Promise<DeliveryResult> {
      if (events.length === 0) return { delivered: true, attempts: 0 };
      const body = ecsBody(events);
      const refs = events.map((e) => e.metadata.uid ?? String(e.time));
      return deliver(
        "http",
        redact(opts.url),
        body,
        refs,
        () =>
          post(
            opts.url,
            body,
            { "content-type": "application/x-ndjson", ...opts.headers },
            opts.timeoutMs ?? 10_000,
          ),
        opts.retry,
        opts.onDeadLetter,
      );
    },
  };
}

// ----------------------------------------------------------------------------------------- syslog/CEF

export interface SyslogForwarderOptions {
  host: string;
  port: number;
  transport: "udp" | "tcp" | "tls";
  /** For TLS: CA bundle and expected server name. */
  tls?: { ca?: string | Buffer; servername?: string; cert?: string | Buffer; key?: string | Buffer };
  /** HOSTNAME written in each line (this Warden node). */
  hostname: string;
  appName?: string;
  facility?: number;
  retry?: RetryPolicy;
  onDeadLetter?: OnDeadLetter;
  connectTimeoutMs?: number;
}

/**
 * RFC 5424 lines with CEF payloads over UDP (RFC 5426), TCP (RFC 6587 octet counting) or TLS (RFC 5425).
 * The stream connection is opened lazily, kept, and reopened after an error.
 */
export function createSyslogForwarder(opts: SyslogForwarderOptions) {
  let stream: net.Socket | undefined;
  let udp: dgram.Socket | undefined;
  const target = `${opts.transport}://${opts.host}:${opts.port}`;

  const connect = () =>
    new Promise<net.Socket>((resolve, reject) => {
      const onError = (err: Error) => {
        s.destroy();
        reject(err);
      };
      const s: net.Socket =
        opts.transport === "tls"
          ? tls.connect({ host: opts.host, port: opts.port, ...opts.tls }, () => ready())
          : net.connect(opts.port, opts.host, () => ready());
      const timer = setTimeout(
        () => onError(new Error(`connect to ${target} timed out`)),
        opts.connectTimeoutMs ?? 5000,
      );
      const ready = () => {
        clearTimeout(timer);
        s.off("error", onError);
        s.on("error", () => {
          if (stream === s) stream = undefined;
          s.destroy();
        });
        s.on("close", () => {
          if (stream === s) stream = undefined;
        });
        resolve(s);
      };
      s.once("error", (e) => {
        clearTimeout(timer);
        onError(e);
      });
    });

  const write = async (line: string) => {
    if (opts.transport === "udp") {
      if (!udp) {
        udp = dgram.createSocket(net.isIPv6(opts.host) ? "udp6" : "udp4");
        udp.on("error", () => {});
      }
      await new Promise<void>((resolve, reject) =>
        udp!.send(Buffer.from(line), opts.port, opts.host, (err) => (err ? reject(err) : resolve())),
      );
      return;
    }
    if (!stream || stream.destroyed) stream = await connect();
    const s = stream;
    const frame = `${Buffer.byteLength(line)} ${line}`;
    await new Promise<void>((resolve, reject) =>
      s.write(frame, (err) => {
        if (err) {
          s.destroy();
          reject(err);
        } else resolve();
      }),
    );
  };

  const lineOpts = { hostname: opts.hostname, appName: opts.appName, facility: opts.facility };
  return {
    /** Writes lines in one try, no retry (the caller keeps its own schedule). */
    async writeLines(lines: readonly string[]): Promise<void> {
      if (opts.transport === "udp") {
        for (const line of lines) await write(line);
        return;
      }
      if (!stream || stream.destroyed) stream = await connect();
      const s = stream;
      const frames = lines.map((line) => `${Buffer.byteLength(line)} ${line}`).join("");
      await new Promise<void>((resolve, reject) =>
        s.write(frames, (err) => {
          if (err) {
            s.destroy();
            reject(err);
          } else resolve();
        }),
      );
    },
    eventLine: (event: OcsfEvent) => syslogCefLine(event, lineOpts),
    async sendEvent(event: OcsfEvent): Promise<DeliveryResult> {
      const line = syslogCefLine(event, lineOpts);
      return deliver(
        "syslog",
        target,
        line,
        [event.metadata.uid ?? String(event.time)],
        () => write(line),
        opts.retry,
        opts.onDeadLetter,
      );
    },
    async sendAlert(alert: Alert): Promise<DeliveryResult> {
      const line = syslogCefLine(alert, lineOpts);
      return deliver("syslog", target, line, [alert.id], () => write(line), opts.retry, opts.onDeadLetter);
    },
    async close(): Promise<void> {
      if (stream) await new Promise<void>((r) => stream!.end(() => r()));
      stream = undefined;
      if (udp) await new Promise<void>((r) => udp!.close(() => r()));
      udp = undefined;
    },
  };
}

// -------------------------------------------------------------------------------------------------- email

export interface EmailNotifierOptions {
  smtp: {
    host: string;
    port: number;
    /** true = implicit TLS (465); false = plain, upgraded with STARTTLS when offered unless `ignoreTLS`. */
    secure?: boolean;
    requireTLS?: boolean;
    ignoreTLS?: boolean;
    auth?: { user: string; pass: string };
    tls?: { ca?: string | Buffer; servername?: string; rejectUnauthorized?: boolean };
  };
  from: string;
  to: string[];
  retry?: RetryPolicy;
  onDeadLetter?: OnDeadLetter;
  alertUrl?: (alert: Alert) => string;
}

export function alertEmail(alert: Alert, alertUrl?: string): { subject: string; text: string } {
  const subject = `[Warden] ${alert.severity.toUpperCase()}: ${alert.title}`
    .replace(/[\r\n]+/g, " ")
    .slice(0, 200);
  const lines = [
    alert.summary,
    "",
    `Severity:    ${alert.severity}`,
    `Rule:        ${alert.ruleId}`,
    `Group:       ${alert.groupKey}`,
    `Occurrences: ${alert.count}`,
    `First seen:  ${new Date(alert.firstSeen).toISOString()}`,
    `Last seen:   ${new Date(alert.lastSeen).toISOString()}`,
  ];
  if (alert.developerId) lines.push(`Developer:   ${alert.developerId}`);
  if (alertUrl) lines.push("", `Open in Warden: ${alertUrl}`);
  return { subject, text: `${lines.join("\n")}\n` };
}

/** Email notifications through an SMTP relay (nodemailer). */
export function createEmailNotifier(opts: EmailNotifierOptions) {
  const transport = nodemailer.createTransport({
    host: opts.smtp.host,
    port: opts.smtp.port,
    secure: opts.smtp.secure ?? false,
    requireTLS: opts.smtp.requireTLS,
    ignoreTLS: opts.smtp.ignoreTLS,
    auth: opts.smtp.auth,
    tls: opts.smtp.tls,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async notify(alert: Alert): Promise<DeliveryResult> {
      const { subject, text } = alertEmail(alert, opts.alertUrl?.(alert));
      return deliver(
        "email",
        `smtp://${opts.smtp.host}:${opts.smtp.port}`,
        text,
        [alert.id],
        async () => {
          try {
            await transport.sendMail({
              from: opts.from,
              to: opts.to,
              subject,
              text,
              headers: { "X-Warden-Alert-Id": alert.id, "X-Warden-Severity": alert.severity },
            });
          } catch (err) {
            const code = (err as { responseCode?: number }).responseCode;
            // SMTP 5xx is a permanent refusal (RFC 5321 §4.2.1); 4xx and network errors are worth retrying.
            if (code !== undefined && code >= 500) throw new PermanentDeliveryError((err as Error).message);
            throw err;
          }
        },
        opts.retry,
        opts.onDeadLetter,
      );
    },
    close: () => transport.close(),
  };
}
