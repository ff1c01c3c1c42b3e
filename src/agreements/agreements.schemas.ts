import { z } from "zod";
import { isoDate, text } from "../core/schemas.ts";

export const agreementTypes = ["nda", "dpa", "ip_assignment", "sow", "msa"] as const;
export const agreementStatuses = ["draft", "active", "terminated"] as const;
/** The status plus what the calendar did to it: `expired` is computed from expiresOn. */
export const agreementStates = ["draft", "active", "expired", "terminated"] as const;
export type AgreementType = (typeof agreementTypes)[number];
export type AgreementStatus = (typeof agreementStatuses)[number];
export type AgreementState = (typeof agreementStates)[number];

const label = z.string().trim().min(1).max(120);
const labels = z
  .array(label)
  .max(50)
  .refine((v) => new Set(v.map((s) => s.toLowerCase())).size === v.length, { error: "each entry once" });

export const terms = z
  .object({
    permittedTools: labels.default([]),
    permittedStorageLocations: labels.default([]),
    /** Hours within which the party must report a security incident (GDPR Art. 33 sets 72 for controllers). */
    incidentResponseHours: z.number().int().min(1).max(8760).nullable().default(null),
    dataCategories: labels.default([]),
  })
  .strict();
export type Terms = z.infer<typeof terms>;

const emptyTerms: Terms = {
  permittedTools: [],
  permittedStorageLocations: [],
  incidentResponseHours: null,
  dataCategories: [],
};

interface Dates {
  signedOn?: string | null | undefined;
  effectiveOn?: string | undefined;
  expiresOn?: string | null | undefined;
}

/**
 * Date rules a lawyer would recognise. The expiry day is exclusive and must come after the effective
 * day. An agreement may be signed before it takes effect, or after ("effective as of" a past date), but
 * not on or after its expiry: there would be nothing left to sign. "Not in the future" for signedOn
 * needs the clock, so the service checks it.
 */
export function dateIssues(d: Dates): { field: string; message: string }[] {
  const issues: { field: string; message: string }[] = [];
  if (d.effectiveOn && d.expiresOn && d.expiresOn <= d.effectiveOn) {
    issues.push({ field: "expiresOn", message: "must be after effectiveOn (the expiry day is exclusive)" });
  }
  if (d.signedOn && d.expiresOn && d.signedOn >= d.expiresOn) {
    issues.push({ field: "signedOn", message: "must be before expiresOn" });
  }
  return issues;
}

const refineDates = (d: Dates, ctx: z.core.$RefinementCtx) => {
  for (const i of dateIssues(d)) ctx.addIssue({ code: "custom", message: i.message, path: [i.field] });
};

export const agreementInput = z
  .object({
    type: z.enum(agreementTypes),
    vendorId: z.uuid().optional(),
    developerId: z.uuid().optional(),
    title: text(200),
    signedOn: isoDate.nullable().default(null),
    effectiveOn: isoDate,
    expiresOn: isoDate.nullable().default(null),
    terms: terms.default(emptyTerms),
  })
  .strict()
  .superRefine((a, ctx) => {
    if ((a.vendorId === undefined) === (a.developerId === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: "give exactly one party: vendorId or developerId",
        path: ["vendorId"],
      });
    }
    refineDates(a, ctx);
  });

/** Drafts may change anything but the party; active agreements only their title, expiry and terms (amendments). */
export const agreementPatch = z
  .object({
    type: z.enum(agreementTypes),
    title: text(200),
    signedOn: isoDate.nullable(),
    effectiveOn: isoDate,
    expiresOn: isoDate.nullable(),
    terms,
  })
  .partial()
  .strict()
  .superRefine(refineDates);

export const terminateInput = z
  .object({
    /** The first day the agreement no longer holds; may lie ahead (a notice period). */
    terminatedOn: isoDate,
    reason: text(2000),
  })
  .strict();

export const documentSchema = z.object({
  id: z.uuid(),
  filename: z.string(),
  mediaType: z.string(),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  uploadedAt: z.string(),
});

const termsOut = z.object({
  permittedTools: z.array(z.string()),
  permittedStorageLocations: z.array(z.string()),
  incidentResponseHours: z.number().int().nullable(),
  dataCategories: z.array(z.string()),
});

const party = z.object({ kind: z.enum(["vendor", "developer"]), id: z.uuid(), name: z.string() });

export const agreementSchema = z.object({
  id: z.uuid(),
  type: z.enum(agreementTypes),
  party,
  title: z.string(),
  status: z.enum(agreementStatuses),
  /** Computed for today. */
  state: z.enum(agreementStates),
  /** Computed for today: active, signed, effective, not expired or terminated. */
  inEffect: z.boolean(),
  signedOn: z.string().nullable(),
  effectiveOn: z.string(),
  expiresOn: z.string().nullable(),
  terminatedOn: z.string().nullable(),
  terminationReason: z.string().nullable(),
  /** The first day it no longer holds: the earlier of expiry and termination. */
  endsOn: z.string().nullable(),
  terms: termsOut,
  document: documentSchema.nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** What a developer sees of an agreement that binds them (their own, or their vendor's). */
export const myAgreementSchema = agreementSchema
  .pick({
    id: true,
    type: true,
    party: true,
    title: true,
    state: true,
    inEffect: true,
    signedOn: true,
    effectiveOn: true,
    expiresOn: true,
    terminatedOn: true,
    endsOn: true,
    terms: true,
  })
  .extend({ hasDocument: z.boolean() });

export const agreementListQuery = z
  .object({
    type: z.enum(agreementTypes).optional(),
    vendorId: z.uuid().optional(),
    developerId: z.uuid().optional(),
    state: z.enum(agreementStates).optional(),
  })
  .strict();

export const expiringQuery = z
  .object({ withinDays: z.coerce.number().int().min(1).max(366).default(30) })
  .strict();

export const expiringSchema = z.object({
  withinDays: z.number().int(),
  items: z.array(agreementSchema.extend({ daysLeft: z.number().int() })),
});

export type AgreementInput = z.infer<typeof agreementInput>;
export type AgreementPatch = z.infer<typeof agreementPatch>;
export type TerminateInput = z.infer<typeof terminateInput>;
export type Agreement = z.infer<typeof agreementSchema>;
export type MyAgreement = z.infer<typeof myAgreementSchema>;
export type AgreementListQuery = z.infer<typeof agreementListQuery>;
