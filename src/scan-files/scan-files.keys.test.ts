import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { privateKeyVerdict } from "./scan-files.keys.ts";

describe("private key protection", () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;

  it.each([
    ["PKCS#8", privateKey.export({ type: "pkcs8", format: "pem" }) as string, "unencrypted"],
    ["PKCS#1", privateKey.export({ type: "pkcs1", format: "pem" }) as string, "unencrypted"],
    ["SEC1", ec.export({ type: "sec1", format: "pem" }) as string, "unencrypted"],
    [
      "encrypted PKCS#8",
      privateKey.export({
        type: "pkcs8",
        format: "pem",
        cipher: "aes-256-cbc",
        passphrase: "correct horse",
      }) as string,
      "encrypted",
    ],
    [
      "encrypted PKCS#1 (Proc-Type)",
      privateKey.export({
        type: "pkcs1",
        format: "pem",
        cipher: "aes-256-cbc",
        passphrase: "correct horse",
      }) as string,
      "encrypted",
    ],
    ["PuTTY without passphrase", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "unencrypted"],
    ["PuTTY with passphrase", "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: aes256-cbc\n", "encrypted"],
    ["garbage", "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----", "invalid"],
  ])("classifies a %s key", (_name, pem, verdict) => {
    expect(privateKeyVerdict(pem.trim())).toBe(verdict);
  });
});
