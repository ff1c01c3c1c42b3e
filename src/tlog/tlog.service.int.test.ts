import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manualClock } from "../core/clock.ts";
import { createTileCache } from "./tlog.cache.ts";
import type { SqlClient } from "./tlog.repo.ts";
import { createTlog, type Tlog } from "./tlog.service.ts";
import { createNoteSigner, generateNoteKey } from "./tlog.signer.ts";
import { appendToEdge, emptyEdge } from "./tlog.tree.ts";
import { openCheckpoint } from "./verify/checkpoint.ts";
import { hashLeaf, toHex } from "./verify/hash.ts";
import { createCompactRange, verifyConsistency, verifyInclusion } from "./verify/merkle.ts";
import { parseVerifierKey } from "./verify/note.ts";
import { decodeBundle, encodeBundle, entryBundlePath } from "./verify/tiles.ts";
import { verifyTlogProof } from "./verify/tlog-proof.ts";
import { verifyTiles } from "./verify/verify-tiles.ts";

// The log's own tables: the tlog migration and the retention column added later.
const MIGRATIONS = ["20261121170000_tlog.sql", "20261122030000_tlog_prune.sql"].map(
  (f) => new URL(`../../migrations/${f}`, import.meta.url),
);
const tlogDdl = async () => (await Promise.all(MIGRATIONS.map((m) => readFile(m, "utf8")))).join("\n");
const ORIGIN = "warden.test/audit";
const key = generateNoteKey(ORIGIN);
const verifier = parseVerifierKey(key.verifierKey);
const event = (i: number) =>
  new TextEncoder().encode(JSON.stringify({ id: i, action: "grant.created", pad: "x".repeat(i % 50) }));

interface Store {
  sql: SqlClient;
  reset(): Promise<void>;
  close(): Promise<void>;
}

async function pgliteStore(): Promise<Store> {
  const db = new PGlite();
  const ddl = await tlogDdl();
  await db.exec(ddl);
  return {
    sql: db,
    reset: async () => {
      await db.exec("DROP TABLE tlog_state, tlog_tiles, tlog_bundles, tlog_checkpoints;");
      await db.exec(ddl);
    },
    close: () => db.close(),
  };
}

async function postgresStore(): Promise<Store> {
  const name = `tlog_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test" });
  try {
    await admin.connect();
  } catch (e) {
    throw new Error(
      `PostgreSQL is not reachable at 127.0.0.1:5432 (${(e as Error).message}); run .ci/install-deps`,
    );
  }
  await admin.query(`CREATE DATABASE ${name}`);
  const pool = new pg.Pool({ host: "127.0.0.1", port: 5432, user: "postgres", database: name, max: 4 });
  const ddl = await tlogDdl();
  await pool.query(ddl);
  return {
    sql: pool,
    reset: async () => {
      await pool.query("DROP TABLE tlog_state, tlog_tiles, tlog_bundles, tlog_checkpoints");
      await pool.query(ddl);
    },
    close: async () => {
      await pool.end();
      await admin.query(`DROP DATABASE ${name}`);
      await admin.end();
    },
  };
}

const flip = (b: Uint8Array, i: number) => {
  b[i] = (b[i] ?? 0) ^ 1;
};

const referenceRoot = (n: number) => {
  const r = createCompactRange();
  for (let i = 0; i < n; i++) r.append(hashLeaf(event(i)));
  return r.root();
};

async function appendN(log: Tlog, from: number, to: number, batch = 97) {
  for (let i = from; i < to; i += batch) {
    await log.appendBatch(Array.from({ length: Math.min(batch, to - i) }, (_, k) => event(i + k)));
  }
}

async function rewriteBundle(sql: SqlClient, bundle: number, edit: (entries: Uint8Array[]) => Uint8Array[]) {
  const { rows } = await sql.query<{ data: Uint8Array }>("SELECT data FROM tlog_bundles WHERE idx = $1", [
    bundle,
  ]);
  const entries = decodeBundle(rows[0]!.data)!.map((e) => new Uint8Array(e));
  await sql.query("UPDATE tlog_bundles SET data = $2 WHERE idx = $1", [
    bundle,
    Buffer.from(encodeBundle(edit(entries))),
  ]);
}

/** What an attacker with database access but no signing key can do: rebuild every tile from edited entries. */
async function rewriteHistory(sql: SqlClient, entries: Uint8Array[]) {
  const built = appendToEdge(emptyEdge(), entries);
  await sql.query("DELETE FROM tlog_tiles");
  await sql.query("DELETE FROM tlog_bundles");
  for (const t of built.tiles) {
    await sql.query(
      "INSERT INTO tlog_tiles (level, idx, width, nodes) VALUES ($1, $2, $3, $4) ON CONFLICT (level, idx) DO UPDATE SET width = excluded.width, nodes = excluded.nodes",
      [t.level, t.index, t.width, Buffer.from(t.nodes)],
    );
  }
  for (const b of built.bundles) {
    await sql.query(
      "INSERT INTO tlog_bundles (idx, width, data) VALUES ($1, $2, $3) ON CONFLICT (idx) DO UPDATE SET width = excluded.width, data = excluded.data",
      [b.index, b.width, Buffer.from(b.data)],
    );
  }
  await sql.query("UPDATE tlog_state SET size = $1, root = $2", [entries.length, Buffer.from(built.root)]);
}

describe.each([
  ["PGlite", pgliteStore],
  ["PostgreSQL", postgresStore],
])("verifiable log on %s", (_name, open) => {
  let store: Store;
  const clock = manualClock("2026-11-21T17:00:00Z");
  const newLog = () =>
    createTlog({ sql: store.sql, signer: createNoteSigner(key.privateKey), origin: ORIGIN, clock });

  // PGlite takes seconds to start on a busy 2-core machine.
  beforeAll(async () => {
    store = await open();
  }, 180_000);
  afterAll(async () => {
    await store?.close();
  });

  it("appends batches and keeps the RFC 9162 root, with proofs that verify for every entry", async () => {
    await store.reset();
    const log = newLog();
    expect(await log.appendBatch([event(0)])).toEqual({ firstIndex: 0, size: 1 });
    await appendN(log, 1, 600);
    const head = await log.head();
    expect(head.size).toBe(600);
    expect(toHex(head.root)).toBe(toHex(referenceRoot(600)));
    for (const size of [1, 2, 255, 256, 257, 511, 600]) {
      const root = referenceRoot(size);
      for (const index of [0, 1, size >> 1, size - 1].filter((i) => i < size)) {
        const p = await log.inclusionProof(index, size);
        expect(verifyInclusion(index, size, hashLeaf(event(index)), p.proof, root)).toBe(true);
      }
      for (const old of [0, 1, 7, 256, size]) {
        if (old > size) continue;
        const c = await log.consistencyProof(old, size);
        expect(verifyConsistency(old, size, referenceRoot(old), root, c.proof)).toBe(true);
      }
    }
    expect(new TextDecoder().decode(await log.entry(300))).toBe(new TextDecoder().decode(event(300)));
    await expect(log.entry(600)).rejects.toThrow(/not found/);
    await expect(log.inclusionProof(0, 601)).rejects.toThrow(/fewer than 601/);
  });

  it("serves proofs from its tile cache that verify, also once cached partial tiles have grown", async () => {
    await store.reset();
    const tileCache = createTileCache(4);
    const log = createTlog({
      sql: store.sql,
      signer: createNoteSigner(key.privateKey),
      origin: ORIGIN,
      clock,
      tileCache,
    });
    const check = async (size: number) => {
      const root = referenceRoot(size);
      for (const index of [0, 5, 255, 256, size >> 1, size - 1].filter((i) => i < size)) {
        const p = await log.inclusionProof(index, size);
        expect(verifyInclusion(index, size, hashLeaf(event(index)), p.proof, root)).toBe(true);
      }
      for (const old of [1, 256, size - 1]) {
        const c = await log.consistencyProof(old, size);
        expect(verifyConsistency(old, size, referenceRoot(old), root, c.proof)).toBe(true);
      }
    };
    await appendN(log, 0, 300);
    await check(300);
    expect(tileCache.get(0, 1)?.width).toBe(44);
    await appendN(log, 300, 700);
    await check(700);
    await check(300);
    expect(tileCache.get(0, 1)?.width).toBe(256);

    // Retention deletes the first bundle's level-0 tile: the cache forgets it too, so a proof that needs
    // it is refused as from the store, while proofs for kept entries still verify.
    expect(tileCache.get(0, 0)).toBeDefined();
    await log.checkpointAt(256);
    await log.pruneInTx(store.sql, 256);
    expect(tileCache.get(0, 0)).toBeUndefined();
    await expect(log.inclusionProof(5, 700)).rejects.toThrow();
    const kept = await log.inclusionProof(300, 700);
    expect(verifyInclusion(300, 700, hashLeaf(event(300)), kept.proof, referenceRoot(700))).toBe(true);
  });

  it("signs checkpoints that open with the verifier key and issues receipts that verify offline", async () => {
    await store.reset();
    const log = newLog();
    await appendN(log, 0, 300);
    const note = await log.checkpoint();
    const cp = openCheckpoint(note, verifier, ORIGIN);
    expect(cp.size).toBe(300);
    expect(toHex(cp.root)).toBe(toHex(referenceRoot(300)));
    expect(await log.checkpoint()).toBe(note);
    const receipt = await log.receipt(123, new TextEncoder().encode("event-123"));
    expect(verifyTlogProof(receipt, event(123), verifier, ORIGIN).index).toBe(123);
    expect(() => verifyTlogProof(receipt, event(124), verifier, ORIGIN)).toThrow(/not in the log/);
  });

  it("keeps one consistent tree when two writers append to the same database at once", async () => {
    await store.reset();
    const a = newLog();
    const b = newLog();
    const batches = Array.from({ length: 20 }, (_, i) =>
      Array.from({ length: 31 }, (_, k) => event(i * 31 + k)),
    );
    const results = await Promise.all(batches.map((batch, i) => (i % 2 ? a : b).appendBatch(batch)));
    const starts = results.map((r) => r.firstIndex).sort((x, y) => x - y);
    expect(starts).toEqual(Array.from({ length: 20 }, (_, i) => i * 31));
    expect((await a.head()).size).toBe(620);
    const report = await a.verifyAgainstStore();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it("group-commits concurrent appends and gives each caller the range holding its own entries", async () => {
    await store.reset();
    const log = newLog();
    const calls = Array.from({ length: 12 }, (_, c) =>
      Array.from({ length: 10 + c }, (_, k) => event(c * 100 + k)),
    );
    const results = await Promise.all(calls.map((batch) => log.appendBatch(batch)));
    for (const [c, r] of results.entries()) {
      expect(r.size - r.firstIndex).toBe(calls[c]!.length);
      expect(await log.entry(r.firstIndex)).toEqual(calls[c]![0]);
    }
    expect((await log.head()).size).toBe(calls.reduce((s, b) => s + b.length, 0));
    await expect(log.appendBatch([new Uint8Array(70_000)])).rejects.toThrow(/at most 65535 bytes/);
  });

  describe("tamper detection in the store", () => {
    let trusted: string;
    let log: Tlog;
    beforeAll(async () => {
      await store.reset();
      log = newLog();
      await appendN(log, 0, 700);
      trusted = await log.checkpoint();
    });
    const fresh = async () => {
      await store.reset();
      log = newLog();
      await appendN(log, 0, 700);
      return log;
    };

    it("finds nothing wrong in an untouched store", async () => {
      const l = await fresh();
      const r = await l.verifyAgainstStore({ trusted: [trusted] });
      expect(r.ok).toBe(true);
      expect(r.firstBadIndex).toBeUndefined();
    });

    it("names a changed entry", async () => {
      const l = await fresh();
      await rewriteBundle(store.sql, 1, (es) => {
        flip(es[44]!, 3);
        return es;
      });
      const r = await l.verifyAgainstStore({ trusted: [trusted] });
      expect(r.ok).toBe(false);
      expect(r.firstBadIndex).toBe(256 + 44);
      expect(r.problems[0]?.message).toMatch(/entry 300 does not match/);
    });

    it("names the first entry after a deleted one", async () => {
      const l = await fresh();
      await rewriteBundle(store.sql, 0, (es) => es.filter((_, i) => i !== 17));
      const r = await l.verifyAgainstStore({ trusted: [trusted] });
      expect(r.firstBadIndex).toBe(17);
    });

    it("names the first of two reordered entries", async () => {
      const l = await fresh();
      await rewriteBundle(store.sql, 2, (es) => {
        [es[10], es[20]] = [es[20]!, es[10]!];
        return es;
      });
      const r = await l.verifyAgainstStore({ trusted: [trusted] });
      expect(r.firstBadIndex).toBe(512 + 10);
    });

    it("names the first missing entry when the log was truncated", async () => {
      const l = await fresh();
      await store.sql.query("DELETE FROM tlog_bundles WHERE idx = 2");
      await store.sql.query("DELETE FROM tlog_tiles WHERE level = 0 AND idx = 2");
      await store.sql.query("UPDATE tlog_state SET size = 512");
      const r = await l.verifyAgainstStore({ trusted: [trusted] });
      expect(r.ok).toBe(false);
      expect(r.firstBadIndex).toBe(512);
      expect(r.problems.some((p) => /truncated/.test(p.message))).toBe(true);
    });

    it("bounds a consistent rewrite of history between the signed checkpoints, and refuses to sign it", async () => {
      await store.reset();
      const l = newLog();
      await appendN(l, 0, 100);
      const at100 = await l.checkpoint();
      await appendN(l, 100, 200);
      await l.checkpoint();
      await appendN(l, 200, 300);
      const entries = Array.from({ length: 300 }, (_, i) => event(i));
      entries[150] = new TextEncoder().encode('{"id":150,"action":"nothing happened"}');
      await rewriteHistory(store.sql, entries);
      const r = await l.verifyAgainstStore({ trusted: [at100] });
      expect(r.ok).toBe(false);
      expect(r.firstBadRange).toEqual({ start: 100, end: 200 });
      expect(r.firstBadIndex).toBe(100);
      await expect(newLog().checkpoint()).rejects.toThrow(/inconsistent with its last signed checkpoint/);
    });
  });

  describe("tiles export", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "tlog-tiles-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("exports C2SP tiles that verify offline, and names tampered entries in the export", async () => {
      await store.reset();
      const log = newLog();
      await appendN(log, 0, 70_000 / 100);
      const trusted = await log.checkpoint();
      await appendN(log, 700, 1000);
      const good = join(dir, "good");
      const { size } = await log.exportTiles(good);
      expect(size).toBe(1000);
      const ok = await verifyTiles(good, trusted, key.verifierKey);
      expect(ok.problems).toEqual([]);
      expect(ok.ok).toBe(true);

      const bundlePath = join(good, entryBundlePath(1));
      const original = await readFile(bundlePath);
      const entries = decodeBundle(original)!.map((e) => new Uint8Array(e));
      flip(entries[5]!, 4);
      await writeFile(bundlePath, encodeBundle(entries));
      const changed = await verifyTiles(good, trusted, key.verifierKey);
      expect(changed.firstBadIndex).toBe(261);
      await writeFile(bundlePath, original);

      await unlink(join(good, entryBundlePath(3, 1000 - 768)));
      const truncated = await verifyTiles(good, trusted, key.verifierKey);
      expect(truncated.firstBadIndex).toBe(768);
    });

    it("exports an older tree size with partial tiles of that size", async () => {
      const log = newLog();
      const old = join(dir, "old");
      const r = await log.exportTiles(old, 300);
      expect(openCheckpoint(r.checkpoint, verifier).size).toBe(300);
      const report = await verifyTiles(old, r.checkpoint, key.verifierKey);
      expect(report.ok).toBe(true);
      expect(report.size).toBe(300);
    });

    it("names the first rewritten entry behind an old checkpoint given the earlier export", async () => {
      await store.reset();
      const log = newLog();
      await appendN(log, 0, 400);
      const before = join(dir, "before");
      const { checkpoint: kept } = await log.exportTiles(before);
      // The operator rewrites entry 42, rebuilds the tree, and (holding the key) signs a new checkpoint.
      const entries = Array.from({ length: 450 }, (_, i) => event(i));
      entries[42] = new TextEncoder().encode('{"id":42,"action":"nothing to see"}');
      await rewriteHistory(store.sql, entries);
      await store.sql.query("DELETE FROM tlog_checkpoints");
      const after = join(dir, "after");
      await newLog().exportTiles(after);
      const blind = await verifyTiles(after, kept, key.verifierKey);
      expect(blind.ok).toBe(false);
      expect(blind.firstBadRange).toEqual({ start: 0, end: 400 });
      const named = await verifyTiles(after, kept, key.verifierKey, { previousDir: before });
      expect(named.firstBadIndex).toBe(42);
    });
  });
});
