import { spawnSync } from "node:child_process";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { migrate } from "../src/store/migrate.ts";
import { openStore } from "../src/store/store.ts";

/**
 * Migrates one store per test run and hands its location to every test file, which clones it:
 * PGlite is slow to create on two cores, so files load a dumped, migrated data dir; on PostgreSQL
 * (WARDEN_TEST_DATABASE_URL) each file creates a database from a migrated template.
 */
declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: string;
    pgTemplate: string;
    /** A directory with the CLI built as `npm run build` ships it (warden.js, warden-share.js, workers). */
    cliBundle: string;
  }
}

/**
 * Builds the CLI once for the run, the way `npm run build` does, so the CLI suites spawn the bundle (as
 * the installed `warden` runs it) instead of compiling the sources with tsx in every child (0.6 s
 * instead of 1.3 s per command). Packages stay external: the bundle's folder links this node_modules.
 */
async function buildCli(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const root = path.resolve(import.meta.dirname, "..");
  const dir = await mkdtemp(path.join(os.tmpdir(), "warden-cli-"));
  await symlink(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  const r = spawnSync(process.execPath, ["scripts/build.mjs", "--server-only", "--out", dir], {
    cwd: root,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`building the CLI for the tests failed: ${r.stderr}`);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export default async function setup(project: TestProject) {
  const cli = await buildCli();
  project.provide("cliBundle", cli.dir);
  const pgUrl = process.env.WARDEN_TEST_DATABASE_URL;
  if (pgUrl) {
    const name = `warden_tpl_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(pgUrl);
    url.pathname = `/${name}`;
    const store = await openStore({ databaseUrl: url.toString(), poolSize: 2 });
    await migrate(store);
    await store.close();
    project.provide("pgTemplate", name);
    project.provide("pgliteTemplate", "");
    return async () => {
      // Test files drop their own databases; the template goes last.
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      await cli.remove();
    };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "warden-test-"));
  const store = await openStore({});
  await migrate(store);
  const dump = await store.pglite!.dumpDataDir("gzip");
  const file = path.join(dir, "template.tar.gz");
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  await store.close();
  project.provide("pgliteTemplate", file);
  project.provide("pgTemplate", "");
  return async () => {
    await cli.remove();
  };
}
