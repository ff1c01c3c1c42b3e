/**
 * The scanner against real throwaway servers on loopback, each configured with one weakness: Node TLS
 * servers (certificate problems, HSTS), openssl s_server (legacy protocols and suites), nginx (a good
 * configuration), plain HTTP, and the machine's PostgreSQL and Redis.
 */
import childProcess from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanTls, type TargetResult, tlsScanReportSchema } from "./index.ts";
import { createCa, type IssuedCert, issueCertificate } from "./testing/certs.ts";
import {
  dhParams,
  type Running,
  requireBinary,
  startHttpServer,
  startHttpsServer,
  startNginx,
  startOpenSslServer,
  startTlsServer,
} from "./testing/servers.ts";

const running: Running[] = [];
let ca: IssuedCert;

async function start<T extends Running>(server: Promise<T>): Promise<T> {
  const s = await server;
  running.push(s);
  return s;
}

async function scanOne(target: string, extraCa = true): Promise<TargetResult> {
  const report = await scanTls([target], { extraCa: extraCa ? [ca.certPem] : [], timeoutMs: 4000 });
  expect(tlsScanReportSchema.safeParse(report).success).toBe(true);
  return report.targets[0]!;
}

const ids = (t: TargetResult) => t.findings.map((f) => f.id).sort();
const supported = (t: TargetResult) => t.tls?.protocols.filter((p) => p.supported).map((p) => p.protocol);

beforeAll(async () => {
  requireBinary("openssl", "openssl");
  requireBinary("nginx", "nginx-light");
  ca = await createCa();
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
});

describe("certificates (Node TLS servers)", () => {
  it("reports a self-signed certificate and grades T", async () => {
    const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"] });
    const server = await start(startTlsServer({ key: leaf.keyPem, cert: leaf.certPem }));
    const t = await scanOne(`localhost:${server.port}`);
    expect(t.status).toBe("scanned");
    expect(ids(t)).toContain("cert-self-signed");
    expect(t.certificate?.nameMatches).toBe(true);
    expect(t.grade?.grade).toBe("T");
    expect(t.grade?.gradeIgnoringTrust).toMatch(/^A/);
  });

  it("rejects an expired certificate", async () => {
    const leaf = await issueCertificate({
      commonName: "localhost",
      dnsNames: ["localhost"],
      issuer: ca,
      notBeforeDays: -400,
      notAfterDays: -10,
    });
    const server = await start(startTlsServer({ key: leaf.keyPem, cert: leaf.certPem }));
    const t = await scanOne(`localhost:${server.port}`);
    expect(ids(t)).toContain("cert-expired");
    expect(ids(t)).not.toContain("cert-untrusted");
    expect(t.certificate?.trusted).toBe(false);
    expect(t.grade?.grade).toBe("T");
  });

  it("reports a certificate that is not yet valid", async () => {
    const leaf = await issueCertificate({
      commonName: "localhost",
      dnsNames: ["localhost"],
      issuer: ca,
      notBeforeDays: 5,
      notAfterDays: 100,
    });
    const server = await start(startTlsServer({ key: leaf.keyPem, cert: leaf.certPem }));
    expect(ids(await scanOne(`localhost:${server.port}`))).toContain("cert-not-yet-valid");
  });

  it("warns about a certificate expiring within 30 days", async () => {
    const leaf = await issueCertificate({
      commonName: "localhost",
      dnsNames: ["localhost"],
      issuer: ca,
      notAfterDays: 10,
    });
    const server = await start(startTlsServer({ key: leaf.keyPem, cert: leaf.certPem }));
    const t = await scanOne(`localhost:${server.port}`);
    expect(ids(t)).toContain("cert-expiring");
    expect(ids(t)).not.toContain("cert-expired");
  });

  it("reports a name mismatch on a trusted certificate and grades M", async () => {
    const leaf = await issueCertificate({
      commonName: "other.example",
      dnsNames: ["other.example"],
      issuer: ca,
    });
    const server = await start(startTlsServer({ key: leaf.keyPem, cert: leaf.certPem }));
    const t = await scanOne(`localhost:${server.port}`);
    expect(t.certificate?.trusted).toBe(true);
    expect(ids(t)).toContain("cert-name-mismatch");
    expect(t.grade?.grade).toBe("M");
  });

  it("reports an untrusted chain when the issuing CA is unknown", async () => {
    const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"], issuer: ca });
    const server = await start(startTlsServer({ key: leaf.keyPem, cert: leaf.certPem }));
    const t = await scanOne(`localhost:${server.port}`, false);
    expect(ids(t)).toContain("cert-untrusted");
    expect(ids(t)).not.toContain("cert-self-signed");
  });

  it("reports a SHA-1 signature and a 1024-bit key", async () => {
    const leaf = await issueCertificate({
      commonName: "localhost",
      dnsNames: ["localhost"],
      issuer: ca,
      hash: "SHA-1",
      key: { type: "rsa", bits: 1024 },
    });
    const server = await start(
      startTlsServer({ key: leaf.keyPem, cert: leaf.certPem, ciphers: "DEFAULT:@SECLEVEL=0" }),
    );
    const t = await scanOne(`localhost:${server.port}`);
    expect(t.certificate?.signatureAlgorithm).toBe("sha1WithRSAEncryption");
    expect(ids(t)).toEqual(expect.arrayContaining(["cert-sha1-signature", "cert-weak-key"]));
    expect(t.grade?.grade).toBe("T");
  });

  it("reports nothing to fix on a TLS 1.3-only ECDSA server with HSTS, graded A+ and Mozilla modern", async () => {
    const leaf = await issueCertificate({
      commonName: "localhost",
      dnsNames: ["localhost"],
      issuer: ca,
      key: { type: "ec", curve: "P-256" },
      notAfterDays: 80,
    });
    const server = await start(
      startHttpsServer(
        { key: leaf.keyPem, cert: leaf.certPem, minVersion: "TLSv1.3" },
        { "strict-transport-security": "max-age=63072000; includeSubDomains" },
      ),
    );
    const t = await scanOne(`https://localhost:${server.port}/`);
    expect(t.findings).toEqual([]);
    expect(supported(t)).toEqual(["TLSv1.3"]);
    expect(t.grade?.grade).toBe("A+");
    expect(t.mozilla?.closest).toBe("modern");
  });
});

describe("HSTS and plain HTTP", () => {
  it("reports a missing HSTS header and a short max-age", async () => {
    const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"], issuer: ca });
    const none = await start(startHttpsServer({ key: leaf.keyPem, cert: leaf.certPem }));
    const short = await start(
      startHttpsServer(
        { key: leaf.keyPem, cert: leaf.certPem },
        { "strict-transport-security": "max-age=86400" },
      ),
    );
    const report = await scanTls([`https://localhost:${none.port}/`, `https://localhost:${short.port}/`], {
      extraCa: [ca.certPem],
    });
    expect(ids(report.targets[0]!)).toContain("hsts-missing");
    expect(ids(report.targets[1]!)).toContain("hsts-short");
    expect(report.targets[1]!.http?.hstsMaxAge).toBe(86400);
  });

  it("reports plain HTTP without a redirect, and accepts one that redirects to HTTPS", async () => {
    const plain = await start(startHttpServer());
    const redirecting = await start(startHttpServer("https://localhost/"));
    const report = await scanTls([
      `http://127.0.0.1:${plain.port}/`,
      `http://127.0.0.1:${redirecting.port}/`,
    ]);
    expect(ids(report.targets[0]!)).toEqual(["plaintext-http"]);
    expect(report.targets[1]!.http?.redirectsToHttps).toBe(true);
    expect(report.targets[1]!.findings).toEqual([]);
  });
});

describe("legacy protocols and weak suites (openssl s_server)", () => {
  it("finds TLS 1.0 with NULL and anonymous suites and a 1024-bit DH group, graded F", async () => {
    const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"], issuer: ca });
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const dir = mkdtempSync("/tmp/warden-dh-");
    writeFileSync(`${dir}/dh.pem`, dhParams(1024));
    const server = await start(
      startOpenSslServer(leaf.certPem, leaf.keyPem, [
        "-tls1",
        "-cipher",
        "ALL:COMPLEMENTOFALL:@SECLEVEL=0",
        "-dhparam",
        `${dir}/dh.pem`,
      ]),
    );
    const t = await scanOne(`localhost:${server.port}`);
    expect(supported(t)).toEqual(["TLSv1.0"]);
    expect(ids(t)).toEqual(
      expect.arrayContaining([
        "protocol-tls10",
        "protocol-no-modern",
        "cipher-null",
        "cipher-anonymous",
        "kx-weak-dh",
      ]),
    );
    expect(t.tls?.minDhBits).toBe(1024);
    expect(t.grade?.gradeIgnoringTrust).toBe("F");
  });

  it("finds TLS 1.1 offered", async () => {
    const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"], issuer: ca });
    const server = await start(
      startOpenSslServer(leaf.certPem, leaf.keyPem, ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
    );
    const t = await scanOne(`localhost:${server.port}`);
    expect(supported(t)).toEqual(["TLSv1.1"]);
    expect(ids(t)).toContain("protocol-tls11");
  });

  it("finds CBC-only suites without forward secrecy on TLS 1.2, capped at B", async () => {
    const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"], issuer: ca });
    const server = await start(
      startOpenSslServer(leaf.certPem, leaf.keyPem, ["-tls1_2", "-cipher", "AES128-SHA:AES256-SHA256"]),
    );
    const t = await scanOne(`localhost:${server.port}`);
    expect(
      t.tls?.protocols
        .find((p) => p.protocol === "TLSv1.2")
        ?.suites.map((s) => s.name)
        .sort(),
    ).toEqual(["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA256"]);
    expect(ids(t)).toEqual(expect.arrayContaining(["cipher-cbc-only", "no-forward-secrecy"]));
    expect(t.grade?.grade).toBe("B");
  });
});

describe("nginx with Mozilla intermediate settings", () => {
  it("grades A+ with HSTS, matches intermediate, and its HTTP port redirects", async () => {
    const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"], issuer: ca });
    const server = await start(
      startNginx({
        certPem: leaf.certPem,
        keyPem: leaf.keyPem,
        tlsDirectives: [
          "ssl_protocols TLSv1.2 TLSv1.3;",
          "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;",
          "ssl_prefer_server_ciphers off;",
          'add_header Strict-Transport-Security "max-age=63072000" always;',
        ],
      }),
    );
    const report = await scanTls(
      [`https://localhost:${server.port}/`, `http://localhost:${server.httpPort}/`],
      {
        extraCa: [ca.certPem],
      },
    );
    const [tlsTarget, httpTarget] = report.targets;
    expect(supported(tlsTarget!)).toEqual(["TLSv1.2", "TLSv1.3"]);
    expect(tlsTarget!.findings).toEqual([]);
    expect(tlsTarget!.grade?.grade).toBe("A+");
    expect(tlsTarget!.mozilla?.closest).toBe("intermediate");
    expect(httpTarget!.http?.redirectsToHttps).toBe(true);
    expect(httpTarget!.findings).toEqual([]);
  });
});

describe("databases and unreachable targets", () => {
  it("reports that the local PostgreSQL accepts a plaintext startup", async () => {
    const t = await scanOne("postgres://127.0.0.1:5432");
    expect(t.database?.plaintextAccepted).toBe(true);
    expect(ids(t)).toContain("postgres-plaintext");
    if (!t.database?.tlsOffered) expect(ids(t)).toContain("postgres-no-tls");
  });

  it("reports that the local Redis answers PING in plaintext", async () => {
    const t = await scanOne("127.0.0.1:6379");
    expect(t.service).toBe("redis");
    expect(t.database?.plaintextAccepted).toBe(true);
    expect(ids(t).some((id) => id === "redis-no-auth" || id === "redis-plaintext")).toBe(true);
  });

  it("reports a closed port and an unresolvable name as unreachable, never as secure", async () => {
    const closed = await startHttpServer();
    await closed.stop();
    const report = await scanTls([`127.0.0.1:${closed.port}`, "does-not-exist.invalid:443"]);
    for (const t of report.targets) {
      expect(t.status).toBe("unreachable");
      expect(t.grade).toBeUndefined();
      expect(ids(t)).toEqual(["unreachable"]);
    }
    expect(report.summary.unreachable).toBe(2);
  });

  it("reports a port that answers without TLS", async () => {
    const plain = await start(startHttpServer());
    const t = await scanOne(`tls://127.0.0.1:${plain.port}`);
    expect(t.status).toBe("scanned");
    expect(ids(t)).toEqual(["no-tls"]);
  });
});

describe("warden scan tls (CLI)", () => {
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      childProcess.execFile(
        process.execPath,
        ["--import", "tsx", "src/scan-tls/testing/warden-scan.ts", "scan", "tls", ...args],
        { timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({
            code: error ? Number(error.code ?? 1) : 0,
            stdout: String(stdout),
            stderr: String(stderr),
          }),
      );
    });

  it("exits 1 at --fail-on high for a self-signed certificate, 0 at critical, and writes SARIF", async () => {
    const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"] });
    const server = await start(startTlsServer({ key: leaf.keyPem, cert: leaf.certPem }));
    const high = await run([`localhost:${server.port}`, "--fail-on", "high", "--format", "sarif"]);
    expect(high.code).toBe(1);
    const sarif = JSON.parse(high.stdout);
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toContain("cert-self-signed");
    const critical = await run([`localhost:${server.port}`, "--fail-on", "critical", "--format", "json"]);
    expect(critical.code).toBe(0);
    expect(JSON.parse(critical.stdout).targets[0].status).toBe("scanned");
  });

  it("exits 2 with a clear message for a bad target or option", async () => {
    const badTarget = await run(["ftp://example.test"]);
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toContain('unsupported scheme "ftp"');
    const badOption = await run(["localhost:1", "--timeout", "abc"]);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain("--timeout");
  });
});
