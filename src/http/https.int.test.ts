import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, serve } from "../boot.ts";
import { loadConfig } from "../core/config.ts";
import { systemCtx } from "../core/context.ts";
import { scanTls } from "../scan-tls/index.ts";
import { createCa, type IssuedCert, issueCertificate } from "../scan-tls/testing/certs.ts";

/**
 * Warden's own HTTPS, as a client sees it on the wire: Warden's TLS scanner pointed at a running
 * Warden finds nothing to fix, `http://` on the HTTPS port and on WARDEN_HTTP_REDIRECT_PORT redirects.
 */
let dir: string;
let ca: IssuedCert;
let running: Running;
let port: number;
let redirectPort: number;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "warden-https-"));
  // A certificate from a CA the scanner is told to trust, as a real deployment would have.
  ca = await createCa("Warden HTTPS Test CA");
  const leaf = await issueCertificate({
    commonName: "localhost",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    key: { type: "ec", curve: "P-256" },
    notAfterDays: 364, // Mozilla intermediate: a lifespan of at most 366 days
    issuer: ca,
  });
  await writeFile(path.join(dir, "cert.pem"), `${leaf.certPem}\n${ca.certPem}\n`);
  await writeFile(path.join(dir, "key.pem"), leaf.keyPem, { mode: 0o600 });
  const config = loadConfig({
    WARDEN_DATA_DIR: path.join(dir, "data"),
    WARDEN_PORT: "0",
    WARDEN_HTTP_REDIRECT_PORT: "0",
    WARDEN_TLS_CERT: path.join(dir, "cert.pem"),
    WARDEN_TLS_KEY: path.join(dir, "key.pem"),
    WARDEN_LOG_LEVEL: "silent",
  });
  running = await serve(config, () => {});
  port = Number(new URL(running.url).port);
  const ra = running.redirectServer?.address();
  redirectPort = typeof ra === "object" && ra ? ra.port : 0;
});
afterAll(async () => {
  await running?.stop();
  await rm(dir, { recursive: true, force: true });
});

function plainGet(p: number, urlPath: string, host: string) {
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port: p, path: urlPath, headers: { host } }, (res) => {
        res.resume();
        resolve(res);
      })
      .on("error", reject);
  });
}

describe("Warden's HTTPS", () => {
  it("passes Warden's own TLS scan with nothing to fix: A+, Mozilla intermediate, HTTP redirected", async () => {
    const report = await scanTls(
      [`https://localhost:${port}/`, `http://localhost:${port}/`, `http://localhost:${redirectPort}/`],
      { extraCa: [ca.certPem], concurrency: 3 },
    );
    const [httpsTarget, sameport, redirect] = report.targets;
    expect(httpsTarget?.status).toBe("scanned");
    expect(httpsTarget?.findings).toEqual([]);
    expect(httpsTarget?.grade?.grade).toBe("A+");
    expect(httpsTarget?.mozilla?.profiles, JSON.stringify(httpsTarget?.mozilla)).toBeDefined();
    expect(httpsTarget?.mozilla?.closest, JSON.stringify(httpsTarget?.mozilla)).toBe("intermediate");
    expect(httpsTarget?.tls?.protocols.filter((p) => p.supported).map((p) => p.protocol)).toEqual([
      "TLSv1.2",
      "TLSv1.3",
    ]);
    expect(httpsTarget?.http?.hstsMaxAge).toBe(63_072_000);
    for (const t of [sameport, redirect]) {
      expect(t?.findings).toEqual([]);
      expect(t?.http).toMatchObject({
        status: 308,
        redirectsToHttps: true,
        location: `https://localhost:${port}/`,
      });
    }
    expect(report.summary.worst).toBe("none");
  });

  it("refuses TLS 1.1 and weak suites at the handshake", async () => {
    const attempt = (opts: tls.ConnectionOptions) =>
      new Promise<string>((resolve) => {
        const s = tls.connect(
          { host: "127.0.0.1", port, servername: "localhost", ca: ca.certPem, ...opts },
          () => {
            resolve(`connected ${s.getProtocol()}`);
            s.end();
          },
        );
        s.on("error", (e) => resolve(`refused: ${e.message}`));
      });
    expect(
      await attempt({ minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" }),
    ).toMatch(/^refused/);
    expect(await attempt({ maxVersion: "TLSv1.2", ciphers: "AES128-SHA:ECDHE-ECDSA-AES128-SHA" })).toMatch(
      /^refused/,
    );
    expect(await attempt({ maxVersion: "TLSv1.2" })).toBe("connected TLSv1.2");
    expect(await attempt({})).toBe("connected TLSv1.3");
  });

  it("answers plain HTTP on the HTTPS port with a 308 to the same path, and serves HTTPS with HSTS", async () => {
    const res = await plainGet(port, "/api/v1/auth/session?x=1", `localhost:${port}`);
    expect(res.statusCode).toBe(308);
    expect(res.headers.location).toBe(`https://localhost:${port}/api/v1/auth/session?x=1`);
    const secure = await new Promise<http.IncomingMessage>((resolve, reject) => {
      https
        .get({ host: "localhost", port, path: "/healthz", ca: ca.certPem }, (r) => {
          r.resume();
          resolve(r);
        })
        .on("error", reject);
    });
    expect(secure.statusCode).toBe(200);
    expect(secure.headers["strict-transport-security"]).toBe("max-age=63072000; includeSubDomains");
  });
});

describe("Warden's HTTPS with the certificate it generates on first start", () => {
  it("has nothing to fix once the scan trusts that certificate (its pin, or --ca with it); untrusted, it is self-signed", async () => {
    // `warden login` pins the generated certificate's fingerprint, and `warden scan tls` trusts that pin,
    // as it trusts a certificate given with --ca. A scan that was told nothing cannot trust a certificate
    // nobody vouches for: then the self-signed finding is right, and the only one.
    const own = await mkdtemp(path.join(os.tmpdir(), "warden-https-gen-"));
    const r = await serve(
      loadConfig({ WARDEN_DATA_DIR: own, WARDEN_PORT: "0", WARDEN_LOG_LEVEL: "silent" }),
      () => {},
    );
    try {
      const p = new URL(r.url).port;
      const targets = [`https://localhost:${p}/`, `https://127.0.0.1:${p}/`, `http://localhost:${p}/`];
      const certPem = await readFile(path.join(own, "tls", "cert.pem"), "utf8");
      const fingerprint = new X509Certificate(certPem).fingerprint256;
      for (const trust of [{ pinnedCertificates: [fingerprint] }, { extraCa: [certPem] }]) {
        const report = await scanTls(targets, trust);
        expect(report.summary).toMatchObject({ scanned: 3, worst: "none" });
        for (const target of report.targets) expect(target.findings).toEqual([]);
        const [byName, byAddress, plain] = report.targets;
        expect(byName!.grade).toMatchObject({ grade: "A+", gradeIgnoringTrust: "A+" });
        expect(byAddress!.grade).toMatchObject({ grade: "A+" });
        expect(byName!.certificate).toMatchObject({ selfSigned: true, trusted: true, nameMatches: true });
        expect(byName!.certificate?.pinned).toBe("pinnedCertificates" in trust ? true : undefined);
        expect(byName!.mozilla?.profiles.intermediate.deviations).toEqual([]);
        expect(plain!.http).toMatchObject({ status: 308, redirectsToHttps: true });
      }

      const untrusted = (await scanTls([targets[0]!])).targets[0]!;
      expect(untrusted.findings.map((f) => f.id)).toEqual(["cert-self-signed"]);
      expect(untrusted.grade).toMatchObject({ grade: "T", gradeIgnoringTrust: "A+" });
      const otherPin = (await scanTls([targets[0]!], { pinnedCertificates: ["AB".repeat(32)] })).targets[0]!;
      expect(otherPin.findings.map((f) => f.id)).toEqual(["cert-self-signed"]);

      // The server's own scans (UI, schedule) trust the certificate it generated for itself.
      const target = await r.app.tlsScans.create(systemCtx("test"), {
        target: targets[0]!,
        scheduled: false,
      });
      const selfScan = await r.app.tlsScans.scanNow(systemCtx("test"), target.id);
      expect(selfScan).toMatchObject({ status: "scanned", grade: "A+", findingCount: 0 });
    } finally {
      await r.stop();
      await rm(own, { recursive: true, force: true });
    }
  });
});
