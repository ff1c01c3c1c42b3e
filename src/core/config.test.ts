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
  ])("stops on %j naming the variable", (env, name) => {
    try {
      loadConfig(env);
      expect.unreachable("should have thrown");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).message).toContain(name);
    }
  });

  it("ignores unrelated variables and the test-only ones", () => {
    expect(() => loadConfig({ HOME: "/root", WARDEN_TEST_DATABASE_URL: "postgres://x" })).not.toThrow();
  });
});
