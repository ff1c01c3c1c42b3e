/**
 * Live detection: the event log hands every durable batch to `onAppended`; the rules run over it inline
 * (in memory, in log order) and the alert changes are stored in one transaction per batch: a new alert
 * row (with its audit record and, at or above the configured severity, a notification through the
 * outbox), or more hits on the open alert with the same dedup key. Storage and rules run off the
 * append's path, one batch after another, so a slow store never reorders or drops hits.
 */
import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import { systemCtx } from "../core/context.ts";
import type { Logger } from "../core/logger.ts";
import type { OcsfEvent } from "../ingest/index.ts";
import type { NotifyService, Severity } from "../notify/index.ts";
import type { SqlClient, Store } from "../store/store.ts";
import type { Alert, AlertSeverity, WorkingHours } from "./alert.types.ts";
import { alertsRepo } from "./alerts.repo.ts";
import { alertEmail } from "./delivery.service.ts";
import type { DetectionContext } from "./detection.context.ts";
import { type AlertChange, type AlertEngine, createAlertEngine, severityRank } from "./engine.service.ts";
import type { AppendedEvent } from "./event-log.port.ts";
import { lruMap } from "./lru.ts";
import { buildRules, compileSettings, type RulesSettings } from "./rules.settings.ts";

/** Event links kept per alert (the newest); the count says how many there were. */
export const EVENTS_KEPT = 200;
/**
 * Event links stored per alert per flush (the newest): an alert hit by every event of a storm gets a
 * sample of its events each second, not one link row per event (the count says how many there were).
 */
const LINKS_PER_FLUSH = 5;
/** Batches waiting for the rules before appends wait for us (back-pressure, not loss). */
const HIGH_WATER = 64;
/**
 * While events flow, the settings' version is read at most this often: a change made on another node
 * applies to the events that node receives about a second later. (A change made here applies at once.)
 */
const SETTINGS_CHECK_MS = 1000;

export interface DetectionDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  notify: Pick<NotifyService, "enqueue">;
  context: DetectionContext;
  loadSettings: () => Promise<RulesSettings>;
  /** A number that changes with every change of the rule settings, made on any node (one cheap read). */
  settingsVersion: () => Promise<number>;
  /** Link to an alert in the web UI, for notifications. */
  alertUrl?: (id: string) => string;
}

const NOTIFY_SEVERITY: Record<AlertSeverity, Severity> = {
  informational: "info",
  low: "low",
  medium: "medium",
  high: "high",
  critical: "critical",
};

export const dedupKeyOf = (ruleId: string, groupKey: string) => `${ruleId}|${groupKey}`;

/** One line describing an event, stored with the alert's event links. */
export function eventLabel(e: OcsfEvent): string {
  const who = e.user?.name ?? e.actor?.user?.name ?? e.actor?.user?.email_addr;
  const ip = e.src_endpoint?.ip;
  const res = e.warden.resource;
  const action = (e.unmapped as { action?: unknown } | undefined)?.action;
  const parts = [
    `${e.class_name ?? `class ${e.class_uid}`}: ${typeof action === "string" ? action : (e.activity_name ?? e.activity_id)}`,
    e.status ? `(${e.status})` : "",
    who ? `user ${who}` : "",
    ip ? `from ${ip}` : "",
    res ? `on ${res.kind} ${res.name}` : "",
    e.metadata.log_provider ? `[${e.metadata.log_provider}]` : `[${e.metadata.product.name}]`,
  ];
  return parts.filter(Boolean).join(" ").slice(0, 300);
}

/** Our own audit records (alert opened, note added…) must not feed the rules that made them. */
const isOwnRecord = (e: OcsfEvent) => {
  if (e.warden.source !== "warden") return false;
  const action = (e.unmapped as { action?: unknown } | undefined)?.action ?? e.api?.operation;
  return typeof action === "string" && action.startsWith("alerts.");
};

export function createDetectionService(deps: DetectionDeps) {
  const { store, clock, logger, audit, context } = deps;
  let engine: AlertEngine | undefined;
  let settings: RulesSettings | undefined;
  let settingsVersion: number | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  const queue: AppendedEvent[][] = [];
  let running: Promise<void> | undefined;
  let drained: (() => void)[] = [];
  // Engine alert id → stored alert id (they differ when a hit grew an alert opened elsewhere).
  const stored = lruMap<string, string>(50_000);
  // Stored alert id → event links added since its last prune (approximate across nodes and restarts).
  const linksSincePrune = lruMap<string, number>(50_000);
  const counters = { batches: 0, events: 0, alertsOpened: 0, hits: 0, errors: 0 };

  async function ensureEngine() {
    if (engine && Date.now() - checkedAt < SETTINGS_CHECK_MS) return;
    // The version first: a change landing between the two reads is then seen at the next check.
    const version = await deps.settingsVersion();
    checkedAt = Date.now();
    if (engine && version === settingsVersion) return;
    const next = await deps.loadSettings();
    settingsVersion = version;
    if (engine && settings && JSON.stringify(next) === JSON.stringify(settings)) return;
    const compiled = compileSettings(next);
    context.setGeo(compiled.geo);
    context.setDefaultHours(next.defaultWorkingHours as WorkingHours);
    engine = createAlertEngine({
      rules: buildRules(next, compiled),
      context,
      clock,
      onRuleError: (ruleId, err) => {
        counters.errors++;
        logger.warn({ ruleId, err: (err as Error).message }, "alert rule failed on an event");
      },
    });
    settings = next;
  }

  /**
   * Hits waiting to be stored, per engine alert, merged here and stored about once a second (and within
   * a second of the rules catching up with the log), in a few set statements whatever their number:
   * under a storm, storage costs per second, not per event.
   */
  interface Pending {
    alert: Alert;
    isNew: boolean;
    hits: number;
    firstTime: number;
    refs: string[];
    events: OcsfEvent[];
  }
  const pending = new Map<string, Pending>();
  let lastFlush = 0;
  const FLUSH_EVERY_MS = 1000;

  function accumulate(changes: AlertChange[]) {
    for (const c of changes) {
      const p = pending.get(c.alert.id);
      if (!p) {
        pending.set(c.alert.id, {
          alert: c.alert,
          isNew: c.kind === "new",
          hits: c.hits,
          firstTime: c.firstTime,
          refs: c.refs.slice(-LINKS_PER_FLUSH),
          events: c.events.slice(-LINKS_PER_FLUSH),
        });
        continue;
      }
      p.hits += c.hits;
      if (c.firstTime < p.firstTime) p.firstTime = c.firstTime;
      for (let i = 0; i < c.refs.length; i++) {
        p.refs.push(c.refs[i]!);
        p.events.push(c.events[i]!);
      }
      if (p.refs.length > LINKS_PER_FLUSH) {
        p.refs.splice(0, p.refs.length - LINKS_PER_FLUSH);
        p.events.splice(0, p.events.length - LINKS_PER_FLUSH);
      }
    }
  }

  let flushChain: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | undefined;

  /** Stores what is pending; flushes run one after another. */
  function flush(s: RulesSettings): Promise<void> {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    const next = flushChain.then(() => flushNow(s));
    flushChain = next.catch(() => {});
    return next;
  }

  async function flushNow(s: RulesSettings): Promise<void> {
    if (pending.size === 0) return;
    const items = [...pending.values()];
    pending.clear();
    lastFlush = Date.now();
    // Two nodes may open the same alert at once: the unique open-dedup index refuses one, whose retry
    // then finds the other's alert and adds to it.
    for (let attempt = 1; ; attempt++) {
      try {
        await store.tx((q) => store1(q, items, s));
        for (const p of items) counters.hits += p.hits;
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  async function store1(q: SqlClient, items: Pending[], s: RulesSettings): Promise<void> {
    const now = clock.now();
    const keyOf = (a: Alert) => dedupKeyOf(a.ruleId, a.groupKey);
    const knownIds = items.map((p) => stored.get(p.alert.id)).filter((id): id is string => !!id);
    const rows = await alertsRepo.lockForHits(q, knownIds, [...new Set(items.map((p) => keyOf(p.alert)))]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const openByKey = new Map(rows.filter((r) => r.status !== "resolved").map((r) => [r.dedup_key, r]));
    const grows: Parameters<typeof alertsRepo.growMany>[1] = [];
    const links: Parameters<typeof alertsRepo.linkEvents>[1] = [];
    const prune: string[] = [];
    for (const p of items) {
      const a = p.alert;
      const key = keyOf(a);
      const known = stored.get(a.id);
      let row = known ? byId.get(known) : undefined;
      if (!row || row.status === "resolved") row = openByKey.get(key);
      let id: string;
      if (row) {
        id = row.id;
        const severity = severityRank(a.severity) > severityRank(row.severity) ? a.severity : row.severity;
        grows.push({
          id,
          hits: p.hits,
          firstSeen: new Date(p.firstTime),
          lastSeen: new Date(a.lastSeen),
          summary: a.summary,
          details: a.details,
          severity,
        });
        if (severity !== row.severity) {
          await alertsRepo.addActivity(q, {
            id: randomUUID(),
            alertId: id,
            at: now,
            actorId: null,
            actorLabel: "rules",
            kind: "severity",
            body: `severity raised from ${row.severity} to ${severity}`,
            data: { from: row.severity, to: severity },
          });
          if (notifies(severity, s) && !notifies(row.severity, s))
            await notifyAlert(q, { ...a, id, severity }, "alerts.alert.escalated", s);
        }
        row.count += p.hits;
      } else {
        // The engine's id, unless this engine alert was stored before and has since been resolved.
        id = known ? randomUUID() : a.id;
        const developerId = a.developerId && UUID.test(a.developerId) ? a.developerId : null;
        await alertsRepo.insert(q, {
          id,
          ruleId: a.ruleId,
          title: a.title,
          severity: a.severity,
          dedupKey: key,
          groupKey: a.groupKey,
          summary: a.summary,
          details: a.details,
          developerId,
          count: p.hits,
          firstSeen: new Date(Math.min(a.firstSeen, p.firstTime)),
          lastSeen: new Date(a.lastSeen),
          at: now,
        });
        const created = { id, dedup_key: key, status: "open" as const, severity: a.severity, count: p.hits };
        byId.set(id, created);
        openByKey.set(key, created);
        await alertsRepo.addActivity(q, {
          id: randomUUID(),
          alertId: id,
          at: now,
          actorId: null,
          actorLabel: "rules",
          kind: "opened",
          body: a.summary,
        });
        await audit.record(q, systemCtx("alert rules"), {
          action: "alerts.alert.opened",
          target: { type: "alert", id },
          summary: { ruleId: a.ruleId, severity: a.severity, groupKey: a.groupKey, developerId },
        });
        if (notifies(a.severity, s)) await notifyAlert(q, { ...a, id }, "alerts.alert.opened", s);
        counters.alertsOpened++;
      }
      stored.set(a.id, id);
      // Keep the newest EVENTS_KEPT links: prune an alert after about that many more were added.
      const added = (linksSincePrune.get(id) ?? 0) + p.refs.length;
      if (added >= EVENTS_KEPT) {
        prune.push(id);
        linksSincePrune.set(id, 0);
      } else linksSincePrune.set(id, added);
      for (let i = 0; i < p.refs.length; i++)
        links.push({
          alertId: id,
          eventId: p.refs[i]!,
          at: new Date(p.events[i]!.time),
          label: eventLabel(p.events[i]!),
        });
    }
    await alertsRepo.growMany(q, grows, now);
    await alertsRepo.linkEvents(q, links);
    for (const id of prune) await alertsRepo.pruneEvents(q, id, EVENTS_KEPT);
  }

  const notifies = (sev: AlertSeverity, s: RulesSettings) =>
    severityRank(sev) >= severityRank(s.notify.minSeverity);

  async function notifyAlert(q: SqlClient, a: Alert, topic: string, s: RulesSettings) {
    const url = deps.alertUrl?.(a.id);
    const { subject, text } = alertEmail(a, url);
    await deps.notify.enqueue(q, {
      topic,
      subject: subject.replace(/^\[Warden\] /, ""),
      text,
      to: { roles: s.notify.roles },
      severity: NOTIFY_SEVERITY[a.severity],
      data: {
        alertId: a.id,
        ruleId: a.ruleId,
        severity: a.severity,
        summary: a.summary,
        count: a.count,
        firstSeen: new Date(a.firstSeen).toISOString(),
        lastSeen: new Date(a.lastSeen).toISOString(),
        ...(a.developerId ? { developerId: a.developerId } : {}),
        ...(url ? { url } : {}),
      },
      refs: [a.id],
    });
  }

  async function processBatch(batch: AppendedEvent[]) {
    const items: { event: OcsfEvent; ref: string }[] = [];
    const events: OcsfEvent[] = [];
    for (const a of batch) {
      if (isOwnRecord(a.event)) continue;
      items.push({ event: a.event, ref: a.id });
      events.push(a.event);
    }
    if (items.length === 0) return;
    context.noteEvents(events);
    await context.ensureFresh();
    await ensureEngine();
    const changes = engine!.processBatch(items);
    counters.batches++;
    counters.events += items.length;
    if (changes.length === 0) return;
    accumulate(changes);
    // Stored (and notified) at most about a second later, in one transaction for everything pending:
    // the store (on PGlite, its single connection) stays free for the log's appends.
    if (Date.now() - lastFlush >= FLUSH_EVERY_MS) await flush(settings!);
  }

  async function run() {
    while (queue.length > 0) {
      const batch = queue.shift()!;
      try {
        await processBatch(batch);
      } catch (err) {
        counters.errors++;
        logger.error({ err, events: batch.length }, "alert rules could not process a batch of events");
      }
    }
    running = undefined;
    // Caught up: what is pending is stored within the second, even if no more events come.
    if (pending.size > 0 && !flushTimer && settings) {
      const s = settings;
      flushTimer = setTimeout(
        () => {
          flushTimer = undefined;
          flush(s).catch((err) => logger.error({ err }, "alert hits could not be stored"));
        },
        Math.max(0, FLUSH_EVERY_MS - (Date.now() - lastFlush)),
      );
      flushTimer.unref?.();
    }
    const waiters = drained;
    drained = [];
    for (const w of waiters) w();
  }

  /** The event log's listener. Returns at once unless the rules have fallen far behind. */
  function onAppended(events: AppendedEvent[]): void | Promise<void> {
    if (events.length === 0) return;
    queue.push(events);
    running ??= run();
    if (queue.length > HIGH_WATER) return idle();
  }

  /** Resolves when every batch handed over so far is evaluated and its alerts stored. */
  async function idle(): Promise<void> {
    if (running || queue.length > 0) await new Promise<void>((resolve) => drained.push(resolve));
    if (settings) await flush(settings);
    else await flushChain;
  }

  return {
    onAppended,
    idle,
    /** Rebuilds the rules (fresh state) before the next batch: the settings changed on this node. */
    reload() {
      engine = undefined;
    },
    stats: () => ({ ...counters, queued: queue.length, state: engine?.stateSize() ?? 0 }),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type DetectionService = ReturnType<typeof createDetectionService>;
