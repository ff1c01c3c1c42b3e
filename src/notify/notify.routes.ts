import { z } from "zod";
import type { AuditService } from "../audit/index.ts";
import { notFound } from "../core/errors.ts";
import { idParam } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import type { Store } from "../store/store.ts";
import type { NotifyService } from "./notify.service.ts";

const tags = ["notifications"];
const severity = z.enum(["info", "low", "medium", "high", "critical"]);
const deliverySchema = z.object({
  id: z.uuid(),
  notificationId: z.uuid(),
  topic: z.string(),
  subject: z.string(),
  severity,
  createdAt: z.date(),
  channel: z.enum(["email", "webhook"]),
  target: z.string(),
  status: z.enum(["pending", "sent", "dead"]),
  attempts: z.number().int(),
  nextAttemptAt: z.date(),
  lastError: z.string().nullable(),
  sentAt: z.date().nullable(),
});

export function notifyRoutes(notify: NotifyService, audit: AuditService, store: Store) {
  return async (api: Api) => {
    api.get(
      "/notifications/deliveries",
      {
        config: { access: { permission: "settings:read" } },
        schema: {
          tags,
          summary: "Notification deliveries: sent, pending retries and dead letters",
          querystring: z.object({
            status: z.enum(["pending", "sent", "dead"]).optional(),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          }),
          response: { 200: z.object({ items: z.array(deliverySchema) }) },
        },
      },
      async (req) => ({ items: await notify.list(req.query) }),
    );
    api.post(
      "/notifications/deliveries/:id/redrive",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary: "Send a dead letter again",
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        if (!(await notify.redrive(req.params.id))) throw notFound("Dead letter");
        await audit.recordAlone(req.ctx, {
          action: "notification.redriven",
          target: { type: "notification_delivery", id: req.params.id },
        });
        return reply.code(204).send(null);
      },
    );
    api.post(
      "/notifications/test",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary: "Queue a test notification to you and the webhook, to check the channels",
          response: { 202: z.object({ id: z.uuid() }) },
        },
      },
      async (req, reply) => {
        const id = await store.tx(async (q) => {
          const nid = await notify.enqueue(q, {
            topic: "notify.test",
            subject: "Test notification",
            text: `A test notification asked for by ${req.ctx.actor.label}. If you read this, the channel works.\n`,
            to: req.ctx.actor.userId ? { userIds: [req.ctx.actor.userId] } : {},
          });
          await audit.record(q, req.ctx, {
            action: "notification.test",
            target: { type: "notification", id: nid },
          });
          return nid;
        });
        return reply.code(202).send({ id });
      },
    );
  };
}
