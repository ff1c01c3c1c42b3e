/**
 * Continuous forwarding of the event log to SIEMs: RFC 5424 syslog lines carrying CEF (UDP, TCP, TLS) and
 * ECS-shaped JSON over HTTP. Alerts go with them as alerts: where the log records an alert opened or
 * worked (`alerts.alert.opened`, `alerts.alert.update`), an OCSF Detection Finding (class 2004) follows
 * the record in the same batch, as CEF or as an ECS `event.kind: alert` document. Each destination keeps a cursor (the last log index handed over); the
 * `siem.forward` task reads on from it in batches, outside any transaction. A batch that fails is tried
 * again with backoff on later runs; after the last try (or at once when the destination refuses it for
 * good, HTTP 4xx) it becomes a dead letter people can see and send again, and forwarding moves on.
 * Delivery is at least once: a batch sent again after a timeout may arrive twice.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { AppError, conflict, notFound } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { OcsfEvent } from "../ingest/index.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import type { AlertSeverity, AlertStatus } from "./alert.types.ts";
import { type AlertRow, alertsRepo } from "./alerts.repo.ts";
import {
  createEcsHttpForwarder,
  createSyslogForwarder,
  ecsBody,
  PermanentDeliveryError,
} from "./delivery.service.ts";
import type { AppendedEvent, EventLogPort } from "./event-log.port.ts";
import { alertToDetectionFinding, type FindingChange } from "./forward.format.ts";
import { type DeadLetterRow, type DestinationRow, forwardingRepo as repo } from "./forwarding.repo.ts";
import type {
  DestinationInput,
  DestinationPatch,
  DestinationView,
  ecsHttpConfig,
  syslogConfig,
} from "./forwarding.schemas.ts";

type SyslogConfig = import("zod").output<typeof syslogConfig>;
type EcsConfig = import("zod").output<typeof ecsHttpConfig>;

export const FORWARD_BATCH = 500;
export const FORWARD_MAX_ATTEMPTS = 8;
/** Wait before try n+1: 15 s, 30 s, 1 min … capped at 30 minutes (about an hour to a dead letter). */
export const forwardBackoffMs = (attempts: number) => Math.min(1_800_000, 15_000 * 2 ** (attempts - 1));

interface Sender {
  key: string;
  /** One try: throws on failure (PermanentDeliveryError when trying again cannot help). */
  send(payload: string): Promise<void>;
  format(events: readonly OcsfEvent[]): string;
  close(): Promise<void>;
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ").slice(0, 1000);

export interface ForwardingDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  sealer: Sealer;
  scheduler: Scheduler;
  eventLog: Pick<EventLogPort, "readAfter"> & { size?: () => Promise<number> };
  /** HOSTNAME written in syslog lines. Default: this machine's name. */
  hostname?: string;
  /** Link to an alert in the web UI, sent with alerts. */
  alertUrl?: (id: string) => string;
}

const ALERT_RECORDS = new Set(["alerts.alert.opened", "alerts.alert.update"]);
/** Event ids sent with each alert (the newest); the SIEM finds the rest in Warden. */
const RELATED_EVENTS = 10;

interface AlertRecord {
  opened: boolean;
  alertId: string;
  summary: { severity?: unknown; status?: { to?: unknown }; [k: string]: unknown };
}

/** Warden's own record of an alert opened or worked, as the log holds it (auditToOcsf). */
function alertRecordOf(e: OcsfEvent): AlertRecord | undefined {
  if (e.warden.source !== "warden" || e.warden.resource?.kind !== "alert") return undefined;
  const u = e.unmapped as { action?: unknown; summary?: unknown } | undefined;
  if (typeof u?.action !== "string" || !ALERT_RECORDS.has(u.action)) return undefined;
  return {
    opened: u.action === "alerts.alert.opened",
    alertId: e.warden.resource.name,
    summary: (u.summary ?? {}) as AlertRecord["summary"],
  };
}

const SEVERITIES = new Set(["informational", "low", "medium", "high", "critical"]);
const STATUSES = new Set(["open", "acknowledged", "resolved"]);
const toTo = (v: unknown) => (v && typeof v === "object" ? (v as { to?: unknown }).to : undefined);

/**
 * The change a record describes, with the alert as stored now (title, counts, rule) and the status and
 * severity the record itself says it set, so a late or repeated forward still tells what happened then.
 */
function findingChange(
  r: AlertRecord,
  row: AlertRow,
  record: OcsfEvent,
  related: readonly string[],
  url: string | undefined,
): FindingChange {
  const sev = r.opened ? r.summary.severity : toTo(r.summary.severity);
  const severity = (typeof sev === "string" && SEVERITIES.has(sev) ? sev : row.severity) as AlertSeverity;
  const st = r.opened ? "open" : toTo(r.summary.status);
  const status = (typeof st === "string" && STATUSES.has(st) ? st : row.status) as AlertStatus;
  return {
    alert: {
      id: row.id,
      ruleId: row.rule_id,
      title: row.title,
      severity: row.severity,
      status: row.status,
      groupKey: row.group_key,
      summary: row.summary,
      ...(row.developer_id ? { developerId: row.developer_id } : {}),
      firstSeen: new Date(row.first_seen).getTime(),
      lastSeen: new Date(row.last_seen).getTime(),
      count: Number(row.count),
      eventRefs: [],
      details: row.details ?? {},
      createdAt: new Date(row.created_at).getTime(),
    },
    activity: r.opened ? "create" : status === "resolved" ? "close" : "update",
    status,
    severity,
    time: record.time,
    uid: `${record.metadata.uid ?? row.id}:finding`,
    developerName: row.developer_name,
    assignee: row.assignee_name,
    relatedEvents: related,
    url,
  };
}

export function createForwardingService(deps: ForwardingDeps) {
  const { store, clock, audit, sealer, logger } = deps;
  const hostname = deps.hostname ?? os.hostname();
  const senders = new Map<string, Sender>();

  const sealCtx = (id: string) => ({ table: "siem_destinations", id, column: "secret_headers" });

  async function headersOf(d: DestinationRow): Promise<Record<string, string>> {
    if (!d.secret_headers) return {};
    return JSON.parse((await sealer.open(d.secret_headers, sealCtx(d.id))).toString("utf8"));
  }

  async function senderFor(d: DestinationRow): Promise<Sender> {
    const key = `${new Date(d.updated_at).getTime()}|${JSON.stringify(d.config)}`;
    const cached = senders.get(d.id);
    if (cached?.key === key) return cached;
    if (cached) await cached.close().catch(() => {});
    let sender: Sender;
    if (d.kind === "syslog") {
      const c = d.config as unknown as SyslogConfig;
      const fwd = createSyslogForwarder({
        host: c.host,
        port: c.port,
        transport: c.transport,
        hostname,
        ...(c.transport === "tls"
          ? { tls: { ...(c.caPem ? { ca: c.caPem } : {}), servername: c.serverName ?? c.host } }
          : {}),
      });
      sender = {
        key,
        format: (events) => events.map((e) => fwd.eventLine(e)).join("\n"),
        send: (payload) => fwd.writeLines(payload.split("\n")),
        close: () => fwd.close(),
      };
    } else {
      const c = d.config as unknown as EcsConfig;
      const fwd = createEcsHttpForwarder({ url: c.url, headers: await headersOf(d) });
      sender = { key, format: ecsBody, send: (payload) => fwd.postOnce(payload), close: async () => {} };
    }
    senders.set(d.id, sender);
    return sender;
  }

  async function dropSender(id: string) {
    const s = senders.get(id);
    senders.delete(id);
    await s?.close().catch(() => {});
  }

  /** The page's events in log order, each alert record followed by its Detection Finding. */
  async function withFindings(page: readonly AppendedEvent[]): Promise<OcsfEvent[]> {
    const records = page.map((a) => alertRecordOf(a.event));
    const ids = [...new Set(records.flatMap((r) => (r ? [r.alertId] : [])))];
    if (ids.length === 0) return page.map((a) => a.event);
    const rows = new Map((await alertsRepo.byIds(store, ids)).map((r) => [r.id, r]));
    const related = new Map<string, string[]>();
    for (const l of await alertsRepo.newestEventIds(store, ids, RELATED_EVENTS))
      related.set(l.alert_id, [...(related.get(l.alert_id) ?? []), l.event_id]);
    const out: OcsfEvent[] = [];
    page.forEach((a, i) => {
      out.push(a.event);
      const r = records[i];
      const row = r && rows.get(r.alertId);
      if (!r || !row) return;
      out.push(
        alertToDetectionFinding(
          findingChange(r, row, a.event, related.get(r.alertId) ?? [], deps.alertUrl?.(r.alertId)),
        ),
      );
    });
    return out;
  }

  const wanted = (d: DestinationRow) => {
    const classes = (d.config.classes as number[] | undefined) ?? [];
    return classes.length === 0 ? () => true : (e: OcsfEvent) => classes.includes(e.class_uid);
  };

  /** Forwards what is due for one destination; returns events sent and whether it must wait. */
  async function forwardOne(d: DestinationRow, deadline: number) {
    let sent = 0;
    let cursor = d.cursor;
    const keep = wanted(d);
    while (Date.now() < deadline) {
      const page = await deps.eventLog.readAfter(cursor, FORWARD_BATCH);
      if (page.length === 0) break;
      const last = page[page.length - 1]!.index;
      const events = (await withFindings(page)).filter(keep);
      if (events.length === 0) {
        await repo.skip(store, d.id, cursor, last);
        cursor = last;
        continue;
      }
      const sender = await senderFor(d);
      const payload = sender.format(events);
      try {
        await sender.send(payload);
      } catch (err) {
        const attempts = d.attempts + 1;
        const message = oneLine(err instanceof Error ? err.message : String(err));
        const dead = err instanceof PermanentDeliveryError || attempts >= FORWARD_MAX_ATTEMPTS;
        const now = clock.now();
        logger.warn({ destination: d.id, attempts, dead, error: message }, "SIEM forwarding failed");
        if (!dead) {
          await repo.failed(
            store,
            d.id,
            attempts,
            message,
            now,
            new Date(now.getTime() + forwardBackoffMs(attempts)),
          );
          return { sent, waiting: true };
        }
        await store.tx(async (q) => {
          await repo.deadLetter(q, {
            id: randomUUID(),
            destinationId: d.id,
            at: now,
            firstIndex: page[0]!.index,
            lastIndex: last,
            events: events.length,
            payload,
            error: message,
            attempts,
          });
          await repo.failed(q, d.id, 0, message, now, now);
          await repo.skip(q, d.id, cursor, last);
        });
        d.attempts = 0;
        cursor = last;
        continue;
      }
      await repo.advance(store, d.id, cursor, last, events.length, clock.now());
      d.attempts = 0;
      cursor = last;
      sent += events.length;
      if (page.length < FORWARD_BATCH) break;
    }
    return { sent, waiting: false };
  }

  async function runDue(): Promise<{ sent: number; destinations: number; waiting: number }> {
    const due = await repo.due(store, clock.now());
    const deadline = Date.now() + 20_000;
    let sent = 0;
    let waiting = 0;
    for (const d of due) {
      try {
        const r = await forwardOne(d, deadline);
        sent += r.sent;
        if (r.waiting) waiting++;
      } catch (err) {
        logger.error({ err, destination: d.id }, "SIEM forwarding run failed");
        waiting++;
      }
    }
    return { sent, destinations: due.length, waiting };
  }

  deps.scheduler.register({
    name: "siem.forward",
    description: "Forwards new log events to the SIEM destinations (syslog/CEF, ECS over HTTP), with retries",
    everyMs: 5_000,
    run: runDue,
  });

  // ------------------------------------------------------------------------------------------ people's API

  async function present(d: DestinationRow, size?: number): Promise<DestinationView> {
    const names = d.secret_headers ? Object.keys(await headersOf(d)) : [];
    return {
      id: d.id,
      name: d.name,
      kind: d.kind,
      enabled: d.enabled,
      config: d.config,
      secretHeaderNames: names,
      cursor: d.cursor,
      lag: size === undefined ? null : Math.max(0, size - 1 - d.cursor),
      forwarded: d.forwarded,
      attempts: d.attempts,
      nextAttemptAt: new Date(d.next_attempt_at).toISOString(),
      lastSuccessAt: d.last_success_at ? new Date(d.last_success_at).toISOString() : null,
      lastError: d.last_error,
      lastErrorAt: d.last_error_at ? new Date(d.last_error_at).toISOString() : null,
      deadLetters: d.dead_letters ?? 0,
      createdAt: new Date(d.created_at).toISOString(),
      updatedAt: new Date(d.updated_at).toISOString(),
    };
  }

  const logSize = async () => (deps.eventLog.size ? await deps.eventLog.size() : undefined);

  async function list(): Promise<DestinationView[]> {
    const size = await logSize();
    return Promise.all((await repo.list(store)).map((d) => present(d, size)));
  }

  async function get(id: string): Promise<DestinationView> {
    const d = await repo.get(store, id);
    if (!d) throw notFound("destination");
    return present(d, await logSize());
  }

  async function create(ctx: Ctx, input: DestinationInput): Promise<DestinationView> {
    const id = randomUUID();
    const headers = input.kind === "ecs_http" ? input.secretHeaders : {};
    const sealed = Object.keys(headers).length
      ? await sealer.seal("webhook", JSON.stringify(headers), sealCtx(id))
      : null;
    const size = input.startAt === "now" ? await logSize() : undefined;
    await store.tx(async (q) => {
      if (await repo.nameTaken(q, input.name)) throw conflict(`A destination named ${input.name} exists`);
      await repo.insert(q, {
        id,
        name: input.name,
        kind: input.kind,
        config: input.config,
        secretHeaders: sealed,
        enabled: input.enabled,
        cursor: size === undefined ? -1 : size - 1,
        at: clock.now(),
      });
      await audit.record(q, ctx, {
        action: "alerts.destination.create",
        target: { type: "siem_destination", id },
        summary: {
          name: input.name,
          kind: input.kind,
          config: input.config,
          secretHeaders: Object.keys(headers),
        },
      });
    });
    return get(id);
  }

  async function update(ctx: Ctx, id: string, patch: DestinationPatch): Promise<DestinationView> {
    const existing = await repo.get(store, id);
    if (!existing) throw notFound("destination");
    let sealed: Uint8Array | null = existing.secret_headers;
    if (patch.secretHeaders !== undefined) {
      if (existing.kind !== "ecs_http")
        throw new AppError(
          "validation_failed",
          "secretHeaders: only ECS over HTTP destinations send headers",
        );
      sealed = Object.keys(patch.secretHeaders).length
        ? await sealer.seal("webhook", JSON.stringify(patch.secretHeaders), sealCtx(id))
        : null;
    }
    if (patch.config && "url" in patch.config !== (existing.kind === "ecs_http"))
      throw new AppError("validation_failed", `config: not a ${existing.kind} configuration`);
    await store.tx(async (q) => {
      const d = await repo.get(q, id, true);
      if (!d) throw notFound("destination");
      const name = patch.name ?? d.name;
      if (patch.name && (await repo.nameTaken(q, patch.name, id)))
        throw conflict(`A destination named ${patch.name} exists`);
      await repo.update(q, id, {
        name,
        config: (patch.config as Record<string, unknown> | undefined) ?? d.config,
        secretHeaders: sealed,
        enabled: patch.enabled ?? d.enabled,
        at: clock.now(),
      });
      await audit.record(q, ctx, {
        action: "alerts.destination.update",
        target: { type: "siem_destination", id },
        summary: {
          changed: Object.keys(patch),
          ...(patch.config ? { config: patch.config } : {}),
          ...(patch.secretHeaders ? { secretHeaders: Object.keys(patch.secretHeaders) } : {}),
        },
      });
    });
    await dropSender(id);
    return get(id);
  }

  async function remove(ctx: Ctx, id: string): Promise<void> {
    await store.tx(async (q) => {
      const d = await repo.get(q, id, true);
      if (!d) throw notFound("destination");
      await repo.remove(q, id);
      await audit.record(q, ctx, {
        action: "alerts.destination.delete",
        target: { type: "siem_destination", id },
        summary: { name: d.name, kind: d.kind, forwarded: d.forwarded },
      });
    });
    await dropSender(id);
  }

  const presentLetter = (l: DeadLetterRow) => ({
    id: l.id,
    destinationId: l.destination_id,
    destinationName: l.destination_name,
    createdAt: new Date(l.created_at).toISOString(),
    firstIndex: l.first_index,
    lastIndex: l.last_index,
    events: l.events,
    error: l.error,
    attempts: l.attempts,
    status: l.status,
    redrivenAt: l.redriven_at ? new Date(l.redriven_at).toISOString() : null,
    redrivenBy: l.redriven_by,
    preview: l.payload.slice(0, 2000),
  });

  async function deadLetters(f: {
    destinationId?: string | undefined;
    status?: "dead" | "delivered" | undefined;
    limit: number;
  }) {
    return (await repo.deadLetters(store, f)).map(presentLetter);
  }

  /** Sends a dead letter again now (one try); it stays dead, with the new error, if that fails. */
  async function redrive(ctx: Ctx, id: string) {
    const letter = await repo.deadLetter1(store, id);
    if (!letter) throw notFound("dead letter");
    if (letter.status !== "dead") throw conflict("This dead letter was delivered already");
    const d = await repo.get(store, letter.destination_id);
    if (!d) throw notFound("destination");
    let error: string | null = null;
    try {
      await (await senderFor(d)).send(letter.payload);
    } catch (err) {
      error = oneLine(err instanceof Error ? err.message : String(err));
    }
    await store.tx(async (q) => {
      await repo.redriven(q, id, { delivered: error === null, error, at: clock.now(), by: ctx.actor.label });
      await audit.record(q, ctx, {
        action: "alerts.deadletter.redrive",
        target: { type: "siem_dead_letter", id },
        outcome: error === null ? "success" : "failure",
        summary: { destinationId: d.id, events: letter.events, ...(error ? { error } : {}) },
      });
    });
    if (error !== null)
      throw new AppError("unavailable", `The destination still refuses this batch: ${error}`, {
        retryAfterSeconds: 60,
      });
    return presentLetter((await repo.deadLetter1(store, id))!);
  }

  /** Sends one made-up event to check a destination's address and credentials. */
  async function test(ctx: Ctx, id: string): Promise<{ ok: boolean; error: string | null }> {
    const d = await repo.get(store, id);
    if (!d) throw notFound("destination");
    const now = clock.now().getTime();
    const probe: OcsfEvent = {
      class_uid: 6003,
      class_name: "API Activity",
      category_uid: 6,
      activity_id: 99,
      activity_name: "Other",
      type_uid: 600399,
      time: now,
      severity_id: 1,
      status_id: 1,
      status: "Success",
      message: "Warden forwarding test",
      api: { operation: "alerts.destination.test", service: { name: "Warden" } },
      metadata: { version: "1.3.0", product: { name: "Warden", vendor_name: "Warden" }, uid: randomUUID() },
      warden: { source: "warden" },
    };
    let error: string | null = null;
    try {
      const sender = await senderFor(d);
      await sender.send(sender.format([probe]));
    } catch (err) {
      error = oneLine(err instanceof Error ? err.message : String(err));
    }
    await audit.recordAlone(ctx, {
      action: "alerts.destination.test",
      target: { type: "siem_destination", id },
      outcome: error ? "failure" : "success",
      summary: error ? { error } : {},
    });
    return { ok: error === null, error };
  }

  async function close() {
    for (const id of [...senders.keys()]) await dropSender(id);
  }

  return { list, get, create, update, remove, deadLetters, redrive, test, runDue, close };
}

export type ForwardingService = ReturnType<typeof createForwardingService>;
