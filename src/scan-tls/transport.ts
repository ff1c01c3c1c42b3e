/**
 * Raw TCP connections for the probes: a bounded pool of simultaneous sockets, connect/read timeouts, and
 * the STARTTLS preambles of PostgreSQL (SSLRequest) and MySQL (SSL request packet) so the same TLS probes
 * run on database ports.
 */
import net from "node:net";

export type StartTls = "postgres" | "mysql" | undefined;

export interface Endpoint {
  /** Name as given (used for SNI and certificate name checks). */
  host: string;
  /** Resolved IP address to connect to. */
  address: string;
  port: number;
  startTls?: StartTls;
}

/** Error for a server that answers but declines TLS (e.g. PostgreSQL's 'N' to SSLRequest). */
export class NoTlsError extends Error {
  override name = "NoTlsError";
}

/**
 * A counting semaphore bounding simultaneous sockets across every target of a scan. A dozen lines; not
 * worth a dependency.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createLimiter(max: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    async run(task) {
      if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}

export function connectTcp(endpoint: Endpoint, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.address, port: endpoint.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** The peer accepted the connection but said nothing (within the timeout, or before closing). */
export class NoAnswerError extends Error {
  override name = "NoAnswerError";
}

/**
 * Reads from a socket until `accept` returns a value (or throws), the peer closes, or the timeout hits.
 * `accept` sees everything read so far (and the newest chunk) and returns undefined while it needs more.
 * `onEnd` decides what a close means, `onTimeout` what silence means (default: the same as a close).
 * Either may throw: the promise then rejects (they run in socket and timer callbacks, where a throw
 * would otherwise crash the process).
 */
export function readUntil<T>(
  socket: net.Socket,
  timeoutMs: number,
  accept: (data: Buffer, chunk: Buffer) => T | undefined,
  onEnd: (data: Buffer) => T,
  onTimeout: (data: Buffer) => T = onEnd,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onClose);
      socket.off("close", onClose);
      socket.off("error", onError);
      try {
        fn();
      } catch (error) {
        reject(error);
      }
    };
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      try {
        const result = accept(data, chunk);
        if (result !== undefined) finish(() => resolve(result));
      } catch (error) {
        finish(() => reject(error));
      }
    };
    const onClose = () => finish(() => resolve(onEnd(data)));
    const onError = (error: Error) => finish(() => (data.length > 0 ? resolve(onEnd(data)) : reject(error)));
    const timer = setTimeout(() => finish(() => resolve(onTimeout(data))), timeoutMs);
    socket.on("data", onData);
    socket.once("end", onClose);
    socket.once("close", onClose);
    socket.once("error", onError);
  });
}

/** PostgreSQL SSLRequest (protocol §55.2.10): length 8, code 80877103. */
export const PG_SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export const MYSQL_CLIENT_SSL = 0x0800;
const MYSQL_CLIENT_LONG_PASSWORD = 0x0001;
const MYSQL_CLIENT_PROTOCOL_41 = 0x0200;
const MYSQL_CLIENT_SECURE_CONNECTION = 0x8000;

export interface MysqlGreeting {
  protocolVersion: number;
  serverVersion: string;
  capabilities: number;
  /** Set when the server answered with an error packet instead of a greeting. */
  error?: string;
}

/** Reads one MySQL packet (3-byte little-endian length, 1-byte sequence). */
function mysqlPacket(data: Buffer): Buffer | undefined {
  if (data.length < 4) return undefined;
  const length = data.readUIntLE(0, 3);
  return data.length >= 4 + length ? data.subarray(4, 4 + length) : undefined;
}

/** Parses the initial handshake packet (protocol 10) far enough to read the capability flags. */
export function parseMysqlGreeting(payload: Buffer): MysqlGreeting {
  if (payload[0] === 0xff) {
    return {
      protocolVersion: 0,
      serverVersion: "",
      capabilities: 0,
      error: payload.subarray(3).toString("utf8"),
    };
  }
  const protocolVersion = payload[0] ?? 0;
  const nul = payload.indexOf(0, 1);
  if (nul < 0) throw new Error("malformed MySQL greeting");
  const serverVersion = payload.subarray(1, nul).toString("latin1");
  // version NUL, thread id (4), auth data part 1 (8), filler (1), capability flags lower (2)
  let offset = nul + 1 + 4 + 8 + 1;
  const lower = payload.readUInt16LE(offset);
  offset += 2;
  let upper = 0;
  // charset (1), status (2), capability flags upper (2) — absent in very old servers.
  if (payload.length >= offset + 5) upper = payload.readUInt16LE(offset + 3);
  return { protocolVersion, serverVersion, capabilities: lower | (upper << 16) };
}

export async function readMysqlGreeting(socket: net.Socket, timeoutMs: number): Promise<MysqlGreeting> {
  const payload = await readUntil(
    socket,
    timeoutMs,
    mysqlPacket,
    (data) => {
      if (data.length === 0) throw new NoAnswerError("closed the connection without a MySQL greeting");
      throw new Error("not a MySQL server: the connection closed inside the greeting");
    },
    (data) => {
      if (data.length === 0) throw new NoAnswerError(`sent no MySQL greeting within ${timeoutMs} ms`);
      throw new Error("not a MySQL server: incomplete greeting");
    },
  );
  return parseMysqlGreeting(payload);
}

/** The 32-byte SSLRequest packet (HandshakeResponse41 truncated after the filler), sequence 1. */
export function mysqlSslRequest(): Buffer {
  const body = Buffer.alloc(32);
  body.writeUInt32LE(
    MYSQL_CLIENT_SSL | MYSQL_CLIENT_LONG_PASSWORD | MYSQL_CLIENT_PROTOCOL_41 | MYSQL_CLIENT_SECURE_CONNECTION,
    0,
  );
  body.writeUInt32LE(16 * 1024 * 1024, 4);
  body[8] = 0x21; // utf8_general_ci
  return Buffer.concat([Buffer.from([32, 0, 0, 1]), body]);
}

/** Opens a socket on which the next bytes the server expects are a TLS ClientHello. */
export async function openTlsTransport(endpoint: Endpoint, timeoutMs: number): Promise<net.Socket> {
  const socket = await connectTcp(endpoint, timeoutMs);
  try {
    if (endpoint.startTls === "postgres") {
      socket.write(PG_SSL_REQUEST);
      const answer = await readUntil(
        socket,
        timeoutMs,
        (d) => (d.length >= 1 ? d[0] : undefined),
        () => undefined,
      );
      if (answer === 0x4e) throw new NoTlsError("PostgreSQL answered 'N' to SSLRequest: TLS is not enabled");
      if (answer !== 0x53) throw new NoTlsError("no answer to PostgreSQL SSLRequest");
    } else if (endpoint.startTls === "mysql") {
      const greeting = await readMysqlGreeting(socket, timeoutMs);
      if (greeting.error) throw new NoTlsError(`MySQL refused the connection: ${greeting.error}`);
      if ((greeting.capabilities & MYSQL_CLIENT_SSL) === 0)
        throw new NoTlsError("MySQL server does not advertise CLIENT_SSL: TLS is not enabled");
      socket.write(mysqlSslRequest());
    }
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}
