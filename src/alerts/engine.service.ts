/**
 * The alert engine: evaluates every rule inline on each event, groups repeats of the same rule and group
 * key into one open alert, and can replay rules over past events. Storage-independent: callers persist
 * alerts from the returned changes (or the onAlert callback).
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import type { OcsfEvent } from "../ingest/index.ts";
import type { Alert, AlertRule, AlertSeverity, RuleContext, RuleHit } from "./alert.types.ts";
import { lruMap } from "./rules.builtin.ts";
import { createSigmaEvaluator, type SigmaEvaluatorOptions, type SigmaRuleSet } from "./sigma.ts";

export interface AlertChange {
  kind: "new" | "repeat";
  alert: Alert;
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
  /** Open groups remembered for grouping. Default 10,000. */
  maxGroups?: number;
  newId?: () => string;
  onAlert?: (change: AlertChange) => void;
  /** A rule that throws is reported here and skipped; the other rules still run. */
  onRuleError?: (ruleId: string, error: unknown) => void;
}

export interface AlertEngine {
  /** Evaluates all rules on one event; `ref` is the caller's id for it (audit entry id). */
  process(event: OcsfEvent, ref?: string): AlertChange[];
  /** Alerts created so far that are still held for grouping. */
  openAlerts(): Alert[];
  stateSize(): number;
}

export function createAlertEngine(opts: AlertEngineOptions): AlertEngine {
  const groupWindow = opts.groupWindowMs ?? 3_600_000;
  const maxRefs = opts.maxEventRefs ?? 50;
  const newId = opts.newId ?? randomUUID;
  const groups = lruMap<string, Alert>(opts.maxGroups ?? 10_000);
  const held = new Set<Alert>();

  const record = (rule: AlertRule, hit: RuleHit, event: OcsfEvent, ref: string): AlertChange => {
    const ruleId = hit.ruleId ?? rule.id;
    const key = `${ruleId}\u0000${hit.groupKey}`;
    const existing = groups.get(key);
    if (existing && existing.status !== "resolved" && event.time - existing.lastSeen <= groupWindow) {
      existing.count += 1;
      existing.lastSeen = Math.max(existing.lastSeen, event.time);
      existing.summary = hit.summary;
      if (existing.eventRefs[existing.eventRefs.length - 1] !== ref) {
        existing.eventRefs.push(ref);
        if (existing.eventRefs.length > maxRefs) existing.eventRefs.shift();
      }
      if (hit.details) existing.details = hit.details;
      if (hit.severity && rank(hit.severity) > rank(existing.severity)) existing.severity = hit.severity;
      return { kind: "repeat", alert: existing };
    }
    if (existing) held.delete(existing);
    const alert: Alert = {
      id: newId(),
      ruleId,
      title: hit.title ?? rule.title,
      severity: hit.severity ?? rule.severity,
      status: "open",
      groupKey: hit.groupKey,
      summary: hit.summary,
      firstSeen: event.time,
      lastSeen: event.time,
      count: 1,
      eventRefs: [ref],
      details: hit.details ?? {},
      createdAt: opts.clock.now().getTime(),
    };
    if (hit.developerId) alert.developerId = hit.developerId;
    groups.set(key, alert);
    held.add(alert);
    if (held.size > (opts.maxGroups ?? 10_000)) held.delete(held.values().next().value!);
    return { kind: "new", alert };
  };

  return {
    process(event, ref) {
      let changes: AlertChange[] | undefined;
      for (const rule of opts.rules) {
        let out: RuleHit | RuleHit[] | undefined;
        try {
          out = rule.evaluate(event, opts.context);
        } catch (err) {
          opts.onRuleError?.(rule.id, err);
          continue;
        }
        if (!out) continue;
        const hits = Array.isArray(out) ? out : [out];
        if (hits.length === 0) continue;
        const eventRef = ref ?? event.metadata.uid ?? `${event.time}`;
        for (const hit of hits) {
          const change = record(rule, hit, event, eventRef);
          if (!changes) changes = [];
          changes.push(change);
          opts.onAlert?.(change);
        }
      }
      return changes ?? NO_CHANGES;
    },
    openAlerts: () => [...held],
    stateSize: () => groups.size + opts.rules.reduce((n, r) => n + (r.stateSize?.() ?? 0), 0),
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
  return created;
}

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
        summary:
          h.kind === "correlation"
            ? `${h.title}: ${h.count} for ${h.groupKey || "all events"}`
            : `${h.title}${e.user?.name ? ` (${e.user.name})` : ""}${e.src_endpoint?.ip ? ` from ${e.src_endpoint.ip}` : ""}`,
        details: { sigma: h.ruleKey, kind: h.kind, group: h.group, count: h.count, tags: h.tags },
      }));
    },
  };
}
