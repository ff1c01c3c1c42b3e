import { z } from "zod";
import { idParam } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import { trainingInput, trainingListQuery, trainingSchema } from "./training.schemas.ts";
import type { TrainingService } from "./training.service.ts";

const tags = ["training"];
const list = z.object({ items: z.array(trainingSchema) });

export function trainingRoutes(training: TrainingService) {
  return async (api: Api) => {
    api.get(
      "/developers/:id/training",
      {
        config: { access: { permission: "training:read" } },
        schema: {
          tags,
          summary: "A developer's training records, newest first",
          params: idParam,
          querystring: trainingListQuery,
          response: { 200: list },
        },
      },
      async (req) => ({ items: await training.ofDeveloper(req.params.id, req.query.course) }),
    );
    api.post(
      "/developers/:id/training",
      {
        config: { access: { permission: "training:write" } },
        schema: {
          tags,
          summary: "Record a completed course",
          params: idParam,
          body: trainingInput,
          response: { 201: trainingSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await training.record(req.ctx, req.params.id, req.body)),
    );
    api.delete(
      "/training/:id",
      {
        config: { access: { permission: "training:write" } },
        schema: {
          tags,
          summary: "Delete a training record entered by mistake",
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await training.remove(req.ctx, req.params.id);
        return reply.status(204).send(null);
      },
    );
    api.get(
      "/me/training",
      {
        config: { access: { roles: ["developer"] } },
        schema: { tags: ["me"], summary: "My training records", response: { 200: list } },
      },
      async (req) => ({ items: await training.mine(req.ctx) }),
    );
  };
}
