import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { SqlClient } from "../store/store.ts";

/**
 * Envelope encryption at rest (AES-256-GCM). Each purpose ("totp", "documents", ...) has its own
 * data key; data keys are stored wrapped by the key-encryption key (KEK). A sealed value is bound to
 * where it lives: table, row id and column are the associated data, so a ciphertext copied into
 * another row or column fails to open.
 *
 * Sealed layout: 0x01 | data-key id (16 bytes) | IV (12) | ciphertext | tag (16).
 *
 * Key versions: a purpose may have several data keys (versions). The newest one not retired seals;
 * any of them opens (the key id travels in the sealed value). A data-key rotation adds a version and
 * re-encrypts rows in the background (src/keys); a KEK rotation rewraps the few data-key rows.
 *
 * Call `seal` BEFORE opening a transaction: creating a purpose's first data key goes through the store,
 * and PGlite serialises queries, so a query on the store from inside a transaction would wait forever.
 */
export type SealPurpose =
  | "totp"
  | "documents"
  | "connector"
  | "ssh_ca"
  | "share_note"
  | "webhook"
  | "signing";

export const SEAL_PURPOSES: readonly SealPurpose[] = [
  "totp",
  "documents",
  "connector",
  "ssh_ca",
  "share_note",
  "webhook",
  "signing",
];

export interface SealContext {
  table: string;
  id: string;
  column: string;
}

export interface Sealer {
  seal(purpose: SealPurpose, plaintext: Uint8Array | string, ctx: SealContext): Promise<Buffer>;
  open(sealed: Uint8Array, ctx: SealContext): Promise<Buffer>;
}

/**
 * A key-encryption key: wraps and unwraps the 32-byte data keys. The local implementation holds the
 * master key in memory (`localKek`). A cloud KMS implements the same three members by calling its
 * service (AWS KMS Encrypt/Decrypt, Google Cloud KMS encrypt/decrypt, Azure Key Vault wrapKey/unwrapKey,
 * HashiCorp Vault transit encrypt/decrypt): `id` names the key and its version (e.g.
 * `aws-kms:arn:aws:kms:eu-west-1:1111:key/…`), `wrap` returns the service's ciphertext blob, `unwrap`
 * sends it back. Warden calls them only when a data key is created, first used on a node, or rewrapped,
 * never per sealed value, so the KMS sees a handful of calls per node start. See docs/encryption.md.
 */
export interface KeyEncryptionKey {
  /** Stable id stored beside each wrapped data key; tells key versions apart. */
  readonly id: string;
  wrap(dataKey: Buffer): Promise<Buffer>;
  unwrap(wrapped: Buffer): Promise<Buffer>;
}

/** The KEK that wraps new data keys, and older ones still accepted for unwrapping during a switch. */
export interface KekSet {
  current: KeyEncryptionKey;
  previous: KeyEncryptionKey[];
}

const VERSION = 1;
const HEADER = 1 + 16 + 12;
const TAG = 16;

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): { iv: Buffer; ct: Buffer; tag: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return { iv, ct, tag: c.getAuthTag() };
}

function gcmOpen(key: Buffer, iv: Buffer, ct: Buffer, tag: Buffer, aad: Buffer): Buffer {
  const d = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG });
  d.setAAD(aad);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ct), d.final()]);
}

/** The id a local master key is known by: a short hash, so versions can be told apart without the key. */
export const localKekId = (bytes: Buffer) =>
  `local:${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}`;

/** A KEK from 32 raw bytes (WARDEN_MASTER_KEY or the key file), wrapping with AES-256-GCM. */
export function localKek(bytes: Buffer): KeyEncryptionKey {
  if (bytes.length !== 32) throw new Error("The master key must be exactly 32 bytes");
  const key = Buffer.from(bytes);
  const id = localKekId(key);
  const aad = Buffer.from(`warden-kek:${id}`);
  return {
    id,
    async wrap(dek) {
      const { iv, ct, tag } = gcmSeal(key, dek, aad);
      return Buffer.concat([iv, ct, tag]);
    },
    async unwrap(w) {
      if (w.length < 12 + TAG) throw new Error("wrapped data key is truncated");
      return gcmOpen(key, w.subarray(0, 12), w.subarray(12, w.length - TAG), w.subarray(w.length - TAG), aad);
    },
  };
}

/** @deprecated name kept for existing callers: use `localKek`. */
export const kekFromBytes = localKek;

export interface MasterKeys {
  keks: KekSet;
  /** Where the current KEK came from. A key file can be rotated by Warden itself; an env key cannot. */
  source: "env" | "file";
  /** The key file, when `source` is "file". */
  file?: string;
  /** Set when Warden generated a key file on this start; the caller tells the operator loudly. */
  generatedFile?: string;
}

const KEY_FILE = "master.key";
const PREVIOUS_FILE = "master.key.previous";

const decodeKey = (text: string, where: string) => {
  const b = Buffer.from(text.trim(), "base64");
  if (b.length !== 32) throw new Error(`${where} does not hold a 32-byte base64 key`);
  return b;
};

async function readPreviousFile(dataDir: string): Promise<KeyEncryptionKey[]> {
  const file = path.join(dataDir, PREVIOUS_FILE);
  if (!existsSync(file)) return [];
  const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l.trim() && !l.startsWith("#"));
  return lines.map((l) => localKek(decodeKey(l, file)));
}

/**
 * WARDEN_MASTER_KEY wins; else `<dataDir>/master.key` (generated with mode 0600 on first start).
 * Older KEKs accepted for unwrapping: WARDEN_MASTER_KEY_PREVIOUS (comma-separated) and the lines of
 * `<dataDir>/master.key.previous` (written by a key-file rotation).
 */
export async function loadMasterKeys(opts: {
  masterKey?: string | undefined;
  previousMasterKeys?: string[] | undefined;
  dataDir: string;
}): Promise<MasterKeys> {
  const previous = [
    ...(opts.previousMasterKeys ?? []).map((k) => localKek(decodeKey(k, "WARDEN_MASTER_KEY_PREVIOUS"))),
    ...(await readPreviousFile(opts.dataDir)),
  ];
  if (opts.masterKey) {
    const current = localKek(decodeKey(opts.masterKey, "WARDEN_MASTER_KEY"));
    return { keks: { current, previous: previous.filter((k) => k.id !== current.id) }, source: "env" };
  }
  const file = path.join(opts.dataDir, KEY_FILE);
  let generatedFile: string | undefined;
  if (!existsSync(file)) {
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    await chmod(file, 0o600);
    generatedFile = file;
  }
  const current = localKek(decodeKey(await readFile(file, "utf8"), file));
  return {
    keks: { current, previous: previous.filter((k) => k.id !== current.id) },
    source: "file",
    file,
    ...(generatedFile ? { generatedFile } : {}),
  };
}

/** Compatibility wrapper: the current KEK only. */
export async function loadMasterKey(masterKey: string | undefined, dataDir: string) {
  const m = await loadMasterKeys({ masterKey, dataDir });
  return { kek: m.keks.current, ...(m.generatedFile ? { generatedFile: m.generatedFile } : {}) };
}

/**
 * Replaces the key file with a fresh key. Crash-safe order: the old key is appended to
 * `master.key.previous` (so it stays accepted) before the new one replaces `master.key` by rename;
 * whatever the moment of a crash, every data key can still be unwrapped on the next start.
 */
export async function replaceKeyFile(dataDir: string): Promise<{ kek: KeyEncryptionKey; file: string }> {
  const file = path.join(dataDir, KEY_FILE);
  const old = (await readFile(file, "utf8")).trim();
  const prev = path.join(dataDir, PREVIOUS_FILE);
  await appendFile(prev, `${old}\n`, { mode: 0o600 });
  await chmod(prev, 0o600);
  const fresh = randomBytes(32);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${fresh.toString("base64")}\n`, { mode: 0o600 });
  await rename(tmp, file);
  return { kek: localKek(fresh), file };
}

function aadFor(ctx: SealContext): Buffer {
  return Buffer.from(`warden:v${VERSION}:${ctx.table}:${ctx.id}:${ctx.column}`);
}

/** The data-key id a sealed value was made with (bytes 1..16), or null if it is not a sealed value. */
export function sealedKeyId(sealed: Uint8Array): string | null {
  if (sealed.length < HEADER + TAG || sealed[0] !== VERSION) return null;
  return bytesToUuid(Buffer.from(sealed.subarray(1, 17)));
}

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealError";
  }
}

export interface DataKeyRow {
  id: string;
  purpose: SealPurpose;
  version: number;
  kek_id: string;
  created_at: Date;
  retired_at: Date | null;
}

export interface WrappedDataKey {
  kekId: string;
  wrapped: Buffer;
}

export interface KeyringOptions {
  /** How long a node keeps using the active data key it looked up before looking again. */
  activeCacheMs?: number;
  /** Time source for the cache only (business time stays with the app's clock). */
  nowMs?: () => number;
}

/** How long a node may keep sealing with a data key after another node rotated it. */
export const ACTIVE_KEY_CACHE_MS = 60_000;

/**
 * The sealer plus what key management needs. Unwrapped data keys live in memory only. A purpose's
 * first data key is created on first use (insert-if-absent, so several nodes agree on one key per
 * purpose and version).
 */
export interface Keyring extends Sealer {
  /** The KEK that wraps new data keys. */
  currentKek(): KeyEncryptionKey;
  /** Ids of every KEK this node can unwrap with (current first). */
  kekIds(): string[];
  /** Makes `kek` current; the old current stays accepted for unwrapping. */
  switchKek(kek: KeyEncryptionKey): void;
  /** The data key a purpose seals with now (created if absent). */
  activeKeyId(purpose: SealPurpose): Promise<string>;
  /**
   * A fresh data key wrapped by the current KEK. Separate from `addDataKeyVersion` so the KEK (maybe a
   * KMS over the network) is called before the transaction that stores it opens.
   */
  newWrappedDataKey(): Promise<WrappedDataKey>;
  /** Stores a new data-key version for the purpose; new seals use it at once on this node. */
  addDataKeyVersion(
    q: SqlClient,
    purpose: SealPurpose,
    key: WrappedDataKey,
  ): Promise<{ id: string; version: number }>;
  /**
   * Rewraps every data key not wrapped by the current KEK. Each row is swapped on its own with a
   * compare-and-set (no transaction held across KMS calls); running it again finishes what a crash left.
   */
  rewrapDataKeys(): Promise<{ rewrapped: number; from: string[] }>;
  /** Forgets cached active keys (after a rotation on this node). */
  invalidate(): void;
}

export function createKeyring(
  sql: SqlClient,
  keks: KeyEncryptionKey | KekSet,
  opts: KeyringOptions = {},
): Keyring {
  const set: KekSet =
    "current" in keks ? { ...keks, previous: [...keks.previous] } : { current: keks, previous: [] };
  const cacheMs = opts.activeCacheMs ?? ACTIVE_KEY_CACHE_MS;
  const nowMs = opts.nowMs ?? Date.now;
  const byId = new Map<string, Buffer>();
  const active = new Map<SealPurpose, { id: string; key: Buffer; until: number }>();

  const allKeks = () => [set.current, ...set.previous];

  async function unwrapRow(row: { id: string; kek_id: string; wrapped: Uint8Array }): Promise<Buffer> {
    const kek = allKeks().find((k) => k.id === row.kek_id);
    if (!kek) {
      throw new SealError(
        `Data key ${row.id} is wrapped by key-encryption key ${row.kek_id}, which this server does not have. ` +
          "Set WARDEN_MASTER_KEY to that key, or list it in WARDEN_MASTER_KEY_PREVIOUS while a rotation finishes.",
      );
    }
    try {
      return await kek.unwrap(Buffer.from(row.wrapped));
    } catch {
      throw new SealError(`Data key ${row.id} does not unwrap with key-encryption key ${kek.id}`);
    }
  }

  const ACTIVE_SQL =
    "select id, kek_id, wrapped from data_keys where purpose = $1 and retired_at is null order by version desc limit 1";

  // Concurrent first uses of a purpose share one lookup (and at most one KEK call).
  const pending = new Map<SealPurpose, Promise<{ id: string; key: Buffer }>>();

  function activeKey(purpose: SealPurpose): Promise<{ id: string; key: Buffer }> {
    const cached = active.get(purpose);
    if (cached && cached.until > nowMs()) return Promise.resolve(cached);
    let p = pending.get(purpose);
    if (!p) {
      p = lookupActive(purpose).finally(() => pending.delete(purpose));
      pending.set(purpose, p);
    }
    return p;
  }

  async function lookupActive(purpose: SealPurpose): Promise<{ id: string; key: Buffer }> {
    let row = (await sql.query<{ id: string; kek_id: string; wrapped: Uint8Array }>(ACTIVE_SQL, [purpose]))
      .rows[0];
    if (!row) {
      const id = randomUUID();
      const dek = randomBytes(32);
      await sql.query(
        `insert into data_keys (id, purpose, version, kek_id, wrapped) values ($1, $2, 1, $3, $4)
         on conflict (purpose, version) do nothing`,
        [id, purpose, set.current.id, await set.current.wrap(dek)],
      );
      row = (await sql.query<{ id: string; kek_id: string; wrapped: Uint8Array }>(ACTIVE_SQL, [purpose]))
        .rows[0];
      if (!row) throw new SealError(`data key for ${purpose} could not be created`);
      if (row.id === id) byId.set(id, dek); // ours won: no need to unwrap what we just wrapped
    }
    const key = byId.get(row.id) ?? (await unwrapRow(row));
    byId.set(row.id, key);
    const entry = { id: row.id, key, until: nowMs() + cacheMs };
    active.set(purpose, entry);
    return entry;
  }

  async function keyById(id: string): Promise<Buffer> {
    const cached = byId.get(id);
    if (cached) return cached;
    const row = (
      await sql.query<{ id: string; kek_id: string; wrapped: Uint8Array }>(
        "select id, kek_id, wrapped from data_keys where id = $1",
        [id],
      )
    ).rows[0];
    if (!row) throw new SealError("The sealed value refers to an unknown data key");
    const key = await unwrapRow(row);
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
      const keyId = sealedKeyId(b);
      if (!keyId) throw new SealError("Not a sealed value");
      const key = await keyById(keyId);
      try {
        return gcmOpen(
          key,
          b.subarray(17, HEADER),
          b.subarray(HEADER, b.length - TAG),
          b.subarray(b.length - TAG),
          aadFor(ctx),
        );
      } catch {
        // Wrong row, column or table (the associated data), or altered bytes.
        throw new SealError(`The sealed value in ${ctx.table}.${ctx.column} does not open for row ${ctx.id}`);
      }
    },
    currentKek: () => set.current,
    kekIds: () => allKeks().map((k) => k.id),
    switchKek(kek) {
      if (kek.id === set.current.id) return;
      set.previous = [set.current, ...set.previous.filter((k) => k.id !== kek.id && k.id !== set.current.id)];
      set.current = kek;
    },
    async activeKeyId(purpose) {
      return (await activeKey(purpose)).id;
    },
    async newWrappedDataKey() {
      const kek = set.current;
      return { kekId: kek.id, wrapped: await kek.wrap(randomBytes(32)) };
    },
    async addDataKeyVersion(q, purpose, key) {
      const id = randomUUID();
      const r = await q.query<{ version: number }>(
        `insert into data_keys (id, purpose, version, kek_id, wrapped)
         select $1, $2, coalesce(max(version), 0) + 1, $3, $4 from data_keys where purpose = $2
         returning version`,
        [id, purpose, key.kekId, key.wrapped],
      );
      active.delete(purpose);
      return { id, version: Number(r.rows[0]?.version ?? 1) };
    },
    async rewrapDataKeys() {
      const target = set.current;
      const rows = (
        await sql.query<{ id: string; kek_id: string; wrapped: Uint8Array }>(
          "select id, kek_id, wrapped from data_keys where kek_id <> $1 order by id",
          [target.id],
        )
      ).rows;
      let rewrapped = 0;
      for (const row of rows) {
        const dek = await unwrapRow(row);
        const r = await sql.query(
          "update data_keys set kek_id = $2, wrapped = $3 where id = $1 and kek_id = $4 and wrapped = $5",
          [row.id, target.id, await target.wrap(dek), row.kek_id, row.wrapped],
        );
        rewrapped += r.affectedRows ?? 0;
      }
      return { rewrapped, from: [...new Set(rows.map((r) => r.kek_id))] };
    },
    invalidate() {
      active.clear();
    },
  };
}

/** @deprecated name kept for existing callers: use `createKeyring`. */
export const createSealer = createKeyring;

function uuidToBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ""), "hex");
}

export function bytesToUuid(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
