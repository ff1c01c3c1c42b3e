import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manualClock } from "../core/clock.ts";
import { ConnectorError } from "./connector.errors.ts";
import type { Connector, ConnectorGrant } from "./connector.types.ts";
import { createPostgresConnector, postgresRoleName, postgresSettingsSchema } from "./postgres.connector.ts";

// The real PostgreSQL of the test machine (trust authentication for the admin connection).
const admin = { host: "127.0.0.1", port: 5432, user: "postgres", database: "test" };
const run = randomBytes(4).toString("hex");
const database = `warden_conn_${run}`;
// Roles are cluster-wide: ids unique to this run keep parallel runs apart.
const developerId = `dev-Ada.Lovelace@vendor-${run}`;
const clock = manualClock("2026-03-01T09:00:00Z");
let connector: Connector;
let dbAdmin: pg.Client;
const clients: pg.Client[] = [];

const grant = (over: Partial<ConnectorGrant> = {}): ConnectorGrant => ({
  id: "grant-1",
  level: "read",
  startsAt: new Date("2026-03-01T09:00:00Z"),
  // The role's VALID UNTIL is real time on the server; keep it in the future there too.
  endsAt: new Date(Date.now() + 3_600_000),
  developer: { id: developerId },
  resource: { id: "orders-db" },
  ...over,
});

async function connectAs(user: string, password: string): Promise<pg.Client> {
  const c = new pg.Client({ ...admin, database, user, password });
  c.on("error", () => {});
  await c.connect();
  clients.push(c);
  return c;
}

/** Proves `password` authenticates against the role's stored SCRAM-SHA-256 verifier (RFC 5802). */
function scramAccepts(verifier: string, password: string): boolean {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) return false;
  const salted = pbkdf2Sync(password, Buffer.from(m[2]!, "base64"), Number(m[1]), 32, "sha256");
  const storedKey = createHash("sha256").update(createHmac("sha256", salted).update("Client Key").digest());
  return storedKey.digest("base64") === m[3];
}

beforeAll(async () => {
  const root = new pg.Client(admin);
  await root.connect();
  await root.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  await root.end();
  dbAdmin = new pg.Client({ ...admin, database });
  await dbAdmin.connect();
  await dbAdmin.query("CREATE SCHEMA app");
  await dbAdmin.query("CREATE TABLE app.orders (id serial PRIMARY KEY, item text NOT NULL)");
  await dbAdmin.query("INSERT INTO app.orders (item) VALUES ('tea'), ('scones')");
  connector = createPostgresConnector(
    { connection: { ...admin, database }, schemas: ["app"], connectionLimit: 2 },
    { clock },
  );
});

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {});
  await connector?.close();
  await dbAdmin?.end();
  const root = new pg.Client(admin);
  await root.connect();
  await root.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
  for (const dev of [developerId, `nobody-${run}`, `dev-x-${run}`]) {
    await root.query(
      `DROP ROLE IF EXISTS ${pg.escapeIdentifier(postgresRoleName("warden_", dev, "orders-db"))}`,
    );
  }
  await root.end();
});

describe("the PostgreSQL connector", () => {
  const role = postgresRoleName("warden_", developerId, "orders-db");

  it("creates a plain login role with a working password, the grant's end as VALID UNTIL and a connection limit", async () => {
    const g = grant();
    const result = await connector.provision(g);
    expect(result.state).toBe("active");
    expect(result.externalRef).toBe(role);
    expect(result.secret?.kind).toBe("password");
    const row = (
      await dbAdmin.query(
        "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolvaliduntil, rolconnlimit, rolpassword FROM pg_authid WHERE rolname = $1",
        [role],
      )
    ).rows[0];
    expect(row).toMatchObject({
      rolcanlogin: true,
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolconnlimit: 2,
    });
    expect(new Date(row.rolvaliduntil).toISOString()).toBe(g.endsAt.toISOString());
    // pg_hba here is trust, so a login alone proves nothing about the password: check it against the
    // stored SCRAM verifier, which is what scram-sha-256 authentication does.
    expect(scramAccepts(row.rolpassword, result.secret!.value)).toBe(true);
    expect(scramAccepts(row.rolpassword, "not-the-password")).toBe(false);
  });

  it("lets the role SELECT during a read grant but not INSERT", async () => {
    const { secret } = await connector.provision(grant());
    const dev = await connectAs(role, secret!.value);
    const rows = await dev.query("SELECT item FROM app.orders ORDER BY id");
    expect(rows.rows.map((r) => r.item)).toEqual(["tea", "scones"]);
    await expect(dev.query("INSERT INTO app.orders (item) VALUES ('cake')")).rejects.toMatchObject({
      code: "42501",
    });
    await dev.end();
  });

  it("extends read to tables created after the grant (default privileges)", async () => {
    await connector.provision(grant());
    await dbAdmin.query("CREATE TABLE IF NOT EXISTS app.invoices (id int)");
    const priv = await dbAdmin.query(
      "SELECT has_table_privilege($1, 'app.invoices', 'SELECT') AS s, has_table_privilege($1, 'app.invoices', 'INSERT') AS i",
      [role],
    );
    expect(priv.rows[0]).toEqual({ s: true, i: false });
  });

  it("grants INSERT, UPDATE and DELETE at write level and takes them back when re-provisioned at read", async () => {
    const w = await connector.provision(grant({ level: "write" }));
    const dev = await connectAs(role, w.secret!.value);
    await dev.query("INSERT INTO app.orders (item) VALUES ('cake')");
    await dev.query("UPDATE app.orders SET item = 'lemon cake' WHERE item = 'cake'");
    await dev.query("DELETE FROM app.orders WHERE item = 'lemon cake'");
    await dev.end();
    await connector.provision(grant({ level: "read" }));
    const priv = await dbAdmin.query("SELECT has_table_privilege($1, 'app.orders', 'INSERT') AS i", [role]);
    expect(priv.rows[0].i).toBe(false);
  });

  it("reports the access live while granted", async () => {
    await connector.provision(grant());
    const check = await connector.check(grant());
    expect(check).toMatchObject({ live: true, state: "active" });
  });

  it("cuts an open session at revocation and refuses new logins", async () => {
    const { secret } = await connector.provision(grant());
    const open = await connectAs(role, secret!.value);
    await open.query("SELECT 1");
    await connector.revoke(grant());
    await expect(open.query("SELECT item FROM app.orders")).rejects.toThrow();
    await expect(connectAs(role, secret!.value)).rejects.toMatchObject({ code: "28000" });
    const row = (
      await dbAdmin.query("SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = $1", [role])
    ).rows[0];
    expect(row).toEqual({ rolcanlogin: false, rolpassword: null });
    const priv = await dbAdmin.query(
      "SELECT has_table_privilege($1, 'app.orders', 'SELECT') AS t, has_schema_privilege($1, 'app', 'USAGE') AS s",
      [role],
    );
    expect(priv.rows[0]).toEqual({ t: false, s: false });
    expect(await connector.check(grant())).toMatchObject({ live: false, state: "nologin" });
  });

  it("treats a second revocation, or one of a role that never existed, as done", async () => {
    await connector.revoke(grant());
    await connector.revoke(grant({ developer: { id: `nobody-${run}` } }));
    expect(await connector.check(grant({ developer: { id: `nobody-${run}` } }))).toMatchObject({
      live: false,
      state: "absent",
    });
  });

  it("shows a grant as no longer live once its end has passed, and revocation at expiry cuts the session", async () => {
    const endsAt = new Date(clock.now().getTime() + 60_000);
    const g = grant({ endsAt: new Date(Date.now() + 3_600_000) });
    const { secret } = await connector.provision(g);
    const open = await connectAs(role, secret!.value);
    // The sweeper's clock passes the grant's end; its check sees the access as expired...
    await dbAdmin.query(
      `ALTER ROLE ${pg.escapeIdentifier(role)} VALID UNTIL ${pg.escapeLiteral(endsAt.toISOString())}`,
    );
    clock.advance(120_000);
    expect(await connector.check(g)).toMatchObject({ live: false, state: "expired" });
    // ...and revokes: VALID UNTIL alone would neither end the open session nor stop a trust login.
    await connector.revoke(g);
    await expect(open.query("SELECT 1")).rejects.toThrow();
    await expect(connectAs(role, secret!.value)).rejects.toMatchObject({ code: "28000" });
  });

  it("refuses to provision a grant that has already ended", async () => {
    await expect(
      connector.provision(grant({ endsAt: new Date("2026-01-01T00:00:00Z") })),
    ).rejects.toMatchObject({
      reason: "invalid_grant",
      retryable: false,
    });
  });

  it("says a missing schema needs a person, not a retry", async () => {
    const broken = createPostgresConnector(
      { connection: { ...admin, database }, schemas: ["does_not_exist"] },
      { clock },
    );
    try {
      const err = await broken.provision(grant({ developer: { id: `dev-x-${run}` } })).catch((e) => e);
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err).toMatchObject({ reason: "invalid_settings", retryable: false });
      // The transaction rolled back: no half-made role is left.
      const left = await dbAdmin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [
        postgresRoleName("warden_", `dev-x-${run}`, "orders-db"),
      ]);
      expect(left.rowCount).toBe(0);
    } finally {
      await broken.close();
    }
  });

  it("says an unreachable server may be retried", async () => {
    const down = createPostgresConnector({ connection: { ...admin, port: 1, database } }, { clock });
    try {
      await expect(down.check(grant())).rejects.toMatchObject({ reason: "unreachable", retryable: true });
    } finally {
      await down.close();
    }
  });
});

describe("PostgreSQL connector settings", () => {
  it.each([["public; DROP TABLE x"], ['app"'], ["a b"], [""]])("refuses the schema name %j", (schema) => {
    const r = postgresSettingsSchema.safeParse({ connection: admin, schemas: [schema] });
    expect(r.success).toBe(false);
  });

  it("derives distinct valid role names for ids that look alike", () => {
    const a = postgresRoleName("warden_", "Ada Lovelace", "db");
    const b = postgresRoleName("warden_", "ada-lovelace", "db");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^warden_ada_lovelace_db_[0-9a-f]{8}$/);
    expect(postgresRoleName("warden_", "x".repeat(300), "y".repeat(300)).length).toBeLessThanOrEqual(63);
  });
});
