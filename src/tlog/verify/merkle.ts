/**
 * Merkle tree algorithms of RFC 9162 §2.1 (same tree as RFC 6962): which subtree hashes make up an
 * inclusion or consistency proof (§2.1.3.1, §2.1.4.1), and how a verifier checks them (§2.1.3.2,
 * §2.1.4.2). Sizes and indices are JavaScript numbers: exact up to 2^53 entries, which is far beyond any
 * log this code will see; arithmetic uses division rather than 32-bit bit operators for that reason.
 */
import { EMPTY_ROOT, equalBytes, HASH_SIZE, hashChildren } from "./hash.ts";

/** A half-open range of entries [start, end) whose Merkle Tree Hash a proof step needs. */
export interface EntryRange {
  start: number;
  end: number;
}

/** A perfect (complete, aligned) subtree: 2^height leaves starting at index * 2^height. */
export interface PerfectNode {
  height: number;
  index: number;
}

export class ProofError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProofError";
  }
}

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}

/** The largest power of two strictly smaller than n (n > 1), the split point k of RFC 9162 §2.1.1. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]): the ranges whose hashes form the inclusion proof, leaf side first. */
export function inclusionRanges(index: number, size: number): EntryRange[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new ProofError(`index ${index} is not in a tree of size ${size}`);
  }
  const out: EntryRange[] = [];
  const walk = (lo: number, hi: number): void => {
    const n = hi - lo;
    if (n === 1) return;
    const k = splitPoint(n);
    if (index - lo < k) {
      walk(lo, lo + k);
      out.push({ start: lo + k, end: hi });
    } else {
      walk(lo + k, hi);
      out.push({ start: lo, end: lo + k });
    }
  };
  walk(0, size);
  return out;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), as entry ranges. */
export function consistencyRanges(oldSize: number, newSize: number): EntryRange[] {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) {
    throw new ProofError(`no consistency proof from size ${oldSize} to size ${newSize}`);
  }
  if (oldSize === 0 || oldSize === newSize) return [];
  const out: EntryRange[] = [];
  const sub = (m: number, lo: number, hi: number, whole: boolean): void => {
    const n = hi - lo;
    if (m === n) {
      if (!whole) out.push({ start: lo, end: hi });
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, lo, lo + k, whole);
      out.push({ start: lo + k, end: hi });
    } else {
      sub(m - k, lo + k, hi, false);
      out.push({ start: lo, end: lo + k });
    }
  };
  sub(oldSize, 0, newSize, true);
  return out;
}

/**
 * The perfect subtrees that tile [start, end), left to right. For the ranges used in RFC 9162 proofs
 * (start aligned to a power of two at least end - start) this is the binary decomposition of the width.
 * Works for any range: greedily takes the largest aligned subtree that fits.
 */
export function perfectNodes(start: number, end: number): PerfectNode[] {
  const out: PerfectNode[] = [];
  let at = start;
  while (at < end) {
    let height = 0;
    let width = 1;
    while (at % (width * 2) === 0 && at + width * 2 <= end) {
      width *= 2;
      height++;
    }
    out.push({ height, index: at / width });
    at += width;
  }
  return out;
}

/**
 * MTH of a range from the hashes of its perfect subtrees (left to right): RFC 9162 splits every range at
 * its largest power of two, so the left part is always perfect and the hash folds from the right.
 */
export function foldRange(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT;
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i]!, acc);
  return acc;
}

function checkHash(name: string, h: Uint8Array): void {
  if (h.length !== HASH_SIZE) throw new ProofError(`${name} is ${h.length} bytes, expected ${HASH_SIZE}`);
}

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or a ProofError when it cannot be valid. */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: Uint8Array[],
): Uint8Array {
  if (!(index >= 0 && index < size)) throw new ProofError(`index ${index} is not in a tree of size ${size}`);
  checkHash("leaf hash", leafHash);
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    checkHash("proof hash", p);
    if (sn === 0) throw new ProofError("inclusion proof is longer than the tree is deep");
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError("inclusion proof is shorter than the tree is deep");
  return r;
}

/** RFC 9162 §2.1.3.2 in full: true only when the proof leads from the leaf hash to the root. */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    return equalBytes(rootFromInclusionProof(index, size, leafHash, proof), root);
  } catch (e) {
    if (e instanceof ProofError) return false;
    throw e;
  }
}

/** RFC 9162 §2.1.4.2: throws ProofError with the reason when the proof does not show consistency. */
export function checkConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: Uint8Array[],
): void {
  if (!(oldSize >= 0 && oldSize <= newSize))
    throw new ProofError(`size ${oldSize} is larger than ${newSize}`);
  for (const p of proof) checkHash("proof hash", p);
  if (oldSize === newSize) {
    if (proof.length > 0) throw new ProofError("a proof between equal sizes must be empty");
    if (!equalBytes(oldRoot, newRoot)) throw new ProofError("roots of equal sizes differ");
    return;
  }
  if (oldSize === 0) {
    // Every tree extends the empty tree (RFC 9162 §2.1.4 needs no proof for it).
    if (proof.length > 0) throw new ProofError("a proof from the empty tree must be empty");
    return;
  }
  if (proof.length === 0) throw new ProofError("consistency proof is empty");
  const path = [...proof];
  // Step 2: if the old size is an exact power of two, its root is the first node of the path.
  if (isPowerOfTwo(oldSize)) path.unshift(oldRoot);
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofError("consistency proof is too long");
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError("consistency proof is too short");
  if (!equalBytes(fr, oldRoot)) throw new ProofError("consistency proof does not lead to the old root");
  if (!equalBytes(sr, newRoot)) throw new ProofError("consistency proof does not lead to the new root");
}

export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: Uint8Array[],
): boolean {
  try {
    checkConsistency(oldSize, newSize, oldRoot, newRoot, proof);
    return true;
  } catch (e) {
    if (e instanceof ProofError) return false;
    throw e;
  }
}

/**
 * A compact range over [0, size): the hashes of the perfect subtrees of the binary decomposition of size,
 * left to right. Appending one leaf hash costs amortised O(1) hashes; the root at any moment is their fold.
 * Used to recompute a root over millions of entries with O(log n) memory.
 */
export interface CompactRange {
  readonly size: number;
  append(leafHash: Uint8Array): void;
  root(): Uint8Array;
}

export function createCompactRange(): CompactRange {
  const stack: Uint8Array[] = [];
  let size = 0;
  return {
    get size() {
      return size;
    },
    append(leafHash) {
      let h = leafHash;
      // Merge while the new subtree completes a pair: one merge per trailing 1-bit of the old size.
      let s = size;
      while (isOdd(s)) {
        h = hashChildren(stack.pop()!, h);
        s = half(s);
      }
      stack.push(h);
      size++;
    },
    root() {
      return foldRange(stack);
    },
  };
}
