import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, type TestClient } from "../harness.ts";

const ED25519 =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3qV6APQMmVpP6yw/jq/lCRLt0M9rJHYrOfE2St7Xkx alice@laptop";
const ED25519_FP = "SHA256:RG8HndtBNVh2BL/u/zP9ArKgxxxpKqyDPx7+daq2Row";
const RSA2048 =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDDI316SS+yYsqfCUSZuwKg23PRSSDFd04K6y4M6+G4c3FzcZGq2T6li+LJtY7MkzhRtrRHfru+2URifA4W2D3NgCZXqQyBM/DVd4YoCy7H7kv23dofiyFCgEABDj88Sx/S2XunAa/KqcFtutntgEhq3X8jaLIcqSyZsgyxtgA3uGGkO1mCOfqaqLP96TBFB42C3kc2MWQPeuUqaRR7im41t7ndnLhMbIy0ihExXOclEcDCO+JHJU9eOUKQNlpZdRtzSh2RPExR66EhTRTzAViUwK/rdmHw9sOJyG3W7RuTqmBfZ43UlxNS9dhZBx3OWkM0BqN2vvKGolygnw32fTh1";
const P256 =
  "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPAWRN7eSHvH3rXTyCKZI7HIPJoymdyZIXFPtOmn47EQkS/RrNlZUv86xG70+rV8B4uZFS5jnDQEmhivKdjATjM= bob@desk";
const AGE = "age1ccw0h3dk9g8eqkncufwlqjtrdqcrmvs6mtrs8z5yl6cwhh2p6frqjjw2a5";
const AGE2 = "age1swceu022ksvem2mmj7pvssz3ltdr4s7vk280j3wxexwghmrq8a0sc3yw2n";

let t: TestApp;
let manager: TestClient;
beforeAll(async () => {
  t = await createTestApp();
  manager = (await t.signIn("manager")).client;
});
afterAll(async () => t.close());

const base = (o: Record<string, unknown> = {}) => ({
  fullName: "Ana Silva",
  email: `ana-${Math.random().toString(36).slice(2)}@example.test`,
  country: "PT",
  timeZone: "Europe/Lisbon",
  workingHours: { start: "09:00", end: "18:00", days: [5, 1, 2, 3, 4] },
  ...o,
});

const auditActions = async (id: string) =>
  (await t.app.audit.list({ targetId: id, limit: 50 })).map((e) => e.action);

describe("developers", () => {
  it("creates a vendor developer with keys, shows SSH fingerprints, and audits it", async () => {
    const vendor = await t.buildVendor({ name: "Acme Devs" });
    const r = await manager.post("/api/v1/developers", {
      ...base({ email: "Ana.Silva@Example.test" }),
      vendorId: vendor.id,
      gitUsernames: { github: "ana-silva", gitlab: "ana.silva" },
      sshPublicKeys: [ED25519],
      ageRecipients: [AGE],
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      kind: "vendor",
      vendorId: vendor.id,
      vendorName: "Acme Devs",
      email: "ana.silva@example.test",
      status: "active",
      hasAccount: false,
      workingHours: { start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5] },
      gitUsernames: { github: "ana-silva", gitlab: "ana.silva" },
      ageRecipients: [AGE],
    });
    expect(r.body.sshPublicKeys).toEqual([
      {
        type: "ssh-ed25519",
        key: ED25519.split(" ").slice(0, 2).join(" "),
        comment: "alice@laptop",
        bits: 256,
        fingerprint: ED25519_FP,
      },
    ]);
    expect((await manager.get(`/api/v1/developers/${r.body.id}`)).body.email).toBe("ana.silva@example.test");
    expect(await auditActions(r.body.id)).toEqual(["developer.create"]);
    expect((await manager.get(`/api/v1/vendors/${vendor.id}`)).body.developerCount).toBe(1);
  });

  it("creates a freelancer when no vendor is given", async () => {
    const r = await manager.post("/api/v1/developers", base());
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ kind: "freelance", vendorId: null, vendorName: null });
  });

  it("answers 409 for a duplicate email, whatever its case, and writes nothing", async () => {
    const first = await t.buildDeveloper({ email: "dup@example.test" });
    const before = await t.app.audit.list({ limit: 1000 });
    const r = await manager.post("/api/v1/developers", base({ email: "DUP@example.test" }));
    expect(r.status).toBe(409);
    expect(r.headers["content-type"]).toContain("application/problem+json");
    const other = await t.buildDeveloper();
    expect(
      (await manager.patch(`/api/v1/developers/${other.id}`, { email: "dup@example.test" })).status,
    ).toBe(409);
    expect((await t.app.audit.list({ limit: 1000 })).length).toBe(before.length + 1); // only other's create
    expect((await manager.get(`/api/v1/developers/${first.id}`)).status).toBe(200);
  });

  it.each([
    ["a time zone that is not IANA", { timeZone: "Mars/Olympus" }, "body/timeZone"],
    ["an abbreviation for a time zone", { timeZone: "CET" }, "body/timeZone"],
    [
      "working hours with a bad time",
      { workingHours: { start: "9:00", end: "18:00", days: [1] } },
      "body/workingHours/start",
    ],
    [
      "working hours with day 8",
      { workingHours: { start: "09:00", end: "18:00", days: [8] } },
      "body/workingHours/days/0",
    ],
    [
      "a repeated weekday",
      { workingHours: { start: "09:00", end: "18:00", days: [1, 1] } },
      "body/workingHours/days",
    ],
    ["an unknown git host", { gitUsernames: { sourcehut: "ana" } }, "body/gitUsernames/sourcehut"],
    [
      "a GitHub name with a double hyphen",
      { gitUsernames: { github: "ana--silva" } },
      "body/gitUsernames/github",
    ],
    ["a GitLab name ending in .git", { gitUsernames: { gitlab: "ana.git" } }, "body/gitUsernames/gitlab"],
    ["a 2048-bit RSA key", { sshPublicKeys: [RSA2048] }, "body/sshPublicKeys/0"],
    [
      "an age recipient with a bad checksum",
      { ageRecipients: [`${AGE.slice(0, -1)}q`] },
      "body/ageRecipients/0",
    ],
    ["a lower-case country", { country: "pt" }, "body/country"],
    ["a vendor that does not exist", { vendorId: "00000000-0000-4000-8000-000000000000" }, "body/vendorId"],
  ])("rejects %s, naming the field", async (_name, extra, field) => {
    const r = await manager.post("/api/v1/developers", base(extra));
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it("rejects an unknown field, naming it", async () => {
    const r = await manager.post("/api/v1/developers", base({ nickname: "x" }));
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.errors)).toContain("nickname");
  });

  it("refuses an SSH key or age recipient that another developer already registered", async () => {
    const a = await t.buildDeveloper({ sshPublicKeys: [P256], ageRecipients: [AGE2] });
    expect(a.sshPublicKeys).toHaveLength(1);
    const sameKeyOtherComment = P256.replace("bob@desk", "someone else");
    const r = await manager.post("/api/v1/developers", base({ sshPublicKeys: [sameKeyOtherComment] }));
    expect(r.status).toBe(409);
    const r2 = await manager.post("/api/v1/developers", base({ ageRecipients: [AGE2] }));
    expect(r2.status).toBe(409);
    // The owner may keep re-saving their own key.
    expect(
      (await manager.patch(`/api/v1/developers/${a.id}`, { sshPublicKeys: [sameKeyOtherComment] })).status,
    ).toBe(200);
  });

  it("lists with filters and pagination", async () => {
    const v = await t.buildVendor();
    const d1 = await t.buildDeveloper({ vendorId: v.id, fullName: "Zed Filterable" });
    const d2 = await t.buildDeveloper({ vendorId: v.id, fullName: "Zoe Filterable" });
    await manager.patch(`/api/v1/developers/${d2.id}`, { status: "offboarded" });
    const byVendor = await manager.get(`/api/v1/developers?vendorId=${v.id}`);
    expect(byVendor.body.items.map((d: { id: string }) => d.id)).toEqual([d1.id, d2.id]);
    expect((await manager.get(`/api/v1/developers?vendorId=${v.id}&status=active`)).body.total).toBe(1);
    const q = await manager.get("/api/v1/developers?q=filterable&limit=1&offset=1");
    expect(q.body).toMatchObject({ total: 2, limit: 1, offset: 1 });
    expect(q.body.items[0].id).toBe(d2.id);
    expect(
      (await manager.get("/api/v1/developers?kind=freelance")).body.items.every(
        (d: { kind: string }) => d.kind === "freelance",
      ),
    ).toBe(true);
    expect((await manager.get("/api/v1/developers?status=gone")).status).toBe(400);
    expect((await manager.get("/api/v1/developers?q=%25")).body.total).toBe(0);
  });

  it("offboards and audits the status change", async () => {
    const d = await t.buildDeveloper();
    const r = await manager.patch(`/api/v1/developers/${d.id}`, { status: "offboarded" });
    expect(r.body.status).toBe("offboarded");
    const [update] = await t.app.audit.list({ targetId: d.id, action: "developer.update", limit: 5 });
    expect(update?.summary).toMatchObject({ status: { from: "active", to: "offboarded" } });
  });

  it("deletes a developer recorded by mistake but not one with records", async () => {
    const d = await t.buildDeveloper();
    expect((await manager.del(`/api/v1/developers/${d.id}`)).status).toBe(204);
    expect((await manager.get(`/api/v1/developers/${d.id}`)).status).toBe(404);
    const e = await t.buildEngagement();
    expect((await manager.del(`/api/v1/developers/${e.developerId}`)).status).toBe(409);
  });

  it("lets auditors read but not write, and developers neither", async () => {
    const auditor = (await t.signIn("auditor")).client;
    expect((await auditor.get("/api/v1/developers")).status).toBe(200);
    expect((await auditor.post("/api/v1/developers", base())).status).toBe(403);
    const dev = (await t.signIn("developer")).client;
    expect((await dev.get("/api/v1/developers")).status).toBe(403);
  });
});

describe("developer self-service profile", () => {
  it("shows and changes only the developer's own profile", async () => {
    const me = await t.signIn("developer");
    const profile = await me.client.get("/api/v1/me/profile");
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: me.developerId, email: me.email, hasAccount: true });
    const r = await me.client.patch("/api/v1/me/profile", {
      timeZone: "America/Sao_Paulo",
      workingHours: { start: "22:00", end: "06:00", days: [1, 2, 3] },
      gitUsernames: { bitbucket: "dev_1" },
      ageRecipients: [],
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ timeZone: "America/Sao_Paulo", gitUsernames: { bitbucket: "dev_1" } });
    expect(await auditActions(me.developerId!)).toContain("developer.self_update");
  });

  it.each([["email"], ["status"], ["vendorId"], ["fullName"]])("refuses a change to %s", async (field) => {
    const me = await t.signIn("developer");
    const value = field === "vendorId" ? null : field === "status" ? "offboarded" : "x@example.test";
    const r = await me.client.patch("/api/v1/me/profile", { [field]: value });
    expect(r.status).toBe(400);
    expect((await me.client.get("/api/v1/me/profile")).body.status).toBe("active");
  });

  it("is for developer accounts only", async () => {
    expect((await manager.get("/api/v1/me/profile")).status).toBe(403);
    expect((await t.client().get("/api/v1/me/profile")).status).toBe(401);
  });
});
