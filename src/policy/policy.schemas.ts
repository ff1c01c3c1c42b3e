import { z } from "zod";

export const accessActions = ["request", "approve", "provision"] as const;
export const accessLevels = ["read", "write", "admin"] as const;
export const environments = ["production", "staging", "development"] as const;
export const dataClasses = ["public", "internal", "confidential", "restricted"] as const;
export const resourceKinds = ["postgres", "ssh", "github", "gitlab", "generic"] as const;
export const developerRoles = ["frontend", "backend", "devops", "data", "qa"] as const;
export const approverRoles = ["owner", "security"] as const;

export type AccessAction = (typeof accessActions)[number];
export type AccessLevel = (typeof accessLevels)[number];
export type Environment = (typeof environments)[number];
export type DataClass = (typeof dataClasses)[number];
export type ResourceKind = (typeof resourceKinds)[number];
export type DeveloperRole = (typeof developerRoles)[number];
export type ApproverRole = (typeof approverRoles)[number];

const id = z.string().min(1).max(200);

/**
 * The facts one access decision is made on. Small on purpose: the developer, their vendor (as the
 * developer's parent) and the resource are the only entities Cedar sees.
 */
export const decisionRequestSchema = z.object({
  action: z.enum(accessActions),
  level: z.enum(accessLevels),
  developer: z.object({
    id,
    vendorId: id.nullable().optional(),
    roles: z.array(z.enum(developerRoles)).max(developerRoles.length).readonly().default([]),
    external: z.boolean().default(true),
    eligibility: z.object({
      eligible: z.boolean(),
      reasons: z.array(z.string().max(500)).max(50).readonly().default([]),
    }),
  }),
  resource: z.object({
    id,
    kind: z.enum(resourceKinds),
    environment: z.enum(environments),
    dataClass: z.enum(dataClasses),
    owners: z.array(id).max(100).readonly().default([]),
    breakGlass: z.boolean().default(false),
  }),
  context: z
    .object({
      approvals: z.number().int().min(0).max(1000).default(0),
      approverRoles: z.array(z.enum(approverRoles)).max(approverRoles.length).readonly().default([]),
      breakGlass: z.boolean().default(false),
      inEngagementScope: z.boolean().default(false),
    })
    .prefault({}),
});

/** What callers pass (defaults may be left out). */
export type DecisionRequestInput = z.input<typeof decisionRequestSchema>;
/** After defaults are applied. */
export type DecisionRequest = z.output<typeof decisionRequestSchema>;

/** One sample of a `warden policy test` file: a decision request, a name and the expected outcome. */
export const policySampleSchema = decisionRequestSchema.extend({
  name: z.string().min(1).max(200).optional(),
  expect: z.enum(["allow", "deny"]).optional(),
});
export type PolicySample = z.output<typeof policySampleSchema>;

/** A samples file holds either a list of samples or `{ samples: [...] }`. */
export const policySamplesFileSchema = z.preprocess(
  (raw) => (raw && typeof raw === "object" && !Array.isArray(raw) && "samples" in raw ? raw.samples : raw),
  z.array(policySampleSchema).min(1).max(10_000),
);
