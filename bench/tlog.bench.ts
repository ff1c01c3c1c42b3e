/**
 * Verifiable audit log benchmark (issue 4): durable ingestion with the Merkle tree maintained, on
 * PostgreSQL and PGlite, next to a raw COPY of the same events into a plain table (the ceiling);
 * inclusion proof latency; and a full offline verification of 10 million entries.
 *
 *   node --import tsx bench/tlog.bench.ts            (or: npm run bench tlog)
 *   TLOG_BENCH_EVENTS=200000 TLOG_BENCH_VERIFY=10000000 to change the sizes.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { systemClock } from "../src/core/clock.ts";
import { createNoteSigner, createTlog, generateNoteKey, type SqlClient } from "../src/tlog/index.ts";
import { type BundleHasher, createWorkerHasher } from "../src/tlog/verify/bundle-hash.ts";
import { EMPTY_ROOT, HASH_SIZE, hashChildren, hashLeaf, toBase64 } from "../src/tlog/verify/hash.ts";
import { foldRange, perfectNodes } from "../src/tlog/verify/merkle.ts";
import { encodeBundle, TILE_WIDTH } from "../src/tlog/verify/tiles.ts";
import { type TileSource, verifyTree } from "../src/tlog/verify/verify-tree.ts";

const EVENTS = Number(process.env.TLOG_BENCH_EVENTS ?? 200_000);
const PGLITE_EVENTS = Number(process.env.TLOG_BENCH_PGLITE_EVENTS ?? 100_000);
const BATCH = Number(process.env.TLOG_BENCH_BATCH ?? 2_000);
const VERIFY = Number(process.env.TLOG_BENCH_VERIFY ?? 10_000_000);
const PROOFS = 2_000;
/** Concurrent producers, each sending its next batch only after the previous one is acknowledged. */
const PRODUCERS = Number(process.env.TLOG_BENCH_PRODUCERS ?? 4);
const MIGRATIONS = ["20261121170000_tlog.sql", "20261122030000_tlog_prune.sql"].map(
  (f) => new URL(`../migrations/${f}`, import.meta.url),
);
const tlogDdl = async () => (await Promise.all(MIGRATIONS.map((m) => readFile(m, "utf8")))).join("\n");

/** ~300-byte OCSF-like audit events; a fixed template with a 10-digit id written in place (fast, distinct). */
const TEMPLATE = new TextEncoder().encode(
  JSON.stringify({
    id: "0000000000",
    time: "2026-11-21T17:00:00.000Z",
    class_uid: 4007,
    activity: "ssh.login",
    actor: { user: "dev-0042@vendor.example", grant: "g_7f3a9c2e" },
    src_endpoint: { ip: "203.0.113.42", port: 50522 },
    dst_endpoint: { host: "db-prod-1.internal", port: 22 },
    outcome: "success",
    cert_key_id: "warden-grant-7f3a9c2e",
    pad: "",
  }),
);
const ID_AT = new TextDecoder().decode(TEMPLATE).indexOf("0000000000");

function writeEvent(out: Uint8Array, at: number, i: number): void {
  out.set(TEMPLATE, at);
  let n = i;
  for (let d = 9; d >= 0; d--) {
    out[at + ID_AT + d] = 48 + (n % 10);
    n = Math.floor(n / 10);
  }
}
const makeEvent = (i: number): Uint8Array => {
  const e = new Uint8Array(TEMPLATE.length);
  writeEvent(e, 0, i);
  return e;
};

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const secs = (ms: number) => (ms / 1000).toFixed(2);

function batches(count: number): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i < count; i += BATCH)
    out.push(Array.from({ length: Math.min(BATCH, count - i) }, (_, k) => makeEvent(i + k)));
  return out;
}

const RESET = "DROP TABLE tlog_state, tlog_tiles, tlog_bundles, tlog_checkpoints;";

/** Appends with one producer (comparable with the sequential COPY), then with PRODUCERS on fresh tables. */
async function ingestBoth(sql: SqlClient, reset: () => Promise<void>, data: Uint8Array[][]) {
  const single = await ingest(sql, data, 1, 0);
  await reset();
  const many = await ingest(sql, data, PRODUCERS, PROOFS);
  return { ...many, singleRate: single.rate };
}

async function ingest(sql: SqlClient, data: Uint8Array[][], producers: number, proofs: number) {
  const key = generateNoteKey("bench.warden.test/audit");
  const log = createTlog({
    sql,
    signer: createNoteSigner(key.privateKey),
    origin: "bench.warden.test/audit",
    clock: systemClock,
  });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < data.length) await log.appendBatch(data[next++]!);
    }),
  );
  const ms = performance.now() - t0;
  const size = data.reduce((s, b) => s + b.length, 0);
  // Proof latency: random entries of the current tree, one after another.
  const lat: number[] = [];
  for (let i = 0; i < proofs; i++) {
    const index = Math.floor(Math.random() * size);
    const s = performance.now();
    await log.inclusionProof(index, size);
    lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);
  const cp = await log.checkpoint();
  return { ms, rate: (size / ms) * 1000, lat, size, checkpoint: cp };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const csvLine = (i: number, e: Uint8Array) =>
  `${i},"${Buffer.from(e).toString("utf8").replaceAll('"', '""')}"\n`;

async function benchPostgres(data: Uint8Array[][]) {
  const name = `tlog_bench_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test" });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const pool = new pg.Pool({ host: "127.0.0.1", port: 5432, user: "postgres", database: name, max: 2 });
  try {
    await pool.query(await tlogDdl());
    await pool.query("CREATE TABLE raw_events (idx bigint, data text)");
    // Ceiling: the same events, same batches, one COPY (autocommit, durable) per batch.
    const client = await pool.connect();
    const t0 = performance.now();
    let idx = 0;
    for (const b of data) {
      const lines = b.map((e) => csvLine(idx++, e)).join("");
      await pipeline(
        Readable.from([lines]),
        client.query(copyFrom("COPY raw_events (idx, data) FROM STDIN (FORMAT csv)")),
      );
    }
    const copyMs = performance.now() - t0;
    client.release();
    const ddl = await tlogDdl();
    const r = await ingestBoth(
      pool,
      async () => {
        await pool.query(RESET);
        await pool.query(ddl);
      },
      data,
    );
    const sizes = await pool.query<{ t: string; b: string }>(
      "SELECT pg_size_pretty(pg_total_relation_size('tlog_tiles') + pg_total_relation_size('tlog_bundles')) AS t, pg_size_pretty(pg_total_relation_size('raw_events')) AS b",
    );
    return { ...r, copyRate: (idx / copyMs) * 1000, storage: sizes.rows[0]! };
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE ${name}`);
    await admin.end();
  }
}

async function benchPglite(data: Uint8Array[][]) {
  const dir = await mkdtemp(join(os.tmpdir(), "tlog-bench-pglite-"));
  const db = new PGlite(dir);
  try {
    await db.exec(await tlogDdl());
    await db.exec("CREATE TABLE raw_events (idx bigint, data text)");
    const t0 = performance.now();
    let idx = 0;
    for (const b of data) {
      const lines = b.map((e) => csvLine(idx++, e)).join("");
      await db.query("COPY raw_events (idx, data) FROM '/dev/blob' (FORMAT csv)", [], {
        blob: new Blob([lines]),
      });
    }
    const copyMs = performance.now() - t0;
    const ddl = await tlogDdl();
    const r = await ingestBoth(
      db,
      async () => {
        await db.exec(RESET);
        await db.exec(ddl);
      },
      data,
    );
    return { ...r, copyRate: (idx / copyMs) * 1000 };
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Level hashes of a log of `n` generated events, as a log's tiles would hold them (setup, not timed). */
function buildTiles(n: number) {
  const levels: Uint8Array[] = [];
  let count = n;
  const leaves = new Uint8Array(n * HASH_SIZE);
  const buf = new Uint8Array(TEMPLATE.length);
  for (let i = 0; i < n; i++) {
    writeEvent(buf, 0, i);
    leaves.set(hashLeaf(buf), i * HASH_SIZE);
  }
  levels.push(leaves);
  while (count >= TILE_WIDTH) {
    const below = levels[levels.length - 1]!;
    const full = Math.floor(count / TILE_WIDTH);
    const up = new Uint8Array(full * HASH_SIZE);
    for (let t = 0; t < full; t++) up.set(subtree(below, t * TILE_WIDTH, 8), t * HASH_SIZE);
    levels.push(up);
    count = full;
  }
  // Root of the whole tree from the perfect subtrees of [0, n), each read from the level that holds it.
  const root =
    n === 0
      ? EMPTY_ROOT
      : foldRange(
          perfectNodes(0, n).map(({ height, index }) => {
            const level = Math.floor(height / 8);
            const j = height % 8;
            return subtree(levels[level]!, index * 2 ** j, j);
          }),
        );
  return { levels, root };
}

function subtree(hashes: Uint8Array, start: number, height: number): Uint8Array {
  if (height === 0) return hashes.subarray(start * HASH_SIZE, (start + 1) * HASH_SIZE);
  const half = 2 ** (height - 1);
  return hashChildren(subtree(hashes, start, height - 1), subtree(hashes, start + half, height - 1));
}

async function benchVerify(n: number, hasher?: BundleHasher) {
  const t0 = performance.now();
  const { levels, root } = buildTiles(n);
  const setupMs = performance.now() - t0;
  const source: TileSource = {
    async tile(level, index, width) {
      return levels[level]?.subarray(
        index * TILE_WIDTH * HASH_SIZE,
        (index * TILE_WIDTH + width) * HASH_SIZE,
      );
    },
    async bundle(index, width) {
      const entries: Uint8Array[] = [];
      for (let k = 0; k < width; k++) entries.push(makeEvent(index * TILE_WIDTH + k));
      return encodeBundle(entries);
    },
  };
  const t1 = performance.now();
  const report = await verifyTree({
    source,
    size: n,
    trusted: [{ size: n, root, label: "checkpoint" }],
    ...(hasher ? { hasher } : {}),
  });
  const ms = performance.now() - t1;
  if (!report.ok || report.root !== toBase64(root))
    throw new Error(`verification failed: ${JSON.stringify(report.problems)}`);
  return { setupMs, ms };
}

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
console.log("## Verifiable audit log (tlog)\n");
console.log("`node --import tsx bench/tlog.bench.ts`\n");
console.log(
  `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; load average ${os.loadavg()[0]!.toFixed(1)} at start (other work shares these cores: figures are indicative).`,
);
console.log(
  `Events: ${TEMPLATE.length}-byte JSON in batches of ${fmt(BATCH)}, each acknowledged only after its commit; the log group-commits batches that arrive during a write; COPY runs one COPY per batch, sequentially.\n`,
);

const pgData = batches(EVENTS);
const pgRes = await benchPostgres(pgData);
const liteRes = await benchPglite(batches(PGLITE_EVENTS));
console.log(
  `| store | events | tlog, 1 producer (events/s) | tlog, ${PRODUCERS} producers (events/s) | raw COPY ceiling (events/s) | ratio 1 / ${PRODUCERS} producers to COPY | target |`,
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
for (const [label, r, target] of [
  ["PostgreSQL 127.0.0.1", pgRes, "≥100,000 and ≥0.5"],
  ["PGlite (files in tmp)", liteRes, "≥30,000 and ≥0.5"],
] as const) {
  console.log(
    `| ${label} | ${fmt(r.size)} | ${fmt(r.singleRate)} | ${fmt(r.rate)} | ${fmt(r.copyRate)} | ${(r.singleRate / r.copyRate).toFixed(2)} / ${(r.rate / r.copyRate).toFixed(2)} | ${target} |`,
  );
}
console.log(`\nStorage on PostgreSQL: tiles + bundles ${pgRes.storage.t}; raw table ${pgRes.storage.b}.\n`);
console.log("| inclusion proof latency | mean | p50 | p99 | target |");
console.log("| --- | ---: | ---: | ---: | --- |");
for (const [label, r] of [
  [`PostgreSQL, tree of ${fmt(pgRes.size)}`, pgRes],
  [`PGlite, tree of ${fmt(liteRes.size)}`, liteRes],
] as const) {
  const mean = r.lat.reduce((s, x) => s + x, 0) / r.lat.length;
  console.log(
    `| ${label} | ${mean.toFixed(3)} ms | ${pct(r.lat, 50).toFixed(3)} ms | ${pct(r.lat, 99).toFixed(3)} ms | < 1 ms |`,
  );
}
const v = await benchVerify(VERIFY);
const threads = os.availableParallelism();
const hasher = await createWorkerHasher(threads);
const vw = await benchVerify(VERIFY, hasher);
await hasher.close();
const loadEnd = os.loadavg()[0]!.toFixed(1);
console.log(
  `\nFull verification of ${fmt(VERIFY)} entries (every entry re-hashed and checked against its level-0 tile, every tile recomputed, root compared with the checkpoint; entries generated on the fly in the main thread, tiles in memory): **${secs(v.ms)} s** hashing in the main thread (${fmt((VERIFY / v.ms) * 1000)} entries/s), **${secs(vw.ms)} s** with ${threads} hashing worker threads (${fmt((VERIFY / vw.ms) * 1000)} entries/s); target < 30 s. Building the tiles beforehand (not counted): ${secs(v.setupMs)} s. Load average at the end: ${loadEnd}.`,
);
