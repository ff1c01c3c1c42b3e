import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { ConnectionOptions } from "node:tls";

/**
 * libpq's `sslmode` for WARDEN_DATABASE_URL (https://www.postgresql.org/docs/current/libpq-ssl.html).
 *
 * node-postgres reads `sslmode` itself but with its own meaning (`require` verifies the certificate,
 * `prefer` never falls back), so Warden takes the TLS parameters out of the URL and builds the `ssl`
 * option the way libpq defines them:
 *
 * | sslmode     | encrypted            | server certificate checked              |
 * | disable     | no                   | -                                       |
 * | allow       | only if the server insists | no                                |
 * | prefer (default) | if the server offers it, else plaintext | no                   |
 * | require     | yes                  | no (chain only, if sslrootcert is given) |
 * | verify-ca   | yes                  | chain to sslrootcert                    |
 * | verify-full | yes                  | chain to sslrootcert and the host name  |
 *
 * `sslrootcert` is a PEM file, or `system` for Node's bundled roots; without it the verify modes use
 * `~/.postgresql/root.crt` when present, else Node's roots. `sslcert`/`sslkey` give a client
 * certificate. The fallback of `prefer`/`allow` is decided once when the store opens, not per connection.
 */
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

const TLS_PARAMS = ["sslmode", "sslrootcert", "sslcert", "sslkey", "ssl", "uselibpqcompat", "sslcompression"];

export interface PgConnectionPlan {
  /** The URL without its TLS parameters (node-postgres would otherwise apply its own reading of them). */
  connectionString: string;
  mode: SslMode;
  /** What to connect with first. */
  ssl: false | ConnectionOptions;
  /** prefer: plaintext if the server has no TLS; allow: TLS if the server refuses plaintext. */
  fallback?: false | ConnectionOptions;
}

export class PgSslConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PgSslConfigError";
  }
}

/** The sslmode named in a URL, or an error message for a value libpq does not know. */
export function sslModeOf(url: string): { mode: SslMode } | { error: string } {
  let mode: string | null;
  try {
    mode = new URL(url).searchParams.get("sslmode");
  } catch {
    return { error: "a valid URL" };
  }
  if (mode === null) return { mode: "prefer" };
  if ((SSL_MODES as readonly string[]).includes(mode)) return { mode: mode as SslMode };
  return { error: `sslmode to be one of ${SSL_MODES.join(", ")} (got ${mode})` };
}

const readPem = (file: string, what: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new PgSslConfigError(
      `Cannot read ${what} ${file} from WARDEN_DATABASE_URL: ${(e as Error).message}`,
    );
  }
};

export function pgConnectionPlan(url: string, home = os.homedir()): PgConnectionPlan {
  const u = new URL(url);
  const checked = sslModeOf(url);
  if ("error" in checked) throw new PgSslConfigError(`WARDEN_DATABASE_URL: expected ${checked.error}`);
  const { mode } = checked;
  const q = u.searchParams;
  const rootcert = q.get("sslrootcert");
  const clientCert = q.get("sslcert");
  const clientKey = q.get("sslkey");
  for (const p of TLS_PARAMS) q.delete(p);
  const connectionString = u.toString();

  const host = decodeURIComponent(u.hostname.replace(/^\[|\]$/g, ""));
  const client: ConnectionOptions = {};
  if (clientCert) client.cert = readPem(clientCert, "sslcert");
  if (clientKey) client.key = readPem(clientKey, "sslkey");
  // SNI carries names only (RFC 6066 §3); an IP address is still checked against the certificate's IP SANs.
  if (host && !net.isIP(host) && !host.startsWith("/")) client.servername = host;

  const roots = (): ConnectionOptions => {
    if (rootcert === "system") return {};
    if (rootcert) return { ca: readPem(rootcert, "sslrootcert") };
    const dflt = path.join(home, ".postgresql", "root.crt");
    return existsSync(dflt) ? { ca: readPem(dflt, "the default root certificate") } : {};
  };
  const noVerify: ConnectionOptions = { ...client, rejectUnauthorized: false };
  const chainOnly = (): ConnectionOptions => ({
    ...client,
    ...roots(),
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
  });

  switch (mode) {
    case "disable":
      return { connectionString, mode, ssl: false };
    case "allow":
      return { connectionString, mode, ssl: false, fallback: noVerify };
    case "prefer":
      return { connectionString, mode, ssl: noVerify, fallback: false };
    case "require":
      // libpq: with a root certificate given, require behaves like verify-ca.
      return { connectionString, mode, ssl: rootcert ? chainOnly() : noVerify };
    case "verify-ca":
      return { connectionString, mode, ssl: chainOnly() };
    case "verify-full":
      return { connectionString, mode, ssl: { ...client, ...roots(), rejectUnauthorized: true } };
  }
}

/** Whether a connection error means "try the fallback" for prefer (no TLS on the server) or allow (TLS required). */
export function wantsFallback(plan: PgConnectionPlan, err: unknown): boolean {
  if (plan.fallback === undefined) return false;
  const e = err as { message?: string; code?: string };
  const msg = e?.message ?? "";
  if (plan.mode === "prefer") return /does not support SSL/i.test(msg);
  // allow: the server refused a plaintext connection (pg_hba.conf has only hostssl lines for us).
  return e?.code === "28000" && /no encryption/i.test(msg);
}
