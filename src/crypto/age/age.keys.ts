/**
 * Parsing and validation of age recipients and identities. Browser-safe: no Node imports.
 *
 * Recipients: native X25519 (`age1…`, Bech32) and SSH Ed25519 public keys (`ssh-ed25519 AAAA… [comment]`).
 * Identities: `AGE-SECRET-KEY-1…` (one per line in an identity file, `#` comments allowed) and
 * unencrypted OpenSSH Ed25519 private keys (`-----BEGIN OPENSSH PRIVATE KEY-----`).
 */
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64, base64nopad, bech32 } from "@scure/base";
import type { Identity, Recipient } from "age-encryption";
import { ageError } from "./age.errors.ts";
import { sshEd25519Identity, sshEd25519Recipient, sshEd25519Wire } from "./age.ssh.ts";

export type AgeKeyType = "X25519" | "ssh-ed25519";

export interface AgeRecipient {
  readonly type: AgeKeyType;
  /** Canonical text: `age1…` in lower case, or `ssh-ed25519 <base64>` without the comment. */
  readonly text: string;
  /** Raw public key: the X25519 u-coordinate, or the Ed25519 point. */
  readonly publicKey: Uint8Array;
  /** What a person compares: the `age1…` string itself, or OpenSSH's `SHA256:…` fingerprint. */
  readonly fingerprint: string;
  /** The OpenSSH comment, if any (ssh-ed25519 only). */
  readonly comment?: string;
  /** The typage Recipient that wraps a file key for this key. */
  readonly wrapper: Recipient | string;
}

export interface AgeIdentity {
  readonly type: AgeKeyType;
  /** The matching recipient, canonical text (safe to show: it is the public half). */
  readonly recipient: string;
  /** The typage Identity (or identity string typage parses itself) that unwraps file keys. */
  readonly unwrapper: Identity | string;
}

/** A fixed clamped scalar: X25519 with any clamped scalar is all-zero exactly for low-order points. */
const PROBE_SCALAR = new Uint8Array(32).fill(0x42);

/** True when X25519 with this u-coordinate yields the all-zero shared secret (low-order point). */
export function isLowOrderX25519(u: Uint8Array): boolean {
  try {
    x25519.scalarMult(PROBE_SCALAR, u);
    return false;
  } catch {
    return true;
  }
}

const X25519_RECIPIENT_HRP = "age";
const X25519_IDENTITY_HRP = "age-secret-key-";

function invalidRecipient(message: string) {
  return ageError("invalid_recipient", message);
}
function invalidIdentity(message: string) {
  return ageError("invalid_identity", message);
}

/** Encodes a 32-byte X25519 public key as an `age1…` recipient. */
export function encodeX25519Recipient(publicKey: Uint8Array): string {
  return bech32.encode(X25519_RECIPIENT_HRP, bech32.toWords(publicKey), false);
}

/** Encodes a 32-byte X25519 secret as an `AGE-SECRET-KEY-1…` identity. */
export function encodeX25519Identity(secret: Uint8Array): string {
  return bech32.encode(X25519_IDENTITY_HRP, bech32.toWords(secret), false).toUpperCase();
}

function decodeBech32(text: string, hrp: string): Uint8Array | null {
  try {
    const { prefix, words } = bech32.decode(text as `${string}1${string}`, false);
    if (prefix.toLowerCase() !== hrp) return null;
    const bytes = bech32.fromWords(words);
    return bytes.length === 32 ? bytes : null;
  } catch {
    return null;
  }
}

function parseX25519Recipient(text: string): AgeRecipient {
  const publicKey = decodeBech32(text, X25519_RECIPIENT_HRP);
  if (!publicKey) {
    throw invalidRecipient(
      "Not a valid age recipient: an age1… key is 62 characters of Bech32 with a checksum",
    );
  }
  if (isLowOrderX25519(publicKey)) {
    throw invalidRecipient(
      "This age recipient is a low-order point that no one can decrypt for; refusing it",
    );
  }
  const canonical = encodeX25519Recipient(publicKey);
  return { type: "X25519", text: canonical, publicKey, fingerprint: canonical, wrapper: canonical };
}

/** Reads SSH wire strings (uint32 length + bytes) from a buffer. */
function sshReader(buf: Uint8Array, what: () => Error) {
  let pos = 0;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    uint32(): number {
      if (pos + 4 > buf.length) throw what();
      const n = view.getUint32(pos);
      pos += 4;
      return n;
    },
    bytes(n: number): Uint8Array {
      if (n > buf.length - pos) throw what();
      const out = buf.subarray(pos, pos + n);
      pos += n;
      return out;
    },
    string(): Uint8Array {
      return this.bytes(this.uint32());
    },
    text(): string {
      return new TextDecoder().decode(this.string());
    },
    get remaining() {
      return buf.length - pos;
    },
  };
}

function checkEd25519Point(publicKey: Uint8Array, fail: () => Error): void {
  if (publicKey.length !== 32) throw fail();
  try {
    const point = ed25519.Point.fromBytes(publicKey);
    if (point.isSmallOrder()) throw fail();
  } catch {
    throw fail();
  }
}

function parseSshRecipient(text: string): AgeRecipient {
  const fail = () =>
    invalidRecipient(
      "Not a valid SSH Ed25519 public key: expected 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5… [comment]'",
    );
  const parts = text.split(/[ \t]+/);
  const b64 = parts[1] ?? "";
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw fail();
  let wire: Uint8Array;
  try {
    wire = base64.decode(b64);
  } catch {
    throw fail();
  }
  const r = sshReader(wire, fail);
  if (r.text() !== "ssh-ed25519") throw fail();
  const publicKey = r.string();
  if (r.remaining !== 0) throw fail();
  checkEd25519Point(publicKey, fail);
  const comment = parts.slice(2).join(" ");
  const canonicalWire = sshEd25519Wire(publicKey);
  return {
    type: "ssh-ed25519",
    text: `ssh-ed25519 ${base64.encode(canonicalWire)}`,
    publicKey: publicKey.slice(),
    fingerprint: `SHA256:${base64nopad.encode(sha256(canonicalWire))}`,
    ...(comment ? { comment } : {}),
    wrapper: sshEd25519Recipient(publicKey.slice()),
  };
}

/**
 * Parses a recipient the way the `age -r` flag does, for X25519 and SSH Ed25519 keys; throws an
 * AppError (`validation_failed`, reason `invalid_recipient`) that says what is wrong.
 */
export function parseRecipient(input: string): AgeRecipient {
  const text = input.trim();
  if (text.length === 0) throw invalidRecipient("The recipient is empty");
  if (text.length > 16_384) throw invalidRecipient("The recipient is too long to be an age or SSH key");
  if (/^age1/i.test(text)) {
    if (/^age1(pq|tag)/i.test(text)) {
      throw invalidRecipient(
        "Post-quantum and hardware-tag age recipients are not supported; use an age1… X25519 key",
      );
    }
    return parseX25519Recipient(text);
  }
  if (text.startsWith("ssh-ed25519 ")) return parseSshRecipient(text);
  if (/^(ssh-rsa|ecdsa-sha2-|sk-ssh-|sk-ecdsa-|ssh-dss)/.test(text)) {
    throw invalidRecipient(
      "Only Ed25519 SSH keys are supported; RSA, ECDSA and security-key SSH keys are not",
    );
  }
  if (/^AGE-SECRET-KEY-/i.test(text)) {
    throw invalidRecipient("This is an age secret key, not a recipient; share its public age1… key instead");
  }
  throw invalidRecipient(
    "Unrecognised recipient: expected an age1… key or an 'ssh-ed25519 AAAA…' public key",
  );
}

/** True when `input` is an X25519 (`age1…`) or SSH Ed25519 recipient this module can encrypt to. */
export function isValidAgeRecipient(input: string): boolean {
  try {
    parseRecipient(input);
    return true;
  } catch {
    return false;
  }
}

function parseX25519Identity(line: string): AgeIdentity {
  const secret = decodeBech32(line, X25519_IDENTITY_HRP);
  if (!secret || !line.startsWith("AGE-SECRET-KEY-1")) {
    throw invalidIdentity("Not a valid age identity: expected AGE-SECRET-KEY-1… (upper case, Bech32)");
  }
  return {
    type: "X25519",
    recipient: encodeX25519Recipient(x25519.getPublicKey(secret)),
    unwrapper: line,
  };
}

const OPENSSH_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
const OPENSSH_END = "-----END OPENSSH PRIVATE KEY-----";

/** The unencrypted openssh-key-v1 container (PROTOCOL.key in OpenSSH's sources), Ed25519 keys only. */
function parseOpenSshPrivateKey(pem: string): AgeIdentity {
  const fail = () => invalidIdentity("Not a valid OpenSSH private key");
  const begin = pem.indexOf(OPENSSH_BEGIN);
  const end = pem.indexOf(OPENSSH_END);
  if (begin === -1 || end < begin) throw fail();
  const b64 = pem.slice(begin + OPENSSH_BEGIN.length, end).replace(/\s+/g, "");
  let raw: Uint8Array;
  try {
    raw = base64.decode(b64);
  } catch {
    throw fail();
  }
  const magic = new TextEncoder().encode("openssh-key-v1\0");
  if (raw.length < magic.length || magic.some((b, i) => raw[i] !== b)) throw fail();
  const r = sshReader(raw.subarray(magic.length), fail);
  const cipher = r.text();
  const kdf = r.text();
  r.string(); // kdf options
  if (cipher !== "none" || kdf !== "none") {
    throw invalidIdentity(
      "This SSH private key is protected by a passphrase; decrypt with an unencrypted copy or an age identity",
    );
  }
  if (r.uint32() !== 1) throw invalidIdentity("OpenSSH key files with several keys are not supported");
  r.string(); // public key blob, repeated in the private section
  const priv = sshReader(r.string(), fail);
  const check1 = priv.uint32();
  const check2 = priv.uint32();
  // Equal check integers are how OpenSSH tells a correctly decrypted private section.
  if (check1 !== check2) throw fail();
  const keyType = priv.text();
  if (keyType !== "ssh-ed25519") {
    throw invalidIdentity(`Only Ed25519 SSH keys can decrypt age files here, this one is ${keyType}`);
  }
  const publicKey = priv.string();
  const secret = priv.string(); // seed (32) || public key (32)
  if (publicKey.length !== 32 || secret.length !== 64) throw fail();
  const seed = secret.slice(0, 32);
  const derived = ed25519.getPublicKey(seed);
  if (derived.some((b, i) => b !== publicKey[i])) throw fail();
  return {
    type: "ssh-ed25519",
    recipient: `ssh-ed25519 ${base64.encode(sshEd25519Wire(derived))}`,
    unwrapper: sshEd25519Identity(seed),
  };
}

/**
 * Parses identities: the contents of an age identity file (one `AGE-SECRET-KEY-1…` per line, `#`
 * comments and blank lines ignored) or of an unencrypted OpenSSH Ed25519 private key file. Throws an
 * AppError (`validation_failed`, reason `invalid_identity`) that never echoes the secret.
 */
export function parseIdentities(text: string): AgeIdentity[] {
  if (text.includes(OPENSSH_BEGIN)) return [parseOpenSshPrivateKey(text)];
  if (text.includes("-----BEGIN")) {
    throw invalidIdentity("Only OpenSSH-format Ed25519 private keys are supported among PEM keys");
  }
  const identities: AgeIdentity[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    try {
      identities.push(parseX25519Identity(line));
    } catch {
      throw invalidIdentity(`Line ${i + 1} of the identities is not a valid AGE-SECRET-KEY-1… identity`);
    }
  }
  if (identities.length === 0) throw invalidIdentity("No identity found (expected AGE-SECRET-KEY-1… lines)");
  return identities;
}

/** The recipient (public key) matching an identity, e.g. to show which key a file will decrypt with. */
export function identityToRecipient(identity: string): string {
  const [first] = parseIdentities(identity);
  return first!.recipient;
}
