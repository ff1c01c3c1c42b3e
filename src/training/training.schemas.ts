import { z } from "zod";
import { isoDate } from "../core/schemas.ts";

export const courseKey = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, { error: 'a course key such as "security-awareness"' });

/** `expiresOn` is exclusive: from that day on the training no longer counts. */
export const trainingInput = z
  .object({
    course: courseKey,
    completedOn: isoDate,
    score: z.number().int().min(0).max(100).nullable().default(null),
    expiresOn: isoDate.nullable().default(null),
  })
  .strict()
  .refine((r) => r.expiresOn === null || r.expiresOn > r.completedOn, {
    error: "must be after completedOn",
    path: ["expiresOn"],
  });

export const trainingSchema = z.object({
  id: z.uuid(),
  developerId: z.uuid(),
  course: z.string(),
  completedOn: z.string(),
  score: z.number().int().nullable(),
  expiresOn: z.string().nullable(),
  /** Computed for today. */
  state: z.enum(["current", "expired"]),
  createdAt: z.string(),
});

export const trainingListQuery = z.object({ course: courseKey.optional() }).strict();

export type TrainingInput = z.infer<typeof trainingInput>;
export type TrainingRecord = z.infer<typeof trainingSchema>;
