import type { X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { CliError, EXIT } from "./output.ts";

/**
 * The CLI is a client of the API (like kubectl). Credentials live in the user's config dir with mode
 * 0600. A self-signed server is trusted by pinning its certificate's SHA-256 fingerprint, the one
 * `warden serve` prints, instead of switching verification off.
 */
export interface Credentials {
  server: string;
  token: string;
  /** Pinned SHA-256 fingerprint ("AB:CD:..."), for servers with a self-signed certificate. */
  caFingerprint?: string | undefined;
}

export function credentialsPath(env = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config");
  return path.join(base, "warden", "credentials.json");
}

export async function saveCredentials(c: Credentials, file = credentialsPath()): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

export async function loadCredentials(env = process.env): Promise<Credentials> {
  if (env.WARDEN_SERVER && env.WARDEN_TOKEN) {
    return { server: env.WARDEN_SERVER, token: env.WARDEN_TOKEN, caFingerprint: env.WARDEN_CA_FINGERPRINT };
  }
  const file = credentialsPath(env);
  if (!existsSync(file)) {
    throw new CliError(
      "Not signed in to a Warden server",
      EXIT.unauthenticated,
      "Run `warden login --server https://host:8443`, or set WARDEN_SERVER and WARDEN_TOKEN",
    );
  }
  try {
    const c = JSON.parse(await readFile(file, "utf8")) as Credentials;
    if (!c.server || !c.token) throw new Error("incomplete");
    return c;
  } catch {
    throw new CliError(
      `The credentials file ${file} is unreadable`,
      EXIT.unauthenticated,
      "Run `warden login` again",
    );
  }
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

const normFp = (fp: string) => fp.replace(/[^a-fA-F0-9]/g, "").toUpperCase();

/** Fetches the server certificate's fingerprint, for `warden login` to show and pin. */
export function peerFingerprint(server: string): Promise<string> {
  const u = new URL(server);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: u.hostname,
        port: u.port || 443,
        method: "HEAD",
        path: "/healthz",
        rejectUnauthorized: false,
        timeout: 10_000,
      },
      (res) => {
        const cert = (res.socket as tls.TLSSocket).getPeerX509Certificate?.() as X509Certificate | undefined;
        res.resume();
        if (!cert) reject(new Error("the server sent no certificate"));
        else resolve(cert.fingerprint256);
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.end();
  });
}

export function createApiClient(creds: {
  server: string;
  token?: string | undefined;
  cookie?: string;
  csrf?: string;
  caFingerprint?: string | undefined;
}) {
  const base = new URL(creds.server);
  if (base.protocol !== "https:")
    throw new CliError(`The server URL must be https:// (got ${creds.server})`, EXIT.usage);

  /**
   * Opens a request and hands it over once the connection is ready (and, for a pinned server, only
   * after the certificate's fingerprint matched): the caller writes or streams the body and ends it.
   */
  function open(
    method: string,
    urlPath: string,
    extraHeaders: Record<string, string>,
    onResponse: (res: http.IncomingMessage) => void,
    timeoutMs = 60_000,
  ): Promise<http.ClientRequest> {
    const u = new URL(urlPath, base);
    const headers: Record<string, string> = {
      accept: "application/json, application/problem+json",
      ...extraHeaders,
    };
    if (creds.token) headers.authorization = `Bearer ${creds.token}`;
    if (creds.cookie) headers.cookie = creds.cookie;
    if (creds.csrf) headers["x-csrf-token"] = creds.csrf;
    const pinned = creds.caFingerprint;
    return new Promise((resolve, reject) => {
      const fail = (e: NodeJS.ErrnoException) => {
        const hint =
          e.code === "ECONNREFUSED"
            ? "Is `warden serve` running at that address?"
            : /self.signed|unable to verify|fingerprint/i.test(e.message)
              ? "Run `warden login` again to pin the server's certificate"
              : undefined;
        reject(new CliError(`Cannot reach ${base.origin}: ${e.message}`, EXIT.unavailable, hint));
      };
      const ready = (req: http.ClientRequest) => {
        req.on("timeout", () =>
          req.destroy(new Error(`the server did not answer within ${Math.round(timeoutMs / 1000)} s`)),
        );
        resolve(req);
      };
      const opts = {
        host: u.hostname,
        port: u.port || 443,
        path: `${u.pathname}${u.search}`,
        method,
        headers,
        timeout: timeoutMs,
      };
      if (!pinned) {
        ready(https.request(opts, onResponse).once("error", fail));
        return;
      }
      // A pinned (self-signed) server: Node skips checkServerIdentity when the chain does not verify,
      // so the pin is checked on a raw TLS socket before a single byte of the request (or the token)
      // is written, and only then is HTTP spoken over that socket.
      const socket = tls.connect({
        host: u.hostname,
        port: Number(u.port || 443),
        servername: net.isIP(u.hostname) ? undefined : u.hostname,
        rejectUnauthorized: false,
        ALPNProtocols: ["http/1.1"],
      });
      socket.once("error", fail);
      socket.once("secureConnect", () => {
        const got = socket.getPeerX509Certificate()?.fingerprint256 ?? "";
        if (normFp(got) !== normFp(pinned)) {
          socket.destroy();
          fail(new Error(`the server's certificate fingerprint ${got} does not match the pinned ${pinned}`));
          return;
        }
        socket.removeListener("error", fail);
        ready(http.request({ ...opts, createConnection: () => socket }, onResponse).once("error", fail));
      });
    });
  }

  function request<T = unknown>(
    method: string,
    urlPath: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
    raw?: Buffer,
  ): Promise<ApiResponse<T>> {
    const payload = raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
    const headers: Record<string, string> = { ...extraHeaders };
    if (payload && !raw) headers["content-type"] = "application/json";
    if (payload) headers["content-length"] = String(payload.length);
    return new Promise((resolve, reject) => {
      const onResponse = (res: http.IncomingMessage) => {
        readResponse<T>(res).then(resolve, reject);
      };
      open(method, urlPath, headers, onResponse).then((req) => {
        req.on("error", (e: NodeJS.ErrnoException) =>
          reject(new CliError(`Cannot reach ${base.origin}: ${e.message}`, EXIT.unavailable)),
        );
        if (payload) req.write(payload);
        req.end();
      }, reject);
    });
  }
  return { request, open, base };
}

export type ApiClient = ReturnType<typeof createApiClient>;

/** Reads a whole (small) response: JSON bodies parsed, anything else as bytes. */
export function readResponse<T = unknown>(res: http.IncomingMessage): Promise<ApiResponse<T>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("error", reject);
    res.on("end", () => {
      const buf = Buffer.concat(chunks);
      const type = String(res.headers["content-type"] ?? "");
      let parsed: unknown = buf;
      if (type.includes("json") && buf.length) {
        try {
          parsed = JSON.parse(buf.toString("utf8"));
        } catch {
          parsed = buf.toString("utf8");
        }
      }
      resolve({ status: res.statusCode ?? 0, body: parsed as T, headers: res.headers });
    });
  });
}

/** Turns a problem+json answer into a CLI error with the right exit code. */
/**
 * The command-line option for a field of a request body ("body/maxDownloads" → "--max-downloads",
 * "body/to/1" → "--to #2"); `options` names those whose option is called otherwise.
 */
export function optionForField(field: string, options: Record<string, string> = {}): string {
  if (!field.startsWith("body/")) return field;
  const [name = "", ...rest] = field.slice("body/".length).split("/");
  const option = options[name] ?? `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const index = rest.length === 1 && /^\d+$/.test(rest[0]!) ? ` #${Number(rest[0]) + 1}` : "";
  return `${option}${index || (rest.length ? ` (${rest.join(".")})` : "")}`;
}

export function failOnProblem(res: ApiResponse, options: Record<string, string> = {}): void {
  if (res.status < 400) return;
  const p = (res.body ?? {}) as { detail?: string; errors?: { field: string; message: string }[] };
  const errors = p.errors ?? [];
  const first = errors[0];
  // A validation problem's detail repeats its first field error in the API's terms: say it once, in the CLI's.
  const detail =
    first && p.detail === `${first.field}: ${first.message}`
      ? "Invalid input"
      : (p.detail ?? `HTTP ${res.status}`);
  const fields = errors.length
    ? `\n${errors.map((e) => `  ${optionForField(e.field, options)}: ${e.message}`).join("\n")}`
    : "";
  const code =
    res.status === 401
      ? EXIT.unauthenticated
      : res.status === 403
        ? EXIT.forbidden
        : res.status === 404
          ? EXIT.notFound
          : res.status === 409
            ? EXIT.conflict
            : res.status === 400 || res.status === 413 || res.status === 415
              ? EXIT.usage
              : res.status >= 500
                ? EXIT.unavailable
                : EXIT.failure;
  const hint =
    res.status === 401 ? "Your token may have expired or been revoked: run `warden login`" : undefined;
  throw new CliError(`${detail}${fields}`, code, hint);
}

export async function api(): Promise<ApiClient> {
  return createApiClient(await loadCredentials());
}
