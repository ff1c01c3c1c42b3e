import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, type TestClient } from "../harness.ts";

let t: TestApp;
let lead: TestClient;
beforeAll(async () => {
  t = await createTestApp({ now: "2026-11-02T10:00:00Z" });
  lead = (await t.signIn("security")).client;
});
afterAll(async () => t.close());

const url = (id: string, rest = "") => `/api/v1/developers/${id}/vetting${rest}`;

describe("vetting", { timeout: 120_000 }, () => {
  it("starts pending and records each part, auditing every change", async () => {
    const dev = await t.buildDeveloper();
    const empty = await lead.get(url(dev.id));
    expect(empty.body).toMatchObject({
      backgroundCheck: null,
      awareness: null,
      culture: { outcome: "pending" },
      drill: { result: "not_run", on: null },
      decision: { decision: "pending", decidedBy: null },
      references: [],
      redFlags: [],
    });
    const r = await lead.patch(url(dev.id), {
      backgroundCheck: { provider: "Checkr", result: "clear", completedOn: "2026-10-20" },
      awareness: { score: 86, takenOn: "2026-10-21" },
      culture: { outcome: "pass", notes: "Clear about past work" },
      drill: { result: "passed", on: "2026-10-25" },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      backgroundCheck: { provider: "Checkr", result: "clear", completedOn: "2026-10-20" },
      awareness: { score: 86, takenOn: "2026-10-21" },
      culture: { outcome: "pass", notes: "Clear about past work" },
      drill: { result: "passed", on: "2026-10-25" },
    });
    const again = await lead.patch(url(dev.id), { awareness: null });
    expect(again.body.awareness).toBeNull();
    expect(again.body.backgroundCheck.result).toBe("clear");
    const events = await t.app.audit.list({ targetId: dev.id, action: "vetting.update", limit: 5 });
    expect(events).toHaveLength(2);
  });

  it.each([
    ["a score above 100", { awareness: { score: 101, takenOn: "2026-10-01" } }, "body/awareness/score"],
    [
      "a finished check without a date",
      { backgroundCheck: { provider: "X", result: "failed" } },
      "body/backgroundCheck/completedOn",
    ],
    [
      "an unknown result",
      { backgroundCheck: { provider: "X", result: "ok", completedOn: "2026-10-01" } },
      "body/backgroundCheck/result",
    ],
    ["a drill run without a date", { drill: { result: "failed" } }, "body/drill/on"],
    [
      "a test taken in the future",
      { awareness: { score: 90, takenOn: "2026-11-03" } },
      "body/awareness/takenOn",
    ],
    ["an unknown section", { polygraph: true }, "body"],
  ])("rejects %s and writes nothing", async (_name, body, field) => {
    const dev = await t.buildDeveloper();
    const r = await lead.patch(url(dev.id), body);
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.errors)).toContain(field === "body" ? "polygraph" : field);
    expect((await lead.get(url(dev.id))).body.updatedAt).toBeNull();
  });

  it("records references with who verified them and when", async () => {
    const dev = await t.buildDeveloper();
    const ref = await lead.post(url(dev.id, "/references"), { name: "Maria Lopes", company: "Old Employer" });
    expect(ref.status).toBe(201);
    expect(ref.body).toMatchObject({ verified: false, verifiedBy: null, verifiedAt: null });
    const v = await lead.post(url(dev.id, `/references/${ref.body.id}/verify`), {
      notes: "Called, confirmed",
    });
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({
      verified: true,
      verifiedAt: "2026-11-02T10:00:00.000Z",
      notes: "Called, confirmed",
    });
    expect(v.body.verifiedBy.id).toBeTruthy();
    expect((await lead.post(url(dev.id, `/references/${ref.body.id}/verify`), {})).status).toBe(409);
    const other = await t.buildDeveloper();
    expect((await lead.post(url(other.id, `/references/${ref.body.id}/verify`), {})).status).toBe(404);
  });

  it("raises and resolves red flags", async () => {
    const dev = await t.buildDeveloper();
    const f = await lead.post(url(dev.id, "/red-flags"), {
      kind: "refused_secure_channel",
      severity: "high",
      note: "Wanted code by email",
    });
    expect(f.status).toBe(201);
    expect(f.body).toMatchObject({ kind: "refused_secure_channel", severity: "high", resolved: false });
    expect((await lead.post(url(dev.id, "/red-flags"), { kind: "late", severity: "low" })).status).toBe(400);
    const r = await lead.post(url(dev.id, `/red-flags/${f.body.id}/resolve`), {
      resolution: "Now uses the VPN and Git",
    });
    expect(r.body).toMatchObject({ resolved: true, resolution: "Now uses the VPN and Git" });
    expect(
      (await lead.post(url(dev.id, `/red-flags/${f.body.id}/resolve`), { resolution: "again" })).status,
    ).toBe(409);
    const actions = (await t.app.audit.list({ targetId: dev.id, limit: 10 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["vetting.red_flag_raise", "vetting.red_flag_resolve"]));
  });

  it("suggests a pricing red flag when the vendor's rate is far below market, until one is raised", async () => {
    const cheap = await t.buildVendor({ dayRate: 150, marketBandLow: 400, marketBandHigh: 700 });
    const dev = await t.buildDeveloper({ vendorId: cheap.id });
    const v = await lead.get(url(dev.id));
    expect(v.body.suggestedRedFlags).toEqual([
      expect.objectContaining({ kind: "pricing_below_market", severity: "medium" }),
    ]);
    expect(v.body.suggestedRedFlags[0].reason).toMatch(/150 EUR.*400 EUR/);
    await lead.post(url(dev.id, "/red-flags"), { kind: "pricing_below_market", severity: "medium" });
    expect((await lead.get(url(dev.id))).body.suggestedRedFlags).toEqual([]);
    const fair = await t.buildVendor({ dayRate: 380, marketBandLow: 400, marketBandHigh: 700 });
    const dev2 = await t.buildDeveloper({ vendorId: fair.id });
    expect((await lead.get(url(dev2.id))).body.suggestedRedFlags).toEqual([]);
  });

  it("records a decision with its reason and who made it", async () => {
    const dev = await t.buildDeveloper();
    const r = await lead.post(url(dev.id, "/decision"), { decision: "approved", reason: "All checks clear" });
    expect(r.status).toBe(200);
    expect(r.body.decision).toMatchObject({
      decision: "approved",
      reason: "All checks clear",
      decidedAt: "2026-11-02T10:00:00.000Z",
    });
    expect(r.body.decision.decidedBy.id).toBeTruthy();
    expect((await lead.post(url(dev.id, "/decision"), { decision: "approved" })).status).toBe(400);
    const [event] = await t.app.audit.list({ targetId: dev.id, action: "vetting.decide", limit: 5 });
    expect(event?.summary).toMatchObject({ from: "pending", to: "approved" });
  });

  it("never lets developers decide, nor a staff account with the developer's own email", async () => {
    const me = await t.signIn("developer");
    expect(
      (await me.client.post(url(me.developerId!, "/decision"), { decision: "approved", reason: "me" }))
        .status,
    ).toBe(403);
    expect((await me.client.get(url(me.developerId!))).status).toBe(403);

    const dev = await t.buildDeveloper({ email: "twohats@example.test" });
    const sameEmail = await t.signIn("security", { email: "TwoHats@example.test" });
    const r = await sameEmail.client.post(url(dev.id, "/decision"), {
      decision: "approved",
      reason: "I vouch for me",
    });
    expect(r.status).toBe(403);
    const ref = await lead.post(url(dev.id, "/references"), { name: "A friend" });
    expect((await sameEmail.client.post(url(dev.id, `/references/${ref.body.id}/verify`), {})).status).toBe(
      403,
    );
    expect((await lead.get(url(dev.id))).body.decision.decision).toBe("pending");
  });

  it("lets managers and auditors read but not write vetting", async () => {
    const dev = await t.buildDeveloper();
    const manager = (await t.signIn("manager")).client;
    expect((await manager.get(url(dev.id))).status).toBe(200);
    expect((await manager.post(url(dev.id, "/decision"), { decision: "approved", reason: "x" })).status).toBe(
      403,
    );
    expect((await lead.get(url("00000000-0000-4000-8000-000000000000"))).status).toBe(404);
  });
});
