import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { SqlClient } from "../store/store.ts";

/**
 * Envelope encryption at rest (AES-256-GCM). Each purpose ("totp", "documents", ...) has its own
 * data key; data keys are stored wrapped by the key-encryption key (KEK). A sealed value is bound to
 * where it lives: table, row id and column are the associated data, so a ciphertext copied into
 * another row or column fails to open.
 *
 * Sealed layout: 0x01 | data-key id (16 bytes) | IV (12) | ciphertext | tag (16).
 */
export type SealPurpose =
  | "totp"
  | "documents"
  | "connector"
  | "ssh_ca"
  | "share_note"
  | "webhook"
  | "signing";

export interface SealContext {
  table: string;
  id: string;
  column: string;
}

export interface Sealer {
  seal(purpose: SealPurpose, plaintext: Uint8Array | string, ctx: SealContext): Promise<Buffer>;
  open(sealed: Uint8Array, ctx: SealContext): Promise<Buffer>;
}

export interface Kek {
  id: string;
  wrap(dek: Buffer): Buffer;
  unwrap(wrapped: Buffer): Buffer;
}

const VERSION = 1;

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; ct: Buffer; tag: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { iv, ct, tag: c.getAuthTag() };
}

function gcmOpen(key: Buffer, iv: Buffer, ct: Buffer, tag: Buffer, aad: Buffer): Buffer {
  const d = createDecipheriv("aes-256-gcm", key, iv);
  d.setAAD(aad);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** A KEK from 32 raw bytes; its id is a short hash so key versions can be told apart. */
export function kekFromBytes(bytes: Buffer): Kek {
  if (bytes.length !== 32) throw new Error("The master key must be exactly 32 bytes");
  const id = `local:${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}`;
  const aad = Buffer.from(`warden-kek:${id}`);
  return {
    id,
    wrap(dek) {
      const { iv, ct, tag } = gcmSeal(bytes, dek, aad);
      return Buffer.concat([iv, ct, tag]);
    },
    unwrap(w) {
      return gcmOpen(bytes, w.subarray(0, 12), w.subarray(12, w.length - 16), w.subarray(w.length - 16), aad);
    },
  };
}

export interface MasterKeySource {
  kek: Kek;
  /** Set when Warden generated a key file on first start; the caller tells the operator loudly. */
  generatedFile?: string;
}

/** WARDEN_MASTER_KEY wins; else `<dataDir>/master.key` (generated with mode 0600 on first start). */
export async function loadMasterKey(
  masterKey: string | undefined,
  dataDir: string,
): Promise<MasterKeySource> {
  if (masterKey) return { kek: kekFromBytes(Buffer.from(masterKey, "base64")) };
  const file = path.join(dataDir, "master.key");
  if (existsSync(file)) {
    const text = (await readFile(file, "utf8")).trim();
    return { kek: kekFromBytes(Buffer.from(text, "base64")) };
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  const text = (await readFile(file, "utf8")).trim();
  return { kek: kekFromBytes(Buffer.from(text, "base64")), generatedFile: file };
}

function aadFor(ctx: SealContext): Buffer {
  return Buffer.from(`warden:v${VERSION}:${ctx.table}:${ctx.id}:${ctx.column}`);
}

/**
 * The sealer keeps unwrapped data keys in memory only. Data keys are created on first use of a purpose
 * (insert-if-absent, so several nodes agree on one key per purpose and version).
 */
export function createSealer(sql: SqlClient, kek: Kek): Sealer {
  const byId = new Map<string, Buffer>();
  const activeByPurpose = new Map<SealPurpose, { id: string; key: Buffer }>();

  async function activeKey(purpose: SealPurpose): Promise<{ id: string; key: Buffer }> {
    const cached = activeByPurpose.get(purpose);
    if (cached) return cached;
    let row = (
      await sql.query<{ id: string; wrapped: Uint8Array }>(
        "select id, wrapped from data_keys where purpose = $1 and retired_at is null order by version desc limit 1",
        [purpose],
      )
    ).rows[0];
    if (!row) {
      const dek = randomBytes(32);
      await sql.query(
        `insert into data_keys (id, purpose, version, kek_id, wrapped) values ($1, $2, 1, $3, $4)
         on conflict (purpose, version) do nothing`,
        [randomUUID(), purpose, kek.id, kek.wrap(dek)],
      );
      row = (
        await sql.query<{ id: string; wrapped: Uint8Array }>(
          "select id, wrapped from data_keys where purpose = $1 and retired_at is null order by version desc limit 1",
          [purpose],
        )
      ).rows[0];
      if (!row) throw new Error(`data key for ${purpose} could not be created`);
    }
    const key = kek.unwrap(Buffer.from(row.wrapped));
    const entry = { id: row.id, key };
    byId.set(row.id, key);
    activeByPurpose.set(purpose, entry);
    return entry;
  }

  async function keyById(id: string): Promise<Buffer> {
    const cached = byId.get(id);
    if (cached) return cached;
    const row = (
      await sql.query<{ wrapped: Uint8Array }>("select wrapped from data_keys where id = $1", [id])
    ).rows[0];
    if (!row) throw new Error("sealed value refers to an unknown data key");
    const key = kek.unwrap(Buffer.from(row.wrapped));
    byId.set(id, key);
    return key;
  }

  return {
    async seal(purpose, plaintext, ctx) {
      const { id, key } = await activeKey(purpose);
      const pt = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : Buffer.from(plaintext);
      const { iv, ct, tag } = gcmSeal(key, pt, aadFor(ctx));
      return Buffer.concat([Buffer.from([VERSION]), uuidToBytes(id), iv, ct, tag]);
    },
    async open(sealed, ctx) {
      const b = Buffer.from(sealed);
      if (b.length < 1 + 16 + 12 + 16 || b[0] !== VERSION) throw new Error("not a sealed value");
      const key = await keyById(bytesToUuid(b.subarray(1, 17)));
      return gcmOpen(
        key,
        b.subarray(17, 29),
        b.subarray(29, b.length - 16),
        b.subarray(b.length - 16),
        aadFor(ctx),
      );
    },
  };
}

function uuidToBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ""), "hex");
}

function bytesToUuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
