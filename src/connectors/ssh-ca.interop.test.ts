import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSshCertificateAuthority, generateSshCaKey } from "./ssh-ca.ts";
import { parseSshPublicKey } from "./ssh-wire.ts";

// ssh-keygen (Debian openssh-client) is the reference reader of certificates and KRLs.
if (!existsSync("/usr/bin/ssh-keygen")) {
  throw new Error("/usr/bin/ssh-keygen is missing: run .ci/install-deps (Debian package openssh-client).");
}

const dir = mkdtempSync(join(tmpdir(), "warden-ssh-ca-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyPair(type: "ed25519" | "rsa" | "ecdsa", name: string): string {
  const path = join(dir, name);
  execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", "", "-f", path]);
  return readFileSync(`${path}.pub`, "utf8");
}

function save(name: string, data: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

const window = {
  validAfter: new Date("2026-05-01T10:00:00Z"),
  validBefore: new Date("2026-05-01T12:00:00Z"),
};

describe("the SSH certificate authority", () => {
  const seed = Buffer.alloc(32, 7);
  const ca = createSshCertificateAuthority(seed, "test-ca");

  it("publishes a CA public key line that ssh-keygen reads", () => {
    const path = save("ca.pub", `${ca.publicKeyLine}\n`);
    const out = execFileSync("/usr/bin/ssh-keygen", ["-l", "-f", path], { encoding: "utf8" });
    expect(out).toMatch(/^256 SHA256:\S+ test-ca \(ED25519\)/);
  });

  it("loads the same CA from its PEM and from its seed", () => {
    const { privateKeyPem, publicKeyLine } = generateSshCaKey("x");
    expect(createSshCertificateAuthority(privateKeyPem, "x").publicKeyLine).toBe(publicKeyLine);
  });

  it.each([["ed25519"], ["rsa"], ["ecdsa"]] as const)(
    "certifies %s user keys in the form OpenSSH reads",
    (type) => {
      const cert = ca.signUserCertificate({
        publicKey: keyPair(type, `dev-${type}`),
        keyId: "warden:developer=ada:grant=g-42",
        principals: ["deploy", "web-staging"],
        ...window,
        extensions: ["permit-pty", "permit-agent-forwarding"],
        serial: 42n,
      });
      const out = execFileSync("/usr/bin/ssh-keygen", ["-L", "-f", save(`c-${type}-cert.pub`, cert.line)], {
        encoding: "utf8",
      });
      expect(out).toContain("user certificate");
      expect(out).toContain('Key ID: "warden:developer=ada:grant=g-42"');
      expect(out).toContain("Serial: 42");
      expect(out).toMatch(/Principals: \n\s+deploy\n\s+web-staging/);
      expect(out).toMatch(/Extensions: \n\s+permit-agent-forwarding\n\s+permit-pty\n/);
      expect(out).toContain("Signing CA: ED25519");
    },
  );

  it("writes a KRL that revokes by serial and by key id and spares the rest", () => {
    const sign = (keyId: string, serial: bigint, name: string) =>
      save(
        `${name}-cert.pub`,
        ca.signUserCertificate({
          publicKey: keyPair("ed25519", name),
          keyId,
          principals: ["p"],
          ...window,
          extensions: ["permit-pty"],
          serial,
        }).line,
      );
    const bySerial = sign("warden:grant=a", 1001n, "a");
    const byKeyId = sign("warden:grant=b", 1002n, "b");
    const spared = sign("warden:grant=c", 1003n, "c");
    const krl = save(
      "revoked.krl",
      ca.buildKrl({
        serials: [1001n, 7n],
        keyIds: ["warden:grant=b"],
        version: 3n,
        generatedAt: window.validAfter,
      }),
    );
    const query = (cert: string) => spawnSync("/usr/bin/ssh-keygen", ["-Q", "-f", krl, cert]).status;
    expect(query(bySerial)).toBe(1);
    expect(query(byKeyId)).toBe(1);
    expect(query(spared)).toBe(0);
    const listing = execFileSync("/usr/bin/ssh-keygen", ["-Q", "-l", "-f", krl], { encoding: "utf8" });
    expect(listing).toContain("# KRL version 3");
    expect(listing).toMatch(/serial: 7\nserial: 1001/);
  });

  it("does not revoke certificates of another CA with the same serial", () => {
    const other = createSshCertificateAuthority(Buffer.alloc(32, 9));
    const foreign = save(
      "foreign-cert.pub",
      other.signUserCertificate({
        publicKey: keyPair("ed25519", "f"),
        keyId: "k",
        principals: ["p"],
        ...window,
        extensions: [],
        serial: 5n,
      }).line,
    );
    const krl = save(
      "k2.krl",
      ca.buildKrl({ serials: [5n], keyIds: ["k"], version: 1n, generatedAt: new Date() }),
    );
    expect(spawnSync("/usr/bin/ssh-keygen", ["-Q", "-f", krl, foreign]).status).toBe(0);
  });

  it("refuses what it should not sign", () => {
    const publicKey = keyPair("ed25519", "r");
    const base = { publicKey, keyId: "k", principals: ["p"], ...window, extensions: [] as const };
    expect(() => ca.signUserCertificate({ ...base, principals: [] })).toThrow(/principal/);
    expect(() => ca.signUserCertificate({ ...base, principals: ["a,b"] })).toThrow(/invalid principal/);
    expect(() => ca.signUserCertificate({ ...base, validBefore: window.validAfter })).toThrow(/validity/);
    expect(() => ca.signUserCertificate({ ...base, keyId: "line\nbreak" })).toThrow(/key id/);
    expect(() => createSshCertificateAuthority(generateRsaPem())).toThrow(/Ed25519/);
  });
});

describe("parseSshPublicKey", () => {
  it.each([
    ["", /not an OpenSSH public key/],
    ["ssh-dss AAAAB3NzaC1kc3M=", /unsupported/],
    ["ssh-ed25519 !!!", /base64/],
    [
      `ssh-ed25519 ${Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from("ssh-rsa")]).toString("base64")}`,
      /does not match/,
    ],
  ])("rejects %j", (line, message) => {
    expect(() => parseSshPublicKey(line)).toThrow(message);
  });
});

function generateRsaPem(): string {
  const path = join(dir, "rsa-ca");
  execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-m", "PKCS8", "-N", "", "-f", path]);
  return readFileSync(path, "utf8");
}
