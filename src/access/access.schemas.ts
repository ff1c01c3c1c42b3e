import { z } from "zod";
import { optionalText, text } from "../core/schemas.ts";
import { accessLevels, approverRoles, dataClasses, environments, resourceKinds } from "../policy/index.ts";

export const grantStates = [
  "approved",
  "provisioning",
  "active",
  "expiring",
  "expired",
  "revoked",
  "failed",
] as const;
export type GrantState = (typeof grantStates)[number];
/** States in which a grant holds (or is about to hold, or may still hold) access. */
export const liveGrantStates = ["approved", "provisioning", "active", "failed"] as const;
export const endReasons = [
  "expired",
  "revoked",
  "gate",
  "policy",
  "offboarded",
  "review",
  "resource_archived",
] as const;
export type EndReason = (typeof endReasons)[number];
export const requestStatuses = ["pending", "approved", "denied", "cancelled", "expired"] as const;
export type RequestStatus = (typeof requestStatuses)[number];

/** Longest break-glass window (the issue: at most one hour). */
export const BREAK_GLASS_MAX_MINUTES = 60;
/** A pending request nobody decided on expires after this long. */
export const PENDING_REQUEST_TTL_MS = 24 * 3600_000;
/** Furthest a scheduled start may lie ahead. */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 86400_000;

const unique = <T>(list: T[]) => new Set(list).size === list.length;
const isoInstant = z.iso.datetime({ offset: true, error: "a date-time such as 2026-11-02T10:00:00Z" });

const uniqueList = <T extends z.ZodType>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .refine((l) => unique(l), { error: "each value once" });

/** Connector settings arrive as an object; their shape is checked per kind (connectorSettingsSchemas). */
const connectorSettings = z.record(z.string(), z.unknown());

export const resourceInput = z
  .object({
    name: text(200),
    description: optionalText(2000),
    kind: z.enum(resourceKinds),
    environment: z.enum(environments),
    dataClass: z.enum(dataClasses),
    /** User ids of the people who approve access (managers, security officers, admins). */
    owners: uniqueList(z.uuid(), 20).min(1),
    levels: uniqueList(z.enum(accessLevels), 3).min(1),
    maxDurationMinutes: z.number().int().min(5).max(525_600).default(480),
    breakGlass: z.boolean().default(false),
    /**
     * Connector settings of the kind (generic resources use the signed webhook connector). Secret
     * fields (database password, API token, webhook secret) are sealed at rest and never returned.
     */
    connector: connectorSettings,
  })
  .strict();
export type ResourceInput = z.infer<typeof resourceInput>;

export const resourcePatch = resourceInput
  .omit({ kind: true })
  .partial()
  .extend({
    /**
     * Replaces the connector settings; a secret field left out keeps its current (sealed) value.
     */
    connector: connectorSettings.optional(),
  })
  .strict();
export type ResourcePatch = z.infer<typeof resourcePatch>;

export const resourceSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  kind: z.enum(resourceKinds),
  environment: z.enum(environments),
  dataClass: z.enum(dataClasses),
  owners: z.array(z.object({ id: z.uuid(), name: z.string(), email: z.string() })),
  levels: z.array(z.enum(accessLevels)),
  maxDurationMinutes: z.number().int(),
  breakGlass: z.boolean(),
  connector: z.object({
    type: z.enum(["postgres", "ssh", "github", "gitlab", "webhook"]),
    /** The settings without their secret fields. */
    settings: z.record(z.string(), z.unknown()),
    /** Which secret fields are set (their values are never returned). */
    secretsSet: z.array(z.string()),
  }),
  liveGrants: z.number().int(),
  archived: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Resource = z.infer<typeof resourceSchema>;

export const resourceListQuery = z
  .object({
    kind: z.enum(resourceKinds).optional(),
    environment: z.enum(environments).optional(),
    q: z.string().trim().max(200).optional(),
    includeArchived: z.enum(["true", "false"]).optional(),
  })
  .strict();

/** What a developer sees of the catalog: no connector settings, no owners' addresses. */
export const catalogItemSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  kind: z.enum(resourceKinds),
  environment: z.enum(environments),
  dataClass: z.enum(dataClasses),
  levels: z.array(z.enum(accessLevels)),
  maxDurationMinutes: z.number().int(),
  breakGlass: z.boolean(),
});
export type CatalogItem = z.infer<typeof catalogItemSchema>;

export const engagementScopeInput = z.object({ resourceIds: uniqueList(z.uuid(), 500) }).strict();
export const engagementScopeSchema = z.object({
  engagementId: z.uuid(),
  resources: z.array(z.object({ id: z.uuid(), name: z.string() })),
});

const policyNames = z.array(z.string());
export const decisionSchema = z.object({
  action: z.string(),
  decision: z.enum(["allow", "deny"]),
  /** The @ids of the policies that decided (the permits for allow, the forbids for deny). */
  policies: policyNames,
  /** The gate's reasons when it said no. */
  reasons: z.array(z.string()),
  at: z.string(),
});
export type DecisionRecord = z.infer<typeof decisionSchema>;

export const requestInput = z
  .object({
    resourceId: z.uuid(),
    level: z.enum(accessLevels),
    /** Capped by the resource's maximum grant duration. */
    durationMinutes: z.number().int().min(5).max(525_600),
    reason: text(2000).min(5, { error: "say why in a few words" }),
    /** A scheduled start; left out, the grant starts when approved. */
    startsAt: isoInstant.optional(),
    /** Which of the developer's engagements the access is for (default: the current one). */
    engagementId: z.uuid().optional(),
  })
  .strict();
export type RequestInput = z.infer<typeof requestInput>;

export const breakGlassInput = z
  .object({
    resourceId: z.uuid(),
    level: z.enum(accessLevels),
    durationMinutes: z.number().int().min(5).max(BREAK_GLASS_MAX_MINUTES).default(BREAK_GLASS_MAX_MINUTES),
    reason: text(2000).min(10, { error: "describe the emergency" }),
    engagementId: z.uuid().optional(),
  })
  .strict();
export type BreakGlassInput = z.infer<typeof breakGlassInput>;

export const decideInput = z.object({ reason: text(2000) }).strict();

export const approvalSchema = z.object({
  approverId: z.uuid(),
  approverName: z.string(),
  decision: z.enum(["approve", "deny"]),
  capacities: z.array(z.enum(approverRoles)),
  reason: z.string(),
  at: z.string(),
});

export const requestSchema = z.object({
  id: z.uuid(),
  developerId: z.uuid(),
  developerName: z.string(),
  engagementId: z.uuid().nullable(),
  resourceId: z.uuid(),
  resourceName: z.string(),
  resourceKind: z.enum(resourceKinds),
  environment: z.enum(environments),
  dataClass: z.enum(dataClasses),
  level: z.enum(accessLevels),
  durationMinutes: z.number().int(),
  reason: z.string(),
  startsAt: z.string().nullable(),
  breakGlass: z.boolean(),
  status: z.enum(requestStatuses),
  requiredApprovals: z.number().int(),
  needsSecurity: z.boolean(),
  approvals: z.array(approvalSchema),
  decision: decisionSchema.nullable(),
  grantId: z.uuid().nullable(),
  extendsGrant: z.boolean(),
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  decisionReason: z.string().nullable(),
  createdAt: z.string(),
  /** For the signed-in approver: whether they may decide it now (and in which capacities). */
  canDecide: z.boolean(),
});
export type AccessRequest = z.infer<typeof requestSchema>;

export const requestListQuery = z
  .object({
    status: z.enum(requestStatuses).optional(),
    developerId: z.uuid().optional(),
    resourceId: z.uuid().optional(),
    /** "me": only requests the signed-in user may decide now (the approvals inbox). */
    approver: z.literal("me").optional(),
  })
  .strict();
export type RequestListQuery = z.infer<typeof requestListQuery>;

export const grantSchema = z.object({
  id: z.uuid(),
  requestId: z.uuid(),
  developerId: z.uuid(),
  developerName: z.string(),
  engagementId: z.uuid().nullable(),
  resourceId: z.uuid(),
  resourceName: z.string(),
  resourceKind: z.enum(resourceKinds),
  environment: z.enum(environments),
  dataClass: z.enum(dataClasses),
  level: z.enum(accessLevels),
  state: z.enum(grantStates),
  live: z.boolean(),
  startsAt: z.string(),
  endsAt: z.string(),
  /** Seconds until the grant ends (0 once ended), from the server's clock. */
  secondsLeft: z.number().int(),
  approvals: z.number().int(),
  breakGlass: z.boolean(),
  reviewRequired: z.boolean(),
  reviewedAt: z.string().nullable(),
  endReason: z.enum(endReasons).nullable(),
  endDetail: z.string().nullable(),
  endedAt: z.string().nullable(),
  failedOp: z.enum(["provision", "revoke"]).nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  externalRef: z.string().nullable(),
  externalState: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  /** A one-time credential waiting for the developer (format only; the value is never listed). */
  credential: z.object({ format: z.enum(["sealed", "age"]), revealed: z.boolean() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Grant = z.infer<typeof grantSchema>;

export const grantListQuery = z
  .object({
    state: z.enum(grantStates).optional(),
    live: z.enum(["true", "false"]).optional(),
    developerId: z.uuid().optional(),
    resourceId: z.uuid().optional(),
    environment: z.enum(environments).optional(),
    breakGlass: z.enum(["true", "false"]).optional(),
    reviewPending: z.enum(["true", "false"]).optional(),
  })
  .strict();
export type GrantListQuery = z.infer<typeof grantListQuery>;

export const revokeInput = z.object({ reason: text(2000) }).strict();
export const reviewBreakGlassInput = z.object({ note: text(2000) }).strict();

/** The one-time credential, as revealed to the developer. */
export const credentialSchema = z.object({
  grantId: z.uuid(),
  kind: z.literal("password"),
  /** "plain": the value itself (shown once); "age": ASCII-armored age file for the developer's key. */
  format: z.enum(["plain", "age"]),
  value: z.string(),
  /** How to use it: role name, host, port, database. */
  connection: z.record(z.string(), z.unknown()),
});

export const sshCertificateSchema = z.object({
  grantId: z.uuid(),
  resourceId: z.uuid(),
  resourceName: z.string(),
  serial: z.string(),
  keyId: z.string(),
  /** The certified key (`SHA256:…` as `ssh-keygen -l` prints it); null for certificates from before keys were recorded. */
  keyFingerprint: z.string().nullable(),
  /** The key's comment as registered (e.g. "ana@laptop"), to tell keys apart. */
  keyComment: z.string(),
  principals: z.array(z.string()),
  validAfter: z.string(),
  validBefore: z.string(),
  /** The OpenSSH certificate line, to save as ~/.ssh/<key>-cert.pub. */
  certificate: z.string(),
});

export const sshCertificateQuery = z
  .object({ resourceId: z.uuid().optional(), grantId: z.uuid().optional() })
  .strict();

/** Ask for certificates: for every registered key (default) or the one named, on live SSH grants. */
export const sshCertifyInput = z
  .object({
    resourceId: z.uuid().optional(),
    grantId: z.uuid().optional(),
    /** One of my registered public keys (`ssh-ed25519 AAAA… comment`); all of them when left out. */
    publicKey: z.string().min(20).max(16_384).optional(),
  })
  .strict();

export const policyDocumentSchema = z.object({
  text: z.string(),
  policyIds: z.array(z.string()),
  isDefault: z.boolean(),
  updatedAt: z.string().nullable(),
});
export const policyInput = z.object({ text: z.string().max(200_000) }).strict();
