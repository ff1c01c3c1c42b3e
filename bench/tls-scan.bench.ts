/**
 * Full scan of one local endpoint (nginx from Debian, TLS 1.2/1.3, a typical "HIGH" cipher list) by
 * Warden's scanner and by testssl.sh, in the same run. Target from issue 5: Warden under 7 s, 20× faster.
 *   node --import tsx bench/tls-scan.bench.ts
 */
import { execFile } from "node:child_process";
import os from "node:os";
import { scanTls } from "../src/scan-tls/index.ts";
import { createCa, issueCertificate } from "../src/scan-tls/testing/certs.ts";
import { requireBinary, startNginx } from "../src/scan-tls/testing/servers.ts";

requireBinary("testssl", "testssl.sh");
requireBinary("nginx", "nginx-light");

const ca = await createCa();
const leaf = await issueCertificate({ commonName: "localhost", dnsNames: ["localhost"], issuer: ca });
const server = await startNginx({
  certPem: leaf.certPem,
  keyPem: leaf.keyPem,
  tlsDirectives: [
    "ssl_protocols TLSv1.2 TLSv1.3;",
    "ssl_ciphers HIGH:!aNULL:!PSK:!SRP;",
    'add_header Strict-Transport-Security "max-age=63072000" always;',
  ],
});
const target = `https://localhost:${server.port}/`;

try {
  const wardenRuns: number[] = [];
  let connections = 0;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const report = await scanTls([target], { extraCa: [ca.certPem] });
    wardenRuns.push((performance.now() - started) / 1000);
    const t = report.targets[0]!;
    if (t.status !== "scanned") throw new Error(`Warden could not scan ${target}: ${t.error}`);
    connections = t.tls!.protocols.reduce((n, p) => n + p.suites.length + 1, 0);
  }
  wardenRuns.sort((a, b) => a - b);
  const warden = wardenRuns[1]!;

  const testsslStarted = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(
      "testssl",
      ["--quiet", "--color", "0", "--warnings", "off", "--ip", "127.0.0.1", `localhost:${server.port}`],
      { timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
      (error) => (error?.killed ? reject(error) : resolve()),
    );
  });
  const testssl = (performance.now() - testsslStarted) / 1000;

  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(`## TLS scan: Warden vs testssl.sh

Command: \`node --import tsx bench/tls-scan.bench.ts\` — full scan of one local nginx endpoint (${target}),
TLS 1.2/1.3, \`HIGH:!aNULL:!PSK:!SRP\` ciphers, HSTS.

Machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB memory, Node ${process.version}.

| scanner | wall time | notes |
| --- | ---: | --- |
| Warden \`scanTls\` (median of 3) | ${warden.toFixed(2)} s | runs: ${wardenRuns.map((r) => r.toFixed(2)).join(", ")} s; ~${connections} probe connections |
| testssl.sh (default full run) | ${testssl.toFixed(1)} s | one run |

Ratio: Warden is **${(testssl / warden).toFixed(0)}×** faster (target ≥ 20×, Warden < 7 s).
`);
} finally {
  await server.stop();
}
