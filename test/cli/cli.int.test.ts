import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authRepo } from "../../src/auth/auth.repo.ts";
import { type Running, serve } from "../../src/boot.ts";
import { loadConfig } from "../../src/core/config.ts";
import { hashPassword } from "../../src/crypto/passwords.ts";
import { onPostgres } from "../harness.ts";
import { runWarden } from "./run-cli.ts";

/**
 * The CLI as a user runs it: a real HTTPS server with its generated certificate, the `warden` entry
 * point in a child process, the token in a 0600 file, exit codes and messages checked.
 */
let running: Running;
let dir: string;
let env: Record<string, string>;
let fingerprint = "";
const lines: string[] = [];

const warden = (args: string[], extraEnv: Record<string, string> = {}) =>
  runWarden(args, { ...env, ...extraEnv });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "warden-cli-"));
  // The CLI test runs the embedded store only: its subject is the CLI, not the database.
  const config = loadConfig({
    WARDEN_DATA_DIR: path.join(dir, "data"),
    WARDEN_PORT: "0",
    WARDEN_LOG_LEVEL: "silent",
  });
  running = await serve(config, (l) => lines.push(l));
  fingerprint = lines.find((l) => l.includes("SHA-256 fingerprint"))?.split(": ")[1] ?? "";
  env = { XDG_CONFIG_HOME: path.join(dir, "config"), WARDEN_SERVER: "", WARDEN_TOKEN: "" };
});
afterAll(async () => {
  await running?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("warden CLI against a running server", () => {
  it("prints the URL, the certificate fingerprint and a setup link on first start", () => {
    expect(lines[0]).toMatch(/^Warden is running at https:\/\/127\.0\.0\.1:\d+$/);
    expect(fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(lines.some((l) => /\/setup#token=setup_/.test(l))).toBe(true);
  });

  it("says what to do when not signed in", async () => {
    const r = await warden(["vendors", "list"]);
    expect(r.code).toBe(3);
    expect(r.err).toContain("Not signed in");
    expect(r.err).toContain("warden login");
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
  }, 120_000);

  it("logs in with a token, pins the certificate, saves it 0600, and drives the API", async () => {
    const { store } = running;
    const userId = randomUUID();
    await authRepo.insertUser(store, {
      id: userId,
      email: "lead@example.test",
      displayName: "Lead",
      role: "security",
      developerId: null,
      passwordHash: await hashPassword("unused password 123", { ln: 10, r: 8, p: 1 }),
      at: new Date(),
    });
    const { secret } = await running.app.auth.createToken(
      { actor: { kind: "user", userId, role: "security", label: "lead@example.test" }, meta: {} },
      { name: "cli-test", scopes: ["read", "write"], expiresInDays: 1 },
    );
    const login = await warden([
      "login",
      "--server",
      running.url,
      "--token",
      secret,
      "--fingerprint",
      fingerprint,
    ]);
    expect(login.err).toBe("");
    expect(login.code).toBe(0);
    expect(login.out).toContain("Signed in");
    const file = path.join(dir, "config", "warden", "credentials.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8")).caFingerprint).toBe(fingerprint);

    const bad = await warden([
      "vendors",
      "create",
      "--name",
      "Acme",
      "--country",
      "Portugal",
      "--risk-tier",
      "low",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--country");

    const created = await warden([
      "vendors",
      "create",
      "--name",
      "Acme",
      "--country",
      "PT",
      "--risk-tier",
      "low",
      "--json",
    ]);
    expect(created.code).toBe(0);
    const vendor = JSON.parse(created.out);
    expect(vendor.name).toBe("Acme");

    const dup = await warden([
      "vendors",
      "create",
      "--name",
      "acme",
      "--country",
      "PT",
      "--risk-tier",
      "low",
    ]);
    expect(dup.code).toBe(6);

    const list = await warden(["vendors", "list"]);
    expect(list.out).toMatch(/NAME\s+COUNTRY/);
    expect(list.out).toContain("Acme");

    const dev = await warden([
      "developers",
      "create",
      "--name",
      "Ana Silva",
      "--email",
      "ana@acme.example",
      "--vendor",
      vendor.id,
      "--country",
      "PT",
      "--time-zone",
      "Europe/Lisbon",
      "--hours",
      "09:00-18:00/1-5",
      "--json",
    ]);
    expect(dev.code, dev.err).toBe(0);

    const gate = await warden(["gate", "check", "ana@acme.example"]);
    expect(gate.code).toBe(1);
    expect(gate.out).toContain("NOT ELIGIBLE");
    expect(gate.out).toContain("No active engagement");
  }, 300_000);

  it("sends a redacted file-scan report that the server stores against the vendor", async () => {
    const repo = path.join(dir, "delivered-repo");
    await mkdir(repo, { recursive: true });
    await writeFile(path.join(repo, "config.js"), 'export const key = "AKIAZ3MWXXHWQ4BRVNEQ";\n');
    const vendors = await warden(["vendors", "list", "--json"]);
    const vendorId = JSON.parse(vendors.out).items[0].id as string;
    const r = await warden(["scan", "files", repo, "--report", "--vendor", vendorId, "--workers", "1"]);
    expect(r.code, r.err).toBe(1);
    expect(r.out + r.err).toContain("Reported 1 finding");
    const stored = await running.app.scanReports.list({ vendorId, limit: 10, offset: 0 });
    expect(stored.total).toBe(1);
    const detail = await running.app.scanReports.get(stored.items[0]!.id);
    expect(detail.findings[0]!.ruleId).toBe("aws-access-key-id");
    expect(JSON.stringify(detail)).not.toContain("AKIAZ3MWXXHWQ4BRVNEQ");
  }, 300_000);

  it("records an engagement, agreements, training and vetting until the gate says eligible", async () => {
    const devs = JSON.parse((await warden(["developers", "list", "--json"])).out);
    const dev = devs.items[0] as { id: string; vendorId: string };
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const ok = async (args: string[]) => {
      const r = await warden(args);
      expect(r.code, `${args.join(" ")}: ${r.err}`).toBe(0);
      return r.out;
    };
    await ok([
      "engagements",
      "create",
      "--developer",
      dev.id,
      "--title",
      "Checkout",
      "--starts",
      day(-5),
      "--roles",
      "backend",
    ]);
    const pdf = path.join(dir, "signed.pdf");
    await writeFile(pdf, "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    for (const type of ["nda", "ip_assignment"]) {
      const a = JSON.parse(
        await ok([
          "agreements",
          "create",
          "--type",
          type,
          "--vendor",
          dev.vendorId,
          "--title",
          `${type} Acme`,
          "--signed",
          day(-10),
          "--effective",
          day(-10),
          "--expires",
          day(300),
          "--json",
        ]),
      );
      await ok(["agreements", "upload", a.id, pdf]);
      await ok(["agreements", "activate", a.id]);
    }
    await ok([
      "training",
      "add",
      dev.id,
      "--course",
      "security-awareness",
      "--completed",
      day(-2),
      "--score",
      "95",
      "--expires",
      day(360),
    ]);
    await ok([
      "vetting",
      "update",
      dev.id,
      "--background",
      `Checkr:clear:${day(-3)}`,
      "--awareness",
      `92:${day(-3)}`,
      "--culture",
      "pass",
    ]);
    await ok(["vetting", "add-reference", dev.id, "--name", "Rita Referee", "--company", "Previous Corp"]);
    const vetting = JSON.parse(await ok(["vetting", "show", dev.id, "--json"]));
    await ok(["vetting", "verify-reference", dev.id, vetting.references[0].id]);
    await ok(["vetting", "decide", dev.id, "--decision", "approved", "--reason", "All checks clear"]);

    const gate = await warden(["gate", "check", "ana@acme.example"]);
    expect(gate.out).toContain("ELIGIBLE");
    expect(gate.out).not.toContain("NOT ELIGIBLE");
    expect(gate.code).toBe(0);
    const later = await warden(["gate", "check", dev.id, "--at", `${day(301)}T00:00:00Z`, "--json"]);
    expect(later.code).toBe(1);
    expect(JSON.parse(later.out).reasons.map((r: { message: string }) => r.message)).toContain(
      `NDA with Acme expired on ${day(300)}`,
    );

    const out = path.join(dir, "downloaded.pdf");
    const agreements = JSON.parse(await ok(["agreements", "list", "--type", "nda", "--json"]));
    await ok(["agreements", "download", agreements.items[0].id, "--out", out]);
    expect((await readFile(out, "utf8")).startsWith("%PDF-")).toBe(true);
  }, 600_000);

  it("scans Warden's own HTTPS with `warden scan tls --report`: nothing to fix, and the server keeps the result", async () => {
    // The CLI signed in with `warden login`, which pinned the generated certificate: the scanner trusts
    // that pin, so Warden pointed at itself reports nothing (the certificate shows as pinned).
    const plain = running.url.replace("https://", "http://");
    const r = await warden([
      "scan",
      "tls",
      running.url,
      plain,
      "--report",
      "--format",
      "json",
      "--fail-on",
      "info",
    ]);
    expect(r.err).toContain("Reported 2 target(s)");
    expect(r.code).toBe(0);
    const [own, redirect] = JSON.parse(r.out).targets;
    expect(own.findings).toEqual([]);
    expect(redirect.findings).toEqual([]);
    expect(own.grade).toMatchObject({ grade: "A+" });
    expect(own.certificate).toMatchObject({ selfSigned: true, trusted: true, pinned: true });
    expect(redirect.http).toMatchObject({ status: 308, redirectsToHttps: true });
    const stored = await running.app.tlsScans.list({ q: new URL(running.url).host, limit: 5, offset: 0 });
    expect(stored.items.find((t) => t.target === running.url)).toMatchObject({
      source: "cli",
      scheduled: false,
      lastScan: { trigger: "cli", grade: "A+", reportedBy: "lead@example.test" },
    });
    // Told nothing about the certificate (no login, no --ca, no --pin), the scan calls it self-signed.
    const stranger = await warden(["scan", "tls", running.url, "--format", "json", "--fail-on", "high"], {
      XDG_CONFIG_HOME: path.join(dir, "nobody"),
    });
    expect(stranger.code).toBe(1);
    expect(JSON.parse(stranger.out).targets[0].findings.map((f: { id: string }) => f.id)).toEqual([
      "cert-self-signed",
    ]);

    // The server's list (catalog resources included) can be scanned from elsewhere, e.g. a CI runner.
    const fromServer = await warden(["scan", "tls", "--server-targets", "--format", "json"]);
    expect(fromServer.code, fromServer.err).toBe(0);
    expect(JSON.parse(fromServer.out).targets.map((t: { target: string }) => t.target)).toContain(
      running.url,
    );
    const none = await warden(["scan", "tls"]);
    expect(none.code).toBe(2);
    expect(none.err).toContain("Name at least one target");
  }, 300_000);

  it("shows the keys and rotates data keys and the master key, with progress, from the CLI", async () => {
    const userId = randomUUID();
    await authRepo.insertUser(running.store, {
      id: userId,
      email: "admin@example.test",
      displayName: "Admin",
      role: "admin",
      developerId: null,
      passwordHash: await hashPassword("unused password 123", { ln: 10, r: 8, p: 1 }),
      at: new Date(),
    });
    const { secret } = await running.app.auth.createToken(
      { actor: { kind: "user", userId, role: "admin", label: "admin@example.test" }, meta: {} },
      { name: "cli-keys", scopes: ["read", "write"], expiresInDays: 1 },
    );
    const as = { WARDEN_SERVER: running.url, WARDEN_TOKEN: secret, WARDEN_CA_FINGERPRINT: fingerprint };
    const usage = await warden(["keys", "rotate"], as);
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("--kek or --data");

    // The agreements uploaded above are sealed under the "documents" data key (and the audit log's
    // signing key under "signing").
    const data = await warden(["keys", "rotate", "--data", "--wait"], as);
    expect(data.code, data.err).toBe(0);
    expect(data.out).toMatch(/data-key rotation .*\[[^\]]*\bdocuments\b[^\]]*\]: every value re-encrypted/);

    const kek = await warden(["keys", "rotate", "--kek"], as);
    expect(kek.code, kek.err).toBe(0);
    expect(kek.out).toContain(`A new master key was written to ${path.join(dir, "data", "master.key")}`);

    const status = await warden(["keys", "status"], as);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/master key: local:[0-9a-f]{16} \(from the key file\)/);
    expect(status.out).toMatch(/documents\s+2\s+active\s+[1-9]/);
    expect(status.out).not.toContain("still wrapping");
    const json = JSON.parse((await warden(["keys", "status", "--json"], as)).out);
    expect(JSON.stringify(json)).not.toContain(
      (await readFile(path.join(dir, "data", "master.key"), "utf8")).trim(),
    );
  }, 300_000);

  it("refuses a server whose certificate does not match the pin", async () => {
    const r = await warden(["whoami"], {
      WARDEN_SERVER: running.url,
      WARDEN_TOKEN: "wdn_x",
      WARDEN_CA_FINGERPRINT: "00:11",
    });
    expect(r.code).toBe(7);
    expect(r.err).toContain("does not match");
  }, 120_000);
});

void onPostgres;
