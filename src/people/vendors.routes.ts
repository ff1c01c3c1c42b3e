import { z } from "zod";
import { idParam, pageOf, pageQuery } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import { vendorInput, vendorListQuery, vendorPatch, vendorSchema } from "./vendors.schemas.ts";
import type { VendorsService } from "./vendors.service.ts";

const tags = ["vendors"];

export function vendorsRoutes(vendors: VendorsService) {
  return async (api: Api) => {
    api.get(
      "/vendors",
      {
        config: { access: { permission: "people:read" } },
        schema: {
          tags,
          summary: "List vendors",
          querystring: vendorListQuery.extend(pageQuery),
          response: { 200: pageOf(vendorSchema) },
        },
      },
      async (req) => vendors.list(req.query),
    );
    api.post(
      "/vendors",
      {
        config: { access: { permission: "people:write" } },
        schema: { tags, summary: "Create a vendor", body: vendorInput, response: { 201: vendorSchema } },
      },
      async (req, reply) => reply.status(201).send(await vendors.create(req.ctx, req.body)),
    );
    api.get(
      "/vendors/:id",
      {
        config: { access: { permission: "people:read" } },
        schema: { tags, summary: "A vendor", params: idParam, response: { 200: vendorSchema } },
      },
      async (req) => vendors.get(req.params.id),
    );
    api.patch(
      "/vendors/:id",
      {
        config: { access: { permission: "people:write" } },
        schema: {
          tags,
          summary: "Change a vendor",
          params: idParam,
          body: vendorPatch,
          response: { 200: vendorSchema },
        },
      },
      async (req) => vendors.update(req.ctx, req.params.id, req.body),
    );
    api.delete(
      "/vendors/:id",
      {
        config: { access: { permission: "people:write" } },
        schema: {
          tags,
          summary: "Delete a vendor with no developers or agreements",
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await vendors.remove(req.ctx, req.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
