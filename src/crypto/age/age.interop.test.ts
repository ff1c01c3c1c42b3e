/**
 * Interop with the standard age CLI (Debian package `age`, 1.1.1) both ways, for X25519 and SSH
 * Ed25519 keys, at the sizes where STREAM chunking can go wrong.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptText, encryptSmall, toArmor } from "./age.browser.ts";
import { ageFailureOf } from "./age.errors.ts";
import { parseIdentities, parseRecipient } from "./age.keys.ts";
import { checkShareHeader, decryptToFile, encryptToFile, readHeader } from "./age.service.ts";
import { CHUNK_SIZE } from "./age.stream.ts";

function requireBinary(name: string): void {
  const r = spawnSync("sh", ["-c", `command -v ${name}`]);
  if (r.status !== 0) {
    throw new Error(`${name} is not installed: run .ci/install-deps (Debian packages age, openssh-client)`);
  }
}

const dir = mkdtempSync(join(tmpdir(), "warden-age-interop-"));
const p = (name: string) => join(dir, name);
let x25519: { identityFile: string; recipient: string };
let ssh: { identityFile: string; recipient: string };

beforeAll(() => {
  for (const b of ["age", "age-keygen", "ssh-keygen"]) requireBinary(b);
  execFileSync("age-keygen", ["-o", p("key.txt")], { stdio: "ignore" });
  x25519 = {
    identityFile: p("key.txt"),
    recipient: execFileSync("age-keygen", ["-y", p("key.txt")])
      .toString()
      .trim(),
  };
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "dev@example", "-f", p("id_ed25519")]);
  ssh = { identityFile: p("id_ed25519"), recipient: readFileSync(p("id_ed25519.pub"), "utf8").trim() };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sizes = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 5];
const keys = () => ({ X25519: x25519, "ssh-ed25519": ssh });
const age = (args: string[]) => spawnSync("age", args, { maxBuffer: 64 * 1024 * 1024 });

describe.each(["X25519", "ssh-ed25519"] as const)("interop with the age CLI using %s keys", (type) => {
  it.each(sizes)("age decrypts what we encrypt (%i bytes)", async (size) => {
    const key = keys()[type];
    const plain = randomBytes(size);
    writeFileSync(p(`in-${type}-${size}`), plain);
    await encryptToFile(p(`in-${type}-${size}`), p(`ours-${type}-${size}.age`), [key.recipient]);
    const r = age(["-d", "-i", key.identityFile, p(`ours-${type}-${size}.age`)]);
    expect(r.stderr.toString()).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.equals(plain)).toBe(true);
  });

  it.each(sizes)("we decrypt what age encrypts (%i bytes)", async (size) => {
    const key = keys()[type];
    const plain = randomBytes(size);
    writeFileSync(p(`plain-${type}-${size}`), plain);
    const flag = type === "X25519" ? "-r" : "-R";
    const recipientArg = type === "X25519" ? key.recipient : p("id_ed25519.pub");
    const r = age(["-e", flag, recipientArg, "-o", p(`age-${type}-${size}.age`), p(`plain-${type}-${size}`)]);
    expect(r.status).toBe(0);
    const { header } = await readHeader(readFileSync(p(`age-${type}-${size}.age`)));
    expect(header.stanzas.map((s) => s.type)).toEqual([type]);
    checkShareHeader(header);
    const identities = [readFileSync(key.identityFile, "utf8")];
    await decryptToFile(p(`age-${type}-${size}.age`), p(`out-${type}-${size}`), identities);
    expect(readFileSync(p(`out-${type}-${size}`)).equals(plain)).toBe(true);
  });
});

describe("interop edge cases", () => {
  it("encrypts to X25519 and SSH recipients at once, each decrypting with age", async () => {
    const plain = randomBytes(CHUNK_SIZE * 2 + 1);
    writeFileSync(p("both.in"), plain);
    await encryptToFile(p("both.in"), p("both.age"), [x25519.recipient, ssh.recipient]);
    for (const id of [x25519.identityFile, ssh.identityFile]) {
      const r = age(["-d", "-i", id, p("both.age")]);
      expect(r.status).toBe(0);
      expect(r.stdout.equals(plain)).toBe(true);
    }
  });

  it("matches ssh-ed25519 stanzas to the key through the tag age computes", async () => {
    const r = age(["-e", "-R", p("id_ed25519.pub"), "-o", p("tag.age")]);
    expect(r.status).toBe(0);
    const { header } = await readHeader(readFileSync(p("tag.age")));
    const { sshEd25519Tag, sshEd25519Wire } = await import("./age.ssh.ts");
    expect(header.stanzas[0]!.args[0]).toBe(
      sshEd25519Tag(sshEd25519Wire(parseRecipient(ssh.recipient).publicKey)),
    );
  });

  it("encrypts a text secret in the browser path to an SSH key that age and we decrypt", async () => {
    const ct = await encryptSmall("token", [ssh.recipient]);
    writeFileSync(p("small.age"), ct);
    const r = age(["-d", "-i", ssh.identityFile, p("small.age")]);
    expect(r.stdout.toString()).toBe("token");
    expect(await decryptText(toArmor(ct), [readFileSync(ssh.identityFile, "utf8")])).toBe("token");
  });

  it("gives the SSH identity's recipient as its public key line", () => {
    const [id] = parseIdentities(readFileSync(ssh.identityFile, "utf8"));
    expect(id!.recipient).toBe(parseRecipient(ssh.recipient).text);
  });

  it("refuses age's armored output with a message about armor", async () => {
    writeFileSync(p("armor.in"), "text");
    expect(age(["-e", "-a", "-r", x25519.recipient, "-o", p("armor.age"), p("armor.in")]).status).toBe(0);
    try {
      await decryptToFile(p("armor.age"), p("armor.out"), [readFileSync(x25519.identityFile, "utf8")]);
      expect.unreachable();
    } catch (e) {
      expect(ageFailureOf(e)).toBe("armored");
    }
  });

  it("fails like age on a truncated file and leaves no plaintext", async () => {
    writeFileSync(p("trunc.in"), randomBytes(CHUNK_SIZE * 3));
    await encryptToFile(p("trunc.in"), p("trunc.age"), [x25519.recipient]);
    const ct = readFileSync(p("trunc.age"));
    writeFileSync(p("trunc-cut.age"), ct.subarray(0, ct.length - (CHUNK_SIZE + 16)));
    expect(
      age(["-d", "-i", x25519.identityFile, "-o", p("trunc-age.out"), p("trunc-cut.age")]).status,
    ).not.toBe(0);
    try {
      await decryptToFile(p("trunc-cut.age"), p("trunc.out"), [readFileSync(x25519.identityFile, "utf8")]);
      expect.unreachable();
    } catch (e) {
      expect(ageFailureOf(e)).toBe("truncated");
    }
    expect(() => readFileSync(p("trunc.out"))).toThrow(/ENOENT/);
  });
});
