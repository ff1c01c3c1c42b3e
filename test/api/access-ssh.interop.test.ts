import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  ask,
  auditActions,
  buildResource,
  eligibleDeveloper,
  relaxGate,
  type TokenAccount,
  tokenAccount,
} from "../access-fixtures.ts";
import { createTestApp, type TestApp } from "../harness.ts";

/**
 * SSH access through Warden's grant flow against a real OpenSSH server (Debian's sshd on a loopback
 * port, its own config in a temp dir): the host trusts the CA key Warden publishes at /ssh/ca.pub and
 * reads the KRL from /ssh/krl. A developer's certificate from an approved grant logs in; once the
 * grant is revoked (and the host has the new KRL) it no longer does; an expired one never does.
 */
for (const binary of ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"]) {
  if (!existsSync(binary))
    throw new Error(`${binary} is missing: run .ci/install-deps (openssh-server and openssh-client).`);
}

const user = userInfo().username;
const dir = mkdtempSync(join(tmpdir(), "warden-access-sshd-"));
const logPath = join(dir, "sshd.log");
const serverLog = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");
let sshd: ChildProcess | undefined;
let port = 0;
let t: TestApp;
let owner: TokenAccount;
let resourceId = "";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitForBanner(p: number) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = new Socket();
      sock.once("data", (d) => {
        sock.destroy();
        resolve(d.toString().startsWith("SSH-2.0"));
      });
      sock.once("error", () => resolve(false));
      sock.connect(p, "127.0.0.1");
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not start:\n${serverLog()}`);
}

/** What a host's cron job does: fetch the KRL Warden publishes, without signing in. */
async function refreshKrl() {
  const r = await t.server.inject({ method: "GET", url: "/api/v1/ssh/krl" });
  expect(r.statusCode).toBe(200);
  expect(r.headers["content-type"]).toBe("application/octet-stream");
  writeFileSync(join(dir, "revoked.krl"), r.rawPayload);
}

function developerKey(name: string) {
  const path = join(dir, name);
  execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  chmodSync(path, 0o600);
  return { path, publicKey: readFileSync(`${path}.pub`, "utf8").trim() };
}

function login(keyPath: string, certLine: string) {
  const certPath = `${keyPath}-cert.pub`;
  writeFileSync(certPath, `${certLine}\n`);
  try {
    const out = execFileSync(
      "/usr/bin/ssh",
      [
        "-F",
        "/dev/null",
        "-p",
        String(port),
        "-i",
        keyPath,
        "-o",
        `CertificateFile=${certPath}`,
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "LogLevel=ERROR",
        `${user}@127.0.0.1`,
        "echo warden-login-ok",
      ],
      { encoding: "utf8", timeout: 20_000, stdio: ["ignore", "pipe", "pipe"] },
    );
    return { code: 0, out };
  } catch (e) {
    const err = e as { status: number | null; stdout?: string; stderr?: string };
    return { code: err.status ?? -1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

async function certificateFor(name: string) {
  const key = developerKey(name);
  const { dev, grantId, certs } = await grantWithKeys([key.publicKey]);
  const cert = certs.find((c) => c.grantId === grantId);
  if (!cert) throw new Error("no certificate for the grant");
  return { key, dev, grantId, cert };
}

interface Cert {
  grantId: string;
  keyFingerprint: string;
  keyComment: string;
  principals: string[];
  validBefore: string;
  certificate: string;
}

/** An eligible developer with these keys registered and an approved grant on the SSH resource. */
async function grantWithKeys(publicKeys: string[]) {
  const dev = await eligibleDeveloper(t, { developer: { sshPublicKeys: publicKeys } });
  const req = await ask(dev, {
    resourceId,
    level: "read",
    durationMinutes: 60,
    reason: "Deploy the web app",
  });
  const ok = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "ok" });
  expect(ok.status).toBe(200);
  const grantId = ok.body.grantId as string;
  const certs = await dev.account.client.get("/api/v1/me/ssh/certificates");
  expect(certs.status).toBe(200);
  return { dev, grantId, certs: certs.body.items as Cert[] };
}

const fingerprintOf = (keyPath: string) =>
  execFileSync("/usr/bin/ssh-keygen", ["-l", "-f", `${keyPath}.pub`], { encoding: "utf8" }).split(" ")[1];
const certFor = (certs: Cert[], keyPath: string) => {
  const c = certs.find((x) => x.keyFingerprint === fingerprintOf(keyPath));
  expect(c, `a certificate for ${keyPath}`).toBeDefined();
  return c!.certificate;
};

beforeAll(async () => {
  t = await createTestApp({ now: new Date().toISOString() });
  await relaxGate(t);
  owner = await tokenAccount(t, "manager");
  resourceId = (
    await buildResource(t, {
      name: "web-staging hosts",
      kind: "ssh",
      environment: "staging",
      dataClass: "internal",
      owners: [owner.userId],
      levels: ["read"],
      connector: { principals: ["web-staging"] },
    })
  ).id;
  port = await freePort();
  execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_ed25519")]);
  const ca = await t.client().get("/api/v1/ssh/ca.pub");
  expect(ca.status).toBe(200);
  writeFileSync(join(dir, "ca.pub"), ca.body);
  mkdirSync(join(dir, "principals"));
  writeFileSync(join(dir, "principals", user), "web-staging\n");
  await refreshKrl();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, "host_ed25519")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `TrustedUserCAKeys ${join(dir, "ca.pub")}`,
      `AuthorizedPrincipalsFile ${join(dir, "principals", "%u")}`,
      `RevokedKeys ${join(dir, "revoked.krl")}`,
      "AuthorizedKeysFile none",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  mkdirSync("/run/sshd", { recursive: true });
  sshd = spawn("/usr/sbin/sshd", ["-D", "-E", logPath, "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  await waitForBanner(port);
}, 180_000);

afterAll(async () => {
  sshd?.kill("SIGTERM");
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("SSH access through a Warden grant", () => {
  it("logs in with the certificate of an approved grant, whose key id names developer and grant", async () => {
    const { key, dev, grantId, cert } = await certificateFor("dev-valid");
    expect(cert.principals).toEqual(["web-staging"]);
    const r = login(key.path, cert.certificate);
    expect(r, serverLog()).toMatchObject({ code: 0 });
    expect(r.out).toContain("warden-login-ok");
    const email = (await t.app.people.developers.get(dev.id)).email;
    expect(serverLog()).toContain(`ID warden:developer=${email}:grant=${grantId}`);
  });

  it("refuses the certificate once the grant is revoked and the host has fetched the KRL", async () => {
    const { key, grantId, cert } = await certificateFor("dev-revoked");
    expect(login(key.path, cert.certificate).code).toBe(0);
    const revoked = await owner.client.post(`/api/v1/access/grants/${grantId}/revoke`, {
      reason: "left team",
    });
    expect(revoked.body.state).toBe("revoked");
    await refreshKrl();
    const r = login(key.path, cert.certificate);
    expect(r.code).toBe(255);
    expect(serverLog()).toMatch(/revoked by file .*revoked\.krl/);
  });

  it("refuses an expired certificate", async () => {
    const realNow = Date.now();
    t.clock.set(new Date(realNow - 2 * 3600_000)); // the grant ran two hours ago, for one hour
    const { key, cert } = await certificateFor("dev-expired");
    expect(new Date(cert.validBefore).getTime()).toBeLessThan(realNow);
    const r = login(key.path, cert.certificate);
    expect(r.code).toBe(255);
    expect(serverLog()).toContain("Certificate invalid: expired");
  });
});

describe("a developer with several registered keys", () => {
  // Certificates are judged by sshd's real clock (an earlier test moved Warden's into the past).
  beforeEach(() => t.clock.set(new Date()));

  it("logs in with any of them, and revoking the grant puts every certificate in the KRL", async () => {
    const laptop = developerKey("multi-laptop");
    const desktop = developerKey("multi-desktop");
    const { grantId, certs } = await grantWithKeys([laptop.publicKey, desktop.publicKey]);
    expect(certs.filter((c) => c.grantId === grantId)).toHaveLength(2);
    expect(certs.map((c) => c.keyComment).sort()).toEqual(["multi-desktop", "multi-laptop"]);
    expect(login(laptop.path, certFor(certs, laptop.path)).code).toBe(0);
    expect(login(desktop.path, certFor(certs, desktop.path)).code).toBe(0);

    const revoked = await owner.client.post(`/api/v1/access/grants/${grantId}/revoke`, { reason: "done" });
    expect(revoked.body.state).toBe("revoked");
    await refreshKrl();
    expect(login(laptop.path, certFor(certs, laptop.path)).code).toBe(255);
    expect(login(desktop.path, certFor(certs, desktop.path)).code).toBe(255);
  });

  it("certifies a key registered during the grant on request, and only a registered one", async () => {
    const first = developerKey("later-first");
    const added = developerKey("later-added");
    const { dev, grantId } = await grantWithKeys([first.publicKey]);
    const me = dev.account.client;

    const unregistered = await me.post("/api/v1/me/ssh/certificates", { publicKey: added.publicKey });
    expect(unregistered.status).toBe(400);
    expect(unregistered.body.errors[0]).toMatchObject({
      field: "body/publicKey",
      message: expect.stringContaining("not one of your registered SSH keys"),
    });

    const profile = await me.patch("/api/v1/me/profile", {
      sshPublicKeys: [first.publicKey, added.publicKey],
    });
    expect(profile.status).toBe(200);
    const asked = await me.post("/api/v1/me/ssh/certificates", { publicKey: added.publicKey });
    expect(asked.status).toBe(200);
    expect(asked.body.issued).toBe(1);
    expect(asked.body.items).toHaveLength(1);
    expect(asked.body.items[0]).toMatchObject({ grantId, keyFingerprint: fingerprintOf(added.path) });
    expect(login(added.path, asked.body.items[0].certificate).code).toBe(0);
    // Asking again issues nothing new: the key has a good certificate.
    const again = await me.post("/api/v1/me/ssh/certificates", {});
    expect(again.body.issued).toBe(0);
    expect(again.body.items).toHaveLength(2);
    expect(await auditActions(t, grantId)).toContain("access.ssh.certify");
  });

  it("revokes the certificates of a key the developer removed; the other key keeps working", async () => {
    const kept = developerKey("removed-kept");
    const lost = developerKey("removed-lost");
    const { dev, grantId, certs } = await grantWithKeys([kept.publicKey, lost.publicKey]);
    expect(login(lost.path, certFor(certs, lost.path)).code).toBe(0);

    const profile = await dev.account.client.patch("/api/v1/me/profile", { sshPublicKeys: [kept.publicKey] });
    expect(profile.status).toBe(200);
    const swept = await t.app.scheduler.runNow("access.sweep");
    expect(swept.summary.sshKeysRevoked).toBe(1);
    expect(await auditActions(t, grantId)).toContain("access.ssh.key_revoked");
    await refreshKrl();
    expect(login(lost.path, certFor(certs, lost.path)).code).toBe(255);
    expect(login(kept.path, certFor(certs, kept.path)).code).toBe(0);
  });
});
