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
import { fmt, machine, percentile, processCpuMs, serverCpuMs, table } from "./lib.ts";

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

/** PostgreSQL backends of the current database, with the CPU they have used so far. */
async function backendCpu(q: { query: Store["query"] }): Promise<Map<number, number>> {
  const { rows } = await q.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = current_database()",
  );
  return new Map(rows.map((r) => [Number(r.pid), serverCpuMs([Number(r.pid)])]));
}
const serverDelta = (before: Map<number, number>, after: Map<number, number>) => {
  let ms = 0;
  for (const [pid, cpu] of after) ms += cpu - (before.get(pid) ?? 0);
  return ms;
};

interface Run {
  rate: number;
  size: number;
  /** CPU ms of this process (all threads) and of the database server's backends (PostgreSQL only). */
  cpuMs: number;
  serverMs: number;
  lat: number[];
  /** CPU ms of this process per proof. */
  proofCpuMs: number;
}

async function ingest(
  store: Store,
  data: OcsfEvent[][],
  dataDir: string,
  opts: { rules: boolean; proofs: boolean },
): Promise<Run> {
  await migrate(store);
  const app = createApp({
    config: loadConfig({ WARDEN_DATA_DIR: dataDir, WARDEN_INGEST_MAX_QUEUED: "10000000" }),
    store,
    clock: systemClock,
    logger: pino({ level: "silent" }),
    sealer: createSealer(store, kekFromBytes(randomBytes(32))),
  });
  await app.eventLog.start();
  if (!opts.rules) app.alerts.detach();
  const pg = !store.pglite;
  const server0 = pg ? await backendCpu(store) : new Map<number, number>();
  const size = data.reduce((s, b) => s + b.length, 0);
  const cpu0 = processCpuMs();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next < data.length) {
        // Handed over and forgotten, as a sender would: the run does not keep every event alive.
        const batch = data[next]!;
        data[next++] = [];
        await app.eventLog.appendEvents(batch);
      }
    }),
  );
  // With rules on, the run ends when the rules have seen every event and stored their alerts.
  if (opts.rules) await app.alerts.detection.idle();
  const ms = performance.now() - t0;
  const cpuMs = processCpuMs() - cpu0;
  const serverMs = pg ? serverDelta(server0, await backendCpu(store)) : 0;
  const lat: number[] = [];
  let proofCpuMs = 0;
  if (opts.proofs) {
    // A verifier asks for a proof against the checkpoint it holds (GET /api/v1/log/proof/inclusion?index&size).
    const tlog = await app.eventLog.service.tlog();
    await tlog.checkpoint();
    const c0 = processCpuMs();
    for (let i = 0; i < PROOFS; i++) {
      const index = Math.floor(Math.random() * size);
      const s = performance.now();
      await tlog.inclusionProof(index, size);
      lat.push(performance.now() - s);
    }
    proofCpuMs = (processCpuMs() - c0) / PROOFS;
    lat.sort((a, b) => a - b);
  }
  app.alerts.detach();
  await app.eventLog.writer.idle();
  return { rate: (size / ms) * 1000, size, cpuMs, serverMs, lat, proofCpuMs };
}

const csv = (texts: string[][]) => {
  let idx = 0;
  return texts.map((b) => b.map((t) => `${idx++},"${t.replaceAll('"', '""')}"\n`).join(""));
};

async function withPgDatabase<T>(fn: (store: Store, name: string, dir: string) => Promise<T>): Promise<T> {
  const name = `eventlog_bench_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "test" });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const dir = await mkdtemp(join(os.tmpdir(), "eventlog-bench-"));
  const store = await openStore({ databaseUrl: `postgres://postgres@127.0.0.1:5432/${name}`, poolSize: 4 });
  try {
    return await fn(store, name, dir);
  } finally {
    await store.close();
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchPostgres(count: number) {
  const copy = await withPgDatabase(async (_store, name) => {
    const lines = csv(entryTexts(batches(count)));
    const pool = new pg.Pool({ host: "127.0.0.1", port: 5432, user: "postgres", database: name, max: 1 });
    pool.on("error", () => {}); // an idle connection closed by the server must not end the run
    const client = await pool.connect();
    await client.query("CREATE TABLE raw_events (idx bigint, entry text)");
    const pid = Number((await client.query("select pg_backend_pid() as pid")).rows[0].pid);
    const server0 = serverCpuMs([pid]);
    const cpu0 = processCpuMs();
    const t0 = performance.now();
    for (const b of lines) {
      await pipeline(
        Readable.from([b]),
        client.query(copyFrom("COPY raw_events (idx, entry) FROM STDIN (FORMAT csv)")),
      );
    }
    const ms = performance.now() - t0;
    const r = {
      rate: (EVENTS / ms) * 1000,
      cpuMs: processCpuMs() - cpu0,
      serverMs: serverCpuMs([pid]) - server0,
    };
    client.release();
    await pool.end();
    return r;
  });
  const off = await withPgDatabase(async (store, _name, dir) => {
    const r = await ingest(store, batches(count), dir, { rules: false, proofs: true });
    const sizes = await store.query<{ t: string }>(
      "SELECT pg_size_pretty(pg_total_relation_size('log_events') + pg_total_relation_size('tlog_tiles')) AS t",
    );
    return { ...r, storage: sizes.rows[0]!.t };
  });
  const on = await withPgDatabase((store, _name, dir) =>
    ingest(store, batches(count), dir, { rules: true, proofs: false }),
  );
  return { copy, off, on };
}

async function benchPglite(count: number) {
  const run = async <T>(fn: (store: Store, dir: string) => Promise<T>): Promise<T> => {
    const dir = await mkdtemp(join(os.tmpdir(), "eventlog-bench-pglite-"));
    const store = await openStore({ dataDir: dir });
    try {
      return await fn(store, dir);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  };
  const copy = await run(async (store) => {
    await store.query("CREATE TABLE raw_events (idx bigint, entry text)");
    const lines = csv(entryTexts(batches(count)));
    const cpu0 = processCpuMs();
    const t0 = performance.now();
    for (const b of lines) {
      await store.pglite!.query("COPY raw_events (idx, entry) FROM '/dev/blob' (FORMAT csv)", [], {
        blob: new Blob([b]),
      });
    }
    const ms = performance.now() - t0;
    return { rate: (PGLITE_EVENTS / ms) * 1000, cpuMs: processCpuMs() - cpu0, serverMs: 0 };
  });
  const off = await run((store, dir) => ingest(store, batches(count), dir, { rules: false, proofs: true }));
  const on = await run((store, dir) => ingest(store, batches(count), dir, { rules: true, proofs: false }));
  return { copy, off, on, storage: "" };
}

const loadStart = os.loadavg()[0]!;
console.log("## Event log ingestion (issue 4)\n");
console.log("`node --import tsx bench/eventlog.bench.ts`\n");
console.log(`Machine: ${machine()}.`);
console.log(
  `OCSF sshd authentication events (~${encodeEntry({ v: 2, id: "00000000-0000-4000-8000-000000000000", received: new Date().toISOString(), event: event(1) }).bytes.length} bytes as logged) in batches of ${fmt(BATCH)} from ${PRODUCERS} producers through \`eventLog.appendEvents\`, each batch acknowledged only after its commit (entries, search columns and Merkle tiles in one transaction; concurrent batches group-committed), with the alert rules detached ("rules off") or listening inline ("rules on": the run ends when they have seen every event and stored their alerts). COPY: the same entry texts, one COPY per batch, sequentially, into a table with no index. CPU is per event: this process (all threads) + the PostgreSQL backends of the run (load-independent).\n`,
);
const ONLY = process.env.EVENTLOG_BENCH_ONLY;
type Res = {
  copy: { rate: number; cpuMs: number; serverMs: number };
  off: Run & { storage?: string };
  on: Run;
};
const results: [string, Res, string][] = [];
if (ONLY !== "pglite")
  results.push(["PostgreSQL 127.0.0.1", await benchPostgres(EVENTS), "≥100,000 and ≥0.5× COPY"]);
if (ONLY !== "pg")
  results.push(["PGlite (files in tmp)", await benchPglite(PGLITE_EVENTS), "≥30,000 and ≥0.5× COPY"]);
const us = (ms: number, n: number) => ((ms * 1000) / n).toFixed(1);
console.log(
  table(
    [
      "store",
      "events",
      "rules off (events/s)",
      "rules on (events/s)",
      "raw COPY (events/s)",
      "off / COPY",
      "on / off",
      "CPU per event off: node + db (µs)",
      "COPY: node + db (µs)",
      "target",
    ],
    results.map(([label, r, target]) => [
      label,
      fmt(r.off.size),
      fmt(r.off.rate),
      fmt(r.on.rate),
      fmt(r.copy.rate),
      (r.off.rate / r.copy.rate).toFixed(2),
      (r.on.rate / r.off.rate).toFixed(2),
      `${us(r.off.cpuMs, r.off.size)} + ${us(r.off.serverMs, r.off.size)}`,
      `${us(r.copy.cpuMs, r.off.size)} + ${us(r.copy.serverMs, r.off.size)}`,
      target,
    ]),
  ),
);
console.log(
  `\nTargets: the ingest rate (rules off) ≥ the store's figure and ≥ 0.5× COPY; rules on ≥ 0.8× rules off. Load average ${loadStart.toFixed(1)} at start, ${os.loadavg()[0]!.toFixed(1)} at the end.`,
);
const pgStorage = results.find(([l]) => l.startsWith("PostgreSQL"))?.[1].off.storage;
if (pgStorage)
  console.log(`\nStorage on PostgreSQL (log_events + tlog_tiles, indexes included): ${pgStorage}.\n`);
console.log(
  table(
    ["inclusion proof latency (at the checkpoint's size)", "mean", "p50", "p99", "CPU per proof", "target"],
    results.map(([label, r]) => [
      `${label.split(" ")[0]}, tree of ${fmt(r.off.size)}`,
      `${(r.off.lat.reduce((s, x) => s + x, 0) / r.off.lat.length).toFixed(3)} ms`,
      `${percentile(r.off.lat, 50).toFixed(3)} ms`,
      `${percentile(r.off.lat, 99).toFixed(3)} ms`,
      `${r.off.proofCpuMs.toFixed(3)} ms`,
      "< 1 ms",
    ]),
  ),
);
