import { describe, expect, it } from "vitest";
import { appendToEdge, type Edge, emptyEdge, locateNode, type StoredTile, tileNode } from "./tlog.tree.ts";
import { hashLeaf, toHex } from "./verify/hash.ts";
import { createCompactRange, perfectNodes } from "./verify/merkle.ts";
import { decodeBundle } from "./verify/tiles.ts";

const entry = (i: number) => new TextEncoder().encode(`{"event":${i}}`);

/** Appends `total` entries in batches of the given sizes, keeping every written tile (last write wins). */
function grow(batches: number[]) {
  let edge: Edge = emptyEdge();
  const tiles = new Map<string, StoredTile>();
  const bundles = new Map<number, Uint8Array>();
  const roots: string[] = [];
  let n = 0;
  for (const b of batches) {
    const r = appendToEdge(
      edge,
      Array.from({ length: b }, (_, k) => entry(n + k)),
    );
    n += b;
    for (const t of r.tiles) tiles.set(`${t.level}/${t.index}`, t);
    for (const x of r.bundles) bundles.set(x.index, x.data);
    edge = r.edge;
    roots.push(toHex(r.root));
  }
  return { edge, tiles, bundles, roots, n };
}

describe("incremental tile maintenance", () => {
  it("gives the RFC 9162 root after every batch, whatever the batch sizes", () => {
    const batches = [1, 2, 253, 1, 300, 65_536 - 557, 1, 700];
    const { roots } = grow(batches);
    const range = createCompactRange();
    let n = 0;
    batches.forEach((b, i) => {
      for (let k = 0; k < b; k++) range.append(hashLeaf(entry(n + k)));
      n += b;
      expect(roots[i]).toBe(toHex(range.root()));
    });
  });

  it("stores every perfect subtree hash where locateNode says", () => {
    const { tiles, n } = grow([1000, 3000, 700]);
    const leaves = Array.from({ length: n }, (_, i) => hashLeaf(entry(i)));
    const mth = (start: number, end: number) => {
      const r = createCompactRange();
      for (let i = start; i < end; i++) r.append(leaves[i]!);
      return toHex(r.root());
    };
    for (let height = 0; 2 ** height <= n; height++) {
      const count = Math.floor(n / 2 ** height);
      for (const index of [0, 1, Math.floor(count / 2), count - 1].filter((i) => i < count)) {
        const loc = locateNode({ height, index });
        const node = tileNode(tiles.get(`${loc.level}/${loc.tile}`)!, loc.j, loc.r);
        expect(node && toHex(node)).toBe(mth(index * 2 ** height, (index + 1) * 2 ** height));
      }
    }
    expect(perfectNodes(0, n).length).toBeGreaterThan(0);
  });

  it("packs entries into bundles of 256 and keeps the partial one growing", () => {
    const { bundles, edge } = grow([100, 200, 10]);
    expect([...bundles.keys()]).toEqual([0, 1]);
    expect(decodeBundle(bundles.get(0)!)!.length).toBe(256);
    expect(decodeBundle(bundles.get(1)!)!.map((e) => new TextDecoder().decode(e))[0]).toBe('{"event":256}');
    expect(edge.bundle?.width).toBe(54);
  });
});
