import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { withBase62Crc32 } from "./scan-files.checks.ts";
import { scanFileSync } from "./scan-files.reader.ts";
import { matcherFor } from "./scan-files.worker.ts";

const GH = withBase62Crc32("ghp_", "Qw8Er4Ty6Ui2Op0As1Df3Gh5Jk7Lz9");
const dir = mkdtempSync(join(tmpdir(), "warden-reader-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Scans `bytes` as a file and lists its secrets as "line:column". */
function secretsIn(name: string, bytes: Buffer): string[] {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const r = scanFileSync(path, name, matcherFor())!;
  expect(r.skipped.filter((s) => !s.reason.startsWith("not valid UTF-8"))).toEqual([]);
  return r.findings.filter((f) => f.type === "secret").map((f) => `${f.line}:${f.column}`);
}

/** Where each token line of `text` is ("line:column" of the token), computed on the text itself. */
function expected(text: string): string[] {
  return text.split("\n").flatMap((l, i) => (l.includes(GH) ? [`${i + 1}:${l.indexOf(GH) + 1}`] : []));
}

describe("reading files in chunks", () => {
  // Lines of two- and four-byte characters, so that 1 MiB chunks end inside a character and the carry
  // between chunks holds some, with a token every few hundred lines, one of them right after 1 MiB. The
  // tokens start their line: a keyword occurrence placed even one character early would put the
  // pattern's window on the line before, and the token would be missed.
  const line = (i: number) => (i % 397 === 5 ? `${GH} = token${i} é😀` : `// ${"é😀ü".repeat(20)} ${i}`);

  it("finds every secret of a UTF-8 file larger than a chunk, at its line and column", () => {
    const lines = Array.from({ length: 14_000 }, (_, i) => line(i));
    const text = lines.join("\n");
    const bytes = Buffer.from(text, "utf8");
    expect(bytes.length).toBeGreaterThan(2 * 1024 * 1024);
    expect(secretsIn("big-utf8.ts", bytes)).toEqual(expected(text));
  });

  it("counts columns after a byte-order mark as the decoded text does", () => {
    const text = `// ü\nconst a = "${GH}";\n`;
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")]);
    expect(secretsIn("bom.ts", withBom)).toEqual(expected(text));
  });

  it("finds secrets in a large file that stops being valid UTF-8 past its first chunk", () => {
    const lines = Array.from({ length: 14_000 }, (_, i) => line(i));
    const text = lines.join("\n");
    const bytes = Buffer.from(text, "utf8");
    // A stray byte in the second chunk, on a line without a token: decoded as U+FFFD, one character.
    const at = bytes.indexOf("// é", 1024 * 1024 + 100);
    bytes[at + 1] = 0xff;
    expect(secretsIn("broken-utf8.ts", bytes)).toEqual(expected(text));
  });
});
