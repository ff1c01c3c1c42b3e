import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  fromBase64,
  hashLeaf,
  openCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
  verifyTlogProof,
} from "../../src/tlog/index.ts";
import { appendToEdge, emptyEdge } from "../../src/tlog/tlog.tree.ts";
import { createTestApp, type SignedIn, type TestApp, type TestClient } from "../harness.ts";

const enc = new TextEncoder();

async function tokenFor(user: SignedIn, scopes: string[]): Promise<string> {
  const r = await user.client.post("/api/v1/tokens", {
    name: `t-${scopes.join("-")}`,
    scopes,
    expiresInDays: 365,
  });
  expect(r.status).toBe(201);
  return r.body.secret as string;
}

function ndjson(records: unknown[]): string {
  return `${records.map((r) => JSON.stringify(r)).join("\n")}\n`;
}

const post = (c: TestClient, body: string) =>
  c.raw("POST", "/api/v1/ingest/events", body, { "content-type": "application/x-ndjson" });

function hookRecord(i: number, o: Record<string, unknown> = {}) {
  return {
    source: "git-hook",
    type: "git.fetch",
    phase: "complete",
    refs: [],
    repo: `acme/repo-${i % 3}`,
    user: "octo-dev",
    remote_ip: `198.51.100.${i % 200}`,
    time: new Date(Date.UTC(2026, 10, 2, 9, 0, i)).toISOString(),
    source_event_id: `hook-${i}`,
    ...o,
  };
}

describe("the verifiable event log over HTTP", () => {
  let t: TestApp;
  let admin: SignedIn;
  let ingestClient: TestClient;
  let developer: { id: string };
  beforeAll(async () => {
    t = await createTestApp({ now: "2026-11-02T10:00:00Z" });
    admin = await t.signIn("admin");
    developer = await t.buildDeveloper({
      fullName: "Kenji Sato",
      timeZone: "Asia/Tokyo",
      gitUsernames: { github: "octo-dev" },
    });
    for (const name of ["Acme", "Globex"]) {
      expect(
        (await admin.client.post("/api/v1/vendors", { name, country: "PT", riskTier: "low" })).status,
      ).toBe(201);
    }
    ingestClient = t.client();
    ingestClient.bearer = await tokenFor(admin, ["ingest"]);
  });
  afterAll(async () => t?.close());

  it("publishes a signed checkpoint and hash tiles without authentication, entries only to auditors", async () => {
    const anon = t.client();
    const key = await anon.get("/log/key");
    expect(key.status).toBe(200);
    const cp = await anon.get("/log/checkpoint");
    expect(cp.status).toBe(200);
    expect(String(cp.headers["content-type"])).toMatch(/^text\/plain/);
    const verifier = parseVerifierKey(String(key.body).trim());
    const opened = openCheckpoint(String(cp.body), verifier);
    expect(opened.size).toBeGreaterThan(5);
    const tile = await anon.raw("GET", `/log/tile/0/000.p/${Math.min(opened.size, 255)}`, "", {});
    expect(tile.status).toBe(200);
    const entries = await anon.raw("GET", `/log/tile/entries/000.p/${Math.min(opened.size, 255)}`, "", {});
    expect(entries.status).toBe(401);
    expect((await admin.client.get(`/log/tile/entries/000.p/${Math.min(opened.size, 255)}`)).status).toBe(
      200,
    );
    expect((await anon.get("/log/tile/0/999")).status).toBe(404);
  });

  it("logs each change as an entry whose inclusion proof and receipt verify against the checkpoint", async () => {
    const list = await admin.client.get("/api/v1/events?action=vendor.create");
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(2);
    const id = list.body.items[0].id;
    const d = await admin.client.get(`/api/v1/events/${id}`);
    expect(d.status).toBe(200);
    expect(d.body.entry.action).toBe("vendor.create");
    expect(d.body.ocsf.class_uid).toBe(6003);
    const verifier = parseVerifierKey(String((await admin.client.get("/log/key")).body).trim());
    const cp = openCheckpoint(d.body.proof.checkpoint, verifier);
    const leaf = hashLeaf(enc.encode(canonical(d.body.entry)));
    expect(Buffer.from(leaf).toString("base64")).toBe(d.body.proof.leafHash);
    expect(
      verifyInclusion(
        d.body.index,
        cp.size,
        leaf,
        d.body.proof.hashes.map((h: string) => fromBase64(h)!),
        cp.root,
      ),
    ).toBe(true);
    const receipt = await admin.client.get(`/api/v1/events/${id}/receipt`);
    expect(receipt.status).toBe(200);
    expect(verifyTlogProof(String(receipt.body), enc.encode(canonical(d.body.entry)), verifier).index).toBe(
      d.body.index,
    );
  });

  it("proves consistency between an old checkpoint and the current tree", async () => {
    const verifier = parseVerifierKey(String((await admin.client.get("/log/key")).body).trim());
    const old = openCheckpoint(String((await admin.client.get("/log/checkpoint")).body), verifier);
    await admin.client.post("/api/v1/vendors", { name: "Initech", country: "PT", riskTier: "low" });
    const now = openCheckpoint(String((await admin.client.get("/log/checkpoint")).body), verifier);
    expect(now.size).toBeGreaterThan(old.size);
    const p = await admin.client.get(`/api/v1/log/proof/consistency?from=${old.size}&to=${now.size}`);
    expect(p.status).toBe(200);
    expect(
      verifyConsistency(
        old.size,
        now.size,
        old.root,
        now.root,
        p.body.hashes.map((h: string) => fromBase64(h)!),
      ),
    ).toBe(true);
  });

  it("ingests NDJSON with an ingest token, maps the actor to the developer, and is idempotent", async () => {
    const body = ndjson([hookRecord(1), hookRecord(2), hookRecord(3)]);
    const r = await post(ingestClient, body);
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(3);
    expect(r.body.events.map((e: { line: number }) => e.line)).toEqual([1, 2, 3]);
    const again = await post(ingestClient, ndjson([hookRecord(3), hookRecord(4)]));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(again.body.events[0]).toMatchObject({
      id: r.body.events[2].id,
      index: r.body.events[2].index,
      duplicate: true,
    });
    const mine = await admin.client.get(`/api/v1/events?developerId=${developer.id}&source=git-hook`);
    expect(mine.body.items).toHaveLength(4);
    expect(mine.body.items[0].developer).toEqual({ id: developer.id, name: "Kenji Sato" });
    const d = await admin.client.get(`/api/v1/events/${r.body.events[0].id}`);
    expect(d.body.ocsf.class_uid).toBe(6006);
    expect(JSON.parse(d.body.original)).toEqual(hookRecord(1));
  });

  it("attributes SSH logins to the developer by certificate key id, and others by e-mail", async () => {
    const dev = await admin.client.get(`/api/v1/developers/${developer.id}`);
    const ssh = (i: number, credential: Record<string, string>, user?: Record<string, string>) => ({
      source: "ocsf",
      event: {
        class_uid: 3002,
        category_uid: 3,
        activity_id: 1,
        type_uid: 300201,
        time: Date.parse("2026-11-02T05:10:00Z"),
        severity_id: 1,
        status_id: 1,
        metadata: { version: "1.3.0", product: { name: "sshd" }, uid: `attr-${i}` },
        ...(user ? { user } : {}),
        warden: { source: "syslog", credential },
      },
    });
    const r = await post(
      ingestClient,
      ndjson([
        ssh(1, { sshKeyId: `warden grant 7f3a for ${dev.body.email}` }),
        ssh(2, { sshKeyId: `grant-${developer.id}` }),
        ssh(3, {}, { name: "kenji", email_addr: dev.body.email.toUpperCase() }),
        ssh(4, { sshKeyId: "someone-else@example.org" }),
      ]),
    );
    expect(r.status).toBe(200);
    const devs = await Promise.all(
      r.body.events.map(
        async (e: { id: string }) =>
          (await admin.client.get(`/api/v1/events/${e.id}`)).body.developer?.id ?? null,
      ),
    );
    expect(devs).toEqual([developer.id, developer.id, developer.id, null]);
  });

  it("signs a checkpoint from the scheduler when the log has grown", async () => {
    const before = (await admin.client.get("/api/v1/log")).body.size as number;
    await admin.client.post("/api/v1/vendors", { name: "Umbrella", country: "PT", riskTier: "low" });
    const run = await t.app.scheduler.runNow("log.checkpoint");
    expect(run.outcome).toBe("ok");
    expect(Number(run.summary.size)).toBeGreaterThan(before);
  });

  it("appends nothing from a batch with an invalid line and names the line", async () => {
    const before = (await admin.client.get("/api/v1/log")).body.size;
    const r = await post(ingestClient, `${JSON.stringify(hookRecord(10))}\n{not json\n`);
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toEqual({ field: "line 2", message: "is not JSON" });
    expect((await admin.client.get("/api/v1/log")).body.size).toBe(before);
  });

  it("refuses ingestion without the ingest scope, and other routes with an ingest-only token", async () => {
    const reader = t.client();
    reader.bearer = await tokenFor(admin, ["read", "write"]);
    expect((await post(reader, ndjson([hookRecord(20)]))).status).toBe(403);
    expect((await ingestClient.get("/api/v1/events")).status).toBe(403);
    const anon = t.client();
    expect((await post(anon, ndjson([hookRecord(21)]))).status).toBe(401);
  });

  it("searches by vendor, action, resource, outcome, source address, time and free text", async () => {
    const q = async (qs: string) => (await admin.client.get(`/api/v1/events?${qs}`)).body.items as any[];
    expect((await q("resource=repo-1")).every((e) => e.resource.id.includes("repo-1"))).toBe(true);
    expect((await q("sourceIp=198.51.100.2")).map((e) => e.srcIp)).toEqual(["198.51.100.2"]);
    expect((await q("outcome=success&source=git-hook")).length).toBe(4);
    expect((await q("outcome=failure&source=git-hook")).length).toBe(0);
    expect((await q("q=Globex")).some((e) => e.action === "vendor.create")).toBe(true);
    expect(
      (await q("from=2026-11-02T09:00:02Z&to=2026-11-02T09:00:04Z&source=git-hook")).map((e) => e.sourceUid),
    ).toEqual(["hook-3", "hook-2"]);
    expect((await q("q=nothing-like-this")).length).toBe(0);
  });

  it("draws the heat map in the developer's own time zone: 17:00 UTC is 02:00 in Tokyo", async () => {
    const at = "2026-11-03T17:00:00Z"; // Wednesday 02:00 in Asia/Tokyo
    expect(
      (await post(ingestClient, ndjson([hookRecord(40, { time: at, source_event_id: "late" })]))).status,
    ).toBe(200);
    const h = await admin.client.get(
      `/api/v1/events/heatmap?developerId=${developer.id}&from=2026-10-01T00:00:00Z&to=2026-12-01T00:00:00Z`,
    );
    expect(h.status).toBe(200);
    expect(h.body.timeZone).toBe("Asia/Tokyo");
    expect(h.body.cells).toContainEqual({ dow: 3, hour: 2, n: 1 });
    expect(h.body.cells).toContainEqual({ dow: 1, hour: 18, n: 4 });
  });

  it("exports matching events as OCSF NDJSON with their log index", async () => {
    // Straight through inject: the test client would parse a JSON-ish body.
    const r = await t.server.inject({
      method: "GET",
      url: "/api/v1/events/export?source=git-hook&format=ndjson",
      headers: { cookie: admin.client.cookie! },
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-disposition"]).toMatch(/attachment; filename="warden-events-.*\.ndjson"/);
    const lines = r.body
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    expect(lines[0].class_uid).toBe(6006);
    expect(typeof lines[0].warden.logIndex).toBe("number");
    const json = await admin.client.get("/api/v1/events/export?source=git-hook&format=json");
    expect(json.body).toHaveLength(5);
  });

  it("attributes events to a developer recorded since the last batch, without waiting for a refresh", async () => {
    // The previous tests loaded the actor directory; the clock does not move here.
    const ines = await t.buildDeveloper({ fullName: "Ines Duarte", gitUsernames: { github: "ines-d" } });
    const r = await post(
      ingestClient,
      ndjson([hookRecord(900, { user: "ines-d", source_event_id: "ines-1" })]),
    );
    expect(r.status).toBe(200);
    expect((await admin.client.get(`/api/v1/events/${r.body.events[0].id}`)).body.developer).toEqual({
      id: ines.id,
      name: "Ines Duarte",
    });
    const renamed = await admin.client.patch(`/api/v1/developers/${ines.id}`, {
      gitUsernames: { github: "ines-duarte" },
    });
    expect(renamed.status).toBe(200);
    const again = await post(
      ingestClient,
      ndjson([hookRecord(901, { user: "ines-duarte", source_event_id: "ines-2" })]),
    );
    expect((await admin.client.get(`/api/v1/events/${again.body.events[0].id}`)).body.developer?.id).toBe(
      ines.id,
    );
  });

  it("tells listeners about committed appends only, in order", async () => {
    // Alerts the rules raised from earlier tests' events are logged asynchronously: let them land first.
    await t.app.eventLog.writer.idle();
    await t.app.alerts.detection.idle();
    await t.app.eventLog.writer.idle();
    const seen: string[] = [];
    const off = t.app.eventLog.onAppended((events) => {
      for (const e of events) seen.push(String(e.event.unmapped?.action ?? e.event.metadata.uid));
    });
    await admin.client.post("/api/v1/vendors", { name: "Hooli", country: "PT", riskTier: "low" });
    await expect(
      t.store.tx(async (q) => {
        await t.app.audit.record(
          q,
          { actor: { kind: "system", label: "t" }, meta: {} },
          { action: "rolled.back" },
        );
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    await t.app.eventLog.appendEvents([
      {
        class_uid: 3002,
        category_uid: 3,
        activity_id: 1,
        type_uid: 300201,
        time: Date.parse("2026-11-02T09:30:00Z"),
        severity_id: 1,
        status_id: 2,
        metadata: { version: "1.3.0", product: { name: "sshd" }, uid: "ssh-1" },
        warden: { source: "syslog" },
      },
    ]);
    await t.app.eventLog.writer.idle();
    off();
    expect(seen).toEqual(["vendor.create", "ssh-1"]);
  });

  it("verifies the whole store", async () => {
    const r = await admin.client.post("/api/v1/log/verify", {});
    expect(r.status).toBe(200);
    expect(r.body.problems).toEqual([]);
    expect(r.body.ok).toBe(true);
    const legacy = await admin.client.get("/api/v1/audit/verify");
    expect(legacy.body).toMatchObject({ ok: true });
    expect(legacy.body.checked).toBe(legacy.body.head.size);
  });

  it("refuses updates and deletes of logged events inside the database", async () => {
    await expect(t.store.query("update log_events set action = 'x' where idx = 1")).rejects.toThrow(
      /append-only/,
    );
    await expect(t.store.query("delete from log_events where idx = 1")).rejects.toThrow(/append-only/);
  });
});

/** RFC 8785 canonical JSON, as the log stores entries. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(",")}}`;
}

// An attacker with database access (and the append-only trigger switched off) edits what is stored;
// verification names the first entry that is not what was logged.
describe("tampering with the stored log is detected (fresh store each)", () => {
  let t: TestApp;
  let admin: SignedIn;
  let kept: string;
  const edit = async (sql: string, params: unknown[] = []) =>
    t.store.tx(async (q) => {
      await q.query("alter table log_events disable trigger log_events_no_update");
      await q.query(sql, params);
      await q.query("alter table log_events enable trigger log_events_no_update");
    });
  const verify = async (checkpoints: string[] = []) =>
    (await admin.client.post("/api/v1/log/verify", { checkpoints })).body;

  const fresh = async () => {
    await t?.close();
    t = await createTestApp();
    admin = await t.signIn("admin");
    for (let i = 0; i < 8; i++)
      await admin.client.post("/api/v1/vendors", { name: `V${i}`, country: "PT", riskTier: "low" });
    kept = String((await admin.client.get("/log/checkpoint")).body);
  };
  afterAll(async () => t?.close());

  it("names a changed entry", async () => {
    await fresh();
    const { entry } = (await t.store.query<{ entry: string }>("select entry from log_events where idx = 5"))
      .rows[0]!;
    await edit("update log_events set entry = $1 where idx = 5", [
      entry.replace(/"outcome":"success"/, '"outcome":"failure"'),
    ]);
    const r = await verify([kept]);
    expect(r.ok).toBe(false);
    expect(r.firstBad.index).toBe(5);
    expect(r.firstBad.problem).toMatch(/entry 5 does not match its leaf hash/);
  });

  it("names a deleted entry", async () => {
    await fresh();
    await edit("delete from log_events where idx = 4");
    const r = await verify([kept]);
    expect(r.ok).toBe(false);
    expect(r.firstBad.index).toBe(4);
  });

  it("names the first of two reordered entries", async () => {
    await fresh();
    await edit("update log_events set idx = 1000003 where idx = 3");
    await edit("update log_events set idx = 3 where idx = 6");
    await edit("update log_events set idx = 6 where idx = 1000003");
    const r = await verify([kept]);
    expect(r.firstBad.index).toBe(3);
  });

  it("names the first missing entry when the log was truncated", async () => {
    await fresh();
    const size = openCheckpoint(
      kept,
      parseVerifierKey(String((await admin.client.get("/log/key")).body).trim()),
    ).size;
    await edit("delete from log_events where idx >= $1", [size - 3]);
    await t.store.query("update tlog_state set size = $1", [size - 3]);
    const r = await verify([kept]);
    expect(r.ok).toBe(false);
    expect(r.firstBad.index).toBe(size - 3);
    expect(r.problems.join(" ")).toMatch(/truncated/);
  });

  it("bounds a rewrite of history behind an old checkpoint, even with every tile rebuilt", async () => {
    await fresh();
    const size = (await admin.client.get("/api/v1/log")).body.size as number;
    const rows = (
      await t.store.query<{ idx: number; entry: string }>("select idx, entry from log_events order by idx")
    ).rows;
    const entries = rows.map((r) => r.entry);
    entries[2] = entries[2]!.replace(/"outcome":"success"/, '"outcome":"failure"');
    expect(entries[2]).not.toBe(rows[2]!.entry);
    const built = appendToEdge(
      emptyEdge(),
      entries.map((e) => enc.encode(e)),
      { bundles: false },
    );
    await edit("update log_events set entry = $1 where idx = 2", [entries[2]]);
    await t.store.query("delete from tlog_tiles");
    for (const tile of built.tiles) {
      await t.store.query("insert into tlog_tiles (level, idx, width, nodes) values ($1, $2, $3, $4)", [
        tile.level,
        tile.index,
        tile.width,
        Buffer.from(tile.nodes),
      ]);
    }
    await t.store.query("update tlog_state set size = $1, root = $2", [size, Buffer.from(built.root)]);
    await t.store.query("delete from tlog_checkpoints");
    const r = await verify([kept]);
    expect(r.ok).toBe(false);
    expect(r.checkpoints.find((c: { label: string }) => /trusted/.test(c.label)).ok).toBe(false);
    expect(r.firstBad.index).toBe(0);
    expect(r.firstBad.problem).toMatch(/history was rewritten somewhere in entries 0\.\./);
  });

  it("names an entry whose search columns were changed", async () => {
    await fresh();
    await edit("update log_events set action = 'vendor.read' where idx = 6");
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.firstBad).toEqual({
      index: 6,
      problem: expect.stringMatching(/entry 6: its action column was changed/),
    });
  });
});

function authEvent(i: number, at: string) {
  return {
    source: "ocsf",
    event: {
      class_uid: 3002,
      category_uid: 3,
      activity_id: 1,
      type_uid: 300201,
      time: Date.parse(at),
      severity_id: 1,
      status_id: i % 5 === 0 ? 2 : 1,
      metadata: { version: "1.3.0", product: { name: "sshd" }, uid: `auth-${i}` },
      user: { name: `user${i % 7}` },
      src_endpoint: { ip: `192.0.2.${i % 250}` },
    },
  };
}

describe("retention", () => {
  let t: TestApp;
  let admin: SignedIn;
  let ingest: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ now: "2026-01-05T10:00:00Z" });
    admin = await t.signIn("admin");
    ingest = t.client();
    ingest.bearer = await tokenFor(admin, ["ingest"]);
  });
  afterAll(async () => t?.close());

  it("prunes whole bundles past their class's retention and keeps proofs for what remains", async () => {
    const old = Array.from({ length: 600 }, (_, i) => authEvent(i, "2026-01-05T09:00:00Z"));
    expect((await post(ingest, ndjson(old))).status).toBe(200);
    const verifier = parseVerifierKey(String((await admin.client.get("/log/key")).body).trim());
    const kept = String((await admin.client.get("/log/checkpoint")).body);
    const oldId = (await admin.client.get("/api/v1/events?source=ocsf&limit=1&beforeIndex=100")).body.items[0]
      .id;

    // Keeping everything: nothing to explain. With authentication kept 30 days, the first entry (the
    // admin's sign-in today) is what holds the prune point, and the settings say until when.
    expect((await admin.client.get("/api/v1/log/retention")).body.pruningStopsAt).toBeNull();
    const onlyAuth = await admin.client.put("/api/v1/log/retention", {
      defaultDays: null,
      classes: [{ classUid: 3002, days: 30 }],
    });
    const stop = onlyAuth.body.pruningStopsAt;
    expect(stop).toMatchObject({ index: 0, classUid: 3002 });
    expect(Date.parse(stop.keptUntil)).toBe(Date.parse(stop.at) + 30 * 86_400_000);
    // Kept forever by the class's own rule, whatever the default.
    const forever = await admin.client.put("/api/v1/log/retention", {
      defaultDays: 1,
      classes: [{ classUid: 3002, days: null }],
    });
    expect(forever.body.pruningStopsAt).toMatchObject({ index: 0, classUid: 3002, keptUntil: null });

    const put = await admin.client.put("/api/v1/log/retention", {
      defaultDays: 30,
      classes: [{ classUid: 3002, days: 30 }],
    });
    expect(put.status).toBe(200);
    t.clock.set(new Date("2026-02-20T10:00:00Z"));
    admin = await t.signIn("admin");
    const fresh = Array.from({ length: 20 }, (_, i) => authEvent(1000 + i, "2026-02-20T09:00:00Z"));
    expect((await post(ingest, ndjson(fresh))).status).toBe(200);

    const run = await t.app.scheduler.runNow("log.retention");
    expect(run.outcome).toBe("ok");
    const info = (await admin.client.get("/api/v1/log")).body;
    expect(info.prunedBefore).toBe(512);
    const r = (await admin.client.get("/api/v1/log/retention")).body;
    expect(r.prunes[0]).toMatchObject({ before: 512 });
    expect(openCheckpoint(r.prunes[0].checkpoint, verifier).size).toBe(512);
    // Pruning goes by whole bundles: it stops at the first entry kept, in the bundle after the cut.
    expect(r.pruningStopsAt.index).toBeGreaterThanOrEqual(512);
    expect(Date.parse(r.pruningStopsAt.keptUntil)).toBe(Date.parse(r.pruningStopsAt.at) + 30 * 86_400_000);

    // What was pruned is gone, from search and from the tiles.
    expect((await admin.client.get(`/api/v1/events/${oldId}`)).status).toBe(404);
    expect((await admin.client.get("/log/tile/entries/000")).status).toBe(404);
    expect((await admin.client.get("/log/tile/0/001")).status).toBe(404);

    // What remains still proves against the current checkpoint, and extends the pruned range's checkpoint.
    const now = openCheckpoint(String((await admin.client.get("/log/checkpoint")).body), verifier);
    const remaining = (await admin.client.get("/api/v1/events?source=ocsf&limit=1")).body.items[0];
    const d = (await admin.client.get(`/api/v1/events/${remaining.id}`)).body;
    expect(
      verifyInclusion(
        d.index,
        d.proof.treeSize,
        fromBase64(d.proof.leafHash)!,
        d.proof.hashes.map((h: string) => fromBase64(h)!),
        openCheckpoint(d.proof.checkpoint, verifier).root,
      ),
    ).toBe(true);
    const anchor = openCheckpoint(r.prunes[0].checkpoint, verifier);
    const c = (await admin.client.get(`/api/v1/log/proof/consistency?from=512&to=${now.size}`)).body;
    expect(
      verifyConsistency(
        512,
        now.size,
        anchor.root,
        now.root,
        c.hashes.map((h: string) => fromBase64(h)!),
      ),
    ).toBe(true);

    // The store still verifies from the pruned point, against the checkpoint kept before pruning too.
    const v = (await admin.client.post("/api/v1/log/verify", { checkpoints: [kept] })).body;
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.start).toBe(512);
    const pruned = await admin.client.get("/api/v1/audit/events?action=log.retention.pruned");
    expect(pruned.body.items[0].summary).toMatchObject({ from: 0, before: 512 });

    // And tampering with a remaining entry is still caught.
    await t.store.tx(async (q) => {
      await q.query("alter table log_events disable trigger log_events_no_update");
      await q.query("update log_events set entry = replace(entry, 'user1', 'userX') where idx = 530");
      await q.query("alter table log_events enable trigger log_events_no_update");
    });
    const bad = (await admin.client.post("/api/v1/log/verify", {})).body;
    expect(bad.firstBad.index).toBe(530);
  });
});

describe("overload", () => {
  let t: TestApp;
  let ingest: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ env: { WARDEN_INGEST_MAX_QUEUED: "100" } });
    const admin = await t.signIn("admin");
    ingest = t.client();
    ingest.bearer = await tokenFor(admin, ["ingest"]);
  });
  afterAll(async () => t?.close());

  it("answers 429 with Retry-After while the queue is full, and takes the same batch once it drains", async () => {
    // A slow consumer (inline alert rules) keeps the first batch in flight until released.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const off = t.app.eventLog.onAppended(() => held);
    const a = ndjson(Array.from({ length: 80 }, (_, i) => authEvent(i, "2026-11-02T09:00:00Z")));
    const b = ndjson(Array.from({ length: 80 }, (_, i) => authEvent(100 + i, "2026-11-02T09:00:00Z")));
    const ra = await post(ingest, a);
    expect(ra.status).toBe(200); // durable, acknowledged; its listeners are still running
    const rb = await post(ingest, b);
    expect(rb.status).toBe(429);
    expect(rb.headers["retry-after"]).toBe("1");
    expect(rb.body.code).toBe("rate_limited");
    release();
    await t.app.eventLog.writer.idle();
    off();
    const retry = await post(ingest, b);
    expect(retry.status).toBe(200);
    expect(retry.body.accepted).toBe(80);
  });
});
