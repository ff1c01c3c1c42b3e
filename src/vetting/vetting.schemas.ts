import { z } from "zod";
import { isoDate, optionalText, text } from "../core/schemas.ts";

export const backgroundResults = ["pending", "clear", "consider", "failed"] as const;
export const cultureOutcomes = ["pending", "pass", "fail"] as const;
export const drillResults = ["not_run", "passed", "failed"] as const;
export const decisions = ["pending", "approved", "rejected"] as const;
export const redFlagKinds = [
  "vague_past_work",
  "pricing_below_market",
  "refused_secure_channel",
  "other",
] as const;
export const severities = ["low", "medium", "high", "critical"] as const;

export const backgroundCheck = z
  .object({
    provider: text(120),
    result: z.enum(backgroundResults),
    /** The day the provider reported; absent while pending. */
    completedOn: isoDate.nullable().default(null),
  })
  .strict()
  .refine((b) => (b.result === "pending") === (b.completedOn === null), {
    error: "give completedOn for a finished check, and none while it is pending",
    path: ["completedOn"],
  });

export const awareness = z.object({ score: z.number().int().min(0).max(100), takenOn: isoDate }).strict();

export const culture = z.object({ outcome: z.enum(cultureOutcomes), notes: optionalText(4000) }).strict();

export const drill = z
  .object({ result: z.enum(drillResults), on: isoDate.nullable().default(null) })
  .strict()
  .refine((d) => (d.result === "not_run") === (d.on === null), {
    error: "give the drill's date once it has run, and none before",
    path: ["on"],
  });

/** Each section replaces the stored one; null clears it (background check, awareness test). */
export const vettingPatch = z
  .object({
    backgroundCheck: backgroundCheck.nullable(),
    awareness: awareness.nullable(),
    culture,
    drill,
  })
  .partial()
  .strict();

export const referenceInput = z
  .object({
    name: text(200),
    company: optionalText(200),
    contact: optionalText(200),
    notes: optionalText(4000),
  })
  .strict();

export const verifyReferenceInput = z.object({ notes: z.string().trim().max(4000).optional() }).strict();

export const redFlagInput = z
  .object({ kind: z.enum(redFlagKinds), severity: z.enum(severities), note: optionalText(2000) })
  .strict();

export const resolveRedFlagInput = z.object({ resolution: text(2000) }).strict();

export const decisionInput = z.object({ decision: z.enum(decisions), reason: text(2000) }).strict();

const person = z.object({ id: z.uuid(), name: z.string() }).nullable();

export const referenceSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  company: z.string(),
  contact: z.string(),
  notes: z.string(),
  verified: z.boolean(),
  verifiedBy: person,
  verifiedAt: z.string().nullable(),
  createdAt: z.string(),
});

export const redFlagSchema = z.object({
  id: z.uuid(),
  kind: z.enum(redFlagKinds),
  severity: z.enum(severities),
  note: z.string(),
  /** null when Warden raised it itself. */
  raisedBy: person,
  raisedAt: z.string(),
  resolved: z.boolean(),
  resolvedBy: person,
  resolvedAt: z.string().nullable(),
  resolution: z.string().nullable(),
});

export const vettingSchema = z.object({
  developerId: z.uuid(),
  backgroundCheck: z
    .object({ provider: z.string(), result: z.enum(backgroundResults), completedOn: z.string().nullable() })
    .nullable(),
  awareness: z.object({ score: z.number().int(), takenOn: z.string() }).nullable(),
  culture: z.object({ outcome: z.enum(cultureOutcomes), notes: z.string() }),
  drill: z.object({ result: z.enum(drillResults), on: z.string().nullable() }),
  references: z.array(referenceSchema),
  redFlags: z.array(redFlagSchema),
  /** Red flags Warden suggests from what it knows (e.g. the vendor's pricing); raise them to record them. */
  suggestedRedFlags: z.array(
    z.object({ kind: z.enum(redFlagKinds), severity: z.enum(severities), reason: z.string() }),
  ),
  decision: z.object({
    decision: z.enum(decisions),
    reason: z.string(),
    decidedBy: person,
    decidedAt: z.string().nullable(),
  }),
  updatedAt: z.string().nullable(),
});

export const devParam = z.object({ id: z.uuid() }).strict();
export const referenceParam = z.object({ id: z.uuid(), refId: z.uuid() }).strict();
export const flagParam = z.object({ id: z.uuid(), flagId: z.uuid() }).strict();

export type VettingPatch = z.infer<typeof vettingPatch>;
export type ReferenceInput = z.infer<typeof referenceInput>;
export type RedFlagInput = z.infer<typeof redFlagInput>;
export type DecisionInput = z.infer<typeof decisionInput>;
export type Vetting = z.infer<typeof vettingSchema>;
export type Reference = z.infer<typeof referenceSchema>;
export type RedFlag = z.infer<typeof redFlagSchema>;
export type BackgroundCheck = z.infer<typeof backgroundCheck>;
