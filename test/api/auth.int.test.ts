import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, httpClient, type TestApp, totpCode } from "../harness.ts";

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe("first admin setup", () => {
  it("creates the first admin with the one-time link, requires TOTP enrolment, and the link dies after use", async () => {
    const token = await t.app.auth.issueSetupLink();
    expect(token).toMatch(/^setup_/);
    const c = t.client();
    expect((await c.get("/api/v1/setup")).body).toEqual({ needed: true });
    const weak = await c.post("/api/v1/setup", {
      token,
      email: "lead@example.test",
      displayName: "Lead",
      password: "short",
    });
    expect(weak.status).toBe(400);
    expect(weak.headers["content-type"]).toContain("application/problem+json");
    expect(weak.body.errors[0].field).toContain("password");
    const named = await c.post("/api/v1/setup", {
      token,
      email: "lead@example.test",
      displayName: "Lead",
      password: "my name is LEAD and this is long",
    });
    expect(named.status).toBe(400);
    expect(named.body.errors[0]).toEqual({
      field: "body/password",
      message: "leave out the name of your e-mail address (before the @)",
    });

    const ok = await c.post("/api/v1/setup", {
      token,
      email: "Lead@Example.test",
      displayName: "Lead",
      password: "a long enough passphrase",
    });
    expect(ok.status).toBe(201);
    expect(ok.body.user.role).toBe("admin");
    expect(ok.body.mfa).toBe("enrolment_required");
    // Before enrolling an authenticator, nothing else is reachable.
    const blocked = await c.get("/api/v1/vendors");
    expect(blocked.status).toBe(401);
    expect(blocked.body.code).toBe("mfa_required");

    const setup = await c.post("/api/v1/auth/totp/setup");
    expect(setup.body.otpauthUri).toContain("otpauth://totp/");
    const wrong = await c.post("/api/v1/auth/totp/enable", { code: "000000" });
    expect(wrong.status).toBe(400);
    const enable = await c.post("/api/v1/auth/totp/enable", {
      code: totpCode(setup.body.secret, t.clock.now()),
    });
    expect(enable.status).toBe(200);
    expect(enable.body.recoveryCodes).toHaveLength(10);
    expect((await c.get("/api/v1/vendors")).status).toBe(200);

    const again = await t.client().post("/api/v1/setup", {
      token,
      email: "x@example.test",
      displayName: "X",
      password: "another long passphrase",
    });
    expect(again.status).toBe(410);
    expect((await t.client().get("/api/v1/setup")).body).toEqual({ needed: false });
    expect(await t.app.auth.issueSetupLink()).toBeUndefined();
  });

  it("refuses a setup link older than one hour", async () => {
    const fresh = await createTestApp();
    try {
      const token = await fresh.app.auth.issueSetupLink();
      fresh.clock.advance(61 * 60 * 1000);
      const r = await fresh.client().post("/api/v1/setup", {
        token,
        email: "a@example.test",
        displayName: "A",
        password: "a long enough passphrase",
      });
      expect(r.status).toBe(410);
      expect(r.body.detail).toMatch(/expired/);
    } finally {
      await fresh.close();
    }
  });
});

describe("sign-in", () => {
  it("asks TOTP-enrolled accounts for a code, accepts a recovery code once, and rotates the session", async () => {
    const admin = await t.signIn("admin");
    const c = t.client();
    t.clock.advance(30_000); // the enrolment used the current code; the next sign-in needs a fresh one
    const step1 = await c.post("/api/v1/auth/login", { email: admin.email, password: admin.password });
    expect(step1.body.mfa).toBe("required");
    const firstCookie = c.cookie;
    expect((await c.get("/api/v1/vendors")).body.code).toBe("mfa_required");
    const step2 = await c.post("/api/v1/auth/mfa", { code: totpCode(admin.totpSecret!, t.clock.now()) });
    expect(step2.status).toBe(200);
    expect(c.cookie).not.toEqual(firstCookie);
    expect((await c.get("/api/v1/vendors")).status).toBe(200);
  });

  it("refuses a TOTP code that was already used (no replay within its window)", async () => {
    const admin = await t.signIn("admin");
    t.clock.advance(30_000);
    const code = totpCode(admin.totpSecret!, t.clock.now());
    const first = t.client();
    await first.post("/api/v1/auth/login", { email: admin.email, password: admin.password });
    expect((await first.post("/api/v1/auth/mfa", { code })).status).toBe(200);
    const second = t.client();
    await second.post("/api/v1/auth/login", { email: admin.email, password: admin.password });
    const replay = await second.post("/api/v1/auth/mfa", { code });
    expect(replay.status).toBe(401);
    t.clock.advance(30_000);
    const next = await second.post("/api/v1/auth/mfa", { code: totpCode(admin.totpSecret!, t.clock.now()) });
    expect(next.status).toBe(200);
  });

  it("locks an account after repeated wrong passwords and says so clearly", async () => {
    const m = await t.signIn("manager");
    const c = t.client({ ip: "10.9.9.9" });
    for (let i = 0; i < 5; i++) {
      const r = await c.post("/api/v1/auth/login", { email: m.email, password: "wrong password!!" });
      expect(r.status).toBe(401);
    }
    const locked = await c.post("/api/v1/auth/login", { email: m.email, password: m.password });
    expect(locked.status).toBe(423);
    expect(locked.body.detail).toMatch(/locked/);
    expect(locked.headers["retry-after"]).toBeDefined();
    t.clock.advance(16 * 60 * 1000);
    expect((await c.post("/api/v1/auth/login", { email: m.email, password: m.password })).status).toBe(200);
  });

  it("does not reveal whether an account exists", async () => {
    const c = t.client({ ip: "10.9.9.8" });
    const r = await c.post("/api/v1/auth/login", {
      email: "nobody@example.test",
      password: "whatever password",
    });
    expect(r.status).toBe(401);
    expect(r.body.detail).toBe("Wrong email or password");
  });

  it("expires an idle session", async () => {
    const m = await t.signIn("auditor");
    expect((await m.client.get("/api/v1/vendors")).status).toBe(200);
    t.clock.advance(31 * 60 * 1000);
    expect((await m.client.get("/api/v1/vendors")).status).toBe(401);
  });

  it("signs out everywhere", async () => {
    const a = await t.signIn("manager");
    const second = httpClient(t.server);
    await second.post("/api/v1/auth/login", { email: a.email, password: a.password });
    expect((await second.get("/api/v1/vendors")).status).toBe(200);
    const out = await a.client.post("/api/v1/auth/logout", { everywhere: true });
    expect(out.body.revokedSessions).toBe(2);
    expect((await second.get("/api/v1/vendors")).status).toBe(401);
  });
});

describe("CSRF", () => {
  it("refuses a state change from a session without the CSRF header", async () => {
    const a = await t.signIn("admin");
    const r = await a.client.request(
      "POST",
      "/api/v1/vendors",
      { name: "Acme", country: "PT", riskTier: "low" },
      { "x-csrf-token": "" },
    );
    expect(r.status).toBe(403);
    expect(r.body.code).toBe("csrf_failed");
  });
});

describe("API tokens", () => {
  it("are shown once, scoped, revocable, and track last use", async () => {
    const a = await t.signIn("security");
    const created = await a.client.post("/api/v1/tokens", {
      name: "ci",
      scopes: ["read"],
      expiresInDays: 30,
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^wdn_/);
    const listed = await a.client.get("/api/v1/tokens");
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const bot = t.client();
    bot.bearer = secret;
    expect((await bot.get("/api/v1/vendors")).status).toBe(200);
    const write = await bot.post("/api/v1/vendors", { name: "Nope", country: "PT", riskTier: "low" });
    expect(write.status).toBe(403);
    expect(write.body.detail).toMatch(/write/);
    const mint = await bot.post("/api/v1/tokens", { name: "x", scopes: ["read"] });
    expect(mint.status).toBe(403);
    const after = await a.client.get("/api/v1/tokens");
    expect(after.body.items[0].lastUsedAt).not.toBeNull();

    expect((await a.client.del(`/api/v1/tokens/${created.body.token.id}`)).status).toBe(204);
    expect((await bot.get("/api/v1/vendors")).status).toBe(401);
  });

  it("stop working after they expire", async () => {
    const a = await t.signIn("auditor");
    const created = await a.client.post("/api/v1/tokens", {
      name: "short",
      scopes: ["read"],
      expiresInDays: 1,
    });
    const bot = t.client();
    bot.bearer = created.body.secret;
    expect((await bot.get("/api/v1/vendors")).status).toBe(200);
    t.clock.advance(25 * 3600 * 1000);
    expect((await bot.get("/api/v1/vendors")).status).toBe(401);
  });
});

describe("bad input", () => {
  it("names each unknown field and stores nothing", async () => {
    const a = await t.signIn("admin");
    const r = await a.client.post("/api/v1/vendors", {
      name: "Umbrella",
      country: "PT",
      riskTier: "low",
      colour: "red",
    });
    expect(r.status).toBe(400);
    expect(r.headers["content-type"]).toContain("application/problem+json");
    expect(r.body.errors).toEqual([{ field: "body/colour", message: "is not a known field" }]);
    expect((await a.client.get("/api/v1/vendors?q=Umbrella")).body.total).toBe(0);
  });

  it("answers malformed JSON and wrong content types without a stack trace", async () => {
    const a = await t.signIn("admin");
    const bad = await a.client.raw("POST", "/api/v1/vendors", "{not json", {
      "content-type": "application/json",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toBe("The body is not valid JSON");
    const form = await a.client.raw("POST", "/api/v1/vendors", "name=x", {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(415);
    expect(JSON.stringify(bad.body) + JSON.stringify(form.body)).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});
