import { Transform } from "node:stream";
import contentDisposition from "content-disposition";
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import { idParam, pageOf, pageQuery } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import {
  inboxShareSchema,
  recipientCheckSchema,
  recipientsQuery,
  shareDetailSchema,
  shareInput,
  shareListQuery,
  shareSchema,
} from "./shares.schemas.ts";
import type { SharesService } from "./shares.service.ts";

const tags = ["shares"];
const read = { permission: "shares:read" } as const;
const write = { permission: "shares:write" } as const;
const recipient = { roles: ["developer"] } as const;
/** Media types the ciphertext upload accepts (age has no registered type; application/age is common). */
const AGE_TYPES = ["application/age", "application/octet-stream"];

const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function sharesRoutes(shares: SharesService) {
  return async (api: Api) => {
    api.get(
      "/shares/recipients",
      {
        config: { access: write },
        schema: {
          tags,
          summary:
            "Before sending: which keys each developer's share is encrypted to, and whether they may receive it (gate, data categories)",
          querystring: recipientsQuery.extend({
            dataCategory: z
              .union([z.string().trim().min(1).max(120), z.array(z.string().trim().min(1).max(120)).max(10)])
              .optional(),
          }),
          response: { 200: recipientCheckSchema },
        },
      },
      async (req) => ({
        items: await shares.checkRecipients(asList(req.query.to), asList(req.query.dataCategory)),
      }),
    );
    api.post(
      "/shares",
      {
        config: { access: write },
        schema: {
          tags,
          summary:
            "Create a share (pending): recipients are checked; the answer lists the keys to encrypt to and the upload URL",
          body: shareInput,
          response: { 201: shareDetailSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await shares.create(req.ctx, req.body)),
    );
    api.get(
      "/shares",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "Shares I sent (security leads and auditors: all shares)",
          querystring: shareListQuery.extend(pageQuery),
          response: { 200: pageOf(shareSchema) },
        },
      },
      async (req) => shares.list(req.ctx, req.query),
    );
    api.get(
      "/shares/:id",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "A share with its recipients and download log",
          params: idParam,
          response: { 200: shareDetailSchema },
        },
      },
      async (req) => shares.get(req.ctx, req.params.id),
    );
    api.post(
      "/shares/:id/revoke",
      {
        config: { access: write },
        schema: {
          tags,
          summary: "Revoke a share: it ends now and its ciphertext is deleted",
          params: idParam,
          body: z.object({}).strict().optional(),
          response: { 200: shareDetailSchema },
        },
      },
      async (req) => shares.revoke(req.ctx, req.params.id),
    );

    // The ciphertext upload takes the request body as a stream (constant memory for 4 GiB): its own
    // content-type parser passes the raw stream through, in a child context so no other route sees it.
    await api.register(async (parent) => {
      const upload = parent as unknown as Api;
      upload.addContentTypeParser(AGE_TYPES, (_req, payload, done) => done(null, payload));
      upload.put(
        "/shares/:id/content",
        {
          config: { access: write },
          schema: {
            tags,
            summary:
              "Upload a pending share's age ciphertext (application/age, streamed): the header must be for exactly the recipients' keys, the size exact",
            consumes: AGE_TYPES,
            params: idParam,
            response: { 200: shareDetailSchema },
          },
        },
        async (req, reply) => {
          const type = String(req.headers["content-type"] ?? "")
            .split(";")[0]!
            .trim();
          if (!AGE_TYPES.includes(type))
            throw new AppError(
              "unsupported_media_type",
              "Send the age ciphertext as the request body with Content-Type: application/age",
            );
          const length = req.headers["content-length"];
          try {
            return await shares.upload(
              req.ctx,
              req.params.id,
              req.body as AsyncIterable<Uint8Array>,
              length === undefined ? undefined : Number(length),
            );
          } catch (e) {
            // A refusal can come before the body is read (a bad header, a wrong size): close the
            // connection after answering rather than read and discard gigabytes.
            reply.header("connection", "close");
            throw e;
          }
        },
      );
    });

    api.get(
      "/me/shares",
      {
        config: { access: recipient },
        schema: {
          tags: ["me"],
          summary: "Shares sent to me",
          querystring: z.object(pageQuery).strict(),
          response: { 200: pageOf(inboxShareSchema) },
        },
      },
      async (req) => shares.inbox(req.ctx, req.query),
    );
    api.get(
      "/me/shares/:id",
      {
        config: { access: recipient },
        schema: {
          tags: ["me"],
          summary: "A share sent to me: its metadata only (opening it never uses a download)",
          params: idParam,
          response: { 200: inboxShareSchema },
        },
      },
      async (req) => shares.inboxItem(req.ctx, req.params.id),
    );
    api.post(
      "/me/shares/:id/download",
      {
        // A POST (CSRF-checked for sessions), never a GET: a link preview or prefetch cannot use up a
        // one-time share. An API token with the read scope may call it (`warden share get`).
        config: { access: { ...recipient, scope: "read" } },
        schema: {
          tags: ["me"],
          summary:
            "Download a share's age ciphertext (uses one download; decrypt it with your identity, locally)",
          params: idParam,
          body: z.object({}).strict().optional(),
          produces: ["application/age"],
        },
      },
      async (req, reply) => {
        const d = await shares.startDownload(req.ctx, req.params.id);
        let sent = 0;
        let settled = false;
        const settle = () => {
          if (settled) return;
          settled = true;
          shares
            .finishDownload(req.ctx, d.downloadId, {
              completed: sent === d.bytes,
              bytesSent: sent,
            })
            .catch((err) => req.log.error({ err }, "could not record the end of a share download"));
        };
        const counter = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            sent += chunk.length;
            cb(null, chunk);
          },
        });
        d.stream.on("error", () => counter.destroy());
        reply.raw.once("finish", settle);
        // A client that has every byte (Content-Length) may hang up before our end of the stream reaches
        // the response and "finish" fires: all bytes handed on counts as delivered. (Nobody can know
        // what the client's kernel received; the age tag check tells the client, not us.)
        reply.raw.once("close", settle);
        const name = `${d.filename ?? "secret.txt"}.age`;
        return reply
          .type("application/age")
          .header("content-length", String(d.bytes))
          .header(
            "content-disposition",
            contentDisposition(name, { type: "attachment", fallback: name.replace(/[^\x20-\x7e]/g, "_") }),
          )
          .header("cache-control", "no-store")
          .header("repr-digest", `sha-256=:${Buffer.from(d.sha256, "hex").toString("base64")}:`)
          .header("x-warden-share-kind", d.kind)
          .send(d.stream.pipe(counter));
      },
    );
  };
}
