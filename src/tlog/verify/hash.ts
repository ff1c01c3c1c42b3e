/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing with SHA-256: a leaf is H(0x00 ‖ entry), an interior node is
 * H(0x01 ‖ left ‖ right), the empty tree is H(""). hash-wasm is used instead of node:crypto because one
 * tree needs ~2 hashes per entry and its reusable WebAssembly hasher is about twice as fast per call
 * (no per-call object allocation).
 */
import { createSHA256 } from "hash-wasm";

export const HASH_SIZE = 32;

const hasher = await createSHA256();
const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

export function sha256(data: Uint8Array): Uint8Array {
  hasher.init();
  hasher.update(data);
  return hasher.digest("binary");
}

/** RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 ‖ d(0)). */
export function hashLeaf(entry: Uint8Array): Uint8Array {
  hasher.init();
  hasher.update(LEAF_PREFIX);
  hasher.update(entry);
  return hasher.digest("binary");
}

/** RFC 9162 §2.1.1: SHA-256(0x01 ‖ MTH(left) ‖ MTH(right)). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  hasher.init();
  hasher.update(NODE_PREFIX);
  hasher.update(left);
  hasher.update(right);
  return hasher.digest("binary");
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
