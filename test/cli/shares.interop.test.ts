import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type SignedIn, type TestApp } from "../harness.ts";
import { eligibleRecipient, type Recipient, relaxGate } from "../shares.fixtures.ts";

/**
 * Shares interoperate with the standard age CLI (Debian package `age` 1.1.1) both ways: what
 * `warden share send` uploads opens with `age -d`, and what `age` encrypted to a developer's registered
 * keys, uploaded as a share, opens with `warden share get` — for X25519 and ssh-ed25519 identities.
 */
let t: TestApp;
let dir: string;
let sender: SignedIn;
let dev: Recipient;
let env: { sender: Record<string, string>; dev: Record<string, string> };
const keys = { ageKey: "", ageRecipient: "", sshKey: "", sshPub: "" };

function requireBinary(name: string) {
  if (spawnSync("sh", ["-c", `command -v ${name}`]).status !== 0)
    throw new Error(`${name} is not installed: run .ci/install-deps (Debian packages age, openssh-client)`);
}

function warden(
  args: string[],
  e: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", "src/cli/entry.ts", ...args], {
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: path.join(dir, "config"), ...e },
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

async function tokenEnv(userId: string, role: "manager" | "developer", developerId?: string) {
  const { secret } = await t.app.auth.createToken(
    { actor: { kind: "user", userId, role, label: role, ...(developerId ? { developerId } : {}) }, meta: {} },
    { name: `interop-${role}`, scopes: ["read", "write"], expiresInDays: 1 },
  );
  return { WARDEN_SERVER: t.url!, WARDEN_TOKEN: secret, WARDEN_CA_FINGERPRINT: t.fingerprint! };
}

beforeAll(async () => {
  for (const b of ["age", "age-keygen", "ssh-keygen"]) requireBinary(b);
  dir = await mkdtemp(path.join(os.tmpdir(), "warden-share-interop-"));
  keys.ageKey = path.join(dir, "key.txt");
  execFileSync("age-keygen", ["-o", keys.ageKey], { stdio: "ignore" });
  keys.ageRecipient = execFileSync("age-keygen", ["-y", keys.ageKey]).toString().trim();
  keys.sshKey = path.join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "dev@laptop", "-f", keys.sshKey]);
  keys.sshPub = (await readFile(`${keys.sshKey}.pub`, "utf8")).trim();

  t = await createTestApp({ https: true, now: new Date().toISOString() });
  await relaxGate(t);
  sender = await t.signIn("security");
  dev = await eligibleRecipient(t, {
    categories: ["source code"],
    ageRecipients: [keys.ageRecipient],
    sshKeys: [keys.sshPub],
  });
  env = {
    sender: await tokenEnv(sender.userId, "manager"),
    dev: await tokenEnv(dev.userId, "developer", dev.developerId),
  };
}, 240_000);
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function downloadCiphertext(id: string): Promise<Buffer> {
  const res = await t.server.inject({
    method: "POST",
    url: `/api/v1/me/shares/${id}/download`,
    headers: {
      cookie: dev.client.cookie!,
      "x-csrf-token": dev.client.csrf!,
      "content-type": "application/json",
    },
    payload: "{}",
  });
  expect(res.statusCode).toBe(200);
  return res.rawPayload;
}

describe("shares and the age CLI", () => {
  it("age -d opens what `warden share send` uploaded, with the age key and with the SSH key", async () => {
    const plain = randomBytes(3 * 1024 * 1024 + 17);
    const file = path.join(dir, "release.tar");
    await writeFile(file, plain);
    const sent = await warden(
      ["share", "send", file, "--to", dev.email, "--category", "source code", "--max-downloads", "2"],
      env.sender,
    );
    expect(sent.err).toBe("");
    const id = /Sent share ([0-9a-f-]{36})/.exec(sent.out)![1]!;
    expect(sent.out).toContain("Encrypted to 2 keys");
    const ciphertext = path.join(dir, "release.tar.age");
    await writeFile(ciphertext, await downloadCiphertext(id));
    for (const identity of [keys.ageKey, keys.sshKey]) {
      const r = spawnSync("age", ["-d", "-i", identity, ciphertext], { maxBuffer: 64 * 1024 * 1024 });
      expect(r.stderr.toString()).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout.equals(plain)).toBe(true);
    }
  });

  it("`warden share get` opens what age encrypted to the developer's registered keys", async () => {
    const plain = randomBytes(2 * 1024 * 1024 + 5);
    const file = path.join(dir, "dump.sql");
    await writeFile(file, plain);
    const created = await sender.client.post("/api/v1/shares", {
      kind: "file",
      filename: "dump.sql",
      to: [dev.developerId],
      dataCategories: ["source code"],
      size: plain.length,
      maxDownloads: 2,
    });
    expect(created.status).toBe(201);
    const ciphertext = spawnSync("age", ["-r", keys.ageRecipient, "-R", `${keys.sshKey}.pub`, file], {
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(ciphertext.status).toBe(0);
    const up = await sender.client.raw(
      "PUT",
      `/api/v1/shares/${created.body.id}/content`,
      ciphertext.stdout,
      {
        "content-type": "application/age",
      },
    );
    expect(up.status, JSON.stringify(up.body)).toBe(200);
    for (const [n, identity] of [keys.ageKey, keys.sshKey].entries()) {
      const out = path.join(dir, `dump-${n}.sql`);
      const r = await warden(["share", "get", created.body.id, "--identity", identity, "-o", out], env.dev);
      expect(r.code, r.err).toBe(0);
      expect((await readFile(out)).equals(plain)).toBe(true);
    }
  });

  it("refuses a file age encrypted to the SSH key alone: the header must carry every registered key", async () => {
    const created = await sender.client.post("/api/v1/shares", {
      kind: "file",
      filename: "partial.txt",
      to: [dev.developerId],
      dataCategories: ["source code"],
      size: 5,
    });
    const file = path.join(dir, "partial.txt");
    await writeFile(file, "hello");
    const ciphertext = spawnSync("age", ["-R", `${keys.sshKey}.pub`, file]);
    const up = await sender.client.raw(
      "PUT",
      `/api/v1/shares/${created.body.id}/content`,
      ciphertext.stdout,
      {
        "content-type": "application/age",
      },
    );
    expect(up.status).toBe(422);
    expect(up.body.detail).toContain("0 X25519 recipients but the recipients have 1 registered age key");
  });
});
