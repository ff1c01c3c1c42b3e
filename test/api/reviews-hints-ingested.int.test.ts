import { generateKeyPairSync } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshKeyFingerprint } from "../../src/connectors/index.ts";
import {
  ask,
  buildResource,
  eligibleDeveloper,
  relaxGate,
  type TokenAccount,
  tokenAccount,
} from "../access-fixtures.ts";
import { type GithubFake, startGithubFake } from "../fakes/github-fake.ts";
import { createTestApp, type TestApp } from "../harness.ts";
import { liveGrant } from "../reviews-fixtures.ts";

/**
 * Least-privilege hints from ingested events: SSH logins that hosts send by syslog and Git pushes
 * reported by Git hooks name resources as the hosts do (a host name, a repository's owner/name), not by
 * Warden id. The hints tie them to catalog resources through the connector settings (the SSH resource's
 * host names, a Warden certificate's key id naming the grant, the repository), so a grant used only
 * outside Warden is not listed as unused, and one that nobody used is.
 */
const DAY = 86_400_000;
const TOKEN = "ghp_hints_ingest_0123456789";
let t: TestApp;
let gh: GithubFake;
let owner: TokenAccount;
let ingest: TokenAccount;
let ssh: { id: string };
let repo: { id: string };

/** A fresh Ed25519 public key line, as a developer registers it. */
function sshPublicKey(comment: string): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from("ssh-ed25519")), str(raw)]).toString("base64")} ${comment}`;
}

/** An SSH grant of 90 days on the host group, for a developer with one registered key. */
async function sshGrant(name: string) {
  const key = sshPublicKey(name);
  const dev = await eligibleDeveloper(t, { developer: { sshPublicKeys: [key] } });
  const req = await ask(dev, {
    resourceId: ssh.id,
    durationMinutes: 90 * 24 * 60,
    reason: "Operations on the web hosts",
  });
  const ok = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "ok" });
  expect(ok.status).toBe(200);
  const email = (await t.app.people.developers.get(dev.id)).email;
  return { dev, email, key, grantId: ok.body.grantId as string };
}

/** What a host's syslog daemon forwards (RFC 5424 over TCP, octet counting): sshd's own lines. */
async function syslog(lines: string[]) {
  const port = t.app.sources.status().syslog.ports.tcp!;
  const before = t.app.sources.status().pipeline.appended;
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.end(lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join(""), () => resolve());
    });
    s.on("error", reject);
  });
  // The receiver reads the stream asynchronously: wait until every line is in the log.
  await expect
    .poll(async () => {
      await t.app.sources.settled();
      await t.app.eventLog.writer.idle();
      return t.app.sources.status().pipeline.appended;
    })
    .toBeGreaterThanOrEqual(before + lines.length);
}
const sshdLine = (host: string, message: string) =>
  `<38>1 ${t.clock.now().toISOString()} ${host} sshd 811 - - ${message}`;

const hints = async () => {
  const r = await owner.client.get("/api/v1/reviews/hints?unusedDays=30");
  expect(r.status).toBe(200);
  return r.body as {
    items: { grantId: string; kind: string; evidence: string[] }[];
    sources: { name: string }[];
  };
};

beforeAll(async () => {
  t = await createTestApp({ now: "2026-11-02T10:00:00Z", env: { WARDEN_SYSLOG_TCP_PORT: "0" } });
  await t.app.sources.startSyslog();
  gh = await startGithubFake({ token: TOKEN, owner: "acme", repo: "api" });
  await relaxGate(t);
  owner = await tokenAccount(t, "manager");
  ingest = await tokenAccount(t, "security");
  const { secret } = await t.app.auth.createToken(
    { actor: { kind: "user", userId: ingest.userId, role: "security", label: "hooks" }, meta: {} },
    { name: "git hooks", scopes: ["ingest"], expiresInDays: 365 },
  );
  ingest.client.bearer = secret;
  ssh = await buildResource(t, {
    name: "web hosts",
    kind: "ssh",
    environment: "staging",
    dataClass: "internal",
    owners: [owner.userId],
    levels: ["read"],
    maxDurationMinutes: 525_600,
    connector: { principals: ["deploy"], hosts: ["web-1", "web-2"] },
  });
  repo = await buildResource(t, {
    name: "api repo",
    kind: "github",
    environment: "staging",
    dataClass: "internal",
    owners: [owner.userId],
    levels: ["read", "write"],
    maxDurationMinutes: 525_600,
    connector: { apiUrl: gh.url, owner: "acme", repo: "api", token: TOKEN },
  });
}, 180_000);

afterAll(async () => {
  await t?.app.sources.stop();
  await gh?.close();
  await t?.close();
});

describe("least-privilege hints from ingested events", () => {
  it("does not list a grant used through SSH or Git outside Warden, and lists one nobody used", async () => {
    const certified = await sshGrant("cert-user");
    const plainKey = await sshGrant("plain-key");
    const elsewhere = await sshGrant("elsewhere");
    const idle = await sshGrant("idle");
    const pusher = await liveGrant(t, gh, repo, owner, {
      level: "write",
      days: 90,
    });
    t.app.eventLog.directory.invalidate();

    t.clock.advance(25 * DAY);
    await syslog([
      // A login with the Warden certificate: its key id names the grant.
      sshdLine(
        "web-1",
        `Accepted publickey for deploy from 198.51.100.7 port 52144 ssh2: ED25519-CERT ${sshKeyFingerprint(certified.key)} ID warden:developer=${certified.email}:grant=${certified.grantId} (serial 42) CA ED25519 SHA256:CaFingerprintAbCdEfGhIjKlMnOpQrStUvWxYz01234`,
      ),
      // A login with the developer's key on one of the resource's hosts.
      sshdLine(
        "web-2",
        `Accepted publickey for deploy from 198.51.100.8 port 52145 ssh2: ED25519 ${sshKeyFingerprint(plainKey.key)}`,
      ),
      // A login on a host that is not this resource's: not a use of this grant.
      sshdLine(
        "db-9",
        `Accepted publickey for deploy from 198.51.100.9 port 52146 ssh2: ED25519 ${sshKeyFingerprint(elsewhere.key)}`,
      ),
      // A failed login is no use either.
      sshdLine(
        "web-1",
        `Failed publickey for deploy from 198.51.100.10 port 52147 ssh2: ED25519 ${sshKeyFingerprint(idle.key)}`,
      ),
    ]);
    const pushed = await ingest.client.raw(
      "POST",
      "/api/v1/ingest/events",
      `${JSON.stringify({
        source: "git-hook",
        source_event_id: "push-1",
        type: "git.push",
        phase: "complete",
        time: t.clock.now().toISOString(),
        host: "git.example",
        repo: "acme/api",
        user: pusher.login,
        refs: [],
      })}\n`,
      { "content-type": "application/x-ndjson" },
    );
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(200);
    const attributed = await t.store.query<{ developer_id: string | null; resource_id: string }>(
      "select developer_id, resource_id from log_events where kind = 'ocsf' order by idx",
    );
    expect(attributed.rows.map((r) => r.developer_id)).toEqual([
      certified.dev.id,
      plainKey.dev.id,
      elsewhere.dev.id,
      idle.dev.id,
      pusher.dev.id,
    ]);

    t.clock.advance(6 * DAY);
    const body = await hints();
    expect(body.sources.map((s) => s.name)).toContain("ingested events");
    const hintOf = (id: string) => body.items.find((h) => h.grantId === id);
    expect(hintOf(certified.grantId)).toBeUndefined();
    expect(hintOf(plainKey.grantId)).toBeUndefined();
    expect(hintOf(elsewhere.grantId)).toMatchObject({ kind: "unused" });
    expect(hintOf(idle.grantId)).toMatchObject({ kind: "unused" });
    // The push is use, and a write: the write grant is neither unused nor too wide.
    expect(hintOf(pusher.grantId)).toBeUndefined();

    // Past the window, the same events no longer count.
    t.clock.advance(30 * DAY);
    const later = await hints();
    const hint = later.items.find((h) => h.grantId === certified.grantId);
    expect(hint).toMatchObject({ kind: "unused" });
    expect(hint!.evidence).toEqual(["ingested: 1 event (syslog)"]);
  });
});
