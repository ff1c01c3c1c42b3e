/**
 * The alert engine: evaluates the rules inline on each event, groups repeats of the same rule and group
 * key into one open alert, and can replay rules over past events. Storage-independent: callers persist
 * alerts from the returned changes (or the onAlert callback).
 *
 * Hot path (docs/detection.md, "Benchmark"): rules are indexed by the OCSF classes they declare, a
 * repeat only bumps counters, and a hit's summary and details (strings, objects) are built once per
 * alert per batch rather than once per event.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import type { OcsfEvent } from "../ingest/index.ts";
import type { Alert, AlertRule, AlertSeverity, RuleContext, RuleHit } from "./alert.types.ts";
import { type LruMap, lruMap } from "./lru.ts";
import { createSigmaEvaluator, type SigmaEvaluatorOptions, type SigmaRuleSet } from "./sigma.ts";

export interface AlertChange {
  /** "new": the hit opened this alert (in this call); "repeat": it grew an alert opened earlier. */
  kind: "new" | "repeat";
  alert: Alert;
  /** Hits added in this call (batch); the references of their events and the events, oldest first
   * (the newest `maxEventRefs`); the earliest event time of the call's hits. */
  hits: number;
  refs: string[];
  events: OcsfEvent[];
  firstTime: number;
}

export interface AlertEngineOptions {
  rules: AlertRule[];
  context: RuleContext;
  clock: Clock;
  /** A hit joins an open alert of the same rule and group when it comes within this long of its last
   * event. Default 1 hour. */
  groupWindowMs?: number;
  /** Event references kept per alert. Default 50. */
  maxEventRefs?: number;
  /** Open groups remembered for grouping, per rule. Default 10,000. */
  maxGroups?: number;
  newId?: () => string;
  onAlert?: (change: AlertChange) => void;
  /** A rule that throws is reported here and skipped; the other rules still run. */
  onRuleError?: (ruleId: string, error: unknown) => void;
}

export interface EngineItem {
  event: OcsfEvent;
  /** The caller's id for the event (the log's entry id). */
  ref?: string | undefined;
}

export interface AlertEngine {
  /** Evaluates all rules on one event; `ref` is the caller's id for it (log entry id). */
  process(event: OcsfEvent, ref?: string): AlertChange[];
  /** Evaluates a batch in order; each alert touched appears once, with the batch's hits and refs. */
  processBatch(items: readonly EngineItem[]): AlertChange[];
  /** Alerts still held for grouping. */
  openAlerts(): Alert[];
  stateSize(): number;
}

/** A hit's summary and details, built now (rules may defer them with functions). */
export function describeHit(hit: RuleHit): { summary: string; details: Record<string, unknown> } {
  const details = hit.details ?? {};
  return { summary: typeof hit.summary === "function" ? hit.summary(details) : hit.summary, details };
}

interface Slot {
  alert: Alert;
  /** The latest hit not yet described into the alert. */
  pending: RuleHit | undefined;
  /** Accumulates a batch's change. */
  change: AlertChange | undefined;
}

export function createAlertEngine(opts: AlertEngineOptions): AlertEngine {
  const groupWindow = opts.groupWindowMs ?? 3_600_000;
  const maxRefs = opts.maxEventRefs ?? 50;
  const maxGroups = opts.maxGroups ?? 10_000;
  const newId = opts.newId ?? randomUUID;
  const ctx = opts.context;
  // Per alert rule id (Sigma rules emit several), then per group key.
  const groups = new Map<string, LruMap<string, Slot>>();
  const indexed = opts.rules.some((r) => r.classes);
  const perClass = new Map<number, AlertRule[]>();
  const rulesFor = (classUid: number): AlertRule[] => {
    let list = perClass.get(classUid);
    if (!list) {
      // Keep the configured order so alerts come out in the same order whatever the index.
      list = opts.rules.filter((r) => !r.classes || r.classes.includes(classUid));
      perClass.set(classUid, list);
    }
    return list;
  };

  let touched: Slot[] = [];

  const settle = (slot: Slot) => {
    if (!slot.pending) return;
    const { summary, details } = describeHit(slot.pending);
    slot.alert.summary = summary;
    if (slot.pending.details !== undefined) slot.alert.details = details;
    slot.pending = undefined;
  };

  const groupsOf = (ruleId: string) => {
    let g = groups.get(ruleId);
    if (!g) {
      g = lruMap<string, Slot>(maxGroups);
      groups.set(ruleId, g);
    }
    return g;
  };

  const record = (rule: AlertRule, hit: RuleHit, event: OcsfEvent, ref: string) => {
    const ruleId = hit.ruleId ?? rule.id;
    const g = groupsOf(ruleId);
    let slot = g.get(hit.groupKey);
    if (slot && slot.alert.status !== "resolved" && event.time - slot.alert.lastSeen <= groupWindow) {
      const a = slot.alert;
      a.count += 1;
      if (event.time > a.lastSeen) a.lastSeen = event.time;
      if (a.eventRefs[a.eventRefs.length - 1] !== ref) {
        a.eventRefs.push(ref);
        if (a.eventRefs.length > maxRefs) a.eventRefs.shift();
      }
      if (hit.severity && rank(hit.severity) > rank(a.severity)) a.severity = hit.severity;
      slot.pending = hit;
    } else {
      const { summary, details } = describeHit(hit);
      const alert: Alert = {
        id: newId(),
        ruleId,
        title: hit.title ?? rule.title,
        severity: hit.severity ?? rule.severity,
        status: "open",
        groupKey: hit.groupKey,
        summary,
        firstSeen: event.time,
        lastSeen: event.time,
        count: 1,
        eventRefs: [ref],
        details,
        createdAt: opts.clock.now().getTime(),
      };
      if (hit.developerId) alert.developerId = hit.developerId;
      slot = { alert, pending: undefined, change: undefined };
      g.set(hit.groupKey, slot);
      slot.change = { kind: "new", alert, hits: 0, refs: [], events: [], firstTime: event.time };
      touched.push(slot);
    }
    if (!slot.change) {
      slot.change = {
        kind: "repeat",
        alert: slot.alert,
        hits: 0,
        refs: [],
        events: [],
        firstTime: event.time,
      };
      touched.push(slot);
    }
    const c = slot.change;
    c.hits += 1;
    if (event.time < c.firstTime) c.firstTime = event.time;
    if (c.refs[c.refs.length - 1] !== ref) {
      c.refs.push(ref);
      c.events.push(event);
      if (c.refs.length > maxRefs) {
        c.refs.shift();
        c.events.shift();
      }
    }
  };

  const evaluate = (event: OcsfEvent, ref: string | undefined) => {
    const rules = indexed ? rulesFor(event.class_uid) : opts.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      let out: RuleHit | RuleHit[] | undefined;
      try {
        out = rule.evaluate(event, ctx);
      } catch (err) {
        opts.onRuleError?.(rule.id, err);
        continue;
      }
      if (!out) continue;
      const eventRef = ref ?? event.metadata.uid ?? `${event.time}`;
      if (Array.isArray(out)) for (const hit of out) record(rule, hit, event, eventRef);
      else record(rule, out, event, eventRef);
    }
  };

  const finish = (): AlertChange[] => {
    if (touched.length === 0) return NO_CHANGES;
    const changes: AlertChange[] = [];
    for (const slot of touched) {
      settle(slot);
      changes.push(slot.change!);
      slot.change = undefined;
    }
    touched = [];
    if (opts.onAlert) for (const c of changes) opts.onAlert(c);
    return changes;
  };

  return {
    process(event, ref) {
      evaluate(event, ref);
      return finish();
    },
    processBatch(items) {
      for (let i = 0; i < items.length; i++) evaluate(items[i]!.event, items[i]!.ref);
      return finish();
    },
    openAlerts() {
      const out: Alert[] = [];
      for (const g of groups.values())
        for (const s of g.values()) {
          if (s.alert.status === "resolved") continue;
          settle(s);
          out.push(s.alert);
        }
      return out;
    },
    stateSize() {
      let n = 0;
      for (const g of groups.values()) n += g.size;
      for (const r of opts.rules) n += r.stateSize?.() ?? 0;
      return n;
    },
  };
}

const NO_CHANGES: AlertChange[] = [];
Object.freeze(NO_CHANGES);

const SEVERITY_RANK: Record<AlertSeverity, number> = {
  informational: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
};
const rank = (s: AlertSeverity) => SEVERITY_RANK[s];
export const severityRank = rank;

export interface ReplayOptions extends Omit<AlertEngineOptions, "clock" | "onAlert"> {}

/**
 * Runs rules over past events (oldest first) and returns the alerts they would have raised. Pass fresh
 * rule instances (e.g. `builtinRules(config)`), so live state is untouched. Alert times follow the events.
 */
export function replayRules(
  events: Iterable<OcsfEvent | { event: OcsfEvent; ref: string }>,
  opts: ReplayOptions,
): Alert[] {
  let now = 0;
  const created: Alert[] = [];
  const engine = createAlertEngine({
    ...opts,
    clock: { now: () => new Date(now) },
    onAlert: (c) => {
      if (c.kind === "new") created.push(c.alert);
    },
  });
  for (const item of events) {
    const { event, ref } = "event" in item ? item : { event: item, ref: undefined };
    now = event.time;
    engine.process(event, ref);
  }
  engine.openAlerts(); // settles the summaries of alerts that grew after they were opened
  return created;
}

const sigmaSummary = (d: Record<string, unknown>) =>
  d.kind === "correlation"
    ? `${d.title}: ${d.count} for ${d.groupKey || "all events"}`
    : `${d.title}${d.user ? ` (${d.user})` : ""}${d.address ? ` from ${d.address}` : ""}`;

/** Wraps a loaded Sigma rule set as one engine rule; each Sigma rule keeps its own id in alerts. */
export function sigmaAlertRule(set: SigmaRuleSet, opts: SigmaEvaluatorOptions = {}): AlertRule {
  const evaluator = createSigmaEvaluator(set, opts);
  return {
    id: "sigma",
    title: "Sigma rule",
    severity: "medium",
    stateSize: () => evaluator.stateSize(),
    evaluate(e) {
      const hits = evaluator.evaluate(e);
      if (hits.length === 0) return undefined;
      return hits.map((h) => ({
        ruleId: `sigma:${h.ruleKey}`,
        title: h.title,
        severity: h.level,
        groupKey: h.groupKey ?? (e.warden.developerId || e.src_endpoint?.ip || e.user?.name || "-"),
        developerId: e.warden.developerId,
        summary: sigmaSummary,
        details: {
          sigma: h.ruleKey,
          title: h.title,
          kind: h.kind,
          group: h.group,
          groupKey: h.groupKey,
          count: h.count,
          tags: h.tags,
          user: e.user?.name,
          address: e.src_endpoint?.ip,
        },
      }));
    },
  };
}
