import { z } from "zod";
import { idParam, pageOf, pageQuery } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import {
  developerInput,
  developerListQuery,
  developerPatch,
  developerSchema,
  selfProfilePatch,
} from "./developers.schemas.ts";
import type { DevelopersService } from "./developers.service.ts";

const tags = ["developers"];
const self = { roles: ["developer"] } as const;

export function developersRoutes(developers: DevelopersService) {
  return async (api: Api) => {
    api.get(
      "/developers",
      {
        config: { access: { permission: "people:read" } },
        schema: {
          tags,
          summary: "List developers",
          querystring: developerListQuery.extend(pageQuery),
          response: { 200: pageOf(developerSchema) },
        },
      },
      async (req) => developers.list(req.query),
    );
    api.post(
      "/developers",
      {
        config: { access: { permission: "people:write" } },
        schema: {
          tags,
          summary: "Create a developer",
          body: developerInput,
          response: { 201: developerSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await developers.create(req.ctx, req.body)),
    );
    api.get(
      "/developers/:id",
      {
        config: { access: { permission: "people:read" } },
        schema: { tags, summary: "A developer", params: idParam, response: { 200: developerSchema } },
      },
      async (req) => developers.get(req.params.id),
    );
    api.patch(
      "/developers/:id",
      {
        config: { access: { permission: "people:write" } },
        schema: {
          tags,
          summary: "Change a developer (status offboarded to offboard)",
          params: idParam,
          body: developerPatch,
          response: { 200: developerSchema },
        },
      },
      async (req) => developers.update(req.ctx, req.params.id, req.body),
    );
    api.delete(
      "/developers/:id",
      {
        config: { access: { permission: "people:write" } },
        schema: {
          tags,
          summary: "Delete a developer recorded by mistake (no account, engagements, agreements or records)",
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await developers.remove(req.ctx, req.params.id);
        return reply.status(204).send(null);
      },
    );

    api.get(
      "/me/profile",
      {
        config: { access: self },
        schema: { tags: ["me"], summary: "My developer profile", response: { 200: developerSchema } },
      },
      async (req) => developers.getSelf(req.ctx),
    );
    api.patch(
      "/me/profile",
      {
        config: { access: self },
        schema: {
          tags: ["me"],
          summary: "Change my SSH keys, age recipients, time zone, working hours or Git usernames",
          body: selfProfilePatch,
          response: { 200: developerSchema },
        },
      },
      async (req) => developers.updateSelf(req.ctx, req.body),
    );
  };
}
