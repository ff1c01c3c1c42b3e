import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authRepo } from "../../src/auth/auth.repo.ts";
import { type Running, serve } from "../../src/boot.ts";
import { loadConfig } from "../../src/core/config.ts";
import type { Ctx, Role } from "../../src/core/context.ts";
import { hashPassword } from "../../src/crypto/passwords.ts";
import { type GithubFake, startGithubFake } from "../fakes/github-fake.ts";
import { wardenArgv } from "./run-cli.ts";

/**
 * `warden access …` and `warden ssh cert` as people run them: a real HTTPS server, the CLI in a child
 * process with each person's API token. A developer asks, the owner approves from the inbox, the
 * grant is listed with its time left, revoked, and an SSH certificate is fetched into a file.
 */
let running: Running;
let dir: string;
let fingerprint = "";
let gh: GithubFake;
const TOKEN = "ghp_cli_token_0123456789";
const tokens: Record<string, string> = {};
let ownerId = "";
let developerId = "";
let githubId = "";

function warden(who: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, wardenArgv(args), {
      env: {
        ...process.env,
        XDG_CONFIG_HOME: path.join(dir, "config"),
        HOME: dir,
        WARDEN_SERVER: running.url,
        WARDEN_TOKEN: tokens[who] ?? "",
        WARDEN_CA_FINGERPRINT: fingerprint,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

async function account(role: Role, developer?: string) {
  const id = randomUUID();
  await authRepo.insertUser(running.store, {
    id,
    email: `${role}-${id.slice(0, 8)}@example.test`,
    displayName: `${role} user`,
    role,
    developerId: developer ?? null,
    passwordHash: await hashPassword("unused password 123", { ln: 10, r: 8, p: 1 }),
    at: new Date(),
  });
  const ctx: Ctx = {
    actor: { kind: "user", userId: id, role, label: role, ...(developer ? { developerId: developer } : {}) },
    meta: {},
  };
  const { secret } = await running.app.auth.createToken(ctx, {
    name: "cli",
    scopes: ["read", "write"],
    expiresInDays: 1,
  });
  return { id, ctx, secret };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "warden-access-cli-"));
  const lines: string[] = [];
  running = await serve(
    loadConfig({ WARDEN_DATA_DIR: path.join(dir, "data"), WARDEN_PORT: "0", WARDEN_LOG_LEVEL: "silent" }),
    (l) => lines.push(l),
  );
  fingerprint = lines.find((l) => l.includes("SHA-256 fingerprint"))?.split(": ")[1] ?? "";
  gh = await startGithubFake({ token: TOKEN, owner: "acme", repo: "shop" });
  const { app } = running;
  const admin = await account("admin");
  const owner = await account("manager");
  ownerId = owner.id;
  tokens.owner = owner.secret;
  // A gate without agreements: vetting decides eligibility here (the gate itself is tested elsewhere).
  await app.gate.setRequirements(admin.ctx, {
    ...(await app.gate.requirements()),
    alwaysRequired: [],
    requiredTrainings: [],
    requireBackgroundCheck: false,
    minVerifiedReferences: 0,
  });
  const key = path.join(dir, "id_ed25519");
  execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ana", "-f", key]);
  const dev = await app.people.developers.create(admin.ctx, {
    vendorId: null,
    fullName: "Ana Silva",
    email: "ana@acme.example",
    country: "PT",
    timeZone: "Europe/Lisbon",
    workingHours: { start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5] },
    gitUsernames: { github: "ana-silva" },
    sshPublicKeys: [(await readFile(`${key}.pub`, "utf8")).trim()],
    ageRecipients: [],
  });
  developerId = dev.id;
  await app.people.engagements.create(admin.ctx, {
    developerId,
    title: "Shop rebuild",
    startsOn: new Date(Date.now() - 86400_000).toISOString().slice(0, 10),
    endsOn: null,
    roles: ["backend"],
    handlesPersonalData: false,
    scope: "",
  });
  await app.vetting.vetting.update(admin.ctx, developerId, {
    awareness: { score: 95, takenOn: new Date().toISOString().slice(0, 10) },
  });
  await app.vetting.vetting.decide(admin.ctx, developerId, { decision: "approved", reason: "All clear" });
  tokens.developer = (await account("developer", developerId)).secret;
  githubId = (
    await app.access.resources.create(admin.ctx, {
      name: "shop-repo",
      description: "The shop's code",
      kind: "github",
      environment: "staging",
      dataClass: "internal",
      owners: [ownerId],
      levels: ["read", "write"],
      maxDurationMinutes: 480,
      breakGlass: false,
      connector: { apiUrl: gh.url, owner: "acme", repo: "shop", token: TOKEN },
    })
  ).id;
  await app.access.resources.create(admin.ctx, {
    name: "shop-hosts",
    description: "",
    kind: "ssh",
    environment: "staging",
    dataClass: "internal",
    owners: [ownerId],
    levels: ["read"],
    maxDurationMinutes: 480,
    breakGlass: false,
    connector: { principals: ["deploy"] },
  });
}, 240_000);

afterAll(async () => {
  await gh?.close();
  await running?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("warden access", () => {
  it("takes a request from the developer to the owner's approval and a revocation", async () => {
    const catalog = await warden("developer", ["access", "resources"]);
    expect(catalog.code, catalog.err).toBe(0);
    expect(catalog.out).toMatch(/shop-repo\s+github\s+staging/);

    const bad = await warden("developer", [
      "access",
      "request",
      "shop-repo",
      "--level",
      "read",
      "--duration",
      "2 hours",
      "--reason",
      "x",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--duration expects");

    const asked = await warden("developer", [
      "access",
      "request",
      "shop-repo",
      "--level",
      "read",
      "--duration",
      "2h",
      "--reason",
      "Fix the checkout bug",
      "--json",
    ]);
    expect(asked.code, asked.err).toBe(0);
    const request = JSON.parse(asked.out);
    expect(request).toMatchObject({ status: "pending", durationMinutes: 120 });

    const inbox = await warden("owner", ["access", "list"]);
    expect(inbox.code, inbox.err).toBe(0);
    expect(inbox.out).toContain("Requests waiting for your decision");
    expect(inbox.out).toContain(request.id);

    const selfApprove = await warden("developer", ["access", "approve", request.id, "--reason", "me"]);
    expect(selfApprove.code).toBe(4);
    const noReason = await warden("owner", ["access", "approve", request.id]);
    expect(noReason.code).not.toBe(0);
    expect(noReason.err).toContain("--reason");

    const approved = await warden("owner", ["access", "approve", request.id, "--reason", "Sprint work"]);
    expect(approved.code, approved.err).toBe(0);
    expect(approved.out).toContain("APPROVED");
    expect(approved.out).toMatch(/Grant [0-9a-f-]{36}: ACTIVE/);
    expect([...gh.invitations.values()].map((i) => i.login)).toContain("ana-silva");

    const mine = await warden("developer", ["access", "list", "--json"]);
    const grant = JSON.parse(mine.out).grants.find(
      (g: { resourceName: string }) => g.resourceName === "shop-repo",
    );
    expect(grant).toMatchObject({ state: "active", level: "read" });
    const table = await warden("developer", ["access", "list"]);
    expect(table.out).toMatch(new RegExp(`${grant.id}\\s+shop-repo\\s+read\\s+active`));
    expect(table.out).toMatch(/\b(1h59m|2h00m)\b/);

    const revoked = await warden("owner", ["access", "revoke", grant.id, "--reason", "Bug fixed"]);
    expect(revoked.code, revoked.err).toBe(0);
    expect(revoked.out).toContain("REVOKED");
    expect([...gh.invitations.values()].map((i) => i.login)).not.toContain("ana-silva");
  }, 300_000);

  it("denies, cancels, and says what was wrong", async () => {
    const ask = async () =>
      JSON.parse(
        (
          await warden("developer", [
            "access",
            "request",
            githubId,
            "--level",
            "write",
            "--duration",
            "30m",
            "--reason",
            "Push a hotfix",
            "--json",
          ])
        ).out,
      );
    const first = await ask();
    const denied = await warden("owner", ["access", "deny", first.id, "--reason", "Use a pull request"]);
    expect(denied.code, denied.err).toBe(0);
    expect(denied.out).toContain("DENIED");
    const second = await ask();
    const cancelled = await warden("developer", ["access", "cancel", second.id]);
    expect(cancelled.code, cancelled.err).toBe(0);
    expect(cancelled.out).toContain("cancelled");
    const unknown = await warden("developer", [
      "access",
      "request",
      "no-such-thing",
      "--level",
      "read",
      "--duration",
      "1h",
      "--reason",
      "x",
    ]);
    expect(unknown.code).toBe(5);
    expect(unknown.err).toContain('No resource named "no-such-thing"');
    expect(unknown.err).not.toMatch(/at .*\.ts:\d+/);
  }, 300_000);
});

describe("warden ssh cert", () => {
  it("saves the developer's current certificate from a live SSH grant", async () => {
    const none = await warden("developer", ["ssh", "cert"]);
    expect(none.code).toBe(5);
    expect(none.err).toContain("no live SSH grant");
    const asked = JSON.parse(
      (
        await warden("developer", [
          "access",
          "request",
          "shop-hosts",
          "--level",
          "read",
          "--duration",
          "1h",
          "--reason",
          "Deploy",
          "--json",
        ])
      ).out,
    );
    const ok = await warden("owner", ["access", "approve", asked.id, "--reason", "ok"]);
    expect(ok.code, ok.err).toBe(0);
    const out = path.join(dir, "cert.pub");
    const cert = await warden("developer", ["ssh", "cert", "--out", out]);
    expect(cert.code, cert.err).toBe(0);
    expect(cert.out).toContain(`Wrote ${out}`);
    expect(cert.out).toContain("principals deploy");
    const listed = execFileSync("/usr/bin/ssh-keygen", ["-L", "-f", out], { encoding: "utf8" });
    expect(listed).toContain("Type: ssh-ed25519-cert-v01@openssh.com user certificate");
    expect(listed).toContain("warden:developer=ana@acme.example:grant=");
    expect(listed).toMatch(/Principals:\s+deploy/);
    const ca = await warden("developer", ["ssh", "ca"]);
    expect(ca.out).toMatch(/^ssh-ed25519 AAAA\S+ warden-user-ca\n$/);
    const caFile = path.join(dir, "ca.pub");
    await writeFile(caFile, ca.out);
    const caFingerprint = execFileSync("/usr/bin/ssh-keygen", ["-l", "-f", caFile], {
      encoding: "utf8",
    }).split(" ")[1];
    expect(listed).toContain(`Signing CA: ED25519 ${caFingerprint}`);

    // Without --out, each certificate goes beside its key in ~/.ssh, where ssh finds it by itself.
    await mkdir(path.join(dir, ".ssh"), { recursive: true });
    await copyFile(path.join(dir, "id_ed25519.pub"), path.join(dir, ".ssh", "id_ed25519.pub"));
    const beside = await warden("developer", ["ssh", "cert"]);
    expect(beside.code, beside.err).toBe(0);
    expect(beside.out).toContain(`Wrote ${path.join(dir, ".ssh", "id_ed25519-cert.pub")}: `);
    expect(beside.out).toContain("key ana,");
    // A key that is not registered is not certified, and the CLI says what to do.
    const other = path.join(dir, "id_other");
    execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "other", "-f", other]);
    const refused = await warden("developer", ["ssh", "cert", "--key", other]);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain("not one of your registered SSH keys");
    expect(refused.err).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  }, 300_000);
});
