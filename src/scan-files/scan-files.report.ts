import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { AppError } from "../core/errors.ts";
import {
  type Credentials,
  credentialsSchema,
  type ScanReport,
  scanReportSchema,
} from "./scan-files.schemas.ts";

export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "warden", "credentials.json");
}

/** Server and token: --server / WARDEN_SERVER and WARDEN_TOKEN first, then the file `warden login` wrote. */
export function resolveCredentials(
  serverFlag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Credentials {
  let file: Credentials | undefined;
  const path = credentialsPath(env);
  try {
    const parsed = credentialsSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (parsed.success) file = parsed.data;
  } catch {
    // no credentials file: env or flags must provide everything
  }
  const server = serverFlag || env.WARDEN_SERVER || file?.server;
  const token = env.WARDEN_TOKEN || file?.token;
  if (!server || !token)
    throw new AppError(
      "unauthenticated",
      `--report needs a server and a token: run \`warden login\`, or set WARDEN_SERVER and WARDEN_TOKEN (looked in ${path})`,
    );
  const sameServer = file && file.server.replace(/\/+$/, "") === server.replace(/\/+$/, "");
  return {
    server,
    token,
    ...(sameServer && file?.caFingerprint ? { caFingerprint: file.caFingerprint } : {}),
  };
}

const normalizeFp = (s: string) => s.replace(/:/g, "").toLowerCase();

/**
 * POSTs the (redacted) report. With a pinned certificate fingerprint the body is only written once the
 * TLS handshake showed that exact certificate; Warden servers often use a generated self-signed one.
 */
export async function sendReport(
  report: ScanReport,
  creds: Credentials,
): Promise<{ status: number; body: string }> {
  const payload = JSON.stringify(scanReportSchema.parse(report));
  let url: URL;
  try {
    url = new URL("/api/v1/scans/files/reports", creds.server);
  } catch {
    throw new AppError("bad_request", `Invalid server URL ${creds.server}`);
  }
  const isHttps = url.protocol === "https:";
  if (!isHttps && url.protocol !== "http:")
    throw new AppError("bad_request", `Unsupported server URL scheme ${url.protocol}`);
  const pinned = creds.caFingerprint ? normalizeFp(creds.caFingerprint) : undefined;
  const headers = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
    authorization: `Bearer ${creds.token}`,
    "user-agent": `warden-scan/${report.tool.version}`,
  };
  return new Promise((resolvePromise, reject) => {
    const options: https.RequestOptions = {
      method: "POST",
      headers,
      agent: false,
      timeout: 30_000,
      ...(isHttps && pinned ? { rejectUnauthorized: false } : {}),
    };
    const req = (isHttps ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size < 1024 * 1024) chunks.push(c);
      });
      res.on("end", () =>
        resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () =>
      req.destroy(new AppError("unavailable", `No answer from ${url.origin} within 30 s`)),
    );
    req.on("error", (e) =>
      reject(
        e instanceof AppError
          ? e
          : new AppError("unavailable", `Cannot reach ${url.origin}: ${(e as Error).message}`),
      ),
    );
    if (isHttps && pinned) {
      req.on("socket", (socket) => {
        (socket as TLSSocket).once("secureConnect", () => {
          const cert = (socket as TLSSocket).getPeerCertificate();
          const fp = cert?.fingerprint256 ? normalizeFp(cert.fingerprint256) : "";
          if (fp !== pinned) {
            req.destroy(
              new AppError(
                "forbidden",
                `Server certificate of ${url.origin} does not match the pinned fingerprint: not sending`,
              ),
            );
            return;
          }
          req.end(payload);
        });
      });
    } else req.end(payload);
  });
}
