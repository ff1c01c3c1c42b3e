import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, type TestClient } from "../harness.ts";

let t: TestApp;
let manager: TestClient;
beforeAll(async () => {
  t = await createTestApp({ now: "2026-11-02T10:00:00Z" });
  manager = (await t.signIn("manager")).client;
});
afterAll(async () => t.close());

describe("engagements", () => {
  it("creates, reads, changes and deletes an engagement, auditing each change", async () => {
    const dev = await t.buildDeveloper({ fullName: "Rui Costa" });
    const r = await manager.post("/api/v1/engagements", {
      developerId: dev.id,
      title: "Checkout rewrite",
      startsOn: "2026-10-01",
      endsOn: "2027-04-01",
      roles: ["frontend", "backend"],
      handlesPersonalData: true,
      scope: "checkout service and web app",
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      developerId: dev.id,
      developerName: "Rui Costa",
      roles: ["frontend", "backend"],
      handlesPersonalData: true,
      active: true,
      endsOn: "2027-04-01",
    });
    const changed = await manager.patch(`/api/v1/engagements/${r.body.id}`, {
      endsOn: null,
      roles: ["devops"],
    });
    expect(changed.body).toMatchObject({ endsOn: null, roles: ["devops"] });
    expect((await manager.del(`/api/v1/engagements/${r.body.id}`)).status).toBe(204);
    expect((await manager.get(`/api/v1/engagements/${r.body.id}`)).status).toBe(404);
    const actions = (await t.app.audit.list({ targetId: r.body.id, limit: 10 })).map((e) => e.action);
    expect(actions.sort()).toEqual(["engagement.create", "engagement.delete", "engagement.update"]);
  });

  it.each([
    ["an end on the start day", { startsOn: "2026-10-01", endsOn: "2026-10-01" }, "body/endsOn"],
    ["an end before the start", { startsOn: "2026-10-01", endsOn: "2026-09-01" }, "body/endsOn"],
    ["an impossible date", { startsOn: "2026-02-30" }, "body/startsOn"],
    ["no roles", { roles: [] }, "body/roles"],
    ["an unknown role", { roles: ["sales"] }, "body/roles/0"],
    ["a repeated role", { roles: ["qa", "qa"] }, "body/roles"],
  ])("rejects %s", async (_name, extra, field) => {
    const dev = await t.buildDeveloper();
    const r = await manager.post("/api/v1/engagements", {
      developerId: dev.id,
      title: "x",
      startsOn: "2026-10-01",
      roles: ["qa"],
      ...extra,
    });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it("checks the dates of a change against the stored ones", async () => {
    const e = await t.buildEngagement({ startsOn: "2026-10-01", endsOn: "2026-12-01" });
    const r = await manager.patch(`/api/v1/engagements/${e.id}`, { startsOn: "2026-12-15" });
    expect(r.status).toBe(400);
    expect((await manager.get(`/api/v1/engagements/${e.id}`)).body.startsOn).toBe("2026-10-01");
  });

  it("refuses an engagement for a missing or offboarded developer", async () => {
    const missing = await manager.post("/api/v1/engagements", {
      developerId: "00000000-0000-4000-8000-000000000000",
      title: "x",
      startsOn: "2026-10-01",
      roles: ["qa"],
    });
    expect(missing.status).toBe(400);
    const dev = await t.buildDeveloper();
    await manager.patch(`/api/v1/developers/${dev.id}`, { status: "offboarded" });
    const r = await manager.post("/api/v1/engagements", {
      developerId: dev.id,
      title: "x",
      startsOn: "2026-10-01",
      roles: ["qa"],
    });
    expect(r.status).toBe(409);
  });

  it("lists by developer and by the day they run (the end day is exclusive)", async () => {
    const dev = await t.buildDeveloper();
    const past = await t.buildEngagement({
      developerId: dev.id,
      startsOn: "2026-01-01",
      endsOn: "2026-06-01",
    });
    const now = await t.buildEngagement({ developerId: dev.id, startsOn: "2026-06-01" });
    expect(past.active).toBe(false);
    const all = await manager.get(`/api/v1/engagements?developerId=${dev.id}`);
    expect(all.body.total).toBe(2);
    const onEnd = await manager.get(`/api/v1/engagements?developerId=${dev.id}&activeAt=2026-06-01`);
    expect(onEnd.body.items.map((e: { id: string }) => e.id)).toEqual([now.id]);
    const before = await manager.get(`/api/v1/engagements?developerId=${dev.id}&activeAt=2026-05-31`);
    expect(before.body.items.map((e: { id: string }) => e.id)).toEqual([past.id]);
    expect((await manager.get("/api/v1/engagements?activeAt=tomorrow")).status).toBe(400);
  });

  it("is closed to developers", async () => {
    const dev = await t.signIn("developer");
    expect((await dev.client.get("/api/v1/engagements")).status).toBe(403);
  });
});
