import { hash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BUNDLE_INVALID, checkBundles } from "./bundle-hash.ts";
import { hashChildren, hashLeaf } from "./hash.ts";
import { sha256Many } from "./sha256x4.ts";
import { encodeBundle } from "./tiles.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const nodeSha = (prefix: number, m: Uint8Array) =>
  hash("sha256", prefix >= 0 ? Buffer.concat([Buffer.from([prefix]), m]) : m, "hex");

describe("SHA-256 of many messages, four lanes at a time", () => {
  const src = randomBytes(70_000);

  it("agrees with node:crypto for every length up to 300 bytes, the block edges beyond, and the largest entry", () => {
    const lengths = [...Array.from({ length: 301 }, (_, i) => i), 447, 448, 511, 1000, 4095, 65_535];
    const offsets = lengths.map((_, i) => (i * 37) % 1000);
    for (const prefix of [-1, 0x00, 0x01]) {
      const out = new Uint8Array(lengths.length * 32);
      sha256Many(src, offsets, lengths, lengths.length, prefix, out, 0);
      lengths.forEach((len, i) => {
        const m = src.subarray(offsets[i]!, offsets[i]! + len);
        expect(hex(out.subarray(32 * i, 32 * i + 32)), `prefix ${prefix}, ${len} bytes`).toBe(
          nodeSha(prefix, m),
        );
      });
    }
  });

  it("gives the FIPS 180-4 example digests", () => {
    const out = new Uint8Array(64);
    const abc = Buffer.from("abc");
    sha256Many(abc, [0, 0], [3, 0], 2, -1, out, 0);
    expect(hex(out.subarray(0, 32))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(out.subarray(32))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("folds a tree level in place, as RFC 6962 node hashes", () => {
    const level = new Uint8Array(randomBytes(8 * 32));
    const expected = [0, 1, 2, 3].map((i) =>
      hex(hashChildren(level.slice(64 * i, 64 * i + 32), level.slice(64 * i + 32, 64 * i + 64))),
    );
    sha256Many(level, [0, 64, 128, 192], [64, 64, 64, 64], 4, 0x01, level, 0);
    expect([0, 1, 2, 3].map((i) => hex(level.subarray(32 * i, 32 * i + 32)))).toEqual(expected);
  });
});

describe("checking entry bundles against their tiles", () => {
  const entries = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) =>
      new TextEncoder().encode(`{"entry":${from + i},"pad":"${"x".repeat(i % 90)}"}`),
    );
  const tileOf = (es: Uint8Array[]) => {
    const t = new Uint8Array(es.length * 32);
    for (const [i, e] of es.entries()) t.set(hashLeaf(e), 32 * i);
    return t;
  };
  const rootOf = (leaves: Uint8Array[]): Uint8Array =>
    leaves.length === 1
      ? leaves[0]!
      : hashChildren(rootOf(leaves.slice(0, leaves.length / 2)), rootOf(leaves.slice(leaves.length / 2)));

  it("matches full bundles to their tiles and returns the RFC 9162 root of each", () => {
    const a = entries(256);
    const b = entries(256, 256);
    const c = checkBundles({
      first: 0,
      widths: [256, 256],
      bundles: [encodeBundle(a), encodeBundle(b)],
      tiles: [tileOf(a), tileOf(b)],
    });
    expect(c.counts).toEqual([256, 256]);
    expect(c.match).toEqual([true, true]);
    expect(hex(c.roots.subarray(0, 32))).toBe(hex(rootOf(a.map(hashLeaf))));
    expect(hex(c.roots.subarray(32))).toBe(hex(rootOf(b.map(hashLeaf))));
  });

  it("hands back the leaves of a bundle whose entry changed, a partial bundle, and flags bad bytes", () => {
    const a = entries(256);
    const tile = tileOf(a);
    a[17] = new TextEncoder().encode('{"entry":17,"pad":"changed"}');
    const partial = entries(100, 256);
    const c = checkBundles({
      first: 0,
      widths: [256, 100, 256],
      bundles: [encodeBundle(a), encodeBundle(partial), new Uint8Array([0, 9, 1])],
      tiles: [tile, tileOf(partial), tile],
    });
    expect(c.match).toEqual([false, true, false]);
    expect(c.counts).toEqual([256, 100, BUNDLE_INVALID]);
    const leaves = c.leaves[0]!;
    expect(hex(leaves.subarray(17 * 32, 18 * 32))).toBe(hex(hashLeaf(a[17]!)));
    expect(hex(leaves.subarray(16 * 32, 17 * 32))).toBe(hex(tile.subarray(16 * 32, 17 * 32)));
  });
});
