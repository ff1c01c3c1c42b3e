import { z } from "zod";
import { country, email, text, timeZone } from "../core/schemas.ts";
import { parseAgeRecipient, parseSshPublicKey, sshKeyTypes } from "./developers.keys.ts";

export const developerStatuses = ["active", "offboarded"] as const;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "a time as HH:MM (00:00-23:59)" });

/** ISO weekdays, 1 = Monday … 7 = Sunday. An end before the start means the hours run past midnight. */
export const workingHours = z
  .object({
    start: hhmm,
    end: hhmm,
    days: z
      .array(z.number().int().min(1).max(7))
      .min(1)
      .max(7)
      .refine((d) => new Set(d).size === d.length, { error: "each weekday once" })
      .transform((d) => [...d].sort((a, b) => a - b)),
  })
  .strict()
  .refine((h) => h.start !== h.end, { error: "end must differ from start", path: ["end"] });

// Formats as each host documents them: GitHub (alphanumerics and single inner hyphens, ≤ 39),
// GitLab (alphanumerics, _ . -, starting and ending alphanumeric, not ending .git/.atom),
// Bitbucket Cloud (letters, digits, _ and -, ≤ 30).
export const gitUsernames = z
  .object({
    github: z
      .string()
      .regex(/^[A-Za-z\d](?:[A-Za-z\d]|-(?=[A-Za-z\d])){0,38}$/, { error: "a GitHub username" })
      .optional(),
    gitlab: z
      .string()
      .max(255)
      .regex(/^[A-Za-z\d](?:[A-Za-z\d_.-]*[A-Za-z\d])?$/, { error: "a GitLab username" })
      .refine((v) => !/\.(git|atom)$/i.test(v), { error: "a GitLab username" })
      .optional(),
    bitbucket: z
      .string()
      .regex(/^[A-Za-z\d_-]{1,30}$/, { error: "a Bitbucket username" })
      .optional(),
  })
  .strict();

export const sshPublicKeyList = z
  .array(z.string().max(16_384))
  .max(10)
  .superRefine((lines, ctx) => {
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      const r = parseSshPublicKey(line);
      if (!r.ok) ctx.addIssue({ code: "custom", message: r.error, path: [i] });
      else if (seen.has(r.value.key)) ctx.addIssue({ code: "custom", message: "listed twice", path: [i] });
      else seen.add(r.value.key);
    });
  });

export const ageRecipientList = z
  .array(z.string().max(200))
  .max(10)
  .superRefine((values, ctx) => {
    values.forEach((v, i) => {
      const r = parseAgeRecipient(v);
      if (!r.ok) ctx.addIssue({ code: "custom", message: r.error, path: [i] });
      else if (values.indexOf(v) !== i) ctx.addIssue({ code: "custom", message: "listed twice", path: [i] });
    });
  });

export const developerInput = z
  .object({
    vendorId: z.uuid().nullable().default(null),
    fullName: text(200),
    email,
    country,
    timeZone,
    workingHours,
    gitUsernames: gitUsernames.default({}),
    sshPublicKeys: sshPublicKeyList.default([]),
    ageRecipients: ageRecipientList.default([]),
  })
  .strict();

export const developerPatch = z
  .object({
    vendorId: z.uuid().nullable(),
    fullName: text(200),
    email,
    country,
    timeZone,
    workingHours,
    gitUsernames,
    sshPublicKeys: sshPublicKeyList,
    ageRecipients: ageRecipientList,
    status: z.enum(developerStatuses),
  })
  .partial()
  .strict();

/** What a developer may change about themselves. */
export const selfProfilePatch = developerPatch
  .pick({ timeZone: true, workingHours: true, gitUsernames: true, sshPublicKeys: true, ageRecipients: true })
  .strict();

export const sshKeySchema = z.object({
  type: z.enum(sshKeyTypes),
  key: z.string(),
  comment: z.string(),
  bits: z.number().int(),
  fingerprint: z.string(),
});

export const developerSchema = z.object({
  id: z.uuid(),
  kind: z.enum(["vendor", "freelance"]),
  vendorId: z.uuid().nullable(),
  vendorName: z.string().nullable(),
  fullName: z.string(),
  email: z.string(),
  country: z.string(),
  timeZone: z.string(),
  workingHours: z.object({ start: z.string(), end: z.string(), days: z.array(z.number().int()) }),
  gitUsernames: z.object({
    github: z.string().optional(),
    gitlab: z.string().optional(),
    bitbucket: z.string().optional(),
  }),
  sshPublicKeys: z.array(sshKeySchema),
  ageRecipients: z.array(z.string()),
  status: z.enum(developerStatuses),
  /** Whether a Warden account (role developer) belongs to this record. */
  hasAccount: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const developerListQuery = z
  .object({
    vendorId: z.uuid().optional(),
    kind: z.enum(["vendor", "freelance"]).optional(),
    q: z.string().trim().max(100).optional(),
    status: z.enum(developerStatuses).optional(),
  })
  .strict();

export type DeveloperInput = z.infer<typeof developerInput>;
export type DeveloperPatch = z.infer<typeof developerPatch>;
export type SelfProfilePatch = z.infer<typeof selfProfilePatch>;
export type Developer = z.infer<typeof developerSchema>;
export type DeveloperListQuery = z.infer<typeof developerListQuery>;
