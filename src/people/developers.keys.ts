import { createHash, createPublicKey } from "node:crypto";
import { bech32 } from "@scure/base";

/**
 * Validation of the public keys a developer registers: OpenSSH public keys (authorized_keys lines)
 * and age X25519 recipients.
 *
 * The OpenSSH wire format (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4, PROTOCOL.u2f) is parsed by hand:
 * it is a handful of length-prefixed strings, and the libraries that parse it (sshpk) predate the
 * FIDO `sk-*` key types and are no longer maintained. Node's crypto then checks the key material
 * itself (EC points on the curve, RSA modulus size).
 */

export const sshKeyTypes = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;
export type SshKeyType = (typeof sshKeyTypes)[number];

/** NIST SP 800-57 / current OpenSSH guidance: RSA below 3072 bits is not accepted for new keys. */
export const MIN_RSA_BITS = 3072;

export interface SshPublicKey {
  type: SshKeyType;
  /** "type base64" without the comment: the identity of the key. */
  key: string;
  comment: string;
  bits: number;
  /** As `ssh-keygen -l` prints it: "SHA256:" + unpadded base64 of SHA-256 over the key blob. */
  fingerprint: string;
}

export type KeyCheck<T> = { ok: true; value: T } | { ok: false; error: string };

const curves = {
  nistp256: { jwk: "P-256", bytes: 32, bits: 256 },
  nistp384: { jwk: "P-384", bytes: 48, bits: 384 },
  nistp521: { jwk: "P-521", bytes: 66, bits: 521 },
} as const;

/** Reads SSH wire-format strings (uint32 big-endian length, then bytes) from a key blob. */
function reader(buf: Buffer) {
  let at = 0;
  return {
    string(): Buffer {
      if (at + 4 > buf.length) throw new Error("truncated key data");
      const len = buf.readUInt32BE(at);
      at += 4;
      if (len > buf.length - at) throw new Error("truncated key data");
      const out = buf.subarray(at, at + len);
      at += len;
      return out;
    },
    done: () => at === buf.length,
  };
}

const b64url = (b: Buffer) => b.toString("base64url");

/** An SSH mpint as an unsigned big-endian byte string (leading zero bytes dropped). */
function unsigned(mpint: Buffer): Buffer {
  if (mpint.length > 0 && (mpint[0]! & 0x80) !== 0) throw new Error("negative RSA parameter");
  let i = 0;
  while (i < mpint.length && mpint[i] === 0) i++;
  return mpint.subarray(i);
}

function ecBits(curveName: Buffer, point: Buffer, expected: string): number {
  const name = curveName.toString("latin1");
  if (name !== expected) throw new Error(`the key names curve ${name} but its type says ${expected}`);
  const curve = curves[name as keyof typeof curves];
  if (point.length !== 1 + 2 * curve.bytes || point[0] !== 0x04) {
    throw new Error("the EC point is not an uncompressed point on the curve");
  }
  const x = point.subarray(1, 1 + curve.bytes);
  const y = point.subarray(1 + curve.bytes);
  // createPublicKey refuses points that are not on the curve.
  createPublicKey({ key: { kty: "EC", crv: curve.jwk, x: b64url(x), y: b64url(y) }, format: "jwk" });
  return curve.bits;
}

function ed25519Bits(pk: Buffer): number {
  if (pk.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return 256;
}

function keyBits(type: SshKeyType, r: ReturnType<typeof reader>): number {
  switch (type) {
    case "ssh-ed25519":
      return ed25519Bits(r.string());
    case "sk-ssh-ed25519@openssh.com": {
      const bits = ed25519Bits(r.string());
      r.string(); // application, e.g. "ssh:"
      return bits;
    }
    case "ecdsa-sha2-nistp256":
    case "ecdsa-sha2-nistp384":
    case "ecdsa-sha2-nistp521":
      return ecBits(r.string(), r.string(), type.slice("ecdsa-sha2-".length));
    case "sk-ecdsa-sha2-nistp256@openssh.com": {
      const bits = ecBits(r.string(), r.string(), "nistp256");
      r.string(); // application
      return bits;
    }
    case "ssh-rsa": {
      const e = unsigned(r.string());
      const n = unsigned(r.string());
      if (e.length === 0 || n.length === 0) throw new Error("empty RSA parameter");
      createPublicKey({ key: { kty: "RSA", n: b64url(n), e: b64url(e) }, format: "jwk" });
      const bits = (n.length - 1) * 8 + (32 - Math.clz32(n[0]!));
      if (bits < MIN_RSA_BITS) {
        throw new Error(
          `RSA keys need at least ${MIN_RSA_BITS} bits (this one has ${bits}); use ssh-ed25519`,
        );
      }
      return bits;
    }
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Parses one authorized_keys-style line: "type base64 [comment]" (no options prefix). */
export function parseSshPublicKey(line: string): KeyCheck<SshPublicKey> {
  const parts = line.trim().split(/\s+/);
  const [type, data] = parts;
  const comment = parts.slice(2).join(" ");
  if (!type || !data) return { ok: false, error: 'expected "type base64-key [comment]"' };
  if (!(sshKeyTypes as readonly string[]).includes(type)) {
    return {
      ok: false,
      error: `key type ${type.slice(0, 40)} is not accepted (use ${sshKeyTypes.join(", ")})`,
    };
  }
  if (!BASE64.test(data) || data.length % 4 !== 0) return { ok: false, error: "the key data is not base64" };
  const blob = Buffer.from(data, "base64");
  try {
    const r = reader(blob);
    const embedded = r.string().toString("latin1");
    if (embedded !== type) {
      return { ok: false, error: `the key data is a ${embedded.slice(0, 40)} key, not ${type}` };
    }
    const bits = keyBits(type as SshKeyType, r);
    if (!r.done()) return { ok: false, error: "unexpected bytes after the key" };
    return {
      ok: true,
      value: {
        type: type as SshKeyType,
        key: `${type} ${blob.toString("base64")}`,
        comment,
        bits,
        fingerprint: `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`,
      },
    };
  } catch (e) {
    const msg = e instanceof Error ? e.message : "";
    return { ok: false, error: /truncated|curve|point|RSA|Ed25519/.test(msg) ? msg : "invalid key material" };
  }
}

/**
 * An age X25519 recipient: Bech32 (BIP 173, not Bech32m) with HRP "age" and a 32-byte payload,
 * written in lowercase (age-encryption.org/v1, "The X25519 recipient type").
 */
export function parseAgeRecipient(s: string): KeyCheck<string> {
  const v = s.trim();
  if (!v.startsWith("age1")) return { ok: false, error: 'an age recipient starts with "age1"' };
  if (v !== v.toLowerCase()) return { ok: false, error: "an age recipient is written in lowercase" };
  try {
    const { prefix, words } = bech32.decode(v as `${string}1${string}`, 90);
    if (prefix !== "age") return { ok: false, error: 'the recipient\'s prefix must be "age"' };
    if (bech32.fromWords(words).length !== 32) {
      return { ok: false, error: "an age X25519 recipient carries a 32-byte key" };
    }
  } catch {
    return { ok: false, error: "not a valid age recipient (bad characters or checksum)" };
  }
  return { ok: true, value: v };
}
