import { z } from "zod";
import { optionalText, text } from "../core/schemas.ts";
import { accessLevels, dataClasses, environments, resourceKinds } from "../policy/index.ts";

export const campaignStatuses = ["open", "completed", "cancelled"] as const;
export type CampaignStatus = (typeof campaignStatuses)[number];
export const reviewDecisions = ["keep", "revoke"] as const;
export type ReviewDecision = (typeof reviewDecisions)[number];
export const itemOutcomes = ["kept", "revoked", "revoked_at_deadline", "ended"] as const;
export type ItemOutcome = (typeof itemOutcomes)[number];

const isoInstant = z.iso.datetime({ offset: true, error: "a date-time such as 2026-12-15T17:00:00Z" });

/** Which live grants a campaign covers; every given field must match (none: every live grant). */
export const scopeSchema = z
  .object({
    vendorId: z.uuid().optional(),
    resourceId: z.uuid().optional(),
    environment: z.enum(environments).optional(),
  })
  .strict();
export type CampaignScope = z.infer<typeof scopeSchema>;

export const campaignInput = z
  .object({
    name: text(200),
    description: optionalText(2000),
    scope: scopeSchema.default({}),
    /** When undecided grants are revoked; at least one hour and at most a year ahead. */
    deadline: isoInstant,
  })
  .strict();
export type CampaignInput = z.infer<typeof campaignInput>;

export const decisionInput = z
  .object({
    decision: z.enum(reviewDecisions),
    reason: text(2000).min(3, { error: "say why in a few words" }),
  })
  .strict();
export type DecisionInput = z.infer<typeof decisionInput>;

export const cancelInput = z.object({ reason: text(2000) }).strict();

const counts = z.object({
  total: z.number().int(),
  undecided: z.number().int(),
  keep: z.number().int(),
  revoke: z.number().int(),
  revokedAtDeadline: z.number().int(),
  ended: z.number().int(),
});

export const campaignSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  scope: z.object({
    vendorId: z.uuid().nullable(),
    vendorName: z.string().nullable(),
    resourceId: z.uuid().nullable(),
    resourceName: z.string().nullable(),
    environment: z.enum(environments).nullable(),
  }),
  origin: z.enum(["scheduled", "manual"]),
  period: z.string().nullable(),
  status: z.enum(campaignStatuses),
  deadline: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
  cancelledReason: z.string().nullable(),
  remindersSent: z.number().int(),
  lastRemindedAt: z.string().nullable(),
  counts,
  /** For the signed-in user: items they may still decide. */
  mine: z.number().int(),
});
export type Campaign = z.infer<typeof campaignSchema>;

export const itemSchema = z.object({
  id: z.uuid(),
  campaignId: z.uuid(),
  grantId: z.uuid(),
  developer: z.object({ id: z.uuid(), name: z.string(), email: z.string() }),
  vendor: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  resource: z.object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(resourceKinds),
    environment: z.enum(environments),
    dataClass: z.enum(dataClasses),
  }),
  level: z.enum(accessLevels),
  grantStartsAt: z.string(),
  grantEndsAt: z.string(),
  breakGlass: z.boolean(),
  decision: z.enum(reviewDecisions).nullable(),
  reason: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  outcome: z.enum(itemOutcomes).nullable(),
  outcomeDetail: z.string().nullable(),
  outcomeAt: z.string().nullable(),
  /** Whether the signed-in user may decide this item now (an owner of its resource, or a lead). */
  canDecide: z.boolean(),
});
export type ReviewItem = z.infer<typeof itemSchema>;

export const campaignDetailSchema = campaignSchema.extend({ items: z.array(itemSchema) });
export type CampaignDetail = z.infer<typeof campaignDetailSchema>;

export const campaignListQuery = z
  .object({
    status: z.enum(campaignStatuses).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

export const itemListQuery = z
  .object({
    /** "me": only items the signed-in user may decide now. */
    reviewer: z.literal("me").optional(),
    undecided: z.enum(["true", "false"]).optional(),
  })
  .strict();

export const itemParams = z.object({ id: z.uuid(), itemId: z.uuid() }).strict();

// ---- least-privilege hints ----

export const hintKinds = ["unused", "write_unused", "admin_level"] as const;
export type HintKind = (typeof hintKinds)[number];

export const hintsQuery = z
  .object({
    /** A grant with no sign of use for this many days is listed as unused. */
    unusedDays: z.coerce.number().int().min(1).max(365).default(30),
    resourceId: z.uuid().optional(),
    /** Also ask the connectors (PostgreSQL: open sessions now). Network calls: opt in. */
    connectors: z.enum(["true", "false"]).default("false"),
  })
  .strict();

export const hintSchema = z.object({
  grantId: z.uuid(),
  developerId: z.uuid(),
  developerName: z.string(),
  resourceId: z.uuid(),
  resourceName: z.string(),
  environment: z.enum(environments),
  level: z.enum(accessLevels),
  grantStartsAt: z.string(),
  grantEndsAt: z.string(),
  kind: z.enum(hintKinds),
  /** In plain words: why this grant looks wider than needed. */
  message: z.string(),
  /** The suggestion: revoke it, or replace it with a narrower level. */
  suggestion: z.enum(["revoke", "narrow"]),
  lastSeenAt: z.string().nullable(),
  /** Where the usage facts came from: "audit trail", "postgres: open sessions". */
  evidence: z.array(z.string()),
  /** Whether the signed-in user may revoke it (an owner of the resource, or a lead). */
  canRevoke: z.boolean(),
});
export type Hint = z.infer<typeof hintSchema>;

export const hintsSchema = z.object({
  items: z.array(hintSchema),
  unusedDays: z.number().int(),
  checkedAt: z.string(),
  /** Each usage source and how many grants it could speak for. */
  sources: z.array(z.object({ name: z.string(), grants: z.number().int(), errors: z.number().int() })),
  /** Live grants looked at. */
  grants: z.number().int(),
});
