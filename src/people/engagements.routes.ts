import { z } from "zod";
import { idParam, pageOf, pageQuery } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import {
  engagementInput,
  engagementListQuery,
  engagementPatch,
  engagementSchema,
} from "./engagements.schemas.ts";
import type { EngagementsService } from "./engagements.service.ts";

const tags = ["engagements"];

export function engagementsRoutes(engagements: EngagementsService) {
  return async (api: Api) => {
    api.get(
      "/engagements",
      {
        config: { access: { permission: "people:read" } },
        schema: {
          tags,
          summary: "List engagements (by developer, or running on a day)",
          querystring: engagementListQuery.extend(pageQuery),
          response: { 200: pageOf(engagementSchema) },
        },
      },
      async (req) => engagements.list(req.query),
    );
    api.post(
      "/engagements",
      {
        config: { access: { permission: "people:write" } },
        schema: {
          tags,
          summary: "Create an engagement",
          body: engagementInput,
          response: { 201: engagementSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await engagements.create(req.ctx, req.body)),
    );
    api.get(
      "/engagements/:id",
      {
        config: { access: { permission: "people:read" } },
        schema: { tags, summary: "An engagement", params: idParam, response: { 200: engagementSchema } },
      },
      async (req) => engagements.get(req.params.id),
    );
    api.patch(
      "/engagements/:id",
      {
        config: { access: { permission: "people:write" } },
        schema: {
          tags,
          summary: "Change an engagement",
          params: idParam,
          body: engagementPatch,
          response: { 200: engagementSchema },
        },
      },
      async (req) => engagements.update(req.ctx, req.params.id, req.body),
    );
    api.delete(
      "/engagements/:id",
      {
        config: { access: { permission: "people:write" } },
        schema: { tags, summary: "Delete an engagement", params: idParam, response: { 204: z.null() } },
      },
      async (req, reply) => {
        await engagements.remove(req.ctx, req.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
