import type { SqlClient } from "../store/store.ts";
import type { AlertSeverity, AlertStatus } from "./alert.types.ts";

/** Stored alerts, the events behind them and what people did with them. Parameterised SQL only. */
export interface AlertRow {
  id: string;
  rule_id: string;
  title: string;
  severity: AlertSeverity;
  status: AlertStatus;
  dedup_key: string;
  group_key: string;
  summary: string;
  details: Record<string, unknown>;
  developer_id: string | null;
  developer_name: string | null;
  count: number;
  first_seen: Date;
  last_seen: Date;
  assignee_id: string | null;
  assignee_name: string | null;
  created_at: Date;
  updated_at: Date;
  resolved_at: Date | null;
}

export interface NewAlert {
  id: string;
  ruleId: string;
  title: string;
  severity: AlertSeverity;
  dedupKey: string;
  groupKey: string;
  summary: string;
  details: Record<string, unknown>;
  developerId: string | null;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  at: Date;
}

export interface AlertFilter {
  status?: AlertStatus[] | undefined;
  severity?: AlertSeverity[] | undefined;
  ruleId?: string | undefined;
  developerId?: string | undefined;
  assigneeId?: string | undefined;
  unassigned?: boolean | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  q?: string | undefined;
  limit: number;
  offset: number;
}

export interface AlertEventRow {
  event_id: string;
  at: Date;
  label: string;
}

export interface ActivityRow {
  id: string;
  at: Date;
  actor_id: string | null;
  actor_label: string;
  kind: "opened" | "note" | "status" | "assign" | "severity";
  body: string;
  data: Record<string, unknown>;
}

const select = `select a.*, d.full_name as developer_name, u.display_name as assignee_name
  from alerts a left join developers d on d.id = a.developer_id left join users u on u.id = a.assignee_id`;

function where(f: Omit<AlertFilter, "limit" | "offset">): { sql: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, ...values: unknown[]) => {
    let text = cond;
    for (const v of values) {
      params.push(v);
      text = text.replace("?", `$${params.length}`);
    }
    conds.push(text);
  };
  if (f.status?.length) add("a.status = any(?::text[])", f.status);
  if (f.severity?.length) add("a.severity = any(?::text[])", f.severity);
  if (f.ruleId) add("a.rule_id = ?", f.ruleId);
  if (f.developerId) add("a.developer_id = ?", f.developerId);
  if (f.assigneeId) add("a.assignee_id = ?", f.assigneeId);
  if (f.unassigned) conds.push("a.assignee_id is null");
  if (f.from) add("a.last_seen >= ?", f.from);
  if (f.to) add("a.first_seen < ?", f.to);
  if (f.q) {
    const like = `%${f.q.replace(/[%_\\]/g, "\\$&")}%`;
    add("(a.title ilike ? or a.summary ilike ? or a.group_key ilike ?)", like, like, like);
  }
  return { sql: conds.length ? `where ${conds.join(" and ")}` : "", params };
}

export const alertsRepo = {
  /**
   * For storing a batch of rule hits: the alerts with these ids, and the open alerts with these dedup
   * keys, locked until the transaction ends.
   */
  async lockForHits(
    q: SqlClient,
    ids: string[],
    dedupKeys: string[],
  ): Promise<Pick<AlertRow, "id" | "dedup_key" | "status" | "severity" | "count">[]> {
    return (
      await q.query<Pick<AlertRow, "id" | "dedup_key" | "status" | "severity" | "count">>(
        `select id, dedup_key, status, severity, count from alerts
          where id = any($1::uuid[]) or (dedup_key = any($2::text[]) and status <> 'resolved')
          order by id for update`,
        [ids, dedupKeys],
      )
    ).rows.map((r) => ({ ...r, count: Number(r.count) }));
  },

  /** Adds repeats to many open alerts in one statement. */
  async growMany(
    q: SqlClient,
    rows: {
      id: string;
      hits: number;
      firstSeen: Date;
      lastSeen: Date;
      summary: string;
      details: Record<string, unknown>;
      severity: AlertSeverity;
    }[],
    at: Date,
  ): Promise<void> {
    if (rows.length === 0) return;
    await q.query(
      `update alerts a set count = a.count + v.hits, first_seen = least(a.first_seen, v.first_seen),
         last_seen = greatest(a.last_seen, v.last_seen), summary = v.summary, details = v.details,
         severity = v.severity, updated_at = $8
       from unnest($1::uuid[], $2::int8[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::jsonb[], $7::text[])
         as v(id, hits, first_seen, last_seen, summary, details, severity)
       where a.id = v.id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.hits),
        rows.map((r) => r.firstSeen),
        rows.map((r) => r.lastSeen),
        rows.map((r) => r.summary),
        rows.map((r) => JSON.stringify(r.details)),
        rows.map((r) => r.severity),
        at,
      ],
    );
  },

  /** Event links of many alerts in one statement (a link already there is kept). */
  async linkEvents(q: SqlClient, links: { alertId: string; eventId: string; at: Date; label: string }[]) {
    if (links.length === 0) return;
    await q.query(
      `insert into alert_events (alert_id, event_id, at, label)
       select * from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[])
       on conflict do nothing`,
      [
        links.map((l) => l.alertId),
        links.map((l) => l.eventId),
        links.map((l) => l.at),
        links.map((l) => l.label),
      ],
    );
  },

  async insert(q: SqlClient, a: NewAlert): Promise<void> {
    await q.query(
      `insert into alerts (id, rule_id, title, severity, status, dedup_key, group_key, summary, details,
         developer_id, count, first_seen, last_seen, created_at, updated_at)
       values ($1,$2,$3,$4,'open',$5,$6,$7,$8,$9,$10,$11,$12,$13,$13)`,
      [
        a.id,
        a.ruleId,
        a.title,
        a.severity,
        a.dedupKey,
        a.groupKey,
        a.summary,
        JSON.stringify(a.details),
        a.developerId,
        a.count,
        a.firstSeen,
        a.lastSeen,
        a.at,
      ],
    );
  },

  /** Keeps the newest `keep` event links of an alert. */
  async pruneEvents(q: SqlClient, alertId: string, keep: number): Promise<void> {
    await q.query(
      `delete from alert_events where alert_id = $1 and event_id in (
         select event_id from alert_events where alert_id = $1 order by at desc, event_id desc offset $2)`,
      [alertId, keep],
    );
  },

  async list(q: SqlClient, f: AlertFilter): Promise<{ rows: AlertRow[]; total: number }> {
    const w = where(f);
    const total = Number(
      (await q.query<{ n: number }>(`select count(*)::int8 as n from alerts a ${w.sql}`, w.params)).rows[0]
        ?.n ?? 0,
    );
    const params = [...w.params, f.limit, f.offset];
    const rows = (
      await q.query<AlertRow>(
        `${select} ${w.sql} order by a.last_seen desc, a.id limit $${params.length - 1} offset $${params.length}`,
        params,
      )
    ).rows;
    return { rows, total };
  },

  async get(q: SqlClient, id: string, forUpdate = false): Promise<AlertRow | undefined> {
    return (
      await q.query<AlertRow>(
        forUpdate
          ? "select a.*, null as developer_name, null as assignee_name from alerts a where a.id = $1 for update"
          : `${select} where a.id = $1`,
        [id],
      )
    ).rows[0];
  },

  async byIds(q: SqlClient, ids: readonly string[]): Promise<AlertRow[]> {
    if (ids.length === 0) return [];
    return (await q.query<AlertRow>(`${select} where a.id = any($1::uuid[])`, [ids])).rows;
  },

  /** The newest `perAlert` event ids behind each of these alerts. */
  async newestEventIds(
    q: SqlClient,
    ids: readonly string[],
    perAlert: number,
  ): Promise<{ alert_id: string; event_id: string }[]> {
    if (ids.length === 0) return [];
    return (
      await q.query<{ alert_id: string; event_id: string }>(
        `select alert_id, event_id from (
           select alert_id, event_id, row_number() over (partition by alert_id order by at desc, event_id desc) as n
             from alert_events where alert_id = any($1::uuid[])) x
          where n <= $2 order by alert_id, n`,
        [ids, perAlert],
      )
    ).rows;
  },

  async events(q: SqlClient, alertId: string, limit: number): Promise<AlertEventRow[]> {
    return (
      await q.query<AlertEventRow>(
        "select event_id, at, label from alert_events where alert_id = $1 order by at desc, event_id desc limit $2",
        [alertId, limit],
      )
    ).rows;
  },

  async activity(q: SqlClient, alertId: string): Promise<ActivityRow[]> {
    return (
      await q.query<ActivityRow>(
        "select id, at, actor_id, actor_label, kind, body, data from alert_activity where alert_id = $1 order by seq",
        [alertId],
      )
    ).rows;
  },

  async addActivity(
    q: SqlClient,
    a: {
      id: string;
      alertId: string;
      at: Date;
      actorId: string | null;
      actorLabel: string;
      kind: ActivityRow["kind"];
      body?: string;
      data?: Record<string, unknown>;
    },
  ): Promise<void> {
    await q.query(
      `insert into alert_activity (id, alert_id, at, actor_id, actor_label, kind, body, data)
       values ($1,$2,$3,$4,$5,$6,$7,$8)`,
      [a.id, a.alertId, a.at, a.actorId, a.actorLabel, a.kind, a.body ?? "", JSON.stringify(a.data ?? {})],
    );
  },

  async updateWorkflow(
    q: SqlClient,
    id: string,
    w: {
      status: AlertStatus;
      assigneeId: string | null;
      severity: AlertSeverity;
      resolvedAt: Date | null;
      at: Date;
    },
  ): Promise<void> {
    await q.query(
      `update alerts set status = $2, assignee_id = $3, severity = $4, resolved_at = $5, updated_at = $6 where id = $1`,
      [id, w.status, w.assigneeId, w.severity, w.resolvedAt, w.at],
    );
  },

  /** Alerts opened per hour (by their first event) and severity, in [from, to). */
  async perHour(
    q: SqlClient,
    f: Omit<AlertFilter, "limit" | "offset"> & { from: Date; to: Date },
  ): Promise<{ hour: number; severity: AlertSeverity; n: number }[]> {
    const w = where({ ...f, from: undefined, to: undefined });
    const params = [...w.params, f.from, f.to];
    const range = `a.first_seen >= $${params.length - 1} and a.first_seen < $${params.length}`;
    return (
      await q.query<{ hour: number; severity: AlertSeverity; n: number }>(
        `select floor(extract(epoch from a.first_seen) / 3600)::int8 as hour, a.severity, count(*)::int8 as n
           from alerts a ${w.sql ? `${w.sql} and ${range}` : `where ${range}`}
          group by 1, 2 order by 1`,
        params,
      )
    ).rows.map((r) => ({ hour: Number(r.hour), severity: r.severity, n: Number(r.n) }));
  },

  async counts(q: SqlClient): Promise<{ status: AlertStatus; severity: AlertSeverity; n: number }[]> {
    return (
      await q.query<{ status: AlertStatus; severity: AlertSeverity; n: number }>(
        "select status, severity, count(*)::int8 as n from alerts group by 1, 2",
      )
    ).rows.map((r) => ({ ...r, n: Number(r.n) }));
  },

  async userExists(
    q: SqlClient,
    userId: string,
  ): Promise<{ display_name: string; role: string } | undefined> {
    return (
      await q.query<{ display_name: string; role: string }>(
        "select display_name, role from users where id = $1 and disabled_at is null",
        [userId],
      )
    ).rows[0];
  },
};
