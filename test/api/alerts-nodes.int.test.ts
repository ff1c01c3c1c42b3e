import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyring, localKek } from "../../src/crypto/keyring.ts";
import { type OcsfEvent, parseSshdMessage } from "../../src/ingest/index.ts";
import type { Store } from "../../src/store/store.ts";
import { createTestApp, type TestApp, type TestClient } from "../harness.ts";

/**
 * Two Warden nodes on one database: a rule change saved on one node applies to the events the other
 * node receives within seconds, not at its next full reload.
 */
let a: TestApp;
let b: TestApp;
let adminA: TestClient;
const kek = randomBytes(32);
const sealer = (store: Store) => createKeyring(store, localKek(kek));

function failed(ip: string, user: string, at: number): OcsfEvent {
  const e = parseSshdMessage({
    message: `Failed password for ${user} from ${ip} port 4000 ssh2`,
    time: at,
    hostname: "bastion",
  })!;
  e.metadata.uid = randomUUID();
  e.warden.source = "syslog";
  return e;
}

/** Node B takes in `n` failed logins from one address (distinct accounts) and stores its alerts. */
async function burstOnB(ip: string, n: number) {
  const at = b.clock.now().getTime();
  await b.app.eventLog.appendEvents(
    Array.from({ length: n }, (_, i) => failed(ip, `user${i}`, at + i * 1000)),
  );
  for (let i = 0; i < 3; i++) {
    await b.app.eventLog.writer.idle();
    await b.app.alerts.detection.idle();
  }
  return (await adminA.get(`/api/v1/alerts?ruleId=failed-login-burst&q=${ip}`)).body.total as number;
}

const version = async () =>
  Number(
    (await a.store.query<{ version: string }>("select version from settings where key = 'alerts.rules'"))
      .rows[0]?.version,
  );

beforeAll(async () => {
  a = await createTestApp({ now: "2026-11-02T10:00:00Z", sealer });
  b = await createTestApp({ now: "2026-11-02T10:00:00Z", store: a.store, sealer });
  adminA = await a.admin();
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe("alert rule settings across nodes", () => {
  it("applies a threshold lowered on node A to the events node B receives seconds later", async () => {
    // Node B runs the default rules: 5 failures from one address raise nothing.
    expect(await burstOnB("192.0.2.10", 5)).toBe(0);

    const r = await adminA.put("/api/v1/alerts/rules", {
      builtin: { failedLoginBurst: { threshold: 3, windowMinutes: 5, by: ["address"] } },
    });
    expect(r.status).toBe(200);
    const saved = await version();

    // Node B was not told; it notices the new version on a batch about a second later at most.
    let n = 0;
    await expect
      .poll(async () => burstOnB(`192.0.2.${20 + n++}`, 3), { timeout: 5_000, interval: 200 })
      .toBe(1);
    expect(n).toBeGreaterThan(0);

    // Every change bumps the version, whoever writes it.
    expect(
      (
        await adminA.put("/api/v1/alerts/rules", {
          builtin: { failedLoginBurst: { threshold: 4, windowMinutes: 5, by: ["address"] } },
        })
      ).status,
    ).toBe(200);
    expect(await version()).toBe(saved + 1);
  });

  it("applies a rule switched off on node A on node B too", async () => {
    expect((await adminA.put("/api/v1/alerts/rules", { builtin: { failedLoginBurst: false } })).status).toBe(
      200,
    );
    // Wait until node B has seen it (a burst it would have flagged before raises nothing).
    let n = 0;
    await expect
      .poll(async () => burstOnB(`192.0.2.${100 + n++}`, 10), { timeout: 5_000, interval: 200 })
      .toBe(0);
    // And it stays off: the last burst of 10 raised nothing either.
    expect(await burstOnB("192.0.2.200", 12)).toBe(0);
  });
});
