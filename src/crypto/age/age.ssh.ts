/**
 * The age `ssh-ed25519` recipient type, on @noble. Browser-safe: no Node imports.
 *
 * typage (age-encryption 0.3) implements X25519, hybrid, tag and scrypt recipients but not the SSH
 * ones, so this file implements the stanza as age's reference implementation does (agessh): the
 * Ed25519 key is converted to its X25519 (Montgomery) form, an ephemeral X25519 exchange is tweaked by
 * a scalar derived from the SSH public key, and the file key is wrapped with ChaCha20-Poly1305:
 *
 *   tag    = SHA-256(ssh wire key)[:4]
 *   tweak  = HKDF-SHA-256(ikm = "", salt = ssh wire key, info = label)
 *   secret = X25519(tweak, X25519(ephemeral, recipient))
 *   key    = HKDF-SHA-256(ikm = secret, salt = share || recipient, info = label)
 *   body   = ChaCha20-Poly1305(key, nonce = 12 zero bytes, file key)
 */
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64nopad } from "@scure/base";
import type { Identity, Recipient } from "age-encryption";
import { Stanza } from "age-encryption";
import { ageError } from "./age.errors.ts";

const LABEL = new TextEncoder().encode("age-encryption.org/v1/ssh-ed25519");
const ZERO_NONCE = new Uint8Array(12);
const EMPTY = new Uint8Array(0);

/** The SSH wire encoding of an Ed25519 public key: string "ssh-ed25519", string key. */
export function sshEd25519Wire(publicKey: Uint8Array): Uint8Array {
  const type = new TextEncoder().encode("ssh-ed25519");
  const out = new Uint8Array(4 + type.length + 4 + publicKey.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, type.length);
  out.set(type, 4);
  view.setUint32(4 + type.length, publicKey.length);
  out.set(publicKey, 8 + type.length);
  return out;
}

/** The 4-byte tag that ssh-ed25519 stanzas carry, base64: lets an identity (or the server) spot its stanza. */
export function sshEd25519Tag(wire: Uint8Array): string {
  return base64nopad.encode(sha256(wire).subarray(0, 4));
}

function tweakedSecret(scalar: Uint8Array, share: Uint8Array, wire: Uint8Array): Uint8Array {
  const shared = x25519.getSharedSecret(scalar, share); // throws on an all-zero (low-order) result
  const tweak = hkdf(sha256, EMPTY, wire, LABEL, 32);
  return x25519.scalarMult(tweak, shared);
}

function wrapKey(secret: Uint8Array, share: Uint8Array, recipient: Uint8Array): Uint8Array {
  const salt = new Uint8Array(64);
  salt.set(share, 0);
  salt.set(recipient, 32);
  return hkdf(sha256, secret, salt, LABEL, 32);
}

/** A typage Recipient that wraps the file key for an SSH Ed25519 public key (32 raw bytes). */
export function sshEd25519Recipient(edPublicKey: Uint8Array): Recipient {
  const wire = sshEd25519Wire(edPublicKey);
  const recipient = ed25519.utils.toMontgomery(edPublicKey);
  const tag = sshEd25519Tag(wire);
  return {
    wrapFileKey(fileKey: Uint8Array): Stanza[] {
      const ephemeral = x25519.utils.randomSecretKey();
      const share = x25519.getPublicKey(ephemeral);
      const key = wrapKey(tweakedSecret(ephemeral, recipient, wire), share, recipient);
      const body = chacha20poly1305(key, ZERO_NONCE).encrypt(fileKey);
      return [new Stanza(["ssh-ed25519", tag, base64nopad.encode(share)], body)];
    },
  };
}

/** A typage Identity for an SSH Ed25519 private key given by its 32-byte seed. */
export function sshEd25519Identity(seed: Uint8Array): Identity {
  const edPublicKey = ed25519.getPublicKey(seed);
  const wire = sshEd25519Wire(edPublicKey);
  const tag = sshEd25519Tag(wire);
  const scalar = ed25519.utils.toMontgomerySecret(seed);
  const ourPublicKey = x25519.getPublicKey(scalar);
  return {
    unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
      for (const s of stanzas) {
        if (s.args[0] !== "ssh-ed25519" || s.args[1] !== tag) continue;
        // The header parser already checked the argument count, share and body lengths.
        const share = base64nopad.decode(s.args[2] ?? "");
        if (share.length !== 32 || s.body.length !== 32) {
          throw ageError("malformed_header", "Malformed age header: invalid ssh-ed25519 stanza");
        }
        const key = wrapKey(tweakedSecret(scalar, share, wire), share, ourPublicKey);
        try {
          return chacha20poly1305(key, ZERO_NONCE).decrypt(s.body);
        } catch {
          // Same tag but another key (a 32-bit tag can collide): keep looking, like age does.
        }
      }
      return null;
    },
  };
}
