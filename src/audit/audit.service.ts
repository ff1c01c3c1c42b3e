import type { Ctx } from "../core/context.ts";
import type { AuditInput, EventLogWriter } from "../eventlog/eventlog.writer.ts";
import type { AuditRecordEntry } from "../eventlog/index.ts";
import type { SqlClient, Store } from "../store/store.ts";

/**
 * The audit trail every feature writes to: `record(q, ctx, input)` appends one entry to Warden's
 * verifiable log (an RFC 9162 Merkle tree, see src/eventlog and src/tlog) in the transaction `q` of the
 * change it records, so the entry commits, or rolls back, with that change.
 */
export type { AuditInput };

export interface AuditEntry {
  /** 1-based position in the log (the Merkle leaf index + 1). */
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

export const auditEntryOf = (e: AuditRecordEntry): AuditEntry => ({
  seq: e.seq,
  id: e.id,
  at: new Date(e.at),
  actorType: e.actor.type,
  actorId: e.actor.id,
  actorLabel: e.actor.label,
  action: e.action,
  targetType: e.target.type,
  targetId: e.target.id,
  outcome: e.outcome,
  summary: e.summary,
  sourceIp: e.source.ip,
  userAgent: e.source.userAgent,
  requestId: e.source.requestId,
});

/** What the audit façade needs from the event log. */
export interface AuditLog {
  writer: Pick<EventLogWriter, "appendAudit">;
  listAudit(filter: AuditListFilter): Promise<AuditRecordEntry[]>;
  verifyForAudit(onProgress?: (done: number, total: number) => void): Promise<VerifyResult>;
  head(): Promise<{ size: number; root: string }>;
}

export function createAuditService(deps: { store: Store; log: AuditLog }) {
  const { store, log } = deps;

  /** Appends one entry. Call with the transaction of the change it records. */
  async function record(q: SqlClient, ctx: Ctx, input: AuditInput): Promise<AuditEntry> {
    return auditEntryOf((await log.writer.appendAudit(q, ctx, input)).entry);
  }

  /** Records outside any other change (sign-ins, failed attempts, reads of sensitive records). */
  const recordAlone = (ctx: Ctx, input: AuditInput) => store.tx((q) => record(q, ctx, input));

  /** Warden's own audit records, newest first. */
  const list = async (f: AuditListFilter): Promise<AuditEntry[]> =>
    (await log.listAudit(f)).map(auditEntryOf);

  /** Recomputes the Merkle tree from every entry; names the first entry that does not hold. */
  const verify = (onProgress?: (checked: number, total: number) => void) => log.verifyForAudit(onProgress);

  /** Log size and root; `chainHash` is the Merkle root (hex), kept under its old name for clients. */
  async function head(): Promise<{ size: number; chainHash: string | null; root: string }> {
    const h = await log.head();
    return { size: h.size, chainHash: h.size > 0 ? h.root : null, root: h.root };
  }

  return { record, recordAlone, list, verify, head };
}

export type AuditService = ReturnType<typeof createAuditService>;
