import { describe, expect, it } from "vitest";
import { createNoteSigner, generateNoteKey, signNote } from "../tlog.signer.ts";
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from "./checkpoint.ts";
import { EMPTY_ROOT } from "./hash.ts";
import { NoteError, openNote, parseNote, parseVerifierKey } from "./note.ts";
import vectors from "./testdata/rfc6962-vectors.json" with { type: "json" };

const v = vectors.note;

describe("C2SP signed note", () => {
  it("reproduces the Go sumdb/note example byte for byte", async () => {
    const signer = createNoteSigner(v.signerKey);
    expect(signer.verifierKey).toBe(v.verifierKey);
    expect(await signNote(v.text, [signer])).toBe(`${v.text}\n${v.signatureLine}`);
  });

  it("opens the Go example with its verifier key and rejects an altered text", () => {
    const note = `${v.text}\n${v.signatureLine}`;
    const key = parseVerifierKey(v.verifierKey);
    expect(key.keyId).toBe(0xc74f20a3);
    expect(openNote(note, [key]).text).toBe(v.text);
    expect(() => openNote(note.replace("cryptography", "cryptographY"), [key])).toThrow(NoteError);
  });

  it("ignores signatures from unknown keys but needs one from a trusted key", async () => {
    const other = generateNoteKey("other.example/log");
    const mine = generateNoteKey("warden.test/audit");
    const note = await signNote("hello\n", [
      createNoteSigner(other.privateKey),
      createNoteSigner(mine.privateKey),
    ]);
    expect(openNote(note, [parseVerifierKey(mine.verifierKey)]).verifiedBy).toEqual(["warden.test/audit"]);
    expect(() => openNote(note, [parseVerifierKey(vectors.note.verifierKey)])).toThrow(
      /no signature from a trusted key/,
    );
  });

  it("rejects verifier keys whose hash does not match and malformed notes", () => {
    expect(() => parseVerifierKey(v.verifierKey.replace("c74f20a3", "c74f20a4"))).toThrow(/hash/);
    expect(() => parseVerifierKey("no-plus-signs")).toThrow(NoteError);
    expect(() => parseNote("text without signatures\n")).toThrow(/blank line/);
    expect(() => parseNote("text\n\n— name !!!\n")).toThrow(/malformed/);
    expect(() => parseNote("te\u0001xt\n\n— a AAAAAAA=\n")).toThrow(/control/);
  });
});

describe("C2SP tlog-checkpoint", () => {
  it("formats and parses origin, size, base64 root and extension lines", () => {
    const text = formatCheckpoint({
      origin: "warden.test/audit",
      size: 5,
      root: EMPTY_ROOT,
      extensions: ["ext one"],
    });
    expect(text).toBe("warden.test/audit\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next one\n");
    expect(parseCheckpoint(text)).toEqual({
      origin: "warden.test/audit",
      size: 5,
      root: EMPTY_ROOT,
      extensions: ["ext one"],
    });
  });

  it("rejects sizes with leading zeroes, short roots and missing lines", () => {
    expect(() => parseCheckpoint("o\n05\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")).toThrow(/decimal/);
    expect(() => parseCheckpoint("o\n5\nAAAA\n")).toThrow(/SHA-256/);
    expect(() => parseCheckpoint("o\n5\n")).toThrow(/origin, size and root/);
  });

  it("opens a signed checkpoint only for the expected origin", async () => {
    const k = generateNoteKey("warden.test/audit");
    const note = await signNote(
      formatCheckpoint({ origin: "warden.test/audit", size: 0, root: EMPTY_ROOT, extensions: [] }),
      [createNoteSigner(k.privateKey)],
    );
    expect(openCheckpoint(note, parseVerifierKey(k.verifierKey)).size).toBe(0);
    expect(() => openCheckpoint(note, parseVerifierKey(k.verifierKey), "elsewhere/log")).toThrow(
      /expected elsewhere/,
    );
  });
});
