/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing with SHA-256: a leaf is H(0x00 ‖ entry), an interior node is
 * H(0x01 ‖ left ‖ right), the empty tree is H(""). A tree needs about two hashes per entry, so the
 * per-call cost matters: node:crypto's one-shot `hash()` (no Hash object per call, and OpenSSL uses the
 * CPU's SHA extensions) measured 1.4× faster than a reused WebAssembly hasher (hash-wasm) on this
 * machine, and far faster than `createHash()` per call. Prefix and input are copied into one reusable
 * buffer so each hash is a single native call.
 */
import { hash } from "node:crypto";
import { sha256Many } from "./sha256x4.ts";

export const HASH_SIZE = 32;

const leafBuf = Buffer.alloc(1 + 0xffff);
const nodeBuf = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeBuf[0] = 0x01;

// A plain Uint8Array view (not a Buffer), so hashes compare equal however they were made.
const digest = (data: Uint8Array): Uint8Array => {
  const b = hash("sha256", data, "buffer") as unknown as Buffer;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

export function sha256(data: Uint8Array): Uint8Array {
  return digest(data);
}

/** RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 ‖ d(0)). */
export function hashLeaf(entry: Uint8Array): Uint8Array {
  if (entry.length >= leafBuf.length) {
    const b = Buffer.alloc(entry.length + 1);
    b.set(entry, 1);
    return digest(b);
  }
  leafBuf[0] = 0x00;
  leafBuf.set(entry, 1);
  return digest(leafBuf.subarray(0, entry.length + 1));
}

/** RFC 9162 §2.1.1: SHA-256(0x01 ‖ MTH(left) ‖ MTH(right)). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeBuf.set(left, 1);
  nodeBuf.set(right, 1 + HASH_SIZE);
  return digest(nodeBuf);
}

/**
 * Bulk forms for verifying many entries, writing digests into the caller's buffers.
 * `hashLeafInPlace`: the leaf hash of the `len`-byte entry at bytes[at + 1…], where bytes[at] is scratch
 * space (in a tlog-tiles bundle, the low byte of the entry's length): it is set to the 0x00 prefix for
 * the call and restored, so the entry is hashed without being copied.
 */
export function hashLeafInPlace(
  bytes: Uint8Array,
  at: number,
  len: number,
  out: Uint8Array,
  outAt: number,
): void {
  const saved = bytes[at]!;
  bytes[at] = 0x00;
  out.set(hash("sha256", bytes.subarray(at, at + 1 + len), "buffer") as unknown as Buffer, outAt);
  bytes[at] = saved;
}

/** hashChildren of the 64 bytes at pair[at…] (left ‖ right), written to out[outAt…] (may overlap pair). */
export function hashPairInto(pair: Uint8Array, at: number, out: Uint8Array, outAt: number): void {
  nodeBuf.set(pair.subarray(at, at + 2 * HASH_SIZE), 1);
  out.set(hash("sha256", nodeBuf, "buffer") as unknown as Buffer, outAt);
}

/** Leaf hashes of many entries at once (same as hashLeaf on each, four at a time; see sha256x4.ts). */
export function hashLeaves(entries: Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (const e of entries) total += e.length;
  const src = new Uint8Array(total);
  const offsets = new Int32Array(entries.length);
  const lengths = new Int32Array(entries.length);
  let at = 0;
  entries.forEach((e, i) => {
    src.set(e, at);
    offsets[i] = at;
    lengths[i] = e.length;
    at += e.length;
  });
  const out = new Uint8Array(entries.length * HASH_SIZE);
  sha256Many(src, offsets, lengths, entries.length, 0x00, out, 0);
  return entries.map((_, i) => out.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
}

/** Leaf hashes of `count` entries that lie in one buffer at offsets[i], lengths[i] (no copying). */
export function hashLeavesAt(
  src: Uint8Array,
  offsets: Int32Array,
  lengths: Int32Array,
  count: number,
): Uint8Array[] {
  const out = new Uint8Array(count * HASH_SIZE);
  sha256Many(src, offsets, lengths, count, 0x00, out, 0);
  const leaves = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) leaves[i] = out.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  return leaves;
}

/**
 * Node hashes of `count` consecutive pairs (left ‖ right, 64 bytes each) starting at src[at…], written
 * consecutively to out[outAt…] (out may be src when outAt ≤ at).
 */
export function hashPairs(src: Uint8Array, at: number, count: number, out: Uint8Array, outAt: number): void {
  const offsets = new Int32Array(count);
  for (let i = 0; i < count; i++) offsets[i] = at + 2 * i * HASH_SIZE;
  sha256Many(src, offsets, new Int32Array(count).fill(2 * HASH_SIZE), count, 0x01, out, outAt);
}

/** MTH({}) = SHA-256() for the empty tree. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const toBase64 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
export const toHex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** Strict standard base64 (RFC 4648 §4): rejects characters outside the alphabet and bad padding. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, "base64"));
  return toBase64(bytes) === text ? bytes : undefined;
}
