/**
 * The C2SP/CCTV age testkit (npm `cctv-age`): every vector that applies to what this module
 * implements (binary format, X25519 identities, strict header parsing including scrypt stanza rules)
 * must give the expected outcome, and the plaintext released before a failure must match the vector's
 * payload hash. ASCII armor is refused by the streaming path and decoded (by typage) in the
 * small-payload path; both are checked below. Not applicable: passphrase decryption and post-quantum
 * hybrid identities (not offered to Warden users).
 */
import { createHash } from "node:crypto";
import { inflateSync } from "node:zlib";
import * as vectors from "cctv-age";
import { describe, expect, it } from "vitest";
import { decryptSmall, fromArmor } from "./age.browser.ts";
import { type AgeFailure, ageFailureOf } from "./age.errors.ts";
import { parseHeader } from "./age.header.ts";
import { decrypt } from "./age.service.ts";

interface Vector {
  name: string;
  expect: string;
  payload?: string;
  identities: string[];
  passphrases: string[];
  armored: boolean;
  file: Uint8Array;
}

function load(name: string, raw: Uint8Array): Vector {
  const text = Buffer.from(raw);
  const split = text.indexOf("\n\n");
  const meta = text.subarray(0, split).toString("utf8").split("\n");
  const get = (k: string) => meta.filter((l) => l.startsWith(`${k}: `)).map((l) => l.slice(k.length + 2));
  let file: Uint8Array = text.subarray(split + 2);
  if (get("compressed")[0] === "zlib") file = inflateSync(file);
  return {
    name,
    expect: get("expect")[0]!,
    payload: get("payload")[0],
    identities: get("identity"),
    passphrases: get("passphrase"),
    armored: get("armored")[0] === "yes",
    file,
  };
}

const all = Object.entries(vectors as unknown as Record<string, Uint8Array>).map(([n, v]) => load(n, v));
const hybrid = (v: Vector) =>
  v.name.startsWith("hybrid") || v.identities.some((i) => i.startsWith("AGE-SECRET-KEY-PQ"));
const binaryX25519 = all.filter((v) => !v.armored && !hybrid(v) && v.passphrases.length === 0);
const scrypt = all.filter((v) => !v.armored && v.passphrases.length > 0);

const failureClass: Record<AgeFailure, string> = {
  not_age: "header failure",
  armored: "header failure",
  unsupported_version: "header failure",
  malformed_header: "header failure",
  header_too_large: "header failure",
  unsupported_stanza: "header failure",
  no_identity: "no match",
  header_mac: "HMAC failure",
  // A missing or short payload nonce is a "header failure" in the testkit, "truncated" for us.
  truncated: "payload failure",
  tampered: "payload failure",
  trailing_data: "payload failure",
  invalid_recipient: "usage",
  invalid_identity: "usage",
};

const SOME_IDENTITY = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";

async function run(v: Vector): Promise<{ outcome: string; released: Buffer; reason?: AgeFailure }> {
  const released: Buffer[] = [];
  try {
    // A vector without identity (the empty file) still needs one to reach the parser.
    const identities = v.identities.length > 0 ? v.identities : [SOME_IDENTITY];
    for await (const chunk of decrypt(v.file, identities)) released.push(chunk);
    return { outcome: "success", released: Buffer.concat(released) };
  } catch (e) {
    const reason = ageFailureOf(e);
    if (!reason) throw e;
    return { outcome: failureClass[reason], released: Buffer.concat(released), reason };
  }
}

describe("C2SP/CCTV age testkit", () => {
  it("has the vectors this suite expects", () => {
    expect(binaryX25519.length).toBeGreaterThan(60);
  });

  it.each(binaryX25519.map((v) => [v.name, v] as const))(
    "gives the expected outcome for %s",
    async (_name, v) => {
      const { outcome, released, reason } = await run(v);
      const nonceMissing =
        v.expect === "header failure" && reason === "truncated" && /stream_(no|short)_nonce/.test(v.name);
      expect(nonceMissing ? "header failure" : outcome).toBe(v.expect);
      if (v.payload !== undefined) {
        expect(createHash("sha256").update(released).digest("hex")).toBe(v.payload);
      } else {
        expect(released.length).toBe(0);
      }
    },
  );

  it.each(scrypt.filter((v) => v.expect === "header failure").map((v) => [v.name, v] as const))(
    "rejects the malformed scrypt header %s without a passphrase",
    (_name, v) => {
      expect(() => parseHeader(v.file)).toThrow(/Malformed age header/);
    },
  );

  it.each(scrypt.filter((v) => v.expect !== "header failure").map((v) => [v.name, v] as const))(
    "parses the well-formed scrypt header %s",
    (_name, v) => {
      expect(parseHeader(v.file).header.stanzas.length).toBe(1);
    },
  );

  it.each(
    all
      .filter((v) => v.armored && v.expect !== "armor failure" && !hybrid(v))
      .map((v) => [v.name, v] as const),
  )("refuses the armored file %s with a message about armor", async (_name, v) => {
    const { reason } = await run(v);
    expect(reason).toBe("armored");
  });

  const armoredX25519 = all.filter((v) => v.armored && !hybrid(v) && v.passphrases.length === 0);

  it.each(armoredX25519.filter((v) => v.expect === "armor failure").map((v) => [v.name, v] as const))(
    "refuses the malformed armor %s in the small-payload path",
    (_name, v) => {
      expect(() => fromArmor(Buffer.from(v.file).toString("latin1"))).toThrow(
        /armored age file is malformed/,
      );
    },
  );

  it.each(armoredX25519.filter((v) => v.expect === "success").map((v) => [v.name, v] as const))(
    "decrypts the armored file %s in the small-payload path",
    async (_name, v) => {
      const plain = await decryptSmall(Buffer.from(v.file).toString("latin1"), v.identities);
      expect(createHash("sha256").update(plain).digest("hex")).toBe(v.payload);
    },
  );
});
