import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, type TestClient } from "../harness.ts";

let t: TestApp;
let manager: TestClient;
beforeAll(async () => {
  t = await createTestApp({ now: "2026-11-02T10:00:00Z" });
  manager = (await t.signIn("manager")).client;
});
afterAll(async () => t.close());

describe("training records", { timeout: 120_000 }, () => {
  it("records completions per developer, computes expiry (exclusive), and audits", async () => {
    const dev = await t.buildDeveloper();
    const r = await manager.post(`/api/v1/developers/${dev.id}/training`, {
      course: "security-awareness",
      completedOn: "2025-11-02",
      score: 92,
      expiresOn: "2026-11-02",
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ course: "security-awareness", score: 92, state: "expired" });
    const fresh = await manager.post(`/api/v1/developers/${dev.id}/training`, {
      course: "secure-coding",
      completedOn: "2026-10-01",
      expiresOn: "2027-10-01",
    });
    expect(fresh.body).toMatchObject({ state: "current", score: null });
    const list = await manager.get(`/api/v1/developers/${dev.id}/training`);
    expect(list.body.items.map((i: { course: string }) => i.course)).toEqual([
      "secure-coding",
      "security-awareness",
    ]);
    const one = await manager.get(`/api/v1/developers/${dev.id}/training?course=secure-coding`);
    expect(one.body.items).toHaveLength(1);
    expect((await manager.del(`/api/v1/training/${fresh.body.id}`)).status).toBe(204);
    const actions = (await t.app.audit.list({ targetId: dev.id, limit: 10 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["training.record", "training.delete"]));
  });

  it.each([
    ["an expiry on the completion day", { expiresOn: "2026-10-01" }, "body/expiresOn"],
    ["a completion in the future", { completedOn: "2026-11-03", expiresOn: null }, "body/completedOn"],
    ["a course key with spaces", { course: "Security Awareness" }, "body/course"],
    ["a score of 101", { score: 101 }, "body/score"],
    ["an unknown field", { passed: true }, "passed"],
  ])("rejects %s", async (_name, change, field) => {
    const dev = await t.buildDeveloper();
    const r = await manager.post(`/api/v1/developers/${dev.id}/training`, {
      course: "security-awareness",
      completedOn: "2026-10-01",
      expiresOn: "2027-10-01",
      ...change,
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.errors ?? r.body)).toContain(field);
    expect((await manager.get(`/api/v1/developers/${dev.id}/training`)).body.items).toEqual([]);
  });

  it("answers 404 for a developer that does not exist", async () => {
    const r = await manager.post("/api/v1/developers/00000000-0000-4000-8000-000000000000/training", {
      course: "security-awareness",
      completedOn: "2026-10-01",
    });
    expect(r.status).toBe(404);
  });

  it("shows developers only their own records, and keeps staff routes closed to them", async () => {
    const me = await t.signIn("developer");
    const other = await t.buildDeveloper();
    await manager.post(`/api/v1/developers/${me.developerId}/training`, {
      course: "gdpr-basics",
      completedOn: "2026-10-01",
    });
    await manager.post(`/api/v1/developers/${other.id}/training`, {
      course: "secret",
      completedOn: "2026-10-01",
    });
    const mine = await me.client.get("/api/v1/me/training");
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((i: { course: string }) => i.course)).toEqual(["gdpr-basics"]);
    expect((await me.client.get(`/api/v1/developers/${other.id}/training`)).status).toBe(403);
    expect(
      (
        await me.client.post(`/api/v1/developers/${me.developerId}/training`, {
          course: "x1",
          completedOn: "2026-10-01",
        })
      ).status,
    ).toBe(403);
    expect((await manager.get("/api/v1/me/training")).status).toBe(403);
  });
});
