import { crc32 } from "node:zlib";

/**
 * Small pure checks the rules and the sensitive-data detectors share: entropy, checksums, placeholders.
 * They are hand-written because each is a few lines and no maintained library bundles them together.
 */

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / value.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function base62(n: number, width: number): string {
  let out = "";
  let v = n >>> 0;
  while (v > 0) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, "0");
}

/**
 * GitHub and npm tokens end in a CRC32 of the random part written in base62 on 6 characters
 * (github.blog 2021-04-05 "Behind GitHub's new authentication token formats").
 */
export function hasBase62Crc32Suffix(token: string, prefixLength: number): boolean {
  const body = token.slice(prefixLength, -6);
  const sum = token.slice(-6);
  return base62(crc32(body), 6) === sum;
}

export function withBase62Crc32(prefix: string, random30: string): string {
  return `${prefix}${random30}${base62(crc32(random30), 6)}`;
}

/** Luhn (ISO/IEC 7812) check for card numbers. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** ISO 13616 IBAN check digits (mod 97 == 1). */
export function ibanValid(iban: string): boolean {
  const s = iban.replace(/\s+/g, "").toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const part = code >= 65 ? String(code - 55) : ch;
    for (const d of part) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

/** Values documented by providers as examples: never findings. */
export const KNOWN_EXAMPLES = new Set([
  "AKIAIOSFODNN7EXAMPLE",
  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "AKIAI44QH8DHBEXAMPLE",
  "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
  "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
  "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
  "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
  "gho_16C7e42F292c6912E7710c838347Ae178B4a",
  "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
  "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",
  "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1",
]);

const PLACEHOLDER_PARTS = [
  "example",
  "xxxxx",
  "*****",
  "<",
  ">",
  "${",
  "{{",
  "$(",
  "%s",
  "your_",
  "your-",
  "yourkey",
  "yourtoken",
  "placeholder",
  "changeme",
  "change_me",
  "change-me",
  "dummy",
  "redacted",
  "replace_me",
  "replaceme",
  "insert_",
  "fake",
  "foobar",
  "notreal",
  "not_real",
  "0123456789",
  "123456789",
  "abcdefghij",
  "abcdef123456",
];

/** True when a value is plainly not a real secret (documentation placeholder, template, repeated filler). */
export function looksLikePlaceholder(value: string): boolean {
  if (KNOWN_EXAMPLES.has(value)) return true;
  const lower = value.toLowerCase();
  for (const p of PLACEHOLDER_PARTS) if (lower.includes(p)) return true;
  if (/(.)\1{7,}/.test(value)) return true;
  return false;
}

const GENERIC_STOPWORDS = [
  "password",
  "passwd",
  "secret",
  "token",
  "apikey",
  "api_key",
  "sample",
  "mock",
  "test",
  "todo",
  "null",
  "undefined",
  "none",
  "true",
  "false",
];

/** Stricter filter for the generic, name-based rules, where words in the value betray a non-secret. */
export function looksLikeGenericNonSecret(value: string): boolean {
  if (looksLikePlaceholder(value)) return true;
  const lower = value.toLowerCase();
  for (const w of GENERIC_STOPWORDS) if (lower.includes(w)) return true;
  // Environment references and code: $VAR, %VAR%, process.env.X, a.b.c property paths, function calls.
  if (/^[$%]/.test(value) || /%[A-Z_]+%/.test(value)) return true;
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value)) return true;
  // Lockfile / subresource-integrity hashes.
  if (/^(?:sha1|sha256|sha384|sha512|md5)[-:]/i.test(value) || /^h1:/.test(value)) return true;
  return false;
}

export function charClasses(value: string): number {
  let n = 0;
  if (/[a-z]/.test(value)) n++;
  if (/[A-Z]/.test(value)) n++;
  if (/\d/.test(value)) n++;
  if (/[^A-Za-z0-9]/.test(value)) n++;
  return n;
}

/** base64 or base64url decode that returns null instead of throwing. */
export function decodeBase64(value: string): Buffer | null {
  try {
    const b = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    return b.length > 0 ? b : null;
  } catch {
    return null;
  }
}
