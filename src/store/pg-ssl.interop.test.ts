import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCa, type IssuedCert, issueCertificate } from "../scan-tls/testing/certs.ts";
import { freePort } from "../scan-tls/testing/servers.ts";
import { openStore } from "./store.ts";

/**
 * sslmode against a real PostgreSQL: a throwaway cluster (Debian's postgresql binaries) with TLS on,
 * a server certificate for "localhost" only (not for 127.0.0.1) from a test CA, and a user that may
 * connect only over TLS. Each mode must connect exactly when libpq would, and with TLS when it should.
 */
const bin = (name: string) => {
  for (const dir of [
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/local/bin",
    "/usr/bin",
  ]) {
    try {
      execFileSync("test", ["-x", path.join(dir, name)]);
      return path.join(dir, name);
    } catch {}
  }
  throw new Error(`${name} not found: install the Debian package postgresql`);
};
// initdb and postgres refuse to run as root: run them as the postgres account then.
const asPostgres = (cmd: string, args: string[]) =>
  process.getuid?.() === 0
    ? execFileSync("runuser", ["-u", "postgres", "--", cmd, ...args], { stdio: "pipe" })
    : execFileSync(cmd, args, { stdio: "pipe" });

let dir: string;
let port: number;
let ca: IssuedCert;
let caFile: string;
let otherCaFile: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "warden-pgssl-"));
  chmodSync(dir, 0o755);
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  asPostgres(bin("initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  ca = await createCa("PG Test CA");
  const server = await issueCertificate({
    commonName: "localhost",
    dnsNames: ["localhost"],
    key: { type: "ec", curve: "P-256" },
    issuer: ca,
  });
  writeFileSync(path.join(data, "server.crt"), server.certPem);
  writeFileSync(path.join(data, "server.key"), server.keyPem, { mode: 0o600 });
  caFile = path.join(dir, "ca.pem");
  writeFileSync(caFile, ca.certPem);
  otherCaFile = path.join(dir, "other-ca.pem");
  writeFileSync(otherCaFile, (await createCa("Someone Else's CA")).certPem);
  writeFileSync(
    path.join(data, "pg_hba.conf"),
    [
      "local all all trust",
      "hostnossl all sslonly 127.0.0.1/32 reject",
      "hostssl all all 127.0.0.1/32 trust",
      "host all all 127.0.0.1/32 trust",
      "",
    ].join("\n"),
  );
  if (process.getuid?.() === 0) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  port = await freePort();
  asPostgres(bin("pg_ctl"), [
    "-D",
    data,
    "-l",
    path.join(dir, "log"),
    "-w",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c ssl=on -c fsync=off`,
    "start",
  ]);
  asPostgres(bin("psql"), ["-h", dir, "-p", String(port), "-U", "postgres", "-c", "create user sslonly"]);
}, 120_000);

afterAll(() => {
  try {
    asPostgres(bin("pg_ctl"), ["-D", path.join(dir, "data"), "-m", "immediate", "stop"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Connects with the URL and says whether the session is encrypted, or why it failed. */
async function attempt(query: string, host = "localhost", user = "postgres"): Promise<string> {
  try {
    const store = await openStore({ databaseUrl: `postgres://${user}@${host}:${port}/postgres?${query}` });
    try {
      const r = await store.query<{ ssl: boolean }>(
        "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
      );
      return r.rows[0]?.ssl ? "tls" : "plaintext";
    } finally {
      await store.close();
    }
  } catch (e) {
    return `failed: ${(e as Error).message}`;
  }
}

describe("sslmode against PostgreSQL with TLS", () => {
  it("disable connects in plaintext; prefer (the default), require use TLS", async () => {
    expect(await attempt("sslmode=disable")).toBe("plaintext");
    expect(await attempt("")).toBe("tls");
    expect(await attempt("sslmode=prefer")).toBe("tls");
    expect(await attempt("sslmode=require")).toBe("tls");
  });

  it("verify-ca trusts the chain whatever the name; refuses another CA", async () => {
    expect(await attempt(`sslmode=verify-ca&sslrootcert=${caFile}`, "127.0.0.1")).toBe("tls");
    expect(await attempt(`sslmode=verify-ca&sslrootcert=${otherCaFile}`)).toMatch(
      /^failed: .*(unable to|certificate)/,
    );
    // require with a root certificate behaves like verify-ca (libpq)
    expect(await attempt(`sslmode=require&sslrootcert=${otherCaFile}`)).toMatch(/^failed/);
  });

  it("verify-full also checks the host name against the certificate", async () => {
    expect(await attempt(`sslmode=verify-full&sslrootcert=${caFile}`, "localhost")).toBe("tls");
    expect(await attempt(`sslmode=verify-full&sslrootcert=${caFile}`, "127.0.0.1")).toMatch(
      /^failed: .*(IP: 127\.0\.0\.1 is not in the cert's list|does not match)/,
    );
  });

  it("allow tries plaintext, and TLS when the server insists", async () => {
    expect(await attempt("sslmode=allow")).toBe("plaintext");
    expect(await attempt("sslmode=allow", "localhost", "sslonly")).toBe("tls");
    expect(await attempt("sslmode=disable", "localhost", "sslonly")).toMatch(/^failed: .*no encryption/);
  });
});

describe("sslmode against PostgreSQL without TLS (the machine's server, ssl = off)", () => {
  const shared = process.env.WARDEN_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const withMode = (mode: string) => {
    const u = new URL(shared);
    u.searchParams.set("sslmode", mode);
    return u.toString();
  };

  it("prefer falls back to plaintext; require refuses to connect in the clear", async () => {
    const store = await openStore({ databaseUrl: withMode("prefer") });
    try {
      const r = await store.query<{ ssl: boolean | null }>(
        "select (select ssl from pg_stat_ssl where pid = pg_backend_pid()) as ssl, current_setting('ssl') = 'on' as server_ssl",
      );
      expect(r.rows[0]).toMatchObject({ ssl: false, server_ssl: false });
    } finally {
      await store.close();
    }
    await expect(openStore({ databaseUrl: withMode("require") })).rejects.toThrow(/does not support SSL/);
  });
});
