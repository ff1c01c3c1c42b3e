import { readFileSync } from "node:fs";
import os from "node:os";
import pg from "pg";
import { openStore, type Store } from "../src/store/store.ts";

/** Shared bits for bench scripts: machine line, percentiles, Markdown output. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  return `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join("/")}`;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** CPU time (ms) this process has used, all threads included. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * CPU time (ms) the given server processes (PostgreSQL backends on this machine) have used, from
 * /proc/<pid>/stat (utime + stime, in clock ticks of 10 ms); 0 for a process that is gone or unreadable.
 */
export function serverCpuMs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone or not readable
    }
  }
  return ticks * 10;
}

/** A store for a benchmark: PGlite in memory, or a fresh database on WARDEN_BENCH_DATABASE_URL. */
export async function openBenchStore(): Promise<{ store: Store; label: string; drop: () => Promise<void> }> {
  const url = process.env.WARDEN_BENCH_DATABASE_URL;
  if (!url) {
    const store = await openStore({});
    return { store, label: "PGlite (embedded, in memory)", drop: () => store.close() };
  }
  const name = `warden_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const store = await openStore({ databaseUrl: u.toString(), poolSize: 4 });
  return {
    store,
    label: "PostgreSQL",
    drop: async () => {
      await store.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * Migrates `store` and builds Warden's app on it, as the service benchmarks need it: a manual clock at `at`,
 * silent logs and a fixed key-encryption key. (Imported on demand: the other benchmarks need none of it.)
 */
export async function benchApp(store: Store, at: Date) {
  const [{ createApp }, { manualClock }, { loadConfig }, { createSealer, kekFromBytes }, { migrate }, pino] =
    await Promise.all([
      import("../src/app.ts"),
      import("../src/core/clock.ts"),
      import("../src/core/config.ts"),
      import("../src/crypto/keyring.ts"),
      import("../src/store/migrate.ts"),
      import("pino"),
    ]);
  await migrate(store);
  const clock = manualClock(at);
  const app = createApp({
    config: loadConfig({ WARDEN_DATA_DIR: "/tmp/warden-bench" }),
    store,
    clock,
    logger: pino.default({ level: "silent" }),
    sealer: createSealer(store, kekFromBytes(Buffer.alloc(32, 7))),
  });
  return { app, clock };
}
