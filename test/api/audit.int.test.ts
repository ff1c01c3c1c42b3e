import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type SignedIn, type TestApp } from "../harness.ts";

let t: TestApp;
let admin: SignedIn;
beforeAll(async () => {
  t = await createTestApp();
  admin = await t.signIn("admin");
  for (const name of ["Acme", "Globex", "Initech"]) {
    const r = await admin.client.post("/api/v1/vendors", { name, country: "PT", riskTier: "low" });
    expect(r.status).toBe(201);
  }
});
afterAll(async () => t?.close());

// An attacker with database access can switch the append-only trigger off; verification must still
// catch what they did.
async function tamper(sql: string, params: unknown[] = []) {
  await t.store.tx(async (q) => {
    await q.query("alter table audit_events disable trigger audit_events_no_update");
    await q.query(sql, params);
    await q.query("alter table audit_events enable trigger audit_events_no_update");
  });
}

describe("audit trail", () => {
  it("records each state change with actor, target and summary, without secrets", async () => {
    const r = await admin.client.get("/api/v1/audit/events?action=vendor.");
    expect(r.status).toBe(200);
    expect(r.body.items.map((e: any) => e.summary.name)).toEqual(["Initech", "Globex", "Acme"]);
    expect(r.body.items[0].actor.label).toBe(admin.email);
    const all = await admin.client.get("/api/v1/audit/events?limit=500");
    expect(JSON.stringify(all.body)).not.toContain(admin.password);
    expect(all.body.items.some((e: any) => e.action === "auth.totp.enabled")).toBe(true);
  });

  it("refuses updates and deletes inside the database", async () => {
    await expect(t.store.query("update audit_events set action = 'x' where seq = 1")).rejects.toThrow(
      /append-only/,
    );
    await expect(t.store.query("delete from audit_events where seq = 1")).rejects.toThrow(/append-only/);
  });

  it("verifies an intact chain", async () => {
    const r = await admin.client.get("/api/v1/audit/verify");
    expect(r.body.ok).toBe(true);
    expect(r.body.checked).toBe(r.body.head.size);
  });

  it("names a changed entry", async () => {
    const n = (await t.app.audit.head()).size;
    await tamper("update audit_events set summary = $1 where seq = $2", [
      JSON.stringify({ name: "Evil" }),
      n - 1,
    ]);
    const r = await t.app.audit.verify();
    expect(r.ok).toBe(false);
    expect(r.firstBad).toEqual({ seq: n - 1, problem: `entry ${n - 1} was changed after it was written` });
  });
});

describe("audit trail tampering (fresh store each)", () => {
  let u: TestApp;
  beforeAll(async () => {
    u = await createTestApp();
    const a = await u.signIn("admin");
    for (const name of ["A1", "A2", "A3", "A4"])
      await a.client.post("/api/v1/vendors", { name, country: "PT", riskTier: "low" });
  });
  afterAll(async () => u?.close());

  it("names a deleted entry, then a reordering", async () => {
    const size = (await u.app.audit.head()).size;
    expect(size).toBeGreaterThan(5);
    await u.store.tx(async (q) => {
      await q.query("alter table audit_events disable trigger audit_events_no_update");
      await q.query("delete from audit_events where seq = 3");
      await q.query("alter table audit_events enable trigger audit_events_no_update");
    });
    expect((await u.app.audit.verify()).firstBad).toEqual({ seq: 3, problem: "entry 3 is missing" });
    // Re-number the rest so no gap shows: the chain still breaks at the first moved entry.
    await u.store.tx(async (q) => {
      await q.query("alter table audit_events disable trigger audit_events_no_update");
      await q.query("update audit_events set seq = seq - 1 where seq > 3");
      await q.query("alter table audit_events enable trigger audit_events_no_update");
    });
    const r = await u.app.audit.verify();
    expect(r.ok).toBe(false);
    expect(r.firstBad?.seq).toBe(3);
  });
});
