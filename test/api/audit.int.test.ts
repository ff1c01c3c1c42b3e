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
    await q.query("alter table log_events disable trigger log_events_no_update");
    await q.query(sql, params);
    await q.query("alter table log_events enable trigger log_events_no_update");
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

  it("numbers entries by their place in the Merkle log and pages with beforeSeq", async () => {
    const page = await admin.client.get("/api/v1/audit/events?limit=2");
    const [a, b] = page.body.items;
    expect(a.seq).toBe(b.seq + 1);
    const next = await admin.client.get(`/api/v1/audit/events?limit=2&beforeSeq=${page.body.nextBeforeSeq}`);
    expect(next.body.items[0].seq).toBe(b.seq - 1);
  });

  it("refuses updates and deletes inside the database", async () => {
    await expect(t.store.query("update log_events set action = 'x' where idx = 0")).rejects.toThrow(
      /append-only/,
    );
    await expect(t.store.query("delete from log_events where idx = 0")).rejects.toThrow(/append-only/);
  });

  it("verifies an intact log", async () => {
    const r = await admin.client.get("/api/v1/audit/verify");
    expect(r.body.ok).toBe(true);
    expect(r.body.checked).toBe(r.body.head.size);
    expect(r.body.head.root).toMatch(/^[0-9a-f]{64}$/);
  });

  it("names a changed entry by its seq", async () => {
    const n = (await t.app.audit.head()).size;
    const { entry } = (
      await t.store.query<{ entry: string }>("select entry from log_events where idx = $1", [n - 2])
    ).rows[0]!;
    await tamper("update log_events set entry = $1 where idx = $2", [
      entry.replace(/"summary":\{/, '"summary":{"evil":true,'),
      n - 2,
    ]);
    const r = await t.app.audit.verify();
    expect(r.ok).toBe(false);
    expect(r.firstBad?.seq).toBe(n - 1);
    expect(r.firstBad?.problem).toMatch(new RegExp(`entry ${n - 2} does not match its leaf hash`));
  });
});
