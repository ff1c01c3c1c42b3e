/**
 * SQL for the event log's rows (`log_events`): one row per Merkle leaf, holding the exact entry and the
 * columns it is searched by. Every function takes the client to run on (a transaction or the store).
 */
import type { SqlClient } from "../store/store.ts";
import {
  COLUMNS,
  copyChunks,
  type EncodedRows,
  encodeRows,
  type RowInput,
  setIndices,
} from "./eventlog.copy.ts";

export interface NewRow extends RowInput {
  idx: number;
}

/** Inserts rows already encoded for binary COPY, their leaf indices set: one COPY for all of them. */
export async function insertEncodedRows(q: SqlClient, encoded: EncodedRows[]): Promise<void> {
  if (encoded.every((e) => e.count === 0)) return;
  await q.copyIn("log_events", COLUMNS, copyChunks(encoded));
}

/** Inserts rows, each at its own `idx`, which must be consecutive. */
export async function insertRows(q: SqlClient, rows: NewRow[]): Promise<void> {
  if (rows.length === 0) return;
  rows.forEach((r, i) => {
    if (r.idx !== rows[0]!.idx + i) throw new Error("log rows must have consecutive indices");
  });
  const encoded = encodeRows(rows);
  setIndices(encoded, rows[0]!.idx);
  await insertEncodedRows(q, [encoded]);
}

/**
 * Events already logged under these (source, source event id) keys: the keys as one json parameter,
 * joined to the unique index. (`source = $1 and source_uid = any($2::text[])` was measured here too: with
 * 4,000 keys it cost the server 40 µs per event instead of 25.)
 */
export async function findBySourceKeys(
  q: SqlClient,
  keys: { source: string; uid: string }[],
): Promise<Map<string, { id: string; idx: number }>> {
  const out = new Map<string, { id: string; idx: number }>();
  if (keys.length === 0) return out;
  const { rows } = await q.query<{ source: string; source_uid: string; id: string; idx: number }>(
    `select e.source, e.source_uid, e.id, e.idx
       from json_array_elements($1::json) as k
       join log_events e on e.source = k->>0 and e.source_uid = k->>1`,
    [JSON.stringify(keys.map((k) => [k.source, k.uid]))],
  );
  for (const r of rows) out.set(sourceKey(r.source, r.source_uid), { id: r.id, idx: Number(r.idx) });
  return out;
}

export const sourceKey = (source: string, uid: string) => `${source}\u0000${uid}`;

/** Entry texts of [from, to), by index. */
export async function readEntryTexts(q: SqlClient, from: number, to: number): Promise<Map<number, string>> {
  const { rows } = await q.query<{ idx: number; entry: string }>(
    "select idx, entry from log_events where idx >= $1 and idx < $2 order by idx",
    [from, to],
  );
  return new Map(rows.map((r) => [Number(r.idx), r.entry]));
}

export interface EventRow {
  idx: number;
  id: string;
  entry: string;
  kind: "audit" | "ocsf";
  at: Date;
  received_at: Date;
  class_uid: number;
  activity_id: number;
  status_id: number;
  severity_id: number;
  source: string;
  source_uid: string | null;
  actor_id: string | null;
  actor_label: string | null;
  developer_id: string | null;
  subject_developer_id: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  src_ip: string | null;
  developer_name?: string | null;
  vendor_id?: string | null;
  vendor_name?: string | null;
}

export interface EventFilter {
  developerId?: string | undefined;
  vendorId?: string | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  /** Exact action instead of a prefix. */
  actionExact?: boolean;
  resource?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  outcome?: "success" | "failure" | "other" | undefined;
  sourceIp?: string | undefined;
  source?: string | undefined;
  kind?: "audit" | "ocsf" | undefined;
  classUid?: number | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  text?: string | undefined;
  beforeIndex?: number | undefined;
  afterIndex?: number | undefined;
}

const likeEscape = (s: string) => s.replace(/[%_\\]/g, "\\$&");

/** WHERE clause (on alias e, developers d) and parameters for a filter. */
export function whereOf(f: EventFilter, params: unknown[] = []): { where: string; params: unknown[] } {
  const conds: string[] = [];
  const add = (cond: string, ...values: unknown[]) => {
    let c = cond;
    for (const v of values) {
      params.push(v);
      c = c.replace("?", `$${params.length}`);
    }
    conds.push(c);
  };
  if (f.developerId) add("(e.developer_id = ? or e.subject_developer_id = ?)", f.developerId, f.developerId);
  if (f.vendorId) add("d.vendor_id = ?", f.vendorId);
  if (f.actorId) add("e.actor_id = ?", f.actorId);
  if (f.action) {
    if (f.actionExact) add("e.action = ?", f.action);
    else add("e.action like ?", `${likeEscape(f.action)}%`);
  }
  if (f.resourceType) add("e.resource_type = ?", f.resourceType);
  if (f.resourceId) add("e.resource_id = ?", f.resourceId);
  if (f.resource)
    add(
      "(e.resource_id ilike ? or e.resource_type || ':' || e.resource_id ilike ?)",
      `%${likeEscape(f.resource)}%`,
      `%${likeEscape(f.resource)}%`,
    );
  if (f.outcome === "success") add("e.status_id = 1");
  if (f.outcome === "failure") add("e.status_id = 2");
  if (f.outcome === "other") add("e.status_id not in (1, 2)");
  if (f.sourceIp) add("e.src_ip like ?", `${likeEscape(f.sourceIp)}%`);
  if (f.source) add("e.source = ?", f.source);
  if (f.kind) add("e.kind = ?", f.kind);
  if (f.classUid) add("e.class_uid = ?", f.classUid);
  if (f.from) add("e.at >= ?", f.from.toISOString());
  if (f.to) add("e.at < ?", f.to.toISOString());
  if (f.beforeIndex !== undefined) add("e.idx < ?", f.beforeIndex);
  if (f.afterIndex !== undefined) add("e.idx > ?", f.afterIndex);
  // Free text over the whole entry (the original record included) and the resolved developer's name.
  if (f.text)
    add("(e.entry ilike ? or d.full_name ilike ?)", `%${likeEscape(f.text)}%`, `%${likeEscape(f.text)}%`);
  return { where: conds.length ? `where ${conds.join(" and ")}` : "", params };
}

const SELECT = `select e.*, d.full_name as developer_name, d.vendor_id, v.name as vendor_name
  from log_events e
  left join developers d on d.id = coalesce(e.developer_id, e.subject_developer_id)
  left join vendors v on v.id = d.vendor_id`;

/** Newest first (by log index), one page. */
export async function searchRows(
  q: SqlClient,
  f: EventFilter,
  limit: number,
  order: "desc" | "asc" | "time" = "desc",
): Promise<EventRow[]> {
  const { where, params } = whereOf(f);
  params.push(limit);
  // Log order (newest appended first) by default; "time" is by when it happened, for timelines.
  const by = order === "time" ? "e.at desc, e.idx desc" : `e.idx ${order}`;
  const { rows } = await q.query<EventRow>(
    `${SELECT} ${where} order by ${by} limit $${params.length}`,
    params,
  );
  return rows;
}

export async function rowById(q: SqlClient, id: string): Promise<EventRow | undefined> {
  const { rows } = await q.query<EventRow>(`${SELECT} where e.id = $1`, [id]);
  return rows[0];
}

export async function rowByIndex(q: SqlClient, idx: number): Promise<EventRow | undefined> {
  const { rows } = await q.query<EventRow>(`${SELECT} where e.idx = $1`, [idx]);
  return rows[0];
}

/**
 * Activity counts per (weekday, hour) in a time zone, for the heat map: PostgreSQL converts each instant
 * to the developer's local wall-clock time (IANA zone, daylight saving included).
 */
export async function heatCounts(
  q: SqlClient,
  developerId: string,
  timeZone: string,
  from: Date,
  to: Date,
): Promise<{ dow: number; hour: number; n: number }[]> {
  const { rows } = await q.query<{ dow: number; hour: number; n: number }>(
    `select extract(isodow from e.at at time zone $2)::int as dow, extract(hour from e.at at time zone $2)::int as hour,
            count(*)::int8 as n
       from log_events e
      where e.developer_id = $1 and e.at >= $3 and e.at < $4
      group by 1, 2`,
    [developerId, timeZone, from.toISOString(), to.toISOString()],
  );
  return rows.map((r) => ({ dow: Number(r.dow), hour: Number(r.hour), n: Number(r.n) }));
}
