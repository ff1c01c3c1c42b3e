/**
 * Turns what the probes observed into findings with a stable rule id and a severity. The rule table is
 * also the SARIF rule list.
 */
import { HSTS_MIN_AGE_SECONDS } from "./grade.ts";
import type { Finding, Severity, TargetResult } from "./scan-tls.schemas.ts";

export const RULES: Record<string, { severity: Severity; title: string; help: string }> = {
  unreachable: {
    severity: "high",
    title: "Target unreachable",
    help: "The target did not resolve or did not answer; it was not assessed, which is not the same as secure.",
  },
  "scan-failed": {
    severity: "high",
    title: "Target could not be assessed",
    help: "The target answered, but not as the service it was scanned as (or the scan broke off); it was not assessed, which is not the same as secure. Check the address, port and scheme.",
  },
  "plaintext-http": {
    severity: "high",
    title: "Plain HTTP without redirect to HTTPS",
    help: "Answer plain HTTP only with a redirect (301/308) to the https:// URL.",
  },
  "no-tls": {
    severity: "high",
    title: "Endpoint does not offer TLS",
    help: "Enable TLS on this service or put a TLS-terminating proxy in front of it.",
  },
  "hsts-missing": {
    severity: "medium",
    title: "HSTS header missing",
    help: "Send Strict-Transport-Security: max-age=63072000 on every HTTPS response.",
  },
  "hsts-short": {
    severity: "low",
    title: "HSTS max-age shorter than 180 days",
    help: "Raise Strict-Transport-Security max-age to at least 15552000 (180 days); Mozilla recommends two years.",
  },
  "protocol-sslv3": {
    severity: "high",
    title: "SSLv3 supported",
    help: "Disable SSLv3 (POODLE); offer TLS 1.2 and TLS 1.3 only.",
  },
  "protocol-tls10": {
    severity: "medium",
    title: "TLS 1.0 supported",
    help: "Disable TLS 1.0 (deprecated by RFC 8996).",
  },
  "protocol-tls11": {
    severity: "medium",
    title: "TLS 1.1 supported",
    help: "Disable TLS 1.1 (deprecated by RFC 8996).",
  },
  "protocol-no-modern": {
    severity: "high",
    title: "Neither TLS 1.2 nor TLS 1.3 supported",
    help: "Enable TLS 1.2 and TLS 1.3.",
  },
  "protocol-no-tls13": { severity: "info", title: "TLS 1.3 not supported", help: "Enable TLS 1.3." },
  "cipher-null": {
    severity: "critical",
    title: "NULL cipher suites accepted (no encryption)",
    help: "Remove eNULL suites from the cipher list.",
  },
  "cipher-anonymous": {
    severity: "critical",
    title: "Anonymous cipher suites accepted (no authentication)",
    help: "Remove aNULL (ADH/AECDH) suites from the cipher list.",
  },
  "cipher-export": {
    severity: "critical",
    title: "Export-grade cipher suites accepted",
    help: "Remove EXPORT suites (FREAK, Logjam).",
  },
  "cipher-rc4": { severity: "high", title: "RC4 accepted", help: "Remove RC4 suites (RFC 7465)." },
  "cipher-3des": {
    severity: "medium",
    title: "64-bit block ciphers (3DES, DES, IDEA) accepted",
    help: "Remove 3DES/DES/IDEA suites (Sweet32).",
  },
  "cipher-cbc": {
    severity: "low",
    title: "CBC-mode cipher suites accepted",
    help: "Prefer AEAD suites (AES-GCM, ChaCha20-Poly1305); Mozilla intermediate has no CBC suite.",
  },
  "cipher-cbc-only": {
    severity: "medium",
    title: "Only CBC-mode cipher suites (no AEAD)",
    help: "Enable AES-GCM or ChaCha20-Poly1305 suites.",
  },
  "cipher-no-forward-secrecy": {
    severity: "low",
    title: "Suites without forward secrecy accepted",
    help: "Remove static RSA/DH/ECDH key-exchange suites; keep ECDHE/DHE.",
  },
  "no-forward-secrecy": {
    severity: "medium",
    title: "No forward secrecy",
    help: "Enable ECDHE (and DHE with ≥ 2048-bit groups) suites.",
  },
  "kx-weak-dh": {
    severity: "medium",
    title: "Weak Diffie-Hellman group",
    help: "Use DH groups of at least 2048 bits (ffdhe2048) or only ECDHE.",
  },
  "kx-weak-ec": {
    severity: "medium",
    title: "Weak elliptic curve",
    help: "Use X25519, P-256 or P-384.",
  },
  "no-fallback-scsv": {
    severity: "low",
    title: "No TLS_FALLBACK_SCSV downgrade protection",
    help: "Upgrade the TLS library; RFC 7507 support is standard.",
  },
  "no-secure-renegotiation": {
    severity: "low",
    title: "No secure renegotiation (RFC 5746)",
    help: "Upgrade the TLS library.",
  },
  "cert-expired": { severity: "critical", title: "Certificate expired", help: "Renew the certificate." },
  "cert-not-yet-valid": {
    severity: "high",
    title: "Certificate not yet valid",
    help: "Check the issuing clock or install the current certificate.",
  },
  "cert-expiring": {
    severity: "medium",
    title: "Certificate expires soon",
    help: "Renew the certificate (automate with ACME).",
  },
  "cert-self-signed": {
    severity: "high",
    title: "Self-signed certificate",
    help: "Use a certificate from a trusted (public or internal) CA. A self-signed certificate you trust on purpose (e.g. the one Warden generates, pinned by `warden login`) is not reported when the scan trusts it: --ca FILE or --pin SHA256.",
  },
  "cert-untrusted": {
    severity: "high",
    title: "Certificate chain not trusted",
    help: "Serve the full chain up to a trusted root; add internal CAs with --ca.",
  },
  "cert-name-mismatch": {
    severity: "high",
    title: "Certificate does not match the host name",
    help: "Issue a certificate whose subjectAltName covers the host clients use.",
  },
  "cert-weak-key": {
    severity: "high",
    title: "Weak certificate key",
    help: "Use RSA ≥ 2048 bits or ECDSA P-256/P-384.",
  },
  "cert-sha1-signature": {
    severity: "high",
    title: "Certificate signed with SHA-1 or MD5",
    help: "Reissue the certificate with a SHA-256 signature.",
  },
  "postgres-no-tls": {
    severity: "high",
    title: "PostgreSQL does not offer TLS",
    help: "Set ssl = on with a certificate in postgresql.conf.",
  },
  "postgres-plaintext": {
    severity: "medium",
    title: "PostgreSQL accepts plaintext connections",
    help: "Use hostssl (not host) lines in pg_hba.conf so plaintext startups are refused.",
  },
  "mysql-no-tls": {
    severity: "high",
    title: "MySQL does not offer TLS",
    help: "Configure ssl_cert/ssl_key on the server.",
  },
  "mysql-plaintext": {
    severity: "medium",
    title: "MySQL accepts plaintext logins",
    help: "Set require_secure_transport = ON.",
  },
  "redis-plaintext": {
    severity: "high",
    title: "Redis accepts plaintext connections",
    help: "Enable TLS (tls-port, port 0) and require authentication.",
  },
  "redis-no-auth": {
    severity: "critical",
    title: "Redis answers without authentication over plaintext",
    help: "Enable TLS and requirepass/ACLs; bind to trusted interfaces only.",
  },
};

function finding(id: string, detail: string, severity?: Severity): Finding {
  const rule = RULES[id]!;
  return { id, severity: severity ?? rule.severity, title: rule.title, detail };
}

const DAY = 86_400_000;

export function deriveFindings(
  t: Omit<TargetResult, "findings" | "grade" | "mozilla">,
  now: Date,
  expiryWarningDays: number,
): Finding[] {
  const out: Finding[] = [];
  if (t.status === "unreachable") {
    out.push(finding("unreachable", t.error ?? "no answer"));
    return out;
  }
  if (t.status === "error") {
    out.push(finding("scan-failed", t.error ?? "the scan failed"));
    return out;
  }
  const http = t.http;
  if (t.service === "http" && http) {
    if (!http.redirectsToHttps)
      out.push(
        finding(
          "plaintext-http",
          http.location
            ? `HTTP ${http.status} redirects to ${http.location}, which is not HTTPS`
            : `HTTP ${http.status} served over plaintext`,
        ),
      );
  }
  if (t.service === "https" && http && t.tls?.offered) {
    if (http.hstsMaxAge === undefined)
      out.push(finding("hsts-missing", "no Strict-Transport-Security header"));
    else if (http.hstsMaxAge < HSTS_MIN_AGE_SECONDS)
      out.push(
        finding("hsts-short", `max-age=${http.hstsMaxAge} (${Math.floor(http.hstsMaxAge / 86400)} days)`),
      );
  }

  const db = t.database;
  if (db?.service === "postgres") {
    if (!db.tlsOffered) out.push(finding("postgres-no-tls", "the server answered 'N' to SSLRequest"));
    if (db.plaintextAccepted) out.push(finding("postgres-plaintext", db.detail));
  }
  if (db?.service === "mysql") {
    if (!db.tlsOffered) out.push(finding("mysql-no-tls", "the greeting does not advertise CLIENT_SSL"));
    if (db.plaintextAccepted) out.push(finding("mysql-plaintext", db.detail));
  }
  if (db?.service === "redis" && db.plaintextAccepted) {
    out.push(
      db.unauthenticated ? finding("redis-no-auth", db.detail) : finding("redis-plaintext", db.detail),
    );
  }

  const tls = t.tls;
  const expectsTls = t.service === "https" || t.service === "tls" || t.service === "rediss";
  if (tls && !tls.offered && expectsTls) out.push(finding("no-tls", tls.noTlsReason ?? "no TLS handshake"));
  if (tls?.offered) {
    const offered = tls.protocols.filter((p) => p.supported);
    const names = new Set(offered.map((p) => p.protocol));
    if (names.has("SSLv3")) out.push(finding("protocol-sslv3", "the server accepted an SSL 3.0 ClientHello"));
    if (names.has("TLSv1.0"))
      out.push(finding("protocol-tls10", "the server accepted a TLS 1.0 ClientHello"));
    if (names.has("TLSv1.1"))
      out.push(finding("protocol-tls11", "the server accepted a TLS 1.1 ClientHello"));
    if (!names.has("TLSv1.2") && !names.has("TLSv1.3"))
      out.push(finding("protocol-no-modern", `offered: ${[...names].join(", ")}`));
    else if (!names.has("TLSv1.3")) out.push(finding("protocol-no-tls13", "TLS 1.3 ClientHello refused"));

    const suites = offered.flatMap((p) => p.suites.map((s) => ({ ...s, protocol: p.protocol })));
    const list = (w: string) => [
      ...new Set(suites.filter((s) => s.weaknesses.includes(w)).map((s) => s.name)),
    ];
    const weak: Array<[string, string]> = [
      ["NULL", "cipher-null"],
      ["anonymous", "cipher-anonymous"],
      ["export", "cipher-export"],
      ["RC4", "cipher-rc4"],
      ["64-bit block", "cipher-3des"],
    ];
    for (const [w, id] of weak) {
      const names = list(w);
      if (names.length) out.push(finding(id, names.join(", ")));
    }
    const modern = suites.filter((s) => s.protocol === "TLSv1.2" || s.protocol === "TLSv1.3");
    if (modern.length && !modern.some((s) => s.aead))
      out.push(finding("cipher-cbc-only", "no AEAD suite accepted on TLS 1.2/1.3"));
    else if (list("CBC").length) out.push(finding("cipher-cbc", list("CBC").join(", ")));
    if (!suites.some((s) => s.forwardSecrecy))
      out.push(finding("no-forward-secrecy", "no ECDHE/DHE suite accepted"));
    else if (list("no forward secrecy").length)
      out.push(finding("cipher-no-forward-secrecy", list("no forward secrecy").join(", ")));
    if (tls.minDhBits !== undefined && tls.minDhBits < 2048)
      out.push(
        finding("kx-weak-dh", `DH group of ${tls.minDhBits} bits`, tls.minDhBits < 1024 ? "high" : "medium"),
      );
    const weakCurves = [
      ...new Set(suites.filter((s) => s.groupBits !== undefined && s.groupBits < 224).map((s) => s.group)),
    ];
    if (weakCurves.length) out.push(finding("kx-weak-ec", `curves: ${weakCurves.join(", ")}`));
    if (tls.fallbackScsv === false)
      out.push(finding("no-fallback-scsv", "a lower-version hello with TLS_FALLBACK_SCSV was accepted"));
    if (tls.secureRenegotiation === false)
      out.push(finding("no-secure-renegotiation", "no renegotiation_info extension in the ServerHello"));
  }

  const cert = t.certificate;
  if (cert) {
    const notAfter = Date.parse(cert.notAfter);
    const notBefore = Date.parse(cert.notBefore);
    const nowMs = now.getTime();
    if (notAfter < nowMs) out.push(finding("cert-expired", `expired on ${cert.notAfter}`));
    else if (notAfter - nowMs < expiryWarningDays * DAY)
      out.push(
        finding(
          "cert-expiring",
          `expires on ${cert.notAfter} (${Math.floor((notAfter - nowMs) / DAY)} days)`,
        ),
      );
    if (notBefore > nowMs) out.push(finding("cert-not-yet-valid", `valid from ${cert.notBefore}`));
    // A self-signed certificate the scan was told to trust (--ca with it, or its pin) is no finding.
    if (cert.selfSigned && cert.trusted !== true)
      out.push(finding("cert-self-signed", `subject ${cert.subject}`));
    else if (
      cert.trustError &&
      cert.trustError !== "CERT_HAS_EXPIRED" &&
      cert.trustError !== "CERT_NOT_YET_VALID"
    )
      out.push(finding("cert-untrusted", cert.trustError));
    if (cert.nameMatches === false)
      out.push(
        finding(
          "cert-name-mismatch",
          `${t.host} is not in ${cert.subjectAltNames.join(", ") || cert.subject}`,
        ),
      );
    const weakKey =
      ((cert.keyType === "rsa" || cert.keyType === "rsa-pss" || cert.keyType === "dsa") &&
        cert.keyBits < 2048) ||
      (cert.keyType === "ec" && cert.keyBits < 224);
    if (weakKey) out.push(finding("cert-weak-key", `${cert.keyType.toUpperCase()} ${cert.keyBits} bits`));
    if (["SHA-1", "MD5", "MD2"].includes(cert.signatureHash))
      out.push(finding("cert-sha1-signature", cert.signatureAlgorithm));
  }
  return out;
}
