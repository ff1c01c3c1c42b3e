import http from "node:http";
import type net from "node:net";
import type tls from "node:tls";

/**
 * `http://` on the HTTPS port answers with a redirect instead of a TLS alert or a hang.
 *
 * Every TLS connection starts with a handshake record, content type 22 (0x16, RFC 8446 §5.1); an HTTP
 * request starts with an ASCII method. The first byte is peeked, put back, and the socket goes to the
 * TLS server's own connection handler or to a tiny plain-HTTP server that only redirects. Node's
 * TLSSocket takes over bytes already buffered on the socket, so nothing of the handshake is lost.
 * (Hand-written: the libraries that do this, httpolyglot and its forks, wrap the whole server, which
 * Fastify creates itself; this keeps Fastify's server and adds ~40 lines.)
 */
export interface RedirectTarget {
  /** WARDEN_PUBLIC_URL: when set, every redirect goes to its origin. */
  publicUrl?: string | undefined;
  /** The HTTPS port, for redirects built from the request's Host header. */
  httpsPort: number;
  /** Fallback host when the request has no usable Host header. */
  defaultHost: string;
}

const HOSTNAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$|^\d{1,3}(?:\.\d{1,3}){3}$|^\[[0-9A-Fa-f:.]+\]$/;

/** Where a plain-HTTP request should go: same path on https, never another site. */
export function redirectLocation(
  req: Pick<http.IncomingMessage, "url" | "headers">,
  to: RedirectTarget,
): string {
  // Absolute-form ("http://other/…") or odd targets redirect to the root rather than elsewhere.
  const path = req.url?.startsWith("/") && !req.url.startsWith("//") ? req.url : "/";
  if (to.publicUrl) return `${new URL(to.publicUrl).origin}${path}`;
  const hostHeader = String(req.headers.host ?? "");
  const hostname = hostHeader.startsWith("[")
    ? hostHeader.slice(0, hostHeader.indexOf("]") + 1)
    : (hostHeader.split(":")[0] ?? "");
  const host = HOSTNAME.test(hostname)
    ? hostname
    : to.defaultHost.includes(":")
      ? `[${to.defaultHost}]`
      : to.defaultHost;
  return `https://${host}${to.httpsPort === 443 ? "" : `:${to.httpsPort}`}${path}`;
}

/** A plain-HTTP server that answers every request with 308 to the HTTPS URL (and never serves content). */
export function createRedirectServer(target: () => RedirectTarget): http.Server {
  const server = http.createServer((req, res) => {
    const location = redirectLocation(req, target());
    res.writeHead(308, {
      location,
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      connection: "close",
    });
    res.end(`Warden speaks HTTPS only: ${location}\n`);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return server;
}

/**
 * Makes the TLS server's port also answer plain HTTP with a redirect. Call before `listen`. Returns the
 * redirect server (its connections are closed with the TLS server).
 */
export function acceptPlaintextOnTlsPort(tlsServer: tls.Server, target: () => RedirectTarget): http.Server {
  const redirect = createRedirectServer(target);
  const tlsHandlers = tlsServer.listeners("connection") as ((socket: net.Socket) => void)[];
  tlsServer.removeAllListeners("connection");
  const toTls = (socket: net.Socket) => {
    for (const h of tlsHandlers) h.call(tlsServer, socket);
  };
  tlsServer.on("connection", (socket: net.Socket) => {
    const onError = () => socket.destroy();
    socket.on("error", onError);
    // A client that connects and sends nothing is dropped like the TLS server would drop it.
    socket.setTimeout(10_000, () => socket.destroy());
    socket.once("readable", () => {
      const first = socket.read(1) as Buffer | null;
      socket.setTimeout(0);
      socket.removeListener("error", onError);
      if (!first) {
        socket.destroy();
        return;
      }
      socket.unshift(first);
      if (first[0] === 0x16) toTls(socket);
      else redirect.emit("connection", socket);
    });
  });
  tlsServer.on("close", () => redirect.closeAllConnections());
  return redirect;
}
