/**
 * age for the browser (developer portal, React + Vite): key-pair generation and small-payload
 * encryption of text secrets. Imports nothing Node-only — keep it that way (age.browser.test.ts
 * bundles this file for the browser platform to prove it).
 *
 * Payloads here are held in memory and encrypted by typage (@noble ChaCha20-Poly1305 in JavaScript):
 * right for text secrets and small files; large files go through the CLI's streaming path.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { armor, Decrypter, Encrypter } from "age-encryption";
import { ageError, fromTypageHeaderError } from "./age.errors.ts";
import { parseHeader } from "./age.header.ts";
import { encodeX25519Identity, encodeX25519Recipient, parseIdentities, parseRecipient } from "./age.keys.ts";

export interface AgeKeyPair {
  /** The secret `AGE-SECRET-KEY-1…`: stays with the developer, never sent to the server. */
  identity: string;
  /** The public `age1…` recipient the developer registers. */
  recipient: string;
}

/** Generates a native X25519 age key pair from the platform CSPRNG (crypto.getRandomValues). */
export function generateKeyPair(): AgeKeyPair {
  const secret = x25519.utils.randomSecretKey();
  const pair = {
    identity: encodeX25519Identity(secret),
    recipient: encodeX25519Recipient(x25519.getPublicKey(secret)),
  };
  secret.fill(0);
  return pair;
}

/** The text of an identity file in age-keygen's layout, for the developer to download and keep. */
export function identityFileText(pair: AgeKeyPair, createdAt: Date): string {
  return `# created: ${createdAt.toISOString()}\n# public key: ${pair.recipient}\n${pair.identity}\n`;
}

/** Encrypts a small payload (a text secret) to age1… / ssh-ed25519 recipients: binary age v1. */
export async function encryptSmall(
  data: Uint8Array | string,
  recipients: readonly string[],
): Promise<Uint8Array> {
  if (recipients.length === 0) throw ageError("invalid_recipient", "At least one recipient is required");
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(parseRecipient(r).wrapper);
  return encrypter.encrypt(data);
}

/**
 * Encrypts a stream (a File's `stream()`) to recipients, as a stream of binary age v1: typage's
 * streaming mode, so the plaintext is never held whole. For files picked in the browser.
 */
export async function encryptStream(
  input: ReadableStream<Uint8Array>,
  recipients: readonly string[],
): Promise<ReadableStream<Uint8Array>> {
  if (recipients.length === 0) throw ageError("invalid_recipient", "At least one recipient is required");
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(parseRecipient(r).wrapper);
  return encrypter.encrypt(input);
}

/**
 * Decrypts a binary age v1 stream (a download's body) with identity texts. The header is checked
 * before this resolves; a truncated or altered payload makes the returned stream fail (so a Blob
 * built from it is never created from partial plaintext).
 */
export async function decryptStream(
  input: ReadableStream<Uint8Array>,
  identities: readonly string[],
): Promise<ReadableStream<Uint8Array>> {
  const decrypter = new Decrypter();
  for (const text of identities) for (const id of parseIdentities(text)) decrypter.addIdentity(id.unwrapper);
  try {
    return await decrypter.decrypt(input);
  } catch (e) {
    throw fromTypageHeaderError(e);
  }
}

/** The recipients (public keys) of identity texts, to check an identity fits a share before using it. */
export function recipientsOfIdentities(identities: readonly string[]): string[] {
  return identities.flatMap((text) => parseIdentities(text).map((i) => i.recipient));
}

/** ASCII armor (`age -a`, PEM "AGE ENCRYPTED FILE") for pasting a text secret into a form or chat. */
export function toArmor(ciphertext: Uint8Array): string {
  return armor.encode(ciphertext);
}

/** Decodes ASCII armor (typage's strict parser); refuses malformed armor with reason `armored`. */
export function fromArmor(text: string): Uint8Array {
  try {
    return armor.decode(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw ageError("armored", `The ASCII-armored age file is malformed (${why})`);
  }
}

/**
 * Decrypts a small age v1 payload with identity text (age identity file or OpenSSH key). Takes the
 * binary format, or the armored one as a string.
 */
export async function decryptSmall(
  input: Uint8Array | string,
  identities: readonly string[],
): Promise<Uint8Array> {
  const ciphertext = typeof input === "string" ? fromArmor(input) : input;
  parseHeader(ciphertext); // strict checks and clear messages before typage sees it
  const decrypter = new Decrypter();
  for (const text of identities) for (const id of parseIdentities(text)) decrypter.addIdentity(id.unwrapper);
  let fileKeyOk = false;
  try {
    await decrypter.decryptHeader(ciphertext);
    fileKeyOk = true;
    return await decrypter.decrypt(ciphertext);
  } catch (e) {
    if (!fileKeyOk) throw fromTypageHeaderError(e);
    throw ageError("tampered", "The age file is truncated, corrupted or was tampered with");
  }
}

/** decryptSmall, decoded as UTF-8 text. */
export async function decryptText(
  ciphertext: Uint8Array | string,
  identities: readonly string[],
): Promise<string> {
  return new TextDecoder("utf-8", { fatal: true }).decode(await decryptSmall(ciphertext, identities));
}
