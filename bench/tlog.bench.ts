/**
 * Verifiable audit log benchmark (issue 4): durable ingestion with the Merkle tree maintained, on
 * PostgreSQL and PGlite, next to a raw COPY of the same events into a plain table (the ceiling);
 * inclusion proof latency; and a full offline verification of 10 million entries.
 *
 *   node --import tsx bench/tlog.bench.ts            (or: npm run bench tlog)
 *   TLOG_BENCH_EVENTS=200000 TLOG_BENCH_VERIFY=10000000 to change the sizes.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { systemClock } from "../src/core/clock.ts";
import {
  createNoteSigner,
  createTlog,
  generateNoteKey,
  type SqlClient,
  signNote,
} from "../src/tlog/index.ts";
import { type BundleHasher, createWorkerHasher } from "../src/tlog/verify/bundle-hash.ts";
import { formatCheckpoint } from "../src/tlog/verify/checkpoint.ts";
import { EMPTY_ROOT, HASH_SIZE, hashChildren } from "../src/tlog/verify/hash.ts";
import { foldRange, perfectNodes } from "../src/tlog/verify/merkle.ts";
import { entryBundlePath, TILE_WIDTH, tilePath, tilesAtLevel } from "../src/tlog/verify/tiles.ts";
import { verifyTiles } from "../src/tlog/verify/verify-tiles.ts";

const EVENTS = Number(process.env.TLOG_BENCH_EVENTS ?? 200_000);
const PGLITE_EVENTS = Number(process.env.TLOG_BENCH_PGLITE_EVENTS ?? 100_000);
const BATCH = Number(process.env.TLOG_BENCH_BATCH ?? 2_000);
const VERIFY = Number(process.env.TLOG_BENCH_VERIFY ?? 10_000_000);
const PROOFS = 2_000;
const ORIGIN = "bench.warden.test/audit";
/** `TLOG_BENCH_ONLY=verify` runs the verification alone; `TLOG_BENCH_TILES_DIR` keeps (and reuses) the export. */
const ONLY = process.env.TLOG_BENCH_ONLY;
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

/**
 * Writes a C2SP tlog-tiles export of `n` generated events into `dir` (setup, not timed): entry bundles,
 * every tile, and a checkpoint signed with a fresh key. Leaves and bundle roots are hashed on the worker
 * pool; what verification then recomputes is compared with these files.
 */
async function writeExport(dir: string, n: number, hasher: BundleHasher) {
  const key = generateNoteKey(ORIGIN);
  const bundles = Math.ceil(n / TILE_WIDTH);
  const level0 = new Uint8Array(n * HASH_SIZE);
  const level1 = new Uint8Array(Math.floor(n / TILE_WIDTH) * HASH_SIZE);
  const entryLen = TEMPLATE.length;
  const put = async (path: string, data: Uint8Array | string) => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), data);
  };
  const WINDOW = 64;
  const inFlight: Promise<void>[] = [];
  for (let first = 0; first < bundles; first += WINDOW) {
    const widths: number[] = [];
    const data: Uint8Array[] = [];
    for (let b = first; b < Math.min(bundles, first + WINDOW); b++) {
      const width = Math.min(TILE_WIDTH, n - b * TILE_WIDTH);
      const bytes = new Uint8Array(width * (2 + entryLen));
      for (let k = 0; k < width; k++) {
        const at = k * (2 + entryLen);
        bytes[at] = entryLen >>> 8;
        bytes[at + 1] = entryLen & 0xff;
        writeEvent(bytes, at + 2, b * TILE_WIDTH + k);
      }
      widths.push(width);
      data.push(bytes);
    }
    inFlight.push(
      hasher.check({ first, widths, bundles: data }).then(async (c) => {
        for (let j = 0; j < widths.length; j++) {
          const b = first + j;
          level0.set(c.leaves[j]!, b * TILE_WIDTH * HASH_SIZE);
          if (widths[j] === TILE_WIDTH)
            level1.set(c.roots.subarray(j * HASH_SIZE, (j + 1) * HASH_SIZE), b * HASH_SIZE);
          await put(entryBundlePath(b, widths[j]), data[j]!);
          await put(tilePath(0, b, widths[j]), c.leaves[j]!);
        }
      }),
    );
    if (inFlight.length >= 2 * hasher.parallelism) await inFlight.shift();
  }
  await Promise.all(inFlight);
  // Levels 1 and up, from the bundle roots.
  const levels = [level0, level1];
  for (let count = Math.floor(n / TILE_WIDTH); count >= TILE_WIDTH; count = Math.floor(count / TILE_WIDTH)) {
    const below = levels[levels.length - 1]!;
    const up = new Uint8Array(Math.floor(count / TILE_WIDTH) * HASH_SIZE);
    for (let t = 0; t < up.length / HASH_SIZE; t++) up.set(subtree(below, t * TILE_WIDTH, 8), t * HASH_SIZE);
    levels.push(up);
  }
  for (let level = 1; level < levels.length; level++) {
    const { full, partialWidth } = tilesAtLevel(n, level);
    for (let t = 0; t < full + (partialWidth > 0 ? 1 : 0); t++) {
      const width = t < full ? TILE_WIDTH : partialWidth;
      await put(
        tilePath(level, t, width),
        levels[level]!.subarray(t * TILE_WIDTH * HASH_SIZE, (t * TILE_WIDTH + width) * HASH_SIZE),
      );
    }
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
  const note = await signNote(formatCheckpoint({ origin: ORIGIN, size: n, root, extensions: [] }), [
    createNoteSigner(key.privateKey),
  ]);
  await put("checkpoint", note);
  return { checkpoint: note, verifierKey: key.verifierKey };
}

function subtree(hashes: Uint8Array, start: number, height: number): Uint8Array {
  if (height === 0) return hashes.subarray(start * HASH_SIZE, (start + 1) * HASH_SIZE);
  const half = 2 ** (height - 1);
  return hashChildren(subtree(hashes, start, height - 1), subtree(hashes, start + half, height - 1));
}

/**
 * Full offline verification of a tiles export exactly as `warden audit verify --checkpoint --key --tiles`
 * runs it: `verifyTiles` with one hashing worker per core (`createWorkerHasher`).
 */
async function benchVerify(n: number) {
  const threads = os.availableParallelism();
  const dir = process.env.TLOG_BENCH_TILES_DIR ?? (await mkdtemp(join(os.tmpdir(), "tlog-bench-tiles-")));
  const keep = process.env.TLOG_BENCH_TILES_DIR !== undefined;
  const t0 = performance.now();
  let kept: { checkpoint: string; verifierKey: string };
  const saved = join(dir, "bench-key.json");
  const reuse = keep && (await readFile(saved, "utf8").catch(() => undefined));
  if (reuse && JSON.parse(reuse).size === n) kept = JSON.parse(reuse);
  else {
    const setup = await createWorkerHasher(threads);
    try {
      kept = await writeExport(dir, n, setup);
    } finally {
      await setup.close();
    }
    if (keep) await writeFile(saved, JSON.stringify({ ...kept, size: n }));
  }
  const setupMs = performance.now() - t0;
  try {
    const loadBefore = os.loadavg()[0]!;
    const hasher = await createWorkerHasher(threads);
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    const report = await verifyTiles(dir, kept.checkpoint, kept.verifierKey, { hasher });
    const ms = performance.now() - t1;
    const cpu = process.cpuUsage(cpu0);
    await hasher.close();
    if (!report.ok || report.size !== n)
      throw new Error(`verification failed: ${JSON.stringify(report.problems)}`);
    return {
      setupMs,
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      threads,
      loadBefore,
      loadAfter: os.loadavg()[0]!,
    };
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
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

if (ONLY !== "verify") {
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
}
const v = await benchVerify(VERIFY);
console.log(
  `\nFull offline verification of a tlog-tiles export of ${fmt(VERIFY)} entries on disk (\`verifyTiles\`, the code of \`warden audit verify --tiles\`, ${v.threads} hashing worker threads that read the files: every entry re-hashed and checked against its level-0 tile, every tile recomputed, the root compared with the signed checkpoint):\n`,
);
console.log(
  "| entries | wall time | entries/s | CPU time (all threads) | CPU per entry | load before / after | target |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | --- | --- |");
console.log(
  `| ${fmt(VERIFY)} | **${secs(v.ms)} s** | ${fmt((VERIFY / v.ms) * 1000)} | ${secs(v.cpuMs)} s | ${((v.cpuMs * 1000) / VERIFY).toFixed(2)} µs | ${v.loadBefore.toFixed(1)} / ${v.loadAfter.toFixed(1)} | < 30 s |`,
);
console.log(
  `\nWriting the export beforehand (not counted): ${secs(v.setupMs)} s. CPU time is load-independent: ${secs(v.cpuMs)} s of CPU spread over ${v.threads} cores is ${secs(v.cpuMs / v.threads)} s of wall time on an idle machine.`,
);
