import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  decryptBuffer,
  encryptBuffer,
  encryptSmall,
  generateKeyPair,
  sshEd25519Wire,
  toArmor,
} from "../../src/crypto/age/index.ts";
import { createTestApp, type SignedIn, type TestApp, type TestClient } from "../harness.ts";
import { eligibleRecipient, type Recipient, relaxGate } from "../shares.fixtures.ts";

let t: TestApp;
let sender: SignedIn;
let ana: Recipient;
let bob: Recipient;

beforeAll(async () => {
  t = await createTestApp({ env: { WARDEN_SHARE_MAX_MB: "2" } });
  await relaxGate(t);
  sender = await t.signIn("manager");
  ana = await eligibleRecipient(t, { categories: ["Source code", "credentials"] });
  bob = await eligibleRecipient(t, { categories: ["source code"] });
});
afterAll(async () => t?.close());

const sharesDir = () => t.app.deps.config.shares.dir;
const storedFiles = async () => (await readdir(sharesDir()).catch(() => [] as string[])).sort();

async function createShare(client: TestClient, body: Record<string, unknown>) {
  return client.post("/api/v1/shares", {
    kind: "file",
    filename: "dump.sql",
    dataCategories: ["source code"],
    ...body,
  });
}

const upload = (client: TestClient, id: string, bytes: Buffer, type = "application/age") =>
  client.raw("PUT", `/api/v1/shares/${id}/content`, bytes, { "content-type": type });

/** Creates, encrypts to the keys the server lists, and uploads: a ready share. */
async function sendShare(plaintext: Buffer, body: Record<string, unknown> = {}, client = sender.client) {
  const created = await createShare(client, { to: [ana.developerId], size: plaintext.length, ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const keys = created.body.recipients.flatMap((r: { keys: { recipient: string }[] }) =>
    r.keys.map((k) => k.recipient),
  );
  const up = await upload(client, created.body.id, await encryptBuffer(plaintext, keys));
  expect(up.status, JSON.stringify(up.body)).toBe(200);
  return up.body as { id: string; status: string };
}

/** POST …/download with the recipient's session; the body kept as bytes (the harness decodes text). */
async function download(who: SignedIn, id: string) {
  const res = await t.server.inject({
    method: "POST",
    url: `/api/v1/me/shares/${id}/download`,
    headers: {
      cookie: who.client.cookie!,
      "x-csrf-token": who.client.csrf!,
      "content-type": "application/json",
    },
    payload: "{}",
  });
  const type = String(res.headers["content-type"] ?? "");
  return {
    status: res.statusCode,
    headers: res.headers,
    bytes: res.rawPayload,
    body: type.includes("json") ? JSON.parse(res.body) : undefined,
  };
}

async function auditActions(targetId: string) {
  const r = await (await t.admin()).get(`/api/v1/audit/events?targetId=${targetId}&limit=100`);
  // The trail lists newest first; oldest first reads as the story.
  return (r.body.items as { action: string; outcome: string; summary: Record<string, unknown> }[])
    .map((e) => ({ action: e.action, outcome: e.outcome, reason: e.summary.reason }))
    .reverse();
}

describe("sending a share", () => {
  it("creates a pending share listing each recipient's keys, then accepts the ciphertext for exactly those keys", async () => {
    const created = await createShare(sender.client, {
      to: [ana.email],
      size: 5,
      note: "the staging dump",
      maxDownloads: 3,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: "pending",
      filename: "dump.sql",
      note: "the staging dump",
      maxDownloads: 3,
      uploadUrl: `/api/v1/shares/${created.body.id}/content`,
      recipients: [{ developerId: ana.developerId, keys: [{ type: "X25519", recipient: ana.recipient }] }],
    });
    const up = await upload(sender.client, created.body.id, await encryptBuffer("hello", [ana.recipient]));
    expect(up.status).toBe(200);
    expect(up.body.status).toBe("ready");
    expect(up.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await storedFiles()).toContain(
      `${created.body.id}.${(await storedFiles()).find((f) => f.startsWith(created.body.id))!.split(".")[1]}.age`,
    );
    expect((await auditActions(created.body.id)).map((a) => a.action)).toEqual([
      "share.created",
      "share.uploaded",
    ]);
  });

  it("seals the note and the file name at rest (bound to the row and column)", async () => {
    const share = await sendShare(Buffer.from("x"), {
      note: "ask Rita for the passphrase",
      filename: "secret-plan.pdf",
    });
    const row = (
      await t.store.query<{ note: Uint8Array; filename: Uint8Array }>(
        "select note, filename from shares where id = $1",
        [share.id],
      )
    ).rows[0]!;
    expect(Buffer.from(row.note).toString("latin1")).not.toContain("Rita");
    expect(Buffer.from(row.filename).toString("latin1")).not.toContain("secret-plan");
    // A sealed value moved to another column no longer opens.
    await t.store.query("update shares set filename = note, note = filename where id = $1", [share.id]);
    expect((await sender.client.get(`/api/v1/shares/${share.id}`)).status).toBe(500);
    await t.store.query("update shares set filename = note, note = filename where id = $1", [share.id]);
    expect((await sender.client.get(`/api/v1/shares/${share.id}`)).body.filename).toBe("secret-plan.pdf");
  });

  it("refuses an unknown recipient with a message naming it, and stores nothing", async () => {
    const before = await t.store.query<{ n: number }>("select count(*)::int as n from shares");
    const r = await createShare(sender.client, { to: [ana.developerId, "nobody@example.test"], size: 3 });
    expect(r.status).toBe(400);
    expect(r.body.detail).toContain("nobody@example.test");
    expect(r.body.errors).toEqual([{ field: "body/to/1", message: "no developer with this id or email" }]);
    const after = await t.store.query<{ n: number }>("select count(*)::int as n from shares");
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it("refuses a data category the recipient's agreements do not permit, saying which", async () => {
    const r = await createShare(sender.client, {
      to: [bob.developerId],
      size: 3,
      dataCategories: ["personal data"],
    });
    expect(r.status).toBe(422);
    expect(r.body.detail).toContain(`agreements do not permit "personal data" (permitted: source code)`);
  });

  it("refuses a recipient the gate does not let in, with the gate's reasons", async () => {
    const carol = await eligibleRecipient(t);
    await (await t.admin()).post(`/api/v1/developers/${carol.developerId}/vetting/decision`, {
      decision: "rejected",
      reason: "references did not check out",
    });
    const r = await createShare(sender.client, { to: [carol.developerId], size: 3 });
    expect(r.status).toBe(422);
    expect(r.body.detail).toContain("is not eligible (the gate): Vetting was rejected");
    const failures = await (await t.admin()).get("/api/v1/audit/events?action=share.upload_failed&limit=50");
    expect(
      failures.body.items.some(
        (e: { summary: { reason: string } }) => e.summary.reason === "recipient_not_eligible",
      ),
    ).toBe(true);
  });

  it("refuses a recipient without a registered key", async () => {
    const dave = await eligibleRecipient(t, { ageRecipients: [] });
    const r = await createShare(sender.client, { to: [dave.developerId], size: 3 });
    expect(r.status).toBe(422);
    expect(r.body.detail).toContain("has no age or ssh-ed25519 key registered");
  });

  it("refuses a file over the configured limit before anything is uploaded", async () => {
    const r = await createShare(sender.client, { to: [ana.developerId], size: 3 * 1024 * 1024 });
    expect(r.status).toBe(413);
    expect(r.body.detail).toContain("at most 2.0 MiB (WARDEN_SHARE_MAX_MB)");
  });

  it("refuses an expiry beyond the maximum and a one-time share with several downloads", async () => {
    const far = await createShare(sender.client, {
      to: [ana.developerId],
      size: 1,
      expiresAt: "2027-06-01T00:00:00Z",
    });
    expect(far.status).toBe(400);
    expect(far.body.errors[0]).toEqual({ field: "body/expiresAt", message: "must be within 30 days" });
    const both = await createShare(sender.client, {
      to: [ana.developerId],
      size: 1,
      oneTime: true,
      maxDownloads: 2,
    });
    expect(both.status).toBe(400);
  });
});

describe("checking the uploaded ciphertext", () => {
  async function pending(size = 5, to = [ana.developerId]) {
    const r = await createShare(sender.client, { to, size });
    expect(r.status).toBe(201);
    return r.body.id as string;
  }

  it.each([
    ["not age at all", () => Buffer.from("%PDF-1.7 definitely not age"), "not_age"],
    ["a malformed header", () => Buffer.from("age-encryption.org/v1\n-> X25519 !!!\n"), "malformed_header"],
  ])("refuses %s, says why and keeps no file", async (_name, bytes, reason) => {
    const id = await pending();
    const r = await upload(sender.client, id, bytes());
    expect(r.status).toBe(422);
    expect(r.body.code).toBe("unprocessable");
    expect((await storedFiles()).filter((f) => f.includes(id))).toEqual([]);
    expect((await sender.client.get(`/api/v1/shares/${id}`)).body.status).toBe("pending");
    expect((await auditActions(id)).at(-1)).toEqual({
      action: "share.upload_failed",
      outcome: "failure",
      reason,
    });
  });

  it("refuses ASCII armor (binary age only)", async () => {
    const id = await pending();
    const r = await upload(
      sender.client,
      id,
      Buffer.from(toArmor(await encryptSmall("hello", [ana.recipient]))),
    );
    expect(r.status).toBe(422);
    expect(r.body.detail).toMatch(/armor/i);
  });

  it("refuses a header made for other keys than the recipients'", async () => {
    const id = await pending();
    const stranger = generateKeyPair().recipient;
    const r = await upload(sender.client, id, await encryptBuffer("hello", [ana.recipient, stranger]));
    expect(r.status).toBe(422);
    expect(r.body.detail).toContain("2 X25519 recipients but the recipients have 1 registered age key");
  });

  it("refuses a passphrase (scrypt) stanza", async () => {
    const id = await pending();
    const scrypt = Buffer.from(
      "age-encryption.org/v1\n-> scrypt c2FsdHNhbHRzYWx0c2FsdA 10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
    );
    const r = await upload(sender.client, id, scrypt);
    expect(r.status).toBe(422);
  });

  it("refuses a truncated ciphertext and one with bytes too many", async () => {
    const id = await pending(100_000);
    const full = await encryptBuffer(randomBytes(100_000), [ana.recipient]);
    const short = await upload(sender.client, id, full.subarray(0, full.length - 10));
    expect(short.status).toBe(422);
    expect(short.body.detail).toContain("the age ciphertext of 100000 bytes");
    const long = await upload(sender.client, id, Buffer.concat([full, Buffer.from("tail")]));
    expect(long.status).toBe(413);
    expect((await storedFiles()).filter((f) => f.includes(id))).toEqual([]);
    const good = await upload(sender.client, id, full);
    expect(good.status).toBe(200);
  });

  it("refuses another media type, and an upload into a share that is already ready", async () => {
    const id = await pending();
    const wrongType = await upload(sender.client, id, Buffer.from("{}"), "application/json");
    expect(wrongType.status).toBe(415);
    expect((await upload(sender.client, id, await encryptBuffer("hello", [ana.recipient]))).status).toBe(200);
    const again = await upload(sender.client, id, await encryptBuffer("hello", [ana.recipient]));
    expect(again.status).toBe(409);
  });

  it("matches ssh-ed25519 stanzas to the recipient's registered SSH key by its tag", async () => {
    const { publicKey } = await import("node:crypto").then((c) => c.generateKeyPairSync("ed25519"));
    const raw = publicKey.export({ format: "jwk" }).x!;
    const sshKey = `ssh-ed25519 ${Buffer.from(sshEd25519Wire(Buffer.from(raw, "base64url"))).toString("base64")}`;
    const otherRaw = (await import("node:crypto"))
      .generateKeyPairSync("ed25519")
      .publicKey.export({ format: "jwk" }).x!;
    const otherKey = `ssh-ed25519 ${Buffer.from(sshEd25519Wire(Buffer.from(otherRaw, "base64url"))).toString("base64")}`;
    const erin = await eligibleRecipient(t, { sshKeys: [sshKey] });
    const created = await createShare(sender.client, { to: [erin.developerId], size: 2 });
    expect(created.body.recipients[0].keys.map((k: { type: string }) => k.type)).toEqual([
      "X25519",
      "ssh-ed25519",
    ]);
    const wrong = await upload(
      sender.client,
      created.body.id,
      await encryptBuffer("hi", [erin.recipient, otherKey]),
    );
    expect(wrong.status).toBe(422);
    expect(wrong.body.detail).toContain("not a registered key of any recipient");
    const right = await upload(
      sender.client,
      created.body.id,
      await encryptBuffer("hi", [erin.recipient, sshKey]),
    );
    expect(right.status).toBe(200);
  });
});

describe("receiving a share", () => {
  it("lists it in the recipient's inbox; opening it shows metadata and never uses a download", async () => {
    const share = await sendShare(Buffer.from("db password: hunter2"), {
      oneTime: true,
      note: "rotate after use",
    });
    for (let i = 0; i < 3; i++) {
      const meta = await ana.client.get(`/api/v1/me/shares/${share.id}`);
      expect(meta.status).toBe(200);
      expect(meta.body).toMatchObject({
        state: "available",
        oneTime: true,
        downloadsLeft: 1,
        note: "rotate after use",
      });
    }
    const inbox = await ana.client.get("/api/v1/me/shares");
    expect(inbox.body.items.map((s: { id: string }) => s.id)).toContain(share.id);
    const d = await download(ana, share.id);
    expect(d.status).toBe(200);
    expect(d.headers["content-type"]).toBe("application/age");
    expect(String(d.headers["content-disposition"])).toContain("dump.sql.age");
    expect(d.headers["cache-control"]).toBe("no-store");
    const plaintext = await decryptBuffer(d.bytes, [ana.identity]);
    expect(plaintext.toString()).toBe("db password: hunter2");
  });

  it("uses up a one-time share after one download and deletes its ciphertext", async () => {
    const share = await sendShare(Buffer.from("once"), { oneTime: true });
    expect((await storedFiles()).some((f) => f.startsWith(share.id))).toBe(true);
    expect((await download(ana, share.id)).status).toBe(200);
    // The share ends with the download's record; its file is deleted right after that commits.
    await vi.waitFor(async () =>
      expect((await sender.client.get(`/api/v1/shares/${share.id}`)).body).toMatchObject({
        status: "used_up",
        contentDeleted: true,
      }),
    );
    expect((await storedFiles()).some((f) => f.startsWith(share.id))).toBe(false);
    const again = await download(ana, share.id);
    expect(again.status).toBe(410);
    expect(again.body.detail).toBe("This one-time share was already downloaded");
    const detail = (await sender.client.get(`/api/v1/shares/${share.id}`)).body;
    expect(detail.contentDeleted).toBe(true);
    expect(detail.downloads.map((x: { outcome: string }) => x.outcome)).toEqual(["completed", "refused"]);
    expect((await auditActions(share.id)).map((a) => a.action)).toEqual([
      "share.created",
      "share.uploaded",
      "share.downloaded",
      "share.purged",
      "share.download_failed",
    ]);
  });

  it("gives each recipient of a one-time share their own download", async () => {
    const share = await sendShare(Buffer.from("for two"), {
      oneTime: true,
      to: [ana.developerId, bob.developerId],
    });
    expect((await download(ana, share.id)).status).toBe(200);
    await vi.waitFor(async () =>
      expect(
        (await sender.client.get(`/api/v1/shares/${share.id}`)).body.recipients
          .map((r: { downloads: number }) => r.downloads)
          .sort(),
      ).toEqual([0, 1]),
    );
    expect((await sender.client.get(`/api/v1/shares/${share.id}`)).body.status).toBe("ready");
    const b = await download(bob, share.id);
    expect(b.status).toBe(200);
    expect((await decryptBuffer(b.bytes, [bob.identity])).toString()).toBe("for two");
    await vi.waitFor(async () =>
      expect((await sender.client.get(`/api/v1/shares/${share.id}`)).body.status).toBe("used_up"),
    );
  });

  it("counts downloads against maxDownloads per recipient", async () => {
    const share = await sendShare(Buffer.from("twice"), { maxDownloads: 2 });
    expect((await download(ana, share.id)).status).toBe(200);
    await vi.waitFor(async () =>
      expect((await ana.client.get(`/api/v1/me/shares/${share.id}`)).body.downloadsLeft).toBe(1),
    );
    expect((await download(ana, share.id)).status).toBe(200);
    await vi.waitFor(async () =>
      expect((await ana.client.get(`/api/v1/me/shares/${share.id}`)).body.state).toBe("used_up"),
    );
    const third = await download(ana, share.id);
    expect(third.status).toBe(410);
    expect(third.body.detail).toBe("You have used all 2 downloads of this share");
  });

  it("needs the CSRF token for a session download (a cross-site form cannot trigger one)", async () => {
    const share = await sendShare(Buffer.from("csrf"), { oneTime: true });
    const r = await ana.client.request(
      "POST",
      `/api/v1/me/shares/${share.id}/download`,
      {},
      { "x-csrf-token": "wrong" },
    );
    expect(r.status).toBe(403);
    expect((await ana.client.get(`/api/v1/me/shares/${share.id}`)).body.state).toBe("available");
  });

  it("refuses a download once the recipient no longer passes the gate, and records the attempt", async () => {
    const frank = await eligibleRecipient(t);
    const created = await createShare(sender.client, { to: [frank.developerId], size: 4 });
    await upload(sender.client, created.body.id, await encryptBuffer("gate", [frank.recipient]));
    await (await t.admin()).post(`/api/v1/agreements/${frank.ndaId}/terminate`, {
      terminatedOn: "2026-11-02",
      reason: "vendor left",
    });
    const r = await download(frank, created.body.id);
    expect(r.status).toBe(403);
    expect(r.body.detail).toContain("NDA with");
    const log = (await sender.client.get(`/api/v1/shares/${created.body.id}`)).body.downloads;
    expect(log).toMatchObject([
      { outcome: "refused", reason: "not_eligible", developerId: frank.developerId },
    ]);
  });
});

describe("who sees which share", () => {
  it("shows a developer only their own shares: another's answers 404 and the attempt is audited", async () => {
    const share = await sendShare(Buffer.from("ana only"));
    expect((await bob.client.get(`/api/v1/me/shares/${share.id}`)).status).toBe(404);
    const r = await download(bob, share.id);
    expect(r.status).toBe(404);
    expect(
      (await bob.client.get("/api/v1/me/shares")).body.items.map((s: { id: string }) => s.id),
    ).not.toContain(share.id);
    const events = await auditActions(share.id);
    expect(events.at(-1)).toEqual({
      action: "share.download_failed",
      outcome: "failure",
      reason: "not_found",
    });
    // Bob is not a recipient: his attempt does not appear in the share's own download log.
    expect((await sender.client.get(`/api/v1/shares/${share.id}`)).body.downloads).toEqual([]);
  });

  it("shows a manager the shares they sent, not another manager's; leads and auditors see all", async () => {
    const share = await sendShare(Buffer.from("mine"));
    const other = await t.signIn("manager");
    expect((await other.client.get(`/api/v1/shares/${share.id}`)).status).toBe(404);
    expect((await other.client.get("/api/v1/shares")).body.items).toEqual([]);
    expect((await other.client.post(`/api/v1/shares/${share.id}/revoke`)).status).toBe(404);
    const auditor = await t.signIn("auditor");
    expect((await auditor.client.get(`/api/v1/shares/${share.id}`)).status).toBe(200);
    expect((await auditor.client.get("/api/v1/shares")).body.total).toBeGreaterThan(0);
    const security = await t.signIn("security");
    expect((await security.client.post(`/api/v1/shares/${share.id}/revoke`)).status).toBe(200);
  });

  it("lets only the creator upload into a pending share", async () => {
    const created = await createShare(sender.client, { to: [ana.developerId], size: 5 });
    const admin = await t.admin();
    const r = await upload(admin, created.body.id, await encryptBuffer("hello", [ana.recipient]));
    expect(r.status).toBe(404);
  });
});

describe("ending a share", () => {
  it("revoking deletes the ciphertext at once; a later download is refused as revoked", async () => {
    const share = await sendShare(Buffer.from("revoke me"));
    const r = await sender.client.post(`/api/v1/shares/${share.id}/revoke`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "revoked", contentDeleted: true });
    expect((await storedFiles()).some((f) => f.startsWith(share.id))).toBe(false);
    const d = await download(ana, share.id);
    expect(d.status).toBe(410);
    expect(d.body.detail).toBe("The sender revoked this share");
    expect((await sender.client.post(`/api/v1/shares/${share.id}/revoke`)).status).toBe(409);
  });

  it("purges expired shares on the scheduler's run: status expired, ciphertext gone, audited", async () => {
    const share = await sendShare(Buffer.from("short-lived"), { expiresAt: "2026-11-02T10:05:00Z" });
    await t.app.scheduler.runNow("shares.purge");
    expect((await sender.client.get(`/api/v1/shares/${share.id}`)).body.status).toBe("ready");
    t.clock.set("2026-11-02T10:05:01Z");
    try {
      // Refused at once, even before the purge ran.
      expect((await download(ana, share.id)).status).toBe(410);
      const run = await t.app.scheduler.runNow("shares.purge");
      expect(run).toMatchObject({ outcome: "ok" });
      expect(run?.summary.expired).toBeGreaterThanOrEqual(1);
      const after = (await (await t.admin()).get(`/api/v1/shares/${share.id}`)).body;
      expect(after).toMatchObject({ status: "expired", contentDeleted: true });
      expect((await storedFiles()).some((f) => f.startsWith(share.id))).toBe(false);
      const purged = (await auditActions(share.id)).find((a) => a.action === "share.purged");
      expect(purged).toEqual({ action: "share.purged", outcome: "success", reason: "expired" });
    } finally {
      t.clock.set("2026-11-02T10:00:00Z");
    }
  });
});
