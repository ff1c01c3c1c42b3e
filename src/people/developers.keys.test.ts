import { bech32 } from "@scure/base";
import { describe, expect, it } from "vitest";
import { parseAgeRecipient, parseSshPublicKey } from "./developers.keys.ts";

// Generated with `ssh-keygen -t <type>`; fingerprints as `ssh-keygen -lf` printed them.
const keys = {
  ed25519: {
    line: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3qV6APQMmVpP6yw/jq/lCRLt0M9rJHYrOfE2St7Xkx dev@ed25519",
    fingerprint: "SHA256:RG8HndtBNVh2BL/u/zP9ArKgxxxpKqyDPx7+daq2Row",
    bits: 256,
  },
  p256: {
    line: "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPAWRN7eSHvH3rXTyCKZI7HIPJoymdyZIXFPtOmn47EQkS/RrNlZUv86xG70+rV8B4uZFS5jnDQEmhivKdjATjM= dev@ecdsab256",
    fingerprint: "SHA256:3cLZj+xPVpSCsfgo1v/XrOh7by4hszqNGtkn61++/ek",
    bits: 256,
  },
  p384: {
    line: "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBFzu15GaKtrujqk0Fshyc8fTGsBounYVz3WJpGBYpAYAb2FuIoBoqXIMI7tYh4W9H8zIhs/Dv2IiGtLWCSeFUjbs9Ar6ZRw7Tbahta/NhL3JtHF7OPaSCRZOds8L+JNruA== dev@ecdsab384",
    fingerprint: "SHA256:SwSQWQCy+b4miXmSXztNcGATz4TJ25GlbD8xddCTKhU",
    bits: 384,
  },
  p521: {
    line: "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAGi/1ARKsvxPcOIYkcOyBkoUNa2vLEV1y4mYDyE1mVPELYboLXvv/AFKJJsE1eu9XeOKcFXZsLaIZTylbxuqZ8sXgGZlqu6HdmOTM02HBePpt/2TnEfSwg99uuWp2/n8Y05vbbIDe+nka2lQqDaejOY2gwCwCkYOlh6gsI2EG8lC7KH0Q== dev@ecdsab521",
    fingerprint: "SHA256:HhvxisWcgr+VHWXq5FpyZczijeNrn0SzQ3/GmIY4kUw",
    bits: 521,
  },
  rsa3072: {
    line: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCP5Ms8ozDjkIk3uMTxc2CgAmdfr4zn70DF009+MFUKuLuUimcWGPVieEWz5n9oGdbFeATE0jfImTZgOVympa8pitba/M3MDYH0n/K67LmdEMEbcr5bYkqSJCLO1V1V90cNRpBd4s+1XGNxpo6+t0oSzJM3mtLBYusnTw7/Yzay5oO9RMevnD2ERkrxLiDazdL/yGFCLDR6TshkbVLNheLShKfF4m7SwKhTP42YDC1C0YOMqFLKl6wKLIJIUbAMh2kdL9bA21oKEv9AyRDmls+2XvtzLkAvtGtl2h0xa1Iu1ZN2Yu+PC+jptlw6Ij0HwGWfL2Z6PcRRdSv1E9XAGCsc8nUEFzX4i04c0qWERU9Ts7/L1K62Dr4pyXMGwgHv9Hh1+kDBxy9V+tAjh7CEZYY0ZvhzbL54AenIudaLngc2zUqPgGmOB6YuFC1unQUmG2JASaVWe6VfEs0Z5G4sBSL0g59u5d1TWznMRgWofz08bg/kA6mem3MzzyMDZECf0gk= dev@rsab3072",
    fingerprint: "SHA256:qK8nJcYfKX7JKhQKHrvSDtBSsRFctJPDrSXh4LGxlG0",
    bits: 3072,
  },
  skEd25519: {
    line: "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHAAAABHNzaDo= yubikey",
    fingerprint: "SHA256:BpyDHJ8Qm3F/3at6p0jNaRLMB2tszGHwTQIOkdqk9J4",
    bits: 256,
  },
};
const rsa2048 =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDDI316SS+yYsqfCUSZuwKg23PRSSDFd04K6y4M6+G4c3FzcZGq2T6li+LJtY7MkzhRtrRHfru+2URifA4W2D3NgCZXqQyBM/DVd4YoCy7H7kv23dofiyFCgEABDj88Sx/S2XunAa/KqcFtutntgEhq3X8jaLIcqSyZsgyxtgA3uGGkO1mCOfqaqLP96TBFB42C3kc2MWQPeuUqaRR7im41t7ndnLhMbIy0ihExXOclEcDCO+JHJU9eOUKQNlpZdRtzSh2RPExR66EhTRTzAViUwK/rdmHw9sOJyG3W7RuTqmBfZ43UlxNS9dhZBx3OWkM0BqN2vvKGolygnw32fTh1 dev@rsab2048";

const str = (b: Buffer | string) => {
  const data = Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
};
const blobOf = (line: string) => Buffer.from(line.split(" ")[1]!, "base64");

describe("SSH public keys", () => {
  it.each(Object.entries(keys))("accepts %s with the fingerprint ssh-keygen shows", (_name, k) => {
    const r = parseSshPublicKey(k.line);
    expect(r).toMatchObject({ ok: true, value: { fingerprint: k.fingerprint, bits: k.bits } });
    if (r.ok) expect(r.value.type).toBe(k.line.split(" ")[0]);
  });

  it("keeps the comment apart from the key", () => {
    const r = parseSshPublicKey(`  ${keys.ed25519.line.replace("dev@ed25519", "alice laptop 2026")}  `);
    expect(r.ok && r.value.comment).toBe("alice laptop 2026");
    expect(r.ok && r.value.key).toBe(keys.ed25519.line.split(" ").slice(0, 2).join(" "));
  });

  it("accepts a FIDO sk-ecdsa key built around a valid P-256 point", () => {
    const p256 = blobOf(keys.p256.line);
    const point = p256.subarray(p256.length - 65);
    const blob = Buffer.concat([
      str("sk-ecdsa-sha2-nistp256@openssh.com"),
      str("nistp256"),
      str(point),
      str("ssh:"),
    ]);
    const r = parseSshPublicKey(`sk-ecdsa-sha2-nistp256@openssh.com ${blob.toString("base64")}`);
    expect(r).toMatchObject({ ok: true, value: { bits: 256 } });
  });

  it.each([
    ["an RSA key below 3072 bits", rsa2048, /at least 3072 bits/],
    ["a DSA key", "ssh-dss AAAAB3NzaC1kc3MAAACBAP1", /not accepted/],
    [
      "a type that does not match the blob",
      keys.ed25519.line.replace("ssh-ed25519", "ecdsa-sha2-nistp256"),
      /is a ssh-ed25519 key/,
    ],
    ["data that is not base64", "ssh-ed25519 AAAA$$$$", /not base64/],
    ["a truncated key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3qV6APQMmVpP6yw", /truncated|not base64/],
    ["a line without key data", "ssh-ed25519", /expected/],
    ["a private key", "-----BEGIN OPENSSH PRIVATE KEY-----", /not accepted|expected/],
  ])("rejects %s", (_name, line, message) => {
    const r = parseSshPublicKey(line);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it("rejects an EC point that is not on the curve", () => {
    const blob = Buffer.concat([
      str("ecdsa-sha2-nistp256"),
      str("nistp256"),
      str(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)])),
    ]);
    expect(parseSshPublicKey(`ecdsa-sha2-nistp256 ${blob.toString("base64")}`).ok).toBe(false);
  });

  it("rejects trailing bytes after the key", () => {
    const blob = Buffer.concat([blobOf(keys.ed25519.line), Buffer.from([0, 0, 0, 0])]);
    const r = parseSshPublicKey(`ssh-ed25519 ${blob.toString("base64")}`);
    expect(r).toEqual({ ok: false, error: "unexpected bytes after the key" });
  });
});

describe("age recipients", () => {
  const good = "age1ccw0h3dk9g8eqkncufwlqjtrdqcrmvs6mtrs8z5yl6cwhh2p6frqjjw2a5"; // from age-keygen

  it("accepts a recipient made by age-keygen", () => {
    expect(parseAgeRecipient(good)).toEqual({ ok: true, value: good });
  });

  it.each([
    ["a wrong checksum", `${good.slice(0, -1)}${good.endsWith("q") ? "p" : "q"}`, /checksum/],
    ["uppercase", good.toUpperCase(), /starts with|lowercase/],
    ["another prefix", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", /starts with/],
    ["a 16-byte payload", bech32.encode("age", bech32.toWords(new Uint8Array(16))), /32-byte/],
    ["an SSH key", keys.ed25519.line, /starts with/],
  ])("rejects %s", (_name, value, message) => {
    const r = parseAgeRecipient(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});
