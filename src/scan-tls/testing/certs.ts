/** Test certificates made with @peculiar/x509 (which needs the reflect-metadata polyfill loaded first). */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const subtle = webcrypto.subtle;

export interface KeyPairPem {
  keys: CryptoKeyPair;
  keyPem: string;
}

export type KeySpec = { type: "rsa"; bits: number } | { type: "ec"; curve: "P-256" | "P-384" };

export interface IssuedCert {
  certPem: string;
  keyPem: string;
  keys: CryptoKeyPair;
  cert: x509.X509Certificate;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

async function generateKeys(spec: KeySpec, hash: "SHA-1" | "SHA-256"): Promise<CryptoKeyPair> {
  const algorithm =
    spec.type === "rsa"
      ? {
          name: "RSASSA-PKCS1-v1_5",
          modulusLength: spec.bits,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash,
        }
      : { name: "ECDSA", namedCurve: spec.curve };
  return (await subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
}

const DAY = 86_400_000;

export interface CertOptions {
  commonName: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Days relative to now; negative for the past. */
  notBeforeDays?: number;
  notAfterDays?: number;
  key?: KeySpec;
  hash?: "SHA-1" | "SHA-256";
  /** Signed by this CA; self-signed when absent. */
  issuer?: IssuedCert;
  isCa?: boolean;
}

let serial = 1;

export async function issueCertificate(options: CertOptions): Promise<IssuedCert> {
  const hash = options.hash ?? "SHA-256";
  const keySpec = options.key ?? { type: "rsa", bits: 2048 };
  const keys = await generateKeys(keySpec, hash);
  const now = Date.now();
  const signerKeys = options.issuer?.keys ?? keys;
  const signerAlg = signerKeys.privateKey.algorithm.name;
  const signingAlgorithm =
    signerAlg === "ECDSA" ? { name: "ECDSA", hash } : { name: "RSASSA-PKCS1-v1_5", hash };
  // WebCrypto binds an RSA key to one hash at import: re-import the signer's key for the requested hash.
  let signingKey = signerKeys.privateKey;
  if (signerAlg !== "ECDSA") {
    const pkcs8 = await subtle.exportKey("pkcs8", signingKey);
    signingKey = await subtle.importKey("pkcs8", pkcs8, { name: "RSASSA-PKCS1-v1_5", hash }, false, ["sign"]);
  }
  const names = [
    ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(Boolean(options.isCa), undefined, true),
    new x509.KeyUsagesExtension(
      options.isCa
        ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  if (!options.isCa) extensions.push(new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(4, "0"),
    subject: `CN=${options.commonName}`,
    issuer: options.issuer ? options.issuer.cert.subject : `CN=${options.commonName}`,
    notBefore: new Date(now + (options.notBeforeDays ?? -1) * DAY),
    notAfter: new Date(now + (options.notAfterDays ?? 200) * DAY),
    signingAlgorithm,
    publicKey: keys.publicKey,
    signingKey,
    extensions,
  });
  const pkcs8 = await subtle.exportKey("pkcs8", keys.privateKey);
  return { certPem: cert.toString("pem"), keyPem: toPem(pkcs8, "PRIVATE KEY"), keys, cert };
}

export function createCa(commonName = "Warden Test CA"): Promise<IssuedCert> {
  return issueCertificate({ commonName, isCa: true, notAfterDays: 3650 });
}
