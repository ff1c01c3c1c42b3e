/**
 * Certificate retrieval with a full handshake through Node's `tls` (security level lowered so legacy
 * servers still answer; we verify nothing by rejecting, we only observe), and the checks on the chain:
 * validity window, trust, self-signature, name, key size, signature hash.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import tls from "node:tls";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Certificate } from "@peculiar/asn1-x509";
import type { Endpoint } from "./transport.ts";
import { openTlsTransport } from "./transport.ts";

export interface HandshakeResult {
  /** DER chain as sent by the server, leaf first. */
  chain: Buffer[];
  authorized: boolean;
  /** OpenSSL verification code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT. */
  authorizationError?: string;
  protocol?: string;
  cipher?: string;
}

/** Completes a TLS handshake and returns the chain and Node's verdict on it against the trust store. */
export async function fetchCertificateChain(
  endpoint: Endpoint,
  options: { serverName?: string; extraCa?: string[]; timeoutMs: number },
): Promise<HandshakeResult> {
  const raw = await openTlsTransport(endpoint, options.timeoutMs);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      socket: raw,
      servername: options.serverName,
      rejectUnauthorized: false,
      // Trust only: the name is checked separately (certificateMatchesName), so one does not mask the other.
      checkServerIdentity: () => undefined,
      minVersion: "TLSv1",
      ciphers: "ALL:@SECLEVEL=0",
      ca: options.extraCa?.length ? [...tls.rootCertificates, ...options.extraCa] : undefined,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      raw.destroy();
      reject(new Error(`TLS handshake did not finish within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const chain: Buffer[] = [];
      let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (cert?.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        chain.push(cert.raw);
        cert = cert.issuerCertificate;
      }
      const error = socket.authorizationError as unknown as Error | string | null;
      resolve({
        chain,
        authorized: socket.authorized,
        authorizationError: error ? String((error as { code?: string }).code ?? error) : undefined,
        protocol: socket.getProtocol() ?? undefined,
        cipher: socket.getCipher()?.standardName,
      });
      socket.destroy();
      raw.destroy();
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      raw.destroy();
      reject(error);
    });
  });
}

// Signature algorithm OIDs (RFC 3279, RFC 4055, RFC 5758, RFC 8410).
const SIGNATURE_ALGORITHMS: Record<string, { name: string; hash: string }> = {
  "1.2.840.113549.1.1.2": { name: "md2WithRSAEncryption", hash: "MD2" },
  "1.2.840.113549.1.1.4": { name: "md5WithRSAEncryption", hash: "MD5" },
  "1.2.840.113549.1.1.5": { name: "sha1WithRSAEncryption", hash: "SHA-1" },
  "1.2.840.113549.1.1.10": { name: "RSASSA-PSS", hash: "see parameters" },
  "1.2.840.113549.1.1.11": { name: "sha256WithRSAEncryption", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { name: "sha384WithRSAEncryption", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { name: "sha512WithRSAEncryption", hash: "SHA-512" },
  "1.2.840.10045.4.1": { name: "ecdsa-with-SHA1", hash: "SHA-1" },
  "1.2.840.10045.4.3.2": { name: "ecdsa-with-SHA256", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { name: "ecdsa-with-SHA384", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { name: "ecdsa-with-SHA512", hash: "SHA-512" },
  "1.2.840.10040.4.3": { name: "dsa-with-sha1", hash: "SHA-1" },
  "2.16.840.1.101.3.4.3.2": { name: "dsa-with-sha256", hash: "SHA-256" },
  "1.3.101.112": { name: "Ed25519", hash: "none" },
  "1.3.101.113": { name: "Ed448", hash: "none" },
};

export interface CertificateInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  subjectAltNames: string[];
  fingerprintSha256: string;
  keyType: string;
  /** RSA/DSA modulus bits, or the curve's field size for EC. */
  keyBits: number;
  curve?: string;
  signatureAlgorithm: string;
  signatureHash: string;
  selfSigned: boolean;
}

const CURVE_BITS: Record<string, number> = {
  prime256v1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp224r1: 224,
  prime192v1: 192,
  secp256k1: 256,
};

export function describeCertificate(der: Buffer): CertificateInfo {
  const cert = new X509Certificate(der);
  const asn = AsnConvert.parse(der, Certificate);
  const oid = asn.signatureAlgorithm.algorithm;
  const sig = SIGNATURE_ALGORITHMS[oid] ?? { name: oid, hash: "unknown" };
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const keyType = key.asymmetricKeyType ?? "unknown";
  let keyBits = details.modulusLength ?? 0;
  if (keyType === "ec") keyBits = CURVE_BITS[details.namedCurve ?? ""] ?? 0;
  if (keyType === "ed25519") keyBits = 256;
  if (keyType === "ed448") keyBits = 456;
  return {
    subject: cert.subject.replace(/\n/g, ", "),
    issuer: cert.issuer.replace(/\n/g, ", "),
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    subjectAltNames: cert.subjectAltName ? cert.subjectAltName.split(", ") : [],
    fingerprintSha256: cert.fingerprint256,
    keyType,
    keyBits,
    curve: details.namedCurve,
    signatureAlgorithm: sig.name,
    signatureHash: sig.hash,
    // Not X509_check_issued: it also demands keyCertSign, which self-signed leaf certificates often lack.
    selfSigned: cert.subject === cert.issuer && cert.verify(cert.publicKey),
  };
}

/** RFC 6125 name check through OpenSSL's X509_check_host / X509_check_ip. */
export function certificateMatchesName(der: Buffer, name: string): boolean {
  const cert = new X509Certificate(der);
  return isIP(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined;
}
