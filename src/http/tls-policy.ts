import type { SecureContextOptions, TlsOptions } from "node:tls";

/**
 * Warden's HTTPS follows Mozilla's Server Side TLS "intermediate" configuration (guidelines 5.7,
 * https://ssl-config.mozilla.org/guidelines/5.7.json): TLS 1.2 and 1.3 only, AEAD suites with forward
 * secrecy, curves X25519/P-256/P-384, DHE only with a 2048-bit or larger well-known group, and the
 * client's cipher preference (every suite offered is strong). HSTS for two years is set by the HTTP
 * layer (src/http/server.ts).
 */
export const MOZILLA_INTERMEDIATE_TLS13_SUITES = [
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
] as const;

/** OpenSSL names, in Mozilla's order. */
export const MOZILLA_INTERMEDIATE_TLS12_SUITES = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "DHE-RSA-AES128-GCM-SHA256",
  "DHE-RSA-AES256-GCM-SHA384",
  "DHE-RSA-CHACHA20-POLY1305",
] as const;

export const MOZILLA_INTERMEDIATE_CURVES = ["X25519", "prime256v1", "secp384r1"] as const;

/** Two years, as Mozilla recommends (the scanner warns below 180 days). */
export const HSTS_MAX_AGE_SECONDS = 63_072_000;

export function serverTlsOptions(): TlsOptions & SecureContextOptions {
  return {
    minVersion: "TLSv1.2",
    maxVersion: "TLSv1.3",
    ciphers: [...MOZILLA_INTERMEDIATE_TLS13_SUITES, ...MOZILLA_INTERMEDIATE_TLS12_SUITES].join(":"),
    ecdhCurve: MOZILLA_INTERMEDIATE_CURVES.join(":"),
    // OpenSSL picks a well-known group matching the certificate's strength (>= 2048 bits): RFC 7919.
    dhparam: "auto",
    honorCipherOrder: false,
  };
}
