import { describe, expect, it } from "vitest";
import { attributeActor } from "./ocsf.types.ts";
import { normaliseSshdSyslog, parseSshdMessage } from "./sshd.parser.ts";
import { parseSyslog } from "./syslog.parser.ts";

const time = Date.parse("2026-03-10T12:00:00Z");
const parse = (message: string) => parseSshdMessage({ message, time, hostname: "bastion", program: "sshd" });

describe("OpenSSH authentication messages", () => {
  it("maps an accepted password to a successful Authentication logon", () => {
    const e = parse("Accepted password for ana from 198.51.100.4 port 40022 ssh2")!;
    expect(e).toMatchObject({
      class_uid: 3002,
      category_uid: 3,
      activity_id: 1,
      type_uid: 300201,
      status_id: 1,
      severity_id: 1,
      time,
      user: { name: "ana" },
      actor: { user: { name: "ana" } },
      src_endpoint: { ip: "198.51.100.4", port: 40022 },
      dst_endpoint: { hostname: "bastion" },
      auth_protocol: "SSH password",
      metadata: { product: { name: "OpenSSH" }, log_provider: "sshd" },
      warden: { source: "syslog", resource: { kind: "server", name: "bastion" } },
    });
  });

  it("maps failed passwords, with and without an invalid user, to failures", () => {
    const a = parse("Failed password for root from 203.0.113.9 port 5122 ssh2")!;
    expect(a).toMatchObject({ class_uid: 3002, activity_id: 1, status_id: 2, user: { name: "root" } });
    const b = parse("Failed password for invalid user admin from 203.0.113.9 port 5123 ssh2")!;
    expect(b).toMatchObject({ status_id: 2, status_detail: "Invalid user", user: { name: "admin" } });
    expect(b.unmapped?.ssh).toMatchObject({ method: "password", invalid_user: true });
  });

  it("keeps the key type and fingerprint of a public key login", () => {
    const e = parse(
      "Accepted publickey for ana from 198.51.100.4 port 40022 ssh2: ED25519 SHA256:n0s3cR3tH3r3bUtAF1ng3rPr1nt/abcdefghijklm",
    )!;
    expect(e.unmapped?.ssh).toMatchObject({
      key_type: "ED25519",
      fingerprint: expect.stringMatching(/^SHA256:/),
    });
    expect(e.warden.credential).toEqual({
      sshKeyFingerprint: "SHA256:n0s3cR3tH3r3bUtAF1ng3rPr1nt/abcdefghijklm",
    });
  });

  it("extracts the certificate key id, serial and CA fingerprint of a certificate login", () => {
    const e = parse(
      "Accepted publickey for deploy from 198.51.100.4 port 40100 ssh2: ED25519-CERT SHA256:AAAAuserkey ID warden grant g_42 dev_7 (serial 1042) CA ED25519 SHA256:CCCCcakey",
    )!;
    expect(e.auth_protocol).toBe("SSH certificate");
    expect(e.unmapped?.ssh).toMatchObject({
      cert: {
        key_id: "warden grant g_42 dev_7",
        serial: "1042",
        ca_type: "ED25519",
        ca_fingerprint: "SHA256:CCCCcakey",
      },
    });
    expect(e.warden.credential).toMatchObject({
      sshKeyId: "warden grant g_42 dev_7",
      sshCertSerial: "1042",
      sshCaFingerprint: "SHA256:CCCCcakey",
    });
  });

  it("does not turn sshd's per-check 'Accepted certificate ID' or 'Postponed' lines into logins", () => {
    expect(
      parse(
        'Accepted certificate ID "grant:g_42" (serial 9) signed by ED25519 CA SHA256:CCCCcakey via /etc/ssh/ca.pub',
      ),
    ).toBeUndefined();
    expect(parse("Postponed publickey for root from 127.0.0.1 port 56284 ssh2 [preauth]")).toBeUndefined();
  });

  it("maps 'Starting session' to SSH Activity open", () => {
    expect(parse("Starting session: command for root from 127.0.0.1 port 56284 id 0")).toMatchObject({
      class_uid: 4007,
      activity_id: 1,
      user: { name: "root" },
      src_endpoint: { ip: "127.0.0.1", port: 56284 },
    });
  });

  it("reports an invalid user as a failed, non-logon authentication", () => {
    const e = parse("Invalid user oracle from 203.0.113.9 port 5124")!;
    expect(e).toMatchObject({ class_uid: 3002, activity_id: 99, status_id: 2, user: { name: "oracle" } });
  });
});

describe("OpenSSH connection messages", () => {
  it.each([
    ["Disconnected from user ana 198.51.100.4 port 40022", "ana", 1],
    ["Disconnected from invalid user admin 203.0.113.9 port 5123 [preauth]", "admin", 2],
    ["Disconnected from authenticating user root 203.0.113.9 port 5122 [preauth]", "root", 2],
    ["Connection closed by 203.0.113.9 port 5130 [preauth]", undefined, 2],
    ["Connection closed by authenticating user root 203.0.113.9 port 5122 [preauth]", "root", 2],
    ["Received disconnect from 198.51.100.4 port 40022:11: disconnected by user", undefined, 1],
    ["Connection reset by 203.0.113.9 port 5131", undefined, 1],
  ])("maps %j to an SSH Activity close", (line, user, status) => {
    const e = parse(line)!;
    expect(e).toMatchObject({
      class_uid: 4007,
      category_uid: 4,
      activity_id: 2,
      type_uid: 400702,
      status_id: status,
    });
    expect(e.user?.name).toBe(user);
    expect(e.src_endpoint?.ip).toMatch(/^(198|203)\./);
  });

  it("maps session open and close from pam_unix", () => {
    expect(parse("pam_unix(sshd:session): session opened for user ana(uid=1000) by (uid=0)")).toMatchObject({
      class_uid: 4007,
      activity_id: 1,
      user: { name: "ana" },
    });
    expect(parse("pam_unix(sshd:session): session closed for user ana")).toMatchObject({ activity_id: 2 });
  });

  it("maps refusal after too many attempts and a pre-auth timeout", () => {
    expect(
      parse(
        "error: maximum authentication attempts exceeded for invalid user x from 203.0.113.9 port 1 ssh2 [preauth]",
      ),
    ).toMatchObject({ class_uid: 4007, activity_id: 5, status_id: 2 });
    expect(parse("fatal: Timeout before authentication for 203.0.113.9 port 2")).toMatchObject({
      activity_id: 4,
    });
  });

  it("maps a verbose 'Connection from' line to SSH Activity open with both ends", () => {
    expect(parse('Connection from 198.51.100.4 port 40022 on 127.0.0.1 port 2222 rdomain ""')).toMatchObject({
      class_uid: 4007,
      activity_id: 1,
      src_endpoint: { ip: "198.51.100.4", port: 40022 },
      dst_endpoint: { ip: "127.0.0.1", port: 2222 },
    });
  });

  it("ignores lines without a security event", () => {
    expect(parse("Server listening on 0.0.0.0 port 22.")).toBeUndefined();
    expect(parse("pam_unix(sshd:auth): check pass; user unknown")).toBeUndefined();
  });
});

describe("syslog → OCSF → developer", () => {
  it("normalises only OpenSSH programs and attributes the developer from the certificate key id", () => {
    const raw =
      "<38>Mar 10 12:00:00 bastion sshd[812]: Accepted publickey for deploy from 198.51.100.4 port 40100 ssh2: ED25519-CERT SHA256:AAAA ID grant:g_42 (serial 1) CA ED25519 SHA256:CCCC";
    const r = parseSyslog(raw, { receivedAt: time });
    if (!r.ok) throw new Error(r.error);
    const e = normaliseSshdSyslog(r.message)!;
    expect(e.raw_data).toBe(raw);
    expect(e.metadata.original_time).toBe("Mar 10 12:00:00");
    attributeActor(e, (c) => (c.sshKeyId === "grant:g_42" ? "dev_7" : undefined));
    expect(e.warden.developerId).toBe("dev_7");

    const other = parseSyslog(
      "<38>Mar 10 12:00:00 bastion cron[1]: Accepted password for x from 1.2.3.4 port 1",
      {
        receivedAt: time,
      },
    );
    expect(other.ok && normaliseSshdSyslog(other.message)).toBeUndefined();
  });
});
