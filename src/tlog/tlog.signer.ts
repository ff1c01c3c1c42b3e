/**
 * Ed25519 note signers. Keys use the text form of Go's golang.org/x/mod/sumdb/note, which the tlog
 * ecosystem shares: signer `PRIVATE+KEY+name+hash+base64(0x01 ‖ 32-byte seed)`, verifier
 * `name+hash+base64(0x01 ‖ 32-byte public key)`, hash = hex key ID (C2SP signed-note).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { AppError } from "../core/errors.ts";
import { fromBase64, toBase64 } from "./verify/hash.ts";
import {
  ED25519_TYPE,
  formatSignatureLine,
  formatVerifierKey,
  isValidKeyName,
  keyIdFor,
} from "./verify/note.ts";

export interface NoteSigner {
  name: string;
  keyId: number;
  /** The matching verifier key string, safe to publish. */
  verifierKey: string;
  /** May be asynchronous so a signer can live in an HSM or KMS. */
  sign(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

// PKCS#8 DER header for an Ed25519 private key (RFC 8410 §7); the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function keyFromSeed(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
}

function publicKeyOf(key: KeyObject): Uint8Array {
  const jwk = createPublicKey(key).export({ format: "jwk" });
  return new Uint8Array(Buffer.from(jwk.x as string, "base64url"));
}

const hex8 = (n: number): string => n.toString(16).padStart(8, "0");

/** Parses a `PRIVATE+KEY+…` string. The error never echoes the key. */
export function createNoteSigner(privateKey: string): NoteSigner {
  const m = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(privateKey.trim());
  const bad = () =>
    new AppError("bad_request", "The log signing key is not a PRIVATE+KEY+name+hash+key string");
  if (!m) throw bad();
  const [, name, hash, b64] = m as unknown as [string, string, string, string];
  const data = fromBase64(b64);
  if (!isValidKeyName(name) || !data || data.length !== 33 || data[0] !== ED25519_TYPE) throw bad();
  const key = keyFromSeed(data.subarray(1));
  const publicKey = publicKeyOf(key);
  const keyId = keyIdFor(name, ED25519_TYPE, publicKey);
  if (hex8(keyId) !== hash)
    throw new AppError("bad_request", "The log signing key's hash does not match its key");
  return {
    name,
    keyId,
    verifierKey: formatVerifierKey(name, publicKey),
    sign: (message) => new Uint8Array(sign(null, message, key)),
  };
}

/** A new key pair for a log named `name` (use the log's origin, e.g. `warden.example.com/audit`). */
export function generateNoteKey(name: string): { privateKey: string; verifierKey: string } {
  if (!isValidKeyName(name))
    throw new AppError("bad_request", "A key name must be non-empty, with no spaces or '+'");
  const { privateKey } = generateKeyPairSync("ed25519");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d as string, "base64url");
  const publicKey = publicKeyOf(privateKey);
  const keyId = keyIdFor(name, ED25519_TYPE, publicKey);
  return {
    privateKey: `PRIVATE+KEY+${name}+${hex8(keyId)}+${toBase64(Buffer.concat([Buffer.from([ED25519_TYPE]), seed]))}`,
    verifierKey: formatVerifierKey(name, publicKey),
  };
}

/** Signs `text` (which must end in a newline) as a C2SP signed note. */
export async function signNote(text: string, signers: NoteSigner[]): Promise<string> {
  if (!text.endsWith("\n")) throw new AppError("bad_request", "A note's text must end in a newline");
  const message = new TextEncoder().encode(text);
  let out = `${text}\n`;
  for (const s of signers) out += formatSignatureLine(s.name, s.keyId, await s.sign(message));
  return out;
}
