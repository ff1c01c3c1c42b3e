/**
 * Proofs computed by a client from tlog-tiles (the way tlog-tiles clients do it, C2SP tlog-tiles §Merkle
 * Tree): every hash a proof needs is a perfect subtree inside one tile, rebuilt from that tile's hashes.
 * Also a TileSource over HTTP for a log that serves `<prefix>/checkpoint` and `<prefix>/tile/…`.
 */
import { HASH_SIZE, hashChildren } from "./hash.ts";
import {
  consistencyRanges,
  foldRange,
  inclusionRanges,
  type PerfectNode,
  ProofError,
  perfectNodes,
} from "./merkle.ts";
import {
  decodeBundle,
  encodeBundle,
  entryBundlePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  tilePath,
  tilesAtLevel,
} from "./tiles.ts";
import type { TileSource } from "./verify-tree.ts";

function subtreeHash(hashes: Uint8Array, start: number, height: number): Uint8Array {
  if (height === 0) return hashes.subarray(start * HASH_SIZE, (start + 1) * HASH_SIZE);
  const half = 2 ** (height - 1);
  return hashChildren(subtreeHash(hashes, start, height - 1), subtreeHash(hashes, start + half, height - 1));
}

/** Reads the hash of perfect subtree `node` of a tree of `size` entries from its tile. */
function nodeReader(source: TileSource, size: number) {
  const cache = new Map<string, Promise<Uint8Array | undefined>>();
  return async (node: PerfectNode): Promise<Uint8Array> => {
    const level = Math.floor(node.height / TILE_HEIGHT);
    const j = node.height % TILE_HEIGHT;
    const first = node.index * 2 ** j; // index of the node's first hash at this tile level
    const tile = Math.floor(first / TILE_WIDTH);
    const { full, partialWidth } = tilesAtLevel(size, level);
    const width = tile < full ? TILE_WIDTH : partialWidth;
    const key = `${level}/${tile}/${width}`;
    if (!cache.has(key)) cache.set(key, source.tile(level, tile, width));
    const hashes = await cache.get(key)!;
    if (!hashes || hashes.length < width * HASH_SIZE)
      throw new ProofError(`${tilePath(level, tile, width)} is not available`);
    return subtreeHash(hashes, first - tile * TILE_WIDTH, j);
  };
}

export async function inclusionProofFromTiles(
  source: TileSource,
  index: number,
  size: number,
): Promise<Uint8Array[]> {
  const read = nodeReader(source, size);
  const out: Uint8Array[] = [];
  for (const r of inclusionRanges(index, size))
    out.push(foldRange(await Promise.all(perfectNodes(r.start, r.end).map(read))));
  return out;
}

export async function consistencyProofFromTiles(
  source: TileSource,
  oldSize: number,
  newSize: number,
): Promise<Uint8Array[]> {
  const read = nodeReader(source, newSize);
  const out: Uint8Array[] = [];
  for (const r of consistencyRanges(oldSize, newSize))
    out.push(foldRange(await Promise.all(perfectNodes(r.start, r.end).map(read))));
  return out;
}

/** Entry `index` from its bundle in a tree of `size` entries. */
export async function entryFromTiles(source: TileSource, index: number, size: number): Promise<Uint8Array> {
  const b = Math.floor(index / TILE_WIDTH);
  const { full, partialWidth } = tilesAtLevel(size, 0);
  const width = b < full ? TILE_WIDTH : partialWidth;
  const bytes = await source.bundle(b, width);
  const e = bytes && decodeBundle(bytes)?.[index % TILE_WIDTH];
  if (!e) throw new ProofError(`entry ${index} is not in ${entryBundlePath(b, width)}`);
  return e;
}

/** Anything shaped like the WHATWG fetch: the CLI passes globalThis.fetch or an authenticated wrapper. */
export type FetchLike = (
  url: string,
  init?: { headers?: Record<string, string> },
) => Promise<{
  ok: boolean;
  status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}>;

/** A TileSource over HTTP(S) under `prefix` (e.g. `https://warden.example.com/log`). */
export function httpSource(fetch: FetchLike, prefix: string): TileSource & { checkpoint(): Promise<string> } {
  const base = prefix.replace(/\/+$/, "");
  const get = async (path: string): Promise<Uint8Array | undefined> => {
    const res = await fetch(`${base}/${path}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`GET ${base}/${path} answered ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  return {
    async checkpoint() {
      const res = await fetch(`${base}/checkpoint`);
      if (!res.ok) throw new Error(`GET ${base}/checkpoint answered ${res.status}`);
      return res.text();
    },
    async tile(level, index, width) {
      // A partial tile may have been replaced by its full tile, which starts with the same hashes.
      const t =
        (await get(tilePath(level, index, width))) ??
        (width < TILE_WIDTH ? await get(tilePath(level, index)) : undefined);
      return t?.subarray(0, width * HASH_SIZE);
    },
    async bundle(index, width) {
      const b = await get(entryBundlePath(index, width));
      if (b || width === TILE_WIDTH) return b;
      const full = await get(entryBundlePath(index));
      if (!full) return undefined;
      const entries = decodeBundle(full);
      return entries ? encodeBundle(entries.slice(0, width)) : undefined;
    },
  };
}
