import { describe, expect, it } from "vitest";
import { CIPHER_SUITES, describeSuite, suiteById } from "./cipher-suites.ts";
import { kxHintFor } from "./tls-probe.ts";
import { buildClientHello, createServerReplyParser, type ServerReply } from "./tls-wire.ts";

/** Splits a ClientHello record into its fields, independently of the builder. */
function parseClientHello(record: Buffer) {
  expect(record[0]).toBe(22);
  const recordVersion = record.readUInt16BE(1);
  expect(record.readUInt16BE(3)).toBe(record.length - 5);
  const hs = record.subarray(5);
  expect(hs[0]).toBe(1);
  expect(hs.readUIntBE(1, 3)).toBe(hs.length - 4);
  let o = 4;
  const clientVersion = hs.readUInt16BE(o);
  o += 2 + 32;
  o += 1 + hs[o]!;
  const suitesLen = hs.readUInt16BE(o);
  const suites: number[] = [];
  for (let i = 0; i < suitesLen; i += 2) suites.push(hs.readUInt16BE(o + 2 + i));
  o += 2 + suitesLen;
  o += 1 + hs[o]!;
  const extensions = new Map<number, Buffer>();
  if (o < hs.length) {
    const end = o + 2 + hs.readUInt16BE(o);
    o += 2;
    while (o < end) {
      const type = hs.readUInt16BE(o);
      const len = hs.readUInt16BE(o + 2);
      extensions.set(type, hs.subarray(o + 4, o + 4 + len));
      o += 4 + len;
    }
  }
  return { recordVersion, clientVersion, suites, extensions };
}

function record(type: number, body: Buffer, version = 0x0303): Buffer {
  const header = Buffer.alloc(5);
  header[0] = type;
  header.writeUInt16BE(version, 1);
  header.writeUInt16BE(body.length, 3);
  return Buffer.concat([header, body]);
}

function handshake(type: number, body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([type, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]),
    body,
  ]);
}

function serverHello(
  version: number,
  suite: number,
  extensions: Buffer[] = [],
  random = Buffer.alloc(32, 7),
) {
  const ext = Buffer.concat(extensions);
  const body = Buffer.concat([
    Buffer.from([version >> 8, version & 0xff]),
    random,
    Buffer.from([0]),
    Buffer.from([suite >> 8, suite & 0xff, 0]),
    ext.length ? Buffer.concat([Buffer.from([ext.length >> 8, ext.length & 0xff]), ext]) : Buffer.alloc(0),
  ]);
  return handshake(2, body);
}

const helloDone = handshake(14, Buffer.alloc(0));

function parseAll(chunks: Buffer[]): ServerReply | undefined {
  const parser = createServerReplyParser(kxHintFor);
  for (const chunk of chunks) {
    const reply = parser.push(chunk);
    if (reply) return reply;
  }
  return parser.finish();
}

describe("cipher suite table", () => {
  it.each([
    ["TLS_RSA_EXPORT_WITH_RC4_40_MD5", { export: true, rc4: true, bits: 40, forwardSecrecy: false }],
    ["TLS_DH_anon_WITH_AES_128_CBC_SHA", { anonymous: true, cbc: true, forwardSecrecy: false, kx: "DH" }],
    ["TLS_RSA_WITH_NULL_SHA256", { nullCipher: true, bits: 0 }],
    ["TLS_RSA_WITH_3DES_EDE_CBC_SHA", { block64: true, bits: 112, cbc: true }],
    ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", { aead: true, forwardSecrecy: true, kx: "ECDHE", auth: "RSA" }],
    ["TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", { aead: true, forwardSecrecy: true, bits: 256 }],
    ["TLS_AES_128_CCM_8_SHA256", { tls13: true, aead: true, bits: 128 }],
    ["TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", { export: true, bits: 56, block64: true }],
    ["TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", { export: true, bits: 40 }],
  ])("derives the properties of %s from its name", (name, expected) => {
    const suite = CIPHER_SUITES.find((s) => s.name === name);
    expect(suite).toMatchObject(expected);
  });

  it("has unique code points and names", () => {
    expect(new Set(CIPHER_SUITES.map((s) => s.id)).size).toBe(CIPHER_SUITES.length);
    expect(new Set(CIPHER_SUITES.map((s) => s.name)).size).toBe(CIPHER_SUITES.length);
    expect(describeSuite(0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384").bits).toBe(256);
  });
});

describe("ClientHello builder", () => {
  it("builds a TLS 1.2 hello with SNI, groups, the renegotiation SCSV and every offered suite", () => {
    const hello = parseClientHello(
      buildClientHello({ protocol: "TLSv1.2", suites: [0xc02f, 0x000a], serverName: "example.test" }),
    );
    expect(hello.recordVersion).toBe(0x0301);
    expect(hello.clientVersion).toBe(0x0303);
    expect(hello.suites).toEqual([0xc02f, 0x000a, 0x00ff]);
    expect(hello.extensions.get(0)?.subarray(5).toString()).toBe("example.test");
    expect(hello.extensions.has(0x000a)).toBe(true);
    expect(hello.extensions.has(0x002b)).toBe(false);
  });

  it("builds a TLS 1.3 hello with supported_versions and an X25519 key share, legacy version 1.2", () => {
    const hello = parseClientHello(buildClientHello({ protocol: "TLSv1.3", suites: [0x1301] }));
    expect(hello.clientVersion).toBe(0x0303);
    expect(hello.suites).toEqual([0x1301]);
    expect([...hello.extensions.get(0x002b)!]).toEqual([2, 3, 4]);
    const share = hello.extensions.get(0x0033)!;
    expect(share.readUInt16BE(2)).toBe(0x001d);
    expect(share.readUInt16BE(4)).toBe(32);
  });

  it("builds an SSLv3 hello without extensions and never sends an IP address as SNI", () => {
    const ssl3 = parseClientHello(
      buildClientHello({ protocol: "SSLv3", suites: [0x0005], serverName: "a.test" }),
    );
    expect(ssl3.recordVersion).toBe(0x0300);
    expect(ssl3.clientVersion).toBe(0x0300);
    expect(ssl3.extensions.size).toBe(0);
    const byIp = parseClientHello(
      buildClientHello({ protocol: "TLSv1.0", suites: [0x002f], serverName: "127.0.0.1" }),
    );
    expect(byIp.extensions.has(0)).toBe(false);
  });

  it("adds TLS_FALLBACK_SCSV when asked", () => {
    const hello = parseClientHello(
      buildClientHello({ protocol: "TLSv1.1", suites: [0x002f], fallback: true }),
    );
    expect(hello.suites).toContain(0x5600);
  });
});

describe("server reply parser", () => {
  it("reads an SSLv3 ServerHello choosing RC4 (a server Debian's OpenSSL can no longer run)", () => {
    const flight = Buffer.concat([serverHello(0x0300, 0x0005), helloDone]);
    const reply = parseAll([record(22, flight, 0x0300)]);
    expect(reply).toMatchObject({
      kind: "server-hello",
      version: 0x0300,
      cipherSuite: 0x0005,
      complete: true,
    });
    expect(suiteById(0x0005)?.rc4).toBe(true);
  });

  it("reads an export RSA key from the ServerKeyExchange", () => {
    const modulus = Buffer.concat([Buffer.from([0x80]), Buffer.alloc(63, 1)]);
    const ske = handshake(
      12,
      Buffer.concat([Buffer.from([0, 64]), modulus, Buffer.from([0, 3, 1, 0, 1]), Buffer.alloc(10)]),
    );
    const reply = parseAll([record(22, Buffer.concat([serverHello(0x0301, 0x0003), ske, helloDone]))]);
    expect(reply).toMatchObject({ serverKeyExchange: { kind: "rsa-export", modulusBits: 512 } });
  });

  it("reassembles a flight split across records and TCP chunks, reading the DH prime size", () => {
    const prime = Buffer.concat([Buffer.from([0xff]), Buffer.alloc(127, 0xab)]);
    const ske = handshake(12, Buffer.concat([Buffer.from([0, 128]), prime, Buffer.from([0, 1, 2, 0, 1, 9])]));
    const cert = handshake(11, Buffer.from([0, 0, 6, 0, 0, 3, 1, 2, 3]));
    const flight = Buffer.concat([
      serverHello(0x0303, 0x009e, [Buffer.from([0xff, 0x01, 0, 1, 0])]),
      cert,
      ske,
      helloDone,
    ]);
    const records = Buffer.concat([record(22, flight.subarray(0, 50)), record(22, flight.subarray(50))]);
    const chunks = [records.subarray(0, 3), records.subarray(3, 60), records.subarray(60)];
    const reply = parseAll(chunks);
    expect(reply).toMatchObject({
      kind: "server-hello",
      cipherSuite: 0x009e,
      serverKeyExchange: { kind: "dh", primeBits: 1024 },
      extensions: [0xff01],
    });
    expect((reply as { certificates: Buffer[] }).certificates).toEqual([Buffer.from([1, 2, 3])]);
  });

  it("reads the negotiated TLS 1.3 version and group, and recognises a HelloRetryRequest", () => {
    const versions = Buffer.from([0, 0x2b, 0, 2, 3, 4]);
    const keyShare = Buffer.from([0, 0x33, 0, 2, 0, 0x17]);
    const hrrRandom = Buffer.from("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "hex");
    const hrr = parseAll([record(22, serverHello(0x0303, 0x1302, [versions, keyShare], hrrRandom))]);
    expect(hrr).toMatchObject({
      version: 0x0304,
      cipherSuite: 0x1302,
      helloRetryRequest: true,
      keyShareGroup: 0x17,
    });
  });

  it("reports alerts, plaintext answers and truncated messages", () => {
    expect(parseAll([record(21, Buffer.from([2, 70]))])).toEqual({
      kind: "alert",
      level: 2,
      description: 70,
    });
    expect(parseAll([Buffer.from("HTTP/1.1 400 Bad Request\r\n")])).toMatchObject({ kind: "not-tls" });
    const truncated = handshake(2, Buffer.from([3, 3, 1, 2]));
    expect(parseAll([record(22, truncated)])).toMatchObject({ kind: "malformed" });
  });

  it("keeps what it knows when the server closes after the ServerHello", () => {
    const parser = createServerReplyParser(kxHintFor);
    expect(parser.push(record(22, serverHello(0x0301, 0x002f)))).toBeUndefined();
    expect(parser.finish()).toMatchObject({ cipherSuite: 0x002f, complete: false });
  });
});
