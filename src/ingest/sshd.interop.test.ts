/**
 * End to end with Debian's real OpenSSH server. sshd cannot send syslog to a remote receiver itself, so
 * the relay is the one a small deployment would use without rsyslog: sshd runs in the foreground with
 * `-D -e` (log to stderr) and util-linux `logger` forwards each line as RFC 5424 over TCP with RFC 6587
 * octet counting to Warden's receiver. A burst of failed password logins must raise an alert, and a
 * certificate login must be attributed to the developer named by the certificate's key id.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Alert } from "../alerts/index.ts";
import { createAlertEngine, failedLoginBurstRule, loadSigmaRules, sigmaAlertRule } from "../alerts/index.ts";
import { systemClock } from "../core/clock.ts";
import type { OcsfEvent } from "./ocsf.types.ts";
import { createSyslogReceiver, type SyslogReceiver } from "./syslog.receiver.ts";

const SSHD = "/usr/sbin/sshd";
const needed = [SSHD, "/usr/bin/ssh", "/usr/bin/ssh-keygen", "/usr/bin/logger"];
const missing = needed.filter((p) => !existsSync(p));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(pred: () => boolean, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "ignore"] });
    const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
    p.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

describe("OpenSSH server → syslog relay → receiver → rules", () => {
  let dir = "";
  let sshPort = 0;
  let sshd: ChildProcess | undefined;
  let relay: ChildProcess | undefined;
  let receiver: SyslogReceiver | undefined;
  const events: OcsfEvent[] = [];
  const alerts: Alert[] = [];
  const receiverErrors: string[] = [];

  beforeAll(async () => {
    if (missing.length > 0) {
      throw new Error(
        `missing ${missing.join(", ")}: run .ci/install-deps (Debian packages openssh-server, openssh-client, bsdutils)`,
      );
    }
    if (process.getuid?.() !== 0)
      throw new Error("this test starts sshd and logs in as root: run it as root (CI does)");
    dir = mkdtempSync(join(tmpdir(), "warden-sshd-"));
    // sshd's privilege separation needs its empty directory; Debian creates it when the service starts.
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const keygen = (...args: string[]) => execFileSync("ssh-keygen", ["-q", ...args], { stdio: "ignore" });
    keygen("-t", "ed25519", "-N", "", "-f", join(dir, "host_key"));
    keygen("-t", "ed25519", "-N", "", "-f", join(dir, "ca"));
    keygen("-t", "ed25519", "-N", "", "-f", join(dir, "dev_key"));
    // The certificate's key id names the Warden grant; the resolver below maps it to the developer.
    keygen(
      "-s",
      join(dir, "ca"),
      "-I",
      "warden:dev_7:grant_42",
      "-n",
      "root",
      "-z",
      "42",
      "-V",
      "-5m:+1h",
      join(dir, "dev_key.pub"),
    );
    writeFileSync(join(dir, "askpass"), "#!/bin/sh\necho not-the-password\n", { mode: 0o700 });

    const engine = createAlertEngine({
      rules: [
        failedLoginBurstRule({ threshold: 10, windowMs: 5 * 60_000 }),
        sigmaAlertRule(
          loadSigmaRules(`
title: sshd failed password
name: sshd_failed_password
logsource: { product: linux, service: sshd }
detection:
  keywords: ['failed password']
  condition: keywords
---
title: sshd password guessing from one address
correlation:
  type: event_count
  rules: [sshd_failed_password]
  group-by: [client_ip]
  timespan: 5m
  condition: { gte: 10 }
level: high
`),
        ),
      ],
      context: { developer: () => undefined },
      clock: systemClock,
      onAlert: (c) => {
        if (c.kind === "new") alerts.push(c.alert);
      },
    });
    receiver = await createSyslogReceiver({
      tcpPort: 0,
      resolveActor: (cred) => (cred.sshKeyId?.startsWith("warden:dev_7:") ? "dev_7" : undefined),
      onEvent: (e) => {
        events.push(e);
        engine.process(e);
      },
      onError: (e) => receiverErrors.push(`${e.kind}: ${e.message}`),
    });

    sshPort = await freePort();
    writeFileSync(
      join(dir, "sshd_config"),
      [
        `Port ${sshPort}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host_key")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        "AuthorizedKeysFile none",
        `TrustedUserCAKeys ${join(dir, "ca.pub")}`,
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "PermitRootLogin prohibit-password",
        "LogLevel VERBOSE",
        "MaxAuthTries 20",
        "MaxStartups 100",
        "",
      ].join("\n"),
    );
    sshd = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
    relay = spawn(
      "logger",
      [
        "--server",
        "127.0.0.1",
        "--port",
        String(receiver.ports.tcp),
        "--tcp",
        "--octet-count",
        "--rfc5424",
      ].concat(["--tag", "sshd", `--id=${sshd.pid}`, "--priority", "auth.info"]),
      { stdio: ["pipe", "ignore", "inherit"] },
    );
    sshd.stderr!.pipe(relay.stdin!);
    await waitFor(sshdListening, "sshd to listen");
  }, 60_000);

  // "Server listening" is not an event; probe the port instead.
  let listening = false;
  function sshdListening(): boolean {
    if (!listening) {
      const s = net.connect(sshPort, "127.0.0.1", () => {
        listening = true;
        s.destroy();
      });
      s.on("error", () => s.destroy());
    }
    return listening;
  }

  afterAll(async () => {
    sshd?.kill("SIGTERM");
    relay?.stdin?.end();
    await new Promise((r) => setTimeout(r, 200));
    relay?.kill("SIGTERM");
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const sshArgs = (...rest: string[]) => [
    ...["-p", String(sshPort), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
    ...["-o", "LogLevel=ERROR", ...rest],
  ];

  it("raises one grouped alert for a burst of failed password logins", async () => {
    const env = { SSH_ASKPASS: join(dir, "askpass"), SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" };
    for (let i = 0; i < 4; i++) {
      const code = await run(
        "ssh",
        sshArgs(
          ...["-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"],
          ...["-o", "NumberOfPasswordPrompts=3", "intruder@127.0.0.1", "true"],
        ),
        env,
      );
      expect(code).toBe(255);
    }
    const failures = () =>
      events.filter((e) => e.class_uid === 3002 && e.activity_id === 1 && e.status_id === 2);
    await waitFor(() => failures().length >= 12, "12 failed logins to arrive");
    expect(failures()[0]).toMatchObject({
      user: { name: "intruder" },
      src_endpoint: { ip: "127.0.0.1" },
      status_detail: "Invalid user",
      metadata: { product: { name: "OpenSSH" }, log_provider: "sshd" },
    });
    await waitFor(() => alerts.length >= 3, "alerts");
    const byRule = Object.fromEntries(alerts.map((a) => [`${a.ruleId} ${a.groupKey}`, a]));
    expect(Object.keys(byRule).sort()).toEqual([
      expect.stringMatching(/^failed-login-burst account\|intruder@/),
      "failed-login-burst address|127.0.0.1",
      "sigma:sshd password guessing from one address client_ip=127.0.0.1",
    ]);
    expect(byRule["failed-login-burst address|127.0.0.1"]!.count).toBe(3); // the 10th, 11th and 12th failure
    expect(receiverErrors).toEqual([]);
  });

  it("attributes a certificate login to the developer named by the key id", async () => {
    const code = await run(
      "ssh",
      sshArgs(
        ...["-i", join(dir, "dev_key"), "-o", `CertificateFile=${join(dir, "dev_key-cert.pub")}`],
        ...["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "root@127.0.0.1", "true"],
      ),
    );
    expect(code).toBe(0);
    const login = () => events.find((e) => e.class_uid === 3002 && e.status_id === 1);
    await waitFor(() => login() !== undefined, "the certificate login");
    expect(login()).toMatchObject({
      activity_id: 1,
      auth_protocol: "SSH certificate",
      user: { name: "root" },
      src_endpoint: { ip: "127.0.0.1" },
      warden: {
        developerId: "dev_7",
        credential: {
          sshKeyId: "warden:dev_7:grant_42",
          sshCertSerial: "42",
          sshCaFingerprint: expect.stringMatching(/^SHA256:/),
        },
      },
    });
    await waitFor(
      () => events.some((e) => e.class_uid === 4007 && e.activity_id === 2 && e.user?.name === "root"),
      "disconnect",
    );
  });
});
