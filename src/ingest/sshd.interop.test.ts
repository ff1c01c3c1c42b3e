/**
 * End to end with Debian's real OpenSSH server. sshd cannot send syslog to a remote receiver itself, so
 * the relay is the one a small deployment would use without rsyslog: sshd runs in the foreground with
 * `-D -e` (log to stderr) and util-linux `logger` forwards each line as RFC 5424 over TCP with RFC 6587
 * octet counting to Warden's receiver. A burst of failed password logins must raise an alert, and a
 * certificate login must be attributed to the developer named by the certificate's key id.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, type SshdFixture, startSshd, waitFor } from "../../test/sshd-server.ts";
import type { Alert } from "../alerts/index.ts";
import { createAlertEngine, failedLoginBurstRule, loadSigmaRules, sigmaAlertRule } from "../alerts/index.ts";
import { systemClock } from "../core/clock.ts";
import type { OcsfEvent } from "./ocsf.types.ts";
import { createSyslogReceiver, type SyslogReceiver } from "./syslog.receiver.ts";

describe("OpenSSH server → syslog relay → receiver → rules", () => {
  let sshd: SshdFixture | undefined;
  let receiver: SyslogReceiver | undefined;
  const events: OcsfEvent[] = [];
  const alerts: Alert[] = [];
  const receiverErrors: string[] = [];

  beforeAll(async () => {
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

    sshd = await startSshd(receiver.ports.tcp!);
  }, 60_000);

  afterAll(async () => {
    await sshd?.stop();
    await receiver?.close();
  });

  it("raises one grouped alert for a burst of failed password logins", async () => {
    for (let i = 0; i < 4; i++) {
      const code = await run(
        "ssh",
        sshd!.sshArgs(
          ...["-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"],
          ...["-o", "NumberOfPasswordPrompts=3", "intruder@127.0.0.1", "true"],
        ),
        sshd!.wrongPasswordEnv,
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
    const cert = sshd!.certify("warden:dev_7:grant_42", 42);
    const code = await run(
      "ssh",
      sshd!.sshArgs(
        ...["-i", join(sshd!.dir, "dev_key"), "-o", `CertificateFile=${cert}`],
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
