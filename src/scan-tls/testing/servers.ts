/**
 * Throwaway servers on loopback for the scanner's tests and benchmark: Node TLS/HTTP(S), `openssl s_server`
 * and nginx, each with its own port and temp directory, all stopped by `stop()`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";

export interface Running {
  port: number;
  stop(): Promise<void>;
}

/** Fails with the fix when a Debian binary is missing. */
export function requireBinary(name: string, debianPackage: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(
      `${name} is not installed: run .ci/install-deps (Debian package ${debianPackage}) before these tests`,
    );
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port}`);
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

/**
 * close() waits for open connections, and scanners (ours, testssl.sh) may leave some half-open, so the
 * stopper tracks every socket and destroys them first; only HTTP servers have closeAllConnections().
 */
function stopper(server: net.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      (server as http.Server).closeAllConnections?.();
      server.close(() => resolve());
    });
}

/** A TLS server that completes handshakes and then closes. */
export async function startTlsServer(options: tls.TlsOptions): Promise<Running> {
  const server = tls.createServer(options, (socket) => socket.end());
  server.on("tlsClientError", () => {});
  const port = await listen(server);
  return { port, stop: stopper(server) };
}

/** An HTTPS server answering every request with the given headers. */
export async function startHttpsServer(
  options: https.ServerOptions,
  headers: Record<string, string> = {},
): Promise<Running> {
  const server = https.createServer(options, (_req, res) => {
    res.writeHead(200, { "content-type": "text/plain", ...headers });
    res.end("ok\n");
  });
  server.on("tlsClientError", () => {});
  const port = await listen(server);
  return { port, stop: stopper(server) };
}

/** A plain HTTP server; with `redirectTo`, every request gets a 301 to that URL. */
export async function startHttpServer(redirectTo?: string): Promise<Running> {
  const server = http.createServer((_req, res) => {
    if (redirectTo) res.writeHead(301, { location: redirectTo }).end();
    else res.writeHead(200, { "content-type": "text/plain" }).end("hello in the clear\n");
  });
  const port = await listen(server);
  return { port, stop: stopper(server) };
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `warden-scan-tls-${prefix}-`));
}

async function startProcess(
  name: string,
  command: string,
  args: string[],
  port: number,
  dir: string,
): Promise<Running> {
  const child = spawn(command, args, { cwd: dir, stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += String(d);
  });
  try {
    await waitForPort(port, child, name);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}: ${stderr.slice(0, 500)}`);
  }
  return {
    port,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        // A server that ignores SIGTERM (or is mid-handshake) is killed after five seconds.
        const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(force);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `openssl s_server` with extra arguments (e.g. -tls1 -cipher 'ALL:@SECLEVEL=0'). */
export async function startOpenSslServer(certPem: string, keyPem: string, args: string[]): Promise<Running> {
  requireBinary("openssl", "openssl");
  const dir = tempDir("openssl");
  writeFileSync(join(dir, "cert.pem"), certPem);
  writeFileSync(join(dir, "key.pem"), keyPem, { mode: 0o600 });
  const port = await freePort();
  return startProcess(
    "openssl s_server",
    "openssl",
    [
      "s_server",
      "-accept",
      `127.0.0.1:${port}`,
      "-cert",
      "cert.pem",
      "-key",
      "key.pem",
      "-www",
      "-quiet",
      ...args,
    ],
    port,
    dir,
  );
}

/** DH parameters of the given size (DSA-style generation: fast, fine for a test group). */
export function dhParams(bits: number): string {
  return execFileSync("openssl", ["dhparam", "-dsaparam", String(bits)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
}

export interface NginxOptions {
  certPem: string;
  keyPem: string;
  /** Lines inside the TLS server block (ssl_protocols, ssl_ciphers, add_header…). */
  tlsDirectives: string[];
}

/**
 * Debian's nginx as a throwaway instance: its own prefix, config, pid and logs; a TLS server block and a
 * plain HTTP block that redirects to it. Returns the TLS port; the HTTP port is `httpPort`.
 */
export async function startNginx(options: NginxOptions): Promise<Running & { httpPort: number }> {
  const nginx = requireBinary("nginx", "nginx-light");
  const dir = tempDir("nginx");
  writeFileSync(join(dir, "cert.pem"), options.certPem);
  writeFileSync(join(dir, "key.pem"), options.keyPem, { mode: 0o600 });
  const port = await freePort();
  const httpPort = await freePort();
  const conf = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name localhost;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    ${options.tlsDirectives.join("\n    ")}
    location / { return 200 "ok\\n"; }
  }
  server {
    listen 127.0.0.1:${httpPort};
    server_name localhost;
    location / { return 301 https://localhost:${port}$request_uri; }
  }
}
`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  const running = await startProcess(
    "nginx",
    nginx,
    ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log"), "-g", "daemon off;"],
    port,
    dir,
  );
  return { ...running, httpPort };
}
