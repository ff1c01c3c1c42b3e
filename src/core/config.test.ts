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
    [{ WARDEN_SYSLOG_TCP_PORT: "514514" }, "WARDEN_SYSLOG_TCP_PORT"],
    [{ WARDEN_SYSLOG_TLS_CERT: "/c.pem", WARDEN_SYSLOG_TLS_PORT: "6514" }, "WARDEN_SYSLOG_TLS_CERT and"],
    [{ WARDEN_SYSLOG_TLS_CLIENT_CA: "/ca.pem" }, "WARDEN_SYSLOG_TLS_PORT: set it"],
    [{ WARDEN_SYSLOG_RFC3164_TZ: "Mars/Olympus" }, "WARDEN_SYSLOG_RFC3164_TZ"],
    [{ WARDEN_GITLAB_AUDIT_TOKEN: "short" }, "WARDEN_GITLAB_AUDIT_TOKEN"],
  ])("stops on %j naming the variable", (env, name) => {
    try {
      loadConfig(env);
      expect.unreachable("should have thrown");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).message).toContain(name);
    }
  });

  it("leaves the CLI's own variables to the CLI, so offline commands run in a shell that has them", () => {
    const c = loadConfig({
      WARDEN_SERVER: "https://warden.example.test:8443",
      WARDEN_TOKEN: "wdn_x",
      WARDEN_CA_FINGERPRINT: "AE:6F",
      WARDEN_PORT: "9443",
    });
    expect(c.port).toBe(9443);
  });

  it("starts no syslog receiver unless a port is set, and reads the TLS listener's files", () => {
    expect(loadConfig({}).syslog).toMatchObject({
      host: "127.0.0.1",
      udpPort: undefined,
      tcpPort: undefined,
      tls: undefined,
    });
    expect(
      loadConfig({
        WARDEN_SYSLOG_TLS_PORT: "6514",
        WARDEN_SYSLOG_TLS_CERT: "/c.pem",
        WARDEN_SYSLOG_TLS_KEY: "/k.pem",
        WARDEN_SYSLOG_RFC3164_TZ: "Europe/Berlin",
      }).syslog,
    ).toMatchObject({
      tls: { port: 6514, certFile: "/c.pem", keyFile: "/k.pem" },
      rfc3164TimeZone: "Europe/Berlin",
    });
  });

  it("ignores unrelated variables and the test-only ones", () => {
    expect(() => loadConfig({ HOME: "/root", WARDEN_TEST_DATABASE_URL: "postgres://x" })).not.toThrow();
  });
});
