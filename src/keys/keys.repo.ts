import type { SealPurpose } from "../crypto/keyring.ts";
import { checkedColumn, type SealedColumn } from "../crypto/sealed-columns.ts";
import type { SqlClient } from "../store/store.ts";

export interface RotationRow {
  id: string;
  kind: "kek" | "data";
  purposes: SealPurpose[];
  from_keys: string[];
  to_keys: Record<string, string>;
  state: "running" | "finished";
  total: number;
  requested_by: string | null;
  requested_by_email: string | null;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  last_error: string | null;
}

export interface DataKeyListRow {
  id: string;
  purpose: SealPurpose;
  version: number;
  kek_id: string;
  created_at: Date;
  retired_at: Date | null;
}

const rotationSelect = `select r.*, u.email as requested_by_email from key_rotations r
  left join users u on u.id = r.requested_by`;

/** The sealed value's data-key id sits in bytes 2..17 (see keyring.ts): `substring(col from 2 for 16)`. */
const KEY_ID_SQL = (column: string) => `substring(${column} from 2 for 16)`;

const uuidBytes = (id: string) => Buffer.from(id.replace(/-/g, ""), "hex");

export const keysRepo = {
  async dataKeys(q: SqlClient): Promise<DataKeyListRow[]> {
    return (
      await q.query<DataKeyListRow>(
        "select id, purpose, version, kek_id, created_at, retired_at from data_keys order by purpose, version",
      )
    ).rows;
  },

  async kekIdsInUse(q: SqlClient): Promise<string[]> {
    return (
      await q.query<{ kek_id: string }>("select distinct kek_id from data_keys order by kek_id")
    ).rows.map((r) => r.kek_id);
  },

  async rotations(q: SqlClient, limit: number): Promise<RotationRow[]> {
    return (
      await q.query<RotationRow>(`${rotationSelect} order by r.started_at desc, r.id limit $1`, [limit])
    ).rows;
  },

  async running(q: SqlClient, kind: "kek" | "data"): Promise<RotationRow | undefined> {
    return (await q.query<RotationRow>(`${rotationSelect} where r.kind = $1 and r.state = 'running'`, [kind]))
      .rows[0];
  },

  async rotationById(q: SqlClient, id: string): Promise<RotationRow | undefined> {
    return (await q.query<RotationRow>(`${rotationSelect} where r.id = $1`, [id])).rows[0];
  },

  async insertRotation(
    q: SqlClient,
    r: {
      id: string;
      kind: "kek" | "data";
      purposes: string[];
      fromKeys: string[];
      toKeys: Record<string, string>;
      state: "running" | "finished";
      total: number;
      requestedBy: string | null;
      at: Date;
    },
  ): Promise<void> {
    await q.query(
      `insert into key_rotations (id, kind, purposes, from_keys, to_keys, state, total, requested_by,
         started_at, updated_at, finished_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)`,
      [
        r.id,
        r.kind,
        JSON.stringify(r.purposes),
        JSON.stringify(r.fromKeys),
        JSON.stringify(r.toKeys),
        r.state,
        r.total,
        r.requestedBy,
        r.at,
        r.state === "finished" ? r.at : null,
      ],
    );
  },

  async touch(q: SqlClient, id: string, at: Date): Promise<void> {
    await q.query("update key_rotations set updated_at = $2, last_error = null where id = $1", [id, at]);
  },

  async setError(q: SqlClient, id: string, error: string, at: Date): Promise<void> {
    await q.query("update key_rotations set last_error = $2, updated_at = $3 where id = $1", [id, error, at]);
  },

  async finish(q: SqlClient, id: string, at: Date): Promise<void> {
    await q.query(
      "update key_rotations set state = 'finished', finished_at = $2, updated_at = $2 where id = $1",
      [id, at],
    );
  },

  /** Retires every data key of these purposes except the active ones. */
  async retireAllBut(q: SqlClient, purposes: string[], keep: string[], at: Date): Promise<number> {
    const r = await q.query(
      `update data_keys set retired_at = $3
        where purpose = any($1::text[]) and not (id = any($2::uuid[])) and retired_at is null`,
      [purposes, keep, at],
    );
    return r.affectedRows ?? 0;
  },

  /** How many sealed values of the column are NOT under `keyId` (the purpose's active key). */
  async countNotUnder(q: SqlClient, col: SealedColumn, keyId: string): Promise<number> {
    const c = checkedColumn(col);
    const r = await q.query<{ n: number }>(
      `select count(*)::int8 as n from ${c.table} where ${c.column} is not null and ${KEY_ID_SQL(c.column)} <> $1`,
      [uuidBytes(keyId)],
    );
    return Number(r.rows[0]?.n ?? 0);
  },

  /** Sealed values per data-key id, for the status page. */
  async countByKey(q: SqlClient, col: SealedColumn): Promise<Map<string, number>> {
    const c = checkedColumn(col);
    const r = await q.query<{ k: Uint8Array; n: number }>(
      `select ${KEY_ID_SQL(c.column)} as k, count(*)::int8 as n from ${c.table}
        where ${c.column} is not null group by 1`,
    );
    const out = new Map<string, number>();
    for (const row of r.rows) {
      const h = Buffer.from(row.k).toString("hex");
      out.set(
        `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
        Number(row.n),
      );
    }
    return out;
  },

  /** A batch of rows still sealed under another key than `keyId`. */
  async batchNotUnder(
    q: SqlClient,
    col: SealedColumn,
    keyId: string,
    limit: number,
  ): Promise<{ id: string; sealed: Uint8Array }[]> {
    const c = checkedColumn(col);
    return (
      await q.query<{ id: string; sealed: Uint8Array }>(
        `select ${c.idColumn}::text as id, ${c.column} as sealed from ${c.table}
          where ${c.column} is not null and ${KEY_ID_SQL(c.column)} <> $1
          order by ${c.idColumn} limit $2`,
        [uuidBytes(keyId), limit],
      )
    ).rows;
  },

  /** Compare-and-set: replaces the value only if nobody changed it since it was read. */
  async replaceSealed(
    q: SqlClient,
    col: SealedColumn,
    id: string,
    before: Uint8Array,
    after: Uint8Array,
  ): Promise<boolean> {
    const c = checkedColumn(col);
    const r = await q.query(
      `update ${c.table} set ${c.column} = $3 where ${c.idColumn}::text = $1 and ${c.column} = $2`,
      [id, before, after],
    );
    return (r.affectedRows ?? 0) > 0;
  },

  async tableExists(q: SqlClient, table: string): Promise<boolean> {
    const r = await q.query(
      "select 1 from information_schema.tables where table_schema = current_schema() and table_name = $1",
      [table],
    );
    return r.rows.length > 0;
  },
};
