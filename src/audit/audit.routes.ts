import { z } from "zod";
import type { Api } from "../http/server.ts";
import type { AuditEntry, AuditService } from "./audit.service.ts";

const tags = ["audit"];

const entrySchema = z.object({
  seq: z.number(),
  id: z.uuid(),
  at: z.string(),
  actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string() }),
  action: z.string(),
  target: z.object({ type: z.string().nullable(), id: z.string().nullable() }),
  outcome: z.string(),
  summary: z.record(z.string(), z.unknown()),
  source: z.object({
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
  }),
});

export const presentEntry = (e: AuditEntry) => ({
  seq: e.seq,
  id: e.id,
  at: e.at.toISOString(),
  actor: { type: e.actorType, id: e.actorId, label: e.actorLabel },
  action: e.action,
  target: { type: e.targetType, id: e.targetId },
  outcome: e.outcome,
  summary: e.summary,
  source: { ip: e.sourceIp, userAgent: e.userAgent, requestId: e.requestId },
});

export function auditRoutes(audit: AuditService) {
  return async (api: Api) => {
    api.get(
      "/audit/events",
      {
        config: { access: { permission: "audit:read" } },
        schema: {
          tags,
          summary: "The audit trail, newest first (page with beforeSeq)",
          querystring: z
            .object({
              actorId: z.uuid().optional(),
              action: z.string().max(100).optional(),
              targetType: z.string().max(50).optional(),
              targetId: z.string().max(100).optional(),
              from: z.iso.datetime({ offset: true }).optional(),
              to: z.iso.datetime({ offset: true }).optional(),
              beforeSeq: z.coerce.number().int().min(1).optional(),
              limit: z.coerce.number().int().min(1).max(500).default(100),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(entrySchema), nextBeforeSeq: z.number().nullable() }) },
        },
      },
      async (req) => {
        const q = req.query;
        const items = await audit.list({
          ...q,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
        });
        const last = items.at(-1);
        return {
          items: items.map(presentEntry),
          nextBeforeSeq: items.length === q.limit && last ? last.seq : null,
        };
      },
    );
    api.get(
      "/audit/verify",
      {
        config: { access: { permission: "audit:read" } },
        schema: {
          tags,
          summary: "Recompute the Merkle tree from every entry and name the first bad one",
          response: {
            200: z.object({
              ok: z.boolean(),
              checked: z.number(),
              head: z.object({
                size: z.number(),
                /** The Merkle root (hex); `chainHash` repeats it for clients of the old hash chain. */
                root: z.string(),
                chainHash: z.string().nullable(),
              }),
              firstBad: z.object({ seq: z.number(), problem: z.string() }).optional(),
            }),
          },
        },
      },
      async () => ({ ...(await audit.verify()), head: await audit.head() }),
    );
  };
}
