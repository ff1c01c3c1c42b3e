/**
 * The browser entry (age.browser.ts): it must bundle for the browser without any Node built-in, and its
 * small-payload encryption must interoperate with the streaming Node path.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import {
  decryptSmall,
  decryptStream,
  decryptText,
  encryptSmall,
  encryptStream,
  generateKeyPair,
  recipientsOfIdentities,
  toArmor,
} from "./age.browser.ts";
import { ageFailureOf } from "./age.errors.ts";
import { decryptBuffer, encryptBuffer } from "./age.service.ts";

describe("age in the browser", () => {
  it("bundles for the browser platform with no Node built-in", async () => {
    const entry = fileURLToPath(new URL("./age.browser.ts", import.meta.url));
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(
      inputs.some((i) => i.startsWith("node:") || i.includes("age.service") || i.includes("age.stream")),
    ).toBe(false);
    expect(result.outputFiles[0]!.text).not.toMatch(/from\s*"node:/);
  });

  it("encrypts a text secret that the streaming path decrypts, and back", async () => {
    const dev = generateKeyPair();
    const ct = await encryptSmall("db password: hunter2", [dev.recipient]);
    expect((await decryptBuffer(ct, [dev.identity])).toString()).toBe("db password: hunter2");
    const back = await encryptBuffer("from the CLI", [dev.recipient]);
    expect(await decryptText(back, [dev.identity])).toBe("from the CLI");
  });

  it("streams a multi-chunk file (a browser File's stream) both ways with the Node path", async () => {
    const dev = generateKeyPair();
    const plain = new Uint8Array(200_000).map((_, i) => i % 251);
    const web = await new Response(
      await encryptStream(new Blob([plain]).stream(), [dev.recipient]),
    ).arrayBuffer();
    expect((await decryptBuffer(new Uint8Array(web), [dev.identity])).equals(Buffer.from(plain))).toBe(true);
    const node = await encryptBuffer(plain, [dev.recipient]);
    const back = await new Response(
      await decryptStream(new Blob([new Uint8Array(node)]).stream(), [dev.identity]),
    ).arrayBuffer();
    expect(Buffer.from(back).equals(Buffer.from(plain))).toBe(true);
    expect(recipientsOfIdentities([dev.identity])).toEqual([dev.recipient]);
  });

  it("fails the stream, never ending it cleanly, on a truncated ciphertext", async () => {
    const dev = generateKeyPair();
    const node = await encryptBuffer(new Uint8Array(150_000), [dev.recipient]);
    const cut = node.subarray(0, node.length - 1000);
    const out = await decryptStream(new Blob([new Uint8Array(cut)]).stream(), [dev.identity]);
    await expect(new Response(out).arrayBuffer()).rejects.toThrow();
  });

  it("round-trips armored text", async () => {
    const dev = generateKeyPair();
    const ct = await encryptSmall("token", [dev.recipient]);
    const armored = toArmor(ct);
    expect(armored.startsWith("-----BEGIN AGE ENCRYPTED FILE-----\n")).toBe(true);
    expect(await decryptText(armored, [dev.identity])).toBe("token");
    await expect(decryptText("-----BEGIN AGE ENCRYPTED FILE-----\nnope", [dev.identity])).rejects.toSatisfy(
      (e) => ageFailureOf(e) === "armored",
    );
  });

  it("explains why it cannot decrypt", async () => {
    const ct = await encryptSmall(new Uint8Array([1, 2, 3]), [generateKeyPair().recipient]);
    await expect(decryptSmall(ct, [generateKeyPair().identity])).rejects.toSatisfy(
      (e) => ageFailureOf(e) === "no_identity",
    );
    const cut = ct.subarray(0, ct.length - 1);
    await expect(decryptSmall(cut, [generateKeyPair().identity])).rejects.toSatisfy(
      (e) => ageFailureOf(e) === "no_identity",
    );
  });

  it("reports a tampered payload", async () => {
    const dev = generateKeyPair();
    const ct = await encryptSmall("secret", [dev.recipient]);
    const bad = Uint8Array.from(ct);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    await expect(decryptSmall(bad, [dev.identity])).rejects.toSatisfy((e) => ageFailureOf(e) === "tampered");
  });
});
