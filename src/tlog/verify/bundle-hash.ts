/**
 * Hashing entry bundles, the bulk of a full verification (one leaf hash per entry, one node hash per
 * entry up a bundle's perfect subtree). `hashBundles` runs in the calling thread; `createWorkerHasher`
 * spreads bundles over worker threads (Piscina) so a 10-million-entry audit uses every core while the
 * main thread reads tiles and compares.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { HASH_SIZE, hashChildren, hashLeaf } from "./hash.ts";
import { decodeBundle, TILE_WIDTH } from "./tiles.ts";

export interface HashedBundles {
  /** Entries decoded per bundle; -1 when the bytes are not a valid bundle. */
  counts: number[];
  /** Leaf hashes of every decoded entry of every bundle, concatenated in order. */
  leaves: Uint8Array;
  /** Per bundle: the perfect subtree root (level-1 hash) when it holds exactly 256 entries, else empty. */
  roots: Uint8Array[];
}

export interface BundleHasher {
  hash(bundles: Uint8Array[]): Promise<HashedBundles>;
  /** How many hash calls to have in flight at once (worker count). */
  readonly parallelism: number;
  close(): Promise<void>;
}

/** Root of 256 leaf hashes laid out contiguously (RFC 9162 MTH of a perfect subtree). */
function perfectRoot(leaves: Uint8Array, at: number): Uint8Array {
  let level: Uint8Array[] = new Array(TILE_WIDTH);
  for (let i = 0; i < TILE_WIDTH; i++)
    level[i] = leaves.subarray(at + i * HASH_SIZE, at + (i + 1) * HASH_SIZE);
  while (level.length > 1) {
    const next: Uint8Array[] = new Array(level.length / 2);
    for (let i = 0; i < next.length; i++) next[i] = hashChildren(level[2 * i]!, level[2 * i + 1]!);
    level = next;
  }
  return level[0]!;
}

export function hashBundles(bundles: Uint8Array[]): HashedBundles {
  const decoded = bundles.map((b) => decodeBundle(b));
  const total = decoded.reduce((n, d) => n + (d?.length ?? 0), 0);
  const leaves = new Uint8Array(total * HASH_SIZE);
  const counts: number[] = [];
  const roots: Uint8Array[] = [];
  let at = 0;
  for (const entries of decoded) {
    if (!entries) {
      counts.push(-1);
      roots.push(new Uint8Array(0));
      continue;
    }
    const first = at;
    for (const e of entries) {
      leaves.set(hashLeaf(e), at);
      at += HASH_SIZE;
    }
    counts.push(entries.length);
    roots.push(entries.length === TILE_WIDTH ? perfectRoot(leaves, first) : new Uint8Array(0));
  }
  return { counts, leaves, roots };
}

export const inThreadHasher: BundleHasher = {
  hash: async (bundles) => hashBundles(bundles),
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

/** A pool of `threads` workers (default: one per core) hashing bundles. */
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
    hash: (bundles) => pool.run(bundles) as Promise<HashedBundles>,
    close: () => pool.destroy(),
  };
}
