import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Clock } from "../core/clock.ts";
import { ConnectorError } from "./connector.errors.ts";
import type {
  CheckResult,
  Connector,
  ConnectorDeps,
  ConnectorGrant,
  ProvisionResult,
} from "./connector.types.ts";
import { httpRequest } from "./http.ts";

export const webhookSignatureHeader = "warden-signature";

export const webhookSettingsSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  /** Shared HMAC key; sealed at rest by the caller. */
  secret: z.string().min(32, "use at least 32 characters").max(500),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** Attempts per call, the first included. */
  maxAttempts: z.number().int().min(1).max(10).default(5),
  baseDelayMs: z.number().int().min(10).max(60_000).default(500),
  maxDelayMs: z.number().int().min(10).max(600_000).default(30_000),
});
export type WebhookSettings = z.output<typeof webhookSettingsSchema>;
export type WebhookSettingsInput = z.input<typeof webhookSettingsSchema>;

export type WebhookEventType = "grant.provision" | "grant.revoke" | "grant.check";

/** The JSON body Warden posts. `id` is the same across retries of one call, for de-duplication. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  grant: {
    id: string;
    level: ConnectorGrant["level"];
    startsAt: string;
    endsAt: string;
    developer: Omit<ConnectorGrant["developer"], "sshPublicKeys" | "email">;
    resource: ConnectorGrant["resource"];
  };
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, as Stripe signs its webhooks: the
 * timestamp inside the MAC lets receivers refuse replays older than a tolerance.
 */
export function signWebhook(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  const mac = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
  return `t=${t},v1=${mac}`;
}

/**
 * Checks a `Warden-Signature` header for receivers (and tests): any `v1` entry may match (so a secret
 * can be rotated by sending two), compared in constant time, within `toleranceSeconds` of `now`.
 */
export function verifyWebhookSignature(options: {
  header: string | null | undefined;
  body: string;
  secret: string;
  now: Date;
  toleranceSeconds?: number;
}): boolean {
  if (!options.header) return false;
  const parts = options.header.split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t)) return false;
  if (Math.abs(options.now.getTime() / 1000 - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = createHmac("sha256", options.secret).update(`${t}.${options.body}`).digest();
  return parts
    .filter(([k, v]) => k === "v1" && v !== undefined && /^[0-9a-f]{64}$/.test(v))
    .some(([, v]) => timingSafeEqual(Buffer.from(v!, "hex"), expected));
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Posts signed grant events to a URL for anything without a dedicated connector. A call is retried with
 * exponential backoff (equal jitter; Retry-After honoured) while the failure is retryable (network
 * errors, timeouts, 408, 425, 429, 5xx); other answers end it at once.
 */
export function createWebhookConnector(
  input: WebhookSettingsInput,
  deps: Pick<ConnectorDeps, "fetch" | "sleep"> & { clock: Clock; random?: () => number },
): Connector {
  const settings = webhookSettingsSchema.parse(input);
  const doFetch = deps.fetch ?? globalThis.fetch;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;

  const delayFor = (attempt: number, retryAfter?: number) => {
    if (retryAfter !== undefined) return Math.min(settings.maxDelayMs, retryAfter * 1000);
    const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  };

  async function send(type: WebhookEventType, grant: ConnectorGrant): Promise<unknown> {
    const { sshPublicKeys: _keys, email: _email, ...developer } = grant.developer;
    const event: WebhookEvent = {
      id: randomUUID(),
      type,
      createdAt: deps.clock.now().toISOString(),
      grant: {
        id: grant.id,
        level: grant.level,
        startsAt: grant.startsAt.toISOString(),
        endsAt: grant.endsAt.toISOString(),
        developer,
        resource: grant.resource,
      },
    };
    const body = JSON.stringify(event);
    const doing = `sending ${type} for grant ${grant.id} to the webhook`;
    let last: ConnectorError | undefined;
    for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
      try {
        const r = await httpRequest({
          fetch: doFetch,
          connector: "webhook",
          method: "POST",
          url: settings.url,
          headers: {
            "content-type": "application/json",
            "user-agent": "Warden-Webhook/1",
            // Re-signed on each attempt, so a late retry still passes the receiver's tolerance.
            [webhookSignatureHeader]: signWebhook(settings.secret, body, deps.clock.now()),
            "warden-event-id": event.id,
            "idempotency-key": `${grant.id}:${type}`,
          },
          body,
          timeoutMs: settings.timeoutMs,
          doing,
        });
        return r.json;
      } catch (e) {
        if (!(e instanceof ConnectorError) || !e.retryable) throw e;
        last = e;
        if (attempt < settings.maxAttempts) {
          await sleep(delayFor(attempt, e.details.retryAfterSeconds));
        }
      }
    }
    throw new ConnectorError({
      connector: "webhook",
      reason: last?.reason ?? "remote_error",
      retryable: true,
      message: `Gave up after ${settings.maxAttempts} attempts ${doing}: ${last?.message ?? "unknown error"}`,
      cause: last,
    });
  }

  const answer = z
    .object({ state: z.enum(["active", "pending"]).optional(), externalRef: z.string().max(500).optional() })
    .nullable()
    .catch(null);
  const checkAnswer = z.object({ live: z.boolean(), state: z.string().max(100).optional() });

  return {
    kind: "webhook",

    async provision(grant): Promise<ProvisionResult> {
      const reply = answer.parse(await send("grant.provision", grant));
      return {
        state: reply?.state ?? "active",
        externalRef: reply?.externalRef ?? grant.id,
        details: { url: settings.url },
      };
    },

    async revoke(grant) {
      await send("grant.revoke", grant);
    },

    async check(grant): Promise<CheckResult> {
      const parsed = checkAnswer.safeParse(await send("grant.check", grant));
      if (!parsed.success) {
        throw new ConnectorError({
          connector: "webhook",
          reason: "remote_error",
          retryable: false,
          message: 'The webhook answered grant.check without a JSON body like {"live": true}.',
        });
      }
      return {
        live: parsed.data.live,
        state: parsed.data.state ?? (parsed.data.live ? "active" : "absent"),
        details: {},
      };
    },

    async close() {},
  };
}
