import { z } from "zod";

const datetime = z.iso.datetime({ offset: true });

/** Search filters (query string), shared by search, timeline and export. */
export const eventFilterQuery = {
  developerId: z.uuid().optional(),
  vendorId: z.uuid().optional(),
  action: z.string().trim().min(1).max(200).optional(),
  resource: z.string().trim().min(1).max(200).optional(),
  outcome: z.enum(["success", "failure", "other"]).optional(),
  sourceIp: z
    .string()
    .trim()
    .max(64)
    .regex(/^[0-9a-fA-F.:/]+$/, { error: "an IP address or its beginning" })
    .optional(),
  source: z.string().trim().min(1).max(64).optional(),
  classUid: z.coerce.number().int().min(1).max(999_999).optional(),
  kind: z.enum(["audit", "ocsf"]).optional(),
  from: datetime.optional(),
  to: datetime.optional(),
  q: z.string().trim().min(1).max(200).optional(),
};

export const searchQuery = z
  .object({
    ...eventFilterQuery,
    beforeIndex: z.coerce.number().int().min(0).optional(),
    /** `log`: newest appended first, pages with beforeIndex. `time`: by when it happened (timelines). */
    order: z.enum(["log", "time"]).default("log"),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export const exportQuery = z
  .object({
    ...eventFilterQuery,
    format: z.enum(["ndjson", "json"]).default("ndjson"),
    limit: z.coerce.number().int().min(1).max(1_000_000).default(100_000),
  })
  .strict();

export const eventSummarySchema = z.object({
  id: z.uuid(),
  index: z.number().int(),
  at: z.string(),
  receivedAt: z.string(),
  kind: z.enum(["audit", "ocsf"]),
  classUid: z.number().int(),
  className: z.string(),
  activityId: z.number().int(),
  action: z.string(),
  outcome: z.enum(["success", "failure", "other"]),
  severityId: z.number().int(),
  source: z.string(),
  sourceUid: z.string().nullable(),
  actor: z.object({ id: z.string().nullable(), label: z.string().nullable() }),
  developer: z.object({ id: z.uuid(), name: z.string().nullable() }).nullable(),
  vendor: z.object({ id: z.uuid(), name: z.string().nullable() }).nullable(),
  resource: z.object({ type: z.string().nullable(), id: z.string().nullable() }).nullable(),
  srcIp: z.string().nullable(),
});

export const searchResponse = z.object({
  items: z.array(eventSummarySchema),
  nextBeforeIndex: z.number().int().nullable(),
});

export const eventDetailSchema = eventSummarySchema.extend({
  entry: z.record(z.string(), z.unknown()),
  ocsf: z.record(z.string(), z.unknown()),
  original: z.string().nullable(),
  proof: z
    .object({
      treeSize: z.number().int(),
      hashes: z.array(z.string()),
      leafHash: z.string(),
      checkpoint: z.string(),
      receipt: z.string(),
    })
    .nullable(),
});

export const heatmapQuery = z
  .object({
    developerId: z.uuid(),
    from: datetime.optional(),
    to: datetime.optional(),
  })
  .strict();

export const heatmapResponse = z.object({
  developerId: z.uuid(),
  name: z.string(),
  timeZone: z.string(),
  workingHours: z.unknown(),
  from: z.string(),
  to: z.string(),
  /** ISO weekday (1 = Monday … 7 = Sunday) × hour (0–23) in the developer's time zone, with counts. */
  cells: z.array(z.object({ dow: z.number().int(), hour: z.number().int(), n: z.number().int() })),
  total: z.number().int(),
});

export const inclusionQuery = z
  .object({
    index: z.coerce.number().int().min(0),
    size: z.coerce.number().int().min(1).optional(),
  })
  .strict();

export const consistencyQuery = z
  .object({
    from: z.coerce.number().int().min(0),
    to: z.coerce.number().int().min(0).optional(),
  })
  .strict();

export const logInfoSchema = z.object({
  origin: z.string(),
  verifierKey: z.string(),
  size: z.number().int(),
  root: z.string(),
  prunedBefore: z.number().int(),
  checkpoint: z.string(),
});

export const verifyResponse = z.object({
  ok: z.boolean(),
  size: z.number().int(),
  start: z.number().int(),
  root: z.string(),
  firstBad: z.object({ index: z.number().int(), problem: z.string() }).optional(),
  problems: z.array(z.string()),
  checkpoints: z.array(z.object({ size: z.number().int(), ok: z.boolean(), label: z.string() })),
});

const days = z.number().int().min(1).max(36_500);
export const retentionSchema = z
  .object({
    /** Days an event is kept when its class has no rule; null keeps events forever. */
    defaultDays: days.nullable(),
    classes: z
      .array(z.object({ classUid: z.number().int().min(1).max(999_999), days: days.nullable() }).strict())
      .max(100),
  })
  .strict();

export const retentionResponse = retentionSchema.extend({
  prunedBefore: z.number().int(),
  prunes: z.array(
    z.object({
      before: z.number().int(),
      entries: z.number().int(),
      prunedAt: z.string(),
      checkpoint: z.string(),
    }),
  ),
  /**
   * The oldest entry the rules keep today: pruning stops there, since the log is one tree and leaves it
   * as a prefix. Null when the rules keep everything (or everything expired).
   */
  pruningStopsAt: z
    .object({
      index: z.number().int(),
      classUid: z.number().int(),
      at: z.string(),
      /** When it expires under the rules; null: kept forever. */
      keptUntil: z.string().nullable(),
    })
    .nullable(),
});

export const ingestResponse = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  events: z.array(
    z.object({ line: z.number().int(), id: z.uuid(), index: z.number().int(), duplicate: z.boolean() }),
  ),
});

/** OCSF class names for the classes Warden logs (others show their number). */
export const CLASS_NAMES: Record<number, string> = {
  3001: "Account Change",
  3002: "Authentication",
  3005: "User Access Management",
  4007: "SSH Activity",
  6003: "API Activity",
  6006: "File Hosting Activity",
};
export const classNameOf = (uid: number) => CLASS_NAMES[uid] ?? `Class ${uid}`;
