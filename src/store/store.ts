import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ConnectionOptions } from "node:tls";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { pgConnectionPlan, wantsFallback } from "./pg-ssl.ts";

/**
 * The store speaks one SQL dialect (PostgreSQL) over two drivers: embedded PGlite by default and
 * node-postgres for a real server. Repositories write parameterised SQL against `SqlClient`.
 *
 * Why not an ORM: the schema lives once, in forward-only SQL migrations that both engines run; the
 * audit log's hot path needs driver-level batching; and `query(text, params)` is the one surface both
 * drivers share exactly, so nothing can be built by string pasting without it showing in review.
 */
export interface QueryResult<T> {
  rows: T[];
  affectedRows?: number;
}

export interface SqlClient {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Runs a trusted multi-statement script (migrations only): never pass user input here. */
  exec(script: string): Promise<void>;
  /**
   * Inside `tx` only: runs `fn` once the transaction has committed (never if it rolls back). For work
   * that must not see uncommitted state, e.g. telling listeners about new audit log entries.
   */
  afterCommit?(fn: () => void): void;
  /**
   * COPY `table (columns)` FROM STDIN in binary format, `chunks` being the COPY data in order (file
   * header, tuples, trailer: see src/eventlog/eventlog.copy.ts). Bulk appends only; table and columns
   * are trusted identifiers from the code, never input.
   */
  copyIn(table: string, columns: readonly string[], chunks: readonly Uint8Array[]): Promise<void>;
}

const copyStatement = (table: string, columns: readonly string[], from: string) =>
  `COPY ${table} (${columns.join(", ")}) FROM ${from} (FORMAT binary)`;

export type StoreKind = "pglite" | "postgres";

export interface Store extends SqlClient {
  readonly kind: StoreKind;
  /** Runs `fn` in one transaction; rolls back if it throws. No network calls inside, please. */
  tx<T>(fn: (q: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** For PGlite stores only: the engine, for dumping a template in tests. */
  readonly pglite?: PGlite;
}

// Uniform value types across both drivers: int8 and numeric as JS numbers (ids are uuids, counters
// stay far below 2^53), `date` as 'YYYY-MM-DD' strings (node-postgres would build a local-midnight Date).
const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const toNumber = (v: string) => Number(v);
const asIs = (v: string) => v;

export interface StoreOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  /** A PGlite data-dir tarball to start from (tests clone a migrated template this way). */
  loadDataDir?: Blob;
  poolSize?: number;
}

/** After-commit callbacks run in order; one that throws does not stop the others (nor undo the commit). */
function runAfterCommit(fns: (() => void)[]): void {
  for (const f of fns) {
    try {
      f();
    } catch {
      // The callback owns its errors (it logs them); the transaction has committed regardless.
    }
  }
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.poolSize ?? 10);
  return openPglite(opts.dataDir, opts.loadDataDir);
}

async function openPglite(dataDir: string | undefined, loadDataDir: Blob | undefined): Promise<Store> {
  let dir: string | undefined;
  if (dataDir) {
    dir = path.join(dataDir, "pgdata");
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
  const db = await PGlite.create({
    ...(dir ? { dataDir: dir } : {}),
    ...(loadDataDir ? { loadDataDir } : {}),
    parsers: { [INT8]: toNumber, [NUMERIC]: toNumber, [DATE]: asIs },
  });
  const wrap = (q: Pick<PGlite, "query" | "exec">): SqlClient => ({
    async query<T>(text: string, params?: unknown[]) {
      const r = await q.query<T>(text, params as unknown[]);
      return { rows: r.rows, affectedRows: r.affectedRows ?? 0 };
    },
    async copyIn(table, columns, chunks) {
      // PGlite reads COPY data from the blob it is given as the device /dev/blob.
      await q.query(copyStatement(table, columns, "'/dev/blob'"), [], {
        blob: new Blob(chunks as unknown as BlobPart[]),
      });
    },
    async exec(script: string) {
      await q.exec(script);
    },
  });
  const base = wrap(db);
  return {
    kind: "pglite",
    pglite: db,
    query: base.query,
    exec: base.exec,
    copyIn: base.copyIn,
    async tx(fn) {
      const after: (() => void)[] = [];
      const result = await db.transaction((t) => fn({ ...wrap(t), afterCommit: (f) => after.push(f) }));
      runAfterCommit(after);
      return result;
    },
    close: () => db.close(),
  };
}

async function openPostgres(url: string, max: number): Promise<Store> {
  const types = {
    getTypeParser: ((oid: number, format?: "text" | "binary") => {
      if (oid === INT8 || oid === NUMERIC) return toNumber;
      if (oid === DATE) return asIs;
      return pg.types.getTypeParser(oid, format);
    }) as typeof pg.types.getTypeParser,
  };
  // sslmode as libpq defines it (see pg-ssl.ts); prefer/allow settle on TLS or plaintext at open.
  const plan = pgConnectionPlan(url);
  const newPool = (ssl: false | ConnectionOptions) => {
    const p = new pg.Pool({ connectionString: plan.connectionString, max, types, ssl });
    // An idle client that loses its server must not crash the process; the next query reconnects.
    p.on("error", () => {});
    return p;
  };
  let pool = newPool(plan.ssl);
  try {
    await pool.query("select 1");
  } catch (e) {
    await pool.end().catch(() => {});
    if (plan.fallback === undefined || !wantsFallback(plan, e)) throw e;
    pool = newPool(plan.fallback);
    await pool.query("select 1");
  }
  const wrap = (c: pg.Pool | pg.PoolClient): SqlClient => ({
    async query<T>(text: string, params?: unknown[]) {
      const r = await c.query(text, params);
      return { rows: r.rows as T[], affectedRows: r.rowCount ?? 0 };
    },
    async copyIn(table, columns, chunks) {
      const client = c instanceof pg.Pool ? await c.connect() : c;
      try {
        await pipeline(Readable.from(chunks), client.query(copyFrom(copyStatement(table, columns, "STDIN"))));
      } finally {
        if (c instanceof pg.Pool) (client as pg.PoolClient).release();
      }
    },
    async exec(script: string) {
      await c.query(script);
    },
  });
  const base = wrap(pool);
  return {
    kind: "postgres",
    query: base.query,
    exec: base.exec,
    copyIn: base.copyIn,
    async tx(fn) {
      const client = await pool.connect();
      const after: (() => void)[] = [];
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        await client.query("begin");
        result = await fn({ ...wrap(client), afterCommit: (f) => after.push(f) });
        await client.query("commit");
      } catch (e) {
        await client.query("rollback").catch(() => {});
        throw e;
      } finally {
        client.release();
      }
      runAfterCommit(after);
      return result;
    },
    close: () => pool.end(),
  };
}
