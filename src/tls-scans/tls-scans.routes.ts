import { z } from "zod";
import { idParam, pageOf } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import { tlsScanReportSchema } from "../scan-tls/index.ts";
import {
  reportResultSchema,
  scanDetailSchema,
  targetDetailSchema,
  targetInput,
  targetListQuery,
  targetPatch,
  targetSchema,
} from "./tls-scans.schemas.ts";
import type { TlsScansService } from "./tls-scans.service.ts";

const tags = ["scans"];
const read = { permission: "scans:read" } as const;
// Server-side scans probe from Warden's own network position: only the security leads choose targets.
const schedule = { permission: "scans:schedule" } as const;

export function tlsScansRoutes(scans: TlsScansService) {
  return async (api: Api) => {
    api.get(
      "/scans/tls/targets",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "TLS scan targets with their latest grade and findings",
          querystring: targetListQuery,
          response: { 200: pageOf(targetSchema) },
        },
      },
      async (req) => scans.list(req.query),
    );
    api.post(
      "/scans/tls/targets",
      {
        config: { access: schedule },
        schema: {
          tags,
          summary: "Add an endpoint to scan on a schedule (host, host:port or URL)",
          body: targetInput,
          response: { 201: targetSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await scans.create(req.ctx, req.body)),
    );
    api.get(
      "/scans/tls/targets/:id",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "A target: its latest scan in full, with what changed, and its history",
          params: idParam,
          response: { 200: targetDetailSchema },
        },
      },
      async (req) => scans.get(req.params.id),
    );
    api.patch(
      "/scans/tls/targets/:id",
      {
        config: { access: schedule },
        schema: {
          tags,
          summary: "Change a target's label or schedule",
          params: idParam,
          body: targetPatch,
          response: { 200: targetSchema },
        },
      },
      async (req) => scans.update(req.ctx, req.params.id, req.body),
    );
    api.delete(
      "/scans/tls/targets/:id",
      {
        config: { access: schedule },
        schema: { tags, summary: "Stop scanning a target and drop its history", params: idParam },
      },
      async (req, reply) => {
        await scans.remove(req.ctx, req.params.id);
        return reply.status(204).send();
      },
    );
    api.post(
      "/scans/tls/targets/:id/scan",
      {
        config: { access: schedule },
        schema: {
          tags,
          summary: "Scan a target now (takes seconds; an endpoint that does not answer is reported as such)",
          params: idParam,
          body: z.object({}).strict().optional(),
          response: { 201: scanDetailSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await scans.scanNow(req.ctx, req.params.id)),
    );
    api.get(
      "/scans/tls/scans/:id",
      {
        config: { access: read },
        schema: {
          tags,
          summary: "One TLS scan: the scanner's full result and the difference from the scan before",
          params: idParam,
          response: { 200: scanDetailSchema },
        },
      },
      async (req) => scans.getScan(req.params.id),
    );
    api.post(
      "/scans/tls/reports",
      {
        config: { access: { permission: "scans:write" } },
        bodyLimit: 16 * 1024 * 1024,
        schema: {
          tags,
          summary: "Receive the JSON report of `warden scan tls --report`",
          body: tlsScanReportSchema,
          response: { 201: reportResultSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await scans.receiveReport(req.ctx, req.body)),
    );
  };
}
