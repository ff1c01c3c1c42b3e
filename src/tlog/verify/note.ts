/**
 * C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 signatures, and the verifier key string
 * `name+hash+base64(0x01 ‖ public key)` used by Go's golang.org/x/mod/sumdb/note and every tlog tool.
 */
import { createPublicKey, verify as cryptoVerify } from "node:crypto";
import { fromBase64, sha256, toBase64 } from "./hash.ts";

/** Signature type byte 0x01: Ed25519 (signed-note §Signature types). */
export const ED25519_TYPE = 0x01;
/** Verifiers MUST accept at least 16 signatures; we cap what we read to keep parsing bounded. */
const MAX_SIGNATURES = 100;

export class NoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoteError";
  }
}

export interface NoteVerifier {
  name: string;
  keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSignature {
  name: string;
  keyId: number;
  /** The signature bytes after the 4-byte key id. */
  signature: Uint8Array;
}

export interface Note {
  /** The signed text, ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

/** Key names are non-empty and contain no Unicode spaces and no '+'. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !hasControl(name);
}

function hasControl(s: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the spec forbids exactly these characters.
  return /[\u0000-\u0009\u000b-\u001f\u007f]/.test(s);
}

/** key ID = SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4], big-endian uint32. */
export function keyIdFor(name: string, type: number, publicKey: Uint8Array): number {
  const nameBytes = new TextEncoder().encode(name);
  const buf = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  buf.set(nameBytes, 0);
  buf[nameBytes.length] = 0x0a;
  buf[nameBytes.length + 1] = type;
  buf.set(publicKey, nameBytes.length + 2);
  const h = sha256(buf);
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, "0");

export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError(`invalid key name ${JSON.stringify(name)}`);
  if (publicKey.length !== 32) throw new NoteError("an Ed25519 public key is 32 bytes");
  const data = new Uint8Array(33);
  data[0] = ED25519_TYPE;
  data.set(publicKey, 1);
  return `${name}+${hex8(keyIdFor(name, ED25519_TYPE, publicKey))}+${toBase64(data)}`;
}

export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const key = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") },
    format: "jwk",
  });
  return cryptoVerify(null, message, key, signature);
}

/** Parses `name+hash+base64(0x01 ‖ key)`, checking that hash is the key id the spec derives. */
export function parseVerifierKey(vkey: string): NoteVerifier & { publicKey: Uint8Array } {
  const m = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey.trim());
  if (!m) throw new NoteError("verifier key must look like name+hash+base64key");
  const [, name, hash, b64] = m as unknown as [string, string, string, string];
  if (!isValidKeyName(name)) throw new NoteError("verifier key has an invalid name");
  const data = fromBase64(b64);
  if (data?.length !== 33 || data[0] !== ED25519_TYPE) {
    throw new NoteError("verifier key is not an Ed25519 key (type 0x01 and 32 bytes)");
  }
  const publicKey = data.slice(1);
  const keyId = keyIdFor(name, ED25519_TYPE, publicKey);
  if (hex8(keyId) !== hash) throw new NoteError("verifier key hash does not match its name and key");
  return {
    name,
    keyId,
    publicKey,
    verify: (message, signature) => ed25519Verify(publicKey, message, signature),
  };
}

/** Splits a signed note into text and signature lines without checking any signature. */
export function parseNote(note: string): Note {
  if (hasControl(note)) throw new NoteError("note contains control characters");
  if (note.includes("\uFFFD")) throw new NoteError("note is not valid UTF-8");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("note has no blank line before its signatures");
  const text = note.slice(0, split + 1);
  const sigBlock = note.slice(split + 2);
  if (!sigBlock.endsWith("\n")) throw new NoteError("note does not end in a newline");
  const lines = sigBlock.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new NoteError("note has too many signatures");
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m) throw new NoteError("malformed signature line");
    const [, name, b64] = m as unknown as [string, string, string];
    const raw = fromBase64(b64);
    if (!isValidKeyName(name) || !raw || raw.length < 5) throw new NoteError("malformed signature line");
    const keyId = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
    signatures.push({ name, keyId, signature: raw.slice(4) });
  }
  return { text, signatures };
}

/**
 * Opens a note: returns its text when a signature from a known key verifies. Unknown signatures are
 * ignored; a known key's bad signature rejects the whole note (as the spec says clients SHOULD).
 */
export function openNote(note: string, verifiers: NoteVerifier[]): Note & { verifiedBy: string[] } {
  const parsed = parseNote(note);
  const message = new TextEncoder().encode(parsed.text);
  const verifiedBy: string[] = [];
  for (const sig of parsed.signatures) {
    const v = verifiers.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!v) continue;
    if (!v.verify(message, sig.signature)) throw new NoteError(`signature by ${sig.name} does not verify`);
    verifiedBy.push(sig.name);
  }
  if (verifiedBy.length === 0) throw new NoteError("note has no signature from a trusted key");
  return { ...parsed, verifiedBy };
}

export function formatSignatureLine(name: string, keyId: number, signature: Uint8Array): string {
  const raw = new Uint8Array(4 + signature.length);
  new DataView(raw.buffer).setUint32(0, keyId);
  raw.set(signature, 4);
  return `\u2014 ${name} ${toBase64(raw)}\n`;
}
