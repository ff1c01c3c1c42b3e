#!/usr/bin/env node
// Runs a command with WARDEN_TEST_DATABASE_URL pointing at a fresh PostgreSQL database, dropped after.
// The server defaults to 127.0.0.1:5432 (trust auth); override with WARDEN_TEST_PG_ADMIN_URL.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";

const adminUrl = process.env.WARDEN_TEST_PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const name = `warden_ci_${randomBytes(5).toString("hex")}`;
const admin = new pg.Client({ connectionString: adminUrl });
try {
  await admin.connect();
} catch (e) {
  console.error(
    `error: cannot reach PostgreSQL at ${adminUrl}: ${e.message}\nhint: start it, or set WARDEN_TEST_PG_ADMIN_URL`,
  );
  process.exit(2);
}
await admin.query(`create database ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const [cmd, ...args] = process.argv.slice(2);
const r = spawnSync(cmd, args, {
  stdio: "inherit",
  env: { ...process.env, WARDEN_TEST_DATABASE_URL: url.toString() },
  shell: false,
});
await admin.query(`drop database if exists ${name} with (force)`);
await admin.end();
process.exit(r.status ?? 1);
