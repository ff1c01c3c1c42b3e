import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "./age.browser.ts";
import { ageFailureOf } from "./age.errors.ts";
import {
  checkShareHeader,
  decrypt,
  decryptBuffer,
  decryptToFile,
  encrypt,
  encryptBuffer,
  encryptToFile,
  readHeader,
} from "./age.service.ts";
import { CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE } from "./age.stream.ts";

const alice = generateKeyPair();
const bob = generateKeyPair();
const dir = mkdtempSync(join(tmpdir(), "warden-age-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

async function failureOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    return { reason: ageFailureOf(e), message: (e as Error).message };
  }
  throw new Error("expected a failure");
}

/** Feeds a buffer in pieces of the given sizes, cycling, to exercise chunk reassembly. */
async function* pieces(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let i = 0;
  for (let o = 0; o < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(o, o + n);
    o += n;
  }
}

const sizes = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 12345];

describe("age streaming encryption", () => {
  it.each(sizes)("round-trips %i bytes", async (size) => {
    const plain = randomBytes(size);
    const ct = await encryptBuffer(plain, [alice.recipient]);
    const chunks = Math.max(1, Math.ceil(size / CHUNK_SIZE));
    const { header } = await readHeader(ct);
    expect(ct.length).toBe(header.bytes.length + 16 + size + 16 * chunks);
    expect((await decryptBuffer(ct, [alice.identity])).equals(plain)).toBe(true);
  });

  it("produces the same plaintext whatever the input and ciphertext piece sizes", async () => {
    const plain = randomBytes(3 * CHUNK_SIZE + 99);
    const ct = await collect(
      encrypt(pieces(plain, [1, 7, 65535, 70000, 3]), [alice.recipient, bob.recipient]),
    );
    const out = await collect(decrypt(pieces(ct, [13, 65553, 1, 4096]), [bob.identity]));
    expect(out.equals(plain)).toBe(true);
  });

  it("uses a fresh file key and nonce for every file", async () => {
    const plain = Buffer.from("same secret");
    const a = await encryptBuffer(plain, [alice.recipient]);
    const b = await encryptBuffer(plain, [alice.recipient]);
    expect(a.equals(b)).toBe(false);
  });

  it("refuses to decrypt with an identity the file was not encrypted to", async () => {
    const ct = await encryptBuffer("for alice", [alice.recipient]);
    const f = await failureOf(decryptBuffer(ct, [bob.identity]));
    expect(f.reason).toBe("no_identity");
  });

  it("reports a truncated file at a chunk boundary as truncated", async () => {
    const ct = await encryptBuffer(randomBytes(2 * CHUNK_SIZE + 10), [alice.recipient]);
    const f = await failureOf(decryptBuffer(ct.subarray(0, ct.length - (10 + 16)), [alice.identity]));
    expect(f.reason).toBe("truncated");
  });

  it("reports a file cut mid-chunk or with a flipped bit as not authenticating", async () => {
    const ct = await encryptBuffer(randomBytes(CHUNK_SIZE + 500), [alice.recipient]);
    expect((await failureOf(decryptBuffer(ct.subarray(0, ct.length - 100), [alice.identity]))).reason).toBe(
      "tampered",
    );
    const flipped = Buffer.from(ct);
    flipped.writeUInt8(
      flipped.readUInt8(flipped.length - ENCRYPTED_CHUNK_SIZE) ^ 1,
      flipped.length - ENCRYPTED_CHUNK_SIZE,
    );
    const f = await failureOf(decryptBuffer(flipped, [alice.identity]));
    expect(f.reason).toBe("tampered");
    expect(f.message).toMatch(/does not authenticate/);
  });

  it("reports data appended after the final chunk", async () => {
    const ct = await encryptBuffer(randomBytes(100), [alice.recipient]);
    const f = await failureOf(decryptBuffer(Buffer.concat([ct, ct]), [alice.identity]));
    expect(f.reason).toBe("tampered");
    const full = await encryptBuffer(randomBytes(CHUNK_SIZE), [alice.recipient]);
    const g = await failureOf(decryptBuffer(Buffer.concat([full, Buffer.from("x")]), [alice.identity]));
    expect(g.reason).toBe("trailing_data");
  });

  it("detects a modified header through its MAC", async () => {
    const ct = await encryptBuffer("x", [alice.recipient, bob.recipient]);
    const { header } = await readHeader(ct);
    // Drop bob's stanza: alice can still unwrap the file key, but the MAC no longer matches.
    const text = new TextDecoder().decode(header.bytes).split("\n");
    const withoutBob = [...text.slice(0, 3), ...text.slice(5)].join("\n");
    const forged = Buffer.concat([Buffer.from(withoutBob), ct.subarray(header.bytes.length)]);
    expect((await failureOf(decryptBuffer(forged, [alice.identity]))).reason).toBe("header_mac");
  });

  it("rejects bad recipients before reading any input", () => {
    expect(() => encrypt(Buffer.from("x"), [])).toThrow(/At least one recipient/);
    expect(() => encrypt(Buffer.from("x"), ["age1nope"])).toThrow(/Not a valid age recipient/);
  });
});

describe("age header checks for uploads", () => {
  it("reads the header of a ciphertext stream without identity and hands back the rest", async () => {
    const plain = randomBytes(CHUNK_SIZE + 7);
    const ct = await encryptBuffer(plain, [alice.recipient, bob.recipient]);
    const { header, rest } = await readHeader(pieces(ct, [50, 1000]));
    expect(header.stanzas.map((s) => s.type)).toEqual(["X25519", "X25519"]);
    checkShareHeader(header);
    const restBytes = await collect(rest);
    expect(Buffer.concat([header.bytes, restBytes]).equals(ct)).toBe(true);
  });

  it("refuses stanza types a share may not carry and too many recipients", async () => {
    const ct = await encryptBuffer("x", [alice.recipient, bob.recipient]);
    const { header } = await readHeader(ct);
    expect(() => checkShareHeader(header, { allowedTypes: ["ssh-ed25519"] })).toThrow(/"X25519" recipient/);
    expect(() => checkShareHeader(header, { maxStanzas: 1 })).toThrow(/at most 1/);
  });

  it("refuses a header larger than the limit", async () => {
    const huge = `age-encryption.org/v1\n-> a\n${"AAAA".repeat(16)}\n`.repeat(1);
    const body = `${huge}${`${"AAAA".repeat(16)}\n`.repeat(2000)}`;
    const f = await failureOf(readHeader(Buffer.from(body), { maxHeaderBytes: 4096 }));
    expect(f.reason).toBe("header_too_large");
  });

  it("says a non-age upload is not an age file", async () => {
    const f = await failureOf(readHeader(Buffer.from("%PDF-1.7\n...")));
    expect(f.reason).toBe("not_age");
  });
});

describe("age file helpers", () => {
  it("encrypts and decrypts files, creating the plaintext with mode 0600", async () => {
    const src = join(dir, "plain.bin");
    const plain = randomBytes(2 * CHUNK_SIZE + 3);
    writeFileSync(src, plain);
    let progress = 0;
    const enc = await encryptToFile(src, join(dir, "plain.bin.age"), [alice.recipient], {
      onProgress: (n) => {
        progress = n;
      },
    });
    expect(progress).toBe(plain.length);
    expect(enc.bytesWritten).toBe(readFileSync(join(dir, "plain.bin.age")).length);
    const dec = await decryptToFile(join(dir, "plain.bin.age"), join(dir, "out.bin"), [alice.identity]);
    expect(dec.bytesWritten).toBe(plain.length);
    expect(readFileSync(join(dir, "out.bin")).equals(plain)).toBe(true);
  });

  it("leaves no output and no temporary file when the ciphertext is truncated", async () => {
    const ct = await encryptBuffer(randomBytes(3 * CHUNK_SIZE), [alice.recipient]);
    writeFileSync(join(dir, "cut.age"), ct.subarray(0, ct.length - 1000));
    const before = readdirSync(dir).length;
    const f = await failureOf(decryptToFile(join(dir, "cut.age"), join(dir, "cut.out"), [alice.identity]));
    expect(f.reason).toBe("tampered");
    expect(readdirSync(dir)).not.toContain("cut.out");
    expect(readdirSync(dir).length).toBe(before);
  });

  it("refuses to overwrite an existing file unless asked", async () => {
    writeFileSync(join(dir, "exists"), "keep me");
    const ct = await encryptBuffer("new", [alice.recipient]);
    await expect(decryptToFile(ct, join(dir, "exists"), [alice.identity])).rejects.toThrow(/already exists/);
    expect(readFileSync(join(dir, "exists"), "utf8")).toBe("keep me");
    await decryptToFile(ct, join(dir, "exists"), [alice.identity], { overwrite: true });
    expect(readFileSync(join(dir, "exists"), "utf8")).toBe("new");
  });
});
