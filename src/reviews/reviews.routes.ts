import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { Clock } from "../core/clock.ts";
import { idParam, pageOf } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import type { HintsService } from "./hints.service.ts";
import { campaignCsv, campaignReportHtml } from "./reviews.export.ts";
import {
  campaignDetailSchema,
  campaignInput,
  campaignListQuery,
  campaignSchema,
  cancelInput,
  decisionInput,
  hintsQuery,
  hintsSchema,
  itemListQuery,
  itemParams,
  itemSchema,
} from "./reviews.schemas.ts";
import type { ReviewsService } from "./reviews.service.ts";

const tags = ["reviews"];

/** "Q4 review: Acme" → "q4-review-acme" for a download's file name. */
const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 60) || "review";

const download = (reply: FastifyReply, type: string, filename: string, body: string, inline = false) =>
  reply
    .type(type)
    .header("content-disposition", `${inline ? "inline" : "attachment"}; filename="${filename}"`)
    .header("cache-control", "no-store")
    .send(body);

export function reviewsRoutes(reviews: ReviewsService, hints: HintsService, clock: Clock) {
  return async (api: Api) => {
    api.get(
      "/reviews/hints",
      {
        config: { access: { permission: "reviews:read" } },
        schema: {
          tags,
          summary: "Least-privilege hints: live grants unused for N days, or wider than the use seen",
          querystring: hintsQuery,
          response: { 200: hintsSchema },
        },
      },
      async (req) => hints.list(req.ctx, req.query),
    );
    api.get(
      "/reviews/campaigns",
      {
        config: { access: { permission: "reviews:read" } },
        schema: {
          tags,
          summary: "Access review campaigns, open ones first, with their progress",
          querystring: campaignListQuery,
          response: { 200: pageOf(campaignSchema) },
        },
      },
      async (req) => reviews.list(req.ctx, req.query),
    );
    api.post(
      "/reviews/campaigns",
      {
        config: { access: { permission: "reviews:write" } },
        schema: {
          tags,
          summary: "Open a campaign over the live grants in scope (vendor, resource, environment)",
          body: campaignInput,
          response: { 201: campaignDetailSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await reviews.create(req.ctx, req.body)),
    );
    api.get(
      "/reviews/campaigns/:id",
      {
        config: { access: { permission: "reviews:read" } },
        schema: {
          tags,
          summary: "A campaign with every grant under review and its decision",
          params: idParam,
          querystring: itemListQuery,
          response: { 200: campaignDetailSchema },
        },
      },
      async (req) => reviews.get(req.ctx, req.params.id, req.query),
    );
    api.post(
      "/reviews/campaigns/:id/cancel",
      {
        config: { access: { permission: "reviews:write" } },
        schema: {
          tags,
          summary: "Cancel an open campaign (nothing more is revoked; decisions already applied stay)",
          params: idParam,
          body: cancelInput,
          response: { 200: campaignDetailSchema },
        },
      },
      async (req) => reviews.cancel(req.ctx, req.params.id, req.body.reason),
    );
    api.post(
      "/reviews/campaigns/:id/items/:itemId/decision",
      {
        config: { access: { permission: "reviews:decide" } },
        schema: {
          tags,
          summary: "Keep or revoke one grant, with a reason (a revoke takes effect at once)",
          params: itemParams,
          body: decisionInput,
          response: { 200: itemSchema },
        },
      },
      async (req) => reviews.decide(req.ctx, req.params.id, req.params.itemId, req.body),
    );
    api.get(
      "/reviews/campaigns/:id/export.csv",
      {
        config: { access: { permission: "reviews:read" } },
        schema: {
          tags,
          summary: "The campaign as CSV, one row per grant (audited; cells safe from formula injection)",
          params: idParam,
          produces: ["text/csv"],
          response: { 200: z.string() },
        },
      },
      async (req, reply) => {
        const c = await reviews.forExport(req.ctx, req.params.id, "csv");
        return download(reply, "text/csv; charset=utf-8", `${slug(c.name)}.csv`, campaignCsv(c));
      },
    );
    api.get(
      "/reviews/campaigns/:id/report",
      {
        config: { access: { permission: "reviews:read" } },
        schema: {
          tags,
          summary: "A printable HTML report of the campaign, evidence for an auditor (audited)",
          params: idParam,
          produces: ["text/html"],
          response: { 200: z.string() },
        },
      },
      async (req, reply) => {
        const c = await reviews.forExport(req.ctx, req.params.id, "html");
        const html = campaignReportHtml(c, { generatedAt: clock.now(), generatedBy: req.ctx.actor.label });
        return download(reply, "text/html; charset=utf-8", `${slug(c.name)}.html`, html, true);
      },
    );
  };
}
