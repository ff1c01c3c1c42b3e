/**
 * A grade on the SSL Labs scale. The rubric (also in docs/scan-tls.md):
 *
 * 1. Numeric score, SSL Labs "SSL Server Rating Guide" (2009q): 30% protocol support, 30% key exchange,
 *    40% cipher strength.
 *    - protocol: average of the best and worst protocol offered (SSLv3 80, TLS 1.0 90, TLS 1.1 95,
 *      TLS 1.2/1.3 100);
 *    - key exchange: the weakest one offered, as RSA-equivalent bits (static RSA/ECDH: certificate key;
 *      DHE: prime size; ECDHE/TLS 1.3: curve via NIST SP 800-57, 256-bit curve = 3072): anonymous 0,
 *      export 40, <512 20, <1024 40, <2048 80, <4096 90, otherwise 100;
 *    - cipher: average of the strongest and weakest cipher (0 bits 0, <128 20, <256 80, 256 100).
 *    Letters: ≥80 A, ≥65 B, ≥50 C, ≥35 D, ≥20 E, else F.
 * 2. Caps from SSL Labs' published grading changes (2014–2020), as far as our probes observe them:
 *    F: NULL, anonymous or export suites, DH < 1024 bits, certificate key < 1024 bits.
 *    C: SSLv3 (POODLE), RC4, a 64-bit block cipher (3DES…) on TLS 1.1 or later (Sweet32), neither
 *       TLS 1.2 nor TLS 1.3.
 *    B: TLS 1.0 or TLS 1.1, DH < 2048 bits, certificate key < 2048 bits, no forward-secret suite.
 *    A-: no AEAD suite, no TLS_FALLBACK_SCSV support, no secure renegotiation (≤ TLS 1.2).
 * 3. A+ when the result is A with no cap and HSTS max-age ≥ 180 days (HTTPS targets only).
 * 4. Trust: an expired, not yet valid, untrusted or SHA-1-signed certificate gives "T", and so does a
 *    self-signed one unless the scan was told to trust it (--ca with that certificate, or its pin);
 *    a name mismatch gives "M". `gradeIgnoringTrust` keeps the grade the configuration would get.
 * Not covered: SSLv2, renegotiation/compression/Heartbleed-class vulnerabilities, client simulations.
 */
import type { TargetResult } from "./scan-tls.schemas.ts";

export const HSTS_MIN_AGE_SECONDS = 180 * 24 * 3600;

type Grade = NonNullable<TargetResult["grade"]>;
type Tls = NonNullable<TargetResult["tls"]>;
type Suite = Tls["protocols"][number]["suites"][number];

const LETTERS = ["F", "E", "D", "C", "B", "A-", "A", "A+"] as const;
type Letter = (typeof LETTERS)[number];
const rank = (l: Letter) => LETTERS.indexOf(l);
const lower = (a: Letter, b: Letter): Letter => (rank(a) <= rank(b) ? a : b);

const PROTOCOL_SCORE: Record<string, number> = {
  SSLv3: 80,
  "TLSv1.0": 90,
  "TLSv1.1": 95,
  "TLSv1.2": 100,
  "TLSv1.3": 100,
};

/** NIST SP 800-57 Part 1 Table 2: elliptic-curve size to comparable RSA/DH size. */
export function ecToRsaBits(ecBits: number): number {
  if (ecBits >= 512) return 15360;
  if (ecBits >= 384) return 7680;
  if (ecBits >= 250) return 3072;
  if (ecBits >= 224) return 2048;
  if (ecBits >= 160) return 1024;
  return 512;
}

function kxStrength(suite: Suite, certKeyBits: number): number {
  if (suite.weaknesses.includes("anonymous")) return 0;
  if (suite.dhBits !== undefined) return suite.dhBits;
  if (suite.groupBits !== undefined)
    return suite.groupBits >= 1024 ? suite.groupBits : ecToRsaBits(suite.groupBits);
  return certKeyBits;
}

function kxScore(bits: number, exported: boolean): number {
  if (bits === 0) return 0;
  let score = bits < 512 ? 20 : bits < 1024 ? 40 : bits < 2048 ? 80 : bits < 4096 ? 90 : 100;
  if (exported) score = Math.min(score, 40);
  return score;
}

function cipherScore(bits: number): number {
  return bits === 0 ? 0 : bits < 128 ? 20 : bits < 256 ? 80 : 100;
}

function letterFor(score: number): Letter {
  return score >= 80
    ? "A"
    : score >= 65
      ? "B"
      : score >= 50
        ? "C"
        : score >= 35
          ? "D"
          : score >= 20
            ? "E"
            : "F";
}

export function gradeTarget(
  target: Pick<TargetResult, "tls" | "certificate" | "http" | "service">,
): Grade | undefined {
  const tls = target.tls;
  const offered = tls?.protocols.filter((p) => p.supported) ?? [];
  if (!tls || offered.length === 0) return undefined;
  const cert = target.certificate;
  const certKeyBits = cert ? (cert.keyType === "ec" ? ecToRsaBits(cert.keyBits) : cert.keyBits) : 2048;
  const suites = offered.flatMap((p) => p.suites);
  const names = new Set(offered.map((p) => p.protocol));

  const protocolScores = offered.map((p) => PROTOCOL_SCORE[p.protocol] ?? 0);
  const protocolScore = (Math.max(...protocolScores) + Math.min(...protocolScores)) / 2;
  const kxScores = suites.map((s) => kxScore(kxStrength(s, certKeyBits), s.weaknesses.includes("export")));
  const keyExchangeScore = kxScores.length ? Math.min(...kxScores) : 0;
  const bits = suites.map((s) => s.bits);
  const cipherScoreValue = bits.length
    ? (cipherScore(Math.max(...bits)) + cipherScore(Math.min(...bits))) / 2
    : 0;
  const score = Math.round(0.3 * protocolScore + 0.3 * keyExchangeScore + 0.4 * cipherScoreValue);

  let letter = letterFor(score);
  const caps: string[] = [];
  const cap = (to: Letter, reason: string) => {
    caps.push(`${reason}: capped at ${to}`);
    letter = lower(letter, to);
  };
  const has = (w: string) => suites.some((s) => s.weaknesses.includes(w));
  if (has("NULL")) cap("F", "NULL cipher suites accepted");
  if (has("anonymous")) cap("F", "anonymous (unauthenticated) suites accepted");
  if (has("export")) cap("F", "export suites accepted");
  if (tls.minDhBits !== undefined && tls.minDhBits < 1024) cap("F", `DH group of ${tls.minDhBits} bits`);
  if (cert && cert.keyType !== "ec" && cert.keyBits > 0 && cert.keyBits < 1024)
    cap("F", `certificate key of ${cert.keyBits} bits`);
  if (names.has("SSLv3")) cap("C", "SSLv3 supported (POODLE)");
  if (has("RC4")) cap("C", "RC4 accepted");
  const modernBlock64 = offered
    .filter((p) => p.protocol !== "SSLv3" && p.protocol !== "TLSv1.0")
    .some((p) => p.suites.some((s) => s.weaknesses.includes("64-bit block")));
  if (modernBlock64) cap("C", "64-bit block cipher (3DES) on TLS 1.1+ (Sweet32)");
  if (!names.has("TLSv1.2") && !names.has("TLSv1.3")) cap("C", "neither TLS 1.2 nor TLS 1.3");
  if (names.has("TLSv1.0") || names.has("TLSv1.1")) cap("B", "TLS 1.0/1.1 supported");
  if (tls.minDhBits !== undefined && tls.minDhBits >= 1024 && tls.minDhBits < 2048)
    cap("B", `DH group of ${tls.minDhBits} bits`);
  if (cert && cert.keyType !== "ec" && cert.keyBits >= 1024 && cert.keyBits < 2048)
    cap("B", `certificate key of ${cert.keyBits} bits`);
  if (!suites.some((s) => s.forwardSecrecy)) cap("B", "no forward-secret suite");
  if (!suites.some((s) => s.aead)) cap("A-", "no AEAD suite");
  if (tls.fallbackScsv === false) cap("A-", "no TLS_FALLBACK_SCSV downgrade protection");
  if (tls.secureRenegotiation === false) cap("A-", "no secure renegotiation (RFC 5746)");

  if (
    letter === "A" &&
    caps.length === 0 &&
    target.service === "https" &&
    (target.http?.hstsMaxAge ?? 0) >= HSTS_MIN_AGE_SECONDS
  ) {
    letter = "A+";
  }

  let grade: string = letter;
  if (cert) {
    const trustIssue =
      cert.trusted === false ||
      (cert.selfSigned && cert.trusted !== true) ||
      cert.signatureHash === "SHA-1" ||
      cert.signatureHash === "MD5";
    if (trustIssue) grade = "T";
    else if (cert.nameMatches === false) grade = "M";
  }
  return {
    grade,
    gradeIgnoringTrust: letter,
    score,
    protocolScore,
    keyExchangeScore,
    cipherScore: cipherScoreValue,
    caps,
  };
}
