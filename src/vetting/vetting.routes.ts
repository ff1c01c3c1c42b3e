import type { Api } from "../http/server.ts";
import {
  decisionInput,
  devParam,
  flagParam,
  redFlagInput,
  redFlagSchema,
  referenceInput,
  referenceParam,
  referenceSchema,
  resolveRedFlagInput,
  verifyReferenceInput,
  vettingPatch,
  vettingSchema,
} from "./vetting.schemas.ts";
import type { VettingService } from "./vetting.service.ts";

const tags = ["vetting"];
const read = { permission: "vetting:read" } as const;
const write = { permission: "vetting:write" } as const;

export function vettingRoutes(vetting: VettingService) {
  return async (api: Api) => {
    api.get(
      "/developers/:id/vetting",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "A developer's vetting",
          params: devParam,
          response: { 200: vettingSchema },
        },
      },
      async (req) => vetting.get(req.params.id),
    );
    api.patch(
      "/developers/:id/vetting",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Record the background check, awareness test, culture interview or mock-breach drill",
          params: devParam,
          body: vettingPatch,
          response: { 200: vettingSchema },
        },
      },
      async (req) => vetting.update(req.ctx, req.params.id, req.body),
    );
    api.post(
      "/developers/:id/vetting/references",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Add a reference to check",
          params: devParam,
          body: referenceInput,
          response: { 201: referenceSchema },
        },
      },
      async (req, reply) =>
        reply.status(201).send(await vetting.addReference(req.ctx, req.params.id, req.body)),
    );
    api.post(
      "/developers/:id/vetting/references/:refId/verify",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Record that you verified a reference (you, now)",
          params: referenceParam,
          body: verifyReferenceInput,
          response: { 200: referenceSchema },
        },
      },
      async (req) => vetting.verifyReference(req.ctx, req.params.id, req.params.refId, req.body.notes),
    );
    api.post(
      "/developers/:id/vetting/red-flags",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Raise a red flag",
          params: devParam,
          body: redFlagInput,
          response: { 201: redFlagSchema },
        },
      },
      async (req, reply) =>
        reply.status(201).send(await vetting.raiseRedFlag(req.ctx, req.params.id, req.body)),
    );
    api.post(
      "/developers/:id/vetting/red-flags/:flagId/resolve",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Resolve a red flag, saying how",
          params: flagParam,
          body: resolveRedFlagInput,
          response: { 200: redFlagSchema },
        },
      },
      async (req) => vetting.resolveRedFlag(req.ctx, req.params.id, req.params.flagId, req.body.resolution),
    );
    api.post(
      "/developers/:id/vetting/decision",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Decide the vetting (approved, rejected or back to pending) with the reason",
          params: devParam,
          body: decisionInput,
          response: { 200: vettingSchema },
        },
      },
      async (req) => vetting.decide(req.ctx, req.params.id, req.body),
    );
  };
}
