import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Store } from "./store.ts";

/**
 * Forward-only SQL migrations in `migrations/<timestamp>_<name>.sql`, identical on PGlite and
 * PostgreSQL. Written by hand (a few dozen lines) because we need two things migration libraries
 * handle poorly across both engines: one advisory lock so several Warden nodes can start together,
 * and refusing to run against a store that a newer Warden already migrated.
 */
export interface MigrationReport {
  applied: string[];
  current: string[];
}

export class StoreTooNewError extends Error {
  constructor(unknown: string[]) {
    super(
      `This store was migrated by a newer Warden (unknown migrations: ${unknown.join(", ")}). ` +
        "Upgrade Warden before starting it on this store.",
    );
    this.name = "StoreTooNewError";
  }
}

export function findMigrationsDir(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, "migrations");
    if (existsSync(path.join(dir, "package.json")) && existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("migrations/ folder not found beside Warden's package.json");
    dir = parent;
  }
}

export async function listMigrations(dir = findMigrationsDir()): Promise<{ id: string; file: string }[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{14}_[a-z0-9_-]+\.sql$/.test(f)).sort();
  return files.map((f) => ({ id: f.replace(/\.sql$/, ""), file: path.join(dir, f) }));
}

// Arbitrary constant: the advisory-lock key that serialises migrations across nodes ("WARDEN01").
const MIGRATION_LOCK = 0x5741_5244_454e_3031n;

export async function migrate(store: Store, dir = findMigrationsDir()): Promise<MigrationReport> {
  const migrations = await listMigrations(dir);
  const known = new Set(migrations.map((m) => m.id));
  return store.tx(async (q) => {
    await q.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK.toString()]);
    await q.query(
      "create table if not exists warden_migrations (id text primary key, applied_at timestamptz not null default now())",
    );
    const done = new Set(
      (await q.query<{ id: string }>("select id from warden_migrations order by id")).rows.map((r) => r.id),
    );
    const unknown = [...done].filter((id) => !known.has(id));
    if (unknown.length > 0) throw new StoreTooNewError(unknown);
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      const sql = await readFile(m.file, "utf8");
      // Migration files are our own trusted SQL; run as a multi-statement script.
      await q.exec(sql);
      await q.query("insert into warden_migrations (id) values ($1)", [m.id]);
      applied.push(m.id);
    }
    return { applied, current: migrations.map((m) => m.id) };
  });
}
