import { describe, expect, it } from "vitest";
import { EMPTY_ROOT, hashChildren, hashLeaf, toHex } from "./hash.ts";
import {
  consistencyRanges,
  createCompactRange,
  type EntryRange,
  foldRange,
  inclusionRanges,
  perfectNodes,
  rootFromInclusionProof,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.ts";
import vectors from "./testdata/rfc6962-vectors.json" with { type: "json" };

const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
const leaves = vectors.leaves.map(hex);

/** MTH straight from the RFC 9162 §2.1.1 definition, as an independent reference. */
function mth(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT;
  if (hashes.length === 1) return hashes[0]!;
  const k = splitPoint(hashes.length);
  return hashChildren(mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}

const leafHashesOf = (n: number) =>
  Array.from({ length: n }, (_, i) => hashLeaf(new TextEncoder().encode(`entry ${i}`)));
const proofFrom = (ranges: EntryRange[], lh: Uint8Array[]) =>
  ranges.map((r) => mth(lh.slice(r.start, r.end)));

describe("RFC 6962 known answers", () => {
  it("hashes each test leaf to the published leaf hash", () => {
    expect(leaves.map((l) => toHex(hashLeaf(l)))).toEqual(vectors.leafHashes);
  });

  it("computes the published root for every tree size from 0 to 8", () => {
    const range = createCompactRange();
    expect(toHex(range.root())).toBe(vectors.roots[0]);
    leaves.forEach((leaf, i) => {
      range.append(hashLeaf(leaf));
      expect(toHex(range.root())).toBe(vectors.roots[i + 1]);
    });
  });

  it("generates and verifies the published inclusion proofs", () => {
    const lh = leaves.map(hashLeaf);
    for (const v of vectors.inclusion) {
      const proof = proofFrom(inclusionRanges(v.index, v.size), lh.slice(0, v.size));
      expect(proof.map(toHex)).toEqual(v.proof);
      expect(verifyInclusion(v.index, v.size, lh[v.index]!, proof, hex(vectors.roots[v.size]!))).toBe(true);
    }
  });

  it("generates and verifies the published consistency proofs", () => {
    const lh = leaves.map(hashLeaf);
    for (const v of vectors.consistency) {
      const proof = proofFrom(consistencyRanges(v.oldSize, v.newSize), lh.slice(0, v.newSize));
      expect(proof.map(toHex)).toEqual(v.proof);
      const ok = verifyConsistency(
        v.oldSize,
        v.newSize,
        hex(vectors.roots[v.oldSize]!),
        hex(vectors.roots[v.newSize]!),
        proof,
      );
      expect(ok).toBe(true);
    }
  });
});

describe("inclusion proof verification", () => {
  const lh = leaves.map(hashLeaf);
  const root = (n: number) => hex(vectors.roots[n]!);
  const some = hex("abacaba000000000000000000000000000000000000000000060061e00123456");

  it("rejects every corruption of a known-good proof", () => {
    for (const v of vectors.inclusion.filter((x) => x.proof.length > 0)) {
      const proof = v.proof.map(hex);
      const leaf = lh[v.index]!;
      const bad: [number, number, Uint8Array, Uint8Array[], Uint8Array][] = [
        [v.index + 1, v.size, leaf, proof, root(v.size)],
        [v.index, v.size * 2, leaf, proof, root(v.size)],
        [v.index, Math.floor(v.size / 2), leaf, proof, root(v.size)],
        [v.index, v.size, hashLeaf(new Uint8Array([9])), proof, root(v.size)],
        [v.index, v.size, leaf, proof, EMPTY_ROOT],
        [v.index, v.size, leaf, [...proof, root(v.size)], root(v.size)],
        [v.index, v.size, leaf, [root(v.size), ...proof], root(v.size)],
        [v.index, v.size, leaf, proof.slice(0, -1), root(v.size)],
        [v.index, v.size, leaf, [proof[0]!, some, ...proof.slice(1)], root(v.size)],
      ];
      for (let i = 0; i < proof.length; i++) {
        const flipped = proof.map((p) => new Uint8Array(p));
        flipped[i]![0]! ^= 8;
        bad.push([v.index, v.size, leaf, flipped, root(v.size)]);
      }
      for (const args of bad) expect(verifyInclusion(...args)).toBe(false);
    }
  });

  it("rejects an index outside the tree and hashes of the wrong length", () => {
    expect(verifyInclusion(0, 0, some, [], EMPTY_ROOT)).toBe(false);
    expect(verifyInclusion(2, 1, some, [], some)).toBe(false);
    expect(verifyInclusion(0, 1, new Uint8Array(0), [], new Uint8Array(0))).toBe(false);
    expect(() => rootFromInclusionProof(0, 1, new Uint8Array(3), [])).toThrow(/32/);
  });
});

describe("consistency proof verification", () => {
  const r1 = new TextEncoder().encode("don't care 1");
  const r2 = new TextEncoder().encode("don't care 2");

  it("accepts only the trivially consistent cases without a proof", () => {
    expect(verifyConsistency(0, 0, r1, r1, [])).toBe(true);
    expect(verifyConsistency(0, 1, r1, r2, [])).toBe(true);
    expect(verifyConsistency(1, 1, r2, r2, [])).toBe(true);
    expect(verifyConsistency(0, 0, r1, r2, [])).toBe(false);
    expect(verifyConsistency(1, 0, r1, r2, [])).toBe(false);
    expect(verifyConsistency(2, 1, r1, r2, [])).toBe(false);
    expect(verifyConsistency(1, 2, r1, r2, [])).toBe(false);
    expect(verifyConsistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])).toBe(false);
  });

  it("rejects every corruption of a known-good proof", () => {
    for (const v of vectors.consistency.filter((x) => x.proof.length > 0)) {
      const proof = v.proof.map(hex);
      const a = hex(vectors.roots[v.oldSize]!);
      const b = hex(vectors.roots[v.newSize]!);
      const bad: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
        [v.oldSize - 1, v.newSize, a, b, proof],
        [v.oldSize + 1, v.newSize, a, b, proof],
        [v.oldSize ^ 2, v.newSize, a, b, proof],
        [v.oldSize, v.newSize * 2, a, b, proof],
        [v.oldSize, Math.floor(v.newSize / 2), a, b, proof],
        [v.oldSize, v.newSize, b, a, proof],
        [v.oldSize, v.newSize, a, b, []],
        [v.oldSize, v.newSize, a, b, [...proof, a]],
        [v.oldSize, v.newSize, a, b, [a, ...proof]],
        [v.oldSize, v.newSize, a, b, [proof[0]!, ...proof]],
        [v.oldSize, v.newSize, a, b, proof.slice(0, -1)],
      ];
      for (let i = 0; i < proof.length; i++) {
        const flipped = proof.map((p) => new Uint8Array(p));
        flipped[i]![0]! ^= 16;
        bad.push([v.oldSize, v.newSize, a, b, flipped]);
      }
      for (const args of bad) expect(verifyConsistency(...args)).toBe(false);
    }
  });
});

describe("proof generation agrees with the RFC definition", () => {
  const lh = leafHashesOf(70);

  it("folds perfect subtrees into the same hash as MTH for every range a proof uses", () => {
    for (let size = 1; size <= 70; size++) {
      for (let i = 0; i < size; i++) {
        for (const r of inclusionRanges(i, size)) {
          const nodes = perfectNodes(r.start, r.end).map((n) =>
            mth(lh.slice(n.index * 2 ** n.height, (n.index + 1) * 2 ** n.height)),
          );
          expect(toHex(foldRange(nodes))).toBe(toHex(mth(lh.slice(r.start, r.end))));
        }
      }
    }
  });

  it("produces inclusion and consistency proofs that verify for all sizes up to 70", () => {
    for (let size = 1; size <= 70; size++) {
      const root = mth(lh.slice(0, size));
      for (let i = 0; i < size; i++) {
        expect(verifyInclusion(i, size, lh[i]!, proofFrom(inclusionRanges(i, size), lh), root)).toBe(true);
      }
      for (let old = 0; old <= size; old++) {
        const proof = proofFrom(consistencyRanges(old, size), lh);
        expect(verifyConsistency(old, size, mth(lh.slice(0, old)), root, proof)).toBe(true);
      }
    }
  });

  it("keeps a compact range equal to MTH while appending", () => {
    const range = createCompactRange();
    for (let i = 0; i < lh.length; i++) {
      range.append(lh[i]!);
      expect(toHex(range.root())).toBe(toHex(mth(lh.slice(0, i + 1))));
    }
  });
});
