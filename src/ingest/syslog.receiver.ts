/**
 * Syslog receiver: UDP (RFC 5426, one message per datagram), TCP (RFC 6587: octet counting or LF
 * framing, detected per message) and TLS (RFC 5425, octet counting or LF). Binds to 127.0.0.1 unless told
 * otherwise. A malformed message or frame is reported through onError and never stops the receiver; a
 * stream whose framing cannot be recovered (an oversized or non-numeric length) is closed.
 */
import dgram from "node:dgram";
import net from "node:net";
import tls from "node:tls";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import type { OcsfEvent, ResolveActor } from "./ocsf.types.ts";
import { attributeActor } from "./ocsf.types.ts";
import { normaliseSshdSyslog } from "./sshd.parser.ts";
import { parseSyslog, type SyslogMessage } from "./syslog.parser.ts";

export interface SyslogReceiverError {
  kind: "parse" | "frame" | "socket";
  transport: "udp" | "tcp" | "tls";
  message: string;
  peer?: string;
  /** The offending input, cut to 512 characters. */
  raw?: string;
}

export interface SyslogReceiverOptions {
  /** Default 127.0.0.1; anything else must be chosen deliberately by the operator. */
  host?: string;
  /** UDP port; 0 picks a free one; omitted = no UDP listener. */
  udpPort?: number;
  /** Plain TCP port; 0 picks a free one; omitted = no TCP listener. */
  tcpPort?: number;
  /** TLS listener (RFC 5425, usually port 6514). `ca` + `requestCert` enable client certificates. */
  tls?: {
    port: number;
    key: string | Buffer;
    cert: string | Buffer;
    ca?: string | Buffer;
    requestCert?: boolean;
  };
  /** Each normalised event (sshd messages by default). */
  onEvent?: (event: OcsfEvent, message: SyslogMessage) => void;
  /** Every successfully parsed message, normalised or not. */
  onMessage?: (message: SyslogMessage) => void;
  onError?: (error: SyslogReceiverError) => void;
  /** Message → OCSF; default: OpenSSH server messages. */
  normalise?: (message: SyslogMessage) => OcsfEvent | undefined;
  resolveActor?: ResolveActor;
  clock?: Clock;
  /** Zone for RFC 3164 timestamps (they carry none). Default UTC. */
  rfc3164TimeZone?: string;
  /** Largest accepted message in bytes (RFC 5425 asks receivers to take at least 2048). Default 65536. */
  maxMessageBytes?: number;
}

export interface SyslogReceiver {
  /** Actual bound ports (useful with port 0). */
  ports: { udp?: number; tcp?: number; tls?: number };
  stats: () => { messages: number; events: number; errors: number };
  close: () => Promise<void>;
}

export async function createSyslogReceiver(opts: SyslogReceiverOptions): Promise<SyslogReceiver> {
  const host = opts.host ?? "127.0.0.1";
  const clock = opts.clock ?? systemClock;
  const maxBytes = opts.maxMessageBytes ?? 65_536;
  const normalise = opts.normalise ?? normaliseSshdSyslog;
  const counters = { messages: 0, events: 0, errors: 0 };
  const sockets = new Set<net.Socket>();

  const report = (e: SyslogReceiverError) => {
    counters.errors += 1;
    if (e.raw && e.raw.length > 512) e.raw = e.raw.slice(0, 512);
    try {
      opts.onError?.(e);
    } catch {
      // A failing error callback must not take the receiver down.
    }
  };

  const handle = (raw: string, transport: SyslogReceiverError["transport"], peer: string) => {
    const parsed = parseSyslog(raw, {
      receivedAt: clock.now().getTime(),
      rfc3164TimeZone: opts.rfc3164TimeZone,
    });
    if (!parsed.ok) {
      report({ kind: "parse", transport, message: parsed.error, peer, raw: parsed.raw });
      return;
    }
    counters.messages += 1;
    try {
      opts.onMessage?.(parsed.message);
      const event = normalise(parsed.message);
      if (event) {
        attributeActor(event, opts.resolveActor);
        event.unmapped = { ...event.unmapped, syslog_peer: peer };
        counters.events += 1;
        opts.onEvent?.(event, parsed.message);
      }
    } catch (err) {
      report({ kind: "parse", transport, message: `handler failed: ${(err as Error).message}`, peer, raw });
    }
  };

  const ports: SyslogReceiver["ports"] = {};
  let udp: dgram.Socket | undefined;
  let tcp: net.Server | undefined;
  let tlsServer: tls.Server | undefined;

  if (opts.udpPort !== undefined) {
    const sock = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    udp = sock;
    sock.on("message", (buf, rinfo) => {
      const peer = `${rinfo.address}:${rinfo.port}`;
      if (buf.length > maxBytes) {
        report({
          kind: "frame",
          transport: "udp",
          message: `datagram of ${buf.length} bytes exceeds limit`,
          peer,
        });
        return;
      }
      handle(buf.toString("utf8"), "udp", peer);
    });
    sock.on("error", (err) => report({ kind: "socket", transport: "udp", message: err.message }));
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(opts.udpPort, host, () => {
        sock.off("error", reject);
        resolve();
      });
    });
    ports.udp = sock.address().port;
  }

  const onStream = (socket: net.Socket, transport: "tcp" | "tls") => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const framer = createFramer(
      maxBytes,
      (msg) => handle(msg, transport, peer),
      (message, fatal, raw) => {
        report({ kind: "frame", transport, message, peer, raw });
        if (fatal) socket.destroy();
      },
    );
    socket.on("data", (chunk: Buffer) => framer.push(chunk));
    socket.on("end", () => framer.end());
    socket.on("error", (err) => report({ kind: "socket", transport, message: err.message, peer }));
  };

  const listen = (server: net.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });

  if (opts.tcpPort !== undefined) {
    tcp = net.createServer((s) => onStream(s, "tcp"));
    tcp.on("error", (err) => report({ kind: "socket", transport: "tcp", message: err.message }));
    ports.tcp = await listen(tcp, opts.tcpPort);
  }
  if (opts.tls) {
    const t = opts.tls;
    tlsServer = tls.createServer(
      {
        key: t.key,
        cert: t.cert,
        ca: t.ca,
        requestCert: t.requestCert ?? false,
        rejectUnauthorized: t.requestCert ?? false,
      },
      (s) => onStream(s, "tls"),
    );
    tlsServer.on("tlsClientError", (err) =>
      report({ kind: "socket", transport: "tls", message: err.message }),
    );
    ports.tls = await listen(tlsServer, t.port);
  }

  return {
    ports,
    stats: () => ({ ...counters }),
    close: async () => {
      for (const s of sockets) s.destroy();
      const closes: Promise<void>[] = [];
      if (udp) closes.push(new Promise((r) => udp!.close(() => r())));
      for (const server of [tcp, tlsServer]) {
        if (server) closes.push(new Promise((r) => server.close(() => r())));
      }
      await Promise.all(closes);
    },
  };
}

/**
 * RFC 6587 stream framing. Each frame starts either with a decimal length and a space (octet counting,
 * §3.4.1) or with anything else, in which case it runs to the next LF (non-transparent framing, §3.4.2).
 * Senders do not mix them within a stream in practice, but detecting per frame costs nothing.
 */
export function createFramer(
  maxBytes: number,
  onMessage: (msg: string) => void,
  onError: (message: string, fatal: boolean, raw?: string) => void,
) {
  let buf: Buffer = Buffer.alloc(0);
  let dead = false;
  const drain = () => {
    while (!dead && buf.length > 0) {
      const first = buf[0]!;
      if (first === 10 || first === 13 || first === 0) {
        buf = buf.subarray(1); // stray separators between frames
        continue;
      }
      if (first >= 0x31 && first <= 0x39) {
        // Octet counting: MSG-LEN is a non-zero digit followed by digits, then SP.
        const sp = buf.indexOf(0x20);
        if (sp === -1) {
          if (buf.length > 10) {
            dead = true;
            onError("octet-counting length is not followed by a space", true, buf.subarray(0, 64).toString());
          }
          return;
        }
        const lenText = buf.subarray(0, sp).toString("latin1");
        if (!/^\d{1,10}$/.test(lenText)) {
          dead = true;
          onError(`bad octet-counting length ${JSON.stringify(lenText.slice(0, 16))}`, true);
          return;
        }
        const len = Number(lenText);
        if (len > maxBytes) {
          dead = true;
          onError(`frame of ${len} bytes exceeds limit of ${maxBytes}`, true);
          return;
        }
        if (buf.length < sp + 1 + len) return;
        const msg = buf.subarray(sp + 1, sp + 1 + len).toString("utf8");
        buf = buf.subarray(sp + 1 + len);
        onMessage(msg);
        continue;
      }
      const lf = buf.indexOf(0x0a);
      if (lf === -1) {
        if (buf.length > maxBytes) {
          // Recoverable: drop what we have and resynchronise at the next LF.
          onError(`line exceeds limit of ${maxBytes} bytes; dropped`, false, buf.subarray(0, 64).toString());
          buf = Buffer.alloc(0);
          skipToLf = true;
        }
        return;
      }
      const line = buf.subarray(0, lf).toString("utf8");
      buf = buf.subarray(lf + 1);
      if (skipToLf) {
        skipToLf = false;
        continue;
      }
      onMessage(line);
    }
  };
  let skipToLf = false;
  return {
    push(chunk: Buffer) {
      if (dead) return;
      if (skipToLf) {
        const lf = chunk.indexOf(0x0a);
        if (lf === -1) return;
        skipToLf = false;
        chunk = chunk.subarray(lf + 1);
      }
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      drain();
    },
    /** End of stream: a final line without LF still counts as a message. */
    end() {
      if (!dead && buf.length > 0 && !skipToLf) {
        const first = buf[0]!;
        if (!(first >= 0x31 && first <= 0x39)) onMessage(buf.toString("utf8"));
        else onError("stream ended inside an octet-counted frame", false);
      }
      buf = Buffer.alloc(0);
    },
  };
}
