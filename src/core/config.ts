import path from "node:path";
import { z } from "zod";
import { sslModeOf } from "../store/pg-ssl.ts";

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
    .superRefine((url, ctx) => {
      const m = sslModeOf(url);
      if ("error" in m) ctx.addIssue({ code: "custom", message: m.error });
    })
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
  WARDEN_MASTER_KEY_PREVIOUS: z
    .string()
    .regex(
      /^[A-Za-z0-9+/]{43}=(,[A-Za-z0-9+/]{43}=)*$/,
      "one or more 32-byte base64 keys separated by commas (the old master keys during a rotation)",
    )
    .optional(),
  WARDEN_SCAN_TLS_CA: z.string().min(1).optional(),
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
  WARDEN_SHARES_DIR: z.string().min(1).optional(),
  WARDEN_SHARE_MAX_MB: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024 * 1024)
    .default(4096),
  WARDEN_SHARE_MAX_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  WARDEN_SMTP_URL: z
    .url({ protocol: /^smtps?$/, error: "an smtp:// (STARTTLS when offered) or smtps:// URL" })
    .optional(),
  WARDEN_SMTP_FROM: z.email({ error: "an e-mail address" }).optional(),
  WARDEN_NOTIFY_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: "an https:// URL" }).optional(),
  WARDEN_NOTIFY_WEBHOOK_SECRET: z.string().min(16, "at least 16 characters").optional(),
  WARDEN_REVIEW_CADENCE_MONTHS: z.coerce
    .number()
    .refine((n) => [0, 1, 2, 3, 4, 6, 12].includes(n), "one of 0 (off), 1, 2, 3, 4, 6 or 12")
    .default(3),
  WARDEN_REVIEW_DEADLINE_DAYS: z.coerce.number().int().min(1).max(90).default(14),
  WARDEN_REVIEW_REMINDER_DAYS: z.coerce.number().int().min(1).max(30).default(3),
  // Syslog receiver (sshd and other hosts' logs). No port set = no receiver.
  WARDEN_SYSLOG_HOST: z.string().min(1).default("127.0.0.1"),
  WARDEN_SYSLOG_UDP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WARDEN_SYSLOG_TCP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WARDEN_SYSLOG_TLS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WARDEN_SYSLOG_TLS_CERT: z.string().min(1).optional(),
  WARDEN_SYSLOG_TLS_KEY: z.string().min(1).optional(),
  WARDEN_SYSLOG_TLS_CLIENT_CA: z.string().min(1).optional(),
  WARDEN_SYSLOG_RFC3164_TZ: z
    .string()
    .refine(isTimeZone, "an IANA time zone such as Europe/Berlin")
    .default("UTC"),
  // Webhook sources: the shared secrets their senders present.
  WARDEN_GITHUB_AUDIT_STREAM_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  WARDEN_GITLAB_AUDIT_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  WARDEN_LOG_ORIGIN: z
    .string()
    .regex(/^[^\s+]+$/, "a log name without spaces or '+', e.g. warden.example.com/audit")
    .max(200)
    .optional(),
  WARDEN_INGEST_MAX_QUEUED: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
});

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

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
  /** Older master keys still accepted for unwrapping while data keys are rewrapped. */
  previousMasterKeys: string[];
  logLevel: RawConfig["WARDEN_LOG_LEVEL"];
  /** Extra CA certificates (PEM file) trusted by the server's scheduled TLS scans. */
  scanTlsCaFile: string | undefined;
  session: { idleMinutes: number; absoluteHours: number };
  login: { maxFailures: number; lockoutMinutes: number };
  uploadMaxBytes: number;
  trustProxy: boolean;
  /** End-to-end encrypted shares: where ciphertext lives, the largest plaintext, the longest life. */
  shares: { dir: string; maxBytes: number; maxDays: number };
  /** Origin line of the audit log's checkpoints (and its key name), fixed when the key is generated. */
  logOrigin: string | undefined;
  ingest: { maxQueuedEvents: number };
  notify: {
    smtp: { url: string; from: string } | undefined;
    webhook: { url: string; secret: string } | undefined;
  };
  reviews: {
    /** A scheduled campaign opens every this many months, calendar-aligned (0: none). */
    cadenceMonths: 0 | 1 | 2 | 3 | 4 | 6 | 12;
    deadlineDays: number;
    reminderDays: number;
  };
  syslog: {
    host: string;
    udpPort: number | undefined;
    tcpPort: number | undefined;
    /** TLS listener (RFC 5425); the server's own certificate unless a syslog one is set. */
    tls: { port: number; certFile?: string; keyFile?: string; clientCaFile?: string } | undefined;
    rfc3164TimeZone: string;
  };
  sources: { githubAuditToken: string | undefined; gitlabAuditToken: string | undefined };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** A wrong value is echoed to help, except secrets: master keys are never shown, URL passwords are masked. */
function shown(name: string, value: string): string {
  if (name.startsWith("WARDEN_MASTER_KEY")) return `(hidden, ${value.length} characters)`;
  if (name === "WARDEN_DATABASE_URL") {
    try {
      const u = new URL(value);
      if (u.password) u.password = "***";
      return JSON.stringify(u.toString());
    } catch {
      return "(hidden: not a URL)";
    }
  }
  return JSON.stringify(value);
}

/**
 * The CLI's own variables (src/cli/client.ts): set in an operator's shell for the online commands, they
 * must not stop the offline ones (`warden audit verify --offline`, `warden keys …`) that load this config.
 */
const CLIENT_VARIABLES = new Set(["WARDEN_SERVER", "WARDEN_TOKEN", "WARDEN_CA_FINGERPRINT"]);

/** Reads config from an env-like object. Unrelated variables are ignored; WARDEN_* typos are reported. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = new Set(Object.keys(configSchema.shape));
  const picked: Record<string, string> = {};
  const problems: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith("WARDEN_") || v === undefined || v === "") continue;
    if (k.startsWith("WARDEN_TEST_") || CLIENT_VARIABLES.has(k)) continue;
    if (!known.has(k)) problems.push(`${k}: unknown setting (see README, "Configuration")`);
    else picked[k] = v;
  }
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "config");
      problems.push(`${name}: expected ${issue.message}, got ${shown(name, picked[name] ?? "")}`);
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
  if (c && (c.WARDEN_SYSLOG_TLS_CERT === undefined) !== (c.WARDEN_SYSLOG_TLS_KEY === undefined)) {
    problems.push("WARDEN_SYSLOG_TLS_CERT and WARDEN_SYSLOG_TLS_KEY: set both (PEM file paths) or neither");
  }
  if (
    c &&
    c.WARDEN_SYSLOG_TLS_PORT === undefined &&
    (c.WARDEN_SYSLOG_TLS_CERT || c.WARDEN_SYSLOG_TLS_CLIENT_CA)
  ) {
    problems.push("WARDEN_SYSLOG_TLS_PORT: set it to use the syslog TLS certificate or client CA");
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
    previousMasterKeys: c.WARDEN_MASTER_KEY_PREVIOUS?.split(",") ?? [],
    logLevel: c.WARDEN_LOG_LEVEL,
    scanTlsCaFile: c.WARDEN_SCAN_TLS_CA,
    session: { idleMinutes: c.WARDEN_SESSION_IDLE_MINUTES, absoluteHours: c.WARDEN_SESSION_ABSOLUTE_HOURS },
    login: { maxFailures: c.WARDEN_LOGIN_MAX_FAILURES, lockoutMinutes: c.WARDEN_LOGIN_LOCKOUT_MINUTES },
    uploadMaxBytes: c.WARDEN_UPLOAD_MAX_MB * 1024 * 1024,
    trustProxy: c.WARDEN_TRUST_PROXY,
    shares: {
      dir: path.resolve(c.WARDEN_SHARES_DIR ?? path.join(c.WARDEN_DATA_DIR, "shares")),
      maxBytes: c.WARDEN_SHARE_MAX_MB * 1024 * 1024,
      maxDays: c.WARDEN_SHARE_MAX_DAYS,
    },
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
    reviews: {
      cadenceMonths: c.WARDEN_REVIEW_CADENCE_MONTHS as Config["reviews"]["cadenceMonths"],
      deadlineDays: c.WARDEN_REVIEW_DEADLINE_DAYS,
      reminderDays: c.WARDEN_REVIEW_REMINDER_DAYS,
    },
    syslog: {
      host: c.WARDEN_SYSLOG_HOST,
      udpPort: c.WARDEN_SYSLOG_UDP_PORT,
      tcpPort: c.WARDEN_SYSLOG_TCP_PORT,
      tls:
        c.WARDEN_SYSLOG_TLS_PORT === undefined
          ? undefined
          : {
              port: c.WARDEN_SYSLOG_TLS_PORT,
              ...(c.WARDEN_SYSLOG_TLS_CERT && c.WARDEN_SYSLOG_TLS_KEY
                ? { certFile: c.WARDEN_SYSLOG_TLS_CERT, keyFile: c.WARDEN_SYSLOG_TLS_KEY }
                : {}),
              ...(c.WARDEN_SYSLOG_TLS_CLIENT_CA ? { clientCaFile: c.WARDEN_SYSLOG_TLS_CLIENT_CA } : {}),
            },
      rfc3164TimeZone: c.WARDEN_SYSLOG_RFC3164_TZ,
    },
    sources: {
      githubAuditToken: c.WARDEN_GITHUB_AUDIT_STREAM_TOKEN,
      gitlabAuditToken: c.WARDEN_GITLAB_AUDIT_TOKEN,
    },
  };
}
