/**
 * Durable ingestion through Warden's event log service (issue 4): `eventLog.appendEvents(batch)` takes
 * OCSF events, attributes actors, writes each as a canonical-JSON entry with its search columns AND
 * maintains the RFC 9162 Merkle tree, in one transaction, and resolves only after the commit. Measured
 * on PostgreSQL and PGlite, beside a raw COPY of the same entry texts into a plain table (the ceiling),
 * with inclusion-proof latency on the resulting log.
 *
 *   node --import tsx bench/eventlog.bench.ts        (or: npm run bench eventlog)
 *   EVENTLOG_BENCH_EVENTS=200000 EVENTLOG_BENCH_PGLITE_EVENTS=100000 EVENTLOG_BENCH_BATCH=2000
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import pino from "pino";
import { createApp } from "../src/app.ts";
import { systemClock } from "../src/core/clock.ts";
import { loadConfig } from "../src/core/config.ts";
import { createSealer, kekFromBytes } from "../src/crypto/keyring.ts";
import { encodeEntry } from "../src/eventlog/eventlog.entries.ts";
import { OCSF_VERSION, type OcsfEvent } from "../src/ingest/index.ts";
import { migrate } from "../src/store/migrate.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { fmt, machine, percentile, table } from "./lib.ts";

const EVENTS = Number(process.env.EVENTLOG_BENCH_EVENTS ?? 200_000);
const PGLITE_EVENTS = Number(process.env.EVENTLOG_BENCH_PGLITE_EVENTS ?? 100_000);
const BATCH = Number(process.env.EVENTLOG_BENCH_BATCH ?? 2_000);
const PRODUCERS = Number(process.env.EVENTLOG_BENCH_PRODUCERS ?? 4);
const PROOFS = 2_000;

/** An sshd authentication event as the syslog source produces it (~600 bytes once logged). */
function event(i: number): OcsfEvent {
  const ok = i % 7 !== 0;
  return {
    class_uid: 3002,
    class_name: "Authentication",
    category_uid: 3,
    activity_id: 1,
    activity_name: "Logon",
    type_uid: 300201,
    time: 1_795_000_000_000 + i * 37,
    severity_id: ok ? 1 : 3,
    status_id: ok ? 1 : 2,
    status: ok ? "Success" : "Failure",
    message: `${ok ? "Accepted" : "Failed"} publickey for dev${i % 500} from 203.0.${(i >> 8) % 256}.${i % 256} port ${40000 + (i % 20000)} ssh2`,
    user: { name: `dev${i % 500}` },
    src_endpoint: { ip: `203.0.${(i >> 8) % 256}.${i % 256}`, port: 40000 + (i % 20000) },
    dst_endpoint: { hostname: "db-prod-1.internal", port: 22 },
    auth_protocol: "publickey",
    metadata: {
      version: OCSF_VERSION,
      product: { name: "OpenSSH", vendor_name: "OpenBSD" },
      uid: `bench-${i}`,
      log_provider: "sshd",
    },
    warden: {
      source: "syslog",
      credential: { sshKeyFingerprint: `SHA256:${String(i % 500).padStart(43, "x")}` },
    },
  };
}

function batches(n: number): OcsfEvent[][] {
  const out: OcsfEvent[][] = [];
  for (let i = 0; i < n; i += BATCH)
    out.push(Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => event(i + k)));
  return out;
}

/** The entry texts COPY writes: the same canonical JSON the log stores. */
const entryTexts = (data: OcsfEvent[][]) =>
  data.map((b) =>
    b.map(
      (e, k) =>
        encodeEntry({
          v: 2,
          id: `00000000-0000-4000-8000-${String(k).padStart(12, "0")}`,
          received: new Date().toISOString(),
          event: e,
        }).text,
    ),
  );

async function ingest(store: Store, data: OcsfEvent[][], dataDir: string) {
  await migrate(store);
  const app = createApp({
    config: loadConfig({ WARDEN_DATA_DIR: dataDir, WARDEN_INGEST_MAX_QUEUED: "10000000" }),
    store,
    clock: systemClock,
    logger: pino({ level: "silent" }),
    sealer: createSealer(store, kekFromBytes(randomBytes(32))),
  });
  await app.eventLog.start();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next < data.length) await app.eventLog.appendEvents(data[next++]!);
    }),
  );
  const ms = performance.now() - t0;
  const size = data.reduce((s, b) => s + b.length, 0);
  const tlog = await app.eventLog.service.tlog();
  await tlog.checkpoint();
  const lat: number[] = [];
  for (let i = 0; i < PROOFS; i++) {
    const index = Math.floor(Math.random() * size);
    const s = performance.now();
    await tlog.inclusionProof(index);
    lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);
  return { rate: (size / ms) * 1000, size, lat };
}

async function benchPostgres(data: OcsfEvent[][]) {
  const name = `eventlog_bench_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test" });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const dir = await mkdtemp(join(os.tmpdir(), "eventlog-bench-"));
  const store = await openStore({ databaseUrl: `postgres://postgres@127.0.0.1:5432/${name}`, poolSize: 4 });
  try {
    await store.query("CREATE TABLE raw_events (idx bigint, entry text)");
    const texts = entryTexts(data);
    const pool = new pg.Pool({ host: "127.0.0.1", port: 5432, user: "postgres", database: name, max: 1 });
    const client = await pool.connect();
    const t0 = performance.now();
    let idx = 0;
    for (const b of texts) {
      const lines = b.map((t) => `${idx++},"${t.replaceAll('"', '""')}"\n`).join("");
      await pipeline(
        Readable.from([lines]),
        client.query(copyFrom("COPY raw_events (idx, entry) FROM STDIN (FORMAT csv)")),
      );
    }
    const copyRate = (idx / (performance.now() - t0)) * 1000;
    client.release();
    await pool.end();
    const r = await ingest(store, data, dir);
    const sizes = await store.query<{ t: string }>(
      "SELECT pg_size_pretty(pg_total_relation_size('log_events') + pg_total_relation_size('tlog_tiles')) AS t",
    );
    return { ...r, copyRate, storage: sizes.rows[0]!.t };
  } finally {
    await store.close();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchPglite(data: OcsfEvent[][]) {
  const dir = await mkdtemp(join(os.tmpdir(), "eventlog-bench-pglite-"));
  const store = await openStore({ dataDir: dir });
  try {
    await store.query("CREATE TABLE raw_events (idx bigint, entry text)");
    const texts = entryTexts(data);
    const t0 = performance.now();
    let idx = 0;
    for (const b of texts) {
      const lines = b.map((t) => `${idx++},"${t.replaceAll('"', '""')}"\n`).join("");
      await store.pglite!.query("COPY raw_events (idx, entry) FROM '/dev/blob' (FORMAT csv)", [], {
        blob: new Blob([lines]),
      });
    }
    const copyRate = (idx / (performance.now() - t0)) * 1000;
    const r = await ingest(store, data, dir);
    return { ...r, copyRate, storage: "" };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

console.log("## Event log ingestion (issue 4)\n");
console.log("`node --import tsx bench/eventlog.bench.ts`\n");
console.log(`Machine: ${machine()}.`);
console.log(
  `OCSF sshd authentication events (~${encodeEntry({ v: 2, id: "00000000-0000-4000-8000-000000000000", received: new Date().toISOString(), event: event(1) }).bytes.length} bytes as logged) in batches of ${fmt(BATCH)} from ${PRODUCERS} producers, each batch acknowledged only after its commit (entries, search columns and Merkle tiles in one transaction; concurrent batches group-committed). COPY: the same entry texts, one COPY per batch, sequentially, into a table with no index.\n`,
);
const pgRes = await benchPostgres(batches(EVENTS));
const liteRes = await benchPglite(batches(PGLITE_EVENTS));
console.log(
  table(
    ["store", "events", "event log (events/s)", "raw COPY (events/s)", "ratio", "target"],
    [
      [
        "PostgreSQL 127.0.0.1",
        fmt(pgRes.size),
        fmt(pgRes.rate),
        fmt(pgRes.copyRate),
        (pgRes.rate / pgRes.copyRate).toFixed(2),
        "≥100,000 and ≥0.5×",
      ],
      [
        "PGlite (files in tmp)",
        fmt(liteRes.size),
        fmt(liteRes.rate),
        fmt(liteRes.copyRate),
        (liteRes.rate / liteRes.copyRate).toFixed(2),
        "≥30,000 and ≥0.5×",
      ],
    ],
  ),
);
console.log(`\nStorage on PostgreSQL (log_events + tlog_tiles, indexes included): ${pgRes.storage}.\n`);
console.log(
  table(
    ["inclusion proof latency", "mean", "p50", "p99", "target"],
    [pgRes, liteRes].map((r, i) => [
      `${i === 0 ? "PostgreSQL" : "PGlite"}, tree of ${fmt(r.size)}`,
      `${(r.lat.reduce((s, x) => s + x, 0) / r.lat.length).toFixed(3)} ms`,
      `${percentile(r.lat, 50).toFixed(3)} ms`,
      `${percentile(r.lat, 99).toFixed(3)} ms`,
      "< 1 ms",
    ]),
  ),
);
