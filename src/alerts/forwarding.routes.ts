import { z } from "zod";
import { idParam } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import {
  deadLetterQuery,
  deadLetterSchema,
  destinationInput,
  destinationPatch,
  destinationSchema,
} from "./forwarding.schemas.ts";
import type { ForwardingService } from "./forwarding.service.ts";

const tags = ["siem"];

export function forwardingRoutes(fwd: ForwardingService) {
  return async (api: Api) => {
    api.get(
      "/siem/destinations",
      {
        config: { access: { permission: "settings:read" } },
        schema: {
          tags,
          summary: "SIEM destinations with their progress (cursor, lag, last error, dead letters)",
          response: { 200: z.object({ items: z.array(destinationSchema) }) },
        },
      },
      async () => ({ items: await fwd.list() }),
    );
    api.post(
      "/siem/destinations",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary:
            "Forward the event log to a SIEM: syslog (RFC 5424 + CEF over UDP/TCP/TLS) or ECS JSON over HTTP",
          body: destinationInput,
          response: { 201: destinationSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await fwd.create(req.ctx, req.body)),
    );
    api.get(
      "/siem/destinations/:id",
      {
        config: { access: { permission: "settings:read" } },
        schema: {
          tags,
          summary: "One SIEM destination",
          params: idParam,
          response: { 200: destinationSchema },
        },
      },
      async (req) => fwd.get(req.params.id),
    );
    api.patch(
      "/siem/destinations/:id",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary: "Change a SIEM destination (name, on/off, address, filter, secret headers)",
          params: idParam,
          body: destinationPatch,
          response: { 200: destinationSchema },
        },
      },
      async (req) => fwd.update(req.ctx, req.params.id, req.body),
    );
    api.delete(
      "/siem/destinations/:id",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary: "Stop forwarding to a destination",
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await fwd.remove(req.ctx, req.params.id);
        return reply.code(204).send(null);
      },
    );
    api.post(
      "/siem/destinations/:id/test",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary: "Send one test event to a destination now",
          params: idParam,
          response: { 200: z.object({ ok: z.boolean(), error: z.string().nullable() }) },
        },
      },
      async (req) => fwd.test(req.ctx, req.params.id),
    );
    api.get(
      "/siem/dead-letters",
      {
        config: { access: { permission: "settings:read" } },
        schema: {
          tags,
          summary: "Batches a destination refused after the last try",
          querystring: deadLetterQuery,
          response: { 200: z.object({ items: z.array(deadLetterSchema) }) },
        },
      },
      async (req) => ({ items: await fwd.deadLetters(req.query) }),
    );
    api.post(
      "/siem/dead-letters/:id/redrive",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary: "Send a dead letter again now",
          params: idParam,
          response: { 200: deadLetterSchema },
        },
      },
      async (req) => fwd.redrive(req.ctx, req.params.id),
    );
  };
}
