import { z } from "zod";

/** What a destination forwards: every event, or only some OCSF classes. */
const classesFilter = z.array(z.number().int().min(1).max(999_999)).max(50).default([]);
const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:[\]_-]+$/, "a host name or address");

export const syslogConfig = z
  .object({
    host: hostname,
    port: z.number().int().min(1).max(65535),
    transport: z.enum(["udp", "tcp", "tls"]),
    /** PEM bundle to trust for TLS (default: the system's CAs). */
    caPem: z.string().max(64_000).optional(),
    /** Name to check in the server certificate when it differs from host. */
    serverName: z.string().max(253).optional(),
    classes: classesFilter,
  })
  .strict();

export const ecsHttpConfig = z
  .object({
    url: z.url({ protocol: /^https?$/, error: "an http(s):// URL" }).max(2000),
    classes: classesFilter,
  })
  .strict();

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "an HTTP header name");
const headerValue = z
  .string()
  .max(4000)
  .refine((v) => !/[\r\n]/.test(v), "no line breaks");

export const destinationInput = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("syslog"),
      name: z.string().trim().min(1).max(100),
      enabled: z.boolean().default(true),
      config: syslogConfig,
      /** Where to start: "now" (only events appended from now on) or "beginning" (the whole log). */
      startAt: z.enum(["now", "beginning"]).default("now"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("ecs_http"),
      name: z.string().trim().min(1).max(100),
      enabled: z.boolean().default(true),
      config: ecsHttpConfig,
      /** Headers sent with each batch, e.g. Authorization: ApiKey …; stored sealed, never shown again. */
      secretHeaders: z.record(headerName, headerValue).default({}),
      startAt: z.enum(["now", "beginning"]).default("now"),
    })
    .strict(),
]);
export type DestinationInput = z.output<typeof destinationInput>;

export const destinationPatch = z
  .object({
    name: z.string().trim().min(1).max(100),
    enabled: z.boolean(),
    config: z.union([syslogConfig, ecsHttpConfig]),
    /** Replaces the stored secret headers (ECS over HTTP). */
    secretHeaders: z.record(headerName, headerValue),
  })
  .partial()
  .strict();
export type DestinationPatch = z.output<typeof destinationPatch>;

export const destinationSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(["syslog", "ecs_http"]),
  enabled: z.boolean(),
  config: z.record(z.string(), z.unknown()),
  /** Names of the stored secret headers (never their values). */
  secretHeaderNames: z.array(z.string()),
  cursor: z.number().int(),
  /** Events in the log not yet handed over (at the last check). */
  lag: z.number().int().nullable(),
  forwarded: z.number().int(),
  attempts: z.number().int(),
  nextAttemptAt: z.string(),
  lastSuccessAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  deadLetters: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DestinationView = z.infer<typeof destinationSchema>;

export const deadLetterSchema = z.object({
  id: z.uuid(),
  destinationId: z.uuid(),
  destinationName: z.string(),
  createdAt: z.string(),
  firstIndex: z.number().int(),
  lastIndex: z.number().int(),
  events: z.number().int(),
  error: z.string(),
  attempts: z.number().int(),
  status: z.enum(["dead", "delivered"]),
  redrivenAt: z.string().nullable(),
  redrivenBy: z.string().nullable(),
  /** The first 2,000 characters of what was sent (syslog lines or ECS NDJSON). */
  preview: z.string(),
});

export const deadLetterQuery = z
  .object({
    destinationId: z.uuid().optional(),
    status: z.enum(["dead", "delivered"]).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
