import { z } from "zod";
import { findingSchema, targetResultSchema } from "../scan-tls/index.ts";

const severityOrNone = z.enum(["critical", "high", "medium", "low", "info", "none"]);

export const targetInput = z
  .object({
    /** host, host:port or URL: https://, http://, tls://, postgres://, mysql://, redis://, rediss:// */
    target: z.string().trim().min(1).max(2048),
    label: z.string().trim().max(200).optional(),
    /** How often to scan; default daily. */
    intervalHours: z.number().int().min(1).max(720).optional(),
    scheduled: z.boolean().optional(),
  })
  .strict();

export const targetPatch = z
  .object({
    label: z.string().trim().max(200).optional(),
    intervalHours: z.number().int().min(1).max(720).optional(),
    scheduled: z.boolean().optional(),
  })
  .strict();

export const diffSchema = z.object({
  first: z.boolean(),
  added: z.array(findingSchema),
  resolved: z.array(findingSchema),
  gradeFrom: z.string().nullable(),
  gradeTo: z.string().nullable(),
  statusFrom: z.enum(["scanned", "unreachable", "error"]).nullable(),
  statusTo: z.enum(["scanned", "unreachable", "error"]),
  worse: z.boolean(),
  better: z.boolean(),
});

export const scanSummarySchema = z.object({
  id: z.uuid(),
  targetId: z.uuid(),
  trigger: z.enum(["schedule", "manual", "cli"]),
  status: z.enum(["scanned", "unreachable", "error"]),
  grade: z.string().nullable(),
  worst: severityOrNone,
  findingCount: z.number().int(),
  added: z.number().int(),
  resolved: z.number().int(),
  worse: z.boolean(),
  startedAt: z.date(),
  finishedAt: z.date(),
  reportedBy: z.string().nullable(),
});

export const scanDetailSchema = scanSummarySchema.extend({
  target: z.string(),
  result: targetResultSchema,
  diff: diffSchema,
});

export const targetSchema = z.object({
  id: z.uuid(),
  target: z.string(),
  label: z.string(),
  source: z.enum(["manual", "catalog", "cli"]),
  resourceId: z.string().nullable(),
  scheduled: z.boolean(),
  intervalHours: z.number().int(),
  nextScanAt: z.date().nullable(),
  createdAt: z.date(),
  lastScan: scanSummarySchema.nullable(),
});

export const targetDetailSchema = targetSchema.extend({
  latest: scanDetailSchema.nullable(),
  history: z.array(scanSummarySchema),
});

export const targetListQuery = z
  .object({
    q: z.string().trim().max(200).optional(),
    worst: severityOrNone.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

export const reportResultSchema = z.object({
  scans: z.array(scanSummarySchema.extend({ target: z.string() })),
});
