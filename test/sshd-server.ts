/**
 * Debian's real OpenSSH server on a loopback port for interop tests, logging to a syslog receiver. sshd
 * cannot send syslog to a remote receiver itself, so the relay is the one a small deployment would use
 * without rsyslog: sshd in the foreground with `-D -e` (log to stderr) piped into util-linux `logger`,
 * which forwards each line as RFC 5424 over TCP with RFC 6587 octet counting.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SSHD = "/usr/sbin/sshd";
const NEEDED = [SSHD, "/usr/bin/ssh", "/usr/bin/ssh-keygen", "/usr/bin/logger"];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function waitFor(pred: () => boolean | Promise<boolean>, what: string, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a command with stdio ignored; resolves its exit code (killed after 20 s). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "ignore"] });
    const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
    p.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

export interface SshdFixture {
  dir: string;
  port: number;
  /** Signs `dev_key.pub` with the test CA under this key id; returns the certificate's path. */
  certify(keyId: string, serial: number): string;
  /** ssh arguments for this server (no host key checking, quiet). */
  sshArgs(...rest: string[]): string[];
  /** A client that always types a wrong password. */
  wrongPasswordEnv: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Starts sshd (root, a CA that signs user certificates, password logins allowed) logging to `syslogTcpPort`. */
export async function startSshd(syslogTcpPort: number): Promise<SshdFixture> {
  const missing = NEEDED.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(", ")}: run .ci/install-deps (Debian packages openssh-server, openssh-client, bsdutils)`,
    );
  }
  if (process.getuid?.() !== 0)
    throw new Error("this test starts sshd and logs in as root: run it as root (CI does)");
  const dir = mkdtempSync(join(tmpdir(), "warden-sshd-"));
  // sshd's privilege separation needs its empty directory; Debian creates it when the service starts.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const keygen = (...args: string[]) => execFileSync("ssh-keygen", ["-q", ...args], { stdio: "ignore" });
  keygen("-t", "ed25519", "-N", "", "-f", join(dir, "host_key"));
  keygen("-t", "ed25519", "-N", "", "-f", join(dir, "ca"));
  keygen("-t", "ed25519", "-N", "", "-f", join(dir, "dev_key"));
  writeFileSync(join(dir, "askpass"), "#!/bin/sh\necho not-the-password\n", { mode: 0o700 });
  const port = await freePort();
  writeFileSync(
    join(dir, "sshd_config"),
    [
      `Port ${port}`,
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
  const sshd: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const relay: ChildProcess = spawn(
    "logger",
    [
      ...["--server", "127.0.0.1", "--port", String(syslogTcpPort), "--tcp", "--octet-count", "--rfc5424"],
      ...["--tag", "sshd", `--id=${sshd.pid}`, "--priority", "auth.info"],
    ],
    { stdio: ["pipe", "ignore", "inherit"] },
  );
  sshd.stderr!.pipe(relay.stdin!);
  // "Server listening" is not an event; probe the port instead.
  let listening = false;
  await waitFor(() => {
    if (!listening) {
      const s = net.connect(port, "127.0.0.1", () => {
        listening = true;
        s.destroy();
      });
      s.on("error", () => s.destroy());
    }
    return listening;
  }, "sshd to listen");
  return {
    dir,
    port,
    certify(keyId, serial) {
      keygen(
        ...["-s", join(dir, "ca"), "-I", keyId, "-n", "root", "-z", String(serial), "-V", "-5m:+1h"],
        join(dir, "dev_key.pub"),
      );
      return join(dir, "dev_key-cert.pub");
    },
    sshArgs: (...rest) => [
      ...["-p", String(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"],
      ...["-o", "LogLevel=ERROR", ...rest],
    ],
    wrongPasswordEnv: { SSH_ASKPASS: join(dir, "askpass"), SSH_ASKPASS_REQUIRE: "force", DISPLAY: ":0" },
    async stop() {
      sshd.kill("SIGTERM");
      relay.stdin?.end();
      await new Promise((r) => setTimeout(r, 200));
      relay.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
