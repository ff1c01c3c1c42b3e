import type { TargetResult } from "../scan-tls/index.ts";
import type { SqlClient } from "../store/store.ts";
import type { ScanDiff } from "./tls-scans.diff.ts";

export interface TargetRow {
  id: string;
  target: string;
  label: string;
  source: "manual" | "catalog" | "cli";
  resource_id: string | null;
  scheduled: boolean;
  interval_hours: number;
  next_scan_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface ScanRow {
  id: string;
  target_id: string;
  target: string;
  trigger: "schedule" | "manual" | "cli";
  status: TargetResult["status"];
  grade: string | null;
  worst: string;
  finding_count: number;
  result: TargetResult;
  diff: ScanDiff;
  started_at: Date;
  finished_at: Date;
  reported_by_email: string | null;
}

/** A target with its latest scan's summary columns (prefixed `l_`), for lists. */
export type TargetWithLast = TargetRow & {
  l_id: string | null;
  l_trigger: ScanRow["trigger"] | null;
  l_status: ScanRow["status"] | null;
  l_grade: string | null;
  l_worst: string | null;
  l_finding_count: number | null;
  l_diff: ScanDiff | null;
  l_started_at: Date | null;
  l_finished_at: Date | null;
  l_reported_by_email: string | null;
};

const scanSelect = `select s.id, s.target_id, t.target, s.trigger, s.status, s.grade, s.worst, s.finding_count,
    s.result, s.diff, s.started_at, s.finished_at, u.email as reported_by_email
  from tls_scans s join tls_scan_targets t on t.id = s.target_id left join users u on u.id = s.reported_by`;

// The summary of a scan without its (large) result document.
const summarySelect = `select s.id, s.target_id, t.target, s.trigger, s.status, s.grade, s.worst, s.finding_count,
    null::jsonb as result, s.diff, s.started_at, s.finished_at, u.email as reported_by_email
  from tls_scans s join tls_scan_targets t on t.id = s.target_id left join users u on u.id = s.reported_by`;

const withLast = `select t.*, l.id as l_id, l.trigger as l_trigger, l.status as l_status, l.grade as l_grade,
    l.worst as l_worst, l.finding_count as l_finding_count, l.diff as l_diff, l.started_at as l_started_at,
    l.finished_at as l_finished_at, lu.email as l_reported_by_email
  from tls_scan_targets t
  left join lateral (select * from tls_scans s where s.target_id = t.id order by s.started_at desc, s.id limit 1) l on true
  left join users lu on lu.id = l.reported_by`;

export const tlsScansRepo = {
  async list(
    q: SqlClient,
    f: { q?: string | undefined; worst?: string | undefined; limit: number; offset: number },
  ): Promise<{ rows: TargetWithLast[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.q) {
      params.push(`%${f.q.replace(/[%_\\]/g, "\\$&")}%`);
      where.push(`(x.target ilike $${params.length} or x.label ilike $${params.length})`);
    }
    if (f.worst) {
      params.push(f.worst);
      where.push(`coalesce(x.l_worst, 'none') = $${params.length}`);
    }
    const from = `from (${withLast}) x ${where.length ? `where ${where.join(" and ")}` : ""}`;
    const total = Number(
      (await q.query<{ n: number }>(`select count(*)::int8 as n ${from}`, params)).rows[0]?.n ?? 0,
    );
    params.push(f.limit, f.offset);
    const rows = (
      await q.query<TargetWithLast>(
        `select x.* ${from} order by x.target, x.id limit $${params.length - 1} offset $${params.length}`,
        params,
      )
    ).rows;
    return { rows, total };
  },

  async byId(q: SqlClient, id: string): Promise<TargetWithLast | undefined> {
    return (await q.query<TargetWithLast>(`select * from (${withLast}) t where t.id = $1`, [id])).rows[0];
  },

  async byTarget(q: SqlClient, target: string): Promise<TargetRow | undefined> {
    return (
      await q.query<TargetRow>("select * from tls_scan_targets where lower(target) = lower($1)", [target])
    ).rows[0];
  },

  async byResource(q: SqlClient, resourceId: string): Promise<TargetRow | undefined> {
    return (await q.query<TargetRow>("select * from tls_scan_targets where resource_id = $1", [resourceId]))
      .rows[0];
  },

  async insert(
    q: SqlClient,
    t: {
      id: string;
      target: string;
      label: string;
      source: TargetRow["source"];
      resourceId: string | null;
      scheduled: boolean;
      intervalHours: number;
      nextScanAt: Date | null;
      createdBy: string | null;
      at: Date;
    },
  ): Promise<void> {
    await q.query(
      `insert into tls_scan_targets (id, target, label, source, resource_id, scheduled, interval_hours, next_scan_at,
         created_by, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
      [
        t.id,
        t.target,
        t.label,
        t.source,
        t.resourceId,
        t.scheduled,
        t.intervalHours,
        t.nextScanAt,
        t.createdBy,
        t.at,
      ],
    );
  },

  async update(
    q: SqlClient,
    id: string,
    p: { label: string; intervalHours: number; scheduled: boolean; nextScanAt: Date | null; at: Date },
  ): Promise<void> {
    await q.query(
      `update tls_scan_targets set label = $2, interval_hours = $3, scheduled = $4, next_scan_at = $5, updated_at = $6
        where id = $1`,
      [id, p.label, p.intervalHours, p.scheduled, p.nextScanAt, p.at],
    );
  },

  async remove(q: SqlClient, id: string): Promise<boolean> {
    return ((await q.query("delete from tls_scan_targets where id = $1", [id])).affectedRows ?? 0) > 0;
  },

  /** Claims up to `limit` due targets by moving their next scan forward (a crashed run retries next period). */
  async claimDue(q: SqlClient, now: Date, limit: number): Promise<TargetRow[]> {
    return (
      await q.query<TargetRow>(
        `update tls_scan_targets t set next_scan_at = $1::timestamptz + make_interval(hours => t.interval_hours)
          where t.id in (select id from tls_scan_targets where scheduled and next_scan_at <= $1
                          order by next_scan_at limit $2 for update skip locked)
          returning t.*`,
        [now, limit],
      )
    ).rows;
  },

  async latestResult(q: SqlClient, targetId: string): Promise<TargetResult | null> {
    const r = await q.query<{ result: TargetResult }>(
      "select result from tls_scans where target_id = $1 order by started_at desc, id limit 1 for update",
      [targetId],
    );
    return r.rows[0]?.result ?? null;
  },

  async insertScan(
    q: SqlClient,
    s: {
      id: string;
      targetId: string;
      trigger: ScanRow["trigger"];
      result: TargetResult;
      diff: ScanDiff;
      worst: string;
      startedAt: Date;
      finishedAt: Date;
      reportedBy: string | null;
    },
  ): Promise<void> {
    await q.query(
      `insert into tls_scans (id, target_id, trigger, status, grade, worst, finding_count, result, diff, started_at,
         finished_at, reported_by)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        s.id,
        s.targetId,
        s.trigger,
        s.result.status,
        s.result.grade?.grade ?? null,
        s.worst,
        s.result.findings.length,
        JSON.stringify(s.result),
        JSON.stringify(s.diff),
        s.startedAt,
        s.finishedAt,
        s.reportedBy,
      ],
    );
  },

  async scanById(q: SqlClient, id: string): Promise<ScanRow | undefined> {
    return (await q.query<ScanRow>(`${scanSelect} where s.id = $1`, [id])).rows[0];
  },

  async history(q: SqlClient, targetId: string, limit: number): Promise<ScanRow[]> {
    return (
      await q.query<ScanRow>(
        `${summarySelect} where s.target_id = $1 order by s.started_at desc, s.id limit $2`,
        [targetId, limit],
      )
    ).rows;
  },

  async catalogTargets(q: SqlClient): Promise<TargetRow[]> {
    return (await q.query<TargetRow>("select * from tls_scan_targets where source = 'catalog'")).rows;
  },
};
