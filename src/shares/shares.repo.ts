import type { SqlClient } from "../store/store.ts";
import type { ShareKey } from "./shares.checks.ts";
import type { DownloadOutcome, ShareKind, ShareStatus } from "./shares.schemas.ts";

export interface ShareRow {
  id: string;
  kind: ShareKind;
  status: ShareStatus;
  sender_id: string;
  sender_name: string;
  filename: Uint8Array | null;
  note: Uint8Array | null;
  data_categories: string[];
  plaintext_bytes: number;
  ciphertext_bytes: number | null;
  sha256: string | null;
  max_downloads: number | null;
  one_time: boolean;
  expires_at: Date;
  content_ref: string | null;
  created_at: Date;
  uploaded_at: Date | null;
  ended_at: Date | null;
  content_deleted_at: Date | null;
}

export interface RecipientRow {
  share_id: string;
  developer_id: string;
  name: string;
  email: string;
  keys: ShareKey[];
  /** Downloads that count: completed and in progress. */
  counted: number;
  completed: number;
}

export interface DownloadRow {
  id: string;
  share_id: string;
  developer_id: string | null;
  developer_name: string | null;
  outcome: DownloadOutcome;
  reason: string | null;
  bytes_sent: number;
  started_at: Date;
  finished_at: Date | null;
  ip: string | null;
}

export interface NewShare {
  id: string;
  kind: ShareKind;
  senderId: string;
  filename: Buffer | null;
  note: Buffer | null;
  dataCategories: string[];
  plaintextBytes: number;
  maxDownloads: number | null;
  oneTime: boolean;
  expiresAt: Date;
  at: Date;
}

const select = `select s.*, u.display_name as sender_name from shares s join users u on u.id = s.sender_id`;

export const sharesRepo = {
  async insert(q: SqlClient, s: NewShare) {
    await q.query(
      `insert into shares (id, kind, status, sender_id, filename, note, data_categories, plaintext_bytes,
         max_downloads, one_time, expires_at, created_at)
       values ($1,$2,'pending',$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
      [
        s.id,
        s.kind,
        s.senderId,
        s.filename,
        s.note,
        JSON.stringify(s.dataCategories),
        s.plaintextBytes,
        s.maxDownloads,
        s.oneTime,
        s.expiresAt,
        s.at,
      ],
    );
  },
  async insertRecipient(q: SqlClient, shareId: string, developerId: string, keys: ShareKey[]) {
    await q.query("insert into share_recipients (share_id, developer_id, keys) values ($1,$2,$3)", [
      shareId,
      developerId,
      JSON.stringify(keys),
    ]);
  },
  async byId(q: SqlClient, id: string, opts: { lock?: boolean } = {}) {
    if (opts.lock) await q.query("select 1 from shares where id = $1 for update", [id]);
    return (await q.query<ShareRow>(`${select} where s.id = $1`, [id])).rows[0];
  },
  async recipients(q: SqlClient, shareIds: string[]) {
    if (shareIds.length === 0) return [];
    return (
      await q.query<RecipientRow>(
        `select r.share_id, r.developer_id, d.full_name as name, d.email, r.keys,
           (select count(*) from share_downloads x where x.share_id = r.share_id and x.developer_id = r.developer_id
              and x.outcome in ('completed', 'in_progress'))::int as counted,
           (select count(*) from share_downloads x where x.share_id = r.share_id and x.developer_id = r.developer_id
              and x.outcome = 'completed')::int as completed
         from share_recipients r join developers d on d.id = r.developer_id
         where r.share_id = any($1::uuid[]) order by lower(d.full_name), r.developer_id`,
        [shareIds],
      )
    ).rows;
  },
  async downloads(q: SqlClient, shareId: string) {
    return (
      await q.query<DownloadRow>(
        `select x.id, x.share_id, x.developer_id, d.full_name as developer_name, x.outcome, x.reason,
           x.bytes_sent, x.started_at, x.finished_at, x.ip
         from share_downloads x left join developers d on d.id = x.developer_id
         where x.share_id = $1 order by x.seq`,
        [shareId],
      )
    ).rows;
  },
  async list(
    q: SqlClient,
    f: { senderId?: string; status?: ShareStatus; developerId?: string; limit: number; offset: number },
  ) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.senderId) {
      params.push(f.senderId);
      where.push(`s.sender_id = $${params.length}`);
    }
    if (f.status) {
      params.push(f.status);
      where.push(`s.status = $${params.length}`);
    }
    if (f.developerId) {
      params.push(f.developerId);
      where.push(
        `exists (select 1 from share_recipients r where r.share_id = s.id and r.developer_id = $${params.length})`,
      );
    }
    const w = where.length ? `where ${where.join(" and ")}` : "";
    const total = Number(
      (await q.query<{ n: number }>(`select count(*)::int as n from shares s ${w}`, params)).rows[0]?.n ?? 0,
    );
    params.push(f.limit, f.offset);
    const rows = (
      await q.query<ShareRow>(
        `${select} ${w} order by s.created_at desc, s.id limit $${params.length - 1} offset $${params.length}`,
        params,
      )
    ).rows;
    return { rows, total };
  },
  /** Uploaded shares addressed to a developer, newest first. */
  async inbox(q: SqlClient, developerId: string, limit: number, offset: number) {
    const total = Number(
      (
        await q.query<{ n: number }>(
          `select count(*)::int as n from shares s join share_recipients r on r.share_id = s.id
           where r.developer_id = $1 and s.uploaded_at is not null`,
          [developerId],
        )
      ).rows[0]?.n ?? 0,
    );
    const rows = (
      await q.query<ShareRow>(
        `${select} join share_recipients r on r.share_id = s.id
         where r.developer_id = $1 and s.uploaded_at is not null
         order by s.uploaded_at desc, s.id limit $2 offset $3`,
        [developerId, limit, offset],
      )
    ).rows;
    return { rows, total };
  },
  async markUploaded(
    q: SqlClient,
    id: string,
    u: { contentRef: string; ciphertextBytes: number; sha256: string; at: Date },
  ) {
    const r = await q.query(
      `update shares set status = 'ready', content_ref = $2, ciphertext_bytes = $3, sha256 = $4, uploaded_at = $5
       where id = $1 and status = 'pending'`,
      [id, u.contentRef, u.ciphertextBytes, u.sha256, u.at],
    );
    return (r.affectedRows ?? 0) > 0;
  },
  /** Ends a live share (revoked, expired, used up); its ciphertext is deleted right after commit. */
  async end(q: SqlClient, id: string, status: ShareStatus, at: Date, by: string | null) {
    await q.query(
      `update shares set status = $2, ended_at = $3, ended_by = $4 where id = $1 and status in ('pending', 'ready')`,
      [id, status, at, by],
    );
  },
  async markContentDeleted(q: SqlClient, id: string, at: Date) {
    await q.query("update shares set content_deleted_at = $2 where id = $1 and content_deleted_at is null", [
      id,
      at,
    ]);
  },
  /** Live shares whose expiry has come (up to `limit`, oldest first). */
  async dueToExpire(q: SqlClient, at: Date, limit: number) {
    return (
      await q.query<ShareRow>(
        `${select} where s.status in ('pending', 'ready') and s.expires_at <= $1 order by s.expires_at limit $2`,
        [at, limit],
      )
    ).rows;
  },
  /** Pending shares whose upload never finished, started before `before`. */
  async abandoned(q: SqlClient, before: Date, limit: number) {
    return (
      await q.query<ShareRow>(
        `${select} where s.status = 'pending' and s.created_at <= $1 order by s.created_at limit $2`,
        [before, limit],
      )
    ).rows;
  },
  /** Ended shares whose ciphertext file is still recorded as present (a delete that failed earlier). */
  async contentLeft(q: SqlClient, limit: number) {
    return (
      await q.query<{ id: string; content_ref: string }>(
        `select id, content_ref from shares where content_ref is not null and content_deleted_at is null
           and status not in ('pending', 'ready') order by ended_at limit $1`,
        [limit],
      )
    ).rows;
  },
  async liveContentRefs(q: SqlClient) {
    return (
      await q.query<{ content_ref: string }>(
        "select content_ref from shares where content_ref is not null and content_deleted_at is null",
      )
    ).rows.map((r) => r.content_ref);
  },
  async startDownload(
    q: SqlClient,
    d: {
      id: string;
      shareId: string;
      developerId: string | null;
      userId: string | null;
      outcome: DownloadOutcome;
      reason: string | null;
      at: Date;
      ip: string | null;
      userAgent: string | null;
    },
  ) {
    await q.query(
      `insert into share_downloads (id, share_id, developer_id, user_id, outcome, reason, started_at, finished_at,
         ip, user_agent)
       values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
      [
        d.id,
        d.shareId,
        d.developerId,
        d.userId,
        d.outcome,
        d.reason,
        d.at,
        d.outcome === "in_progress" ? null : d.at,
        d.ip,
        d.userAgent?.slice(0, 512) ?? null,
      ],
    );
  },
  /** Closes an in-progress download; false if it was already closed (by the sweep). */
  async finishDownload(
    q: SqlClient,
    id: string,
    f: { outcome: "completed" | "incomplete"; bytesSent: number; reason: string | null; at: Date },
  ) {
    const r = await q.query(
      `update share_downloads set outcome = $2, bytes_sent = $3, reason = $4, finished_at = $5
       where id = $1 and outcome = 'in_progress'`,
      [id, f.outcome, f.bytesSent, f.reason, f.at],
    );
    return (r.affectedRows ?? 0) > 0;
  },
  /** Downloads still "in progress" since before `before`: the node serving them died. */
  async staleDownloads(q: SqlClient, before: Date, limit: number) {
    return (
      await q.query<{ id: string; share_id: string; developer_id: string | null }>(
        `select id, share_id, developer_id from share_downloads where outcome = 'in_progress' and started_at <= $1
         order by started_at limit $2`,
        [before, limit],
      )
    ).rows;
  },
};
