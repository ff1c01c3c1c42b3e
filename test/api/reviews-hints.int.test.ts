import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ask, buildResource, eligibleDeveloper, relaxGate } from "../access-fixtures.ts";
import { type GithubFake, startGithubFake } from "../fakes/github-fake.ts";
import { createTestApp, type SignedIn, type TestApp, type TestClient } from "../harness.ts";
import { again, type Live, liveGrant } from "../reviews-fixtures.ts";

/**
 * Least-privilege hints through the API: usage from the audit trail (the developer's own acts in Warden),
 * from Git hooks' events sent to the ingest API (tied to the repository by its owner/name) and, on
 * request, from the real PostgreSQL at
 * 127.0.0.1:5432 (a session open right now is use). Grants unused for N days are listed for revocation,
 * write grants with only reads seen and admin grants for narrowing.
 */
const server = { host: "127.0.0.1", port: 5432, user: "postgres", database: "test" };
const database = `warden_hints_${randomBytes(4).toString("hex")}`;
const TOKEN = "ghp_hints_token_0123456789abcdef";
const DAY = 86_400_000;
let t: TestApp;
let gh: GithubFake;
let owner: SignedIn;
let otherManager: SignedIn;
let auditor: SignedIn;
let ingest: TestClient;
let repo: { id: string };
let pgResource: { id: string };
let dbAdmin: pg.Client;
const roles: string[] = [];
const sessions: pg.Client[] = [];

const grants: Record<"idle" | "reader" | "writer" | "admin", Live | undefined> = {
  idle: undefined,
  reader: undefined,
  writer: undefined,
  admin: undefined,
};
let pgGrant: { id: string; role: string; password: string };

/** A Git hook's report of a fetch or push by the developer on the repository, sent to the ingest API. */
let hookEvents = 0;
async function used(l: Live, action: "git.fetch" | "git.push") {
  t.app.eventLog.directory.invalidate();
  const r = await ingest.raw(
    "POST",
    "/api/v1/ingest/events",
    `${JSON.stringify({
      source: "git-hook",
      source_event_id: `hook-${++hookEvents}`,
      type: action,
      phase: "complete",
      time: t.clock.now().toISOString(),
      repo: "acme/api",
      user: l.login,
      refs: [],
    })}\n`,
    { "content-type": "application/x-ndjson" },
  );
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

const hintsAs = async (who: SignedIn, query = "") => {
  const r = await who.client.get(`/api/v1/reviews/hints?unusedDays=30${query}`);
  expect(r.status).toBe(200);
  return r.body as {
    items: {
      grantId: string;
      kind: string;
      suggestion: string;
      message: string;
      canRevoke: boolean;
      evidence: string[];
    }[];
    sources: { name: string; grants: number; errors: number }[];
  };
};
const hintFor = (body: Awaited<ReturnType<typeof hintsAs>>, id: string) =>
  body.items.find((h) => h.grantId === id);

beforeAll(async () => {
  const root = new pg.Client(server);
  await root.connect();
  await root.query(`create database ${pg.escapeIdentifier(database)}`);
  await root.end();
  dbAdmin = new pg.Client({ ...server, database });
  await dbAdmin.connect();
  await dbAdmin.query("create schema app");
  await dbAdmin.query("create table app.orders (id serial primary key, item text not null)");

  // The PostgreSQL role's VALID UNTIL is judged by the server's real clock: start at real time.
  t = await createTestApp({ now: new Date().toISOString() });
  gh = await startGithubFake({ token: TOKEN, owner: "acme", repo: "api" });
  await relaxGate(t);
  owner = await t.signIn("manager");
  otherManager = await t.signIn("manager");
  auditor = await t.signIn("auditor");
  const security = await t.signIn("security");
  ingest = t.client();
  ingest.bearer = (
    await t.app.auth.createToken(
      { actor: { kind: "user", userId: security.userId, role: "security", label: "git hooks" }, meta: {} },
      { name: "git hooks", scopes: ["ingest"], expiresInDays: 365 },
    )
  ).secret;
  repo = await buildResource(t, {
    name: "hints-repo",
    kind: "github",
    environment: "staging",
    dataClass: "internal",
    owners: [owner.userId],
    levels: ["read", "write", "admin"],
    maxDurationMinutes: 525_600,
    connector: { apiUrl: gh.url, owner: "acme", repo: "api", token: TOKEN },
  });
  pgResource = await buildResource(t, {
    name: "hints-db",
    kind: "postgres",
    environment: "staging",
    dataClass: "internal",
    owners: [owner.userId],
    levels: ["read"],
    maxDurationMinutes: 525_600,
    connector: { connection: { ...server, database }, schemas: ["app"], connectionLimit: 2 },
  });
  grants.idle = await liveGrant(t, gh, repo, owner, { days: 90 });
  grants.reader = await liveGrant(t, gh, repo, owner, { level: "write", days: 90 });
  grants.writer = await liveGrant(t, gh, repo, owner, { level: "write", days: 90 });
  grants.admin = await liveGrant(t, gh, repo, owner, { level: "admin", days: 90 });

  const dev = await eligibleDeveloper(t);
  const req = await ask(dev, { resourceId: pgResource.id, durationMinutes: 90 * 24 * 60, reason: "Reports" });
  const ok = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "ok" });
  expect(ok.status).toBe(200);
  const grant = (await owner.client.get(`/api/v1/access/grants/${ok.body.grantId}`)).body;
  roles.push(grant.externalRef);
  // Revealing the password is the developer's own act, recorded in the audit trail: a sign of use.
  const cred = await dev.account.client.post(`/api/v1/me/access/grants/${grant.id}/credential`, {});
  expect(cred.status).toBe(200);
  pgGrant = { id: grant.id, role: grant.externalRef, password: cred.body.value };
}, 240_000);

afterAll(async () => {
  for (const s of sessions) await s.end().catch(() => {});
  await gh?.close();
  await t?.close();
  await dbAdmin?.end();
  const root = new pg.Client(server);
  await root.connect();
  await root.query(`drop database if exists ${pg.escapeIdentifier(database)} with (force)`);
  for (const role of roles) await root.query(`drop role if exists ${pg.escapeIdentifier(role)}`);
  await root.end();
});

describe("least-privilege hints", () => {
  it("lists nothing as unused while grants are young, but names admin as the widest level", async () => {
    const body = await hintsAs(owner);
    expect(hintFor(body, grants.idle!.grantId)).toBeUndefined();
    expect(hintFor(body, grants.admin!.grantId)).toMatchObject({ kind: "admin_level", suggestion: "narrow" });
  });

  it("after N days: unused grants for revocation, write with only reads for narrowing", async () => {
    t.clock.advance(25 * DAY);
    await used(grants.reader!, "git.fetch");
    await used(grants.writer!, "git.fetch");
    await used(grants.writer!, "git.push");
    await used(grants.admin!, "git.push");
    t.clock.advance(6 * DAY);

    const body = await hintsAs(await again(t, owner));
    expect(hintFor(body, grants.idle!.grantId)).toMatchObject({
      kind: "unused",
      suggestion: "revoke",
      canRevoke: true,
    });
    expect(hintFor(body, grants.idle!.grantId)!.message).toMatch(
      /^No sign of use in the 31 days since it started/,
    );
    expect(hintFor(body, grants.reader!.grantId)).toMatchObject({
      kind: "write_unused",
      suggestion: "narrow",
    });
    expect(hintFor(body, grants.reader!.grantId)!.evidence).toEqual(["ingested: 1 event (git-hook)"]);
    expect(hintFor(body, grants.writer!.grantId)).toBeUndefined();
    expect(hintFor(body, grants.admin!.grantId)).toMatchObject({ kind: "admin_level" });
    // The PostgreSQL grant: its password was revealed 31 days ago, nothing since.
    expect(hintFor(body, pgGrant.id)).toMatchObject({ kind: "unused" });
    expect(hintFor(body, pgGrant.id)!.message).toMatch(/^No sign of use for 31 days \(last seen /);
    expect(body.sources).toEqual([
      { name: "audit trail", grants: 5, errors: 0 },
      { name: "ingested events", grants: 5, errors: 0 },
    ]);
    // Unused first.
    expect(body.items[0]!.kind).toBe("unused");

    const stranger = await hintsAs(await again(t, otherManager));
    expect(hintFor(stranger, grants.idle!.grantId)!.canRevoke).toBe(false);
    const readOnly = await hintsAs(await again(t, auditor));
    expect(hintFor(readOnly, grants.idle!.grantId)!.canRevoke).toBe(false);
  });

  it("asks PostgreSQL on request: a session open now is use", async () => {
    const session = new pg.Client({ ...server, database, user: pgGrant.role, password: pgGrant.password });
    session.on("error", () => {});
    await session.connect();
    sessions.push(session);
    await session.query("select count(*) from app.orders");

    const probed = await hintsAs(owner, "&connectors=true");
    expect(probed.sources).toEqual([
      { name: "audit trail", grants: 5, errors: 0 },
      { name: "ingested events", grants: 5, errors: 0 },
      { name: "postgres: open sessions", grants: 1, errors: 0 },
    ]);
    expect(hintFor(probed, pgGrant.id)).toBeUndefined();
    expect(hintFor(probed, grants.idle!.grantId)).toMatchObject({ kind: "unused" });

    await session.end();
    const closed = await hintsAs(owner, "&connectors=true");
    expect(hintFor(closed, pgGrant.id)).toMatchObject({ kind: "unused" });
  });

  it("names the bad parameter", async () => {
    const r = await owner.client.get("/api/v1/reviews/hints?unusedDays=0");
    expect(r.status).toBe(400);
    expect(r.body.errors[0].field).toBe("querystring/unusedDays");
  });
});
