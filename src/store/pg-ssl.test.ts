import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgSslConfigError, pgConnectionPlan, sslModeOf, wantsFallback } from "./pg-ssl.ts";

let dir: string;
let ca: string;
const noHome = "/nonexistent-home";
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "warden-pgssl-"));
  ca = path.join(dir, "ca.pem");
  await writeFile(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("sslmode in WARDEN_DATABASE_URL (libpq semantics)", () => {
  it("defaults to prefer: TLS without verification, plaintext if the server has none", () => {
    const p = pgConnectionPlan("postgres://w@db.internal:5432/warden", noHome);
    expect(p.mode).toBe("prefer");
    expect(p.ssl).toMatchObject({ rejectUnauthorized: false, servername: "db.internal" });
    expect(p.fallback).toBe(false);
  });

  it.each([
    ["disable", false, undefined],
    ["allow", false, { rejectUnauthorized: false }],
    ["require", { rejectUnauthorized: false }, undefined],
  ] as const)("%s", (mode, ssl, fallback) => {
    const p = pgConnectionPlan(`postgres://w@db/warden?sslmode=${mode}`, noHome);
    if (ssl === false) expect(p.ssl).toBe(false);
    else expect(p.ssl).toMatchObject(ssl);
    if (fallback) expect(p.fallback).toMatchObject(fallback);
    else expect(p.fallback).toBeUndefined();
  });

  it("verify-ca checks the chain against sslrootcert but not the name; verify-full checks both", () => {
    const vca = pgConnectionPlan(`postgres://w@10.0.0.5/warden?sslmode=verify-ca&sslrootcert=${ca}`, noHome);
    expect(vca.ssl).toMatchObject({
      rejectUnauthorized: true,
      ca: expect.stringContaining("BEGIN CERTIFICATE"),
    });
    expect((vca.ssl as { checkServerIdentity: () => unknown }).checkServerIdentity()).toBeUndefined();
    const vfull = pgConnectionPlan(
      `postgres://w@db.internal/warden?sslmode=verify-full&sslrootcert=${ca}`,
      noHome,
    );
    expect(vfull.ssl).toMatchObject({ rejectUnauthorized: true, servername: "db.internal" });
    expect((vfull.ssl as { checkServerIdentity?: unknown }).checkServerIdentity).toBeUndefined();
    // An IP host gets no SNI name (RFC 6066) but is still checked against the certificate's IP SANs.
    expect(pgConnectionPlan("postgres://w@10.0.0.5/w?sslmode=verify-full", noHome).ssl).not.toHaveProperty(
      "servername",
    );
  });

  it("require with a root certificate verifies the chain, as libpq does", () => {
    const p = pgConnectionPlan(`postgres://w@db/warden?sslmode=require&sslrootcert=${ca}`, noHome);
    expect(p.ssl).toMatchObject({ rejectUnauthorized: true });
  });

  it("sslrootcert=system uses Node's bundled roots", () => {
    const p = pgConnectionPlan("postgres://w@db/warden?sslmode=verify-full&sslrootcert=system", noHome);
    expect(p.ssl).toMatchObject({ rejectUnauthorized: true });
    expect(p.ssl).not.toHaveProperty("ca");
  });

  it("takes the TLS parameters out of the URL so node-postgres cannot reinterpret them", () => {
    const p = pgConnectionPlan(
      `postgres://w:pw@db:6543/warden?sslmode=verify-ca&sslrootcert=${ca}&application_name=warden`,
      noHome,
    );
    expect(p.connectionString).toBe("postgres://w:pw@db:6543/warden?application_name=warden");
  });

  it("names an unreadable certificate file and an unknown mode", () => {
    expect(() =>
      pgConnectionPlan("postgres://w@db/w?sslmode=verify-ca&sslrootcert=/no/such.pem", noHome),
    ).toThrow(
      new PgSslConfigError(
        "Cannot read sslrootcert /no/such.pem from WARDEN_DATABASE_URL: ENOENT: no such file or directory, open '/no/such.pem'",
      ),
    );
    expect(sslModeOf("postgres://db/w?sslmode=on")).toEqual({
      error: "sslmode to be one of disable, allow, prefer, require, verify-ca, verify-full (got on)",
    });
  });

  it("falls back only on the answers that mean it", () => {
    const prefer = pgConnectionPlan("postgres://db/w", noHome);
    expect(wantsFallback(prefer, new Error("The server does not support SSL connections"))).toBe(true);
    expect(wantsFallback(prefer, new Error("password authentication failed"))).toBe(false);
    const allow = pgConnectionPlan("postgres://db/w?sslmode=allow", noHome);
    expect(
      wantsFallback(
        allow,
        Object.assign(
          new Error('no pg_hba.conf entry for host "1.2.3.4", user "w", database "w", no encryption'),
          { code: "28000" },
        ),
      ),
    ).toBe(true);
    expect(
      wantsFallback(
        pgConnectionPlan("postgres://db/w?sslmode=require", noHome),
        new Error("The server does not support SSL connections"),
      ),
    ).toBe(false);
  });
});
