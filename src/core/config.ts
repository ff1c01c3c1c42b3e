import path from "node:path";
import { z } from "zod";

/**
 * Every setting Warden reads, validated once at start-up. Nothing else in src/ reads process.env.
 * A wrong value stops the server with a message naming the variable and what it expects.
 */
const boolFromEnv = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

export const configSchema = z.object({
  WARDEN_DATA_DIR: z.string().min(1).default(".warden"),
  WARDEN_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "a postgres:// or postgresql:// connection URL")
    .optional(),
  WARDEN_HOST: z.string().min(1).default("127.0.0.1"),
  WARDEN_PORT: z.coerce.number().int().min(0).max(65535).default(8443),
  WARDEN_HTTP_REDIRECT_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WARDEN_PUBLIC_URL: z.url({ protocol: /^https$/, error: "an https:// URL" }).optional(),
  WARDEN_TLS_CERT: z.string().min(1).optional(),
  WARDEN_TLS_KEY: z.string().min(1).optional(),
  WARDEN_MASTER_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/, "32 bytes, base64-encoded (openssl rand -base64 32)")
    .optional(),
  WARDEN_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  WARDEN_SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  WARDEN_SESSION_ABSOLUTE_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(12),
  WARDEN_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  WARDEN_LOGIN_LOCKOUT_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  WARDEN_UPLOAD_MAX_MB: z.coerce.number().int().min(1).max(1024).default(20),
  WARDEN_TRUST_PROXY: boolFromEnv.default(false),
  WARDEN_LOG_ORIGIN: z
    .string()
    .regex(/^[^\s+]+$/, "a log name without spaces or '+', e.g. warden.example.com/audit")
    .max(200)
    .optional(),
  WARDEN_INGEST_MAX_QUEUED: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
  WARDEN_SMTP_URL: z
    .url({ protocol: /^smtps?$/, error: "an smtp:// (STARTTLS when offered) or smtps:// URL" })
    .optional(),
  WARDEN_SMTP_FROM: z.email({ error: "an e-mail address" }).optional(),
  WARDEN_NOTIFY_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: "an https:// URL" }).optional(),
  WARDEN_NOTIFY_WEBHOOK_SECRET: z.string().min(16, "at least 16 characters").optional(),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  host: string;
  port: number;
  httpRedirectPort: number | undefined;
  publicUrl: string | undefined;
  tls: { certFile: string; keyFile: string } | undefined;
  masterKey: string | undefined;
  logLevel: RawConfig["WARDEN_LOG_LEVEL"];
  session: { idleMinutes: number; absoluteHours: number };
  login: { maxFailures: number; lockoutMinutes: number };
  uploadMaxBytes: number;
  trustProxy: boolean;
  /** Origin line of the audit log's checkpoints (and its key name), fixed when the key is generated. */
  logOrigin: string | undefined;
  ingest: { maxQueuedEvents: number };
  notify: {
    smtp: { url: string; from: string } | undefined;
    webhook: { url: string; secret: string } | undefined;
  };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Reads config from an env-like object. Unrelated variables are ignored; WARDEN_* typos are reported. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = new Set(Object.keys(configSchema.shape));
  const picked: Record<string, string> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith("WARDEN_") || v === undefined || v === "") continue;
    if (k.startsWith("WARDEN_TEST_")) continue;
    if (!known.has(k)) problems.push(`${k}: unknown setting (see README, "Configuration")`);
    else picked[k] = v;
  }
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "config");
      problems.push(`${name}: expected ${issue.message}, got ${JSON.stringify(picked[name] ?? "")}`);
    }
  }
  const c = parsed.data;
  if (c && (c.WARDEN_TLS_CERT === undefined) !== (c.WARDEN_TLS_KEY === undefined)) {
    problems.push("WARDEN_TLS_CERT and WARDEN_TLS_KEY: set both (PEM file paths) or neither");
  }
  if (c && (c.WARDEN_SMTP_URL === undefined) !== (c.WARDEN_SMTP_FROM === undefined)) {
    problems.push("WARDEN_SMTP_URL and WARDEN_SMTP_FROM: set both (relay URL and sender address) or neither");
  }
  if (c && (c.WARDEN_NOTIFY_WEBHOOK_URL === undefined) !== (c.WARDEN_NOTIFY_WEBHOOK_SECRET === undefined)) {
    problems.push("WARDEN_NOTIFY_WEBHOOK_URL and WARDEN_NOTIFY_WEBHOOK_SECRET: set both or neither");
  }
  if (problems.length > 0 || !c) throw new ConfigError(problems);
  return {
    dataDir: path.resolve(c.WARDEN_DATA_DIR),
    databaseUrl: c.WARDEN_DATABASE_URL,
    host: c.WARDEN_HOST,
    port: c.WARDEN_PORT,
    httpRedirectPort: c.WARDEN_HTTP_REDIRECT_PORT,
    publicUrl: c.WARDEN_PUBLIC_URL,
    tls:
      c.WARDEN_TLS_CERT && c.WARDEN_TLS_KEY
        ? { certFile: c.WARDEN_TLS_CERT, keyFile: c.WARDEN_TLS_KEY }
        : undefined,
    masterKey: c.WARDEN_MASTER_KEY,
    logLevel: c.WARDEN_LOG_LEVEL,
    session: { idleMinutes: c.WARDEN_SESSION_IDLE_MINUTES, absoluteHours: c.WARDEN_SESSION_ABSOLUTE_HOURS },
    login: { maxFailures: c.WARDEN_LOGIN_MAX_FAILURES, lockoutMinutes: c.WARDEN_LOGIN_LOCKOUT_MINUTES },
    uploadMaxBytes: c.WARDEN_UPLOAD_MAX_MB * 1024 * 1024,
    trustProxy: c.WARDEN_TRUST_PROXY,
    logOrigin: c.WARDEN_LOG_ORIGIN,
    ingest: { maxQueuedEvents: c.WARDEN_INGEST_MAX_QUEUED },
    notify: {
      smtp:
        c.WARDEN_SMTP_URL && c.WARDEN_SMTP_FROM
          ? { url: c.WARDEN_SMTP_URL, from: c.WARDEN_SMTP_FROM }
          : undefined,
      webhook:
        c.WARDEN_NOTIFY_WEBHOOK_URL && c.WARDEN_NOTIFY_WEBHOOK_SECRET
          ? { url: c.WARDEN_NOTIFY_WEBHOOK_URL, secret: c.WARDEN_NOTIFY_WEBHOOK_SECRET }
          : undefined,
    },
  };
}
