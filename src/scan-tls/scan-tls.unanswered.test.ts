import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exceedsThreshold } from "./scan-tls.output.ts";
import { scanTls } from "./scan-tls.service.ts";

/**
 * Endpoints that accept a connection and then say nothing, hang up at once, or answer as something
 * else: each is reported as unreachable or not assessable, with a high finding that fails CI at
 * `--fail-on high`, never as a clean result, and never by crashing the scan.
 */
const servers: net.Server[] = [];
let silent: number;
let hangsUp: number;
let garbage: number;

async function listen(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    // Reading is what notices the scanner's hang-up, so that close() below does not wait forever.
    socket.resume();
    socket.on("error", () => {});
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  silent = await listen(() => {});
  hangsUp = await listen((s) => s.destroy());
  garbage = await listen((s) => s.end("garbage garbage\r\n"));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

const services = ["http", "https", "postgres", "mysql", "redis"] as const;
const timeoutMs = 400;

describe("targets that do not answer as the service", () => {
  it("reports a port that accepts and stays silent as unreachable, for every service", async () => {
    const report = await scanTls(
      services.map((s) => `${s}://127.0.0.1:${silent}`),
      { timeoutMs },
    );
    for (const t of report.targets) {
      expect(t.status, t.target).toBe("unreachable");
      expect(t.error, t.target).toMatch(/did not answer|sent no/);
      expect(t.findings.map((f) => [f.id, f.severity])).toEqual([["unreachable", "high"]]);
    }
    expect(exceedsThreshold(report, "high")).toBe(true);
  });

  it("reports a port that hangs up at once as unreachable or without TLS, never clean (MySQL no longer crashes the scan)", async () => {
    const report = await scanTls(
      services.map((s) => `${s}://127.0.0.1:${hangsUp}`),
      { timeoutMs },
    );
    const byService = Object.fromEntries(report.targets.map((t) => [t.service, t]));
    expect(byService.mysql).toMatchObject({ status: "unreachable" });
    expect(byService.mysql!.error).toContain("closed the connection without a MySQL greeting");
    expect(byService.postgres).toMatchObject({ status: "unreachable" });
    expect(byService.redis).toMatchObject({ status: "unreachable" });
    // Depending on timing the TLS probes see a close ("no TLS") or a reset ("unreachable").
    expect(["no-tls", "unreachable"]).toContain(byService.https!.findings[0]?.id);
    for (const t of report.targets)
      expect(
        t.findings.some((f) => f.severity === "high"),
        t.target,
      ).toBe(true);
  });

  it("reports a port that answers as something else as not assessed, with a high finding", async () => {
    const report = await scanTls(
      ["http", "postgres", "mysql", "redis"].map((s) => `${s}://127.0.0.1:${garbage}`),
      { timeoutMs },
    );
    for (const t of report.targets) {
      expect(t.status, t.target).toBe("error");
      expect(
        t.findings.map((f) => [f.id, f.severity]),
        t.target,
      ).toEqual([["scan-failed", "high"]]);
    }
    expect(report.targets.find((t) => t.service === "redis")!.error).toMatch(/^not a Redis server/);
    expect(report.targets.find((t) => t.service === "postgres")!.error).toMatch(/^not a PostgreSQL server/);
    expect(report.summary).toMatchObject({ errors: 4, worst: "high" });
  });
});
