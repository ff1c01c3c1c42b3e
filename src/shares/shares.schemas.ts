import { z } from "zod";

export const shareKinds = ["file", "text"] as const;
export const shareStatuses = ["pending", "ready", "revoked", "expired", "used_up"] as const;
export const downloadOutcomes = ["in_progress", "completed", "incomplete", "refused"] as const;
export type ShareKind = (typeof shareKinds)[number];
export type ShareStatus = (typeof shareStatuses)[number];
export type DownloadOutcome = (typeof downloadOutcomes)[number];

/** Text secrets are small by nature; files go up to WARDEN_SHARE_MAX_MB. */
export const TEXT_MAX_BYTES = 64 * 1024;

const label = z.string().trim().min(1).max(120);

/** A file name as the recipient will save it: no directories, no control characters. */
export const filename = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .refine(
    (v) => !/[/\\]/.test(v) && ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    {
      error: "a file name without directories or control characters",
    },
  );

export const shareInput = z
  .object({
    kind: z.enum(shareKinds),
    /** The file's name (kind "file"); sealed at rest. */
    filename: filename.optional(),
    /** Developers by id or email. */
    to: z
      .array(z.string().trim().min(1).max(254))
      .min(1)
      .max(20)
      .refine((v) => new Set(v.map((s) => s.toLowerCase())).size === v.length, {
        error: "each recipient once",
      }),
    /** What the content is (e.g. "source code", "personal data"); each recipient's agreements must permit it. */
    dataCategories: z
      .array(label)
      .min(1)
      .max(10)
      .refine((v) => new Set(v.map((s) => s.toLowerCase())).size === v.length, { error: "each entry once" }),
    /** Size of the plaintext in bytes; the upload must be the age ciphertext of exactly this many bytes. */
    size: z.number().int().min(0),
    /** When the share ends; default in 7 days, at most WARDEN_SHARE_MAX_DAYS ahead. */
    expiresAt: z.iso.datetime({ offset: true, error: "a date-time such as 2026-12-01T12:00:00Z" }).optional(),
    /** Downloads each recipient may make (default: any number until expiry). */
    maxDownloads: z.number().int().min(1).max(1000).nullable().default(null),
    /** One download per recipient; the ciphertext is deleted once every recipient has it. */
    oneTime: z.boolean().default(false),
    /** Shown to the recipients; sealed at rest but not end-to-end encrypted: no secrets here. */
    note: z.string().trim().max(2000).default(""),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.kind === "file" && !v.filename)
      ctx.addIssue({ code: "custom", message: "required for a file share", path: ["filename"] });
    if (v.kind === "text" && v.filename !== undefined)
      ctx.addIssue({ code: "custom", message: "a text share has no file name", path: ["filename"] });
    if (v.kind === "text" && v.size > TEXT_MAX_BYTES)
      ctx.addIssue({
        code: "custom",
        message: `a text secret is at most ${TEXT_MAX_BYTES} bytes`,
        path: ["size"],
      });
    if (v.oneTime && v.maxDownloads !== null && v.maxDownloads !== 1)
      ctx.addIssue({
        code: "custom",
        message: "a one-time share allows one download per recipient",
        path: ["maxDownloads"],
      });
  });
export type ShareInput = z.infer<typeof shareInput>;

export const shareKeySchema = z.object({
  type: z.enum(["X25519", "ssh-ed25519"]),
  recipient: z.string(),
  fingerprint: z.string(),
});

const recipientSchema = z.object({
  developerId: z.uuid(),
  name: z.string(),
  email: z.string(),
  /** The public keys the ciphertext is (to be) encrypted to. */
  keys: z.array(shareKeySchema),
  /** Completed downloads. */
  downloads: z.number().int(),
  /** Downloads left (null: any number until expiry). */
  downloadsLeft: z.number().int().nullable(),
});

export const downloadSchema = z.object({
  id: z.uuid(),
  developerId: z.uuid().nullable(),
  developerName: z.string().nullable(),
  outcome: z.enum(downloadOutcomes),
  reason: z.string().nullable(),
  bytesSent: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  ip: z.string().nullable(),
});

/** The sender's (and auditors') view of a share. */
export const shareSchema = z.object({
  id: z.uuid(),
  kind: z.enum(shareKinds),
  status: z.enum(shareStatuses),
  filename: z.string().nullable(),
  note: z.string(),
  dataCategories: z.array(z.string()),
  size: z.number().int(),
  ciphertextBytes: z.number().int().nullable(),
  sha256: z.string().nullable(),
  maxDownloads: z.number().int().nullable(),
  oneTime: z.boolean(),
  expiresAt: z.string(),
  createdAt: z.string(),
  uploadedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  contentDeleted: z.boolean(),
  sender: z.object({ id: z.uuid(), name: z.string() }),
  recipients: z.array(recipientSchema),
  /** Where to PUT the ciphertext while the share is pending. */
  uploadUrl: z.string().nullable(),
});
export type Share = z.infer<typeof shareSchema>;

export const shareDetailSchema = shareSchema.extend({ downloads: z.array(downloadSchema) });
export type ShareDetail = z.infer<typeof shareDetailSchema>;

/** What a recipient sees: never other recipients' keys or the download log. */
export const inboxShareSchema = z.object({
  id: z.uuid(),
  kind: z.enum(shareKinds),
  /** available: can be downloaded now; the others say why not. */
  state: z.enum(["available", "used_up", "expired", "revoked"]),
  filename: z.string().nullable(),
  note: z.string(),
  dataCategories: z.array(z.string()),
  size: z.number().int(),
  ciphertextBytes: z.number().int().nullable(),
  sha256: z.string().nullable(),
  oneTime: z.boolean(),
  downloads: z.number().int(),
  downloadsLeft: z.number().int().nullable(),
  expiresAt: z.string(),
  sentAt: z.string(),
  sender: z.object({ name: z.string() }),
  /** My keys it was encrypted to: the identity for any one of them decrypts it. */
  keys: z.array(shareKeySchema),
});
export type InboxShare = z.infer<typeof inboxShareSchema>;

export const shareListQuery = z
  .object({
    status: z.enum(shareStatuses).optional(),
    developerId: z.uuid().optional(),
  })
  .strict();
export type ShareListQuery = z.infer<typeof shareListQuery>;

export const recipientsQuery = z
  .object({
    to: z.union([z.string().trim().min(1).max(254), z.array(z.string().trim().min(1).max(254)).max(20)]),
  })
  .strict();

/** GET /shares/recipients: can these developers receive a share, to which keys, for what data. */
export const recipientCheckSchema = z.object({
  items: z.array(
    z.object({
      query: z.string(),
      developerId: z.uuid().nullable(),
      name: z.string().nullable(),
      email: z.string().nullable(),
      keys: z.array(shareKeySchema),
      eligible: z.boolean(),
      /** Why this developer cannot receive a share now (empty when they can). */
      problems: z.array(z.string()),
      permittedDataCategories: z.array(z.string()),
    }),
  ),
});
export type RecipientCheck = z.infer<typeof recipientCheckSchema>["items"][number];
