import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A bearer secret with a readable prefix, e.g. `wdn_…` for API tokens. 32 random bytes, base64url. */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

/** Secrets we only ever compare are stored as SHA-256 (they are random, so no slow hash is needed). */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
