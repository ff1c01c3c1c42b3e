import { z } from "zod";
import { isoDate, optionalText, text } from "../core/schemas.ts";

export const engagementRoles = ["frontend", "backend", "devops", "data", "qa"] as const;

const roles = z
  .array(z.enum(engagementRoles))
  .min(1)
  .max(engagementRoles.length)
  .refine((r) => new Set(r).size === r.length, { error: "each role once" });

/** `endsOn` is exclusive: from that day on the engagement no longer holds. */
const endsAfterStart = (e: { startsOn?: string | undefined; endsOn?: string | null | undefined }) =>
  !e.startsOn || !e.endsOn || e.endsOn > e.startsOn;

export const engagementInput = z
  .object({
    developerId: z.uuid(),
    title: text(200),
    startsOn: isoDate,
    endsOn: isoDate.nullable().default(null),
    roles,
    handlesPersonalData: z.boolean().default(false),
    scope: optionalText(4000),
  })
  .strict()
  .refine(endsAfterStart, { error: "must be after startsOn", path: ["endsOn"] });

export const engagementPatch = z
  .object({
    title: text(200),
    startsOn: isoDate,
    endsOn: isoDate.nullable(),
    roles,
    handlesPersonalData: z.boolean(),
    scope: z.string().trim().max(4000),
  })
  .partial()
  .strict()
  .refine(endsAfterStart, { error: "must be after startsOn", path: ["endsOn"] });

export const engagementSchema = z.object({
  id: z.uuid(),
  developerId: z.uuid(),
  developerName: z.string(),
  title: z.string(),
  startsOn: z.string(),
  endsOn: z.string().nullable(),
  roles: z.array(z.enum(engagementRoles)),
  handlesPersonalData: z.boolean(),
  scope: z.string(),
  /** Computed for today: the engagement has started and not ended. */
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const engagementListQuery = z
  .object({
    developerId: z.uuid().optional(),
    /** Only engagements running on that day. */
    activeAt: isoDate.optional(),
  })
  .strict();

export type EngagementInput = z.infer<typeof engagementInput>;
export type EngagementPatch = z.infer<typeof engagementPatch>;
export type Engagement = z.infer<typeof engagementSchema>;
export type EngagementListQuery = z.infer<typeof engagementListQuery>;
