import { describe, expect, it } from "vitest";
import { generateKeyPair, identityFileText } from "./age.browser.ts";
import { ageFailureOf } from "./age.errors.ts";
import { identityToRecipient, isValidAgeRecipient, parseIdentities, parseRecipient } from "./age.keys.ts";

// The examples from the age specification (c2sp.org/age).
const SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
const SPEC_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
// An Ed25519 key made with ssh-keygen for these tests only.
const SSH_PUB =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINtzLCtkjBVOdkt7Y6SD8achLhUsIhuHUOr7bUJdqe5V dev@example";

describe("age recipients", () => {
  it("derives the spec's recipient from the spec's identity", () => {
    expect(identityToRecipient(SPEC_IDENTITY)).toBe(SPEC_RECIPIENT);
  });

  it("parses an X25519 recipient and normalises case and whitespace", () => {
    const r = parseRecipient(`  ${SPEC_RECIPIENT.toUpperCase()}\n`);
    expect(r.type).toBe("X25519");
    expect(r.text).toBe(SPEC_RECIPIENT);
    expect(r.publicKey).toHaveLength(32);
  });

  it("parses an SSH Ed25519 key with its comment and OpenSSH fingerprint", () => {
    const r = parseRecipient(SSH_PUB);
    expect(r.type).toBe("ssh-ed25519");
    expect(r.text).toBe(SSH_PUB.split(" ").slice(0, 2).join(" "));
    expect(r.comment).toBe("dev@example");
    expect(r.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it.each([
    ["", /empty/],
    [SPEC_RECIPIENT.slice(0, -1), /Bech32/],
    [`${SPEC_RECIPIENT.slice(0, -1)}q`, /Bech32/],
    [SPEC_IDENTITY, /secret key/],
    ["ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user", /Only Ed25519/],
    ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINtzLCtkjBVOdkt7Y6SD8achLhUsIhuHUOr7bUJdqe5", /SSH Ed25519/],
    ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /SSH Ed25519/],
    ["age1pq1qqqq", /Post-quantum/],
    ["hello", /Unrecognised/],
    // The all-zero u-coordinate is a low-order point: every shared secret would be zero.
    ["age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq5cu47z", /low-order/],
  ])("rejects %j with a message saying why", (text, message) => {
    expect(isValidAgeRecipient(text)).toBe(false);
    try {
      parseRecipient(text);
      expect.unreachable();
    } catch (e) {
      expect(ageFailureOf(e)).toBe("invalid_recipient");
      expect((e as Error).message).toMatch(message);
    }
  });
});

describe("age identities", () => {
  it("reads an identity file with comments and blank lines", () => {
    const ids = parseIdentities(
      `# created: 2026-01-01\n# public key: ${SPEC_RECIPIENT}\n\n${SPEC_IDENTITY}\n`,
    );
    expect(ids.map((i) => i.recipient)).toEqual([SPEC_RECIPIENT]);
  });

  it("refuses a bad identity line without echoing it", () => {
    const secretish = `${SPEC_IDENTITY.slice(0, -1)}Z`;
    try {
      parseIdentities(`# mine\n${secretish}\n`);
      expect.unreachable();
    } catch (e) {
      expect(ageFailureOf(e)).toBe("invalid_identity");
      expect((e as Error).message).toMatch(/Line 2/);
      expect((e as Error).message).not.toContain(secretish.slice(20));
    }
  });

  it("refuses lower-case identities as age does", () => {
    expect(() => parseIdentities(SPEC_IDENTITY.toLowerCase())).toThrow(/not a valid AGE-SECRET-KEY/);
  });
});

describe("browser key pairs", () => {
  it("generates a key pair whose identity maps to its recipient", () => {
    const pair = generateKeyPair();
    expect(pair.identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(pair.recipient).toMatch(/^age1[0-9a-z]{58}$/);
    expect(identityToRecipient(pair.identity)).toBe(pair.recipient);
    expect(isValidAgeRecipient(pair.recipient)).toBe(true);
    expect(generateKeyPair().identity).not.toBe(pair.identity);
  });

  it("writes an identity file in age-keygen's layout", () => {
    const pair = generateKeyPair();
    const text = identityFileText(pair, new Date("2026-03-01T10:00:00Z"));
    expect(text).toBe(
      `# created: 2026-03-01T10:00:00.000Z\n# public key: ${pair.recipient}\n${pair.identity}\n`,
    );
    expect(parseIdentities(text)[0]!.recipient).toBe(pair.recipient);
  });
});
