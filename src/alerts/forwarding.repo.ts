import type { SqlClient } from "../store/store.ts";

export interface DestinationRow {
  id: string;
  name: string;
  kind: "syslog" | "ecs_http";
  config: Record<string, unknown>;
  secret_headers: Uint8Array | null;
  enabled: boolean;
  cursor: number;
  attempts: number;
  next_attempt_at: Date;
  forwarded: number;
  last_success_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  created_at: Date;
  updated_at: Date;
  dead_letters?: number;
}

export interface DeadLetterRow {
  id: string;
  destination_id: string;
  destination_name: string;
  created_at: Date;
  first_index: number;
  last_index: number;
  events: number;
  payload: string;
  error: string;
  attempts: number;
  status: "dead" | "delivered";
  redriven_at: Date | null;
  redriven_by: string | null;
}

const num = <T extends { cursor: number; forwarded: number; attempts: number; dead_letters?: number }>(
  r: T,
) => ({
  ...r,
  cursor: Number(r.cursor),
  forwarded: Number(r.forwarded),
  attempts: Number(r.attempts),
  ...(r.dead_letters !== undefined ? { dead_letters: Number(r.dead_letters) } : {}),
});

export const forwardingRepo = {
  async list(q: SqlClient): Promise<DestinationRow[]> {
    return (
      await q.query<DestinationRow>(
        `select d.*, (select count(*) from siem_dead_letters l where l.destination_id = d.id and l.status = 'dead')::int8
           as dead_letters from siem_destinations d order by lower(d.name)`,
      )
    ).rows.map(num);
  },

  async get(q: SqlClient, id: string, forUpdate = false): Promise<DestinationRow | undefined> {
    const r = (
      await q.query<DestinationRow>(
        forUpdate
          ? "select * from siem_destinations where id = $1 for update"
          : `select d.*, (select count(*) from siem_dead_letters l where l.destination_id = d.id and l.status = 'dead')::int8
               as dead_letters from siem_destinations d where d.id = $1`,
        [id],
      )
    ).rows[0];
    return r ? num(r) : undefined;
  },

  async nameTaken(q: SqlClient, name: string, exceptId?: string): Promise<boolean> {
    return (
      (
        await q.query("select 1 from siem_destinations where lower(name) = lower($1) and id <> $2", [
          name,
          exceptId ?? "00000000-0000-0000-0000-000000000000",
        ])
      ).rows.length > 0
    );
  },

  async insert(
    q: SqlClient,
    d: {
      id: string;
      name: string;
      kind: DestinationRow["kind"];
      config: Record<string, unknown>;
      secretHeaders: Buffer | null;
      enabled: boolean;
      cursor: number;
      at: Date;
    },
  ) {
    await q.query(
      `insert into siem_destinations (id, name, kind, config, secret_headers, enabled, cursor, next_attempt_at,
         created_at, updated_at) values ($1,$2,$3,$4,$5,$6,$7,$8,$8,$8)`,
      [d.id, d.name, d.kind, JSON.stringify(d.config), d.secretHeaders, d.enabled, d.cursor, d.at],
    );
  },

  async update(
    q: SqlClient,
    id: string,
    d: {
      name: string;
      config: Record<string, unknown>;
      secretHeaders: Uint8Array | null;
      enabled: boolean;
      at: Date;
    },
  ) {
    await q.query(
      `update siem_destinations set name = $2, config = $3, secret_headers = $4, enabled = $5, updated_at = $6,
         attempts = 0, next_attempt_at = $6 where id = $1`,
      [id, d.name, JSON.stringify(d.config), d.secretHeaders, d.enabled, d.at],
    );
  },

  async remove(q: SqlClient, id: string) {
    await q.query("delete from siem_destinations where id = $1", [id]);
  },

  async due(q: SqlClient, now: Date): Promise<DestinationRow[]> {
    return (
      await q.query<DestinationRow>(
        "select * from siem_destinations where enabled and next_attempt_at <= $1 order by next_attempt_at",
        [now],
      )
    ).rows.map(num);
  },

  /** A batch went through: move the cursor (guarded, in case the destination was reset meanwhile). */
  async advance(q: SqlClient, id: string, from: number, to: number, sent: number, at: Date) {
    await q.query(
      `update siem_destinations set cursor = $3, forwarded = forwarded + $4, attempts = 0, last_success_at = $5,
         next_attempt_at = $5 where id = $1 and cursor = $2`,
      [id, from, to, sent, at],
    );
  },

  /** Nothing matched the filter in the range read: move on without counting. */
  async skip(q: SqlClient, id: string, from: number, to: number) {
    await q.query("update siem_destinations set cursor = $3 where id = $1 and cursor = $2", [id, from, to]);
  },

  async failed(q: SqlClient, id: string, attempts: number, error: string, at: Date, next: Date) {
    await q.query(
      `update siem_destinations set attempts = $2, last_error = $3, last_error_at = $4, next_attempt_at = $5
        where id = $1`,
      [id, attempts, error, at, next],
    );
  },

  async deadLetter(
    q: SqlClient,
    l: {
      id: string;
      destinationId: string;
      at: Date;
      firstIndex: number;
      lastIndex: number;
      events: number;
      payload: string;
      error: string;
      attempts: number;
    },
  ) {
    await q.query(
      `insert into siem_dead_letters (id, destination_id, created_at, first_index, last_index, events, payload, error,
         attempts) values ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
      [l.id, l.destinationId, l.at, l.firstIndex, l.lastIndex, l.events, l.payload, l.error, l.attempts],
    );
  },

  async deadLetters(
    q: SqlClient,
    f: { destinationId?: string | undefined; status?: "dead" | "delivered" | undefined; limit: number },
  ): Promise<DeadLetterRow[]> {
    return (
      await q.query<DeadLetterRow>(
        `select l.*, d.name as destination_name from siem_dead_letters l join siem_destinations d on d.id = l.destination_id
          where ($1::uuid is null or l.destination_id = $1) and ($2::text is null or l.status = $2)
          order by l.created_at desc, l.id limit $3`,
        [f.destinationId ?? null, f.status ?? null, f.limit],
      )
    ).rows.map((r) => ({ ...r, first_index: Number(r.first_index), last_index: Number(r.last_index) }));
  },

  async deadLetter1(q: SqlClient, id: string, forUpdate = false): Promise<DeadLetterRow | undefined> {
    const r = (
      await q.query<DeadLetterRow>(
        `select l.*, d.name as destination_name from siem_dead_letters l join siem_destinations d on d.id = l.destination_id
          where l.id = $1 ${forUpdate ? "for update of l" : ""}`,
        [id],
      )
    ).rows[0];
    return r ? { ...r, first_index: Number(r.first_index), last_index: Number(r.last_index) } : undefined;
  },

  async redriven(
    q: SqlClient,
    id: string,
    r: { delivered: boolean; error: string | null; at: Date; by: string },
  ) {
    await q.query(
      `update siem_dead_letters set status = case when $2 then 'delivered' else status end,
         error = coalesce($3, error), attempts = attempts + 1, redriven_at = $4, redriven_by = $5 where id = $1`,
      [id, r.delivered, r.error, r.at, r.by],
    );
  },
};
