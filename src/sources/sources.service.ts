/**
 * Event sources wired into the running server: the syslog receiver (sshd and other hosts, started by
 * `serve` when a port is configured) and the GitHub audit-log stream and GitLab audit-event webhooks.
 * Each normalises to OCSF (src/ingest) and appends to the event log, which maps actors to developers
 * (SSH certificate key id, Git username, e-mail) and answers once the events are durable.
 */

import { timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import { AppError, isAppError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import {
  createSyslogReceiver,
  normaliseGitHubAuditEvent,
  normaliseGitLabAuditEvent,
  type OcsfEvent,
  type SyslogReceiver,
  verifyGitLabStreamingToken,
} from "../ingest/index.ts";
import { splitJsonValues } from "./json-stream.ts";

export interface EventAppender {
  appendEvents(events: OcsfEvent[]): Promise<{ id: string; index: number; duplicate: boolean }[]>;
}

export interface SourcesDeps {
  config: Config;
  clock: Clock;
  logger: Logger;
  eventLog: EventAppender;
}

/** Events held for the log while it asks us to wait (429); beyond this, syslog lines are dropped. */
const MAX_BUFFERED = 50_000;
const FLUSH_EVENTS = 500;
const FLUSH_MS = 20;

const sameSecret = (given: string | undefined, expected: string) => {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

export function createSourcesService(deps: SourcesDeps) {
  const { config, logger, eventLog } = deps;
  let receiver: SyslogReceiver | undefined;
  const counters = { received: 0, appended: 0, dropped: 0, appendErrors: 0, parseErrors: 0 };
  let buffer: OcsfEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let lastError: string | null = null;

  async function flush(): Promise<void> {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, FLUSH_EVENTS);
      try {
        await eventLog.appendEvents(batch);
        buffer = buffer.slice(batch.length);
        counters.appended += batch.length;
      } catch (err) {
        // Overload (429) and store hiccups: keep the events, in order, and try again shortly.
        counters.appendErrors++;
        lastError = err instanceof Error ? err.message : String(err);
        const wait =
          isAppError(err) && typeof err.details.retryAfterSeconds === "number"
            ? err.details.retryAfterSeconds * 1000
            : 1000;
        if (!isAppError(err) || err.code !== "rate_limited")
          logger.warn({ err: lastError, buffered: buffer.length }, "syslog events could not be logged yet");
        await new Promise((r) => setTimeout(r, Math.min(wait, 10_000)).unref?.());
        if (!receiver) return; // stopping: what is left is reported as dropped
      }
    }
  }

  function schedule() {
    if (flushing || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      flushing = flush().finally(() => {
        flushing = undefined;
        if (buffer.length > 0 && receiver) schedule();
      });
    }, FLUSH_MS);
  }

  function onSyslogEvent(event: OcsfEvent) {
    counters.received++;
    if (buffer.length >= MAX_BUFFERED) {
      counters.dropped++;
      if (counters.dropped === 1 || counters.dropped % 10_000 === 0)
        logger.error({ dropped: counters.dropped }, "the event log is not keeping up: syslog events dropped");
      return;
    }
    buffer.push(event);
    schedule();
  }

  /** Starts the syslog receiver when a port is configured; a no-op otherwise. */
  async function startSyslog(
    /** The server's HTTPS key and certificate, for syslog over TLS unless a syslog one is configured. */
    serverTls?: () => Promise<{ key: string | Buffer; cert: string | Buffer }>,
  ): Promise<SyslogReceiver["ports"] | undefined> {
    const s = config.syslog;
    if (s.udpPort === undefined && s.tcpPort === undefined && s.tls === undefined) return undefined;
    let tls: Parameters<typeof createSyslogReceiver>[0]["tls"];
    if (s.tls) {
      const own =
        s.tls.certFile && s.tls.keyFile
          ? { key: await readFile(s.tls.keyFile), cert: await readFile(s.tls.certFile) }
          : await serverTls?.();
      if (!own) throw new AppError("unavailable", "WARDEN_SYSLOG_TLS_PORT needs a certificate");
      const ca = s.tls.clientCaFile ? await readFile(s.tls.clientCaFile) : undefined;
      tls = { port: s.tls.port, key: own.key, cert: own.cert, ...(ca ? { ca, requestCert: true } : {}) };
    }
    receiver = await createSyslogReceiver({
      host: s.host,
      ...(s.udpPort !== undefined ? { udpPort: s.udpPort } : {}),
      ...(s.tcpPort !== undefined ? { tcpPort: s.tcpPort } : {}),
      ...(tls ? { tls } : {}),
      rfc3164TimeZone: s.rfc3164TimeZone,
      clock: deps.clock,
      onEvent: onSyslogEvent,
      onError: (e) => {
        counters.parseErrors++;
        logger.debug(
          { kind: e.kind, transport: e.transport, peer: e.peer, error: e.message },
          "syslog input refused",
        );
      },
    });
    return receiver.ports;
  }

  async function stop() {
    const r = receiver;
    receiver = undefined;
    if (timer) clearTimeout(timer);
    timer = undefined;
    await r?.close();
    // Hand over what was received before the receiver closed (one try; the log may be closing too).
    if (buffer.length > 0) {
      try {
        await eventLog.appendEvents(buffer);
        counters.appended += buffer.length;
      } catch {
        counters.dropped += buffer.length;
      }
      buffer = [];
    }
    await flushing;
  }

  /** Resolves when every syslog event received so far is in the log (tests, shutdown). */
  async function settled(): Promise<void> {
    for (let i = 0; i < 500 && (buffer.length > 0 || flushing || timer); i++) {
      await (flushing ?? new Promise((r) => setTimeout(r, FLUSH_MS)));
    }
  }

  async function append(events: OcsfEvent[]): Promise<{ accepted: number; duplicates: number }> {
    let duplicates = 0;
    for (let i = 0; i < events.length; i += FLUSH_EVENTS) {
      const out = await eventLog.appendEvents(events.slice(i, i + FLUSH_EVENTS));
      duplicates += out.filter((o) => o.duplicate).length;
    }
    return { accepted: events.length - duplicates, duplicates };
  }

  /**
   * GitHub audit-log streaming. GitHub's Splunk destination posts HTTP Event Collector envelopes
   * (`{"event": {...}}`, several per body, optionally gzip) with `Authorization: Splunk <token>`; raw
   * audit events (NDJSON, a JSON array) are taken too, for relays that post GitHub's own format.
   */
  async function ingestGitHub(body: string, authorization: string | undefined) {
    const expected = config.sources.githubAuditToken;
    if (!expected)
      throw new AppError(
        "not_found",
        "GitHub audit streaming is not enabled (WARDEN_GITHUB_AUDIT_STREAM_TOKEN)",
      );
    const token = /^(Splunk|Bearer)\s+(.+)$/i.exec(authorization ?? "")?.[2]?.trim();
    if (!sameSecret(token, expected))
      throw new AppError("unauthenticated", "Send the stream token as Authorization: Splunk <token>");
    const events: OcsfEvent[] = [];
    const problems: string[] = [];
    let n = 0;
    for (const value of splitJsonValues(body)) {
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) {
        n++;
        const raw =
          item && typeof item === "object" && "event" in item && typeof item.event === "object"
            ? (item as { event: unknown }).event
            : item;
        try {
          events.push(normaliseGitHubAuditEvent(raw, JSON.stringify(raw)));
        } catch (err) {
          if (problems.length < 5) problems.push(`event ${n}: ${(err as Error).message}`);
        }
      }
    }
    if (n === 0) throw new AppError("validation_failed", "The body holds no audit events");
    if (events.length === 0)
      throw new AppError("validation_failed", `No event could be read: ${problems.join("; ")}`);
    const r = await append(events);
    return { ...r, rejected: n - events.length, problems };
  }

  /** GitLab audit event streaming (HTTP destination): one event per request, verification token header. */
  async function ingestGitLab(body: unknown, token: string | undefined) {
    const expected = config.sources.gitlabAuditToken;
    if (!expected)
      throw new AppError("not_found", "GitLab audit streaming is not enabled (WARDEN_GITLAB_AUDIT_TOKEN)");
    if (!verifyGitLabStreamingToken(token, expected))
      throw new AppError("unauthenticated", "Missing or wrong X-Gitlab-Event-Streaming-Token header");
    const items = Array.isArray(body) ? body : [body];
    const events = items.map((item) => normaliseGitLabAuditEvent(item, JSON.stringify(item)));
    return append(events);
  }

  const status = () => ({
    syslog: receiver
      ? { listening: true, host: config.syslog.host, ports: receiver.ports, ...receiver.stats() }
      : { listening: false, host: config.syslog.host, ports: {}, messages: 0, events: 0, errors: 0 },
    pipeline: { ...counters, buffered: buffer.length, lastError },
    github: { enabled: config.sources.githubAuditToken !== undefined },
    gitlab: { enabled: config.sources.gitlabAuditToken !== undefined },
  });

  return { startSyslog, stop, settled, ingestGitHub, ingestGitLab, status, sameSecret };
}

export type SourcesService = ReturnType<typeof createSourcesService>;
