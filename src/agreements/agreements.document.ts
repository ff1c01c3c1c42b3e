import { createHash } from "node:crypto";
import { AppError } from "../core/errors.ts";

/**
 * A signed agreement must be a PDF, checked by its content rather than its claimed type or name:
 * ISO 32000-1 §7.5.2 puts the "%PDF-" header first, and §7.5.5 ends the file with "%%EOF" (writers may
 * add a line ending or a few bytes after it, so we look in the last 1 KiB, as readers do).
 */
export function checkPdf(bytes: Buffer): void {
  const header = bytes.subarray(0, 8).toString("latin1");
  const tail = bytes.subarray(Math.max(0, bytes.length - 1024)).toString("latin1");
  if (!/^%PDF-\d\.\d/.test(header) || !tail.includes("%%EOF")) {
    throw new AppError(
      "unsupported_media_type",
      "The signed document must be a PDF (it must start with %PDF- and end with %%EOF)",
    );
  }
}

export const sha256Hex = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** A display name safe to store and to send back in Content-Disposition: no path, no control characters. */
export function safeFilename(name: string | undefined): string {
  const base = (name ?? "").split(/[\\/]/).pop() ?? "";
  const cleaned = [...base]
    .filter((ch) => ch !== '"' && !/\p{Cc}/u.test(ch))
    .join("")
    .trim()
    .slice(0, 200);
  if (!cleaned || cleaned === "." || cleaned === "..") return "agreement.pdf";
  return /\.pdf$/i.test(cleaned) ? cleaned : `${cleaned}.pdf`;
}
