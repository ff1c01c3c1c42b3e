import { execFileSync } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { manualClock } from "../core/clock.ts";
import type { OcsfEvent } from "./ocsf.types.ts";
import {
  createFramer,
  createSyslogReceiver,
  type SyslogReceiver,
  type SyslogReceiverError,
} from "./syslog.receiver.ts";

const failed = (n: number) =>
  `<38>1 2026-03-10T12:00:0${n}Z bastion sshd 100 - - Failed password for root from 203.0.113.9 port 50${n}0 ssh2`;

function collector() {
  const events: OcsfEvent[] = [];
  const errors: SyslogReceiverError[] = [];
  let wake: (() => void) | undefined;
  const waitFor = async (pred: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error("timed out waiting for syslog input");
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 20);
      });
    }
  };
  return {
    events,
    errors,
    waitFor,
    onEvent: (e: OcsfEvent) => {
      events.push(e);
      wake?.();
    },
    onError: (e: SyslogReceiverError) => {
      errors.push(e);
      wake?.();
    },
  };
}

let receiver: SyslogReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function sendTcp(port: number, payload: string | Buffer, tlsOpts?: tls.ConnectionOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = tlsOpts
      ? tls.connect({ ...tlsOpts, host: "127.0.0.1", port }, () => sock.end(payload))
      : net.connect(port, "127.0.0.1", () => sock.end(payload));
    sock.on("close", () => resolve());
    sock.on("error", reject);
  });
}

describe("syslog receiver", () => {
  it("binds to loopback by default and receives UDP datagrams", async () => {
    const c = collector();
    receiver = await createSyslogReceiver({ udpPort: 0, onEvent: c.onEvent, onError: c.onError });
    const sock = dgram.createSocket("udp4");
    await new Promise<void>((r) => sock.send(failed(1), receiver!.ports.udp!, "127.0.0.1", () => r()));
    sock.close();
    await c.waitFor(() => c.events.length === 1);
    expect(c.events[0]).toMatchObject({ class_uid: 3002, status_id: 2, src_endpoint: { ip: "203.0.113.9" } });
    expect(c.events[0]!.unmapped?.syslog_peer).toMatch(/^127\.0\.0\.1:/);
  });

  it("reads octet-counted and newline-framed TCP messages, split across writes", async () => {
    const c = collector();
    receiver = await createSyslogReceiver({ tcpPort: 0, onEvent: c.onEvent, onError: c.onError });
    const a = failed(1);
    const b = failed(2);
    const octets = `${Buffer.byteLength(a)} ${a}${Buffer.byteLength(b)} ${b}`;
    await new Promise<void>((resolve) => {
      const s = net.connect(receiver!.ports.tcp!, "127.0.0.1", () => {
        s.write(octets.slice(0, 7));
        setTimeout(() => s.end(octets.slice(7)), 20);
      });
      s.on("close", () => resolve());
    });
    await sendTcp(receiver.ports.tcp!, `${failed(3)}\n${failed(4)}\n${failed(5)}`);
    await c.waitFor(() => c.events.length === 5);
    expect(c.events.map((e) => e.src_endpoint?.port)).toEqual([5010, 5020, 5030, 5040, 5050]);
    expect(c.errors).toEqual([]);
  });

  it("reports a malformed message and keeps receiving on the same connection", async () => {
    const c = collector();
    receiver = await createSyslogReceiver({ tcpPort: 0, udpPort: 0, onEvent: c.onEvent, onError: c.onError });
    await sendTcp(receiver.ports.tcp!, `garbage without pri\n${failed(6)}\n`);
    await c.waitFor(() => c.events.length === 1 && c.errors.length === 1);
    expect(c.errors[0]).toMatchObject({ kind: "parse", transport: "tcp", message: "missing <PRI>" });
    expect(receiver.stats()).toMatchObject({ events: 1, errors: 1 });
  });

  it("closes a stream whose octet count exceeds the limit, and still serves new connections", async () => {
    const c = collector();
    receiver = await createSyslogReceiver({
      tcpPort: 0,
      maxMessageBytes: 1024,
      onEvent: c.onEvent,
      onError: c.onError,
    });
    await sendTcp(receiver.ports.tcp!, "99999 <38>1 - - - - - - x");
    await c.waitFor(() => c.errors.length === 1);
    expect(c.errors[0]).toMatchObject({ kind: "frame" });
    await sendTcp(receiver.ports.tcp!, `${failed(7)}\n`);
    await c.waitFor(() => c.events.length === 1);
  });

  it("accepts RFC 5425 TLS and attributes the actor, timing RFC 3164 lines by the injected clock's year", async () => {
    const dir = mkdtempSync(join(tmpdir(), "warden-syslog-tls-"));
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:P-256",
          "-nodes",
          "-keyout",
          join(dir, "key.pem"),
          "-out",
          join(dir, "cert.pem"),
          "-days",
          "1",
          "-subj",
          "/CN=localhost",
        ],
        { stdio: "ignore" },
      );
      const key = readFileSync(join(dir, "key.pem"));
      const cert = readFileSync(join(dir, "cert.pem"));
      const c = collector();
      receiver = await createSyslogReceiver({
        tls: { port: 0, key, cert },
        clock: manualClock("2026-03-10T12:00:30Z"),
        resolveActor: (cred) => (cred.sshKeyId === "grant:g_1" ? "dev_1" : undefined),
        onEvent: c.onEvent,
        onError: c.onError,
      });
      const line =
        "<38>Mar 10 12:00:00 bastion sshd[5]: Accepted publickey for deploy from 198.51.100.4 port 40100 ssh2: ED25519-CERT SHA256:AAAA ID grant:g_1 (serial 3) CA ED25519 SHA256:CCCC";
      await sendTcp(receiver.ports.tls!, `${Buffer.byteLength(line)} ${line}`, {
        ca: cert,
        servername: "localhost",
      });
      await c.waitFor(() => c.events.length === 1);
      expect(c.events[0]!.warden.developerId).toBe("dev_1");
      expect(c.events[0]!.time).toBe(Date.parse("2026-03-10T12:00:00Z"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("RFC 6587 framer", () => {
  it("drops an over-long LF-framed line and resynchronises at the next LF", () => {
    const got: string[] = [];
    const errs: string[] = [];
    const f = createFramer(
      16,
      (m) => got.push(m),
      (m) => errs.push(m),
    );
    f.push(Buffer.from("<1>aaaaaaaaaaaaaaaaaaaaaaa"));
    f.push(Buffer.from("aaaa\n<1>ok\n<1>tail"));
    f.end();
    expect(got).toEqual(["<1>ok", "<1>tail"]);
    expect(errs).toHaveLength(1);
  });
});
