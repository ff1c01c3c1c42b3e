/**
 * Hand-built ClientHello messages and a hand-written parser for what a server answers (ServerHello,
 * HelloRetryRequest, Certificate, ServerKeyExchange, ServerHelloDone, alerts), as sslscan and testssl.sh
 * do. Written by hand on purpose: this is the scanner's core. Node's `tls` (and every maintained JS TLS
 * library) refuses to offer SSLv3, RC4, 3DES, NULL, anonymous or export suites, and hides TLS 1.0/1.1,
 * so it cannot tell us what a server would accept; we only need the first flight of the handshake, which
 * is plain bytes, and never complete a handshake here.
 *
 * References: RFC 5246 §6.2 and §7.4 (records, hello, key exchange), RFC 8446 §4.1 (TLS 1.3 hello,
 * HelloRetryRequest, supported_versions, key_share), RFC 6101 (SSL 3.0), RFC 6066 §3 (SNI), RFC 8422
 * (ECC), RFC 7507 (fallback SCSV).
 */
import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { EMPTY_RENEGOTIATION_INFO_SCSV, FALLBACK_SCSV } from "./cipher-suites.ts";

export const PROTOCOLS = ["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const PROTOCOL_VERSION: Record<Protocol, number> = {
  SSLv3: 0x0300,
  "TLSv1.0": 0x0301,
  "TLSv1.1": 0x0302,
  "TLSv1.2": 0x0303,
  "TLSv1.3": 0x0304,
};

export function protocolOfVersion(version: number): Protocol | undefined {
  return PROTOCOLS.find((p) => PROTOCOL_VERSION[p] === version);
}

const CONTENT_CHANGE_CIPHER_SPEC = 20;
const CONTENT_ALERT = 21;
const CONTENT_HANDSHAKE = 22;

const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE = 11;
const HS_SERVER_KEY_EXCHANGE = 12;
const HS_SERVER_HELLO_DONE = 14;

const EXT_SERVER_NAME = 0x0000;
const EXT_SUPPORTED_GROUPS = 0x000a;
const EXT_EC_POINT_FORMATS = 0x000b;
const EXT_SIGNATURE_ALGORITHMS = 0x000d;
const EXT_EXTENDED_MASTER_SECRET = 0x0017;
const EXT_SUPPORTED_VERSIONS = 0x002b;
const EXT_PSK_KEY_EXCHANGE_MODES = 0x002d;
const EXT_KEY_SHARE = 0x0033;

/** Named groups (IANA "TLS Supported Groups"); strongest first so a client-preferring server picks those. */
export const NAMED_GROUPS: Record<number, { name: string; bits: number }> = {
  29: { name: "x25519", bits: 253 },
  23: { name: "secp256r1", bits: 256 },
  24: { name: "secp384r1", bits: 384 },
  25: { name: "secp521r1", bits: 521 },
  30: { name: "x448", bits: 448 },
  22: { name: "secp256k1", bits: 256 },
  21: { name: "secp224r1", bits: 224 },
  20: { name: "secp224k1", bits: 224 },
  19: { name: "secp192r1", bits: 192 },
  18: { name: "secp192k1", bits: 192 },
  17: { name: "secp160r2", bits: 160 },
  16: { name: "secp160r1", bits: 160 },
  15: { name: "secp160k1", bits: 160 },
  256: { name: "ffdhe2048", bits: 2048 },
  257: { name: "ffdhe3072", bits: 3072 },
  258: { name: "ffdhe4096", bits: 4096 },
  259: { name: "ffdhe6144", bits: 6144 },
  260: { name: "ffdhe8192", bits: 8192 },
};
const OFFERED_GROUPS = [
  0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0016, 0x0015, 0x0014, 0x0013, 0x0012, 0x0011, 0x0010, 0x000f,
  0x0100, 0x0101, 0x0102, 0x0103, 0x0104,
];
// TLS 1.3 servers need at least one group from here to answer without a HelloRetryRequest.
const TLS13_GROUPS = [0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100, 0x0101, 0x0102];

// RFC 8446 §4.2.3 SignatureScheme values; SHA-1 ones last so legacy servers still find a match.
const SIGNATURE_SCHEMES = [
  0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501,
  0x0601, 0x0303, 0x0301, 0x0402, 0x0302, 0x0203, 0x0201, 0x0202,
];

/** RFC 8446 §4.1.3: a ServerHello carrying this random is a HelloRetryRequest. */
const HELLO_RETRY_RANDOM = Buffer.from(
  "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c",
  "hex",
);

function u8(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}
/** A vector with a 1-, 2- or 3-byte length prefix. */
function vec(lengthBytes: 1 | 2 | 3, body: Buffer): Buffer {
  const len = lengthBytes === 1 ? u8(body.length) : lengthBytes === 2 ? u16(body.length) : u24(body.length);
  return Buffer.concat([len, body]);
}
function list16(values: number[]): Buffer {
  return Buffer.concat(values.map(u16));
}
function extension(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), vec(2, body)]);
}

export interface ClientHelloOptions {
  protocol: Protocol;
  suites: number[];
  /** DNS name for SNI; IP literals are never sent (RFC 6066 §3). */
  serverName?: string;
  /** RFC 7507 TLS_FALLBACK_SCSV, to test downgrade protection. */
  fallback?: boolean;
  random?: Buffer;
}

/** Builds one TLS record holding a ClientHello for the given protocol and suites. */
export function buildClientHello(options: ClientHelloOptions): Buffer {
  const { protocol } = options;
  const isTls13 = protocol === "TLSv1.3";
  const isSsl3 = protocol === "SSLv3";
  const clientVersion = isTls13 ? 0x0303 : PROTOCOL_VERSION[protocol];
  const suites = [...options.suites];
  if (!isTls13) suites.push(EMPTY_RENEGOTIATION_INFO_SCSV);
  if (options.fallback) suites.push(FALLBACK_SCSV);

  const extensions: Buffer[] = [];
  if (!isSsl3) {
    const name = options.serverName;
    if (name && isIP(name) === 0) {
      const host = Buffer.from(name.replace(/\.$/, ""), "ascii");
      extensions.push(extension(EXT_SERVER_NAME, vec(2, Buffer.concat([u8(0), vec(2, host)]))));
    }
    extensions.push(extension(EXT_SUPPORTED_GROUPS, vec(2, list16(isTls13 ? TLS13_GROUPS : OFFERED_GROUPS))));
    extensions.push(extension(EXT_EC_POINT_FORMATS, vec(1, u8(0))));
    extensions.push(extension(EXT_SIGNATURE_ALGORITHMS, vec(2, list16(SIGNATURE_SCHEMES))));
    if (isTls13) {
      extensions.push(extension(EXT_SUPPORTED_VERSIONS, vec(1, u16(0x0304))));
      extensions.push(extension(EXT_PSK_KEY_EXCHANGE_MODES, vec(1, u8(1))));
      // Any 32 bytes are a valid X25519 public value; we never derive the shared secret.
      const share = Buffer.concat([u16(0x001d), vec(2, randomBytes(32))]);
      extensions.push(extension(EXT_KEY_SHARE, vec(2, share)));
    } else {
      extensions.push(extension(EXT_EXTENDED_MASTER_SECRET, Buffer.alloc(0)));
    }
  }

  const body = Buffer.concat([
    u16(clientVersion),
    options.random ?? randomBytes(32),
    // TLS 1.3 middlebox compatibility mode (RFC 8446 D.4) wants a non-empty legacy session id.
    vec(1, isTls13 ? randomBytes(32) : Buffer.alloc(0)),
    vec(2, list16(suites)),
    vec(1, u8(0)),
    ...(extensions.length > 0 ? [vec(2, Buffer.concat(extensions))] : []),
  ]);
  const handshake = Buffer.concat([u8(HS_CLIENT_HELLO), vec(3, body)]);
  // Record-layer version: SSL 3.0 for an SSLv3 hello, TLS 1.0 otherwise (what real clients send).
  return Buffer.concat([u8(CONTENT_HANDSHAKE), u16(isSsl3 ? 0x0300 : 0x0301), vec(2, handshake)]);
}

export type ServerKeyExchangeInfo =
  | { kind: "dh"; primeBits: number }
  | { kind: "ecdh"; group: number }
  | { kind: "rsa-export"; modulusBits: number };

export interface ServerHelloInfo {
  kind: "server-hello";
  /** Negotiated version: supported_versions if present, else the legacy field. */
  version: number;
  cipherSuite: number;
  compression: number;
  helloRetryRequest: boolean;
  /** TLS 1.3 key_share group (also in a HelloRetryRequest). */
  keyShareGroup?: number;
  extensions: number[];
  /** DER certificates from a TLS ≤1.2 Certificate message, leaf first. */
  certificates: Buffer[];
  serverKeyExchange?: ServerKeyExchangeInfo;
  /** True once ServerHelloDone (≤1.2) or the ServerHello (1.3) was read. */
  complete: boolean;
}

export type ServerReply =
  | ServerHelloInfo
  | { kind: "alert"; level: number; description: number }
  /** Bytes that are not a TLS record: plaintext protocol, SSLv2, or garbage. */
  | { kind: "not-tls"; firstBytes: string }
  | { kind: "malformed"; reason: string };

interface Reader {
  readonly remaining: number;
  u8(): number;
  u16(): number;
  u24(): number;
  bytes(n: number): Buffer;
}

/** A bounds-checked cursor: every read past the end throws, so truncated messages cannot be misread. */
function reader(buf: Buffer): Reader {
  let offset = 0;
  const need = (n: number): void => {
    if (buf.length - offset < n)
      throw new RangeError(`truncated: need ${n} bytes, have ${buf.length - offset}`);
  };
  return {
    get remaining() {
      return buf.length - offset;
    },
    u8() {
      need(1);
      return buf[offset++]!;
    },
    u16() {
      need(2);
      const v = buf.readUInt16BE(offset);
      offset += 2;
      return v;
    },
    u24() {
      need(3);
      const v = buf.readUIntBE(offset, 3);
      offset += 3;
      return v;
    },
    bytes(n) {
      need(n);
      const v = buf.subarray(offset, offset + n);
      offset += n;
      return v;
    },
  };
}

function bitLength(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

function parseServerHello(body: Buffer): ServerHelloInfo {
  const r = reader(body);
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  r.bytes(r.u8()); // session id
  const cipherSuite = r.u16();
  const compression = r.u8();
  const info: ServerHelloInfo = {
    kind: "server-hello",
    version: legacyVersion,
    cipherSuite,
    compression,
    helloRetryRequest: random.equals(HELLO_RETRY_RANDOM),
    extensions: [],
    certificates: [],
    complete: false,
  };
  if (r.remaining >= 2) {
    const ext = reader(r.bytes(r.u16()));
    while (ext.remaining >= 4) {
      const type = ext.u16();
      const data = ext.bytes(ext.u16());
      info.extensions.push(type);
      if (type === EXT_SUPPORTED_VERSIONS && data.length >= 2) info.version = data.readUInt16BE(0);
      if (type === EXT_KEY_SHARE && data.length >= 2) info.keyShareGroup = data.readUInt16BE(0);
    }
  }
  return info;
}

function parseCertificates(body: Buffer): Buffer[] {
  const r = reader(body);
  const list = reader(r.bytes(r.u24()));
  const certs: Buffer[] = [];
  while (list.remaining >= 3) certs.push(Buffer.from(list.bytes(list.u24())));
  return certs;
}

function parseServerKeyExchange(body: Buffer, suiteKx: SuiteKxHint): ServerKeyExchangeInfo | undefined {
  const r = reader(body);
  if (suiteKx === "dh") return { kind: "dh", primeBits: bitLength(r.bytes(r.u16())) };
  if (suiteKx === "ecdh") {
    const curveType = r.u8();
    return curveType === 3 ? { kind: "ecdh", group: r.u16() } : undefined;
  }
  if (suiteKx === "rsa-export") return { kind: "rsa-export", modulusBits: bitLength(r.bytes(r.u16())) };
  return undefined;
}

/** How to read a ServerKeyExchange for the chosen suite (its format depends on the suite). */
export type SuiteKxHint = "dh" | "ecdh" | "rsa-export" | "none";

export interface ServerReplyParser {
  /** Feeds bytes; returns the reply once it is known, else undefined (need more bytes). */
  push(chunk: Buffer): ServerReply | undefined;
  /** What is known when the peer closes or goes quiet (a partial ≤1.2 flight still names the suite). */
  finish(): ServerReply | undefined;
}

/**
 * Incremental parser for the server's first flight. `kxHint` maps the chosen suite to the
 * ServerKeyExchange format; records may be fragmented and handshake messages may span records.
 */
export function createServerReplyParser(kxHint: (suite: number) => SuiteKxHint): ServerReplyParser {
  let buffered: Buffer = Buffer.alloc(0);
  let handshake: Buffer = Buffer.alloc(0);
  let hello: ServerHelloInfo | undefined;
  let sawRecord = false;

  const step = (): ServerReply | undefined => {
    for (;;) {
      if (buffered.length === 0) return undefined;
      const type = buffered[0]!;
      if (!sawRecord && type !== CONTENT_HANDSHAKE && type !== CONTENT_ALERT) {
        return { kind: "not-tls", firstBytes: buffered.subarray(0, 16).toString("hex") };
      }
      if (buffered.length < 5) return undefined;
      const major = buffered[1]!;
      const length = buffered.readUInt16BE(3);
      if (major !== 3 || length > 18432) {
        return sawRecord
          ? { kind: "malformed", reason: `bad record header ${buffered.subarray(0, 5).toString("hex")}` }
          : { kind: "not-tls", firstBytes: buffered.subarray(0, 16).toString("hex") };
      }
      if (buffered.length < 5 + length) return undefined;
      sawRecord = true;
      const fragment = buffered.subarray(5, 5 + length);
      buffered = buffered.subarray(5 + length);

      if (type === CONTENT_ALERT) {
        if (hello) {
          hello.complete = true;
          return hello;
        }
        if (fragment.length < 2) return { kind: "malformed", reason: "short alert" };
        return { kind: "alert", level: fragment[0]!, description: fragment[1]! };
      }
      if (type === CONTENT_CHANGE_CIPHER_SPEC && hello) {
        hello.complete = true;
        return hello;
      }
      if (type !== CONTENT_HANDSHAKE) {
        if (hello) {
          hello.complete = true;
          return hello;
        }
        return { kind: "malformed", reason: `unexpected record type ${type}` };
      }
      handshake = Buffer.concat([handshake, fragment]);
      while (handshake.length >= 4) {
        const msgType = handshake[0]!;
        const msgLen = handshake.readUIntBE(1, 3);
        if (handshake.length < 4 + msgLen) break;
        const body = handshake.subarray(4, 4 + msgLen);
        handshake = handshake.subarray(4 + msgLen);
        try {
          if (msgType === HS_SERVER_HELLO) {
            hello = parseServerHello(body);
            // TLS 1.3: everything after the ServerHello is encrypted.
            if (hello.version === 0x0304 || hello.helloRetryRequest) {
              hello.complete = true;
              return hello;
            }
          } else if (!hello) {
            return { kind: "malformed", reason: `handshake message ${msgType} before ServerHello` };
          } else if (msgType === HS_CERTIFICATE) {
            hello.certificates = parseCertificates(body);
          } else if (msgType === HS_SERVER_KEY_EXCHANGE) {
            hello.serverKeyExchange = parseServerKeyExchange(body, kxHint(hello.cipherSuite));
          } else if (msgType === HS_SERVER_HELLO_DONE) {
            hello.complete = true;
            return hello;
          }
        } catch (error) {
          return { kind: "malformed", reason: (error as Error).message };
        }
      }
    }
  };

  return {
    push(chunk) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      return step();
    },
    finish() {
      return hello;
    },
  };
}

/** RFC 8446 §6 alert descriptions that a probe may meet. */
export const ALERT_NAMES: Record<number, string> = {
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  40: "handshake_failure",
  47: "illegal_parameter",
  50: "decode_error",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  86: "inappropriate_fallback",
  90: "user_canceled",
  109: "missing_extension",
  110: "unsupported_extension",
  112: "unrecognized_name",
};
