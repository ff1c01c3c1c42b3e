import { z } from "zod";
import { pageOf, pageQuery } from "../http/pagination.ts";
import { alertSeverities, rulesSettingsSchema } from "./rules.settings.ts";

export const severitySchema = z.enum(alertSeverities);
export const alertStatuses = ["open", "acknowledged", "resolved"] as const;
export const statusSchema = z.enum(alertStatuses);

const isoDateTime = z.iso.datetime({
  offset: true,
  error: "an ISO 8601 date-time such as 2026-12-01T00:00:00Z",
});
/** `a,b,c` or repeated parameters. */
const listOf = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(item).max(10));

export const alertListQuery = z
  .object({
    status: listOf(statusSchema).optional(),
    severity: listOf(severitySchema).optional(),
    ruleId: z.string().max(200).optional(),
    developerId: z.uuid().optional(),
    assigneeId: z.uuid().optional(),
    unassigned: z.enum(["true", "false"]).optional(),
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
    q: z.string().max(200).optional(),
    ...pageQuery,
  })
  .strict();

export const alertSchema = z.object({
  id: z.uuid(),
  ruleId: z.string(),
  title: z.string(),
  severity: severitySchema,
  status: statusSchema,
  groupKey: z.string(),
  summary: z.string(),
  details: z.record(z.string(), z.unknown()),
  developer: z.object({ id: z.uuid(), name: z.string().nullable() }).nullable(),
  assignee: z.object({ id: z.uuid(), name: z.string().nullable() }).nullable(),
  count: z.number().int(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  resolvedAt: z.string().nullable(),
});
export type AlertView = z.infer<typeof alertSchema>;

export const alertPageSchema = pageOf(alertSchema);

export const alertEventSchema = z.object({ eventId: z.string(), at: z.string(), label: z.string() });
export const activitySchema = z.object({
  id: z.uuid(),
  at: z.string(),
  actor: z.object({ id: z.string().nullable(), label: z.string() }),
  kind: z.enum(["opened", "note", "status", "assign", "severity"]),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
});

export const alertDetailSchema = alertSchema.extend({
  events: z.array(alertEventSchema),
  activity: z.array(activitySchema),
});

export const alertPatch = z
  .object({
    status: statusSchema,
    assigneeId: z.uuid().nullable(),
    severity: severitySchema,
    /** Optional words recorded with the change (why it was resolved…). */
    comment: z.string().trim().min(1).max(4000),
  })
  .partial()
  .strict()
  .refine((p) => p.status !== undefined || p.assigneeId !== undefined || p.severity !== undefined, {
    error: "change at least one of status, assigneeId, severity",
  });

export const noteInput = z.object({ body: z.string().trim().min(1).max(4000) }).strict();

export const timelineQuery = z
  .object({
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
    status: listOf(statusSchema).optional(),
    developerId: z.uuid().optional(),
    ruleId: z.string().max(200).optional(),
  })
  .strict();

const severityCounts = z.object({
  informational: z.number().int(),
  low: z.number().int(),
  medium: z.number().int(),
  high: z.number().int(),
  critical: z.number().int(),
});

export const timelineSchema = z.object({
  from: z.string(),
  to: z.string(),
  /** One bucket per hour, oldest first: alerts opened (by their first event) that hour, by severity. */
  hours: z.array(z.object({ hour: z.string(), counts: severityCounts })),
  totals: z.object({
    open: severityCounts,
    acknowledged: severityCounts,
    resolved: severityCounts,
  }),
});

// ------------------------------------------------------------------------------------------------ rules

export const rulesViewSchema = z.object({
  builtin: z.array(
    z.object({
      id: z.string(),
      key: z.string(),
      title: z.string(),
      enabled: z.boolean(),
      severity: severitySchema,
      options: z.record(z.string(), z.unknown()),
    }),
  ),
  settings: z.record(z.string(), z.unknown()),
  updatedAt: z.string().nullable(),
});

export const rulesSettingsBody = rulesSettingsSchema;

export const ruleTestInput = z
  .object({
    from: isoDateTime,
    to: isoDateTime,
    /** Settings to try (default: the saved ones), so a change can be tried before it is saved. */
    settings: rulesSettingsSchema.optional(),
    /** Only these rule ids (e.g. "off-hours", "sigma:<id>"); default all. */
    ruleIds: z.array(z.string().max(200)).max(50).optional(),
    maxEvents: z.number().int().min(1).max(200_000).default(50_000),
  })
  .strict();

export const ruleTestResultSchema = z.object({
  from: z.string(),
  to: z.string(),
  eventsScanned: z.number().int(),
  /** True when maxEvents stopped the replay before `to`. */
  truncated: z.boolean(),
  scannedUntil: z.string().nullable(),
  byRule: z.record(z.string(), z.number().int()),
  alerts: z.array(
    z.object({
      ruleId: z.string(),
      title: z.string(),
      severity: severitySchema,
      groupKey: z.string(),
      summary: z.string(),
      developerId: z.string().nullable(),
      count: z.number().int(),
      firstSeen: z.string(),
      lastSeen: z.string(),
      eventIds: z.array(z.string()),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
});
