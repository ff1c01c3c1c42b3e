import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

describe("configuration", () => {
  it("has working defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8443);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir.endsWith(".warden")).toBe(true);
    expect(c.session).toEqual({ idleMinutes: 30, absoluteHours: 12 });
  });

  it.each([
    [{ WARDEN_PORT: "eighty" }, "WARDEN_PORT"],
    [{ WARDEN_PORT: "70000" }, "WARDEN_PORT"],
    [{ WARDEN_DATABASE_URL: "mysql://x" }, "WARDEN_DATABASE_URL"],
    [{ WARDEN_MASTER_KEY: "short" }, "WARDEN_MASTER_KEY"],
    [{ WARDEN_LOG_LEVEL: "loud" }, "WARDEN_LOG_LEVEL"],
    [{ WARDEN_TLS_CERT: "/etc/cert.pem" }, "WARDEN_TLS_CERT and WARDEN_TLS_KEY"],
    [{ WARDEN_PROT: "8443" }, "WARDEN_PROT: unknown setting"],
    [
      { WARDEN_DATABASE_URL: "postgres://db/warden?sslmode=verify" },
      "sslmode to be one of disable, allow, prefer",
    ],
    [{ WARDEN_MASTER_KEY_PREVIOUS: "short" }, "WARDEN_MASTER_KEY_PREVIOUS"],
  ])("stops on %j naming the variable", (env, name) => {
    try {
      loadConfig(env);
      expect.unreachable("should have thrown");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).message).toContain(name);
    }
  });

  it("never echoes a master key or a database password in its messages", () => {
    const key = "not-a-valid-key-but-still-secret";
    expect(() => loadConfig({ WARDEN_MASTER_KEY: key })).toThrow(/hidden, 32 characters/);
    expect(() => loadConfig({ WARDEN_MASTER_KEY: key })).not.toThrow(new RegExp(key));
    expect(() => loadConfig({ WARDEN_DATABASE_URL: "postgres://w:s3cret@db/w?sslmode=x" })).toThrow(
      /postgres:\/\/w:\*\*\*@db/,
    );
    expect(() => loadConfig({ WARDEN_DATABASE_URL: "postgres://w:s3cret@db/w?sslmode=x" })).not.toThrow(
      /s3cret/,
    );
  });

  it("reads previous master keys and the redirect port", () => {
    const k = (c: string) => `${c.repeat(43)}=`;
    const c = loadConfig({
      WARDEN_MASTER_KEY_PREVIOUS: `${k("A")},${k("B")}`,
      WARDEN_HTTP_REDIRECT_PORT: "8080",
    });
    expect(c.previousMasterKeys).toEqual([k("A"), k("B")]);
    expect(c.httpRedirectPort).toBe(8080);
  });

  it("ignores unrelated variables and the test-only ones", () => {
    expect(() => loadConfig({ HOME: "/root", WARDEN_TEST_DATABASE_URL: "postgres://x" })).not.toThrow();
  });
});
