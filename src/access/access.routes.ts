import { z } from "zod";
import { idParam, pageOf, pageQuery } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import { policySamplesFileSchema } from "../policy/index.ts";
import {
  decideInput,
  engagementScopeInput,
  engagementScopeSchema,
  grantListQuery,
  grantSchema,
  policyDocumentSchema,
  policyInput,
  requestListQuery,
  requestSchema,
  resourceInput,
  resourceListQuery,
  resourcePatch,
  resourceSchema,
  reviewBreakGlassInput,
  revokeInput,
} from "./access.schemas.ts";
import type { AccessFeatureServices } from "./access.types.ts";

const read = { permission: "access:read" } as const;
const admin = { permission: "access:admin" } as const;

/** Staff routes: the catalog, engagement scopes, the approvals inbox, grants, the policy set. */
export function accessRoutes(s: AccessFeatureServices) {
  return async (api: Api) => {
    const tags = ["access"];
    api.get(
      "/access/resources",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "The resource catalog (connector secrets are never returned)",
          querystring: resourceListQuery.extend(pageQuery),
          response: { 200: pageOf(resourceSchema) },
        },
      },
      async (req) => s.resources.list(req.query),
    );
    api.post(
      "/access/resources",
      {
        config: { access: admin },
        schema: {
          tags,
          summary: "Add a resource with its connector (secrets are sealed at rest)",
          body: resourceInput,
          response: { 201: resourceSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await s.resources.create(req.ctx, req.body)),
    );
    api.get(
      "/access/resources/:id",
      {
        config: { access: read },
        schema: { tags, summary: "A resource", params: idParam, response: { 200: resourceSchema } },
      },
      async (req) => s.resources.get(req.params.id),
    );
    api.patch(
      "/access/resources/:id",
      {
        config: { access: admin },
        schema: {
          tags,
          summary: "Change a resource (connector secrets left out keep their value)",
          params: idParam,
          body: resourcePatch,
          response: { 200: resourceSchema },
        },
      },
      async (req) => s.resources.update(req.ctx, req.params.id, req.body),
    );
    api.delete(
      "/access/resources/:id",
      {
        config: { access: admin },
        schema: {
          tags,
          summary: "Archive a resource: it leaves the catalog and its live grants are revoked",
          params: idParam,
          response: { 200: resourceSchema },
        },
      },
      async (req) => s.archive(req.ctx, req.params.id),
    );
    api.get(
      "/access/engagements/:id/resources",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "The resources an engagement names in its scope",
          params: idParam,
          response: { 200: engagementScopeSchema },
        },
      },
      async (req) => s.resources.engagementScope(req.params.id),
    );
    api.put(
      "/access/engagements/:id/resources",
      {
        config: { access: admin },
        schema: {
          tags,
          summary: "Set the resources in an engagement's scope (production needs the resource in scope)",
          params: idParam,
          body: engagementScopeInput,
          response: { 200: engagementScopeSchema },
        },
      },
      async (req) => s.resources.setEngagementScope(req.ctx, req.params.id, req.body.resourceIds),
    );

    api.get(
      "/access/requests",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "Access requests; approver=me lists those you may decide now (the approvals inbox)",
          querystring: requestListQuery.extend(pageQuery),
          response: { 200: pageOf(requestSchema) },
        },
      },
      async (req) => s.requests.list(req.ctx, req.query),
    );
    api.get(
      "/access/requests/:id",
      {
        config: { access: read },
        schema: { tags, summary: "An access request", params: idParam, response: { 200: requestSchema } },
      },
      async (req) => s.requests.get(req.ctx, req.params.id),
    );
    api.post(
      "/access/requests/:id/approve",
      {
        config: { access: { permission: "access:decide" } },
        schema: {
          tags,
          summary: "Approve (as an owner of the resource or a security officer), with a reason",
          params: idParam,
          body: decideInput,
          response: { 200: requestSchema },
        },
      },
      async (req) => s.requests.approve(req.ctx, req.params.id, req.body.reason),
    );
    api.post(
      "/access/requests/:id/deny",
      {
        config: { access: { permission: "access:decide" } },
        schema: {
          tags,
          summary: "Deny, with a reason",
          params: idParam,
          body: decideInput,
          response: { 200: requestSchema },
        },
      },
      async (req) => s.requests.deny(req.ctx, req.params.id, req.body.reason),
    );

    api.get(
      "/access/grants",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "Grants (live=true: the ones holding access now, with time left)",
          querystring: grantListQuery.extend(pageQuery),
          response: { 200: pageOf(grantSchema) },
        },
      },
      async (req) => s.grants.list(req.query),
    );
    api.get(
      "/access/grants/:id",
      {
        config: { access: read },
        schema: { tags, summary: "A grant", params: idParam, response: { 200: grantSchema } },
      },
      async (req) => s.grants.get(req.params.id),
    );
    api.post(
      "/access/grants/:id/revoke",
      {
        config: { access: { permission: "access:revoke" } },
        schema: {
          tags,
          summary: "Revoke a live grant now (the connector removes the access), with a reason",
          params: idParam,
          body: revokeInput,
          response: { 200: grantSchema },
        },
      },
      async (req) => s.grants.revoke(req.ctx, req.params.id, req.body.reason),
    );
    api.post(
      "/access/grants/:id/retry",
      {
        config: { access: admin },
        schema: {
          tags,
          summary: "Try a failed grant's connector call again now",
          params: idParam,
          response: { 200: grantSchema },
        },
      },
      async (req) => s.grants.retry(req.ctx, req.params.id),
    );
    api.post(
      "/access/grants/:id/review",
      {
        config: { access: admin },
        schema: {
          tags,
          summary: "Record the review a break-glass grant requires",
          params: idParam,
          body: reviewBreakGlassInput,
          response: { 200: grantSchema },
        },
      },
      async (req) => s.grants.markReviewed(req.ctx, req.params.id, req.body.note),
    );

    api.get(
      "/access/policies",
      {
        config: { access: read },
        schema: { tags, summary: "The running Cedar policy set", response: { 200: policyDocumentSchema } },
      },
      async () => s.policies.get(),
    );
    api.put(
      "/access/policies",
      {
        config: { access: admin },
        schema: {
          tags,
          summary: "Replace the policy set (validated against Warden's Cedar schema first)",
          body: policyInput,
          response: { 200: policyDocumentSchema },
        },
      },
      async (req) => s.policies.save(req.ctx, req.body.text),
    );
    api.post(
      "/access/policies/test",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "Decide sample requests with the running set, or with a candidate text",
          body: z
            .object({ text: z.string().max(200_000).optional(), samples: policySamplesFileSchema })
            .strict(),
          response: {
            200: z.object({
              valid: z.boolean(),
              errors: z.array(z.record(z.string(), z.unknown())),
              results: z.array(
                z.object({
                  name: z.string(),
                  decision: z.enum(["allow", "deny"]),
                  policies: z.array(z.string()),
                  expected: z.enum(["allow", "deny"]).nullable(),
                  matches: z.boolean().nullable(),
                }),
              ),
              mismatches: z.number().int(),
            }),
          },
        },
      },
      async (req) => {
        const report = await s.policies.test(req.body.samples, req.body.text);
        return {
          valid: report.validation.valid,
          errors: report.validation.errors as unknown as Record<string, unknown>[],
          results: report.results.map((r) => ({
            name: r.name,
            decision: r.decision.decision,
            policies: r.decision.policies,
            expected: r.expected,
            matches: r.matches,
          })),
          mismatches: report.mismatches,
        };
      },
    );
  };
}
