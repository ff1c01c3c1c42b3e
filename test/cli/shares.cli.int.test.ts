import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, open, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateKeyPair, identityFileText } from "../../src/crypto/age/index.ts";
import { createTestApp, type SignedIn, type TestApp } from "../harness.ts";
import { eligibleRecipient, type Recipient, relaxGate } from "../shares.fixtures.ts";
import { wardenArgv } from "./run-cli.ts";

/**
 * `warden share …` as people run it: the CLI in a child process against a real HTTPS server, with
 * API tokens, encrypting and decrypting on the client side.
 */
let t: TestApp;
let dir: string;
let ana: Recipient;
let senderEnv: Record<string, string>;
let anaEnv: Record<string, string>;
let anaIdentity: string;
let sender: SignedIn;

function warden(
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, wardenArgv(args), {
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: path.join(dir, "config"), ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.stdin.end(stdin ?? "");
    p.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

async function tokenFor(userId: string, role: "manager" | "developer", developerId?: string) {
  const { secret } = await t.app.auth.createToken(
    {
      actor: { kind: "user", userId, role, label: role, ...(developerId ? { developerId } : {}) },
      meta: {},
    },
    { name: `cli-${role}`, scopes: ["read", "write"], expiresInDays: 1 },
  );
  return { WARDEN_SERVER: t.url!, WARDEN_TOKEN: secret, WARDEN_CA_FINGERPRINT: t.fingerprint! };
}

const storedFiles = async () => readdir(t.app.deps.config.shares.dir).catch(() => [] as string[]);

beforeAll(async () => {
  t = await createTestApp({ https: true, now: new Date().toISOString() });
  dir = await mkdtemp(path.join(os.tmpdir(), "warden-share-cli-"));
  await relaxGate(t);
  sender = await t.signIn("manager");
  ana = await eligibleRecipient(t, { categories: ["source code", "credentials"] });
  senderEnv = await tokenFor(sender.userId, "manager");
  anaEnv = await tokenFor(ana.userId, "developer", ana.developerId);
  anaIdentity = path.join(dir, "ana.key");
  await writeFile(anaIdentity, ana.identity, { mode: 0o600 });
});
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function sendFile(content: Buffer, extra: string[] = []) {
  const file = path.join(dir, `plain-${randomBytes(4).toString("hex")}.bin`);
  await writeFile(file, content);
  const r = await warden(
    ["share", "send", file, "--to", ana.email, "--category", "source code", ...extra],
    senderEnv,
  );
  expect(r.err, r.err).toBe("");
  expect(r.code).toBe(0);
  const id = /Sent share ([0-9a-f-]{36})/.exec(r.out)?.[1];
  expect(id).toBeDefined();
  return { id: id!, file, out: r.out };
}

describe("warden share", () => {
  it("sends a file encrypted on the client and gets it back decrypted, byte for byte", async () => {
    const content = randomBytes(300_000);
    const { id, out } = await sendFile(content, ["--note", "the fixture", "--max-downloads", "2"]);
    expect(out).toContain(`<${ana.email}>`);
    expect(out).toContain(`warden share get ${id}`);
    const target = path.join(dir, "got.bin");
    const got = await warden(["share", "get", id, "--identity", anaIdentity, "-o", target], anaEnv);
    expect(got.err).toContain(`Decrypted 293.0 KiB to ${target}`);
    expect(got.code).toBe(0);
    expect((await readFile(target)).equals(content)).toBe(true);
    const list = await warden(["share", "list", "--json"], senderEnv);
    const mine = JSON.parse(list.out).items.find((s: { id: string }) => s.id === id);
    await vi.waitFor(async () => {
      const show = (await sender.client.get(`/api/v1/shares/${id}`)).body;
      expect(show.downloads.map((d: { outcome: string }) => d.outcome)).toEqual(["completed"]);
    });
    const shown = await warden(["share", "show", id], senderEnv);
    expect(shown.out).toMatch(/Download log:\nAT +WHO +OUTCOME/);
    expect(shown.out).toContain("completed");
    expect(mine).toMatchObject({ status: "ready", note: "the fixture", maxDownloads: 2 });
  });

  it("sends a text secret from standard input and prints it back", async () => {
    const sent = await warden(
      [
        "share",
        "send",
        "--text",
        "--to",
        ana.developerId,
        "--category",
        "credentials",
        "--one-time",
        "--expires",
        "2h",
      ],
      senderEnv,
      "postgres://app:hunter2@db/prod\n",
    );
    expect(sent.code).toBe(0);
    const id = /Sent share ([0-9a-f-]{36})/.exec(sent.out)![1]!;
    expect(sent.out).toContain("may download it once");
    const got = await warden(["share", "get", id, "-i", anaIdentity], anaEnv);
    expect(got.code).toBe(0);
    expect(got.out).toBe("postgres://app:hunter2@db/prod");
    await vi.waitFor(async () =>
      expect((await ana.client.get(`/api/v1/me/shares/${id}`)).body.state).toBe("used_up"),
    );
    const again = await warden(["share", "get", id, "-i", anaIdentity], anaEnv);
    expect(again.code).toBe(1);
    expect(again.err).toContain("it is used up");
  });

  it("checks the identity before using a download (a one-time share is not spent on the wrong key)", async () => {
    const { id } = await sendFile(Buffer.from("only for ana"), ["--one-time"]);
    const wrong = path.join(dir, "wrong.key");
    await writeFile(wrong, identityFileText(generateKeyPair(), new Date()));
    const r = await warden(["share", "get", id, "--identity", wrong, "-o", path.join(dir, "x.txt")], anaEnv);
    expect(r.code).toBe(2);
    expect(r.err).toContain("None of the identities");
    expect(r.err).toContain(ana.recipient);
    expect((await ana.client.get(`/api/v1/me/shares/${id}`)).body).toMatchObject({
      state: "available",
      downloads: 0,
    });
  });

  it.each([
    [
      "tampered",
      async (file: string) => {
        const fh = await open(file, "r+");
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, 200_000);
        b[0]! ^= 0x01;
        await fh.write(b, 0, 1, 200_000);
        await fh.close();
      },
      "does not authenticate",
    ],
    ["truncated", (file: string) => truncate(file, 150_000), "truncated"],
  ])("fails clearly on a %s ciphertext and leaves no plaintext behind", async (_kind, damage, message) => {
    const { id } = await sendFile(randomBytes(250_000));
    const stored = (await storedFiles()).find((f) => f.startsWith(id))!;
    await damage(path.join(t.app.deps.config.shares.dir, stored));
    const outDir = await mkdtemp(path.join(dir, "out-"));
    const r = await warden(
      ["share", "get", id, "-i", anaIdentity, "-o", path.join(outDir, "plain.bin")],
      anaEnv,
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain(message);
    expect(r.err).toContain("Nothing was written");
    expect(await readdir(outDir)).toEqual([]);
  });

  it("streams a file share to standard output with -o -; a damaged one stops with an error, not a complete-looking output", async () => {
    // Raw bytes, not text: the plaintext is binary.
    const getToStdout = (id: string) =>
      new Promise<{ code: number; out: Buffer; err: string }>((resolve) => {
        const p = spawn(process.execPath, wardenArgv(["share", "get", id, "-i", anaIdentity, "-o", "-"]), {
          env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: path.join(dir, "config"), ...anaEnv },
        });
        const out: Buffer[] = [];
        let err = "";
        p.stdout.on("data", (d: Buffer) => out.push(d));
        p.stderr.on("data", (d) => {
          err += d;
        });
        p.on("close", (code) => resolve({ code: code ?? -1, out: Buffer.concat(out), err }));
      });
    const content = randomBytes(400_000); // several 64 KiB STREAM chunks
    const whole = await sendFile(content, ["--max-downloads", "2"]);
    const ok = await getToStdout(whole.id);
    expect(ok.err).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.out.equals(content)).toBe(true);

    const damaged = await sendFile(content);
    const stored = (await storedFiles()).find((f) => f.startsWith(damaged.id))!;
    const fh = await open(path.join(t.app.deps.config.shares.dir, stored), "r+");
    await fh.write(Buffer.from([0xff]), 0, 1, 300_000);
    await fh.close();
    const bad = await getToStdout(damaged.id);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("does not authenticate");
    expect(bad.err).toContain("What was written to standard output is incomplete: discard it.");
    // Only chunks that authenticated came out, and not all of them.
    expect(bad.out.length).toBeLessThan(content.length);
    expect(content.subarray(0, bad.out.length).equals(bad.out)).toBe(true);
  });

  it("says why the server refuses a send, and leaves nothing behind", async () => {
    const file = path.join(dir, "refused.txt");
    await writeFile(file, "x");
    const category = await warden(
      ["share", "send", file, "--to", ana.email, "--category", "personal data"],
      senderEnv,
    );
    expect(category.code).toBe(1);
    expect(category.err).toContain(`agreements do not permit "personal data"`);
    const unknown = await warden(
      ["share", "send", file, "--to", "nobody@example.test", "--category", "source code"],
      senderEnv,
    );
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("Unknown recipient: nobody@example.test");
    expect(unknown.err).toContain("--to #1: no developer with this id or email");
    // A refused value is named by the option that set it, once.
    const tooLong = await warden(
      ["share", "send", file, "--to", ana.email, "--category", "source code", "--expires", "90d"],
      senderEnv,
    );
    expect(tooLong.code).toBe(2);
    expect(tooLong.err).toContain("error: Invalid input\n  --expires: must be within 30 days");
    expect(tooLong.err).not.toContain("expiresAt");
    expect((await warden(["share", "send", "--to", ana.email, "--category", "x"], senderEnv)).err).toContain(
      "Give the FILE to send",
    );
  });

  it("revokes a share: the ciphertext is gone and the recipient is told so", async () => {
    const { id } = await sendFile(Buffer.from("revoke"));
    const r = await warden(["share", "revoke", id], senderEnv);
    expect(r.code).toBe(0);
    expect((await storedFiles()).some((f) => f.startsWith(id))).toBe(false);
    const got = await warden(["share", "get", id, "-i", anaIdentity, "-o", path.join(dir, "r.txt")], anaEnv);
    expect(got.code).toBe(1);
    expect(got.err).toContain("it is revoked");
    const inbox = JSON.parse((await warden(["share", "list", "--json"], anaEnv)).out);
    expect(inbox.items.find((s: { id: string }) => s.id === id).state).toBe("revoked");
  });
});
