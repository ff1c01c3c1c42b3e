import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresRoleName } from "../../src/connectors/index.ts";
import { decryptText, generateKeyPair } from "../../src/crypto/age/index.ts";
import {
  ask,
  buildResource,
  eligibleDeveloper,
  relaxGate,
  type TokenAccount,
  tokenAccount,
} from "../access-fixtures.ts";
import { createTestApp, type TestApp } from "../harness.ts";

/**
 * A grant on the real PostgreSQL at 127.0.0.1:5432, end to end through Warden's API: the developer's
 * role can SELECT during a read grant and cannot write; the password reaches the developer once (in the
 * clear or age-encrypted to their key); after revocation or expiry the role cannot connect and the
 * session it had open is cut.
 */
const server = { host: "127.0.0.1", port: 5432, user: "postgres", database: "test" };
const database = `warden_access_${randomBytes(4).toString("hex")}`;
let t: TestApp;
let owner: TokenAccount;
let dbAdmin: pg.Client;
let resourceId = "";
const roles: string[] = [];
const clients: pg.Client[] = [];

async function connectAs(user: string, password: string) {
  const c = new pg.Client({ ...server, database, user, password });
  c.on("error", () => {});
  await c.connect();
  clients.push(c);
  return c;
}

/** pg_hba here is trust: the password is proven against the role's SCRAM-SHA-256 verifier instead. */
async function passwordMatches(role: string, password: string) {
  const verifier = (await dbAdmin.query("select rolpassword from pg_authid where rolname = $1", [role]))
    .rows[0]?.rolpassword as string | null;
  const m = verifier && /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) return false;
  const salted = pbkdf2Sync(password, Buffer.from(m[2]!, "base64"), Number(m[1]), 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return createHash("sha256").update(clientKey).digest("base64") === m[3];
}

async function grantFor(dev: Awaited<ReturnType<typeof eligibleDeveloper>>, minutes: number) {
  const req = await ask(dev, { resourceId, level: "read", durationMinutes: minutes, reason: "Check orders" });
  const r = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "ok" });
  expect(r.status).toBe(200);
  const grant = (await owner.client.get(`/api/v1/access/grants/${r.body.grantId}`)).body;
  expect(grant.state).toBe("active");
  roles.push(grant.externalRef);
  expect(grant.externalRef).toBe(postgresRoleName("warden_", dev.id, resourceId));
  return grant;
}

beforeAll(async () => {
  const root = new pg.Client(server);
  await root.connect();
  await root.query(`create database ${pg.escapeIdentifier(database)}`);
  await root.end();
  dbAdmin = new pg.Client({ ...server, database });
  await dbAdmin.connect();
  await dbAdmin.query("create schema app");
  await dbAdmin.query("create table app.orders (id serial primary key, item text not null)");
  await dbAdmin.query("insert into app.orders (item) values ('tea'), ('scones')");
  // VALID UNTIL is judged by the server's real clock: Warden's clock starts at real time here.
  t = await createTestApp({ now: new Date().toISOString() });
  await relaxGate(t);
  owner = await tokenAccount(t, "manager");
  resourceId = (
    await buildResource(t, {
      name: "orders-db",
      kind: "postgres",
      environment: "staging",
      dataClass: "confidential",
      owners: [owner.userId],
      levels: ["read", "write"],
      connector: { connection: { ...server, database }, schemas: ["app"], connectionLimit: 2 },
    })
  ).id;
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.end().catch(() => {});
  await t?.close();
  await dbAdmin?.end();
  const root = new pg.Client(server);
  await root.connect();
  await root.query(`drop database if exists ${pg.escapeIdentifier(database)} with (force)`);
  for (const role of roles) await root.query(`drop role if exists ${pg.escapeIdentifier(role)}`);
  await root.end();
});

describe("a PostgreSQL grant", () => {
  it("gives a role that can SELECT but not write, with the password revealed once, and revocation cuts it off", async () => {
    const dev = await eligibleDeveloper(t);
    const grant = await grantFor(dev, 60);
    expect(grant.credential).toEqual({ format: "sealed", revealed: false });

    const cred = await dev.account.client.post(`/api/v1/me/access/grants/${grant.id}/credential`, {});
    expect(cred.status).toBe(200);
    expect(cred.headers["cache-control"]).toBe("no-store");
    expect(cred.body).toMatchObject({ format: "plain", connection: { role: grant.externalRef, database } });
    const password = cred.body.value as string;
    expect(await passwordMatches(grant.externalRef, password)).toBe(true);
    const again = await dev.account.client.post(`/api/v1/me/access/grants/${grant.id}/credential`, {});
    expect(again.status).toBe(410);
    expect(again.body.detail).toMatch(/already revealed/);
    const row = (
      await t.store.query<{ payload: Uint8Array | null }>(
        "select payload from access_credentials where grant_id = $1",
        [grant.id],
      )
    ).rows[0]!;
    expect(row.payload).toBeNull();

    const session = await connectAs(grant.externalRef, password);
    const rows = await session.query("select item from app.orders order by id");
    expect(rows.rows.map((r) => r.item)).toEqual(["tea", "scones"]);
    await expect(session.query("insert into app.orders (item) values ('cake')")).rejects.toMatchObject({
      code: "42501",
    });
    await expect(session.query("delete from app.orders")).rejects.toMatchObject({ code: "42501" });

    const revoked = await owner.client.post(`/api/v1/access/grants/${grant.id}/revoke`, { reason: "done" });
    expect(revoked.body.state).toBe("revoked");
    // The open session was terminated, and the role may no longer log in at all (NOLOGIN).
    await expect(session.query("select 1")).rejects.toThrow();
    await expect(connectAs(grant.externalRef, password)).rejects.toMatchObject({ code: "28000" });
  });

  it("encrypts the password to the developer's age key, and expiry cuts the open session", async () => {
    const key = generateKeyPair();
    const dev = await eligibleDeveloper(t, { developer: { ageRecipients: [key.recipient] } });
    const grant = await grantFor(dev, 5);
    expect(grant.credential).toEqual({ format: "age", revealed: false });
    const cred = await dev.account.client.post(`/api/v1/me/access/grants/${grant.id}/credential`, {});
    expect(cred.body.format).toBe("age");
    expect(cred.body.value).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    const password = await decryptText(cred.body.value, [key.identity]);
    expect(await passwordMatches(grant.externalRef, password)).toBe(true);

    const session = await connectAs(grant.externalRef, password);
    expect((await session.query("select count(*)::int as n from app.orders")).rows[0].n).toBe(2);
    t.clock.set(new Date(new Date(grant.endsAt).getTime() + 1000));
    await t.app.scheduler.runNow("access.sweep");
    expect(await t.app.access.grants.get(grant.id)).toMatchObject({ state: "expired", endReason: "expired" });
    await expect(session.query("select 1")).rejects.toThrow();
    await expect(connectAs(grant.externalRef, password)).rejects.toMatchObject({ code: "28000" });
  });
});
