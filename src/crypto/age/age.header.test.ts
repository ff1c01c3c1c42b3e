import { describe, expect, it } from "vitest";
import { ageFailureOf } from "./age.errors.ts";
import { parseHeader, tryParseHeader } from "./age.header.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const SHARE = "TEiF0ypqr+bpvcqXNyCVJpL7OuwPdVwPL7KQEbFDOCc";
const BODY = "hjabGXwSLQ9c3S6Lw2i+S2Tu2fiwQHHslbBN6B41FLE";
const MAC = "WyJp9F/9FOZh7gJdheq2WIJcwHgYc8NIVh3ddwhrcNg";
const valid = `age-encryption.org/v1\n-> X25519 ${SHARE}\n${BODY}\n--- ${MAC}\n`;

function failure(text: string) {
  try {
    parseHeader(enc(text));
  } catch (e) {
    return { reason: ageFailureOf(e), message: (e as Error).message };
  }
  throw new Error("parsed");
}

describe("age header parser", () => {
  it("parses stanzas, body and MAC and reports the header length", () => {
    const bytes = enc(`${valid}PAYLOAD`);
    const { header, length } = parseHeader(bytes);
    expect(length).toBe(valid.length);
    expect(header.stanzas).toHaveLength(1);
    expect(header.stanzas[0]!.type).toBe("X25519");
    expect(header.stanzas[0]!.args).toEqual([SHARE]);
    expect(header.stanzas[0]!.body).toHaveLength(32);
    expect(header.mac).toHaveLength(32);
    expect(new TextDecoder().decode(header.bytes)).toBe(valid);
  });

  it("waits for more input on a valid prefix and fails at the end of input", () => {
    for (const cut of [0, 5, 22, 40, valid.length - 1]) {
      expect(tryParseHeader(enc(valid.slice(0, cut)))).toBeNull();
      expect(() => tryParseHeader(enc(valid.slice(0, cut)), true)).toThrow(/age|header/);
    }
  });

  it.each([
    ["binary data", "\x89PNG\r\n", "not_age", /not an age-encrypted file/],
    ["another version", "age-encryption.org/v2\n", "unsupported_version", /version/],
    ["an armored file", "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n", "armored", /ASCII-armored/],
    ["CRLF line ends", valid.replaceAll("\n", "\r\n"), "malformed_header", /CR/],
    ["no stanza", `age-encryption.org/v1\n--- ${MAC}\n`, "malformed_header", /no recipient stanza/],
    [
      "a stanza without arguments",
      `age-encryption.org/v1\n->\n\n--- ${MAC}\n`,
      "malformed_header",
      /no arguments/,
    ],
    [
      "an empty argument",
      `age-encryption.org/v1\n-> a  b\n\n--- ${MAC}\n`,
      "malformed_header",
      /empty argument/,
    ],
    ["padded base64", valid.replace(BODY, `${BODY}=`), "malformed_header", /base64/],
    ["non-canonical base64", valid.replace(BODY, `${BODY.slice(0, -1)}F`), "malformed_header", /canonical/],
    [
      "a body line over 64 columns",
      `age-encryption.org/v1\n-> x\n${"A".repeat(68)}\n--- ${MAC}\n`,
      "malformed_header",
      /64 columns/,
    ],
    [
      "an extra X25519 argument",
      valid.replace(SHARE, `${SHARE} extra`),
      "malformed_header",
      /exactly one argument/,
    ],
    ["a short X25519 body", valid.replace(BODY, BODY.slice(0, 40)), "malformed_header", /32 bytes/],
    ["a short MAC", valid.replace(MAC, MAC.slice(0, 40)), "malformed_header", /MAC line/],
    ["garbage instead of a stanza", `age-encryption.org/v1\nhello\n`, "malformed_header", /start a stanza/],
    [
      "scrypt mixed with X25519",
      `age-encryption.org/v1\n-> scrypt ${"A".repeat(22)} 10\n${BODY}\n-> X25519 ${SHARE}\n${BODY}\n--- ${MAC}\n`,
      "malformed_header",
      /only stanza/,
    ],
  ])("rejects %s with a clear message", (_what, text, reason, message) => {
    const f = failure(text);
    expect(f.reason).toBe(reason);
    expect(f.message).toMatch(message);
  });

  it("fails fast on garbage without waiting for a whole line", () => {
    expect(() => tryParseHeader(enc("PK\x03\x04"))).toThrow(/not an age-encrypted file/);
  });

  it("accepts unknown (plugin or grease) stanzas with any printable arguments", () => {
    const text = `age-encryption.org/v1\n-> example.com/enigma !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~\n\n-> X25519 ${SHARE}\n${BODY}\n--- ${MAC}\n`;
    const { header } = parseHeader(enc(text));
    expect(header.stanzas.map((s) => s.type)).toEqual(["example.com/enigma", "X25519"]);
    expect(header.stanzas[0]!.body).toHaveLength(0);
  });
});
