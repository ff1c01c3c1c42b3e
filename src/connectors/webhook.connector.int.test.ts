import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type HttpFake, startHttpFake } from "../../test/fakes/http-fake.ts";
import { manualClock } from "../core/clock.ts";
import type { ConnectorGrant } from "./connector.types.ts";
import {
  createWebhookConnector,
  signWebhook,
  verifyWebhookSignature,
  type WebhookEvent,
} from "./webhook.connector.ts";

const secret = "s".repeat(40);
const clock = manualClock("2026-02-01T12:00:00Z");
let receiver: HttpFake;
let live = new Set<string>();
let verified: boolean[] = [];
const slept: number[] = [];

const grant: ConnectorGrant = {
  id: "g-9",
  level: "write",
  startsAt: new Date("2026-02-01T12:00:00Z"),
  endsAt: new Date("2026-02-02T12:00:00Z"),
  developer: { id: "dev-ada", handle: "ada", sshPublicKeys: ["ssh-ed25519 AAAA"] },
  resource: { id: "crm" },
};

beforeAll(async () => {
  // A receiver that checks the signature as a customer's endpoint would, against the injected clock.
  receiver = await startHttpFake([
    {
      method: "POST",
      pattern: "/hooks/warden",
      handler: (req) => {
        const ok = verifyWebhookSignature({
          header: req.headers["warden-signature"] as string,
          body: req.body,
          secret,
          now: clock.now(),
        });
        verified.push(ok);
        if (!ok) return { status: 400, json: { message: "bad signature" } };
        const event = JSON.parse(req.body) as WebhookEvent;
        if (event.type === "grant.provision") live.add(event.grant.id);
        if (event.type === "grant.revoke") live.delete(event.grant.id);
        if (event.type === "grant.check") return { status: 200, json: { live: live.has(event.grant.id) } };
        return {
          status: 200,
          json: { state: "active", externalRef: `crm-user-${event.grant.developer.id}` },
        };
      },
    },
  ]);
});
afterAll(() => receiver.close());
beforeEach(() => {
  live = new Set();
  verified = [];
  slept.length = 0;
  receiver.requests.length = 0;
});

const connector = (over: Record<string, unknown> = {}) =>
  createWebhookConnector(
    { url: `${receiver.url}/hooks/warden`, secret, baseDelayMs: 100, maxDelayMs: 1_000, ...over },
    {
      clock,
      random: () => 1,
      sleep: async (ms) => {
        slept.push(ms);
      },
    },
  );

describe("the webhook connector", () => {
  it("posts signed provision, check and revoke events the receiver can verify", async () => {
    const c = connector();
    expect(await c.provision(grant)).toMatchObject({ state: "active", externalRef: "crm-user-dev-ada" });
    expect(await c.check(grant)).toMatchObject({ live: true });
    await c.revoke(grant);
    expect(await c.check(grant)).toMatchObject({ live: false, state: "absent" });
    expect(verified).toEqual([true, true, true, true]);
    const first = receiver.requests[0]!;
    expect(first.headers["idempotency-key"]).toBe("g-9:grant.provision");
    const event = JSON.parse(first.body) as WebhookEvent;
    expect(event).toMatchObject({
      type: "grant.provision",
      grant: { id: "g-9", level: "write", developer: { id: "dev-ada" } },
    });
    expect(JSON.stringify(event)).not.toContain("ssh-ed25519");
  });

  it("retries a failing receiver with exponential backoff, keeping the event id", async () => {
    receiver.failNext({ status: 503 }, 3);
    await connector().provision(grant);
    expect(receiver.requests).toHaveLength(4);
    expect(slept).toEqual([100, 200, 400]);
    const ids = new Set(receiver.requests.map((r) => r.headers["warden-event-id"]));
    expect(ids.size).toBe(1);
  });

  it("waits as long as Retry-After says on 429, capped", async () => {
    receiver.failNext({ status: 429, headers: { "retry-after": "2" } });
    receiver.failNext({ status: 429, headers: { "retry-after": "3600" } });
    await connector({ maxDelayMs: 5_000 }).provision(grant);
    expect(slept).toEqual([2_000, 5_000]);
  });

  it("gives up after the last attempt with an error that says a later retry may help", async () => {
    receiver.failNext({ status: 500 }, 3);
    await expect(connector({ maxAttempts: 3 }).provision(grant)).rejects.toMatchObject({
      retryable: true,
      message: expect.stringContaining("Gave up after 3 attempts"),
    });
    expect(slept).toHaveLength(2);
  });

  it("does not retry an answer only a person can fix", async () => {
    receiver.failNext({ status: 401, json: { message: "who are you" } });
    await expect(connector().provision(grant)).rejects.toMatchObject({
      reason: "auth_failed",
      retryable: false,
    });
    expect(receiver.requests).toHaveLength(1);
  });

  it("retries when the receiver cannot be reached", async () => {
    const c = createWebhookConnector(
      { url: "http://127.0.0.1:1/hook", secret, maxAttempts: 2, baseDelayMs: 10 },
      { clock, sleep: async (ms) => void slept.push(ms) },
    );
    await expect(c.revoke(grant)).rejects.toMatchObject({ reason: "unreachable", retryable: true });
    expect(slept).toHaveLength(1);
  });
});

describe("webhook signatures", () => {
  const at = new Date("2026-02-01T12:00:00Z");
  const body = '{"a":1}';

  it("accepts its own signature and one of several during a secret rotation", () => {
    const header = signWebhook(secret, body, at);
    expect(verifyWebhookSignature({ header, body, secret, now: at })).toBe(true);
    const rotated = `${header},v1=${signWebhook("n".repeat(40), body, at).split("v1=")[1]}`;
    expect(verifyWebhookSignature({ header: rotated, body, secret: "n".repeat(40), now: at })).toBe(true);
  });

  it.each([
    ["a changed body", (h: string) => ({ header: h, body: '{"a":2}', secret, now: at })],
    ["another secret", (h: string) => ({ header: h, body, secret: "x".repeat(40), now: at })],
    [
      "a replay after the tolerance",
      (h: string) => ({ header: h, body, secret, now: new Date(at.getTime() + 301_000) }),
    ],
    ["a missing header", () => ({ header: undefined, body, secret, now: at })],
    ["a malformed header", () => ({ header: "t=abc,v1=zz", body, secret, now: at })],
  ])("refuses %s", (_name, make) => {
    expect(verifyWebhookSignature(make(signWebhook(secret, body, at)))).toBe(false);
  });
});
