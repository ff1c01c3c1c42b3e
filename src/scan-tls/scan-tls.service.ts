import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { type Clock, systemClock } from "../core/clock.ts";
import { badRequest, invalidField } from "../core/errors.ts";
import {
  type CertificateInfo,
  certificateMatchesName,
  describeCertificate,
  fetchCertificateChain,
} from "./certificate.ts";
import { suiteById } from "./cipher-suites.ts";
import { deriveFindings } from "./findings.ts";
import { gradeTarget } from "./grade.ts";
import { compareWithMozilla } from "./mozilla.ts";
import {
  type DatabaseProbe,
  type HttpProbe,
  probeHttp,
  probeMysql,
  probePostgres,
  probeRedis,
  REDIS_NO_ANSWER,
} from "./plaintext.ts";
import {
  type ResolvedScanTlsOptions,
  type ScanTlsOptions,
  SEVERITIES,
  type Service,
  scanTlsOptionsSchema,
  type TargetResult,
  type TlsScanReport,
} from "./scan-tls.schemas.ts";
import { type AcceptedSuite, probeTls, type TlsProbeResult } from "./tls-probe.ts";
import { NAMED_GROUPS } from "./tls-wire.ts";
import { createLimiter, type Endpoint, type Limiter, NoAnswerError } from "./transport.ts";

export const SCANNER_VERSION = "1.0.0";

export interface ParsedTarget {
  input: string;
  service: Service;
  host: string;
  port: number;
  path: string;
}

const SCHEME_SERVICES: Record<string, { service: Service; port: number }> = {
  https: { service: "https", port: 443 },
  http: { service: "http", port: 80 },
  tls: { service: "tls", port: 443 },
  ssl: { service: "tls", port: 443 },
  postgres: { service: "postgres", port: 5432 },
  postgresql: { service: "postgres", port: 5432 },
  mysql: { service: "mysql", port: 3306 },
  redis: { service: "redis", port: 6379 },
  rediss: { service: "rediss", port: 6379 },
};

const PORT_SERVICES: Record<number, Service> = {
  80: "http",
  8080: "http",
  8000: "http",
  443: "https",
  8443: "https",
  5432: "postgres",
  3306: "mysql",
  6379: "redis",
};

/**
 * Accepts `host`, `host:port`, `[v6]:port`, or a URL whose scheme names the service (https, http, tls,
 * postgres, mysql, redis, rediss). A bare host:port gets its service from well-known ports, else TLS.
 */
export function parseTarget(input: string): ParsedTarget {
  const raw = input.trim();
  if (raw.length === 0 || raw.length > 2048 || /\s/.test(raw))
    throw invalidField("target", `"${input}" is not a host, host:port or URL`);
  if (raw.includes("://")) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw invalidField("target", `"${input}" is not a valid URL`);
    }
    const scheme = url.protocol.replace(/:$/, "").toLowerCase();
    const known = SCHEME_SERVICES[scheme];
    if (!known)
      throw invalidField(
        "target",
        `unsupported scheme "${scheme}" in "${input}"; use one of ${Object.keys(SCHEME_SERVICES).join(", ")}`,
      );
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!host) throw invalidField("target", `"${input}" has no host`);
    const port = url.port ? Number(url.port) : known.port;
    return { input, service: known.service, host, port, path: `${url.pathname || "/"}${url.search}` };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw);
  let host: string;
  let portText: string | undefined;
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if (isIP(raw) === 6) {
    host = raw;
  } else {
    const m = /^([^:]+)(?::(\d+))?$/.exec(raw);
    if (!m) throw invalidField("target", `"${input}" is not a host, host:port or URL`);
    host = m[1]!;
    portText = m[2];
  }
  const port = portText ? Number(portText) : 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw invalidField("target", `port in "${input}" must be 1-65535`);
  return { input, service: PORT_SERVICES[port] ?? "tls", host, port, path: "/" };
}

function suiteResult(s: AcceptedSuite) {
  const suite = suiteById(s.id);
  const weaknesses: string[] = [];
  if (suite?.nullCipher) weaknesses.push("NULL");
  if (suite?.anonymous) weaknesses.push("anonymous");
  if (suite?.export) weaknesses.push("export");
  if (suite?.rc4) weaknesses.push("RC4");
  if (suite?.block64) weaknesses.push("64-bit block");
  if (suite?.cbc) weaknesses.push("CBC");
  if (suite && !suite.forwardSecrecy && !suite.anonymous) weaknesses.push("no forward secrecy");
  const groupId = s.keyExchange?.kind === "ecdh" ? s.keyExchange.group : s.group;
  const group = groupId !== undefined ? NAMED_GROUPS[groupId] : undefined;
  return {
    id: `0x${s.id.toString(16).padStart(4, "0")}`,
    name: s.name,
    bits: suite?.bits ?? 0,
    keyExchange: suite?.kx ?? "unknown",
    dhBits: s.keyExchange?.kind === "dh" ? s.keyExchange.primeBits : undefined,
    group: group?.name ?? (groupId !== undefined ? `0x${groupId.toString(16)}` : undefined),
    groupBits: group?.bits,
    forwardSecrecy: suite?.forwardSecrecy ?? false,
    aead: suite?.aead ?? false,
    weaknesses,
  };
}

function tlsSection(probe: TlsProbeResult): NonNullable<TargetResult["tls"]> {
  const protocols = probe.protocols.map((p) => ({
    protocol: p.protocol,
    supported: p.supported,
    refusal: p.refusal,
    serverOrder: p.serverOrder,
    suites: p.suites.map(suiteResult),
  }));
  const suites = protocols.flatMap((p) => p.suites);
  const dh = suites.map((s) => s.dhBits).filter((b): b is number => b !== undefined);
  const ecGroups = [...new Set(suites.map((s) => s.group).filter((g): g is string => !!g))];
  const renegotiation = probe.protocols.map((p) => p.secureRenegotiation).filter((r) => r !== undefined);
  return {
    offered: protocols.some((p) => p.supported),
    noTlsReason: probe.noTlsReason,
    protocols,
    fallbackScsv: probe.fallbackScsv,
    secureRenegotiation: renegotiation.length ? renegotiation.every(Boolean) : undefined,
    minDhBits: dh.length ? Math.min(...dh) : undefined,
    ecGroups,
  };
}

async function certificateSection(
  endpoint: Endpoint,
  serverName: string,
  probe: TlsProbeResult,
  options: ResolvedScanTlsOptions,
  limiter: Limiter,
): Promise<TargetResult["certificate"]> {
  let chain: Buffer[] = [];
  let trusted: boolean | undefined;
  let trustError: string | undefined;
  try {
    const handshake = await limiter.run(() =>
      fetchCertificateChain(endpoint, {
        serverName: isIP(serverName) ? undefined : serverName,
        extraCa: options.extraCa,
        timeoutMs: options.timeoutMs,
      }),
    );
    chain = handshake.chain;
    trusted = handshake.authorized;
    trustError = handshake.authorizationError;
  } catch {
    // Node's TLS cannot talk to some legacy-only servers (SSLv3, RC4-only…); fall back to the chain the
    // raw probe saw, without a trust verdict.
    chain = probe.protocols.find((p) => p.certificates.length > 0)?.certificates ?? [];
  }
  const leaf = chain[0];
  if (!leaf) return undefined;
  let info: CertificateInfo;
  try {
    info = describeCertificate(leaf);
  } catch {
    return undefined;
  }
  // A pinned certificate is trusted as it is, as `warden login` trusts a server's generated certificate.
  const pinned =
    trusted !== true &&
    options.pinnedCertificates.includes(info.fingerprintSha256.replace(/:/g, "").toUpperCase());
  if (pinned) {
    trusted = true;
    trustError = undefined;
  }
  return {
    ...info,
    trusted,
    ...(pinned ? { pinned } : {}),
    trustError,
    nameMatches: certificateMatchesName(leaf, serverName),
    chainLength: chain.length,
  };
}

function databaseSection(db: DatabaseProbe): TargetResult["database"] {
  return { ...db };
}

function httpSection(h: HttpProbe): TargetResult["http"] {
  return { ...h };
}

async function resolve(host: string): Promise<string> {
  if (isIP(host)) return host;
  const { address } = await lookup(host);
  return address;
}

export interface ScanDeps {
  clock?: Clock;
  /** Called after each target, for progress display. */
  onTargetDone?: (result: TargetResult) => void;
}

async function scanOne(
  target: ParsedTarget,
  options: ResolvedScanTlsOptions,
  limiter: Limiter,
  clock: Clock,
): Promise<TargetResult> {
  const started = performance.now();
  const base = { target: target.input, service: target.service, host: target.host, port: target.port };
  const done = (partial: Omit<TargetResult, "findings" | "durationMs" | keyof typeof base>): TargetResult => {
    const result = { ...base, ...partial, durationMs: Math.round(performance.now() - started) };
    const findings = deriveFindings({ ...result }, clock.now(), options.expiryWarningDays);
    return {
      ...result,
      grade: gradeTarget(result),
      mozilla: compareWithMozilla(result),
      findings,
    };
  };

  let address: string;
  try {
    address = await resolve(target.host);
  } catch (error) {
    return done({
      status: "unreachable",
      error: `${target.host} does not resolve (${(error as { code?: string }).code ?? "error"})`,
    });
  }
  const endpoint: Endpoint = { host: target.host, address, port: target.port };
  const serverName = options.serverName ?? target.host;
  const timeoutMs = options.timeoutMs;

  try {
    if (target.service === "http") {
      const http = await limiter.run(() =>
        probeHttp(endpoint, { secure: false, path: target.path, timeoutMs }),
      );
      return done({ status: "scanned", address, http: httpSection(http) });
    }
    let database: TargetResult["database"];
    if (target.service === "postgres") {
      database = databaseSection(
        await limiter.run(() => probePostgres(endpoint, { timeoutMs, user: options.probeUser })),
      );
      endpoint.startTls = "postgres";
    } else if (target.service === "mysql") {
      database = databaseSection(
        await limiter.run(() => probeMysql(endpoint, { timeoutMs, user: options.probeUser })),
      );
      endpoint.startTls = "mysql";
    } else if (target.service === "redis") {
      database = databaseSection(await limiter.run(() => probeRedis(endpoint, { timeoutMs })));
      // A Redis port answering PING in plaintext does not speak TLS; nothing more to probe.
      if (database?.plaintextAccepted) return done({ status: "scanned", address, database });
    }
    if (database && !database.tlsOffered && database.service !== "redis")
      return done({ status: "scanned", address, database });

    const ctx = { endpoint, limiter, timeoutMs, serverName: isIP(serverName) ? undefined : serverName };
    const httpsProbe =
      target.service === "https"
        ? limiter
            .run(() =>
              probeHttp(endpoint, { secure: true, path: target.path, timeoutMs, serverName: ctx.serverName }),
            )
            .catch(() => undefined)
        : Promise.resolve(undefined);
    const probe = await probeTls(ctx);
    if (probe.connectError) {
      await httpsProbe;
      return done({
        status: "unreachable",
        address,
        error: `${target.host}:${target.port} ${probe.connectError}`,
      });
    }
    const tls = tlsSection(probe);
    if (database?.service === "redis") {
      database.tlsOffered = tls.offered;
      // Neither a plaintext PING nor a TLS handshake was answered: not a Redis that can be assessed.
      if (!tls.offered && !database.plaintextAccepted) {
        const silent = database.detail === REDIS_NO_ANSWER;
        return done({
          status: silent ? "unreachable" : "error",
          address,
          error: silent
            ? `${target.host}:${target.port} answered neither a Redis PING nor a TLS ClientHello (${tls.noTlsReason ?? "no answer"})`
            : `not a Redis server: ${database.detail}, and no TLS (${tls.noTlsReason ?? "no answer"})`,
        });
      }
    }
    const [certificate, https] = await Promise.all([
      tls.offered ? certificateSection(endpoint, serverName, probe, options, limiter) : undefined,
      httpsProbe,
    ]);
    return done({
      status: "scanned",
      address,
      tls,
      certificate,
      http: https ? httpSection(https) : undefined,
      database,
    });
  } catch (error) {
    if (error instanceof NoAnswerError)
      return done({
        status: "unreachable",
        address,
        error: `${target.host}:${target.port} ${error.message}`,
      });
    const e = error as NodeJS.ErrnoException;
    const unreachable = ["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET"].includes(
      e.code ?? "",
    );
    return done({
      status: unreachable ? "unreachable" : "error",
      address,
      error: unreachable ? `${target.host}:${target.port} did not answer (${e.code})` : e.message,
    });
  }
}

/**
 * Scans targets concurrently (at most `concurrency` targets and `maxConnections` sockets at once) and
 * returns one report. A target that does not resolve or answer is reported as "unreachable" with a
 * finding, never as secure. Throws AppError(validation_failed) for malformed targets or options.
 */
export async function scanTls(
  targets: ReadonlyArray<string>,
  options: ScanTlsOptions = {},
  deps: ScanDeps = {},
): Promise<TlsScanReport> {
  const parsedOptions = scanTlsOptionsSchema.safeParse(options);
  if (!parsedOptions.success) {
    throw badRequest(
      `invalid scan options: ${parsedOptions.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  if (targets.length === 0) throw invalidField("targets", "give at least one target");
  const opts = parsedOptions.data;
  const parsed = targets.map(parseTarget);
  const clock = deps.clock ?? systemClock;
  const startedAt = clock.now();
  const started = performance.now();
  const limiter = createLimiter(opts.maxConnections);
  const results: TargetResult[] = new Array(parsed.length);
  let next = 0;
  const worker = async () => {
    while (next < parsed.length) {
      const index = next++;
      results[index] = await scanOne(parsed[index]!, opts, limiter, clock);
      deps.onTargetDone?.(results[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, parsed.length) }, worker));

  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<
    (typeof SEVERITIES)[number],
    number
  >;
  for (const r of results) for (const f of r.findings) counts[f.severity]++;
  return {
    schemaVersion: 1,
    tool: { name: "warden scan tls", version: SCANNER_VERSION },
    startedAt: startedAt.toISOString(),
    finishedAt: clock.now().toISOString(),
    durationMs: Math.round(performance.now() - started),
    targets: results,
    summary: {
      targets: results.length,
      scanned: results.filter((r) => r.status === "scanned").length,
      unreachable: results.filter((r) => r.status === "unreachable").length,
      errors: results.filter((r) => r.status === "error").length,
      findings: counts,
      worst: SEVERITIES.find((s) => counts[s] > 0) ?? "none",
    },
  };
}
