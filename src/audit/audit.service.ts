import { createHash, randomUUID } from "node:crypto";
import { canonicalize } from "json-canonicalize";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import type { SqlClient, Store } from "../store/store.ts";

/**
 * The audit trail: every state change writes one entry in the same transaction as the change.
 * Entries are hash-chained (chain = SHA-256(prev chain || leaf)) where leaf = SHA-256(0x00 || entry)
 * and entry is the RFC 8785 canonical JSON of the record, the RFC 9162 leaf hash the Merkle log uses.
 */
export interface AuditInput {
  action: string;
  target?: { type: string; id: string } | undefined;
  outcome?: "success" | "failure";
  /** What changed, without secret values. */
  summary?: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  id: string;
  at: Date;
  actorType: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  summary: Record<string, unknown>;
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBad?: { seq: number; problem: string };
}

interface Row {
  seq: number;
  id: string;
  at: Date;
  actor_type: string;
  actor_id: string | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  summary: Record<string, unknown>;
  source_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  leaf_hash: Uint8Array;
  chain_hash: Uint8Array;
}

const GENESIS = Buffer.alloc(32);
// Arbitrary constant advisory-lock key ("WARDAUDT") that serialises appends across nodes.
const AUDIT_LOCK = "6287454020237718612";

export function entryBytes(e: AuditEntry): Buffer {
  const doc = {
    v: 1,
    seq: e.seq,
    id: e.id,
    at: e.at.toISOString(),
    actor: { type: e.actorType, id: e.actorId, label: e.actorLabel },
    action: e.action,
    target: { type: e.targetType, id: e.targetId },
    outcome: e.outcome,
    summary: e.summary,
    source: { ip: e.sourceIp, userAgent: e.userAgent, requestId: e.requestId },
  };
  return Buffer.from(canonicalize(doc), "utf8");
}

export const leafHash = (entry: Uint8Array): Buffer =>
  createHash("sha256")
    .update(Buffer.from([0]))
    .update(entry)
    .digest();
const chainHash = (prev: Uint8Array, leaf: Uint8Array): Buffer =>
  createHash("sha256").update(prev).update(leaf).digest();

const fromRow = (r: Row): AuditEntry => ({
  seq: Number(r.seq),
  id: r.id,
  at: new Date(r.at),
  actorType: r.actor_type,
  actorId: r.actor_id,
  actorLabel: r.actor_label,
  action: r.action,
  targetType: r.target_type,
  targetId: r.target_id,
  outcome: r.outcome,
  summary: r.summary,
  sourceIp: r.source_ip,
  userAgent: r.user_agent,
  requestId: r.request_id,
});

export interface AuditListFilter {
  actorId?: string | undefined;
  action?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  beforeSeq?: number | undefined;
  limit: number;
}

export function createAuditService(deps: { store: Store; clock: Clock }) {
  const { store, clock } = deps;

  /** Appends one entry. Call with the transaction of the change it records. */
  async function record(q: SqlClient, ctx: Ctx, input: AuditInput): Promise<AuditEntry> {
    await q.query("select pg_advisory_xact_lock($1)", [AUDIT_LOCK]);
    const last = (
      await q.query<{ seq: number; chain_hash: Uint8Array }>(
        "select seq, chain_hash from audit_events order by seq desc limit 1",
      )
    ).rows[0];
    const entry: AuditEntry = {
      seq: last ? Number(last.seq) + 1 : 1,
      id: randomUUID(),
      at: clock.now(),
      actorType: ctx.actor.kind,
      actorId: ctx.actor.userId ?? null,
      actorLabel: ctx.actor.label,
      action: input.action,
      targetType: input.target?.type ?? null,
      targetId: input.target?.id ?? null,
      outcome: input.outcome ?? "success",
      summary: input.summary ?? {},
      sourceIp: ctx.meta.ip ?? null,
      userAgent: ctx.meta.userAgent?.slice(0, 512) ?? null,
      requestId: ctx.meta.requestId ?? null,
    };
    const leaf = leafHash(entryBytes(entry));
    const chain = chainHash(last ? Buffer.from(last.chain_hash) : GENESIS, leaf);
    await q.query(
      `insert into audit_events (seq, id, at, actor_type, actor_id, actor_label, action, target_type, target_id,
         outcome, summary, source_ip, user_agent, request_id, leaf_hash, chain_hash)
       values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`,
      [
        entry.seq,
        entry.id,
        entry.at,
        entry.actorType,
        entry.actorId,
        entry.actorLabel,
        entry.action,
        entry.targetType,
        entry.targetId,
        entry.outcome,
        JSON.stringify(entry.summary),
        entry.sourceIp,
        entry.userAgent,
        entry.requestId,
        leaf,
        chain,
      ],
    );
    return entry;
  }

  /** Records outside any other change (sign-ins, failed attempts, reads of sensitive records). */
  const recordAlone = (ctx: Ctx, input: AuditInput) => store.tx((q) => record(q, ctx, input));

  async function list(f: AuditListFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (cond: string, v: unknown) => {
      params.push(v);
      where.push(cond.replace("?", `$${params.length}`));
    };
    if (f.actorId) add("actor_id = ?", f.actorId);
    if (f.action) add("action like ?", `${f.action.replace(/[%_\\]/g, "\\$&")}%`);
    if (f.targetType) add("target_type = ?", f.targetType);
    if (f.targetId) add("target_id = ?", f.targetId);
    if (f.from) add("at >= ?", f.from);
    if (f.to) add("at < ?", f.to);
    if (f.beforeSeq) add("seq < ?", f.beforeSeq);
    params.push(f.limit);
    const rows = await store.query<Row>(
      `select * from audit_events ${where.length ? `where ${where.join(" and ")}` : ""}
       order by seq desc limit $${params.length}`,
      params,
    );
    return rows.rows.map(fromRow);
  }

  /** Recomputes the chain from the first entry; names the first entry that does not hold. */
  async function verify(onProgress?: (checked: number, total: number) => void): Promise<VerifyResult> {
    const total = Number(
      (await store.query<{ n: number }>("select count(*)::int8 as n from audit_events")).rows[0]?.n ?? 0,
    );
    let prev: Buffer = GENESIS;
    let expectedSeq = 1;
    let checked = 0;
    const batch = 2000;
    for (;;) {
      const rows = (
        await store.query<Row>("select * from audit_events where seq >= $1 order by seq limit $2", [
          expectedSeq,
          batch,
        ])
      ).rows;
      if (rows.length === 0) break;
      for (const r of rows) {
        const seq = Number(r.seq);
        if (seq !== expectedSeq) {
          return {
            ok: false,
            checked,
            firstBad: { seq: expectedSeq, problem: `entry ${expectedSeq} is missing` },
          };
        }
        const leaf = leafHash(entryBytes(fromRow(r)));
        if (!leaf.equals(Buffer.from(r.leaf_hash))) {
          return {
            ok: false,
            checked,
            firstBad: { seq, problem: `entry ${seq} was changed after it was written` },
          };
        }
        const chain = chainHash(prev, leaf);
        if (!chain.equals(Buffer.from(r.chain_hash))) {
          return {
            ok: false,
            checked,
            firstBad: {
              seq,
              problem: `entry ${seq} does not follow entry ${seq - 1} (reordered, or one removed)`,
            },
          };
        }
        prev = chain;
        expectedSeq++;
        checked++;
      }
      onProgress?.(checked, total);
    }
    return { ok: true, checked };
  }

  async function head(): Promise<{ size: number; chainHash: string | null }> {
    const r = (
      await store.query<{ seq: number; chain_hash: Uint8Array }>(
        "select seq, chain_hash from audit_events order by seq desc limit 1",
      )
    ).rows[0];
    return { size: r ? Number(r.seq) : 0, chainHash: r ? Buffer.from(r.chain_hash).toString("hex") : null };
  }

  return { record, recordAlone, list, verify, head };
}

export type AuditService = ReturnType<typeof createAuditService>;
