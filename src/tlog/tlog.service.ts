/**
 * The verifiable log: append entries (opaque bytes; Warden uses canonical JSON of audit events), sign
 * C2SP checkpoints, serve RFC 9162 proofs and C2SP tlog-proof receipts, export tlog-tiles, and audit the
 * store against checkpoints kept elsewhere.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Clock } from "../core/clock.ts";
import { AppError } from "../core/errors.ts";
import type { TileCache } from "./tlog.cache.ts";
import {
  lockHead,
  readBundleRange,
  readCheckpointAt,
  readCheckpoints,
  readHead,
  readHeadAndEdge,
  readLatestCheckpoint,
  readNodes,
  readPrunedBefore,
  readTileRange,
  readTiles,
  type SqlClient,
  saveCheckpoint,
  writeAppend,
} from "./tlog.repo.ts";
import { type NoteSigner, signNote } from "./tlog.signer.ts";
import {
  appendToEdge,
  type Edge,
  innerOffset,
  locateNode,
  type StoredTile,
  tileHashes,
} from "./tlog.tree.ts";
import type { BundleHasher } from "./verify/bundle-hash.ts";
import { type Checkpoint, formatCheckpoint, openCheckpoint } from "./verify/checkpoint.ts";
import { EMPTY_ROOT, equalBytes, HASH_SIZE, toHex } from "./verify/hash.ts";
import {
  checkConsistency,
  consistencyRanges,
  type EntryRange,
  foldRange,
  inclusionRanges,
  ProofError,
  perfectNodes,
} from "./verify/merkle.ts";
import { type NoteVerifier, parseVerifierKey } from "./verify/note.ts";
import {
  decodeBundle,
  encodeBundle,
  entryBundlePath,
  MAX_ENTRY_BYTES,
  TILE_WIDTH,
  tilePath,
  tilesAtLevel,
} from "./verify/tiles.ts";
import { formatTlogProof } from "./verify/tlog-proof.ts";
import { type TileSource, type TrustedRoot, type VerifyReport, verifyTree } from "./verify/verify-tree.ts";

/**
 * Where entries live when the log does not keep them in its own bundles (Warden stores each entry once,
 * as a row beside its search columns, written in the same transaction as the tree).
 */
export interface EntrySource {
  /** Entries [from, to) in index order, `undefined` where one is absent. */
  read(from: number, to: number): Promise<(Uint8Array | undefined)[]>;
}

export interface TlogDeps {
  sql: SqlClient;
  signer: NoteSigner;
  /** The checkpoint origin line, e.g. `warden.example.com/audit`; SHOULD equal the signer's key name. */
  origin: string;
  clock: Clock;
  /** External entry storage; without it entries are kept in tlog_bundles. */
  entries?: EntrySource;
  /** Tiles kept in memory for proofs (share it with the appender: see tlog.cache.ts). */
  tileCache?: TileCache;
}

export interface InclusionProof {
  index: number;
  size: number;
  /** Sibling hashes from the leaf up (RFC 9162 §2.1.3.1). */
  proof: Uint8Array[];
}

export interface ConsistencyProof {
  oldSize: number;
  newSize: number;
  proof: Uint8Array[];
}

export interface VerifyStoreOptions {
  /** Checkpoints the auditor kept (signed notes). The store's own signed checkpoints are used as well. */
  trusted?: string[];
  onProgress?: (done: number) => void;
  /** Hashes entry bundles (default: in this thread); see createWorkerHasher. */
  hasher?: BundleHasher;
}

export interface Tlog {
  readonly origin: string;
  /**
   * Appends inside the caller's transaction `q` (so the entries commit, or roll back, with it): locks the
   * tree head until `q` ends. `build` receives the index of the first new entry. With an external entry
   * source the caller writes the entries itself, in the same transaction.
   */
  appendInTx(
    q: SqlClient,
    build: Uint8Array[] | ((firstIndex: number) => Uint8Array[]),
    /** The entries' leaf hashes, when the caller computed them already (hashLeaf of each). */
    leaves?: Uint8Array[],
  ): Promise<{ firstIndex: number; size: number; root: Uint8Array }>;
  /** The verifier key string (`name+hash+key`) for auditors. */
  readonly verifierKey: string;
  /** Appends entries in order. Durable when it resolves. Entries are at most 65,535 bytes (tlog-tiles). */
  appendBatch(entries: Uint8Array[]): Promise<{ firstIndex: number; size: number }>;
  /** Current tree head (unsigned), cheap. */
  head(): Promise<{ size: number; root: Uint8Array }>;
  /** A signed C2SP checkpoint for the current tree (the last one if the tree has not grown). */
  checkpoint(): Promise<string>;
  /** The signed checkpoint at an earlier size (stored, or signed now from the tiles). */
  checkpointAt(size: number): Promise<string>;
  inclusionProof(index: number, size?: number): Promise<InclusionProof>;
  consistencyProof(oldSize: number, newSize?: number): Promise<ConsistencyProof>;
  /** A C2SP tlog-proof receipt for entry `index` against the current checkpoint. */
  receipt(index: number, extra?: Uint8Array): Promise<string>;
  entry(index: number): Promise<Uint8Array>;
  /** tlog-tiles resources for HTTP serving: full or partial tile hashes (undefined when absent). */
  tile(level: number, index: number, width: number): Promise<Uint8Array | undefined>;
  bundle(index: number, width: number): Promise<Uint8Array | undefined>;
  /**
   * Writes `checkpoint`, `tile/…` and `tile/entries/…` for a tree of `size` (default: current) into dir.
   * With `from`, entries (and level-0 tiles) before it (rounded down to 256) are left out.
   */
  exportTiles(
    dir: string,
    size?: number,
    opts?: { from?: number; onProgress?: (done: number, total: number) => void },
  ): Promise<{ size: number; files: number; checkpoint: string; start: number }>;
  /** Entries before this index were pruned by retention. */
  prunedBefore(): Promise<number>;
  /**
   * Marks entries before `before` (a multiple of 256, at most the signed size) as pruned inside `q` and
   * deletes their level-0 tiles; returns the signed checkpoint at `before` that stands for them. The
   * caller deletes the entries themselves (external source) in the same transaction.
   */
  pruneInTx(q: SqlClient, before: number): Promise<{ checkpoint: string; from: number }>;
  /** Recomputes everything stored against the store's signed checkpoints and the given trusted ones. */
  verifyAgainstStore(options?: VerifyStoreOptions): Promise<VerifyReport>;
}

const MAX_CONFLICT_RETRIES = 50;

export function createTlog(deps: TlogDeps): Tlog {
  const { sql, signer, origin, clock } = deps;
  if (origin.length === 0 || origin.includes("\n"))
    throw new AppError("bad_request", "The log origin must be one non-empty line");
  const verifier: NoteVerifier = parseVerifierKey(signer.verifierKey);
  let edge: Edge | undefined;
  let knownSize = 0;
  // Appends from this process are group-committed: calls that arrive while a write is in flight are
  // merged into the next single-statement write (one commit, one fsync), and each caller gets its own
  // index range once that write is durable. Other processes are handled by the SQL guard.
  const MAX_GROUP_ENTRIES = 20_000;
  type Waiter = {
    entries: Uint8Array[];
    resolve: (r: { firstIndex: number; size: number }) => void;
    reject: (e: unknown) => void;
  };
  const waiting: Waiter[] = [];
  let writing = false;
  const external = deps.entries;

  const { appendInTx } = createTlogAppender({ clock, bundles: !external });

  /** Bundle `index` of `width` entries from an external source, or its prefix up to the first gap. */
  async function externalBundle(index: number, width: number, strict: boolean) {
    const es = await external!.read(index * TILE_WIDTH, index * TILE_WIDTH + width);
    const gap = es.indexOf(undefined);
    if (gap >= 0 && (strict || gap === 0)) return undefined;
    return encodeBundle((gap >= 0 ? es.slice(0, gap) : es) as Uint8Array[]);
  }

  async function drain(): Promise<void> {
    writing = true;
    while (waiting.length > 0) {
      const group: Waiter[] = [];
      let count = 0;
      while (
        waiting.length > 0 &&
        (group.length === 0 || count + waiting[0]!.entries.length <= MAX_GROUP_ENTRIES)
      ) {
        const w = waiting.shift()!;
        group.push(w);
        count += w.entries.length;
      }
      try {
        const { firstIndex } = await appendOnce(
          group.length === 1 ? group[0]!.entries : group.flatMap((w) => w.entries),
        );
        let at = firstIndex;
        for (const w of group) {
          w.resolve({ firstIndex: at, size: at + w.entries.length });
          at += w.entries.length;
        }
      } catch (e) {
        for (const w of group) w.reject(e);
      }
    }
    writing = false;
  }

  const enqueue = (entries: Uint8Array[]) =>
    new Promise<{ firstIndex: number; size: number }>((resolve, reject) => {
      waiting.push({ entries, resolve, reject });
      if (!writing) void drain();
    });

  async function appendOnce(entries: Uint8Array[]) {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      if (!edge) edge = (await readHeadAndEdge(sql)).edge;
      const result = appendToEdge(edge, entries);
      const moved = await writeAppend(sql, {
        oldSize: edge.size,
        newSize: result.edge.size,
        root: result.root,
        at: clock.now(),
        tiles: result.tiles,
        bundles: result.bundles,
      });
      if (moved) {
        const firstIndex = edge.size;
        edge = result.edge;
        knownSize = Math.max(knownSize, edge.size);
        return { firstIndex, size: edge.size };
      }
      edge = undefined; // another process appended: reload the edge and redo the hashes
    }
    throw new AppError("unavailable", "The audit log is too busy to append; retry", { retryAfterSeconds: 1 });
  }

  async function currentSize(): Promise<number> {
    knownSize = Math.max(knownSize, (await readHead(sql)).size);
    return knownSize;
  }

  async function requireSize(size: number): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0)
      throw new AppError("bad_request", `invalid tree size ${size}`);
    if (size > knownSize && size > (await currentSize())) {
      throw new AppError("not_found", `the log has ${knownSize} entries, fewer than ${size}`);
    }
  }

  /** Hashes of the given ranges, each folded from its perfect subtrees, read in one query. */
  async function rangeHashes(ranges: EntryRange[]): Promise<Uint8Array[]> {
    const perRange = ranges.map((r) => perfectNodes(r.start, r.end).map(locateNode));
    const flat = perRange.flat();
    const hashes = await readNodes(
      sql,
      flat.map((l) => ({ ...l, offset: innerOffset(l.j) + l.r * HASH_SIZE })),
    );
    let at = 0;
    return perRange.map((locs) =>
      foldRange(
        locs.map((l) => {
          const h = hashes[at++];
          if (!h)
            throw new AppError("internal", `audit log tile ${l.level}/${l.tile} is missing or too narrow`);
          return h;
        }),
      ),
    );
  }

  /**
   * Like rangeHashes, from the tile cache where it covers the nodes (proofs only: signing and
   * verification always read the store). Missing rows are read whole, in one query, and cached.
   */
  async function cachedRangeHashes(ranges: EntryRange[]): Promise<Uint8Array[]> {
    const cache = deps.tileCache;
    if (!cache) return rangeHashes(ranges);
    const perRange = ranges.map((r) => perfectNodes(r.start, r.end).map(locateNode));
    const covering = (l: { level: number; tile: number; j: number; r: number }) => {
      const t = cache.get(l.level, l.tile);
      return t && l.r < Math.floor(t.width / 2 ** l.j) ? t : undefined;
    };
    const missing = new Map<string, { level: number; index: number }>();
    for (const l of perRange.flat())
      if (!covering(l)) missing.set(`${l.level}/${l.tile}`, { level: l.level, index: l.tile });
    if (missing.size > 0) for (const t of await readTiles(sql, [...missing.values()])) cache.put(t);
    return perRange.map((locs) =>
      foldRange(
        locs.map((l) => {
          const t = covering(l);
          if (!t)
            throw new AppError("internal", `audit log tile ${l.level}/${l.tile} is missing or too narrow`);
          const at = innerOffset(l.j) + l.r * HASH_SIZE;
          return t.nodes.slice(at, at + HASH_SIZE);
        }),
      ),
    );
  }

  const rootAt = async (size: number): Promise<Uint8Array> =>
    size === 0 ? EMPTY_ROOT : (await rangeHashes([{ start: 0, end: size }]))[0]!;

  /**
   * A log MUST NOT sign a checkpoint inconsistent with one it signed before (tlog-checkpoint): before
   * signing, prove consistency with the latest stored checkpoint from the tiles, so a tampered store is
   * refused rather than signed.
   */
  async function guardedSign(size: number, root: Uint8Array): Promise<string> {
    const latest = await readLatestCheckpoint(sql);
    if (latest) {
      const prev = openCheckpoint(latest.note, verifier, origin);
      try {
        if (prev.size <= size) {
          checkConsistency(
            prev.size,
            size,
            prev.root,
            root,
            await rangeHashes(consistencyRanges(prev.size, size)),
          );
        } else {
          checkConsistency(
            size,
            prev.size,
            root,
            prev.root,
            await rangeHashes(consistencyRanges(size, prev.size)),
          );
        }
      } catch (e) {
        if (e instanceof ProofError) {
          throw new AppError(
            "internal",
            "The audit log store is inconsistent with its last signed checkpoint; run audit verify",
            {
              reason: e.message,
            },
          );
        }
        throw e;
      }
    }
    const cp: Checkpoint = { origin, size, root, extensions: [] };
    return signNote(formatCheckpoint(cp), [signer]);
  }

  async function checkpointAt(size: number): Promise<string> {
    const stored = await readCheckpointAt(sql, size);
    if (stored) return stored;
    const note = await guardedSign(size, await rootAt(size));
    await saveCheckpoint(sql, size, note, clock.now());
    return note;
  }

  async function checkpoint(): Promise<string> {
    const head = await readHead(sql);
    knownSize = Math.max(knownSize, head.size);
    const stored = await readCheckpointAt(sql, head.size);
    if (stored) return stored;
    // The head row is a cache: sign the root recomputed from the tiles, and only if they agree.
    const root = await rootAt(head.size);
    if (!equalBytes(root, head.root)) {
      throw new AppError("internal", "The audit log head disagrees with its tiles; run audit verify");
    }
    const note = await guardedSign(head.size, root);
    await saveCheckpoint(sql, head.size, note, clock.now());
    return note;
  }

  async function inclusionProof(index: number, size?: number): Promise<InclusionProof> {
    const n = size ?? (await currentSize());
    await requireSize(n);
    if (!Number.isSafeInteger(index) || index < 0 || index >= n) {
      throw new AppError("not_found", `entry ${index} is not in a tree of ${n} entries`);
    }
    return { index, size: n, proof: await cachedRangeHashes(inclusionRanges(index, n)) };
  }

  async function entry(index: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(index) || index < 0)
      throw new AppError("bad_request", `invalid entry index ${index}`);
    if (external) {
      const e = (await external.read(index, index + 1))[0];
      if (!e) throw new AppError("not_found", `entry ${index} not found`);
      return e;
    }
    const b = Math.floor(index / TILE_WIDTH);
    const row = (await readBundleRange(sql, b, b + 1))[0];
    const e = row && decodeBundle(row.data)?.[index % TILE_WIDTH];
    if (!e) throw new AppError("not_found", `entry ${index} not found`);
    return e;
  }

  async function tile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    const t = (await readTileRange(sql, level, index, index + 1))[0];
    if (!t || t.width < width) return undefined;
    return tileHashes(t, width);
  }

  async function bundle(index: number, width: number): Promise<Uint8Array | undefined> {
    if (external) return externalBundle(index, width, true);
    const b = (await readBundleRange(sql, index, index + 1))[0];
    if (!b || b.width < width) return undefined;
    return b.width === width ? b.data : prefixOfBundle(b.data, width);
  }

  return {
    origin,
    verifierKey: signer.verifierKey,

    appendInTx,

    async prunedBefore() {
      return readPrunedBefore(sql);
    },

    async pruneInTx(q, before) {
      if (!Number.isSafeInteger(before) || before < 0 || before % TILE_WIDTH !== 0)
        throw new AppError("bad_request", `a pruned range ends at a multiple of ${TILE_WIDTH}`);
      const head = await lockHead(q);
      if (before > head.size) throw new AppError("bad_request", `the log has only ${head.size} entries`);
      const stored = await readCheckpointAt(q, before);
      if (!stored) throw new AppError("conflict", `sign the checkpoint at size ${before} before pruning`);
      const from = head.prunedBefore;
      if (before <= from) return { checkpoint: stored, from };
      await q.query("DELETE FROM tlog_tiles WHERE level = 0 AND idx >= $1 AND idx < $2", [
        from / TILE_WIDTH,
        before / TILE_WIDTH,
      ]);
      // Proofs for pruned entries are refused from the store; the cache must not serve them either.
      deps.tileCache?.drop(0, from / TILE_WIDTH, before / TILE_WIDTH);
      await q.query("DELETE FROM tlog_bundles WHERE idx >= $1 AND idx < $2", [
        from / TILE_WIDTH,
        before / TILE_WIDTH,
      ]);
      await q.query("UPDATE tlog_state SET pruned_before = $1 WHERE id = 1", [before]);
      return { checkpoint: stored, from };
    },

    async appendBatch(entries) {
      if (external) throw new AppError("internal", "this log stores entries outside it: use appendInTx");
      for (const e of entries) {
        if (!(e instanceof Uint8Array)) throw new AppError("bad_request", "log entries must be bytes");
        if (e.length > MAX_ENTRY_BYTES)
          throw new AppError("payload_too_large", `a log entry is at most ${MAX_ENTRY_BYTES} bytes`);
      }
      if (entries.length === 0) return currentSize().then((size) => ({ firstIndex: size, size }));
      return enqueue(entries);
    },

    async head() {
      const h = await readHead(sql);
      knownSize = Math.max(knownSize, h.size);
      return h;
    },

    checkpoint,

    async checkpointAt(size) {
      await requireSize(size);
      return checkpointAt(size);
    },

    inclusionProof,

    async consistencyProof(oldSize, newSize) {
      const n = newSize ?? (await currentSize());
      await requireSize(n);
      if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > n) {
        throw new AppError("bad_request", `no consistency proof from size ${oldSize} to ${n}`);
      }
      return { oldSize, newSize: n, proof: await cachedRangeHashes(consistencyRanges(oldSize, n)) };
    },

    async receipt(index, extra) {
      const note = await checkpoint();
      const size = openCheckpoint(note, verifier, origin).size;
      const p = await inclusionProof(index, size);
      return formatTlogProof(
        extra
          ? { index, proof: p.proof, checkpoint: note, extra }
          : { index, proof: p.proof, checkpoint: note },
      );
    },

    entry,
    tile,
    bundle,

    async exportTiles(dir, size, opts = {}) {
      const n = size ?? (await currentSize());
      await requireSize(n);
      const note = n === (await currentSize()) ? await checkpoint() : await checkpointAt(n);
      const pruned = await readPrunedBefore(sql);
      const start = Math.min(
        Math.max(pruned, Math.floor((opts.from ?? 0) / TILE_WIDTH) * TILE_WIDTH),
        Math.floor(n / TILE_WIDTH) * TILE_WIDTH,
      );
      const firstBundle = start / TILE_WIDTH;
      let files = 0;
      const put = async (path: string, data: Uint8Array | string) => {
        const full = join(dir, path);
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, data);
        files++;
      };
      await put("checkpoint", note);
      const PAGE = 256;
      for (let level = 0; Math.floor(n / TILE_WIDTH ** level) > 0; level++) {
        const { full, partialWidth } = tilesAtLevel(n, level);
        const count = full + (partialWidth > 0 ? 1 : 0);
        for (let from = level === 0 ? firstBundle : 0; from < count; from += PAGE) {
          for (const t of await readTileRange(sql, level, from, Math.min(count, from + PAGE))) {
            const width = t.index < full ? TILE_WIDTH : partialWidth;
            if (t.width < width)
              throw new AppError("internal", `audit log tile ${level}/${t.index} is too narrow`);
            await put(tilePath(level, t.index, width), tileHashes(t, width));
          }
        }
      }
      const { full, partialWidth } = tilesAtLevel(n, 0);
      const count = full + (partialWidth > 0 ? 1 : 0);
      for (let from = firstBundle; from < count; from += PAGE) {
        if (external) {
          for (let b = from; b < Math.min(count, from + PAGE); b++) {
            const width = b < full ? TILE_WIDTH : partialWidth;
            const data = await externalBundle(b, width, false);
            if (data) await put(entryBundlePath(b, width), data);
          }
        } else {
          for (const b of await readBundleRange(sql, from, Math.min(count, from + PAGE))) {
            const width = b.index < full ? TILE_WIDTH : partialWidth;
            await put(
              entryBundlePath(b.index, width),
              b.width === width ? b.data : prefixOfBundle(b.data, width),
            );
          }
        }
        opts.onProgress?.(Math.min(n, (from + PAGE) * TILE_WIDTH), n);
      }
      return { size: n, files, checkpoint: note, start };
    },

    async verifyAgainstStore(options = {}) {
      const head = await readHead(sql);
      const trusted: TrustedRoot[] = [];
      const invalid: string[] = [];
      for (const [i, note] of (options.trusted ?? []).entries()) {
        const cp = openCheckpoint(note, verifier, origin);
        trusted.push({
          size: cp.size,
          root: cp.root,
          label: `trusted checkpoint #${i + 1} (size ${cp.size})`,
        });
      }
      for (const stored of await readCheckpoints(sql)) {
        try {
          const cp = openCheckpoint(stored.note, verifier, origin);
          if (cp.size !== stored.size) throw new Error("size column differs from the note");
          trusted.push({ size: cp.size, root: cp.root, label: `the stored checkpoint at size ${cp.size}` });
        } catch {
          invalid.push(`stored checkpoint at size ${stored.size} does not verify with the log key`);
        }
      }
      const report = await verifyTree({
        source: storeSource(sql, external),
        size: head.size,
        start: await readPrunedBefore(sql),
        ...(options.hasher ? { hasher: options.hasher } : {}),
        trusted: [
          ...trusted,
          { size: head.size, root: head.root, label: "the store's tree head", bounds: false },
        ],
        onProgress: options.onProgress,
      });
      for (const message of invalid) report.problems.push({ kind: "checkpoint-invalid", message });
      report.ok = report.problems.length === 0;
      return report;
    },
  };
}

/** The first `width` entries of an encoded bundle (a partial bundle of an older tree size). */
function prefixOfBundle(data: Uint8Array, width: number): Uint8Array {
  const entries = decodeBundle(data);
  if (!entries) return data;
  return encodeBundle(entries.slice(0, width));
}

/** Tiles and bundles straight from the store, read a page at a time, for `verifyTree`. */
function storeSource(sql: SqlClient, external?: EntrySource): TileSource {
  const PAGE = 128;
  let entryPage: { page: number; entries: (Uint8Array | undefined)[] } | undefined;
  const tilePages = new Map<string, Map<number, StoredTile>>();
  const bundlePages = new Map<number, Map<number, { width: number; data: Uint8Array }>>();
  return {
    async tile(level, index, width) {
      const page = Math.floor(index / PAGE);
      const key = `${level}/${page}`;
      let rows = tilePages.get(key);
      if (!rows) {
        rows = new Map(
          (await readTileRange(sql, level, page * PAGE, (page + 1) * PAGE)).map((t) => [t.index, t]),
        );
        tilePages.clear();
        tilePages.set(key, rows);
      }
      const t = rows.get(index);
      if (!t || t.width < width) return undefined;
      return tileHashes(t, width).subarray(0, width * HASH_SIZE);
    },
    async bundle(index, width) {
      if (external) {
        // Entries of PAGE bundles per query; a gap ends the bundle early so the verifier names it.
        const page = Math.floor(index / PAGE);
        if (entryPage?.page !== page) {
          const from = page * PAGE * TILE_WIDTH;
          entryPage = { page, entries: await external.read(from, from + PAGE * TILE_WIDTH) };
        }
        const at = (index - page * PAGE) * TILE_WIDTH;
        const es = entryPage.entries.slice(at, at + width);
        const gap = es.indexOf(undefined);
        if (gap === 0) return undefined;
        return encodeBundle((gap > 0 ? es.slice(0, gap) : es) as Uint8Array[]);
      }
      const page = Math.floor(index / PAGE);
      let rows = bundlePages.get(page);
      if (!rows) {
        rows = new Map((await readBundleRange(sql, page * PAGE, (page + 1) * PAGE)).map((b) => [b.index, b]));
        bundlePages.clear();
        bundlePages.set(page, rows);
      }
      const b = rows.get(index);
      if (!b) return undefined;
      return b.width === width ? b.data : prefixOfBundle(b.data, width);
    },
  };
}

/**
 * Appends inside a caller's transaction, without needing the signing key (Warden's audit records are
 * appended from the first request on; checkpoints are signed later). Keeps the right edges of recent
 * appends in memory so a busy log does not re-read its partial tiles for every append.
 */
export function createTlogAppender(deps: {
  clock: Clock;
  bundles?: boolean;
  /** Receives the tiles of each append once its transaction commits. */
  tileCache?: TileCache;
}): Pick<Tlog, "appendInTx"> {
  const { clock } = deps;
  const external = deps.bundles === false;
  // Edges computed by recent appends, by tree head. An edge is reused only when the locked head is exactly
  // that tree (same size and root), so an edge from a transaction that rolled back is simply never hit.
  const edges = new Map<string, Edge>();
  const headKey = (size: number, root: Uint8Array) => `${size}:${toHex(root)}`;
  const remember = (e: Edge, root: Uint8Array) => {
    edges.set(headKey(e.size, root), e);
    while (edges.size > 8) edges.delete(edges.keys().next().value as string);
  };

  async function appendInTx(
    q: SqlClient,
    build: Uint8Array[] | ((firstIndex: number) => Uint8Array[]),
    leaves?: Uint8Array[],
  ): Promise<{ firstIndex: number; size: number; root: Uint8Array }> {
    const head = await lockHead(q);
    let e = edges.get(headKey(head.size, head.root));
    if (!e) {
      e = (await readHeadAndEdge(q, { bundles: !external })).edge;
      if (e.size !== head.size) throw new AppError("internal", "The audit log head moved while locked");
    }
    const entries = typeof build === "function" ? build(head.size) : build;
    for (const x of entries) {
      if (x.length > MAX_ENTRY_BYTES)
        throw new AppError("payload_too_large", `a log entry is at most ${MAX_ENTRY_BYTES} bytes`);
    }
    if (entries.length === 0) return { firstIndex: head.size, size: head.size, root: head.root };
    const result = appendToEdge(e, entries, { bundles: !external, ...(leaves ? { leaves } : {}) });
    const moved = await writeAppend(q, {
      oldSize: head.size,
      newSize: result.edge.size,
      root: result.root,
      at: clock.now(),
      tiles: result.tiles,
      bundles: result.bundles,
    });
    if (!moved) throw new AppError("internal", "The audit log head moved while locked");
    remember(result.edge, result.root);
    const cache = deps.tileCache;
    if (cache && q.afterCommit)
      q.afterCommit(() => {
        for (const t of result.tiles) cache.put(t);
      });
    return { firstIndex: head.size, size: result.edge.size, root: result.root };
  }
  return { appendInTx };
}
