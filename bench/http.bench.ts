// Authenticated GET /api/v1/developers (200 developers, page of 50) under autocannon over HTTPS on
// loopback, on PGlite and on PostgreSQL; GET /healthz (no auth, no store) measured in the same run as
// the server's ceiling.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { authRepo } from "../src/auth/auth.repo.ts";
import { serve } from "../src/boot.ts";
import { loadConfig } from "../src/core/config.ts";
import { hashPassword } from "../src/crypto/passwords.ts";
import { fmt, machine, table } from "./lib.ts";

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;

// The load tool runs as its own process so it does not share the server's event loop.
function run(url: string, token?: string): Promise<{ rps: number; p50: number; p99: number }> {
  const args = [
    "node_modules/autocannon/autocannon.js",
    "-c",
    String(CONNECTIONS),
    "-d",
    String(DURATION),
    "-j",
  ];
  if (token) args.push("-H", `authorization=Bearer ${token}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const r = JSON.parse(stdout) as {
        requests: { average: number };
        latency: { p50: number; p99: number };
        non2xx: number;
        errors: number;
      };
      if (r.non2xx > 0 || r.errors > 0)
        return reject(new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`));
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
    });
  });
}

async function measure(kind: "pglite" | "postgres") {
  const dir = await mkdtemp(path.join(os.tmpdir(), "warden-bench-http-"));
  let dbName: string | undefined;
  const env: Record<string, string> = { WARDEN_DATA_DIR: dir, WARDEN_PORT: "0", WARDEN_LOG_LEVEL: "silent" };
  const admin = new pg.Client({
    connectionString: process.env.WARDEN_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/test",
  });
  if (kind === "postgres") {
    await admin.connect();
    dbName = `warden_bench_${randomUUID().slice(0, 8)}`;
    await admin.query(`create database ${dbName}`);
    env.WARDEN_DATABASE_URL = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  }
  const running = await serve(loadConfig(env), () => {});
  try {
    const { store, app } = running;
    const userId = randomUUID();
    await authRepo.insertUser(store, {
      id: userId,
      email: "bench@example.test",
      displayName: "Bench",
      role: "manager",
      developerId: null,
      passwordHash: await hashPassword("bench password 123", { ln: 10, r: 8, p: 1 }),
      at: new Date(),
    });
    const ctx = {
      actor: { kind: "user" as const, userId, role: "manager" as const, label: "bench" },
      meta: {},
    };
    const vendor = await app.people.vendors.create(ctx, {
      name: "Acme",
      country: "PT",
      contacts: [],
      dayRate: 400,
      currency: "EUR",
      marketBandLow: 450,
      marketBandHigh: 700,
      riskTier: "medium",
      notes: "",
    });
    for (let i = 0; i < 200; i++) {
      await store.query(
        `insert into developers (id, vendor_id, full_name, email, country, time_zone, working_hours, created_at, updated_at)
         values ($1, $2, $3, $4, 'PT', 'Europe/Lisbon', '{"start":"09:00","end":"18:00","days":[1,2,3,4,5]}', now(), now())`,
        [randomUUID(), vendor.id, `Developer ${i}`, `dev${i}@acme.example`],
      );
    }
    const { secret } = await app.auth.createToken(ctx, { name: "bench", scopes: ["read"], expiresInDays: 1 });
    await run(`${running.url}/api/v1/developers?limit=50`, secret); // warm-up
    const dev = await run(`${running.url}/api/v1/developers?limit=50`, secret);
    const health = await run(`${running.url}/healthz`);
    return { dev, health };
  } finally {
    await running.stop();
    await rm(dir, { recursive: true, force: true });
    if (dbName) {
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    }
  }
}

const results = { pglite: await measure("pglite"), postgres: await measure("postgres") };
const row = (store: string, name: string, m: { rps: number; p50: number; p99: number }, ceiling: number) => [
  store,
  name,
  fmt(m.rps),
  fmt(m.p50, 1),
  fmt(m.p99, 1),
  fmt(m.rps / ceiling, 2),
];
console.log(`## HTTP API

Command: \`npm run bench http\` · ${DURATION} s per run, ${CONNECTIONS} connections, HTTPS on loopback, autocannon in a separate process · Machine: ${machine()}

${table(
  ["store", "request", "req/s", "p50 ms", "p99 ms", "ratio to /healthz"],
  [
    row(
      "PGlite",
      "GET /api/v1/developers?limit=50 (token auth, 200 developers)",
      results.pglite.dev,
      results.pglite.health.rps,
    ),
    row(
      "PGlite",
      "GET /healthz (ceiling: no auth, no store)",
      results.pglite.health,
      results.pglite.health.rps,
    ),
    row(
      "PostgreSQL",
      "GET /api/v1/developers?limit=50 (token auth, 200 developers)",
      results.postgres.dev,
      results.postgres.health.rps,
    ),
    row("PostgreSQL", "GET /healthz (ceiling)", results.postgres.health, results.postgres.health.rps),
  ],
)}
`);
