import { z } from "zod";
import { SEAL_PURPOSES } from "../crypto/keyring.ts";

export const purposeSchema = z.enum(SEAL_PURPOSES as unknown as [string, ...string[]]);

export const rotationSchema = z.object({
  id: z.uuid(),
  kind: z.enum(["kek", "data"]),
  state: z.enum(["running", "finished"]),
  purposes: z.array(z.string()),
  fromKeys: z.array(z.string()),
  toKeys: z.record(z.string(), z.string()),
  total: z.number().int(),
  done: z.number().int(),
  remaining: z.number().int(),
  percent: z.number().int().min(0).max(100),
  requestedBy: z.string().nullable(),
  startedAt: z.date(),
  updatedAt: z.date(),
  finishedAt: z.date().nullable(),
  lastError: z.string().nullable(),
});

export const keysStatusSchema = z.object({
  kek: z.object({
    /** Id of the master key (KEK) that wraps new data keys, e.g. local:3f2a… (never the key). */
    current: z.string(),
    /** Older KEKs this server still accepts for unwrapping. */
    accepted: z.array(z.string()),
    source: z.enum(["env", "file"]),
    /** KEKs that wrap at least one data key in the store. */
    inUse: z.array(z.string()),
  }),
  dataKeys: z.array(
    z.object({
      id: z.uuid(),
      purpose: z.string(),
      version: z.number().int(),
      kekId: z.string(),
      active: z.boolean(),
      createdAt: z.date(),
      retiredAt: z.date().nullable(),
      sealedValues: z.number().int(),
    }),
  ),
  rotations: z.array(rotationSchema),
});

export const rotateDataInput = z
  .object({ purposes: z.array(purposeSchema).max(SEAL_PURPOSES.length).optional() })
  .strict();

export const rotateKekResult = z.object({
  rotation: rotationSchema,
  /** Set when Warden generated a new key file (key-file installations). */
  keyFile: z.string().optional(),
  stillAccepted: z.array(z.string()),
});
