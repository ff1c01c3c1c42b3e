import { z } from "zod";
import { idParam, pageOf, pageQuery } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import { reportFindingSchema, scanReportSchema } from "../scan-files/index.ts";
import type { ScanReportsService } from "./scan-reports.service.ts";

const tags = ["scans"];
const summarySchema = z.object({
  id: z.uuid(),
  vendorId: z.string().nullable(),
  vendorName: z.string().nullable(),
  engagementId: z.string().nullable(),
  engagementTitle: z.string().nullable(),
  mode: z.string(),
  targets: z.array(z.string()),
  findingCount: z.number(),
  highCount: z.number(),
  stats: z.record(z.string(), z.number()),
  startedAt: z.string(),
  finishedAt: z.string(),
  receivedAt: z.string(),
  reportedBy: z.string().nullable(),
});
const detailSchema = summarySchema.extend({
  findings: z.array(reportFindingSchema),
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
});

export function scanReportsRoutes(reports: ScanReportsService) {
  return async (api: Api) => {
    api.post(
      "/scans/files/reports",
      {
        config: { access: { permission: "scans:write" } },
        // Reports of large repositories are bigger than the API's default 1 MiB body.
        bodyLimit: 32 * 1024 * 1024,
        schema: {
          tags,
          summary: "Receive a redacted report from `warden scan files --report`",
          body: scanReportSchema,
          response: { 201: detailSchema },
        },
      },
      async (req, reply) => reply.status(201).send(await reports.receive(req.ctx, req.body)),
    );
    api.get(
      "/scans/files/reports",
      {
        config: { access: { permission: "scans:read" } },
        schema: {
          tags,
          summary: "File scan reports, newest first",
          querystring: z
            .object({ vendorId: z.uuid().optional(), engagementId: z.uuid().optional(), ...pageQuery })
            .strict(),
          response: { 200: pageOf(summarySchema) },
        },
      },
      async (req) => reports.list(req.query),
    );
    api.get(
      "/scans/files/reports/:id",
      {
        config: { access: { permission: "scans:read" } },
        schema: {
          tags,
          summary: "One file scan report with its findings",
          params: idParam,
          response: { 200: detailSchema },
        },
      },
      async (req) => reports.get(req.params.id),
    );
  };
}
