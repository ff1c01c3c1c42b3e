import { z } from "zod";

export const reasonSchema = z.object({ code: z.string(), message: z.string(), since: z.string().optional() });
const lapse = z.object({ date: z.string(), reason: z.string() }).nullable();

export const engagementEligibilitySchema = z.object({
  engagementId: z.uuid(),
  title: z.string(),
  eligible: z.boolean(),
  reasons: z.array(reasonSchema),
  nextLapse: lapse,
});

export const developerEligibilitySchema = z.object({
  developerId: z.uuid(),
  name: z.string(),
  vendorName: z.string().nullable(),
  eligible: z.boolean(),
  reasons: z.array(reasonSchema),
  nextLapse: lapse,
  lostOn: z.string().nullable(),
  engagements: z.array(engagementEligibilitySchema),
  checkedAt: z.string(),
});

export const atQuery = z
  .object({
    at: z.iso
      .datetime({ offset: true, error: "an ISO 8601 date-time such as 2026-12-01T00:00:00Z" })
      .optional(),
  })
  .strict();

export const dashboardSchema = z.object({
  at: z.string(),
  warnWithinDays: z.number(),
  counts: z.object({
    vendors: z.number(),
    developers: z.number(),
    activeEngagements: z.number(),
    activeAgreements: z.number(),
    eligibleDevelopers: z.number(),
  }),
  notEligible: z.array(
    z.object({
      developerId: z.uuid(),
      name: z.string(),
      vendorName: z.string().nullable(),
      lostOn: z.string().nullable(),
      reasons: z.array(z.string()),
    }),
  ),
  losingSoon: z.array(
    z.object({
      developerId: z.uuid(),
      name: z.string(),
      vendorName: z.string().nullable(),
      date: z.string(),
      reason: z.string(),
    }),
  ),
  expiringAgreements: z.array(
    z.object({ id: z.uuid(), title: z.string(), type: z.string(), party: z.string(), expiresOn: z.string() }),
  ),
});
