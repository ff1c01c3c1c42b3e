/**
 * Incremental maintenance of the tree in tlog-tiles layout. The log only needs its right edge (the
 * partial tile of each level and the partial entry bundle) to append: new leaves fill the level-0
 * partial tile, every tile that becomes full contributes its root to the level above. Each stored tile
 * also carries its inner nodes (see the migration), so any perfect subtree hash is one slice of one row.
 */
import { EMPTY_ROOT, HASH_SIZE, hashChildren, hashLeaves, hashPairs } from "./verify/hash.ts";
import type { PerfectNode } from "./verify/merkle.ts";
import { encodeBundle, TILE_HEIGHT, TILE_WIDTH } from "./verify/tiles.ts";

export interface StoredTile {
  level: number;
  index: number;
  width: number;
  /** Tile hashes then inner levels 1..7: floor(width / 2^j) hashes at inner level j. */
  nodes: Uint8Array;
}

export interface StoredBundle {
  index: number;
  width: number;
  data: Uint8Array;
}

/** What an append needs to know: the size and the partial tile / bundle at the right edge. */
export interface Edge {
  size: number;
  /** Partial tile per level (undefined when that level's hash count is a multiple of 256). */
  tiles: (StoredTile | undefined)[];
  bundle: StoredBundle | undefined;
}

export const emptyEdge = (): Edge => ({ size: 0, tiles: [], bundle: undefined });

/**
 * Byte offset of inner level j in a stored tile. The layout is the same for every width (level j starts
 * where it would in a full tile: 256 + 128 + … hashes in), so SQL can slice one node out of a row
 * without knowing the row's width.
 */
export function innerOffset(j: number): number {
  return (2 * TILE_WIDTH - 2 ** (TILE_HEIGHT + 1 - j)) * HASH_SIZE;
}

/** Levels 0..7 of a full tile: 256 + 128 + … + 2 hashes. */
export const TILE_NODES_BYTES = innerOffset(TILE_HEIGHT);

/** The tile hashes (level 0 of the tile) only, as tlog-tiles serves them. */
export const tileHashes = (t: StoredTile, width = t.width): Uint8Array =>
  t.nodes.subarray(0, width * HASH_SIZE);

/**
 * Builds a tile's nodes from its hashes, reusing the inner nodes of `previous` (the same tile at a smaller
 * width): nodes of complete subtrees never change, so growing a partial tile only hashes the new ones.
 */
export function buildTileNodes(hashes: Uint8Array, width: number, previous?: StoredTile): Uint8Array {
  const out = new Uint8Array(TILE_NODES_BYTES);
  out.set(hashes.subarray(0, width * HASH_SIZE), 0);
  for (let j = 1; j < TILE_HEIGHT; j++) {
    const count = Math.floor(width / 2 ** j);
    const below = innerOffset(j - 1);
    const here = innerOffset(j);
    let start = 0;
    if (previous) {
      const reuse = Math.floor(previous.width / 2 ** j);
      out.set(previous.nodes.subarray(here, here + reuse * HASH_SIZE), here);
      start = reuse;
    }
    if (count > start)
      hashPairs(out, below + 2 * start * HASH_SIZE, count - start, out, here + start * HASH_SIZE);
  }
  return out;
}

/** Hash of a perfect subtree at inner level j (0..7), local index r, of a stored tile; undefined if absent. */
export function tileNode(tile: StoredTile, j: number, r: number): Uint8Array | undefined {
  if (r >= Math.floor(tile.width / 2 ** j)) return undefined;
  const at = innerOffset(j) + r * HASH_SIZE;
  return tile.nodes.subarray(at, at + HASH_SIZE);
}

/** Root of a full tile: the hash of its two inner-level-7 nodes. */
const fullTileRoot = (tile: StoredTile): Uint8Array =>
  hashChildren(tileNode(tile, 7, 0)!, tileNode(tile, 7, 1)!);

/** Which stored tile holds perfect node (height, index), and where inside it. */
export function locateNode(node: PerfectNode): { level: number; tile: number; j: number; r: number } {
  const level = Math.floor(node.height / TILE_HEIGHT);
  const j = node.height % TILE_HEIGHT;
  const perTile = 2 ** (TILE_HEIGHT - j);
  const tile = Math.floor(node.index / perTile);
  return { level, tile, j, r: node.index - tile * perTile };
}

/** Root hash of the tree described by an edge (RFC 9162 MTH of all entries). */
export function rootOfEdge(edge: Edge): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (let level = edge.tiles.length - 1; level >= 0; level--) {
    const t = edge.tiles[level];
    if (!t) continue;
    let at = 0;
    for (let j = TILE_HEIGHT - 1; j >= 0; j--) {
      if (t.width & (1 << j)) {
        chunks.push(tileNode(t, j, at >> j)!);
        at += 1 << j;
      }
    }
  }
  if (chunks.length === 0) return EMPTY_ROOT;
  let acc = chunks[chunks.length - 1]!;
  for (let i = chunks.length - 2; i >= 0; i--) acc = hashChildren(chunks[i]!, acc);
  return acc;
}

export interface AppendResult {
  edge: Edge;
  root: Uint8Array;
  tiles: StoredTile[];
  bundles: StoredBundle[];
}

/**
 * Appends entries to an edge: returns the tiles and bundles to write (upsert) and the new edge and root.
 * With `bundles: false` the caller stores entries itself (Warden keeps them as rows beside their index
 * columns) and no bundle is built.
 */
export function appendToEdge(
  edge: Edge,
  entries: Uint8Array[],
  opts: { bundles?: boolean; leaves?: Uint8Array[] } = {},
): AppendResult {
  const tilesOut: StoredTile[] = [];
  const newTiles = [...edge.tiles];
  if (opts.leaves && opts.leaves.length !== entries.length) throw new Error("one leaf hash per entry");
  let pending: Uint8Array[] = opts.leaves ?? hashLeaves(entries);
  for (let level = 0; pending.length > 0; level++) {
    const existing = newTiles[level];
    const countBefore = Math.floor(edge.size / TILE_WIDTH ** level);
    let tileIndex = Math.floor(countBefore / TILE_WIDTH);
    let previous = existing;
    let width = existing?.width ?? 0;
    let buf = new Uint8Array(TILE_WIDTH * HASH_SIZE);
    if (existing) buf.set(tileHashes(existing), 0);
    const next: Uint8Array[] = [];
    let last: StoredTile | undefined;
    for (let i = 0; i < pending.length; i++) {
      buf.set(pending[i]!, width * HASH_SIZE);
      width++;
      if (width === TILE_WIDTH || i === pending.length - 1) {
        const tile: StoredTile = {
          level,
          index: tileIndex,
          width,
          nodes: buildTileNodes(buf, width, previous),
        };
        tilesOut.push(tile);
        last = tile;
        if (width === TILE_WIDTH) {
          next.push(fullTileRoot(tile));
          tileIndex++;
          width = 0;
          previous = undefined;
          buf = new Uint8Array(TILE_WIDTH * HASH_SIZE);
        }
      }
    }
    newTiles[level] = last && last.width < TILE_WIDTH ? last : undefined;
    pending = next;
  }

  const bundlesOut: StoredBundle[] = [];
  let bundle = edge.bundle;
  let at = opts.bundles === false ? entries.length : 0;
  let bundleIndex = Math.floor(edge.size / TILE_WIDTH);
  while (at < entries.length) {
    const have = bundle?.width ?? 0;
    const take = Math.min(TILE_WIDTH - have, entries.length - at);
    const added = encodeBundle(entries.slice(at, at + take));
    const data = new Uint8Array((bundle?.data.length ?? 0) + added.length);
    if (bundle) data.set(bundle.data, 0);
    data.set(added, bundle?.data.length ?? 0);
    const out: StoredBundle = { index: bundleIndex, width: have + take, data };
    bundlesOut.push(out);
    at += take;
    if (out.width === TILE_WIDTH) {
      bundle = undefined;
      bundleIndex++;
    } else {
      bundle = out;
    }
  }
  const newEdge: Edge = { size: edge.size + entries.length, tiles: newTiles, bundle };
  return { edge: newEdge, root: rootOfEdge(newEdge), tiles: tilesOut, bundles: bundlesOut };
}
