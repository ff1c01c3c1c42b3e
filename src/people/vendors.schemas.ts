import { z } from "zod";
import { country, optionalText, text } from "../core/schemas.ts";

export const riskTiers = ["low", "medium", "high", "critical"] as const;

const money = z.number().nonnegative().max(1_000_000);
const contact = z
  .object({
    name: text(120),
    email: z.email().max(254),
    role: z.string().trim().max(80).default(""),
    phone: z.string().trim().max(40).default(""),
  })
  .strict();

export const vendorInput = z
  .object({
    name: text(200),
    country,
    contacts: z.array(contact).max(20).default([]),
    dayRate: money.nullable().default(null),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "an ISO 4217 currency code such as EUR")
      .default("EUR"),
    marketBandLow: money.nullable().default(null),
    marketBandHigh: money.nullable().default(null),
    riskTier: z.enum(riskTiers),
    notes: optionalText(4000),
  })
  .strict()
  .refine(
    (v) => v.marketBandLow === null || v.marketBandHigh === null || v.marketBandLow <= v.marketBandHigh,
    {
      error: "must not be above marketBandHigh",
      path: ["marketBandLow"],
    },
  );

export const vendorPatch = z
  .object({
    name: text(200),
    country,
    contacts: z.array(contact).max(20),
    dayRate: money.nullable(),
    currency: z.string().regex(/^[A-Z]{3}$/),
    marketBandLow: money.nullable(),
    marketBandHigh: money.nullable(),
    riskTier: z.enum(riskTiers),
    notes: z.string().trim().max(4000),
  })
  .partial()
  .strict();

export const vendorSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  country: z.string(),
  contacts: z.array(z.object({ name: z.string(), email: z.string(), role: z.string(), phone: z.string() })),
  dayRate: z.number().nullable(),
  currency: z.string(),
  marketBandLow: z.number().nullable(),
  marketBandHigh: z.number().nullable(),
  riskTier: z.enum(riskTiers),
  /** Computed: the day rate sits far below the market band (a red flag in vetting). */
  pricingBelowMarket: z.boolean(),
  notes: z.string(),
  developerCount: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const vendorListQuery = z
  .object({
    q: z.string().trim().max(100).optional(),
    riskTier: z.enum(riskTiers).optional(),
    country: country.optional(),
  })
  .strict();

export type VendorInput = z.infer<typeof vendorInput>;
export type VendorPatch = z.infer<typeof vendorPatch>;
export type Vendor = z.infer<typeof vendorSchema>;
