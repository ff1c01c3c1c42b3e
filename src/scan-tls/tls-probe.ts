/**
 * Protocol and cipher enumeration with hand-built ClientHellos (see tls-wire.ts): for each protocol,
 * offer every suite we know, record the one the server picks, remove it and ask again until the server
 * refuses (the sslscan/testssl.sh method). Protocols are probed concurrently; every socket goes through
 * the scan-wide limiter.
 */
import { LEGACY_SUITES, suiteById, TLS13_SUITES } from "./cipher-suites.ts";
import {
  ALERT_NAMES,
  buildClientHello,
  createServerReplyParser,
  PROTOCOL_VERSION,
  PROTOCOLS,
  type Protocol,
  type ServerHelloInfo,
  type ServerKeyExchangeInfo,
  type ServerReply,
  type SuiteKxHint,
} from "./tls-wire.ts";
import {
  type Endpoint,
  type Limiter,
  NoAnswerError,
  NoTlsError,
  openTlsTransport,
  readUntil,
} from "./transport.ts";

export type ProbeOutcome =
  | ServerReply
  | { kind: "closed" }
  | { kind: "timeout" }
  | { kind: "connect-failed"; code: string; message: string }
  | { kind: "no-tls"; message: string };

export function kxHintFor(suiteId: number): SuiteKxHint {
  const suite = suiteById(suiteId);
  if (!suite) return "none";
  if (suite.kx === "DHE" || (suite.kx === "DH" && suite.anonymous)) return "dh";
  if (suite.kx === "ECDHE" || (suite.kx === "ECDH" && suite.anonymous)) return "ecdh";
  if (suite.kx === "RSA" && suite.export) return "rsa-export";
  return "none";
}

/** One connection: send a ClientHello, read the server's first flight, close. */
export async function exchangeHello(
  endpoint: Endpoint,
  hello: Buffer,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  let socket: Awaited<ReturnType<typeof openTlsTransport>>;
  try {
    socket = await openTlsTransport(endpoint, timeoutMs);
  } catch (error) {
    if (error instanceof NoTlsError) return { kind: "no-tls", message: error.message };
    if (error instanceof NoAnswerError) return { kind: "timeout" };
    const e = error as NodeJS.ErrnoException;
    return { kind: "connect-failed", code: e.code ?? "ERROR", message: e.message };
  }
  try {
    const parser = createServerReplyParser(kxHintFor);
    socket.write(hello);
    return await readUntil<ProbeOutcome>(
      socket,
      timeoutMs,
      (_all, chunk) => parser.push(chunk),
      () => parser.finish() ?? { kind: "closed" },
      () => parser.finish() ?? { kind: "timeout" },
    );
  } finally {
    socket.destroy();
  }
}

export interface AcceptedSuite {
  id: number;
  name: string;
  keyExchange?: ServerKeyExchangeInfo;
  /** TLS 1.3 group chosen in key_share. */
  group?: number;
}

export interface ProtocolResult {
  protocol: Protocol;
  supported: boolean;
  /** Suites in the order the server chose them when offered everything that was left. */
  suites: AcceptedSuite[];
  /** Why the first probe was refused, for the report (e.g. alert protocol_version). */
  refusal?: string;
  /** Certificates the server sent in a ≤1.2 handshake (leaf first). */
  certificates: Buffer[];
  secureRenegotiation?: boolean;
  /** Whether the server picks by its own preference rather than the client's order. */
  serverOrder?: boolean;
}

const NO_ANSWER = "no answer";

function describeRefusal(outcome: ProbeOutcome): string {
  switch (outcome.kind) {
    case "alert":
      return `alert ${ALERT_NAMES[outcome.description] ?? outcome.description}`;
    case "server-hello":
      return `server answered with version 0x${outcome.version.toString(16)}`;
    case "not-tls":
      return "answer is not TLS";
    case "malformed":
      return `malformed answer: ${outcome.reason}`;
    case "closed":
      return "connection closed";
    case "timeout":
      return NO_ANSWER;
    case "connect-failed":
      return `connect failed: ${outcome.code}`;
    case "no-tls":
      return outcome.message;
  }
}

function acceptedBy(
  outcome: ProbeOutcome,
  protocol: Protocol,
  offered: number[],
): ServerHelloInfo | undefined {
  if (outcome.kind !== "server-hello") return undefined;
  if (outcome.version !== PROTOCOL_VERSION[protocol]) return undefined;
  return offered.includes(outcome.cipherSuite) ? outcome : undefined;
}

export interface ProbeContext {
  endpoint: Endpoint;
  limiter: Limiter;
  timeoutMs: number;
  /** SNI name; undefined for IP targets. */
  serverName?: string;
}

async function probe(ctx: ProbeContext, protocol: Protocol, suites: number[], fallback = false) {
  const hello = buildClientHello({ protocol, suites, serverName: ctx.serverName, fallback });
  return ctx.limiter.run(() => exchangeHello(ctx.endpoint, hello, ctx.timeoutMs));
}

const MAX_SUITES_PER_PROTOCOL = 128;

/** Enumerates the suites one protocol accepts. */
export async function enumerateProtocol(ctx: ProbeContext, protocol: Protocol): Promise<ProtocolResult> {
  const all = (protocol === "TLSv1.3" ? TLS13_SUITES : LEGACY_SUITES).map((s) => s.id);
  const remaining = [...all];
  const result: ProtocolResult = { protocol, supported: false, suites: [], certificates: [] };
  while (remaining.length > 0 && result.suites.length < MAX_SUITES_PER_PROTOCOL) {
    const outcome = await probe(ctx, protocol, remaining);
    const hello = acceptedBy(outcome, protocol, remaining);
    if (!hello) {
      if (result.suites.length === 0) result.refusal = describeRefusal(outcome);
      break;
    }
    result.supported = true;
    if (result.certificates.length === 0 && hello.certificates.length > 0)
      result.certificates = hello.certificates;
    if (protocol !== "TLSv1.3" && result.secureRenegotiation === undefined)
      result.secureRenegotiation = hello.extensions.includes(0xff01);
    result.suites.push({
      id: hello.cipherSuite,
      name: suiteById(hello.cipherSuite)?.name ?? `0x${hello.cipherSuite.toString(16)}`,
      keyExchange: hello.serverKeyExchange,
      group: hello.keyShareGroup,
    });
    remaining.splice(remaining.indexOf(hello.cipherSuite), 1);
  }
  if (result.suites.length >= 2) {
    // Offer the accepted suites in reverse: a server that honours client order now picks the last one.
    const reversed = result.suites.map((s) => s.id).reverse();
    const outcome = await probe(ctx, protocol, reversed);
    const hello = acceptedBy(outcome, protocol, reversed);
    if (hello) result.serverOrder = hello.cipherSuite === result.suites[0]!.id;
  }
  return result;
}

export interface TlsProbeResult {
  protocols: ProtocolResult[];
  /** RFC 7507: undefined when fewer than two protocols are supported (nothing to fall back to). */
  fallbackScsv?: boolean;
  /** Set when no protocol answered; explains why (no TLS, closed, plaintext...). */
  noTlsReason?: string;
  /** Outcome of the first probe that failed to connect, when all of them did. */
  connectError?: string;
}

export async function probeTls(ctx: ProbeContext): Promise<TlsProbeResult> {
  const protocols = await Promise.all(PROTOCOLS.map((p) => enumerateProtocol(ctx, p)));
  const supported = protocols.filter((p) => p.supported);
  const result: TlsProbeResult = { protocols };
  if (supported.length === 0) {
    const reasons = protocols.map((p) => p.refusal ?? "");
    const connect = reasons.find((r) => r.startsWith("connect failed"));
    if (connect && reasons.every((r) => r.startsWith("connect failed"))) result.connectError = connect;
    // A port that accepts connections and then stays silent did not answer: that is not "no TLS".
    else if (reasons.every((r) => r === NO_ANSWER))
      result.connectError = `did not answer a TLS ClientHello within ${ctx.timeoutMs} ms`;
    result.noTlsReason =
      reasons.find((r) => !r.startsWith("alert")) ?? reasons[reasons.length - 1] ?? "no answer";
    return result;
  }
  if (supported.length >= 2) {
    // Pretend to be a client retrying one version lower than the best the server speaks.
    const below = supported[supported.length - 2]!;
    const outcome = await probe(
      ctx,
      below.protocol,
      below.suites.map((s) => s.id),
      true,
    );
    result.fallbackScsv = outcome.kind === "alert" && outcome.description === 86;
  }
  return result;
}
