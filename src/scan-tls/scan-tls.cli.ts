/**
 * `warden scan tls TARGET…`
 * Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage or I/O error
 * (bad target or option, unreadable --ca file, unwritable --output).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { type Command, InvalidArgumentError, Option } from "commander";
import { isAppError } from "../core/errors.ts";
import { exceedsThreshold, OUTPUT_FORMATS, type OutputFormat, renderReport } from "./scan-tls.output.ts";
import { SEVERITIES, type Severity } from "./scan-tls.schemas.ts";
import type { scanTls } from "./scan-tls.service.ts";

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTty: boolean;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTty: Boolean(process.stderr.isTTY),
};

function intOption(name: string, min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

interface TlsCommandOptions {
  format: OutputFormat;
  output?: string;
  failOn: Severity | "none";
  concurrency: number;
  connections: number;
  timeout: number;
  ca: string[];
  pin: string[];
  servername?: string;
  expiryDays: number;
  progress: boolean;
  report?: boolean;
  serverTargets?: boolean;
}

/** Every target on the server's list (paged), for `--server-targets`. */
async function serverTargets(): Promise<string[]> {
  const { api, failOnProblem } = await import("../cli/client.ts");
  const client = await api();
  const out: string[] = [];
  for (let offset = 0; ; offset += 200) {
    const res = await client.request<{ items: { target: string }[]; total: number }>(
      "GET",
      `/api/v1/scans/tls/targets?limit=200&offset=${offset}`,
    );
    failOnProblem(res);
    out.push(...res.body.items.map((t) => t.target));
    if (offset + 200 >= res.body.total) return out;
  }
}

/**
 * The certificate fingerprint `warden login` pinned (or WARDEN_CA_FINGERPRINT), if any: the user already
 * vouched for that exact certificate, so a scan of that Warden server does not call it untrusted. Offline
 * use without credentials simply has no pin.
 */
async function loginPin(): Promise<string[]> {
  try {
    const { loadCredentials } = await import("../cli/client.ts");
    const fingerprint = (await loadCredentials()).caFingerprint;
    return fingerprint && fingerprint.replace(/[^a-fA-F0-9]/g, "").length === 64 ? [fingerprint] : [];
  } catch {
    return [];
  }
}

export function registerScanTlsCommands(scan: Command, io: CliIo = defaultIo): void {
  scan
    .command("tls")
    .description(
      "Scan endpoints for plaintext and weak TLS: protocols, cipher suites, key exchange, certificate, HSTS, " +
        "PostgreSQL/MySQL/Redis plaintext, SSL Labs-style grade and Mozilla profile comparison",
    )
    .argument(
      "[targets...]",
      "host, host:port, or URL: https://, http://, tls://, postgres://, mysql://, redis://, rediss://",
    )
    .addOption(new Option("-f, --format <format>", "output format").choices(OUTPUT_FORMATS).default("text"))
    .option("-o, --output <file>", "write the report to a file instead of stdout")
    .addOption(
      new Option("--fail-on <severity>", "exit 1 when a finding is at or above this severity")
        .choices([...SEVERITIES, "none"])
        .default("none"),
    )
    .option("--concurrency <n>", "targets scanned at once", intOption("--concurrency", 1, 256), 8)
    .option("--connections <n>", "probe connections open at once", intOption("--connections", 1, 512), 32)
    .option("--timeout <ms>", "per-connection timeout in ms", intOption("--timeout", 100, 120000), 5000)
    .option(
      "--ca <file>",
      "extra trusted CA certificates (PEM), repeatable",
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option(
      "--pin <sha256>",
      "trust the certificate with this SHA-256 fingerprint as it is, repeatable (the one `warden login` pinned is trusted too)",
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option("--servername <name>", "name for SNI and certificate checks (for IP targets)")
    .option(
      "--expiry-days <n>",
      "warn about certificates expiring within n days",
      intOption("--expiry-days", 0, 3650),
      30,
    )
    .option("--no-progress", "no progress bar on a terminal")
    .option(
      "--server-targets",
      "also scan every target on the server's TLS scan list (resources of the catalog included); `warden login` first",
    )
    .option(
      "--report",
      "also send the results to the Warden server (`warden login` first); shown under Scans → TLS",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 no finding at/above --fail-on, 1 findings at/above it, 2 usage or I/O error\n" +
        "(including a --report the server refused).\n" +
        "Unreachable targets are reported (severity high), never counted as secure.",
    )
    .exitOverride((error) => {
      // Help and version exit 0; every usage error exits 2 (commander's default would be 1, our "findings").
      if (error.exitCode === 0) throw error;
      process.exit(EXIT_USAGE);
    })
    .action(async (targets: string[], options: TlsCommandOptions) => {
      process.exitCode = await runScanTls(targets, options, io);
    });
}

async function runScanTls(given: string[], options: TlsCommandOptions, io: CliIo): Promise<number> {
  let targets = given;
  if (options.serverTargets) {
    try {
      targets = [...new Set([...given, ...(await serverTargets())])];
    } catch (error) {
      const hint = (error as { hint?: string }).hint;
      io.stderr(`Cannot read the server's targets: ${(error as Error).message}${hint ? ` (${hint})` : ""}\n`);
      return EXIT_USAGE;
    }
  }
  if (targets.length === 0 && options.serverTargets) {
    io.stderr(
      "The server's TLS scan list is empty: add targets under Scans → TLS (catalog resources are added by the server), or name targets here.\n",
    );
    return EXIT_USAGE;
  }
  if (targets.length === 0) {
    io.stderr(
      "Name at least one target (host, host:port or URL), or use --server-targets. Example: warden scan tls example.com:443\n",
    );
    return EXIT_USAGE;
  }
  let extraCa: string[];
  try {
    extraCa = options.ca.map((file) => readFileSync(file, "utf8"));
  } catch (error) {
    io.stderr(`Cannot read --ca file: ${(error as Error).message}. Give a readable PEM file.\n`);
    return EXIT_USAGE;
  }
  const badPin = options.pin.find((p) => p.replace(/[^a-fA-F0-9]/g, "").length !== 64);
  if (badPin !== undefined) {
    io.stderr(`--pin ${badPin} is not a SHA-256 fingerprint: give 64 hex digits (colons allowed).\n`);
    return EXIT_USAGE;
  }
  const pinnedCertificates = [...options.pin, ...(await loginPin())];
  let bar: { start(total: number, value: number): void; increment(): void; stop(): void } | undefined;
  if (io.isTty && options.progress && targets.length > 1) {
    const { default: progress } = await import("cli-progress");
    bar = new progress.SingleBar(
      { format: "scan tls [{bar}] {value}/{total} targets", stream: process.stderr, clearOnComplete: true },
      progress.Presets.shades_classic,
    );
    bar.start(targets.length, 0);
  }
  let report: Awaited<ReturnType<typeof scanTls>>;
  try {
    // Loaded on use: `warden --help` and other commands need none of the probes.
    const { scanTls } = await import("./scan-tls.service.ts");
    report = await scanTls(
      targets,
      {
        concurrency: options.concurrency,
        maxConnections: options.connections,
        timeoutMs: options.timeout,
        extraCa,
        pinnedCertificates,
        serverName: options.servername,
        expiryWarningDays: options.expiryDays,
      },
      { onTargetDone: () => bar?.increment() },
    );
  } catch (error) {
    bar?.stop();
    if (isAppError(error)) {
      io.stderr(`${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  bar?.stop();
  const rendered = renderReport(report, options.format);
  if (options.output) {
    try {
      writeFileSync(options.output, rendered);
    } catch (error) {
      io.stderr(`Cannot write ${options.output}: ${(error as Error).message}. Choose a writable path.\n`);
      return EXIT_USAGE;
    }
  } else {
    io.stdout(rendered);
  }
  if (options.report) {
    try {
      // Loaded only here: the scanner stays usable offline without the API client.
      const { api, failOnProblem } = await import("../cli/client.ts");
      const client = await api();
      const res = await client.request<{ scans: unknown[] }>("POST", "/api/v1/scans/tls/reports", report);
      failOnProblem(res);
      io.stderr(`Reported ${res.body.scans.length} target(s) to ${client.base.origin}\n`);
    } catch (error) {
      const hint = (error as { hint?: string }).hint;
      io.stderr(`Cannot send the report: ${(error as Error).message}${hint ? ` (${hint})` : ""}\n`);
      return EXIT_USAGE;
    }
  }
  return exceedsThreshold(report, options.failOn) ? EXIT_FINDINGS : EXIT_OK;
}
