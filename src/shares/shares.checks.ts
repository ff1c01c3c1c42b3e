import { AppError } from "../core/errors.ts";
import {
  type AgeHeader,
  CHUNK_SIZE,
  parseRecipient,
  sshEd25519Tag,
  sshEd25519Wire,
} from "../crypto/age/index.ts";

/**
 * Pure checks the server runs on a share: which keys a developer's share is encrypted to, whether an
 * uploaded age header was made for exactly those keys, and what size the ciphertext must have.
 */

export type ShareKeyType = "X25519" | "ssh-ed25519";

/** One public key a share is encrypted to (a snapshot kept with the share). */
export interface ShareKey {
  type: ShareKeyType;
  /** Canonical recipient text: `age1…`, or `ssh-ed25519 AAAA…` without a comment. */
  recipient: string;
  /** `age1…` itself, or OpenSSH's `SHA256:…`. */
  fingerprint: string;
}

const TAG = 16;
const NONCE = 16;

/** Bytes of an age payload (nonce + STREAM chunks) for a plaintext of `n` bytes (c2sp.org/age#payload). */
export function payloadBytes(n: number): number {
  const chunks = Math.max(1, Math.ceil(n / CHUNK_SIZE));
  return NONCE + n + chunks * TAG;
}

/**
 * The keys a share to a developer is encrypted to: every registered age X25519 recipient and every
 * ssh-ed25519 key (age accepts those as recipients). Other SSH key types cannot be age recipients.
 */
export function shareKeysOf(developer: {
  ageRecipients: readonly string[];
  sshPublicKeys: readonly { type: string; key: string }[];
}): ShareKey[] {
  const texts = [
    ...developer.ageRecipients,
    ...developer.sshPublicKeys.filter((k) => k.type === "ssh-ed25519").map((k) => k.key),
  ];
  return texts.map((t) => {
    const r = parseRecipient(t);
    return { type: r.type, recipient: r.text, fingerprint: r.fingerprint };
  });
}

const sshTagOf = (recipient: string) => sshEd25519Tag(sshEd25519Wire(parseRecipient(recipient).publicKey));

function mismatch(message: string): AppError {
  return new AppError("unprocessable", message, { reason: "recipients_mismatch" });
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

/**
 * Checks that an upload's age header was made for exactly these keys. X25519 stanzas are anonymous
 * by design (an ephemeral share and a wrapped key), so for them only the count can be checked;
 * ssh-ed25519 stanzas name their key by a 4-byte tag, which must match one of the expected keys each.
 */
export function checkStanzasMatch(header: AgeHeader, keys: readonly ShareKey[]): void {
  const x25519Stanzas = header.stanzas.filter((s) => s.type === "X25519").length;
  const x25519Keys = keys.filter((k) => k.type === "X25519").length;
  const expectedTags = keys.filter((k) => k.type === "ssh-ed25519").map((k) => sshTagOf(k.recipient));
  const foreign = header.stanzas.filter((s) => s.type !== "X25519" && s.type !== "ssh-ed25519");
  if (foreign.length > 0) {
    throw mismatch(
      `The age header has a "${foreign[0]!.type.slice(0, 40)}" recipient; shares are encrypted to age X25519 and ssh-ed25519 keys only`,
    );
  }
  if (x25519Stanzas !== x25519Keys) {
    throw mismatch(
      `The age header has ${plural(x25519Stanzas, "X25519 recipient")} but the recipients have ${plural(x25519Keys, "registered age key")}; encrypt to exactly the keys this share lists`,
    );
  }
  const remaining = [...expectedTags];
  for (const s of header.stanzas) {
    if (s.type !== "ssh-ed25519") continue;
    const at = remaining.indexOf(s.args[0] ?? "");
    if (at === -1) {
      throw mismatch(
        "The age header has an ssh-ed25519 recipient that is not a registered key of any recipient (or is listed twice)",
      );
    }
    remaining.splice(at, 1);
  }
  if (remaining.length > 0) {
    throw mismatch(
      `The age header lacks ${plural(remaining.length, "registered ssh-ed25519 key")} of the recipients; encrypt to exactly the keys this share lists`,
    );
  }
}

const norm = (s: string) => s.trim().toLowerCase();

/** The requested data categories that none of `permitted` covers (compared without case). */
export function unpermittedCategories(requested: readonly string[], permitted: readonly string[]): string[] {
  const ok = new Set(permitted.map(norm));
  return requested.filter((c) => !ok.has(norm(c)));
}
