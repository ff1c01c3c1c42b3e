import { z } from "zod";
import { AppError } from "../core/errors.ts";
import { idParam } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import { atQuery, dashboardSchema, developerEligibilitySchema } from "./gate.schemas.ts";
import type { GateService } from "./gate.service.ts";
import { requirementsSchema } from "./requirements.ts";

const tags = ["gate"];
const atOf = (q: { at?: string | undefined }) => (q.at ? new Date(q.at) : undefined);

export function gateRoutes(gate: GateService) {
  return async (api: Api) => {
    api.get(
      "/developers/:id/eligibility",
      {
        config: { access: { permission: "gate:read" } },
        schema: {
          tags,
          summary: "Whether the gate lets a developer in, and why not (optionally at another instant)",
          params: idParam,
          querystring: atQuery,
          response: { 200: developerEligibilitySchema },
        },
      },
      async (req) => gate.forDeveloper(req.params.id, atOf(req.query)),
    );
    api.get(
      "/gate/developers",
      {
        config: { access: { permission: "gate:read" } },
        schema: {
          tags,
          summary: "The gate's outcome for every developer",
          querystring: atQuery.extend({ eligible: z.enum(["true", "false"]).optional() }),
          response: { 200: z.object({ items: z.array(developerEligibilitySchema) }) },
        },
      },
      async (req) => {
        const items = await gate.all(atOf(req.query));
        const want = req.query.eligible;
        return { items: want ? items.filter((i) => String(i.eligible) === want) : items };
      },
    );
    api.get(
      "/me/eligibility",
      {
        config: { access: { roles: ["developer"] } },
        schema: {
          tags,
          summary: "Your own gate status (developers)",
          response: { 200: developerEligibilitySchema },
        },
      },
      async (req) => {
        if (!req.ctx.actor.developerId)
          throw new AppError("forbidden", "Only developer accounts have an eligibility status");
        return gate.forDeveloper(req.ctx.actor.developerId);
      },
    );
    api.get(
      "/gate/requirements",
      {
        config: { access: { permission: "settings:read" } },
        schema: { tags, summary: "What the gate requires", response: { 200: requirementsSchema } },
      },
      async () => gate.requirements(),
    );
    api.put(
      "/gate/requirements",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary: "Change what the gate requires",
          body: requirementsSchema,
          response: { 200: requirementsSchema },
        },
      },
      async (req) => gate.setRequirements(req.ctx, req.body),
    );
    api.get(
      "/dashboard",
      {
        config: { access: { permission: "gate:read" } },
        schema: {
          tags: ["dashboard"],
          summary: "Counts, who is not eligible and why, who loses eligibility soon, expiring agreements",
          querystring: atQuery,
          response: { 200: dashboardSchema },
        },
      },
      async (req) => gate.dashboard(atOf(req.query)),
    );
  };
}
