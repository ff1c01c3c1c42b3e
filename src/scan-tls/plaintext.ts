/**
 * Probes for services that accept plaintext: HTTP (and whether it redirects to HTTPS), HSTS on HTTPS,
 * PostgreSQL (SSLRequest, then a plaintext StartupMessage), MySQL (greeting capability flags, then a
 * plaintext login attempt with a user that does not exist) and Redis (plaintext PING). No credential is
 * ever sent: the database probes stop at the server's first answer to the startup/login packet.
 */
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import {
  connectTcp,
  type Endpoint,
  MYSQL_CLIENT_SSL,
  NoAnswerError,
  PG_SSL_REQUEST,
  readMysqlGreeting,
  readUntil,
} from "./transport.ts";

export interface HttpProbe {
  status: number;
  location?: string;
  redirectsToHttps: boolean;
  /** Raw Strict-Transport-Security header (HTTPS only). */
  hsts?: string;
  hstsMaxAge?: number;
  hstsIncludeSubDomains?: boolean;
  hstsPreload?: boolean;
}

export function parseHsts(value: string): { maxAge?: number; includeSubDomains: boolean; preload: boolean } {
  const directives = value.split(";").map((d) => d.trim().toLowerCase());
  const maxAge = directives.map((d) => /^max-age\s*=\s*"?(\d+)"?$/.exec(d)).find((m) => m !== null);
  return {
    maxAge: maxAge ? Number(maxAge[1]) : undefined,
    includeSubDomains: directives.includes("includesubdomains"),
    preload: directives.includes("preload"),
  };
}

/** One GET without following redirects; reads headers only. */
export function probeHttp(
  endpoint: Endpoint,
  options: { secure: boolean; path: string; timeoutMs: number; serverName?: string },
): Promise<HttpProbe> {
  const client = options.secure ? https : http;
  const hostHeader =
    endpoint.port === (options.secure ? 443 : 80) ? endpoint.host : `${endpoint.host}:${endpoint.port}`;
  return new Promise((resolve, reject) => {
    const req = client.request(
      {
        host: endpoint.address,
        port: endpoint.port,
        path: options.path,
        method: "GET",
        headers: { host: hostHeader, "user-agent": "warden-scan-tls", connection: "close" },
        timeout: options.timeoutMs,
        ...(options.secure
          ? {
              rejectUnauthorized: false,
              servername: options.serverName,
              minVersion: "TLSv1" as const,
              ciphers: "ALL:@SECLEVEL=0",
            }
          : {}),
        agent: false,
      },
      (res) => {
        const location = typeof res.headers.location === "string" ? res.headers.location : undefined;
        const status = res.statusCode ?? 0;
        const result: HttpProbe = {
          status,
          location,
          redirectsToHttps: status >= 300 && status < 400 && /^https:\/\//i.test(location ?? ""),
        };
        const hsts = res.headers["strict-transport-security"];
        if (options.secure && typeof hsts === "string") {
          const parsed = parseHsts(hsts);
          result.hsts = hsts;
          result.hstsMaxAge = parsed.maxAge;
          result.hstsIncludeSubDomains = parsed.includeSubDomains;
          result.hstsPreload = parsed.preload;
        }
        res.destroy();
        resolve(result);
      },
    );
    req.on("timeout", () =>
      req.destroy(new NoAnswerError(`did not answer an HTTP request within ${options.timeoutMs} ms`)),
    );
    req.on("error", reject);
    req.end();
  });
}

export interface DatabaseProbe {
  service: "postgres" | "mysql" | "redis";
  tlsOffered: boolean;
  plaintextAccepted: boolean;
  /** For Redis: the server answered PING without AUTH. */
  unauthenticated?: boolean;
  serverVersion?: string;
  detail: string;
}

async function withSocket<T>(endpoint: Endpoint, timeoutMs: number, fn: (s: net.Socket) => Promise<T>) {
  const socket = await connectTcp(endpoint, timeoutMs);
  try {
    return await fn(socket);
  } finally {
    socket.destroy();
  }
}

/** PostgreSQL StartupMessage, protocol 3.0 (frontend/backend protocol §55.7). */
function pgStartup(user: string, database: string): Buffer {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0application_name\0warden-scan-tls\0\0`);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + params.length, 0);
  header.writeUInt32BE(196608, 4);
  return Buffer.concat([header, params]);
}

/** Reads one backend message: type byte, then an int32 length that counts itself. */
function pgMessage(data: Buffer): { type: string; body: Buffer } | undefined {
  if (data.length < 5) return undefined;
  const length = data.readUInt32BE(1);
  if (data.length < 1 + length) return undefined;
  return { type: String.fromCharCode(data[0]!), body: data.subarray(5, 1 + length) };
}

function pgErrorFields(body: Buffer): Record<string, string> {
  const fields: Record<string, string> = {};
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const code = String.fromCharCode(body[offset]!);
    const end = body.indexOf(0, offset + 1);
    if (end < 0) break;
    fields[code] = body.subarray(offset + 1, end).toString("utf8");
    offset = end + 1;
  }
  return fields;
}

export async function probePostgres(
  endpoint: Endpoint,
  options: { timeoutMs: number; user: string },
): Promise<DatabaseProbe> {
  const answer = await withSocket(endpoint, options.timeoutMs, async (socket) => {
    socket.write(PG_SSL_REQUEST);
    return readUntil(
      socket,
      options.timeoutMs,
      (d) => (d.length >= 1 ? d[0] : undefined),
      () => undefined,
    );
  });
  if (answer === undefined) throw new NoAnswerError("did not answer a PostgreSQL SSLRequest");
  if (answer !== 0x53 && answer !== 0x4e)
    throw new Error("not a PostgreSQL server: unexpected answer to SSLRequest");
  const tlsOffered = answer === 0x53;
  const reply = await withSocket(endpoint, options.timeoutMs, async (socket) => {
    socket.write(pgStartup(options.user, options.user));
    const message = await readUntil(socket, options.timeoutMs, pgMessage, () => undefined);
    // Terminate politely before closing if the server let us in.
    if (message?.type === "R") socket.write(Buffer.from([0x58, 0, 0, 0, 4]));
    return message;
  });
  if (!reply)
    return {
      service: "postgres",
      tlsOffered,
      plaintextAccepted: false,
      detail: "no answer to a plaintext startup",
    };
  if (reply.type === "E") {
    const fields = pgErrorFields(reply.body);
    const message = fields.M ?? "";
    // pg_hba "hostssl" only: "no pg_hba.conf entry for host …, no encryption" (PG ≥ 12) / "SSL off" (older).
    const refused = fields.C === "28000" && /no encryption|SSL off/i.test(message);
    return {
      service: "postgres",
      tlsOffered,
      plaintextAccepted: !refused,
      detail: refused
        ? "plaintext startup refused by pg_hba"
        : `plaintext startup processed (server said: ${fields.C ?? "?"})`,
    };
  }
  return {
    service: "postgres",
    tlsOffered,
    plaintextAccepted: reply.type === "R" || reply.type === "v",
    detail:
      reply.type === "R" ? "plaintext startup accepted (authentication request)" : `answer '${reply.type}'`,
  };
}

/** MySQL HandshakeResponse41 for a user that does not exist, with an empty auth response. */
function mysqlLogin(user: string): Buffer {
  const caps = 0x0001 | 0x0200 | 0x8000 | 0x00080000; // LONG_PASSWORD, PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH
  const fixed = Buffer.alloc(32);
  fixed.writeUInt32LE(caps, 0);
  fixed.writeUInt32LE(16 * 1024 * 1024, 4);
  fixed[8] = 0x21;
  const body = Buffer.concat([
    fixed,
    Buffer.from(`${user}\0`),
    Buffer.from([0]),
    Buffer.from("mysql_native_password\0"),
  ]);
  const header = Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, (body.length >> 16) & 0xff, 1]);
  return Buffer.concat([header, body]);
}

export async function probeMysql(
  endpoint: Endpoint,
  options: { timeoutMs: number; user: string },
): Promise<DatabaseProbe> {
  return withSocket(endpoint, options.timeoutMs, async (socket) => {
    const greeting = await readMysqlGreeting(socket, options.timeoutMs);
    if (greeting.error) throw new Error(`MySQL refused the connection: ${greeting.error}`);
    if (greeting.protocolVersion !== 10) throw new Error("not a MySQL server: unexpected greeting");
    const tlsOffered = (greeting.capabilities & MYSQL_CLIENT_SSL) !== 0;
    socket.write(mysqlLogin(options.user));
    const packet = await readUntil(
      socket,
      options.timeoutMs,
      (d) =>
        d.length >= 4 && d.length >= 4 + d.readUIntLE(0, 3)
          ? d.subarray(4, 4 + d.readUIntLE(0, 3))
          : undefined,
      () => undefined,
    );
    let plaintextAccepted = true;
    let detail = "plaintext login processed";
    if (packet?.[0] === 0xff) {
      const code = packet.readUInt16LE(1);
      const message = packet.subarray(packet[3] === 0x23 ? 9 : 3).toString("utf8");
      // ER_SECURE_TRANSPORT_REQUIRED (MySQL 3159); MariaDB words it the same way.
      if (code === 3159 || /insecure transport|secure transport/i.test(message)) {
        plaintextAccepted = false;
        detail = "plaintext login refused: secure transport required";
      } else {
        detail = `plaintext login processed (error ${code})`;
      }
    } else if (!packet) {
      plaintextAccepted = false;
      detail = "no answer to a plaintext login";
    }
    return { service: "mysql", tlsOffered, plaintextAccepted, serverVersion: greeting.serverVersion, detail };
  });
}

/** probeRedis's detail when the port said nothing at all to a plaintext PING. */
export const REDIS_NO_ANSWER = "no plaintext answer to PING";

export async function probeRedis(endpoint: Endpoint, options: { timeoutMs: number }): Promise<DatabaseProbe> {
  return withSocket(endpoint, options.timeoutMs, async (socket) => {
    socket.write("PING\r\n");
    const line = await readUntil(
      socket,
      options.timeoutMs,
      (d) => {
        const end = d.indexOf("\r\n");
        return end >= 0 ? d.subarray(0, end).toString("latin1") : undefined;
      },
      () => undefined,
    );
    if (line === "+PONG") {
      return {
        service: "redis",
        tlsOffered: false,
        plaintextAccepted: true,
        unauthenticated: true,
        detail: "PING answered in plaintext without authentication",
      };
    }
    if (line?.startsWith("-NOAUTH") || line?.startsWith("-WRONGPASS")) {
      return {
        service: "redis",
        tlsOffered: false,
        plaintextAccepted: true,
        unauthenticated: false,
        detail: "plaintext accepted; authentication required",
      };
    }
    return {
      service: "redis",
      tlsOffered: false,
      plaintextAccepted: false,
      detail: line === undefined ? REDIS_NO_ANSWER : "unexpected answer to PING",
    };
  });
}
