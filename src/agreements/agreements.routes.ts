import contentDisposition from "content-disposition";
import type { FastifyReply } from "fastify";
import { z } from "zod";
import { badRequest } from "../core/errors.ts";
import { idParam, pageOf, pageQuery } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import {
  agreementInput,
  agreementListQuery,
  agreementPatch,
  agreementSchema,
  expiringQuery,
  expiringSchema,
  myAgreementSchema,
  terminateInput,
} from "./agreements.schemas.ts";
import type { AgreementsService, DocumentDownload } from "./agreements.service.ts";

const tags = ["agreements"];
const read = { permission: "agreements:read" } as const;
const write = { permission: "agreements:write" } as const;

export function agreementsRoutes(agreements: AgreementsService) {
  return async (api: Api) => {
    api.get(
      "/agreements",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "List agreements",
          querystring: agreementListQuery.extend(pageQuery),
          response: { 200: pageOf(agreementSchema) },
        },
      },
      async (req) => agreements.list(req.query),
    );
    api.get(
      "/agreements/expiring",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "Signed agreements that stop holding within the next N days (expiry or termination)",
          querystring: expiringQuery,
          response: { 200: expiringSchema },
        },
      },
      async (req) => agreements.expiring(req.query.withinDays),
    );
    api.post(
      "/agreements",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Record an agreement (as a draft)",
          body: agreementInput,
          response: { 201: agreementSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await agreements.create(req.ctx, req.body)),
    );
    api.get(
      "/agreements/:id",
      {
        config: { access: read },
        schema: { tags, summary: "An agreement", params: idParam, response: { 200: agreementSchema } },
      },
      async (req) => agreements.get(req.params.id),
    );
    api.patch(
      "/agreements/:id",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Change a draft, or amend an active agreement's title, expiry or terms",
          params: idParam,
          body: agreementPatch,
          response: { 200: agreementSchema },
        },
      },
      async (req) => agreements.update(req.ctx, req.params.id, req.body),
    );
    api.delete(
      "/agreements/:id",
      {
        config: { access: write },
        schema: { tags, summary: "Delete a draft", params: idParam, response: { 204: z.null() } },
      },
      async (req, reply) => {
        await agreements.remove(req.ctx, req.params.id);
        return reply.status(204).send(null);
      },
    );
    api.post(
      "/agreements/:id/activate",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Activate a draft that has its signed date and signed document",
          params: idParam,
          body: z.object({}).strict().optional(),
          response: { 200: agreementSchema },
        },
      },
      async (req) => agreements.activate(req.ctx, req.params.id),
    );
    api.post(
      "/agreements/:id/terminate",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Terminate an active agreement from a day on (exclusive), with the reason",
          params: idParam,
          body: terminateInput,
          response: { 200: agreementSchema },
        },
      },
      async (req) => agreements.terminate(req.ctx, req.params.id, req.body),
    );
    api.post(
      "/agreements/:id/document",
      {
        config: { access: write },
        schema: {
          tags,
          summary:
            "Upload the signed PDF (multipart/form-data, one file part); stored encrypted with its SHA-256",
          consumes: ["multipart/form-data"],
          params: idParam,
          response: { 200: agreementSchema },
        },
      },
      async (req) => {
        const part = await req.file();
        if (!part) throw badRequest("Send the signed PDF as a file part of multipart/form-data");
        // toBuffer() throws a 413 error past WARDEN_UPLOAD_MAX_MB, before anything is stored.
        const bytes = await part.toBuffer();
        return agreements.attachDocument(req.ctx, req.params.id, { filename: part.filename, bytes });
      },
    );
    api.get(
      "/agreements/:id/document",
      {
        config: { access: { permission: "documents:read" } },
        schema: {
          tags,
          summary: "Download the signed PDF (each download is written to the audit trail)",
          params: idParam,
          produces: ["application/pdf"],
        },
      },
      async (req, reply) => sendDocument(reply, await agreements.readDocument(req.ctx, req.params.id)),
    );

    api.get(
      "/me/agreements",
      {
        config: { access: { roles: ["developer"] } },
        schema: {
          tags: ["me"],
          summary: "Agreements that bind me: my own and my vendor's",
          response: { 200: z.object({ items: z.array(myAgreementSchema) }) },
        },
      },
      async (req) => ({ items: await agreements.listMine(req.ctx) }),
    );
    api.get(
      "/me/agreements/:id/document",
      {
        config: { access: { roles: ["developer"] } },
        schema: {
          tags: ["me"],
          summary: "Download my signed copy of an agreement that binds me (audited)",
          params: idParam,
          produces: ["application/pdf"],
        },
      },
      async (req, reply) => sendDocument(reply, await agreements.readMyDocument(req.ctx, req.params.id)),
    );
  };
}

function sendDocument(reply: FastifyReply, doc: DocumentDownload) {
  return reply
    .type(doc.mediaType)
    .header(
      "content-disposition",
      contentDisposition(doc.filename, {
        type: "attachment",
        // RFC 6266: a plain-ASCII filename= for old clients, the exact name in filename*= (UTF-8).
        fallback: doc.filename.replace(/[^\x20-\x7e]/g, "_"),
      }),
    )
    .header("cache-control", "no-store")
    .header("repr-digest", `sha-256=:${Buffer.from(doc.sha256, "hex").toString("base64")}:`)
    .send(doc.bytes);
}
