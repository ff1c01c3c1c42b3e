import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, totpCode } from "../harness.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe("invitations", () => {
  it("invite a developer by a single-use link; accepting sets a password and then TOTP", async () => {
    const sec = await t.signIn("security");
    const dev = await t.buildDeveloper();
    const inv = await sec.client.post("/api/v1/invites", { role: "developer", developerId: dev.id });
    expect(inv.status).toBe(201);
    expect(inv.body.invite.email).toBe(dev.email);
    expect(inv.body.path).toMatch(/^\/invite#token=inv_/);

    const anon = t.client();
    expect((await anon.get(`/api/v1/invites/${inv.body.token}`)).body).toMatchObject({
      email: dev.email,
      role: "developer",
    });
    const accepted = await anon.post("/api/v1/invites/accept", {
      token: inv.body.token,
      displayName: "Dev",
      password: "a long enough passphrase",
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body.mfa).toBe("enrolment_required");
    expect((await anon.get("/api/v1/me/profile")).status).toBe(401);
    const setup = await anon.post("/api/v1/auth/totp/setup");
    await anon.post("/api/v1/auth/totp/enable", { code: totpCode(setup.body.secret, t.clock.now()) });
    const me = await anon.get("/api/v1/me/profile");
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(dev.email);

    const again = await t.client().post("/api/v1/invites/accept", {
      token: inv.body.token,
      displayName: "X",
      password: "another long passphrase",
    });
    expect(again.status).toBe(410);
  });

  it("expire after seven days", async () => {
    const sec = await t.signIn("security");
    const inv = await sec.client.post("/api/v1/invites", { role: "auditor", email: "aud@example.test" });
    t.clock.advance(8 * 86_400_000);
    const r = await t.client().post("/api/v1/invites/accept", {
      token: inv.body.token,
      displayName: "A",
      password: "a long enough passphrase",
    });
    expect(r.status).toBe(410);
    expect(r.body.detail).toMatch(/expired/);
  });

  it("only an admin may invite an admin", async () => {
    const sec = await t.signIn("security");
    const r = await sec.client.post("/api/v1/invites", { role: "admin", email: "boss@example.test" });
    expect(r.status).toBe(403);
  });
});
