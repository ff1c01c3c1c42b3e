/**
 * Recognises whether a private key block is protected by a passphrase. A passphrase-protected key is
 * not a leak of the key itself, so it is not reported. Formats: PKCS#1/SEC1 PEM (Proc-Type header),
 * PKCS#8 ("ENCRYPTED PRIVATE KEY"), OpenSSH (PROTOCOL.key: cipher name), OpenPGP (RFC 9580 §5.5.3:
 * S2K usage octet), PuTTY (Encryption header). Hand-written: no maintained library answers just this
 * question without parsing (and needing) the passphrase.
 */

export type KeyVerdict = "unencrypted" | "encrypted" | "invalid";

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/;

function pemBody(body: string): { headers: string; base64: string } {
  const lines = body.split(/\r?\n/);
  const headers: string[] = [];
  const data: string[] = [];
  for (const line of lines) {
    if (/^[A-Za-z-]+:/.test(line)) headers.push(line);
    else data.push(line.trim());
  }
  return { headers: headers.join("\n"), base64: data.join("") };
}

function isBase64(s: string): boolean {
  return s.length >= 64 && /^[A-Za-z0-9+/]+={0,2}$/.test(s);
}

export function privateKeyVerdict(block: string): KeyVerdict {
  if (block.startsWith("PuTTY-User-Key-File")) {
    const m = /Encryption: ([\w-]+)/.exec(block);
    if (!m) return "invalid";
    return m[1] === "none" ? "unencrypted" : "encrypted";
  }
  const m = PEM_BLOCK.exec(block);
  if (!m) return "invalid";
  const type = m[1]!;
  const { headers, base64 } = pemBody(m[2]!);
  if (type === "ENCRYPTED PRIVATE KEY") return isBase64(base64) ? "encrypted" : "invalid";
  if (type === "PGP PRIVATE KEY BLOCK") return pgpVerdict(base64AfterArmorHeaders(m[2]!));
  if (!isBase64(base64)) return "invalid";
  const der = Buffer.from(base64, "base64");
  if (type === "OPENSSH PRIVATE KEY") return opensshVerdict(der);
  if (/Proc-Type:\s*4,ENCRYPTED/i.test(headers)) return "encrypted";
  // PKCS#1, SEC1, PKCS#8 and DSA keys are DER SEQUENCEs.
  return der[0] === 0x30 ? "unencrypted" : "invalid";
}

function opensshVerdict(buf: Buffer): KeyVerdict {
  const magic = "openssh-key-v1\0";
  if (buf.length < magic.length + 8 || buf.toString("latin1", 0, magic.length) !== magic) return "invalid";
  const len = buf.readUInt32BE(magic.length);
  const start = magic.length + 4;
  if (len > 64 || start + len > buf.length) return "invalid";
  const cipher = buf.toString("latin1", start, start + len);
  return cipher === "none" ? "unencrypted" : "encrypted";
}

function base64AfterArmorHeaders(body: string): string {
  // Armor: header lines, a blank line, base64 lines, then "=XXXX" CRC24 line (RFC 9580 §6.2).
  const lines = body.split(/\r?\n/);
  const blank = lines.findIndex((l) => l.trim() === "");
  const data = (
    blank >= 0 && lines.slice(0, blank).some((l) => l.includes(":")) ? lines.slice(blank + 1) : lines
  )
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("="));
  return data.join("");
}

function pgpVerdict(base64: string): KeyVerdict {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return "invalid";
  const b = Buffer.from(base64, "base64");
  let p = 0;
  const first = b[p++];
  if (first === undefined || (first & 0x80) === 0) return "invalid";
  let tag: number;
  if (first & 0x40) {
    tag = first & 0x3f;
    const l0 = b[p++] ?? 0;
    if (l0 >= 192 && l0 < 224) p += 1;
    else if (l0 === 255) p += 4;
  } else {
    tag = (first >> 2) & 0x0f;
    const lt = first & 0x03;
    p += lt === 0 ? 1 : lt === 1 ? 2 : lt === 2 ? 4 : 0;
  }
  if (tag !== 5 && tag !== 7) return "invalid";
  const version = b[p++];
  p += 4; // creation time
  const algo = b[p++];
  if (version === undefined || algo === undefined) return "invalid";
  if (version === 5 || version === 6) {
    if (p + 4 > b.length) return "invalid";
    p += 4 + b.readUInt32BE(p);
  } else if (version === 4 || version === 3) {
    const mpi = () => {
      if (p + 2 > b.length) throw new Error("short");
      const bits = b.readUInt16BE(p);
      p += 2 + Math.ceil(bits / 8);
    };
    const oid = () => {
      const n = b[p++] ?? 0;
      p += n;
    };
    try {
      if (version === 3) p += 2; // validity days
      if (algo === 1 || algo === 2 || algo === 3) {
        mpi();
        mpi();
      } else if (algo === 16 || algo === 20) {
        mpi();
        mpi();
        mpi();
      } else if (algo === 17) {
        mpi();
        mpi();
        mpi();
        mpi();
      } else if (algo === 18) {
        oid();
        mpi();
        const kdf = b[p++] ?? 0;
        p += kdf;
      } else if (algo === 19 || algo === 22) {
        oid();
        mpi();
      } else if (algo === 25) p += 32;
      else if (algo === 27) p += 32;
      else if (algo === 26) p += 56;
      else if (algo === 28) p += 57;
      else return "invalid";
    } catch {
      return "invalid";
    }
  } else return "invalid";
  const usage = b[p];
  if (usage === undefined) return "invalid";
  return usage === 0 ? "unencrypted" : "encrypted";
}
