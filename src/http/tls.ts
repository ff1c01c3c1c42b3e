// @peculiar/x509 uses tsyringe, which needs the Reflect metadata polyfill loaded first.
import "reflect-metadata";
import { randomBytes, webcrypto, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  BasicConstraintsExtension,
  cryptoProvider,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
} from "@peculiar/x509";

export interface TlsMaterial {
  cert: string;
  key: string;
  fingerprint: string;
  generated: boolean;
  source: string;
}

cryptoProvider.set(webcrypto as unknown as Crypto);

const pem = (label: string, der: ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString("base64")
    .match(/.{1,64}/g)!
    .join("\n")}\n-----END ${label}-----\n`;

export const sha256Fingerprint = (certPem: string) => new X509Certificate(certPem).fingerprint256; // "AB:CD:..." as browsers show it

/**
 * HTTPS by default: the configured certificate, or one generated once (ECDSA P-256, valid 365 days —
 * Mozilla's intermediate profile wants at most 366 — for
 * localhost and the bind host) and reused from the data directory on every later start.
 */
export async function loadOrCreateTls(opts: {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  dataDir: string;
  hostnames: string[];
  now: Date;
}): Promise<TlsMaterial> {
  if (opts.certFile && opts.keyFile) {
    const cert = await readFile(opts.certFile, "utf8");
    const key = await readFile(opts.keyFile, "utf8");
    return { cert, key, fingerprint: sha256Fingerprint(cert), generated: false, source: opts.certFile };
  }
  const dir = path.join(opts.dataDir, "tls");
  const certPath = path.join(dir, "cert.pem");
  const keyPath = path.join(dir, "key.pem");
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = await readFile(certPath, "utf8");
    const cur = new X509Certificate(cert);
    if (new Date(cur.validTo) > new Date(opts.now.getTime() + 7 * 86400_000)) {
      return {
        cert,
        key: await readFile(keyPath, "utf8"),
        fingerprint: cur.fingerprint256,
        generated: false,
        source: certPath,
      };
    }
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const names = [...new Set(["localhost", ...opts.hostnames])];
  const ips = names.filter((n) => /^[\d.]+$/.test(n) || n.includes(":"));
  const dns = names.filter((n) => !ips.includes(n));
  const cert = await X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16)
      .toString("hex")
      .replace(/^[89a-f]/, "1"),
    name: "CN=Warden (self-signed)",
    notBefore: new Date(opts.now.getTime() - 60_000),
    notAfter: new Date(opts.now.getTime() + 365 * 86400_000 - 60_000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
      new ExtendedKeyUsageExtension(["1.3.6.1.5.5.7.3.1"]),
      new SubjectAlternativeNameExtension([
        ...dns.map((value) => ({ type: "dns" as const, value })),
        ...["127.0.0.1", "::1", ...ips].map((value) => ({ type: "ip" as const, value })),
      ]),
    ],
  });
  const certPem = cert.toString("pem");
  const keyPem = pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  await writeFile(keyPath, keyPem, { mode: 0o600 });
  await writeFile(certPath, `${certPem}\n`, { mode: 0o644 });
  return {
    cert: certPem,
    key: keyPem,
    fingerprint: sha256Fingerprint(certPem),
    generated: true,
    source: certPath,
  };
}
