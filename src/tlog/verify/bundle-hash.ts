/**
 * Checking entry bundles against their level-0 tiles, the bulk of a full verification: one leaf hash per
 * entry (RFC 9162 §2.1.1), compared with the tile, and one node hash per entry up the bundle's perfect
 * subtree, whose root is the bundle's hash at tile level 1. `checkBundles` runs in the calling thread;
 * `createWorkerHasher` spreads windows of bundles over worker threads (Piscina), one per core, which also
 * read the files of a tiles export themselves, so the main thread only folds one hash per 256 entries.
 *
 * Hashing dominates (about two SHA-256 per entry), so a bundle's leaves are hashed four at a time in one
 * call (`sha256Many`, WebAssembly SIMD) into one preallocated buffer, and its perfect subtree is folded
 * in place, level by level, the same way.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { HASH_SIZE } from "./hash.ts";
import { sha256Many } from "./sha256x4.ts";
import { entryBundlePath, TILE_WIDTH, tilePath } from "./tiles.ts";

/** A window of consecutive bundles to check. */
export interface BundleJob {
  /** Index of the first bundle. */
  first: number;
  /** Entries each bundle must hold (its width in the tree being verified). */
  widths: number[];
  /** The bundles' bytes and their level-0 tiles (undefined = absent)… */
  bundles?: (Uint8Array | undefined)[];
  tiles?: (Uint8Array | undefined)[];
  /** …or a tlog-tiles directory to read them from, at their standard paths. */
  dir?: string;
}

export const BUNDLE_ABSENT = -2;
export const BUNDLE_INVALID = -1;

export interface CheckedBundles {
  /** Per bundle: entries decoded; BUNDLE_INVALID when the bytes are not a bundle; BUNDLE_ABSENT. */
  counts: number[];
  /** Per bundle: its level-0 tile is present with exactly `width` hashes. */
  tileOk: boolean[];
  /** Per bundle: it holds exactly `width` entries and their leaf hashes are its tile, hash for hash. */
  match: boolean[];
  /** 32 bytes per bundle: the perfect subtree root when the bundle decoded exactly 256 entries. */
  roots: Uint8Array;
  /** For bundles that do not match (only): their leaf hashes and tile, so the caller names the bad entry. */
  leaves: (Uint8Array | undefined)[];
  tiles: (Uint8Array | undefined)[];
}

export interface BundleHasher {
  check(job: BundleJob): Promise<CheckedBundles>;
  /** How many jobs to have in flight at once (worker count). */
  readonly parallelism: number;
  close(): Promise<void>;
}

function readOrUndefined(path: string): Uint8Array | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

// Per-thread scratch space, reused by every bundle.
const leafBuf = new Uint8Array(TILE_WIDTH * HASH_SIZE);
const offsets = new Int32Array(TILE_WIDTH);
const lengths = new Int32Array(TILE_WIDTH);
const pairs = Int32Array.from({ length: TILE_WIDTH / 2 }, (_, i) => 2 * i * HASH_SIZE);
const pairLengths = new Int32Array(TILE_WIDTH / 2).fill(2 * HASH_SIZE);
const fold = new Uint8Array((TILE_WIDTH / 2) * HASH_SIZE);

/**
 * Leaf hashes H(0x00 ‖ entry) (RFC 9162 §2.1.1) of a bundle's first `max` entries into `leafBuf`
 * (tlog-tiles bundle: big-endian uint16 length, entry). Returns the count, or BUNDLE_INVALID.
 */
function hashEntries(bundle: Uint8Array, max: number): number {
  let at = 0;
  let n = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) return BUNDLE_INVALID;
    const len = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + len > bundle.length) return BUNDLE_INVALID;
    if (n < max) {
      offsets[n] = at + 2;
      lengths[n] = len;
    }
    n++;
    at += 2 + len;
  }
  sha256Many(bundle, offsets, lengths, Math.min(n, max), 0x00, leafBuf, 0);
  return n;
}

/** Root of the 256 leaf hashes in `leafBuf` (RFC 9162 MTH of a perfect subtree, nodes H(0x01 ‖ l ‖ r)). */
function perfectRoot(out: Uint8Array, at: number): void {
  sha256Many(leafBuf, pairs, pairLengths, TILE_WIDTH / 2, 0x01, fold, 0);
  for (let width = TILE_WIDTH / 2; width > 1; width /= 2)
    sha256Many(fold, pairs, pairLengths, width / 2, 0x01, fold, 0);
  out.set(fold.subarray(0, HASH_SIZE), at);
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Checks a window of bundles. */
export function checkBundles(job: BundleJob): CheckedBundles {
  const n = job.widths.length;
  const out: CheckedBundles = {
    counts: new Array(n),
    tileOk: new Array(n),
    match: new Array(n),
    roots: new Uint8Array(n * HASH_SIZE),
    leaves: new Array(n),
    tiles: new Array(n),
  };
  for (let j = 0; j < n; j++) {
    const b = job.first + j;
    const width = job.widths[j]!;
    const bundle = job.dir ? readOrUndefined(join(job.dir, entryBundlePath(b, width))) : job.bundles?.[j];
    const tile = job.dir ? readOrUndefined(join(job.dir, tilePath(0, b, width))) : job.tiles?.[j];
    const tileOk = !!tile && tile.length === width * HASH_SIZE;
    out.tileOk[j] = tileOk;
    out.match[j] = false;
    if (!bundle) {
      out.counts[j] = BUNDLE_ABSENT;
      out.tiles[j] = tile;
      continue;
    }
    const count = hashEntries(bundle, TILE_WIDTH);
    out.counts[j] = count;
    if (count < 0) {
      out.tiles[j] = tile;
      continue;
    }
    const hashed = Math.min(count, TILE_WIDTH);
    const leaves = leafBuf.subarray(0, hashed * HASH_SIZE);
    if (count === TILE_WIDTH) perfectRoot(out.roots, j * HASH_SIZE);
    if (count === width && tileOk && sameBytes(leaves, tile!)) out.match[j] = true;
    else {
      out.leaves[j] = leaves.slice();
      out.tiles[j] = tile;
    }
  }
  return out;
}

export const inThreadHasher: BundleHasher = {
  check: async (job) => checkBundles(job),
  parallelism: 1,
  close: async () => {},
};

/** tsx's ESM loader, resolved from this package, for workers started from TypeScript sources. */
function tsxLoader(): string {
  const pkg = createRequire(import.meta.url).resolve("tsx/package.json");
  return pathToFileURL(join(dirname(pkg), "dist", "loader.mjs")).href;
}

// From source the worker is the .ts beside this file; in the bundle the build emits dist/tlog-hash.worker.js.
const workerFile = fileURLToPath(
  new URL(
    import.meta.url.endsWith(".ts") ? "./bundle-hash.worker.ts" : "./tlog-hash.worker.js",
    import.meta.url,
  ),
);

/** A pool of `threads` workers (default: one per core) checking bundles. */
export async function createWorkerHasher(threads: number): Promise<BundleHasher> {
  const { Piscina } = await import("piscina");
  const needsTsx = workerFile.endsWith(".ts") && !process.execArgv.some((a) => a.includes("tsx"));
  const pool = new Piscina({
    filename: workerFile,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 1000,
    execArgv: needsTsx ? [...process.execArgv, "--import", tsxLoader()] : process.execArgv,
  });
  return {
    parallelism: threads,
    // Bytes are copied to the worker (a source may hand out views of buffers it keeps); a directory
    // job sends only its path.
    check: (job) => pool.run(job) as Promise<CheckedBundles>,
    close: () => pool.destroy(),
  };
}
