/**
 * Reading the log: search, event detail with its proof, per-developer timeline and heat map, OCSF export;
 * and everything an auditor needs: signed checkpoints, tlog-tiles, inclusion and consistency proofs,
 * tlog-proof receipts, tiles export and full verification of the store.
 */
import { availableParallelism, hostname } from "node:os";
import type { Clock } from "../core/clock.ts";
import { AppError, notFound } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { OcsfEvent } from "../ingest/index.ts";
import type { Store } from "../store/store.ts";
import {
  createTlog,
  createWorkerHasher,
  type EntrySource,
  hashLeaf,
  openCheckpoint,
  parseVerifierKey,
  type TileCache,
  type Tlog,
  toBase64,
  type VerifyReport,
} from "../tlog/index.ts";
import { decodeEntry, entryToOcsf, indexColumns, type LogEntry } from "./eventlog.entries.ts";
import { defaultOrigin, type LogKey, loadOrCreateLogKey } from "./eventlog.keys.ts";
import {
  type EventFilter,
  type EventRow,
  heatCounts,
  readEntryTexts,
  rowById,
  rowByIndex,
  searchRows,
} from "./eventlog.repo.ts";

const encoder = new TextEncoder();
/** Logs at least this large are verified with hashing worker threads. */
const WORKER_THRESHOLD = 200_000;

export interface EventSummary {
  id: string;
  index: number;
  at: Date;
  receivedAt: Date;
  kind: "audit" | "ocsf";
  classUid: number;
  activityId: number;
  action: string;
  outcome: "success" | "failure" | "other";
  severityId: number;
  source: string;
  sourceUid: string | null;
  actor: { id: string | null; label: string | null };
  developer: { id: string; name: string | null } | null;
  vendor: { id: string; name: string | null } | null;
  resource: { type: string | null; id: string | null } | null;
  srcIp: string | null;
}

const outcomeOf = (statusId: number): EventSummary["outcome"] =>
  statusId === 1 ? "success" : statusId === 2 ? "failure" : "other";

function summaryOf(r: EventRow): EventSummary {
  const devId = r.developer_id ?? r.subject_developer_id;
  return {
    id: r.id,
    index: Number(r.idx),
    at: new Date(r.at),
    receivedAt: new Date(r.received_at),
    kind: r.kind,
    classUid: r.class_uid,
    activityId: r.activity_id,
    action: r.action,
    outcome: outcomeOf(r.status_id),
    severityId: r.severity_id,
    source: r.source,
    sourceUid: r.source_uid,
    actor: { id: r.actor_id, label: r.actor_label },
    developer: devId ? { id: devId, name: r.developer_name ?? null } : null,
    vendor: r.vendor_id ? { id: r.vendor_id, name: r.vendor_name ?? null } : null,
    resource: r.resource_type || r.resource_id ? { type: r.resource_type, id: r.resource_id } : null,
    srcIp: r.src_ip,
  };
}

export interface EventDetail extends EventSummary {
  entry: LogEntry;
  ocsf: OcsfEvent;
  /** The record exactly as the source sent it, when it came from outside. */
  original: string | null;
  proof: {
    treeSize: number;
    /** RFC 9162 inclusion proof, sibling hashes from the leaf up (base64). */
    hashes: string[];
    leafHash: string;
    checkpoint: string;
    /** C2SP tlog-proof receipt: verifiable offline with the entry and the log's verifier key. */
    receipt: string;
  } | null;
}

export interface VerifyOutcome {
  ok: boolean;
  size: number;
  /** Entries before this were pruned by retention; their hashes are bound by the signed checkpoints. */
  start: number;
  root: string;
  /** The first entry that is not what was logged, with what is wrong with it. */
  firstBad?: { index: number; problem: string };
  problems: string[];
  checkpoints: { size: number; ok: boolean; label: string }[];
}

export interface EventLogServiceDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  sealer: Sealer;
  /** Checkpoint origin for a new key (WARDEN_LOG_ORIGIN, else from the public URL or host name). */
  origin?: string | undefined;
  publicUrl?: string | undefined;
  /** Tiles kept in memory for proofs, shared with the writer (which adds what it commits). */
  tileCache?: TileCache;
}

export function createEventLogService(deps: EventLogServiceDeps) {
  const { store, clock } = deps;
  const entrySource: EntrySource = {
    async read(from, to) {
      const texts = await readEntryTexts(store, from, to);
      const out: (Uint8Array | undefined)[] = new Array(Math.max(0, to - from));
      for (let i = from; i < to; i++) {
        const t = texts.get(i);
        out[i - from] = t === undefined ? undefined : encoder.encode(t);
      }
      return out;
    },
  };

  let ready: Promise<{ key: LogKey; tlog: Tlog }> | undefined;
  /** Loads (or, on first start, generates and seals) the signing key. Outside any transaction. */
  function log(): Promise<{ key: LogKey; tlog: Tlog }> {
    ready ??= (async () => {
      const key = await loadOrCreateLogKey({
        sql: store,
        sealer: deps.sealer,
        clock,
        origin: deps.origin ?? defaultOrigin(deps.publicUrl, hostname()),
      });
      if (key.generated)
        deps.logger.info({ verifierKey: key.verifierKey }, "audit log signing key generated");
      const tlog = createTlog({
        sql: store,
        signer: key.signer,
        origin: key.origin,
        clock,
        entries: entrySource,
        ...(deps.tileCache ? { tileCache: deps.tileCache } : {}),
      });
      return { key, tlog };
    })().catch((e) => {
      ready = undefined;
      throw e;
    });
    return ready;
  }
  const tlog = async () => (await log()).tlog;

  async function search(
    f: EventFilter,
    limit: number,
    order: "log" | "time" = "log",
  ): Promise<EventSummary[]> {
    return (await searchRows(store, f, limit, order === "time" ? "time" : "desc")).map(summaryOf);
  }

  async function get(id: string): Promise<EventDetail> {
    const row = await rowById(store, id);
    if (!row) throw notFound("event");
    return detailOf(row);
  }

  async function getByIndex(index: number): Promise<EventDetail> {
    const row = await rowByIndex(store, index);
    if (!row) throw notFound("event");
    return detailOf(row);
  }

  async function detailOf(row: EventRow): Promise<EventDetail> {
    const entry = decodeEntry(row.entry);
    if (!entry) throw new AppError("internal", `log entry ${row.idx} is not readable; run audit verify`);
    const index = Number(row.idx);
    const t = await tlog();
    let proof: EventDetail["proof"] = null;
    const note = await t.checkpoint();
    const size = Number(note.split("\n")[1]);
    if (index < size) {
      const p = await t.inclusionProof(index, size);
      proof = {
        treeSize: size,
        hashes: p.proof.map(toBase64),
        leafHash: toBase64(hashLeaf(encoder.encode(row.entry))),
        checkpoint: note,
        receipt: await t.receipt(index),
      };
    }
    return {
      ...summaryOf(row),
      entry,
      ocsf: entryToOcsf(entry, row.developer_id),
      original: entry.v === 2 ? (entry.event.raw_data ?? null) : null,
      proof,
    };
  }

  async function heatmap(developerId: string, from: Date, to: Date) {
    const dev = (
      await store.query<{ time_zone: string; full_name: string; working_hours: unknown }>(
        "select time_zone, full_name, working_hours from developers where id = $1",
        [developerId],
      )
    ).rows[0];
    if (!dev) throw notFound("developer");
    const cells = await heatCounts(store, developerId, dev.time_zone, from, to);
    return {
      developerId,
      name: dev.full_name,
      timeZone: dev.time_zone,
      workingHours: dev.working_hours,
      cells,
    };
  }

  /** Every event matching `f` in log order, a page at a time (for NDJSON / JSON export). */
  async function* exportEvents(
    f: EventFilter,
    max: number,
  ): AsyncGenerator<{ row: EventRow; ocsf: OcsfEvent }> {
    let after = -1;
    let sent = 0;
    while (sent < max) {
      const rows = await searchRows(store, { ...f, afterIndex: after }, Math.min(1000, max - sent), "asc");
      if (rows.length === 0) return;
      for (const row of rows) {
        const entry = decodeEntry(row.entry);
        if (entry) yield { row, ocsf: entryToOcsf(entry, row.developer_id) };
        sent++;
      }
      after = Number(rows[rows.length - 1]!.idx);
    }
  }

  /**
   * Verifies the store: every entry re-hashed against its leaf, every tile recomputed, the root at every
   * stored signed checkpoint (and the `trusted` ones an auditor kept) compared; then the search columns
   * of every row recomputed from its entry, so a row edited to mislead a search is caught too.
   */
  async function verify(
    opts: { trusted?: string[]; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<VerifyOutcome> {
    const t = await tlog();
    const head = await t.head();
    // Big logs hash on one worker thread per core while this thread reads the store.
    const threads = availableParallelism();
    const hasher =
      head.size >= WORKER_THRESHOLD && threads > 1 ? await createWorkerHasher(threads) : undefined;
    let report: VerifyReport;
    try {
      report = await t.verifyAgainstStore({
        trusted: opts.trusted ?? [],
        onProgress: (done) => opts.onProgress?.(done, head.size),
        ...(hasher ? { hasher } : {}),
      });
    } finally {
      await hasher?.close();
    }
    const problems = report.problems.map((p) => p.message);
    let firstBad: VerifyOutcome["firstBad"];
    if (report.firstBadIndex !== undefined) {
      const first = report.problems.find((p) => p.index === report.firstBadIndex) ?? report.problems[0];
      const range = report.firstBadRange;
      firstBad = {
        index: report.firstBadIndex,
        problem:
          range && range.end - range.start > 1
            ? `history was rewritten somewhere in entries ${range.start}..${range.end - 1} (the root no longer matches a signed checkpoint)`
            : (first?.message ?? "does not match the log"),
      };
    } else if (!report.ok) {
      firstBad = { index: report.size, problem: problems[0] ?? "the log does not verify" };
    }
    const columns = await verifyColumns(report.start ?? 0, report.size);
    if (columns) {
      problems.push(columns.problem);
      if (!firstBad || columns.index < firstBad.index) firstBad = columns;
    }
    return {
      ok: report.ok && !columns,
      size: report.size,
      start: report.start ?? 0,
      root: report.root,
      ...(firstBad ? { firstBad } : {}),
      problems,
      checkpoints: report.checked.map((c) => ({ size: c.size, ok: c.ok, label: c.label })),
    };
  }

  /** The first row whose search columns differ from what its entry says. */
  async function verifyColumns(
    from: number,
    to: number,
  ): Promise<{ index: number; problem: string } | undefined> {
    const PAGE = 5000;
    const same = (a: unknown, b: unknown) =>
      a instanceof Date || b instanceof Date
        ? new Date(a as Date).getTime() === new Date(b as Date).getTime()
        : (a ?? null) === (b ?? null);
    for (let at = from; at < to; at += PAGE) {
      const rows = await searchRows(
        store,
        { afterIndex: at - 1, beforeIndex: Math.min(to, at + PAGE) },
        PAGE,
        "asc",
      );
      for (const r of rows) {
        const entry = decodeEntry(r.entry);
        if (!entry) continue; // the tree check reports an unreadable entry
        const c = indexColumns(entry, r.developer_id);
        const pairs: [string, unknown, unknown][] = [
          ["id", entry.id, r.id],
          ["time", c.at, r.at],
          ["class", c.classUid, r.class_uid],
          ["action", c.action, r.action],
          ["outcome", c.statusId, r.status_id],
          ["source", c.source, r.source],
          ["source event id", c.sourceUid, r.source_uid],
          ["actor", c.actorLabel, r.actor_label],
          ["resource", c.resourceId, r.resource_id],
          ["source address", c.srcIp, r.src_ip],
          ...(entry.v === 2
            ? [["developer", c.developerId, r.developer_id] as [string, unknown, unknown]]
            : []),
        ];
        const bad = pairs.find(([, a, b]) => !same(a, b));
        if (bad) {
          return {
            index: Number(r.idx),
            problem: `entry ${r.idx}: its ${bad[0]} column was changed (search shows something the log does not say)`,
          };
        }
      }
    }
    return undefined;
  }

  return {
    log,
    tlog,
    async verifierKey() {
      return (await log()).key.verifierKey;
    },
    async origin() {
      return (await log()).key.origin;
    },
    search,
    get,
    getByIndex,
    heatmap,
    exportEvents,
    verify,
    async checkpoint() {
      return (await tlog()).checkpoint();
    },
    async head() {
      const h = await (await tlog()).head();
      return { size: h.size, root: Buffer.from(h.root).toString("hex") };
    },
    /** Opens a checkpoint with this log's key (for an auditor's kept checkpoint). */
    async openCheckpoint(note: string) {
      const { key } = await log();
      return openCheckpoint(note, parseVerifierKey(key.verifierKey), key.origin);
    },
  };
}

export type EventLogService = ReturnType<typeof createEventLogService>;
