/**
 * Appends to the one verifiable log.
 *
 * - `appendAudit(q, …)`: Warden's own audit records, inside the caller's transaction, so an entry commits
 *   (or rolls back) with the change it records. The tree head row is locked until that transaction ends.
 * - `appendEvents(events)`: OCSF events from sources. Calls are queued and group-committed: one writer
 *   takes every queued batch (up to `maxGroupEvents`), removes events already logged under the same
 *   (source, source event id), appends the rest to the tree and their rows in ONE transaction, and
 *   acknowledges each caller once that commit returns. The queue is bounded: when `maxQueuedEvents` are
 *   already waiting, a new batch is refused with 429 and Retry-After instead of being dropped later.
 * - Listeners (`onAppended`) hear about every committed append, in log order, one group at a time.
 */
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { AppError } from "../core/errors.ts";
import { uuidV7 } from "../core/ids.ts";
import type { Logger } from "../core/logger.ts";
import { attributeActor, type OcsfEvent } from "../ingest/index.ts";
import type { SqlClient, Store } from "../store/store.ts";
import { createTlogAppender, hashLeavesAt, MAX_ENTRY_BYTES, sha256, type TileCache } from "../tlog/index.ts";
import { canonicalJson } from "./canonical-json.ts";
import {
  type EncodedRows,
  encodeRows,
  entryBytes,
  pickRows,
  type RowInput,
  setIndices,
} from "./eventlog.copy.ts";
import type { ActorDirectory } from "./eventlog.directory.ts";
import {
  type AuditRecordEntry,
  auditToOcsf,
  encodeEntry,
  indexColumns,
  type OcsfRecordEntry,
} from "./eventlog.entries.ts";
import { findBySourceKeys, insertEncodedRows, insertRows, sourceKey } from "./eventlog.repo.ts";
import type { AppendedEvent, AppendedListener, AppendOutcome, EventAppender } from "./eventlog.types.ts";

export interface AuditInput {
  action: string;
  target?: { type: string; id: string } | undefined;
  outcome?: "success" | "failure";
  /** What changed, without secret values. */
  summary?: Record<string, unknown>;
}

/** An event made ready on arrival, so the writer's transaction only joins what it needs. */
interface Prepared {
  id: string;
  event: OcsfEvent;
  /** Its leaf hash (RFC 9162 §2.1.1), of the entry bytes as encoded in its row. */
  leaf: Uint8Array;
  /** Its (source, source event id) key, when the source gave an id: for idempotency. */
  key: { source: string; uid: string; joined: string } | undefined;
  /** Its position in its batch's encoded rows. */
  at: number;
}

/** A sender's batch, prepared: its events and their rows, encoded for COPY. */
interface Batch {
  items: Prepared[];
  rows: EncodedRows;
}

interface Waiter {
  batch: Batch;
  resolve: (r: AppendOutcome[]) => void;
  reject: (e: unknown) => void;
}

export interface EventLogWriterDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  directory: ActorDirectory;
  /** Events waiting to be written before new batches get 429 (default 50,000). */
  maxQueuedEvents?: number;
  /** Receives the tiles each append wrote, once committed (shared with the log's proofs). */
  tileCache?: TileCache;
  /** Events per group commit (default 4,000: small enough that the next group is prepared while one commits). */
  maxGroupEvents?: number;
}

const EMPTY: Uint8Array = new Uint8Array(0);
/** The range of a JavaScript Date (ECMA-262 §21.4.1.22), inside PostgreSQL's timestamptz range. */
const MAX_DATE_MS = 8.64e15;
const isUniqueViolation = (e: unknown) => (e as { code?: unknown })?.code === "23505";

export function createEventLogWriter(deps: EventLogWriterDeps) {
  const { store, clock, logger, directory } = deps;
  const maxQueued = deps.maxQueuedEvents ?? 50_000;
  const maxGroup = deps.maxGroupEvents ?? 4_000;
  const appender = createTlogAppender({
    clock,
    bundles: false,
    ...(deps.tileCache ? { tileCache: deps.tileCache } : {}),
  });
  const listeners = new Set<AppendedListener>();
  const waiting: Waiter[] = [];
  let queued = 0;
  let writing = false;
  let imported = false;
  let dispatchChain: Promise<void> = Promise.resolve();
  let dispatchBacklog = 0;

  // ------------------------------------------------------------------------------------------ listeners

  function dispatch(events: AppendedEvent[]): Promise<void> {
    if (listeners.size === 0 || events.length === 0) return Promise.resolve();
    dispatchBacklog++;
    dispatchChain = dispatchChain.then(async () => {
      for (const l of [...listeners]) {
        try {
          await l(events);
        } catch (err) {
          logger.error({ err }, "an event log listener failed");
        }
      }
      dispatchBacklog--;
    });
    return dispatchChain;
  }

  // ---------------------------------------------------------------------------- the foundation's trail

  /**
   * Imports the foundation's hash-chained trail (renamed audit_events_legacy by the migration) into the
   * tree, once, under the tree lock, inside `q`: every entry keeps its exact bytes, so its leaf hash in
   * the tree is the leaf_hash the old chain stored. The chain is re-checked on the way and the result is
   * itself logged (with the old chain head), then the old table is dropped.
   */
  async function ensureImported(q: SqlClient): Promise<void> {
    if (imported) return;
    await q.query("select size from tlog_state where id = 1 for update");
    const present = (
      await q.query<{ present: boolean }>("select to_regclass('audit_events_legacy') is not null as present")
    ).rows[0]?.present;
    if (!present) {
      imported = true;
      return;
    }
    await importLegacy(q);
    // Only a committed import counts: if the caller's transaction rolls back, the next append imports.
    if (q.afterCommit)
      q.afterCommit(() => {
        imported = true;
      });
  }

  async function importLegacy(q: SqlClient): Promise<void> {
    const BATCH = 5000;
    let prev: Uint8Array = new Uint8Array(32);
    let afterSeq = 0;
    let count = 0;
    let firstBad: { seq: number; problem: string } | undefined;
    for (;;) {
      const { rows } = await q.query<{
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
        developer_id: string | null;
      }>(
        `select a.*, u.developer_id from audit_events_legacy a
           left join users u on u.id::text = a.actor_id
          where a.seq > $1 order by a.seq limit $2`,
        [afterSeq, BATCH],
      );
      if (rows.length === 0) break;
      const entries = rows.map(
        (r): AuditRecordEntry => ({
          v: 1,
          seq: Number(r.seq),
          id: r.id,
          at: new Date(r.at).toISOString(),
          actor: { type: r.actor_type, id: r.actor_id, label: r.actor_label },
          action: r.action,
          target: { type: r.target_type, id: r.target_id },
          outcome: r.outcome,
          summary: r.summary,
          source: { ip: r.source_ip, userAgent: r.user_agent, requestId: r.request_id },
        }),
      );
      const encoded = entries.map((e) => encodeEntry(e));
      for (const [i, r] of rows.entries()) {
        const seq = Number(r.seq);
        const leaf = sha256(concat([new Uint8Array([0]), encoded[i]!.bytes]));
        if (!firstBad && seq !== count + i + 1)
          firstBad = { seq: count + i + 1, problem: `entry ${count + i + 1} is missing` };
        if (!firstBad && Buffer.compare(Buffer.from(leaf), Buffer.from(r.leaf_hash)) !== 0)
          firstBad = { seq, problem: `entry ${seq} was changed after it was written` };
        const chain = sha256(concat([prev, new Uint8Array(r.leaf_hash)]));
        if (!firstBad && Buffer.compare(Buffer.from(chain), Buffer.from(r.chain_hash)) !== 0)
          firstBad = { seq, problem: `entry ${seq} does not follow entry ${seq - 1}` };
        prev = new Uint8Array(r.chain_hash);
      }
      const { firstIndex } = await appender.appendInTx(
        q,
        encoded.map((e) => e.bytes),
      );
      await insertRows(
        q,
        entries.map((e, i) => ({
          idx: firstIndex + i,
          id: e.id,
          entry: encoded[i]!.text,
          ...indexColumns(e, rows[i]!.developer_id),
        })),
      );
      count += rows.length;
      afterSeq = Number(rows[rows.length - 1]!.seq);
    }
    if (count > 0) {
      await appendAuditLocked(
        q,
        { actor: { kind: "system", label: "system" }, meta: {} },
        {
          action: "audit.trail.imported",
          summary: {
            entries: count,
            chainIntact: !firstBad,
            ...(firstBad ? { firstBad } : {}),
            legacyChainHead: Buffer.from(prev).toString("hex"),
          },
        },
      );
      logger.info({ entries: count, chainIntact: !firstBad }, "audit trail imported into the Merkle log");
    }
    await q.query("drop table audit_events_legacy");
  }

  // -------------------------------------------------------------------------------- Warden's own records

  async function appendAuditLocked(
    q: SqlClient,
    ctx: Ctx,
    input: AuditInput,
  ): Promise<{ entry: AuditRecordEntry; index: number }> {
    let entry: AuditRecordEntry | undefined;
    let text = "";
    const { firstIndex } = await appender.appendInTx(q, (first) => {
      const now = clock.now();
      entry = {
        v: 1,
        seq: first + 1,
        id: uuidV7(now.getTime()),
        at: now.toISOString(),
        actor: { type: ctx.actor.kind, id: ctx.actor.userId ?? null, label: ctx.actor.label },
        action: input.action,
        target: { type: input.target?.type ?? null, id: input.target?.id ?? null },
        outcome: input.outcome ?? "success",
        summary: input.summary ?? {},
        source: {
          ip: ctx.meta.ip ?? null,
          userAgent: ctx.meta.userAgent?.slice(0, 512) ?? null,
          requestId: ctx.meta.requestId ?? null,
        },
      };
      const enc = encodeEntry(entry);
      text = enc.text;
      return [enc.bytes];
    });
    const e = entry!;
    const developerId = ctx.actor.developerId ?? null;
    await insertRows(q, [{ idx: firstIndex, id: e.id, entry: text, ...indexColumns(e, developerId) }]);
    const appended: AppendedEvent = { id: e.id, index: firstIndex, event: auditToOcsf(e, developerId) };
    if (q.afterCommit) q.afterCommit(() => void dispatch([appended]));
    return { entry: e, index: firstIndex };
  }

  /** Appends one audit record in `q`'s transaction (or in its own, when `q` is not a transaction). */
  async function appendAudit(
    q: SqlClient,
    ctx: Ctx,
    input: AuditInput,
  ): Promise<{ entry: AuditRecordEntry; index: number }> {
    if (!q.afterCommit) return store.tx((t) => appendAudit(t, ctx, input));
    await ensureImported(q);
    return appendAuditLocked(q, ctx, input);
  }

  // ------------------------------------------------------------------------------------ outside sources

  /**
   * Makes a batch ready on arrival: attributes each event, canonicalises it, encodes its row for COPY and
   * hashes the entry bytes inside that row, so the writer's transaction only joins what it needs.
   */
  function prepare(events: OcsfEvent[]): Batch {
    const now = clock.now();
    const received = now.toISOString();
    const rowInputs: RowInput[] = [];
    const items = events.map((input, i): Prepared => {
      const event = attributeActor({ ...input, warden: { ...input.warden } }, directory.resolve);
      if (!event.warden?.source)
        throw new AppError(
          "validation_failed",
          `event ${i}: warden.source (which source sent it) is required`,
        );
      if (!Number.isFinite(event.time) || Math.abs(event.time) > MAX_DATE_MS)
        throw new AppError("validation_failed", `event ${i}: time must be milliseconds since the epoch`);
      const entry: OcsfRecordEntry = { v: 2, id: uuidV7(now.getTime()), received, event };
      const row: RowInput = { id: entry.id, entry: canonicalJson(entry), ...indexColumns(entry) };
      rowInputs.push(row);
      const uid = row.sourceUid;
      return {
        id: entry.id,
        event,
        leaf: EMPTY,
        key: uid !== null ? { source: row.source, uid, joined: sourceKey(row.source, uid) } : undefined,
        at: i,
      };
    });
    // The row objects and entry texts are garbage from here: only the encoded rows are kept.
    const rows = encodeRows(rowInputs);
    for (let i = 0; i < items.length; i++) {
      if (rows.entryLength[i]! > MAX_ENTRY_BYTES)
        throw new AppError(
          "validation_failed",
          `event ${i} is ${rows.entryLength[i]} bytes once logged; the limit is 65,535 (shorten raw_data)`,
          { fields: [{ field: `${i}`, message: "too large to log" }] },
        );
    }
    const leaves = hashLeavesAt(rows.data, rows.entryAt, rows.entryLength, rows.count);
    items.forEach((p, i) => {
      p.leaf = leaves[i]!;
    });
    return { items, rows };
  }

  async function writeGroup(q: SqlClient, batches: Batch[]) {
    await ensureImported(q);
    const items = batches.length === 1 ? batches[0]!.items : batches.flatMap((b) => b.items);
    const existing = await findBySourceKeys(
      q,
      items.flatMap((p) => (p.key !== undefined ? [p.key] : [])),
    );
    const fresh: Prepared[] = [];
    const firstOfKey = new Map<string, Prepared>();
    const plan: (
      | { kind: "fresh"; p: Prepared }
      | { kind: "old"; id: string; idx: number }
      | { kind: "same"; p: Prepared }
    )[] = [];
    // The rows to COPY: a batch's encoded rows as they are when every event in it is new, else the new
    // ones' tuples copied out (duplicates are rare: a sender retrying a batch it already sent).
    const encoded: EncodedRows[] = [];
    for (const b of batches) {
      const freshHere: Prepared[] = [];
      for (const p of b.items) {
        const old = p.key ? existing.get(p.key.joined) : undefined;
        if (old) {
          plan.push({ kind: "old", ...old });
          continue;
        }
        const earlier = p.key ? firstOfKey.get(p.key.joined) : undefined;
        if (earlier) {
          plan.push({ kind: "same", p: earlier });
          continue;
        }
        if (p.key) firstOfKey.set(p.key.joined, p);
        freshHere.push(p);
        plan.push({ kind: "fresh", p });
      }
      if (freshHere.length === b.items.length) encoded.push(b.rows);
      else if (freshHere.length > 0)
        encoded.push(
          pickRows(
            b.rows,
            freshHere.map((p) => p.at),
          ),
        );
      for (const p of freshHere) fresh.push(p);
    }
    const entries: Uint8Array[] = [];
    for (const rows of encoded) for (let i = 0; i < rows.count; i++) entries.push(entryBytes(rows, i));
    const { firstIndex } = await appender.appendInTx(
      q,
      entries,
      fresh.map((p) => p.leaf),
    );
    let at = firstIndex;
    for (const rows of encoded) {
      setIndices(rows, at);
      at += rows.count;
    }
    await insertEncodedRows(q, encoded);
    const indexOf = new Map<Prepared, number>(fresh.map((p, i) => [p, firstIndex + i]));
    const outcomes: AppendOutcome[] = plan.map((x) =>
      x.kind === "old"
        ? { id: x.id, index: x.idx, duplicate: true }
        : { id: x.p.id, index: indexOf.get(x.p)!, duplicate: x.kind === "same" },
    );
    const appended: AppendedEvent[] = fresh.map((p) => ({
      id: p.id,
      index: indexOf.get(p)!,
      event: p.event,
    }));
    return { outcomes, appended };
  }

  async function drain(): Promise<void> {
    writing = true;
    try {
      while (waiting.length > 0) {
        const group: Waiter[] = [];
        let count = 0;
        while (
          waiting.length > 0 &&
          (group.length === 0 || count + waiting[0]!.batch.items.length <= maxGroup)
        ) {
          const w = waiting.shift()!;
          group.push(w);
          count += w.batch.items.length;
        }
        const batches = group.map((w) => w.batch);
        let result: Awaited<ReturnType<typeof writeGroup>> | undefined;
        let failure: unknown;
        // A unique violation means another node logged one of these keys between our check and insert:
        // run the group again, and those events now come back as duplicates.
        for (let attempt = 0; attempt < 3 && !result; attempt++) {
          try {
            result = await store.tx((q) => writeGroup(q, batches));
          } catch (e) {
            failure = e;
            if (!isUniqueViolation(e)) break;
          }
        }
        if (!result) {
          queued -= count;
          logger.error({ err: failure, events: count }, "event log append failed");
          for (const w of group) w.reject(failure);
          continue;
        }
        let at = 0;
        for (const w of group) {
          w.resolve(result.outcomes.slice(at, at + w.batch.items.length));
          at += w.batch.items.length;
        }
        // Events count against the queue until the listeners (inline alert rules) have seen them too, so
        // slow rules push back on senders (429) instead of piling up in memory. Listeners run beside the
        // next write; the writer waits when they fall behind.
        const done = dispatch(result.appended).then(() => {
          queued -= count;
        });
        if (dispatchBacklog > 2) await done;
      }
    } finally {
      writing = false;
    }
  }

  const appendEvents: EventAppender["appendEvents"] = async (events) => {
    if (events.length === 0) return [];
    // Admission is decided on arrival, before any await: a batch either gets room in the queue now or
    // is refused now (429), so a burst cannot overfill the queue while earlier batches are prepared.
    if (queued > 0 && queued + events.length > maxQueued) {
      throw new AppError("rate_limited", "The event log is busy; retry this batch shortly", {
        retryAfterSeconds: 1,
      });
    }
    queued += events.length;
    let batch: Batch;
    try {
      await directory.refreshIfStale();
      batch = prepare(events);
    } catch (e) {
      queued -= events.length;
      throw e;
    }
    return new Promise<AppendOutcome[]>((resolve, reject) => {
      waiting.push({ batch, resolve, reject });
      if (!writing) void drain();
    });
  };

  const onAppended: EventAppender["onAppended"] = (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };

  return {
    appendAudit,
    appendEvents,
    onAppended,
    /** Runs the one-time import of the foundation's trail now (start-up), instead of on first append. */
    importLegacyNow: () => store.tx((q) => ensureImported(q)),
    /** Resolves once every listener has seen every committed append so far (tests, shutdown). */
    idle: async () => {
      while (writing || waiting.length > 0) await new Promise((r) => setTimeout(r, 5));
      await dispatchChain;
    },
    queueDepth: () => queued,
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export type EventLogWriter = ReturnType<typeof createEventLogWriter>;
