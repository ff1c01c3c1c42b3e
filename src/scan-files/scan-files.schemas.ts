import { z } from "zod";

export const severitySchema = z.enum(["low", "medium", "high"]);
export const formatSchema = z.enum(["text", "json", "sarif", "csv"]);

// ── Config file (TOML). A superset of gitleaks' format, so a gitleaks.toml is also a valid config. ──

const allowlistSchema = z.object({
  description: z.string().max(500).optional(),
  regexes: z.array(z.string().max(2000)).max(1000).default([]),
  stopwords: z.array(z.string().max(200)).max(5000).default([]),
  paths: z.array(z.string().max(2000)).max(1000).default([]),
  /** Exact secret values that are not findings (warden extension). */
  values: z.array(z.string().max(5000)).max(5000).default([]),
  /** gitleaks: limit a global allowlist to some rules. */
  targetRules: z.array(z.string().max(200)).max(1000).default([]),
  commits: z.array(z.string().max(64)).max(10_000).default([]),
  /** What `regexes` are tried on: the secret (default), the rule's whole match, or the whole line. */
  regexTarget: z.enum(["secret", "match", "line"]).optional(),
  /** OR (default): any criterion given allows the finding; AND: all the criteria given must hold. */
  condition: z
    .string()
    .regex(/^(?:and|or|&&|\|\|)$/i, "expected AND or OR")
    .optional(),
});

export const configRuleSchema = z.object({
  id: z.string().min(1).max(200),
  description: z.string().max(1000).optional(),
  regex: z.string().max(10_000).optional(),
  path: z.string().max(2000).optional(),
  secretGroup: z.number().int().min(0).max(50).optional(),
  entropy: z.number().min(0).max(8).optional(),
  keywords: z.array(z.string().min(1).max(200)).max(200).default([]),
  severity: severitySchema.optional(),
  tags: z.array(z.string()).optional(),
  allowlist: allowlistSchema.optional(),
  allowlists: z.array(allowlistSchema).max(100).optional(),
});

export const scanConfigSchema = z.object({
  title: z.string().optional(),
  extend: z
    .object({
      /** gitleaks: another config to extend. Read as a gitleaks file. */
      path: z.string().max(4096).optional(),
      /** Files in gitleaks' TOML format whose rules are imported. */
      gitleaks: z.array(z.string().max(4096)).max(50).optional(),
      useDefault: z.boolean().optional(),
      disabledRules: z.array(z.string().max(200)).max(1000).optional(),
    })
    .optional(),
  rules: z.array(configRuleSchema).max(5000).default([]),
  allowlist: allowlistSchema.optional(),
  allowlists: z.array(allowlistSchema).max(200).default([]),
});
export type ScanConfig = z.infer<typeof scanConfigSchema>;
export type ConfigRule = z.infer<typeof configRuleSchema>;

// ── Report payload: what `--format json` prints and `--report` sends. Secrets are redacted in it. ──

export const commitSchema = z.object({
  sha: z.string().regex(/^[0-9a-f]{7,64}$/),
  author: z.string().max(500),
  email: z.string().max(500),
  date: z.string().max(64),
  message: z.string().max(2000),
});

export const reportFindingSchema = z.object({
  type: z.enum(["secret", "sensitive-file"]),
  ruleId: z.string().min(1).max(200),
  title: z.string().max(500),
  severity: severitySchema,
  path: z.string().min(1).max(4096),
  line: z.number().int().min(0),
  column: z.number().int().min(0),
  /** Redacted unless the user asked for --no-redact (and never when reporting to a server). */
  secret: z.string().max(20_000),
  snippet: z.string().max(2000),
  fingerprint: z.string().regex(/^[0-9a-f]{32}$/),
  entropy: z.number().min(0).max(8).optional(),
  detail: z.string().max(2000).optional(),
  commit: commitSchema.optional(),
});
export type ReportFinding = z.infer<typeof reportFindingSchema>;

export const scanReportSchema = z.object({
  schema: z.literal("warden.scan.files/v1"),
  tool: z.object({ name: z.literal("warden"), version: z.string().max(64) }),
  startedAt: z.string().datetime(),
  finishedAt: z.string().datetime(),
  targets: z.array(z.string().max(4096)).max(1000),
  mode: z.enum(["files", "git-history", "staged"]),
  redacted: z.boolean(),
  vendorId: z.string().max(200).optional(),
  engagementId: z.string().max(200).optional(),
  stats: z.object({
    files: z.number().int().min(0),
    bytes: z.number().int().min(0),
    binarySkipped: z.number().int().min(0),
    encrypted: z.number().int().min(0),
    commits: z.number().int().min(0).optional(),
    rules: z.number().int().min(0),
    durationMs: z.number().min(0),
    baselineSuppressed: z.number().int().min(0),
  }),
  findings: z.array(reportFindingSchema).max(100_000),
  skipped: z.array(z.object({ path: z.string().max(4096), reason: z.string().max(500) })).max(100_000),
});
export type ScanReport = z.infer<typeof scanReportSchema>;

/** Credentials written by `warden login`. */
export const credentialsSchema = z.object({
  server: z.string().url(),
  token: z.string().min(1).max(1000),
  caFingerprint: z
    .string()
    .regex(/^[0-9a-fA-F:]{64,95}$/)
    .optional(),
});
export type Credentials = z.infer<typeof credentialsSchema>;

export const cliOptionsSchema = z.object({
  gitHistory: z.boolean().default(false),
  since: z.string().min(1).max(500).optional(),
  staged: z.boolean().default(false),
  format: formatSchema.default("text"),
  baseline: z.string().optional(),
  config: z.string().optional(),
  failOn: severitySchema.default("low"),
  redact: z.boolean().default(true),
  report: z.boolean().default(false),
  server: z.string().url().optional(),
  vendor: z.string().max(200).optional(),
  engagement: z.string().max(200).optional(),
  output: z.string().optional(),
  workers: z.coerce.number().int().min(1).max(64).optional(),
  progress: z.boolean().default(true),
});
