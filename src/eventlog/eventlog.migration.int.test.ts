import { createHash, randomBytes, randomUUID } from "node:crypto";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { canonicalize } from "json-canonicalize";
import pg from "pg";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { onPostgres } from "../../test/harness.ts";
import { createApp } from "../app.ts";
import { manualClock } from "../core/clock.ts";
import { loadConfig } from "../core/config.ts";
import { createSealer, kekFromBytes } from "../crypto/keyring.ts";
import { findMigrationsDir, listMigrations, migrate } from "../store/migrate.ts";
import { openStore, type Store } from "../store/store.ts";

const FIRST_OF_THE_LOG = "20261122030000";

/** A store migrated up to, not including, the event log: it still has the hash-chained audit_events. */
async function storeBeforeTheLog(): Promise<{ store: Store; drop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "warden-mig-"));
  for (const m of await listMigrations()) {
    if (m.id < FIRST_OF_THE_LOG) await copyFile(m.file, path.join(dir, path.basename(m.file)));
  }
  let store: Store;
  let drop: () => Promise<void>;
  if (onPostgres()) {
    const base = process.env.WARDEN_TEST_DATABASE_URL!;
    const name = `warden_mig_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    store = await openStore({ databaseUrl: url.toString(), poolSize: 3 });
    drop = async () => {
      await store.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  } else {
    store = await openStore({});
    drop = () => store.close();
  }
  await migrate(store, dir);
  await rm(dir, { recursive: true, force: true });
  return { store, drop };
}

/** The foundation's audit.record, as it was: canonical JSON leaves chained with SHA-256. */
async function writeLegacyTrail(store: Store, n: number): Promise<{ leaves: Buffer[]; head: Buffer }> {
  let prev = Buffer.alloc(32);
  const leaves: Buffer[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const e = {
      v: 1,
      seq,
      id: randomUUID(),
      at: new Date(Date.UTC(2026, 9, 1, 8, 0, seq)).toISOString(),
      actor: { type: "user", id: randomUUID(), label: `admin${seq % 3}@example.test` },
      action: seq % 2 ? "vendor.create" : "developer.update",
      target: { type: "vendor", id: randomUUID() },
      outcome: "success",
      summary: { name: `Vendor ${seq}`, note: "ünïcødé ✓" },
      source: { ip: "203.0.113.7", userAgent: "test", requestId: null },
    };
    const leaf = createHash("sha256")
      .update(Buffer.from([0]))
      .update(Buffer.from(canonicalize(e), "utf8"))
      .digest();
    const chain = createHash("sha256").update(prev).update(leaf).digest();
    await store.query(
      `insert into audit_events (seq, id, at, actor_type, actor_id, actor_label, action, target_type, target_id,
         outcome, summary, source_ip, user_agent, request_id, leaf_hash, chain_hash)
       values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`,
      [
        e.seq,
        e.id,
        e.at,
        e.actor.type,
        e.actor.id,
        e.actor.label,
        e.action,
        e.target.type,
        e.target.id,
        e.outcome,
        JSON.stringify(e.summary),
        e.source.ip,
        e.source.userAgent,
        e.source.requestId,
        leaf,
        chain,
      ],
    );
    leaves.push(leaf);
    prev = chain;
  }
  return { leaves, head: prev };
}

async function openWardenOn(store: Store) {
  await migrate(store, findMigrationsDir());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "warden-mig-app-"));
  const app = createApp({
    config: loadConfig({ WARDEN_DATA_DIR: dataDir }),
    store,
    clock: manualClock("2026-11-22T03:00:00Z"),
    logger: pino({ level: "silent" }),
    sealer: createSealer(store, kekFromBytes(randomBytes(32))),
  });
  await app.eventLog.start();
  return { app, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
}

async function leafHashesInTree(store: Store, n: number): Promise<Buffer[]> {
  const { rows } = await store.query<{ idx: number; nodes: Uint8Array }>(
    "select idx, nodes from tlog_tiles where level = 0 order by idx",
  );
  const out: Buffer[] = [];
  for (const r of rows) {
    for (let k = 0; k < 256 && out.length < n; k++) {
      const h = Buffer.from(r.nodes).subarray(k * 32, (k + 1) * 32);
      if (h.length === 32) out.push(Buffer.from(h));
    }
  }
  return out.slice(0, n);
}

describe("the foundation's hash-chained trail migrates into the Merkle log", () => {
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => drop?.());

  it("keeps every entry, byte for byte, as the leaves 0..n-1 of the tree, and logs the import", async () => {
    const s = await storeBeforeTheLog();
    drop = s.drop;
    const legacy = await writeLegacyTrail(s.store, 300);
    const { app, cleanup } = await openWardenOn(s.store);
    try {
      const head = await app.audit.head();
      expect(head.size).toBe(301);
      const leaves = await leafHashesInTree(s.store, 300);
      expect(leaves.map((l) => l.toString("hex"))).toEqual(legacy.leaves.map((l) => l.toString("hex")));
      const [imported] = await app.audit.list({ action: "audit.trail.imported", limit: 1 });
      expect(imported?.seq).toBe(301);
      expect(imported?.summary).toEqual({
        entries: 300,
        chainIntact: true,
        legacyChainHead: legacy.head.toString("hex"),
      });
      const oldest = await app.audit.list({ limit: 1, beforeSeq: 2 });
      expect(oldest[0]?.summary).toEqual({ name: "Vendor 1", note: "ünïcødé ✓" });
      expect((await app.audit.verify()).ok).toBe(true);
      const table = await s.store.query<{ t: string | null }>(
        "select to_regclass('audit_events_legacy')::text as t",
      );
      expect(table.rows[0]?.t).toBeNull();
      // A second start does not import again.
      await app.eventLog.start();
      expect((await app.audit.head()).size).toBe(301);
    } finally {
      await cleanup();
    }
  }, 120_000);

  it("imports a trail whose chain was already broken, and says where it broke", async () => {
    const s = await storeBeforeTheLog();
    drop = s.drop;
    await writeLegacyTrail(s.store, 10);
    await s.store.query("alter table audit_events disable trigger audit_events_no_update");
    await s.store.query("delete from audit_events where seq = 4");
    const { app, cleanup } = await openWardenOn(s.store);
    try {
      expect((await app.audit.head()).size).toBe(10);
      const [imported] = await app.audit.list({ action: "audit.trail.imported", limit: 1 });
      expect(imported?.summary).toMatchObject({
        entries: 9,
        chainIntact: false,
        firstBad: { seq: 4, problem: "entry 4 is missing" },
      });
    } finally {
      await cleanup();
    }
  }, 120_000);
});
