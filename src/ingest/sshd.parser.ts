/**
 * OpenSSH server log messages → OCSF events. The message texts are those of OpenSSH 8.x–10.x
 * (auth.c auth_log(), auth2-pubkey.c, packet.c and sshd.c); the tests hold real lines, including ones
 * captured from Debian's sshd in src/ingest/sshd.int.test.ts.
 *
 * - Accepted/Failed <method> for [invalid user] U from IP port P ssh2[: KEY]  → Authentication 3002 Logon
 * - Invalid user U from IP port P                                            → Authentication 3002 Other (failure)
 * - Starting session: KIND for U from IP port P                              → SSH Activity 4007 Open
 * - Connection from IP port P on IP port P                                   → SSH Activity 4007 Open
 * - Disconnected from / Received disconnect from / Connection closed by      → SSH Activity 4007 Close
 * - Timeout before authentication / maximum authentication attempts exceeded → SSH Activity 4007 Fail / Refuse
 * - pam_unix(sshd:session): session opened|closed for user U                 → SSH Activity 4007 Open / Close
 */

import {
  type ActorCredential,
  AuthenticationActivity,
  OCSF_VERSION,
  type OcsfEvent,
  ocsfEvent,
  Severity,
  SshActivity,
  SshAuthType,
  Status,
} from "./ocsf.types.ts";
import type { SyslogMessage } from "./syslog.parser.ts";

/** Program names under which OpenSSH's server logs (sshd-session and sshd-auth since OpenSSH 9.8/10.0). */
export const SSHD_PROGRAMS: ReadonlySet<string> = new Set(["sshd", "sshd-session", "sshd-auth"]);

export interface SshdLine {
  message: string;
  time: number;
  hostname?: string;
  program?: string;
  pid?: string;
  raw?: string;
}

export interface SshKeyInfo {
  type: string;
  fingerprint: string;
  cert?: { keyId: string; serial: string; caType: string; caFingerprint: string };
}

const AUTH_RE =
  /^(Accepted|Failed|Partial) (\S+) for (invalid user )?(.*?) from (\S+) port (\d+)(?: (ssh2))?(?:: (.*))?$/;
// "ED25519-CERT SHA256:x ID key id (serial 7) CA ED25519 SHA256:y" or "ED25519 SHA256:x"
const KEY_RE = /^(\S+) (\S+)(?: ID (.*) \(serial (\d+)\) CA (\S+) (\S+))?/;
const INVALID_USER_RE = /^Invalid user (.*?) from (\S+)(?: port (\d+))?$/;
const CONNECTION_FROM_RE = /^Connection from (\S+) port (\d+) on (\S+) port (\d+)/;
// "Disconnected from user U IP port P", "... invalid user U IP port P [preauth]",
// "... authenticating user U IP port P [preauth]", "Disconnected from IP port P"
const DISCONNECTED_RE =
  /^Disconnected from (?:(user|invalid user|authenticating user) (.*) )?(\S+) port (\d+)/;
const RECEIVED_DISCONNECT_RE = /^Received disconnect from (\S+) port (\d+):(\d+): ?(.*?)(?: \[preauth\])?$/;
const CONNECTION_CLOSED_RE =
  /^Connection (closed|reset) by (?:(invalid user|authenticating user|user) (.*) )?(\S+) port (\d+)/;
const TIMEOUT_RE = /^Timeout before authentication for (\S+) port (\d+)/;
const MAX_ATTEMPTS_RE =
  /maximum authentication attempts exceeded for (invalid user )?(.*?) from (\S+) port (\d+)/;
// "Starting session: shell on pts/0 for ana from IP port P id 0", "... command for ...", "... subsystem 'sftp' for ..."
const STARTING_SESSION_RE = /^Starting session: (.*?) for (\S+) from (\S+) port (\d+)/;
const PAM_SESSION_RE = /^pam_unix\(sshd:session\): session (opened|closed) for user ([^\s(]+)/;

const methodAuthType: Record<string, number> = {
  password: SshAuthType.password,
  publickey: SshAuthType.publicKey,
  "keyboard-interactive": SshAuthType.keyboardInteractive,
  "keyboard-interactive/pam": SshAuthType.keyboardInteractive,
  hostbased: SshAuthType.hostBased,
  "gssapi-with-mic": SshAuthType.gssapi,
  "gssapi-keyex": SshAuthType.gssapi,
};

export function parseSshKey(text: string): SshKeyInfo | undefined {
  const m = KEY_RE.exec(text);
  if (!m) return undefined;
  const info: SshKeyInfo = { type: m[1]!, fingerprint: m[2]! };
  if (m[3] !== undefined) info.cert = { keyId: m[3], serial: m[4]!, caType: m[5]!, caFingerprint: m[6]! };
  return info;
}

const PRODUCT = { name: "OpenSSH", vendor_name: "OpenBSD" };

function base(line: SshdLine) {
  const b: {
    time: number;
    message: string;
    metadata: OcsfEvent["metadata"];
    raw_data: string;
    warden: OcsfEvent["warden"];
    dst_endpoint?: OcsfEvent["dst_endpoint"];
  } = {
    time: line.time,
    message: line.message,
    metadata: {
      version: OCSF_VERSION,
      product: { ...PRODUCT },
      log_provider: line.program ?? "sshd",
      log_name: "auth",
    },
    raw_data: line.raw ?? line.message,
    warden: { source: "syslog" },
  };
  if (line.hostname) {
    b.dst_endpoint = { hostname: line.hostname };
    b.warden.resource = { kind: "server", name: line.hostname };
  }
  return b;
}

/** Drops undefined fields by copying: `delete` would push V8 objects into slow dictionary mode. */
function clean<T extends object>(o: T): T {
  const out = {} as T;
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function endpoint(ip: string, port: string | undefined) {
  return port ? { ip, port: Number(port) } : { ip };
}

/** Parses one sshd message; undefined when the line carries no security-relevant event. */
export function parseSshdMessage(line: SshdLine): OcsfEvent | undefined {
  let msg = line.message;
  // sshd prefixes some lines with their log level ("error: ", "fatal: ") and -e adds nothing else.
  if (msg.startsWith("error: ")) msg = msg.slice(7);
  else if (msg.startsWith("fatal: ")) msg = msg.slice(7);
  const preauth = msg.endsWith(" [preauth]");
  if (preauth) msg = msg.slice(0, -10);
  const c0 = msg.charCodeAt(0);

  // "Accepted certificate ID ..." (VERBOSE) is logged for each key check, before the outcome, and is
  // left out: the "Accepted publickey ... ID ..." line that follows carries the same certificate details.
  if (c0 === 65 /* A */ || c0 === 70 /* F */ || c0 === 80 /* P */) {
    const m = AUTH_RE.exec(msg);
    if (m) return authEvent(line, m);
  }
  if (msg.startsWith("Invalid user ")) {
    const m = INVALID_USER_RE.exec(msg);
    if (!m) return undefined;
    const b = base(line);
    return clean(
      ocsfEvent("authentication", {
        ...b,
        activity_id: AuthenticationActivity.other,
        activity_name: "Invalid user",
        severity_id: Severity.low,
        status_id: Status.failure,
        status: "Failure",
        status_detail: "Invalid user",
        user: { name: m[1]! },
        actor: { user: { name: m[1]! } },
        src_endpoint: endpoint(m[2]!, m[3]),
        unmapped: { ssh: { invalid_user: true } },
      }),
    );
  }
  if (msg.startsWith("Connection from ")) {
    const m = CONNECTION_FROM_RE.exec(msg);
    if (!m) return undefined;
    const b = base(line);
    return clean(
      ocsfEvent("sshActivity", {
        ...b,
        activity_id: SshActivity.open,
        activity_name: "Open",
        severity_id: Severity.informational,
        status_id: Status.unknown,
        src_endpoint: endpoint(m[1]!, m[2]),
        dst_endpoint: clean({ ip: m[3]!, port: Number(m[4]), hostname: line.hostname }),
      }),
    );
  }
  for (const [re, build] of TAIL_PATTERNS) {
    const m = re.exec(msg);
    if (m) return build(m, line, preauth);
  }
  return undefined;
}

type TailBuilder = (m: RegExpExecArray, line: SshdLine, preauth: boolean) => OcsfEvent;

const TAIL_PATTERNS: Array<[RegExp, TailBuilder]> = [
  [
    DISCONNECTED_RE,
    (m, line, preauth) => {
      return closeEvent(line, m[2], m[1] === "invalid user", m[3]!, m[4]!, "Disconnected", preauth);
    },
  ],
  [
    RECEIVED_DISCONNECT_RE,
    (m, line, preauth) => {
      return closeEvent(
        line,
        undefined,
        false,
        m[1]!,
        m[2]!,
        `Received disconnect: ${m[4] || m[3]}`,
        preauth,
      );
    },
  ],
  [
    CONNECTION_CLOSED_RE,
    (m, line, preauth) => {
      return closeEvent(line, m[3], m[2] === "invalid user", m[4]!, m[5]!, `Connection ${m[1]}`, preauth);
    },
  ],
  [
    TIMEOUT_RE,
    (m, line, _preauth) => {
      const b = base(line);
      return clean(
        ocsfEvent("sshActivity", {
          ...b,
          activity_id: SshActivity.fail,
          activity_name: "Fail",
          severity_id: Severity.low,
          status_id: Status.failure,
          status: "Failure",
          status_detail: "Timeout before authentication",
          src_endpoint: endpoint(m[1]!, m[2]),
        }),
      );
    },
  ],
  [
    MAX_ATTEMPTS_RE,
    (m, line, _preauth) => {
      const b = base(line);
      return clean(
        ocsfEvent("sshActivity", {
          ...b,
          activity_id: SshActivity.refuse,
          activity_name: "Refuse",
          severity_id: Severity.medium,
          status_id: Status.failure,
          status: "Failure",
          status_detail: "Maximum authentication attempts exceeded",
          user: { name: m[2]! },
          actor: { user: { name: m[2]! } },
          src_endpoint: endpoint(m[3]!, m[4]),
          unmapped: m[1] ? { ssh: { invalid_user: true } } : undefined,
        }),
      );
    },
  ],
  [
    STARTING_SESSION_RE,
    (m, line) => {
      const b = base(line);
      return clean(
        ocsfEvent("sshActivity", {
          ...b,
          activity_id: SshActivity.open,
          activity_name: "Open",
          severity_id: Severity.informational,
          status_id: Status.success,
          status: "Success",
          status_detail: `Session started: ${m[1]}`,
          user: { name: m[2]! },
          actor: { user: { name: m[2]! } },
          src_endpoint: endpoint(m[3]!, m[4]),
        }),
      );
    },
  ],
  [
    PAM_SESSION_RE,
    (m, line, _preauth) => {
      const opened = m[1] === "opened";
      const b = base(line);
      return clean(
        ocsfEvent("sshActivity", {
          ...b,
          activity_id: opened ? SshActivity.open : SshActivity.close,
          activity_name: opened ? "Open" : "Close",
          severity_id: Severity.informational,
          status_id: Status.success,
          status: "Success",
          status_detail: `Session ${m[1]}`,
          user: { name: m[2]! },
          actor: { user: { name: m[2]! } },
        }),
      );
    },
  ],
];

// The hottest path (password guessing floods logs): built as one literal, without spreads or cleaning.
function authEvent(line: SshdLine, m: RegExpExecArray): OcsfEvent {
  const verdict = m[1]!;
  const method = m[2]!;
  const invalid = m[3] !== undefined;
  const user = m[4]!;
  const keyText = m[8];
  const success = verdict === "Accepted";
  const partial = verdict === "Partial";
  const key = keyText ? parseSshKey(keyText) : undefined;
  const b = base(line);
  const ssh: Record<string, unknown> = { method };
  if (partial) ssh.partial = true;
  if (invalid) ssh.invalid_user = true;
  if (key) {
    ssh.key_type = key.type;
    ssh.fingerprint = key.fingerprint;
    const credential: ActorCredential = { sshKeyFingerprint: key.fingerprint };
    if (key.cert) {
      ssh.cert = {
        key_id: key.cert.keyId,
        serial: key.cert.serial,
        ca_type: key.cert.caType,
        ca_fingerprint: key.cert.caFingerprint,
      };
      credential.sshKeyId = key.cert.keyId;
      credential.sshCertSerial = key.cert.serial;
      credential.sshCaFingerprint = key.cert.caFingerprint;
    }
    b.warden.credential = credential;
  }
  const isCert = key?.cert !== undefined;
  const event: OcsfEvent = {
    class_uid: 3002,
    class_name: "Authentication",
    category_uid: 3,
    activity_id: AuthenticationActivity.logon,
    activity_name: "Logon",
    type_uid: 300201,
    time: b.time,
    severity_id: success ? Severity.informational : Severity.low,
    status_id: success ? Status.success : partial ? Status.other : Status.failure,
    status: success ? "Success" : partial ? "Other" : "Failure",
    message: b.message,
    auth_protocol: isCert ? "SSH certificate" : `SSH ${method}`,
    user: { name: user },
    actor: { user: { name: user } },
    src_endpoint: endpoint(m[5]!, m[6]),
    metadata: b.metadata,
    unmapped: { ssh, ssh_auth_type_id: isCert ? SshAuthType.certificate : methodAuthType[method] },
    raw_data: b.raw_data,
    warden: b.warden,
  };
  if (invalid) event.status_detail = "Invalid user";
  else if (partial) event.status_detail = "Partial authentication";
  if (b.dst_endpoint) event.dst_endpoint = b.dst_endpoint;
  return event;
}

function closeEvent(
  line: SshdLine,
  user: string | undefined,
  invalidUser: boolean,
  ip: string,
  port: string,
  detail: string,
  preauth: boolean,
): OcsfEvent {
  const b = base(line);
  return clean(
    ocsfEvent("sshActivity", {
      ...b,
      activity_id: SshActivity.close,
      activity_name: "Close",
      severity_id: Severity.informational,
      status_id: preauth ? Status.failure : Status.success,
      status: preauth ? "Failure" : "Success",
      status_detail: preauth ? `${detail} before authentication` : detail,
      user: user ? { name: user } : undefined,
      actor: user ? { user: { name: user } } : undefined,
      src_endpoint: endpoint(ip, port),
      unmapped:
        invalidUser || preauth
          ? clean({ ssh: { invalid_user: invalidUser || undefined, preauth } })
          : undefined,
    }),
  );
}

/** Normalises a syslog message when it comes from OpenSSH's server; undefined otherwise. */
export function normaliseSshdSyslog(msg: SyslogMessage): OcsfEvent | undefined {
  if (!msg.appName || !SSHD_PROGRAMS.has(msg.appName)) return undefined;
  const line: SshdLine = { message: msg.message, time: msg.time, program: msg.appName, raw: msg.raw };
  if (msg.hostname) line.hostname = msg.hostname;
  if (msg.procId) line.pid = msg.procId;
  const event = parseSshdMessage(line);
  if (event) {
    if (msg.timestamp) event.metadata.original_time = msg.timestamp;
    event.unmapped = {
      ...event.unmapped,
      syslog: { facility: msg.facility, severity: msg.severity, pid: msg.procId },
    };
  }
  return event;
}
