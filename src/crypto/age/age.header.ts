/**
 * Strict parser for the age v1 header (https://c2sp.org/age#header). Browser-safe: no Node imports.
 *
 * Written here rather than taken from typage because typage's package exports do not include its
 * header parser, and the server needs to check an upload's header without any identity and say
 * precisely what is wrong with it. The rules follow the spec's ABNF and the C2SP/CCTV testkit:
 * LF-only lines, printable ASCII, canonical unpadded base64, body lines of at most 64 columns ending
 * with a short line, and the native stanza types' own argument and body checks.
 */
import { base64nopad } from "@scure/base";
import { ageError } from "./age.errors.ts";

export interface AgeStanza {
  /** The first argument, e.g. "X25519", "ssh-ed25519", "scrypt" or a plugin's name. */
  readonly type: string;
  /** The arguments after the type. */
  readonly args: readonly string[];
  readonly body: Uint8Array;
}

export interface AgeHeader {
  readonly stanzas: readonly AgeStanza[];
  readonly mac: Uint8Array;
  /** The header exactly as read, from the version line through the MAC line's LF. */
  readonly bytes: Uint8Array;
}

export const AGE_VERSION_LINE = "age-encryption.org/v1";
const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const LF = 0x0a;
const CR = 0x0d;
const BODY_COLUMNS = 64;
/** age's Go implementation refuses scrypt work factors above 2^22 too (testkit: scrypt_work_factor_23). */
export const MAX_SCRYPT_LOG_N = 22;

const base64Line = /^[A-Za-z0-9+/]*$/;

function malformed(message: string) {
  return ageError("malformed_header", `Malformed age header: ${message}`);
}

function decodeBase64(text: string, what: string): Uint8Array {
  if (!base64Line.test(text)) throw malformed(`${what} is not unpadded base64`);
  try {
    return base64nopad.decode(text);
  } catch {
    throw malformed(`${what} is not canonical base64`);
  }
}

function asciiLine(bytes: Uint8Array, start: number, end: number, lineNo: number): string {
  let s = "";
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b === CR) throw malformed(`line ${lineNo} ends with CR; header lines end with LF only`);
    if (b < 0x20 || b > 0x7e) throw malformed(`line ${lineNo} contains a non-printable byte`);
    s += String.fromCharCode(b);
  }
  return s;
}

/**
 * Parses the header at the start of `bytes`. Returns null when the bytes so far are a valid prefix of a
 * header but it is not complete yet (more input is needed); throws an AppError (reason
 * `not_age`, `armored`, `unsupported_version` or `malformed_header`) as soon as the input cannot be one.
 * With `atEnd`, an incomplete header is reported as malformed instead of returning null.
 */
export function tryParseHeader(
  bytes: Uint8Array,
  atEnd = false,
): { header: AgeHeader; length: number; macLineStart: number } | null {
  if (looksArmored(bytes)) throw armoredError();
  // Judge the first bytes before any line syntax, so that a PNG or a ZIP is "not an age file".
  const head = asciiPrefix(bytes, 0).split("\n")[0]!;
  const n = Math.min(head.length, AGE_VERSION_LINE.length);
  if (head.slice(0, n) !== AGE_VERSION_LINE.slice(0, n)) checkVersion(head);
  let pos = 0;
  let lineNo = 0;
  const incomplete = (what: string) => {
    if (atEnd) throw malformed(`the input ends inside the header (${what})`);
    return null;
  };
  // Returns the next line without its LF, or null when no LF has arrived yet (after checking the
  // partial line so that garbage fails fast instead of waiting for the size limit).
  const nextLine = (): string | null => {
    lineNo++;
    const lf = bytes.indexOf(LF, pos);
    if (lf === -1) {
      checkPrefix(asciiPrefix(bytes, pos), lineNo);
      return null;
    }
    const line = asciiLine(bytes, pos, lf, lineNo);
    pos = lf + 1;
    return line;
  };

  const first = nextLine();
  if (first === null) return incomplete("version line");
  checkVersion(first);

  const stanzas: AgeStanza[] = [];
  for (;;) {
    const lineStart = pos;
    const line = nextLine();
    if (line === null) return incomplete("expected a stanza or the MAC line");
    if (line.startsWith("---")) {
      const m = /^--- ([A-Za-z0-9+/]{43})$/.exec(line);
      if (!m) throw malformed("the MAC line must be '--- ' followed by 43 base64 characters");
      const mac = decodeBase64(m[1]!, "the header MAC");
      if (stanzas.length === 0) throw malformed("the header has no recipient stanza");
      checkStanzaSet(stanzas);
      return {
        header: { stanzas, mac, bytes: new Uint8Array(bytes.subarray(0, pos)) },
        length: pos,
        macLineStart: lineStart,
      };
    }
    if (!line.startsWith("->")) {
      throw malformed(`line ${lineNo} should start a stanza ('-> ') or be the MAC line ('--- ')`);
    }
    if (!line.startsWith("-> ")) throw malformed(`stanza on line ${lineNo} has no arguments`);
    const args = line.slice(3).split(" ");
    if (args.some((a) => a.length === 0)) throw malformed(`stanza on line ${lineNo} has an empty argument`);
    const bodyParts: Uint8Array[] = [];
    for (;;) {
      const bodyLine = nextLine();
      if (bodyLine === null) return incomplete("inside a stanza body");
      if (bodyLine.length > BODY_COLUMNS) {
        throw malformed(`body line ${lineNo} is longer than ${BODY_COLUMNS} columns`);
      }
      bodyParts.push(decodeBase64(bodyLine, `body line ${lineNo}`));
      if (bodyLine.length < BODY_COLUMNS) break;
    }
    const stanza: AgeStanza = { type: args[0]!, args: args.slice(1), body: concat(bodyParts) };
    checkKnownStanza(stanza);
    stanzas.push(stanza);
  }
}

/** Parses a complete header at the start of `bytes` (anything after it is ignored). */
export function parseHeader(bytes: Uint8Array): { header: AgeHeader; length: number } {
  const r = tryParseHeader(bytes, true)!;
  return { header: r.header, length: r.length };
}

function asciiPrefix(bytes: Uint8Array, pos: number): string {
  const end = Math.min(bytes.length, pos + ARMOR_BEGIN.length);
  let s = "";
  for (let i = pos; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function checkPrefix(partial: string, lineNo: number): void {
  if (lineNo !== 1) return;
  if (AGE_VERSION_LINE.startsWith(partial) || ARMOR_BEGIN.startsWith(partial)) return;
  checkVersion(partial);
}

function armoredError() {
  return ageError(
    "armored",
    "This is an ASCII-armored age file (age -a); streaming decryption takes the binary format (age without -a)",
  );
}

/** True when the input starts, after optional whitespace, with the armor's BEGIN line. */
function looksArmored(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && i < 64 && (bytes[i] === 0x20 || (bytes[i]! >= 0x09 && bytes[i]! <= 0x0d))) i++;
  return asciiPrefix(bytes, i) === ARMOR_BEGIN;
}

function checkVersion(line: string): void {
  if (line === AGE_VERSION_LINE) return;
  if (line.startsWith("age-encryption.org/") && line.length > "age-encryption.org/".length) {
    throw ageError(
      "unsupported_version",
      `Unsupported age format version "${line.slice(19, 40)}"; only v1 is known`,
    );
  }
  if (AGE_VERSION_LINE.startsWith(line)) throw malformed("the version line is incomplete");
  throw ageError(
    "not_age",
    "This is not an age-encrypted file (it does not start with age-encryption.org/v1)",
  );
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Only the length: the low-order (all-zero shared secret) check needs a scalar multiplication
 * (milliseconds in JavaScript), which would let a header of many stanzas cost seconds to parse; the
 * identities make it when they unwrap (typage and age.ssh.ts refuse an all-zero secret).
 */
function checkShare(arg: string | undefined, what: string): void {
  const share = decodeBase64(arg ?? "", what);
  if (share.length !== 32) throw malformed(`${what} must be 32 bytes, got ${share.length}`);
}

/** The argument and body checks the spec makes identities apply to the native stanza types. */
function checkKnownStanza(s: AgeStanza): void {
  const bodyIs32 = () => {
    if (s.body.length !== 32)
      throw malformed(`the ${s.type} stanza body must be 32 bytes, got ${s.body.length}`);
  };
  switch (s.type) {
    case "X25519":
      if (s.args.length !== 1) throw malformed("an X25519 stanza takes exactly one argument (the share)");
      checkShare(s.args[0], "the X25519 ephemeral share");
      bodyIs32();
      return;
    case "ssh-ed25519": {
      if (s.args.length !== 2)
        throw malformed("an ssh-ed25519 stanza takes exactly two arguments (tag, share)");
      const tag = decodeBase64(s.args[0]!, "the ssh-ed25519 key tag");
      if (tag.length !== 4) throw malformed("the ssh-ed25519 key tag must be 4 bytes");
      checkShare(s.args[1], "the ssh-ed25519 ephemeral share");
      bodyIs32();
      return;
    }
    case "scrypt": {
      if (s.args.length !== 2)
        throw malformed("an scrypt stanza takes exactly two arguments (salt, work factor)");
      const salt = decodeBase64(s.args[0]!, "the scrypt salt");
      if (salt.length !== 16) throw malformed("the scrypt salt must be 16 bytes");
      const logN = s.args[1]!;
      if (!/^[1-9][0-9]*$/.test(logN)) throw malformed("the scrypt work factor must be a decimal number");
      if (Number(logN) > MAX_SCRYPT_LOG_N) {
        throw malformed(`the scrypt work factor 2^${logN} is above the limit 2^${MAX_SCRYPT_LOG_N}`);
      }
      bodyIs32();
      return;
    }
    default:
  }
}

function checkStanzaSet(stanzas: AgeStanza[]): void {
  if (stanzas.length > 1 && stanzas.some((s) => s.type === "scrypt")) {
    throw malformed("an scrypt (passphrase) stanza must be the only stanza in the header");
  }
}
