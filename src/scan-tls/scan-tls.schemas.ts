import { z } from "zod";

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export const severitySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof severitySchema>;

/** Rank for comparisons: higher is worse. */
export const severityRank: Record<Severity, number> = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };

export const SERVICES = ["https", "http", "tls", "postgres", "mysql", "redis", "rediss"] as const;
export const serviceSchema = z.enum(SERVICES);
export type Service = z.infer<typeof serviceSchema>;

export const protocolNameSchema = z.enum(["SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]);

export const scanTlsOptionsSchema = z.object({
  /** Targets scanned at once. */
  concurrency: z.number().int().min(1).max(256).default(8),
  /** Probe sockets open at once across all targets. */
  maxConnections: z.number().int().min(1).max(512).default(32),
  /** Per connection: connect, answer, handshake. */
  timeoutMs: z.number().int().min(100).max(120_000).default(5_000),
  /** Extra trusted CA certificates (PEM), on top of Node's bundled roots. */
  extraCa: z.array(z.string().max(1_000_000)).max(100).default([]),
  /**
   * SHA-256 fingerprints of leaf certificates trusted as they are (pinned), e.g. the one `warden login`
   * pinned for a Warden server with its generated certificate. Any separators; compared as hex.
   */
  pinnedCertificates: z
    .array(
      z
        .string()
        .transform((v) => v.replace(/[^a-fA-F0-9]/g, "").toUpperCase())
        .refine((v) => v.length === 64, { error: "a SHA-256 fingerprint (64 hex digits)" }),
    )
    .max(100)
    .default([]),
  /** SNI/certificate name override, for targets given as an IP address. */
  serverName: z.string().min(1).max(253).optional(),
  /** Certificates expiring within this many days are reported. */
  expiryWarningDays: z.number().int().min(0).max(3650).default(30),
  /** User name for the PostgreSQL/MySQL plaintext probes (no password is ever sent). */
  probeUser: z.string().min(1).max(63).default("warden_probe"),
});
export type ScanTlsOptions = z.input<typeof scanTlsOptionsSchema>;
export type ResolvedScanTlsOptions = z.output<typeof scanTlsOptionsSchema>;

export const findingSchema = z.object({
  /** Rule id, stable across versions (SARIF ruleId). */
  id: z.string(),
  severity: severitySchema,
  title: z.string(),
  detail: z.string(),
});
export type Finding = z.infer<typeof findingSchema>;

export const suiteResultSchema = z.object({
  id: z.string(),
  name: z.string(),
  bits: z.number(),
  keyExchange: z.string(),
  /** Finite-field DH prime size from the ServerKeyExchange (DHE, anonymous DH). */
  dhBits: z.number().optional(),
  /** Elliptic-curve (or TLS 1.3) group the server chose, e.g. x25519. */
  group: z.string().optional(),
  /** Approximate strength of that group in bits (x25519: 253, secp256r1: 256, ffdhe2048: 2048). */
  groupBits: z.number().optional(),
  forwardSecrecy: z.boolean(),
  aead: z.boolean(),
  weaknesses: z.array(z.string()),
});

export const protocolResultSchema = z.object({
  protocol: protocolNameSchema,
  supported: z.boolean(),
  refusal: z.string().optional(),
  serverOrder: z.boolean().optional(),
  suites: z.array(suiteResultSchema),
});

export const certificateResultSchema = z.object({
  subject: z.string(),
  issuer: z.string(),
  serialNumber: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  subjectAltNames: z.array(z.string()),
  fingerprintSha256: z.string(),
  keyType: z.string(),
  keyBits: z.number(),
  curve: z.string().optional(),
  signatureAlgorithm: z.string(),
  signatureHash: z.string(),
  selfSigned: z.boolean(),
  /** Trusted by Node's roots (plus extra CAs, or pinned); undefined when no full handshake was possible. */
  trusted: z.boolean().optional(),
  /** Trusted because its fingerprint was pinned (not through a chain to a CA). */
  pinned: z.boolean().optional(),
  trustError: z.string().optional(),
  nameMatches: z.boolean().optional(),
  chainLength: z.number(),
});

export const gradeSchema = z.object({
  /** A+, A, A-, B, C, D, E, F, or T (trust issues) / M (name mismatch). */
  grade: z.string(),
  /** The grade if trust/name issues were ignored (SSL Labs shows both). */
  gradeIgnoringTrust: z.string(),
  score: z.number(),
  protocolScore: z.number(),
  keyExchangeScore: z.number(),
  cipherScore: z.number(),
  /** Why the grade was capped, e.g. "TLS 1.0 supported: capped at B". */
  caps: z.array(z.string()),
});

export const mozillaProfileSchema = z.enum(["modern", "intermediate", "old"]);
export const mozillaComparisonSchema = z.object({
  guidelinesVersion: z.string(),
  /** Strictest profile the endpoint satisfies, or "none". */
  closest: z.enum(["modern", "intermediate", "old", "none"]),
  profiles: z.record(
    mozillaProfileSchema,
    z.object({ compliant: z.boolean(), deviations: z.array(z.string()) }),
  ),
});

export const targetResultSchema = z.object({
  target: z.string(),
  service: serviceSchema,
  host: z.string(),
  port: z.number(),
  address: z.string().optional(),
  /** scanned: answered; unreachable: did not resolve or answer; error: scan failed mid-way. */
  status: z.enum(["scanned", "unreachable", "error"]),
  error: z.string().optional(),
  durationMs: z.number(),
  tls: z
    .object({
      offered: z.boolean(),
      noTlsReason: z.string().optional(),
      protocols: z.array(protocolResultSchema),
      fallbackScsv: z.boolean().optional(),
      secureRenegotiation: z.boolean().optional(),
      /** Weakest finite-field DH group seen, in bits. */
      minDhBits: z.number().optional(),
      ecGroups: z.array(z.string()),
    })
    .optional(),
  certificate: certificateResultSchema.optional(),
  http: z
    .object({
      status: z.number(),
      location: z.string().optional(),
      redirectsToHttps: z.boolean(),
      hsts: z.string().optional(),
      hstsMaxAge: z.number().optional(),
      hstsIncludeSubDomains: z.boolean().optional(),
      hstsPreload: z.boolean().optional(),
    })
    .optional(),
  database: z
    .object({
      service: z.enum(["postgres", "mysql", "redis"]),
      tlsOffered: z.boolean(),
      plaintextAccepted: z.boolean(),
      unauthenticated: z.boolean().optional(),
      serverVersion: z.string().optional(),
      detail: z.string(),
    })
    .optional(),
  grade: gradeSchema.optional(),
  mozilla: mozillaComparisonSchema.optional(),
  findings: z.array(findingSchema),
});
export type TargetResult = z.infer<typeof targetResultSchema>;

export const tlsScanReportSchema = z.object({
  schemaVersion: z.literal(1),
  tool: z.object({ name: z.literal("warden scan tls"), version: z.string() }),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  targets: z.array(targetResultSchema),
  summary: z.object({
    targets: z.number(),
    scanned: z.number(),
    unreachable: z.number(),
    errors: z.number(),
    findings: z.record(severitySchema, z.number()),
    /** Highest severity found, or "none". */
    worst: z.enum([...SEVERITIES, "none"]),
  }),
});
export type TlsScanReport = z.infer<typeof tlsScanReportSchema>;
