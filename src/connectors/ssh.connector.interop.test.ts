import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manualClock } from "../core/clock.ts";
import type { ConnectorGrant, ProvisionResult } from "./connector.types.ts";
import { createMemorySshLedger, createSshConnector, type SshConnector } from "./ssh.connector.ts";
import { createSshCertificateAuthority, generateSshCaKey } from "./ssh-ca.ts";

// A throwaway OpenSSH server (Debian's openssh-server) on a loopback port with its own config, host
// key, TrustedUserCAKeys, AuthorizedPrincipalsFile and RevokedKeys, all in a temp dir.
const sshd = "/usr/sbin/sshd";
for (const binary of [sshd, "/usr/bin/ssh", "/usr/bin/ssh-keygen"]) {
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} is missing: run .ci/install-deps (Debian packages openssh-server and openssh-client).`,
    );
  }
}

const user = userInfo().username;
const dir = mkdtempSync(join(tmpdir(), "warden-sshd-"));
const clock = manualClock();
const ca = createSshCertificateAuthority(generateSshCaKey().privateKeyPem);
const ledger = createMemorySshLedger();
let connector: SshConnector;
let server: ChildProcess | undefined;
let port = 0;
const logPath = join(dir, "sshd.log");
const serverLog = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");

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

async function waitForBanner(p: number): Promise<void> {
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
  throw new Error(`sshd did not start on port ${p}:\n${serverLog()}`);
}

function writeKrl(krl: Buffer) {
  writeFileSync(join(dir, "revoked.krl"), krl);
}

/** Logs in with the developer's key and a certificate file; returns ssh's exit code and output. */
function login(keyPath: string, certLine: string): { code: number; out: string } {
  const certPath = `${keyPath}-${Math.random().toString(36).slice(2)}-cert.pub`;
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

function developerKey(name: string): { path: string; publicKey: string } {
  const path = join(dir, name);
  execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  chmodSync(path, 0o600);
  return { path, publicKey: readFileSync(`${path}.pub`, "utf8") };
}

const grant = (id: string, publicKey: string | string[], from: Date, to: Date): ConnectorGrant => ({
  id,
  level: "read",
  startsAt: from,
  endsAt: to,
  developer: { id: "dev-ada", handle: "ada", sshPublicKeys: [publicKey].flat() },
  resource: { id: "web-staging" },
});

/** The certificate lines a provisioning issued, in the order of the developer's keys. */
async function certificatesOf(result: ProvisionResult, grantId: string): Promise<string[]> {
  const serials = (result.details.certificates as { serial: string }[]).map((c) => c.serial);
  const recorded = await ledger.forGrant(grantId);
  return serials.map((s) => recorded.find((c) => c.serial.toString() === s)!.certificate);
}
const firstCertificate = async (result: ProvisionResult, grantId: string) =>
  (await certificatesOf(result, grantId))[0]!;

beforeAll(async () => {
  port = await freePort();
  execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_ed25519")]);
  writeFileSync(join(dir, "ca.pub"), `${ca.publicKeyLine}\n`);
  mkdirSync(join(dir, "principals"));
  // The host maps the resource's principal to the local account.
  writeFileSync(join(dir, "principals", user), "web-staging\n");
  writeKrl(ca.buildKrl({ version: 0n, generatedAt: new Date() }));
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
      // The temp dir sits under world-writable /tmp, which StrictModes refuses.
      "StrictModes no",
      "UsePAM no",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  // Privilege separation needs this directory (normally made by the service unit).
  mkdirSync("/run/sshd", { recursive: true });
  server = spawn(sshd, ["-D", "-E", logPath, "-f", join(dir, "sshd_config")], { stdio: "ignore" });
  await waitForBanner(port);
  connector = createSshConnector({ principals: ["web-staging"] }, { clock, authority: ca, ledger });
});

afterAll(() => {
  server?.kill("SIGTERM");
  if (!process.env.WARDEN_KEEP_SSHD_DIR) rmSync(dir, { recursive: true, force: true });
});

describe("the SSH certificate connector against a real OpenSSH server", () => {
  it("lets a developer log in with a valid Warden certificate", async () => {
    const key = developerKey("ada-valid");
    const now = new Date();
    clock.set(now);
    const result = await connector.provision(
      grant("g-valid", key.publicKey, now, new Date(now.getTime() + 3_600_000)),
    );
    const r = login(key.path, await firstCertificate(result, "g-valid"));
    expect(r, serverLog()).toMatchObject({ code: 0 });
    expect(r.out).toContain("warden-login-ok");
    expect(serverLog()).toContain("ID warden:developer=ada:grant=g-valid");
    expect(await connector.check(grant("g-valid", key.publicKey, now, now))).toMatchObject({ live: true });
  });

  it("refuses an expired certificate", async () => {
    const key = developerKey("ada-expired");
    const start = new Date(Date.now() - 2 * 3_600_000);
    const end = new Date(Date.now() - 3_600_000);
    clock.set(new Date(start.getTime() + 60_000)); // issued while the grant was running
    const result = await connector.provision(grant("g-expired", key.publicKey, start, end));
    const r = login(key.path, await firstCertificate(result, "g-expired"));
    expect(r.code).toBe(255);
    expect(r.out).toMatch(/Permission denied/);
    expect(serverLog()).toContain("Certificate invalid: expired");
    clock.set(new Date());
    expect(await connector.check(grant("g-expired", key.publicKey, start, end))).toMatchObject({
      live: false,
      state: "expired",
    });
  });

  it("refuses a revoked certificate once hosts have the KRL", async () => {
    const key = developerKey("ada-revoked");
    const now = new Date();
    clock.set(now);
    const g = grant("g-revoked", key.publicKey, now, new Date(now.getTime() + 3_600_000));
    const result = await connector.provision(g);
    const line = await firstCertificate(result, "g-revoked");
    expect(login(key.path, line).code).toBe(0);
    await connector.revoke(g);
    await connector.revoke(g); // idempotent
    writeKrl(await connector.krl());
    const r = login(key.path, line);
    expect(r.code).toBe(255);
    expect(serverLog()).toMatch(/revoked by file .*revoked\.krl/);
    expect(await connector.check(g)).toMatchObject({ live: false, state: "revoked" });
    // Other developers' certificates are untouched by the KRL.
    const other = developerKey("bob");
    const ok = await connector.provision({
      ...grant("g-bob", other.publicKey, now, new Date(now.getTime() + 3_600_000)),
      developer: { id: "dev-bob", sshPublicKeys: [other.publicKey] },
    });
    expect(login(other.path, await firstCertificate(ok, "g-bob")).code).toBe(0);
  });

  it("refuses a certificate whose principals the host does not list", async () => {
    const key = developerKey("ada-other-host");
    const now = new Date();
    clock.set(now);
    const elsewhere = createSshConnector({ principals: ["db-prod"] }, { clock, authority: ca, ledger });
    const result = await elsewhere.provision(
      grant("g-elsewhere", key.publicKey, now, new Date(now.getTime() + 3_600_000)),
    );
    expect(login(key.path, await firstCertificate(result, "g-elsewhere")).code).toBe(255);
    expect(serverLog()).toContain("Certificate does not contain an authorized principal");
  });

  it("issues certificates without forwarding unless the resource allows it", async () => {
    const key = developerKey("ada-ext");
    const now = new Date();
    clock.set(now);
    const strict = await connector.provision(
      grant("g-ext1", key.publicKey, now, new Date(now.getTime() + 3_600_000)),
    );
    const listed = (line: string) => {
      const p = join(dir, `listed-${Math.random().toString(36).slice(2)}-cert.pub`);
      writeFileSync(p, line);
      return execFileSync("/usr/bin/ssh-keygen", ["-L", "-f", p], { encoding: "utf8" });
    };
    const strictText = listed(await firstCertificate(strict, "g-ext1"));
    expect(strictText).toContain("permit-pty");
    expect(strictText).not.toMatch(/forwarding/);
    const lenient = createSshConnector(
      { principals: ["web-staging"], allow: { portForwarding: true }, sourceAddresses: ["127.0.0.1/32"] },
      { clock, authority: ca, ledger },
    );
    const lenientText = listed(
      await firstCertificate(
        await lenient.provision(grant("g-ext2", key.publicKey, now, new Date(now.getTime() + 3_600_000))),
        "g-ext2",
      ),
    );
    expect(lenientText).toContain("permit-port-forwarding");
    expect(lenientText).not.toContain("permit-agent-forwarding");
    expect(lenientText).toContain("source-address 127.0.0.1/32");
  });

  it("certifies every registered key: each logs in, and revoking the grant refuses them all", async () => {
    const laptop = developerKey("ada-laptop");
    const desktop = developerKey("ada-desktop");
    const now = new Date();
    clock.set(now);
    const g = grant(
      "g-two-keys",
      [laptop.publicKey, desktop.publicKey],
      now,
      new Date(now.getTime() + 3_600_000),
    );
    const result = await connector.provision(g);
    const [laptopCert, desktopCert] = await certificatesOf(result, g.id);
    expect(result.details.certificates).toHaveLength(2);
    // Each certificate certifies its own key, under the grant's one key id.
    const fingerprint = (path: string) =>
      execFileSync("/usr/bin/ssh-keygen", ["-l", "-f", `${path}.pub`], { encoding: "utf8" }).split(" ")[1];
    expect(
      (result.details.certificates as { keyFingerprint: string }[]).map((c) => c.keyFingerprint),
    ).toEqual([fingerprint(laptop.path), fingerprint(desktop.path)]);
    expect(login(laptop.path, laptopCert!).code).toBe(0);
    expect(login(desktop.path, desktopCert!).code).toBe(0);
    // A certificate is bound to its key: the laptop's does not log in with the desktop's key.
    expect(login(desktop.path, laptopCert!).code).toBe(255);

    // One key revoked alone (by serial): the other keeps working.
    const [laptopIssued] = (await ledger.forGrant(g.id)).filter((c) => c.certificate === laptopCert);
    await ledger.revokeSerials([laptopIssued!.serial], new Date());
    writeKrl(await connector.krl());
    expect(login(laptop.path, laptopCert!).code).toBe(255);
    expect(login(desktop.path, desktopCert!).code).toBe(0);

    // The grant revoked: every certificate of it is in the KRL.
    await connector.revoke(g);
    writeKrl(await connector.krl());
    expect(login(desktop.path, desktopCert!).code).toBe(255);
    expect(await connector.check(g)).toMatchObject({ live: false, state: "revoked" });
  });

  it("certifies the keys it can and says which it skipped; none at all is an error", async () => {
    const key = developerKey("ada-mixed");
    const now = new Date();
    clock.set(now);
    const dss =
      "ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAAAAFQCXYFCPFSMLzLKSuYKi64QL8Fgc9QAAAIEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSo= old";
    const result = await connector.provision(
      grant("g-mixed", [dss, key.publicKey], now, new Date(now.getTime() + 3_600_000)),
    );
    expect(result.details.certificates).toHaveLength(1);
    expect(result.details.skippedKeys).toEqual([
      { key: "ssh-dss", reason: expect.stringContaining("unsupported public key type") },
    ]);
    expect(login(key.path, (await certificatesOf(result, "g-mixed"))[0]!).code).toBe(0);
    await expect(
      connector.provision(grant("g-none", [dss], now, new Date(now.getTime() + 3_600_000))),
    ).rejects.toMatchObject({ reason: "invalid_grant", retryable: false });
  });
});
