import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventLogReader } from "../../src/alerts/index.ts";
import type { OcsfEvent } from "../../src/ingest/index.ts";
import { createTestApp, type TestApp, type TestClient } from "../harness.ts";
import { run, type SshdFixture, startSshd, waitFor } from "../sshd-server.ts";

/**
 * End to end with Debian's real OpenSSH server: sshd on a loopback port logs (through util-linux
 * `logger`) to the syslog receiver Warden starts; the events land in the verifiable log, the rules run on
 * them inline and store alerts. A burst of failed logins raises an alert; a login with a Warden SSH
 * certificate is attributed to the developer its key id names.
 */
let t: TestApp;
let admin: TestClient;
let sshd: SshdFixture;
let dev: { id: string };
const grantId = randomUUID();

async function loggedSshd(): Promise<OcsfEvent[]> {
  await t.app.sources.settled();
  await t.app.eventLog.writer.idle();
  await t.app.alerts.detection.idle();
  const reader = eventLogReader(t.store, async () => ({ size: 0 }));
  return (await reader.readAfter(-1, 10_000)).map((a) => a.event).filter((e) => e.warden.source === "syslog");
}

beforeAll(async () => {
  t = await createTestApp({ now: new Date().toISOString(), env: { WARDEN_SYSLOG_TCP_PORT: "0" } });
  admin = await t.admin();
  dev = await t.buildDeveloper({ fullName: "Certified Developer" });
  t.app.eventLog.directory.invalidate();
  const ports = await t.app.sources.startSyslog();
  sshd = await startSshd(ports!.tcp!);
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
  await t?.app.sources.stop();
  await t?.close();
});

describe("OpenSSH → syslog → Warden's log → alert rules", () => {
  it("raises an alert for a burst of failed password logins", async () => {
    for (let i = 0; i < 4; i++) {
      const code = await run(
        "ssh",
        sshd.sshArgs(
          ...["-o", "PreferredAuthentications=password", "-o", "PubkeyAuthentication=no"],
          ...["-o", "NumberOfPasswordPrompts=3", "intruder@127.0.0.1", "true"],
        ),
        sshd.wrongPasswordEnv,
      );
      expect(code).toBe(255);
    }
    await waitFor(
      async () =>
        (await loggedSshd()).filter((e) => e.class_uid === 3002 && e.activity_id === 1 && e.status_id === 2)
          .length >= 12,
      "12 failed logins in the log",
      30_000,
    );
    const failures = (await loggedSshd()).filter((e) => e.class_uid === 3002 && e.status_id === 2);
    expect(failures[0]).toMatchObject({
      user: { name: "intruder" },
      src_endpoint: { ip: "127.0.0.1" },
      metadata: { product: { name: "OpenSSH" }, log_provider: "sshd" },
    });
    let alerts: any[] = [];
    await waitFor(async () => {
      alerts = (await admin.get("/api/v1/alerts?ruleId=failed-login-burst")).body.items;
      return alerts.length >= 2;
    }, "burst alerts");
    const byAddress = alerts.find((a) => a.groupKey === "address|127.0.0.1");
    expect(byAddress).toMatchObject({ severity: "high", status: "open", count: 3 }); // 10th, 11th, 12th
    expect(alerts.find((a) => a.groupKey.startsWith("account|intruder@"))).toBeTruthy();
    const detail = (await admin.get(`/api/v1/alerts/${byAddress.id}`)).body;
    expect(detail.events).toHaveLength(3);
    expect(detail.events[0].label).toMatch(
      /^Authentication: Logon \(Failure\) user intruder from 127\.0\.0\.1 on server \S+ \[sshd\]$/,
    );
    expect(t.app.sources.status().pipeline).toMatchObject({ dropped: 0 });
  });

  it("attributes a certificate login to the developer named by the certificate's key id", async () => {
    const keyId = `warden:developer=${dev.id}:grant=${grantId}`;
    const cert = sshd.certify(keyId, 4242);
    const code = await run(
      "ssh",
      sshd.sshArgs(
        ...["-i", join(sshd.dir, "dev_key"), "-o", `CertificateFile=${cert}`],
        ...["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "root@127.0.0.1", "true"],
      ),
    );
    expect(code).toBe(0);
    let login: OcsfEvent | undefined;
    await waitFor(async () => {
      login = (await loggedSshd()).find((e) => e.class_uid === 3002 && e.status_id === 1);
      return login !== undefined;
    }, "the certificate login in the log");
    expect(login).toMatchObject({
      activity_id: 1,
      auth_protocol: "SSH certificate",
      user: { name: "root" },
      src_endpoint: { ip: "127.0.0.1" },
      warden: {
        developerId: dev.id,
        credential: {
          sshKeyId: keyId,
          sshCertSerial: "4242",
          sshCaFingerprint: expect.stringMatching(/^SHA256:/),
        },
      },
    });
    // The developer has no agreements yet: the gate says so on the access-without-grant alert.
    let lapsed: any[] = [];
    await waitFor(async () => {
      lapsed = (await admin.get(`/api/v1/alerts?ruleId=access-without-grant&developerId=${dev.id}`)).body
        .items;
      return lapsed.length > 0;
    }, "the gate's alert");
    expect(lapsed[0].developer).toEqual({ id: dev.id, name: "Certified Developer" });
  });
});
