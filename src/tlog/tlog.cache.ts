/**
 * Tiles kept in memory for proofs. A stored tile only ever grows (a partial tile is rewritten wider, a
 * full one never changes), and the nodes over its first `width` hashes never change: a cached row serves
 * every node it covers, and a node past its width is read again. The appender adds the tiles it wrote
 * once their transaction has committed, so proofs for recent entries need no query at all. Bounded
 * (least recently used out): by default 2,048 rows of ~16 kB, the tiles of the newest ~500,000 entries.
 */
import type { StoredTile } from "./tlog.tree.ts";

export interface TileCache {
  get(level: number, index: number): StoredTile | undefined;
  put(tile: StoredTile): void;
  /** Forgets the tiles of one level in [fromIndex, toIndex): those retention deleted. */
  drop(level: number, fromIndex: number, toIndex: number): void;
}

export function createTileCache(maxTiles = 2048): TileCache {
  const tiles = new Map<string, StoredTile>();
  const key = (level: number, index: number) => `${level}/${index}`;
  return {
    get(level, index) {
      const k = key(level, index);
      const t = tiles.get(k);
      if (t) {
        tiles.delete(k);
        tiles.set(k, t);
      }
      return t;
    },
    put(tile) {
      const k = key(tile.level, tile.index);
      const old = tiles.get(k);
      if (old && old.width > tile.width) return;
      tiles.delete(k);
      tiles.set(k, tile);
      while (tiles.size > maxTiles) tiles.delete(tiles.keys().next().value as string);
    },
    drop(level, fromIndex, toIndex) {
      for (const t of [...tiles.values()])
        if (t.level === level && t.index >= fromIndex && t.index < toIndex)
          tiles.delete(key(t.level, t.index));
    },
  };
}
