import { createHash } from "node:crypto";

/**
 * The SSH wire encoding (RFC 4251 §5) needed to write OpenSSH certificates and KRLs. Written by hand:
 * the few npm libraries that read SSH keys (sshpk) do not let a caller set a certificate's key id or
 * extensions, and none writes KRLs; the encoding is a few lines.
 */
export function sshString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export function sshUint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function sshUint64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

export function sshByte(n: number): Buffer {
  return Buffer.from([n]);
}

/** Reads the leading `string` of a wire buffer; returns it and what follows. */
export function readSshString(buf: Buffer, offset = 0): { value: Buffer; next: number } {
  if (offset + 4 > buf.length) throw new Error("truncated SSH string length");
  const len = buf.readUInt32BE(offset);
  const end = offset + 4 + len;
  if (end > buf.length) throw new Error("truncated SSH string");
  return { value: buf.subarray(offset + 4, end), next: end };
}

/** Public key algorithms Warden signs certificates for (the `-cert-v01@openssh.com` family exists). */
export const certifiableKeyTypes = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;
export type CertifiableKeyType = (typeof certifiableKeyTypes)[number];

export interface ParsedPublicKey {
  type: CertifiableKeyType;
  /** The whole wire blob (string type, then the key's fields). */
  blob: Buffer;
  /** The key's fields after the type string, which a certificate embeds as they are. */
  fields: Buffer;
  comment: string;
}

/** Parses an authorized_keys-style line (`ssh-ed25519 AAAA... comment`). */
export function parseSshPublicKey(line: string): ParsedPublicKey {
  const parts = line.trim().split(/\s+/);
  const [type, b64, ...comment] = parts;
  if (!type || !b64) throw new Error("not an OpenSSH public key line (expected: <type> <base64> [comment])");
  if (!(certifiableKeyTypes as readonly string[]).includes(type)) {
    throw new Error(`unsupported public key type ${JSON.stringify(type.slice(0, 64))}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error("the key's base64 part is not valid base64");
  const blob = Buffer.from(b64, "base64");
  const inner = readSshString(blob);
  if (inner.value.toString("latin1") !== type)
    throw new Error("the key's type does not match its encoded type");
  if (inner.next >= blob.length) throw new Error("the key has no key material");
  return {
    type: type as CertifiableKeyType,
    blob,
    fields: blob.subarray(inner.next),
    comment: comment.join(" "),
  };
}

/** `SHA256:<base64, unpadded>` of a public key line's blob: what `ssh-keygen -l` and sshd's logs print. */
export function sshKeyFingerprint(line: string): string {
  const blob = parseSshPublicKey(line).blob;
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}
