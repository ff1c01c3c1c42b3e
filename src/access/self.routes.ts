import { z } from "zod";
import { idParam, pageOf, pageQuery } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import {
  breakGlassInput,
  catalogItemSchema,
  credentialSchema,
  grantListQuery,
  grantSchema,
  requestInput,
  requestListQuery,
  requestSchema,
  resourceListQuery,
  sshCertificateQuery,
  sshCertificateSchema,
  sshCertifyInput,
} from "./access.schemas.ts";
import type { AccessFeatureServices } from "./access.types.ts";

const developer = { roles: ["developer"] } as const;

/** The developer portal's routes (and `warden access …` / `warden ssh cert` for developers). */
export function selfAccessRoutes(s: AccessFeatureServices) {
  return async (api: Api) => {
    const tags = ["me"];
    api.get(
      "/me/access/resources",
      {
        config: { access: developer },
        schema: {
          tags,
          summary: "The catalog of resources I may ask for",
          querystring: resourceListQuery.omit({ includeArchived: true }).extend(pageQuery),
          response: { 200: pageOf(catalogItemSchema) },
        },
      },
      async (req) => s.resources.catalog(req.query),
    );
    api.get(
      "/me/access/requests",
      {
        config: { access: developer },
        schema: {
          tags,
          summary: "My access requests",
          querystring: requestListQuery.omit({ approver: true, developerId: true }).extend(pageQuery),
          response: { 200: pageOf(requestSchema) },
        },
      },
      async (req) => s.requests.list(req.ctx, req.query),
    );
    api.post(
      "/me/access/requests",
      {
        config: { access: developer },
        schema: {
          tags,
          summary: "Ask for a level on a resource, for a time, with a reason (a live grant is extended)",
          body: requestInput,
          response: { 201: requestSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await s.requests.create(req.ctx, req.body)),
    );
    api.get(
      "/me/access/requests/:id",
      {
        config: { access: developer },
        schema: { tags, summary: "One of my requests", params: idParam, response: { 200: requestSchema } },
      },
      async (req) => s.requests.get(req.ctx, req.params.id),
    );
    api.post(
      "/me/access/requests/:id/cancel",
      {
        config: { access: developer },
        schema: {
          tags,
          summary: "Withdraw a pending request",
          params: idParam,
          response: { 200: requestSchema },
        },
      },
      async (req) => s.requests.cancel(req.ctx, req.params.id),
    );
    api.post(
      "/me/access/break-glass",
      {
        config: { access: developer },
        schema: {
          tags,
          summary:
            "Open emergency access (at most one hour) to a resource flagged for it; security is alerted",
          body: breakGlassInput,
          response: { 201: grantSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await s.requests.breakGlass(req.ctx, req.body)),
    );
    api.get(
      "/me/access/grants",
      {
        config: { access: developer },
        schema: {
          tags,
          summary: "My grants, with time left",
          querystring: grantListQuery.omit({ developerId: true }).extend(pageQuery),
          response: { 200: pageOf(grantSchema) },
        },
      },
      async (req) => s.grants.listMine(req.ctx, req.query),
    );
    api.post(
      "/me/access/grants/:id/credential",
      {
        config: { access: developer },
        schema: {
          tags,
          summary: "Reveal a grant's password, once (age-encrypted when I registered an age key)",
          params: idParam,
          response: { 200: credentialSchema },
        },
      },
      async (req, reply) => {
        reply.header("cache-control", "no-store");
        return s.grants.revealCredential(req.ctx, req.params.id);
      },
    );
    api.get(
      "/me/ssh/certificates",
      {
        config: { access: developer },
        schema: {
          tags,
          summary: "My current SSH certificates (one per live SSH grant and registered key)",
          querystring: sshCertificateQuery,
          response: { 200: z.object({ items: z.array(sshCertificateSchema) }) },
        },
      },
      async (req) => ({ items: await s.sshCertificates(req.ctx, req.query) }),
    );
    api.post(
      "/me/ssh/certificates",
      {
        config: { access: developer },
        schema: {
          tags,
          summary:
            "Certify my registered SSH keys that have no certificate yet on my live SSH grants (all, or the one named), and list the certificates",
          body: sshCertifyInput,
          response: { 200: z.object({ issued: z.number().int(), items: z.array(sshCertificateSchema) }) },
        },
      },
      async (req) => {
        const issued = await s.grants.certifySshKeys(req.ctx, req.body);
        return { issued, items: await s.sshCertificates(req.ctx, req.body) };
      },
    );
  };
}

/** What hosts fetch, without signing in: the CA public key (TrustedUserCAKeys) and the KRL (RevokedKeys). */
export function sshPublicRoutes(s: AccessFeatureServices) {
  return async (api: Api) => {
    const tags = ["ssh"];
    api.get(
      "/ssh/ca.pub",
      {
        config: { access: { public: true } },
        schema: {
          tags,
          summary: "The SSH user CA's public key, for sshd's TrustedUserCAKeys",
          produces: ["text/plain"],
        },
      },
      async (_req, reply) =>
        reply
          .type("text/plain; charset=utf-8")
          .header("cache-control", "public, max-age=300")
          .send(`${await s.ssh.publicKeyLine()}\n`),
    );
    api.get(
      "/ssh/krl",
      {
        config: { access: { public: true } },
        schema: {
          tags,
          summary: "The key revocation list (OpenSSH KRL) for sshd's RevokedKeys; refresh it every minute",
          produces: ["application/octet-stream"],
        },
      },
      async (_req, reply) =>
        reply
          .type("application/octet-stream")
          .header("cache-control", "no-cache")
          .header("content-disposition", 'attachment; filename="warden_revoked.krl"')
          .send(await s.ssh.krl()),
    );
  };
}
