import { describe, expect, it } from "vitest";
import { checkPdf, safeFilename } from "./agreements.document.ts";

describe("checkPdf", () => {
  it("accepts a PDF with its header and trailer, even with a line ending after %%EOF", () => {
    expect(() => checkPdf(Buffer.from("%PDF-1.4\n...\n%%EOF\r\n"))).not.toThrow();
  });
  it.each([
    ["a PNG", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
    ["a PDF header with no trailer (truncated)", Buffer.from("%PDF-1.7\n1 0 obj")],
    ["HTML that mentions %PDF- later", Buffer.from("<html>%PDF-1.7 %%EOF</html>")],
    ["an empty file", Buffer.alloc(0)],
    [
      "a trailer far before the end",
      Buffer.concat([Buffer.from("%PDF-1.7\n%%EOF\n"), Buffer.alloc(2048, 0x20)]),
    ],
  ])("refuses %s with 415", (_name, bytes) => {
    expect(() => checkPdf(bytes)).toThrow(expect.objectContaining({ code: "unsupported_media_type" }));
  });
});

describe("safeFilename", () => {
  it.each([
    ["../../etc/passwd", "passwd.pdf"],
    ["C:\\Users\\a\\NDA signed.PDF", "NDA signed.PDF"],
    ['evil"\r\nX-Header: 1.pdf', "evilX-Header: 1.pdf"],
    [undefined, "agreement.pdf"],
    ["..", "agreement.pdf"],
  ])("turns %j into %j", (input, output) => {
    expect(safeFilename(input)).toBe(output);
  });
});
