/**
 * Alerts as people work them (list, detail, status, assignee, notes, timeline picture) and the rule
 * settings (read, change, test against past events). Every change is audited in its transaction.
 */
import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { AppError, conflict, invalidField, notFound } from "../core/errors.ts";
import type { Page } from "../http/pagination.ts";
import type { Store } from "../store/store.ts";
import type { AlertSeverity, AlertStatus, RuleContext } from "./alert.types.ts";
import { type AlertFilter, type AlertRow, alertsRepo } from "./alerts.repo.ts";
import type { AlertView } from "./alerts.schemas.ts";
import type { DetectionContext } from "./detection.context.ts";
import { type EngineItem, replayRules } from "./engine.service.ts";
import type { EventLogPort } from "./event-log.port.ts";
import {
  buildRules,
  compileSettings,
  defaultRulesSettings,
  describeBuiltinRules,
  type RulesSettings,
  rulesSettingsSchema,
  SETTINGS_KEY,
} from "./rules.settings.ts";

const SEVERITIES: AlertSeverity[] = ["informational", "low", "medium", "high", "critical"];
const HOUR = 3_600_000;
const MAX_TIMELINE_HOURS = 31 * 24;
const MAX_TEST_SPAN = 92 * 24 * HOUR;

export const presentAlert = (r: AlertRow): AlertView => ({
  id: r.id,
  ruleId: r.rule_id,
  title: r.title,
  severity: r.severity,
  status: r.status,
  groupKey: r.group_key,
  summary: r.summary,
  details: r.details,
  developer: r.developer_id ? { id: r.developer_id, name: r.developer_name } : null,
  assignee: r.assignee_id ? { id: r.assignee_id, name: r.assignee_name } : null,
  count: Number(r.count),
  firstSeen: new Date(r.first_seen).toISOString(),
  lastSeen: new Date(r.last_seen).toISOString(),
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
  resolvedAt: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
});

const zeroCounts = () => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<AlertSeverity, number>;

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === "23505";

export interface AlertsServiceDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  context: DetectionContext;
  /** Absent until the event log is wired: testing rules then says so. */
  eventLog: Pick<EventLogPort, "readBetween"> | undefined;
  /** Called after the rule settings changed on this node. */
  onSettingsChanged?: () => void;
}

export function createAlertsService(deps: AlertsServiceDeps) {
  const { store, clock, audit } = deps;

  async function list(f: AlertFilter): Promise<Page<AlertView>> {
    const { rows, total } = await alertsRepo.list(store, f);
    return { items: rows.map(presentAlert), total, limit: f.limit, offset: f.offset };
  }

  async function get(id: string) {
    const row = await alertsRepo.get(store, id);
    if (!row) throw notFound("alert");
    const [events, activity] = await Promise.all([
      alertsRepo.events(store, id, 100),
      alertsRepo.activity(store, id),
    ]);
    return {
      ...presentAlert(row),
      events: events.map((e) => ({ eventId: e.event_id, at: new Date(e.at).toISOString(), label: e.label })),
      activity: activity.map((a) => ({
        id: a.id,
        at: new Date(a.at).toISOString(),
        actor: { id: a.actor_id, label: a.actor_label },
        kind: a.kind,
        body: a.body,
        data: a.data,
      })),
    };
  }

  async function update(
    ctx: Ctx,
    id: string,
    patch: {
      status?: AlertStatus | undefined;
      assigneeId?: string | null | undefined;
      severity?: AlertSeverity | undefined;
      comment?: string | undefined;
    },
  ) {
    const now = clock.now();
    try {
      await store.tx(async (q) => {
        const row = await alertsRepo.get(q, id, true);
        if (!row) throw notFound("alert");
        const status = patch.status ?? row.status;
        const severity = patch.severity ?? row.severity;
        let assigneeId = row.assignee_id;
        let assigneeName: string | null = null;
        if (patch.assigneeId !== undefined && patch.assigneeId !== row.assignee_id) {
          if (patch.assigneeId !== null) {
            const user = await alertsRepo.userExists(q, patch.assigneeId);
            if (!user || user.role === "developer")
              throw invalidField("assigneeId", "not an active staff account");
            assigneeName = user.display_name;
          }
          assigneeId = patch.assigneeId;
        }
        const actor = { actorId: ctx.actor.userId ?? null, actorLabel: ctx.actor.label };
        const changes: Record<string, unknown> = {};
        const note = patch.comment ?? "";
        if (status !== row.status) {
          changes.status = { from: row.status, to: status };
          await alertsRepo.addActivity(q, {
            id: randomUUID(),
            alertId: id,
            at: now,
            ...actor,
            kind: "status",
            body: note,
            data: { from: row.status, to: status },
          });
        }
        if (assigneeId !== row.assignee_id) {
          changes.assignee = { from: row.assignee_id, to: assigneeId };
          await alertsRepo.addActivity(q, {
            id: randomUUID(),
            alertId: id,
            at: now,
            ...actor,
            kind: "assign",
            body: assigneeId ? `assigned to ${assigneeName}` : "unassigned",
            data: { from: row.assignee_id, to: assigneeId },
          });
        }
        if (severity !== row.severity) {
          changes.severity = { from: row.severity, to: severity };
          await alertsRepo.addActivity(q, {
            id: randomUUID(),
            alertId: id,
            at: now,
            ...actor,
            kind: "severity",
            body: note,
            data: { from: row.severity, to: severity },
          });
        }
        if (Object.keys(changes).length === 0) return;
        await alertsRepo.updateWorkflow(q, id, {
          status,
          assigneeId,
          severity,
          resolvedAt: status === "resolved" ? (row.status === "resolved" ? row.resolved_at : now) : null,
          at: now,
        });
        await audit.record(q, ctx, {
          action: "alerts.alert.update",
          target: { type: "alert", id },
          summary: { ...changes, ...(note ? { comment: note.slice(0, 500) } : {}) },
        });
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw conflict(
          "Another open alert already collects these events: resolve it before reopening this one",
        );
      throw err;
    }
    return get(id);
  }

  async function addNote(ctx: Ctx, id: string, body: string) {
    await store.tx(async (q) => {
      const row = await alertsRepo.get(q, id, true);
      if (!row) throw notFound("alert");
      const noteId = randomUUID();
      await alertsRepo.addActivity(q, {
        id: noteId,
        alertId: id,
        at: clock.now(),
        actorId: ctx.actor.userId ?? null,
        actorLabel: ctx.actor.label,
        kind: "note",
        body,
      });
      await audit.record(q, ctx, {
        action: "alerts.alert.note",
        target: { type: "alert", id },
        summary: { noteId, length: body.length },
      });
    });
    return get(id);
  }

  async function timeline(f: {
    from?: Date | undefined;
    to?: Date | undefined;
    status?: AlertStatus[] | undefined;
    developerId?: string | undefined;
    ruleId?: string | undefined;
  }) {
    const to = f.to ?? new Date(Math.ceil(clock.now().getTime() / HOUR) * HOUR);
    const from = f.from ?? new Date(to.getTime() - 7 * 24 * HOUR);
    const first = Math.floor(from.getTime() / HOUR);
    const last = Math.ceil(to.getTime() / HOUR);
    if (last <= first) throw invalidField("from", "must be before to");
    if (last - first > MAX_TIMELINE_HOURS) throw invalidField("from", "at most 31 days before to");
    const rows = await alertsRepo.perHour(store, { ...f, from, to });
    const hours = Array.from({ length: last - first }, (_, i) => ({
      hour: new Date((first + i) * HOUR).toISOString(),
      counts: zeroCounts(),
    }));
    for (const r of rows) {
      const bucket = hours[r.hour - first];
      if (bucket) bucket.counts[r.severity] += r.n;
    }
    const totals = { open: zeroCounts(), acknowledged: zeroCounts(), resolved: zeroCounts() };
    for (const c of await alertsRepo.counts(store)) totals[c.status][c.severity] += c.n;
    return { from: from.toISOString(), to: to.toISOString(), hours, totals };
  }

  // ------------------------------------------------------------------------------------------- settings

  async function settingsRow() {
    return (
      await store.query<{ value: unknown; updated_at: Date }>(
        "select value, updated_at from settings where key = $1",
        [SETTINGS_KEY],
      )
    ).rows[0];
  }

  /** Bumped by the database on every change of the row (migration 20261123110000); 0 before the first. */
  async function settingsVersion(): Promise<number> {
    const row = (
      await store.query<{ version: string | number }>("select version from settings where key = $1", [
        SETTINGS_KEY,
      ])
    ).rows[0];
    return row ? Number(row.version) : 0;
  }

  async function loadSettings(): Promise<RulesSettings> {
    const row = await settingsRow();
    if (!row) return defaultRulesSettings;
    const parsed = rulesSettingsSchema.safeParse(row.value);
    return parsed.success ? parsed.data : defaultRulesSettings;
  }

  async function rules() {
    const row = await settingsRow();
    const settings = await loadSettings();
    return {
      builtin: describeBuiltinRules(settings),
      settings: settings as unknown as Record<string, unknown>,
      updatedAt: row ? new Date(row.updated_at).toISOString() : null,
    };
  }

  async function setRules(ctx: Ctx, input: RulesSettings) {
    compileSettings(input); // refuses Sigma rules that do not load, with the rule named
    const before = await loadSettings();
    await store.tx(async (q) => {
      await q.query(
        `insert into settings (key, value, updated_at) values ($1, $2, $3)
         on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`,
        [SETTINGS_KEY, JSON.stringify(input), clock.now()],
      );
      const changed = (Object.keys(input) as (keyof RulesSettings)[]).filter(
        (k) => JSON.stringify(input[k]) !== JSON.stringify(before[k]),
      );
      await audit.record(q, ctx, {
        action: "alerts.rules.update",
        target: { type: "settings", id: SETTINGS_KEY },
        summary: {
          changed,
          builtin: input.builtin,
          sigma: input.sigma.map((r) => ({ id: r.id, enabled: r.enabled })),
          notify: input.notify,
        },
      });
    });
    deps.onSettingsChanged?.();
    return rules();
  }

  /**
   * Replays rules over past events, oldest first, with fresh rule state: what they would have raised.
   * Reads nothing but the log and changes nothing.
   */
  async function testRules(input: {
    from: Date;
    to: Date;
    settings?: RulesSettings | undefined;
    ruleIds?: string[] | undefined;
    maxEvents: number;
  }) {
    if (input.to <= input.from) throw invalidField("to", "must be after from");
    if (input.to.getTime() - input.from.getTime() > MAX_TEST_SPAN)
      throw invalidField("from", "test at most 92 days at a time");
    if (!deps.eventLog) throw new AppError("unavailable", "The event log is not available on this server");
    const settings = input.settings ?? (await loadSettings());
    const compiled = compileSettings(settings);
    await deps.context.ensureFresh();
    const live = deps.context;
    const context: RuleContext = {
      developer: (id) => live.developer(id),
      eligibility: live.eligibility ? (id, at) => live.eligibility!(id, at) : undefined,
      geo: compiled.geo,
    };
    if (live.hasLiveGrant) context.hasLiveGrant = (q) => live.hasLiveGrant!(q);
    const wanted = input.ruleIds?.length ? new Set(input.ruleIds) : undefined;
    const items: EngineItem[] = [];
    let scanned = 0;
    let after = -1;
    let lastTime: number | null = null;
    const PAGE = 2000;
    for (;;) {
      const page = await deps.eventLog.readBetween(
        input.from,
        input.to,
        after,
        Math.min(PAGE, input.maxEvents - scanned),
      );
      for (const a of page) {
        items.push({ event: a.event, ref: a.id });
        lastTime = a.event.time;
      }
      scanned += page.length;
      if (page.length === 0 || scanned >= input.maxEvents) break;
      after = page[page.length - 1]!.index;
    }
    // The log is in append order; rules want event time order (sources deliver late, replays early).
    items.sort((a, b) => a.event.time - b.event.time);
    const alerts = replayRules(items as { event: EngineItem["event"]; ref: string }[], {
      rules: buildRules(settings, compiled),
      context,
    }).filter((a) => !wanted || wanted.has(a.ruleId));
    const byRule: Record<string, number> = {};
    for (const a of alerts) byRule[a.ruleId] = (byRule[a.ruleId] ?? 0) + 1;
    alerts.sort((a, b) => b.count - a.count || a.firstSeen - b.firstSeen);
    return {
      from: input.from.toISOString(),
      to: input.to.toISOString(),
      eventsScanned: scanned,
      truncated: scanned >= input.maxEvents,
      scannedUntil: lastTime === null ? null : new Date(lastTime).toISOString(),
      byRule,
      alerts: alerts.slice(0, 500).map((a) => ({
        ruleId: a.ruleId,
        title: a.title,
        severity: a.severity,
        groupKey: a.groupKey,
        summary: a.summary,
        developerId: a.developerId ?? null,
        count: a.count,
        firstSeen: new Date(a.firstSeen).toISOString(),
        lastSeen: new Date(a.lastSeen).toISOString(),
        eventIds: a.eventRefs.slice(-20),
        details: a.details,
      })),
    };
  }

  return {
    list,
    get,
    update,
    addNote,
    timeline,
    rules,
    setRules,
    loadSettings,
    settingsVersion,
    testRules,
  };
}

export type AlertsService = ReturnType<typeof createAlertsService>;
