/**
 * Interop: Warden's scanner and testssl.sh (Debian package testssl.sh) on the same throwaway servers must
 * agree on protocols, cipher categories, forward secrecy and certificate problems. Slow (testssl.sh needs
 * one to two minutes per server), so it is run by the CI's interop suite, not by `npm test`:
 *   npm run test:interop -- src/scan-tls
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanTls, type TargetResult } from "./index.ts";
import { createCa, issueCertificate } from "./testing/certs.ts";
import {
  type Running,
  requireBinary,
  startNginx,
  startOpenSslServer,
  startTlsServer,
} from "./testing/servers.ts";

interface TestsslEntry {
  id: string;
  severity: string;
  finding: string;
}

const workDir = mkdtempSync(join(tmpdir(), "warden-testssl-"));
const running: Running[] = [];

function testssl(port: number, name: string): Promise<Map<string, TestsslEntry>> {
  const jsonFile = join(workDir, `${name}.json`);
  // -p protocols, -s cipher categories, -f forward secrecy, -S server defaults (certificate).
  const args = ["--quiet", "--color", "0", "--warnings", "off", "--ip", "127.0.0.1", "-p", "-s", "-f", "-S"];
  return new Promise((resolve, reject) => {
    execFile(
      "testssl",
      [...args, "--jsonfile", jsonFile, `localhost:${port}`],
      { timeout: 400_000, maxBuffer: 16 * 1024 * 1024 },
      (error) => {
        let entries: TestsslEntry[];
        try {
          entries = JSON.parse(readFileSync(jsonFile, "utf8"));
        } catch {
          reject(error ?? new Error("testssl.sh wrote no JSON"));
          return;
        }
        resolve(new Map(entries.map((e) => [e.id, e])));
      },
    );
  });
}

/** testssl.sh says "offered", "offered (deprecated)", "not offered", "not offered and downgraded…". */
const offered = (e: TestsslEntry | undefined) => Boolean(e && /^offered/.test(e.finding));

function ours(t: TargetResult) {
  const suites = t.tls?.protocols.flatMap((p) => p.suites) ?? [];
  const has = (pred: (s: (typeof suites)[number]) => boolean) => suites.some(pred);
  const w = (s: (typeof suites)[number], x: string) => s.weaknesses.includes(x);
  return {
    protocols: Object.fromEntries(t.tls?.protocols.map((p) => [p.protocol, p.supported]) ?? []),
    categories: {
      cipherlist_NULL: has((s) => w(s, "NULL")),
      cipherlist_aNULL: has((s) => w(s, "anonymous")),
      cipherlist_EXPORT: has((s) => w(s, "export")),
      // testssl.sh LOW: RC4, single DES, RC2 (not export, not NULL)
      cipherlist_LOW: has(
        (s) => !w(s, "export") && !w(s, "NULL") && (w(s, "RC4") || (s.bits > 0 && s.bits < 112)),
      ),
      cipherlist_3DES_IDEA: has((s) => w(s, "64-bit block") && s.bits >= 112),
      // testssl.sh AVERAGE: authenticated CBC suites other than 3DES/IDEA
      cipherlist_AVERAGE: has(
        (s) => w(s, "CBC") && !w(s, "anonymous") && !w(s, "NULL") && !w(s, "64-bit block"),
      ),
      cipherlist_STRONG: has((s) => s.aead && !w(s, "anonymous")),
    },
    forwardSecrecy: has((s) => s.forwardSecrecy),
    findings: new Set(t.findings.map((f) => f.id)),
  };
}

const PROTOCOL_IDS: Record<string, string> = {
  SSLv3: "SSLv3",
  TLS1: "TLSv1.0",
  TLS1_1: "TLSv1.1",
  TLS1_2: "TLSv1.2",
  TLS1_3: "TLSv1.3",
};

function expectAgreement(theirs: Map<string, TestsslEntry>, t: TargetResult) {
  const mine = ours(t);
  for (const [id, protocol] of Object.entries(PROTOCOL_IDS)) {
    expect({ protocol, offered: mine.protocols[protocol] }).toEqual({
      protocol,
      offered: offered(theirs.get(id)),
    });
  }
  for (const [id, value] of Object.entries(mine.categories)) {
    expect({ category: id, offered: value }).toEqual({ category: id, offered: offered(theirs.get(id)) });
  }
  expect(mine.forwardSecrecy).toBe(offered(theirs.get("PFS") ?? theirs.get("FS")));
  const chain = theirs.get("cert_chain_of_trust")?.finding ?? "";
  expect(mine.findings.has("cert-self-signed")).toBe(/self signed/.test(chain));
  expect(t.certificate?.trusted).toBe(!/failed/.test(chain));
  const expiry = theirs.get("cert_expirationStatus")?.finding ?? "";
  expect(mine.findings.has("cert-expired")).toBe(/expired/.test(expiry));
  expect(mine.findings.has("cert-expiring")).toBe(/expires < 30 days/.test(expiry));
  expect(mine.findings.has("cert-name-mismatch")).toBe(
    /does not match/.test(theirs.get("cert_trust")?.finding ?? ""),
  );
  expect(mine.findings.has("cert-sha1-signature")).toBe(
    /SHA1|MD5/.test(theirs.get("cert_signatureAlgorithm")?.finding ?? ""),
  );
  const keySize = /(\d+) bits/.exec(theirs.get("cert_keySize")?.finding ?? "");
  expect(t.certificate?.keyBits).toBe(keySize ? Number(keySize[1]) : undefined);
}

let legacy: Running;
let modern: Running;
let badCert: Running;

beforeAll(async () => {
  requireBinary("testssl", "testssl.sh");
  requireBinary("nginx", "nginx-light");
  const ca = await createCa();
  const selfSigned = await issueCertificate({
    commonName: "localhost",
    dnsNames: ["localhost"],
    notAfterDays: 20,
  });
  legacy = await startOpenSslServer(selfSigned.certPem, selfSigned.keyPem, [
    "-tls1",
    "-cipher",
    "ALL:COMPLEMENTOFALL:@SECLEVEL=0",
  ]);
  const good = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"], issuer: ca });
  modern = await startNginx({
    certPem: good.certPem,
    keyPem: good.keyPem,
    tlsDirectives: ["ssl_protocols TLSv1.2 TLSv1.3;", "ssl_ciphers HIGH:!aNULL:!PSK:!SRP;"],
  });
  const weak = await issueCertificate({
    commonName: "wrong.example",
    dnsNames: ["wrong.example"],
    issuer: ca,
    hash: "SHA-1",
    key: { type: "rsa", bits: 1024 },
    notBeforeDays: -100,
    notAfterDays: -2,
  });
  badCert = await startTlsServer({
    key: weak.keyPem,
    cert: weak.certPem,
    minVersion: "TLSv1.1",
    ciphers: "ALL:@SECLEVEL=0",
  });
  running.push(legacy, modern, badCert);
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  rmSync(workDir, { recursive: true, force: true });
});

describe("agreement with testssl.sh", () => {
  it("agrees on three servers: legacy TLS 1.0 with NULL/anonymous suites, nginx TLS 1.2/1.3, bad certificate", async () => {
    const servers = [
      ["legacy", legacy],
      ["nginx", modern],
      ["bad-cert", badCert],
    ] as const;
    const [reports, ...theirs] = await Promise.all([
      scanTls(servers.map(([, s]) => `localhost:${s.port}`)),
      ...servers.map(([name, s]) => testssl(s.port, name)),
    ]);
    servers.forEach(([name], i) => {
      const target = reports.targets[i]!;
      expect({ name, status: target.status }).toEqual({ name, status: "scanned" });
      expectAgreement(theirs[i]!, target);
    });
  }, 600_000);
});
