/**
 * Offline audit of a whole log from its tiles and entry bundles (C2SP tlog-tiles), independent of how a
 * log stores them: every entry is re-hashed, every stored tile hash is recomputed from the entries, and
 * the root at each trusted size is compared with the trusted checkpoint. Problems name the first bad
 * entry when it can be known; see `VerifyReport.firstBadIndex`.
 */
import {
  BUNDLE_ABSENT,
  BUNDLE_INVALID,
  type BundleHasher,
  type CheckedBundles,
  checkBundles,
  inThreadHasher,
} from "./bundle-hash.ts";
import { EMPTY_ROOT, equalBytes, HASH_SIZE, hashChildren, toBase64 } from "./hash.ts";
import { entryBundlePath, TILE_WIDTH, tilePath, tilesAtLevel } from "./tiles.ts";

/** Where tiles and bundles come from: a directory, an HTTP prefix, a database. Undefined = absent. */
export interface TileSource {
  tile(level: number, index: number, width: number): Promise<Uint8Array | undefined>;
  bundle(index: number, width: number): Promise<Uint8Array | undefined>;
  /**
   * Set when the source is a tlog-tiles directory: full bundles and their level-0 tiles are then read
   * from their standard paths by the hashing threads themselves (anything unreadable there goes through
   * the methods above).
   */
  readonly directory?: string;
}

export type ProblemKind =
  | "entry-changed"
  | "entry-missing"
  | "entry-extra"
  | "tile-mismatch"
  | "tile-missing"
  | "root-mismatch"
  | "checkpoint-invalid";

export interface VerifyProblem {
  kind: ProblemKind;
  message: string;
  /** The first entry index the problem concerns, when there is one. */
  index?: number;
}

export interface TrustedRoot {
  size: number;
  root: Uint8Array;
  /** Where it came from, for messages ("trusted checkpoint", "stored checkpoint 1200"). */
  label: string;
  /** False for an unsigned claim (a store's head row): a mismatch is reported but locates nothing. */
  bounds?: boolean;
}

export interface VerifyReport {
  ok: boolean;
  /** Entries examined (the size of the tree that was verified). */
  size: number;
  /** Root recomputed from the entries at `size`, base64. */
  root: string;
  problems: VerifyProblem[];
  /**
   * The first entry that is not what was logged. Exact when an entry disagrees with its leaf hash in the
   * stored tiles, or is missing. When entries and tiles were rewritten together, only the checkpoints
   * bound it: then `firstBadIndex` is the start of `firstBadRange`, the entries between the last trusted
   * size that still verifies and the first that does not.
   */
  firstBadIndex?: number;
  firstBadRange?: { start: number; end: number };
  /** Roots recomputed at each trusted size, in order. */
  checked: { size: number; label: string; ok: boolean; bounds?: boolean; notCheckable?: boolean }[];
  /** Entries before this index were not examined (pruned by retention, or outside an exported range). */
  start?: number;
}

const MAX_PROBLEMS = 50;

/** MTH of a full tile's 256 hashes (a perfect subtree of height 8). */
function perfectRoot(hashes: Uint8Array[]): Uint8Array {
  let level = hashes;
  while (level.length > 1) {
    const next: Uint8Array[] = new Array(level.length / 2);
    for (let i = 0; i < next.length; i++) next[i] = hashChildren(level[2 * i]!, level[2 * i + 1]!);
    level = next;
  }
  return level[0]!;
}

/** Perfect-subtree hashes of a partial tile, left to right (binary decomposition of its width). */
function partialChunks(hashes: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let h = 7; h >= 0; h--) {
    const w = 2 ** h;
    if (hashes.length - at >= w) {
      out.push(perfectRoot(hashes.slice(at, at + w)));
      at += w;
    }
  }
  return out;
}

/** Root of the tree whose right edge is `edge[level]` = the partial tile hashes at each level. */
function rootFromEdge(edge: Uint8Array[][]): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (let level = edge.length - 1; level >= 0; level--) chunks.push(...partialChunks(edge[level] ?? []));
  if (chunks.length === 0) return EMPTY_ROOT;
  let acc = chunks[chunks.length - 1]!;
  for (let i = chunks.length - 2; i >= 0; i--) acc = hashChildren(chunks[i]!, acc);
  return acc;
}

export interface VerifyTreeOptions {
  source: TileSource;
  /** How many entries to verify (the size of the newest checkpoint the source claims). */
  size: number;
  /** Roots that must hold: trusted checkpoints, the source's own signed checkpoint. */
  trusted: TrustedRoot[];
  /** Called every 256 entries with the count done, for progress bars. */
  onProgress?: (done: number) => void;
  /**
   * First entry to examine, a multiple of 256 (default 0). Entries before it are absent (pruned, or not
   * exported): their hashes are taken from the level-1 tiles, which the higher tiles and every trusted
   * root at or after `start` still check. Trusted roots inside the absent range cannot be recomputed
   * (except at multiples of 256) and are reported as not checkable.
   */
  start?: number;
  /** Hashes entry bundles; default in this thread. `createWorkerHasher(n)` uses n worker threads. */
  hasher?: BundleHasher;
}

export async function verifyTree(opts: VerifyTreeOptions): Promise<VerifyReport> {
  const { source, size } = opts;
  const problems: VerifyProblem[] = [];
  const report = (p: VerifyProblem) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const trusted = [...opts.trusted].sort((a, b) => a.size - b.size);
  const checked: VerifyReport["checked"] = [];
  for (const t of trusted) {
    if (t.size > size) {
      report({
        kind: "entry-missing",
        index: size,
        message: `${t.label} covers ${t.size} entries but only ${size} are present: entries ${size}..${t.size - 1} were truncated`,
      });
      checked.push({ size: t.size, label: t.label, ok: false, bounds: t.bounds !== false });
    }
  }
  const pending = trusted.filter((t) => t.size <= size);
  let nextTrusted = 0;
  const edge: Uint8Array[][] = [[]];
  const tileIndex: number[] = [0];
  let firstEntryProblem: number | undefined;

  const checkTrusted = (count: number) => {
    while (nextTrusted < pending.length && pending[nextTrusted]!.size === count) {
      const t = pending[nextTrusted++]!;
      const ok = equalBytes(rootFromEdge(edge), t.root);
      checked.push({ size: t.size, label: t.label, ok, bounds: t.bounds !== false });
      if (!ok) {
        report({
          kind: "root-mismatch",
          message: `the first ${t.size} entries do not hash to the root of ${t.label}: history was rewritten`,
        });
      }
    }
  };

  const compareTile = async (level: number, index: number, computed: Uint8Array[]) => {
    const stored = await source.tile(level, index, computed.length);
    const path = tilePath(level, index, computed.length);
    if (!stored) {
      report({
        kind: "tile-missing",
        message: `${path} is missing`,
        index: index * TILE_WIDTH ** (level + 1),
      });
      return;
    }
    if (stored.length !== computed.length * HASH_SIZE) {
      report({
        kind: "tile-mismatch",
        message: `${path} has ${stored.length} bytes, expected ${computed.length * HASH_SIZE}`,
      });
      return;
    }
    // Level 0 was compared entry by entry already; above it, a differing hash means a forged tile.
    if (level === 0) return;
    for (let k = 0; k < computed.length; k++) {
      if (!equalBytes(stored.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE), computed[k]!)) {
        const first = (index * TILE_WIDTH + k) * TILE_WIDTH ** level;
        report({
          kind: "tile-mismatch",
          index: first,
          message: `${path} hash ${k} does not match the entries under it`,
        });
        return;
      }
    }
  };

  // Full tiles completed by pushes, compared against the source after each bundle (keeps push synchronous).
  const completed: { level: number; index: number; hashes: Uint8Array[] }[] = [];
  const push = (level: number, h: Uint8Array): void => {
    if (edge[level] === undefined) {
      edge[level] = [];
      tileIndex[level] = 0;
    }
    const row = edge[level]!;
    row.push(h);
    if (row.length === TILE_WIDTH) {
      if (level > 0) completed.push({ level, index: tileIndex[level]!, hashes: row });
      const root = perfectRoot(row);
      edge[level] = [];
      tileIndex[level]!++;
      push(level + 1, root);
    }
  };

  checkTrusted(0);
  const bundles = Math.ceil(size / TILE_WIDTH);
  const start = Math.min(opts.start ?? 0, Math.floor(size / TILE_WIDTH) * TILE_WIDTH);
  if (start % TILE_WIDTH !== 0) throw new RangeError(`start ${start} is not a multiple of ${TILE_WIDTH}`);
  const skipped = start / TILE_WIDTH;
  // The absent prefix: one level-1 hash per 256 entries, read a level-1 tile at a time.
  for (let t = 0; t * TILE_WIDTH < skipped; t++) {
    const { full, partialWidth } = tilesAtLevel(size, 1);
    const width = t < full ? TILE_WIDTH : partialWidth;
    const hashes = await source.tile(1, t, width);
    if (!hashes || hashes.length < width * HASH_SIZE) {
      report({
        kind: "tile-missing",
        index: t * TILE_WIDTH * TILE_WIDTH,
        message: `${tilePath(1, t, width)} is missing: the absent entries before ${start} cannot be bound`,
      });
      firstEntryProblem ??= t * TILE_WIDTH * TILE_WIDTH;
      break;
    }
    for (let k = 0; k < width && t * TILE_WIDTH + k < skipped; k++) {
      const count = (t * TILE_WIDTH + k + 1) * TILE_WIDTH;
      while (nextTrusted < pending.length && pending[nextTrusted]!.size < count) {
        const p = pending[nextTrusted++]!;
        checked.push({ size: p.size, label: p.label, ok: true, bounds: false, notCheckable: true });
      }
      push(1, hashes.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE));
      checkTrusted(count);
    }
    for (const c of completed.splice(0)) await compareTile(c.level, c.index, c.hashes);
  }
  const prefixBroken = firstEntryProblem !== undefined;
  // Bundles are checked a window at a time (maybe on worker threads, which read a directory's files
  // themselves) while later windows are read and checked.
  const hasher = opts.hasher ?? inThreadHasher;
  const WINDOW = 64;
  const depth = Math.max(2, hasher.parallelism * 2);
  const fullBundles = Math.floor(size / TILE_WIDTH);
  const dir = source.directory;
  interface Window {
    first: number;
    widths: number[];
    /** The job read its files from `dir` (a bundle it could not check is re-read through the source). */
    fromDir: boolean;
    tiles?: (Uint8Array | undefined)[];
    checked: Promise<CheckedBundles>;
  }
  const windows: Window[] = [];
  let nextBundle = prefixBroken ? bundles : skipped;
  const widthOf = (b: number) => Math.min(TILE_WIDTH, size - b * TILE_WIDTH);
  const widthsFrom = (first: number, last: number) =>
    Array.from({ length: last - first }, (_, j) => widthOf(first + j));
  const fill = async () => {
    while (windows.length < depth && nextBundle < bundles) {
      const first = nextBundle;
      const last = Math.min(bundles, first + WINDOW);
      if (dir !== undefined && first < fullBundles) {
        const widths = widthsFrom(first, Math.min(last, fullBundles));
        const checked = hasher.check({ first, widths, dir });
        checked.catch(() => {}); // awaited below, or abandoned after a fatal problem
        windows.push({ first, widths, fromDir: true, checked });
        nextBundle = first + widths.length;
        continue;
      }
      const bytes: (Uint8Array | undefined)[] = [];
      const tiles: (Uint8Array | undefined)[] = [];
      for (let b = first; b < last; b++) {
        const [bb, tt] = await Promise.all([source.bundle(b, widthOf(b)), source.tile(0, b, widthOf(b))]);
        bytes.push(bb);
        tiles.push(tt);
        // An absent bundle ends what can be checked: no need to read past it.
        if (!bb) break;
      }
      const widths = widthsFrom(first, first + bytes.length);
      const checked = hasher.check({ first, widths, bundles: bytes, tiles });
      checked.catch(() => {});
      windows.push({ first, widths, fromDir: false, tiles, checked });
      nextBundle = first + bytes.length;
      if (bytes.length < last - first) nextBundle = bundles;
    }
  };
  outer: for (;;) {
    await fill();
    const w = windows.shift();
    if (!w) break;
    const c = await w.checked;
    for (let j = 0; j < w.widths.length; j++) {
      const b = w.first + j;
      const start = b * TILE_WIDTH;
      const width = w.widths[j]!;
      let count = c.counts[j]!;
      let tileOk = c.tileOk[j]!;
      let match = c.match[j]!;
      let leaves = c.leaves[j];
      let leafTile = c.tiles[j];
      const root = c.roots.subarray(j * HASH_SIZE, (j + 1) * HASH_SIZE);
      if (w.fromDir && !match) {
        // Whatever the direct read could not check goes through the source, which knows the fallbacks.
        const [bb, tt] = await Promise.all([source.bundle(b, width), source.tile(0, b, width)]);
        const again = checkBundles({ first: b, widths: [width], bundles: [bb], tiles: [tt] });
        count = again.counts[0]!;
        tileOk = again.tileOk[0]!;
        match = again.match[0]!;
        leaves = again.leaves[0];
        leafTile = again.tiles[0];
        root.set(again.roots.subarray(0, HASH_SIZE));
        if (match) leafTile = tt;
      }
      if (count === BUNDLE_ABSENT) {
        report({
          kind: "entry-missing",
          index: start,
          message: `${entryBundlePath(b, width)} is missing: entry ${start} and later are absent`,
        });
      } else if (count === BUNDLE_INVALID) {
        report({
          kind: "entry-changed",
          index: start,
          message: `${entryBundlePath(b, width)} is not a valid entry bundle`,
        });
      }
      if (!tileOk) {
        report({
          kind: "tile-missing",
          index: start,
          message: `${tilePath(0, b, width)} is missing or has the wrong size`,
        });
      }
      if (count < 0) {
        // Without entries nothing above can be recomputed honestly: stop here.
        firstEntryProblem ??= start;
        break outer;
      }
      if (count < width) {
        report({
          kind: "entry-missing",
          index: start + count,
          message: `${entryBundlePath(b, width)} holds ${count} entries, expected ${width}: entry ${start + count} is missing`,
        });
      } else if (count > width) {
        report({
          kind: "entry-extra",
          index: start + width,
          message: `${entryBundlePath(b, width)} holds more entries than the tree has`,
        });
      }
      const trustedInside = nextTrusted < pending.length && pending[nextTrusted]!.size < start + TILE_WIDTH;
      if (match && width === TILE_WIDTH && !trustedInside) {
        // The whole bundle matches its leaf tile: its perfect root goes straight to level 1.
        push(1, root.slice());
        checkTrusted(start + TILE_WIDTH);
      } else {
        // Entry by entry, to name the first bad one or to check a trusted size inside this bundle.
        if (match) leafTile ??= w.tiles?.[j] ?? (await source.tile(0, b, width));
        const hashes = match ? leafTile! : leaves!;
        const n = Math.min(count, width);
        for (let k = 0; k < n; k++) {
          const idx = start + k;
          const lh = hashes.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE);
          if (tileOk && !equalBytes(leafTile!.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE), lh)) {
            firstEntryProblem ??= idx;
            report({
              kind: "entry-changed",
              index: idx,
              message: `entry ${idx} does not match its leaf hash in ${tilePath(0, b, width)}`,
            });
          }
          push(0, lh);
          checkTrusted(idx + 1);
        }
        if (n < width) firstEntryProblem ??= start + n;
      }
      for (const t of completed.splice(0)) await compareTile(t.level, t.index, t.hashes);
      if (count < width) break outer;
      opts.onProgress?.(start + width);
    }
  }
  // Partial tiles at the right edge of every level above 0 (level 0 was compared entry by entry).
  const complete = !problems.some((p) => p.kind === "entry-missing");
  if (complete) {
    for (let level = 1; level < edge.length; level++) {
      if (edge[level]!.length > 0) await compareTile(level, tileIndex[level]!, edge[level]!);
    }
  }
  for (const t of pending.slice(nextTrusted))
    checked.push({ size: t.size, label: t.label, ok: false, bounds: t.bounds !== false });

  const root = rootFromEdge(edge);
  let firstBadIndex = firstEntryProblem;
  for (const p of problems) {
    if (p.index !== undefined && (p.kind.startsWith("entry") || p.kind === "tile-missing")) {
      firstBadIndex = Math.min(firstBadIndex ?? p.index, p.index);
    }
  }
  let firstBadRange: VerifyReport["firstBadRange"];
  checked.sort((a, b) => a.size - b.size);
  const firstFailing = checked.find((c) => !c.ok && c.bounds !== false);
  if (firstFailing && (firstBadIndex === undefined || firstBadIndex >= firstFailing.size)) {
    // Entries and tiles agree but a trusted root fails: only the checkpoints bound where history changed.
    const lastGood = checked
      .filter((c) => c.ok && !c.notCheckable && c.size < firstFailing.size)
      .reduce((m, c) => Math.max(m, c.size), start);
    firstBadRange = { start: lastGood, end: firstFailing.size };
    firstBadIndex = lastGood;
  } else if (firstBadIndex !== undefined) {
    firstBadRange = { start: firstBadIndex, end: firstBadIndex + 1 };
  }
  const result: VerifyReport = { ok: problems.length === 0, size, root: toBase64(root), problems, checked };
  if (start > 0) result.start = start;
  if (firstBadIndex !== undefined) result.firstBadIndex = firstBadIndex;
  if (firstBadRange !== undefined) result.firstBadRange = firstBadRange;
  return result;
}
