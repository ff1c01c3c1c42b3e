import { z } from "zod";

export const agreementTypes = ["nda", "dpa", "ip_assignment", "sow", "msa"] as const;
export type AgreementType = (typeof agreementTypes)[number];
export const severities = ["low", "medium", "high", "critical"] as const;
export type Severity = (typeof severities)[number];

export const agreementLabel: Record<AgreementType, string> = {
  nda: "NDA",
  dpa: "DPA",
  ip_assignment: "IP assignment",
  sow: "SOW",
  msa: "MSA",
};

/** What the gate demands. Stored in settings under "gate.requirements"; these are the defaults. */
export const requirementsSchema = z
  .object({
    alwaysRequired: z.array(z.enum(agreementTypes)).max(5).default(["nda", "ip_assignment"]),
    personalDataRequired: z.array(z.enum(agreementTypes)).max(5).default(["dpa"]),
    requiredTrainings: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "a course key such as security-awareness"))
      .max(20)
      .default(["security-awareness"]),
    awarenessPassMark: z.number().int().min(0).max(100).default(80),
    /** Unresolved red flags of this severity or worse block access. */
    blockingRedFlagSeverity: z.enum(severities).default("high"),
    requireBackgroundCheck: z.boolean().default(true),
    minVerifiedReferences: z.number().int().min(0).max(10).default(1),
    requireDrillPassed: z.boolean().default(false),
    /** How far ahead the dashboard warns about a coming lapse. */
    warnWithinDays: z.number().int().min(1).max(365).default(30),
  })
  .strict();

export type GateRequirements = z.infer<typeof requirementsSchema>;
export const defaultRequirements: GateRequirements = requirementsSchema.parse({});
