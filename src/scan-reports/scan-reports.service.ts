import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { AppError, notFound } from "../core/errors.ts";
import { isUuid } from "../core/schemas.ts";
import type { ScanReport } from "../scan-files/index.ts";
import type { Store } from "../store/store.ts";

interface Row {
  id: string;
  vendor_id: string | null;
  vendor_name: string | null;
  engagement_id: string | null;
  engagement_title: string | null;
  mode: string;
  targets: string[];
  stats: Record<string, number>;
  findings: ScanReport["findings"];
  skipped: ScanReport["skipped"];
  finding_count: number;
  high_count: number;
  started_at: Date;
  finished_at: Date;
  received_at: Date;
  reported_by_email: string | null;
}

const summary = (r: Row) => ({
  id: r.id,
  vendorId: r.vendor_id,
  vendorName: r.vendor_name,
  engagementId: r.engagement_id,
  engagementTitle: r.engagement_title,
  mode: r.mode,
  targets: r.targets,
  findingCount: r.finding_count,
  highCount: r.high_count,
  stats: r.stats,
  startedAt: new Date(r.started_at).toISOString(),
  finishedAt: new Date(r.finished_at).toISOString(),
  receivedAt: new Date(r.received_at).toISOString(),
  reportedBy: r.reported_by_email,
});

const select = `select r.*, v.name as vendor_name, e.title as engagement_title, u.email as reported_by_email
  from file_scan_reports r left join vendors v on v.id = r.vendor_id left join engagements e on e.id = r.engagement_id
  left join users u on u.id = r.reported_by`;

/** Stores the file scanner's reports. Only redacted reports are accepted: Warden never keeps the secrets. */
export function createScanReportsService(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const { store, clock, audit } = deps;

  async function receive(ctx: Ctx, report: ScanReport) {
    if (!report.redacted || report.findings.some((f) => !f.secret.includes("*") && f.secret.length > 8)) {
      throw new AppError(
        "unprocessable",
        "Send redacted reports only (run without --no-redact); Warden does not store secrets",
      );
    }
    for (const [field, v] of [
      ["vendorId", report.vendorId],
      ["engagementId", report.engagementId],
    ] as const) {
      if (v !== undefined && !isUuid(v)) {
        throw new AppError(
          "validation_failed",
          `${field}: expected a ${field === "vendorId" ? "vendor" : "engagement"} id`,
          { fields: [{ field: `body/${field}`, message: "expected an id" }] },
        );
      }
    }
    const id = randomUUID();
    await store.tx(async (q) => {
      let vendorId = report.vendorId ?? null;
      if (report.engagementId) {
        const e = (
          await q.query<{ vendor_id: string | null }>(
            "select d.vendor_id from engagements e join developers d on d.id = e.developer_id where e.id = $1",
            [report.engagementId],
          )
        ).rows[0];
        if (!e) throw notFound("engagement");
        vendorId ??= e.vendor_id;
      }
      if (vendorId && !(await q.query("select 1 from vendors where id = $1", [vendorId])).rows[0])
        throw notFound("vendor");
      await q.query(
        `insert into file_scan_reports (id, vendor_id, engagement_id, mode, targets, stats, findings, skipped, finding_count, high_count,
           started_at, finished_at, received_at, reported_by) values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
        [
          id,
          vendorId,
          report.engagementId ?? null,
          report.mode,
          JSON.stringify(report.targets),
          JSON.stringify(report.stats),
          JSON.stringify(report.findings),
          JSON.stringify(report.skipped),
          report.findings.length,
          report.findings.filter((f) => f.severity === "high").length,
          report.startedAt,
          report.finishedAt,
          clock.now(),
          ctx.actor.userId ?? null,
        ],
      );
      await audit.record(q, ctx, {
        action: "scan.files.report",
        target: { type: "file_scan_report", id },
        summary: {
          findings: report.findings.length,
          vendorId,
          engagementId: report.engagementId ?? null,
          mode: report.mode,
        },
      });
    });
    return get(id);
  }

  async function get(id: string) {
    const r = (await store.query<Row>(`${select} where r.id = $1`, [id])).rows[0];
    if (!r) throw notFound("scan report");
    return { ...summary(r), findings: r.findings, skipped: r.skipped };
  }

  async function list(f: {
    vendorId?: string | undefined;
    engagementId?: string | undefined;
    limit: number;
    offset: number;
  }) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.vendorId) {
      params.push(f.vendorId);
      where.push(`r.vendor_id = $${params.length}`);
    }
    if (f.engagementId) {
      params.push(f.engagementId);
      where.push(`r.engagement_id = $${params.length}`);
    }
    const w = where.length ? `where ${where.join(" and ")}` : "";
    const total = Number(
      (await store.query<{ n: number }>(`select count(*)::int8 n from file_scan_reports r ${w}`, params))
        .rows[0]?.n ?? 0,
    );
    params.push(f.limit, f.offset);
    const rows = (
      await store.query<Row>(
        `${select} ${w} order by r.received_at desc, r.id limit $${params.length - 1} offset $${params.length}`,
        params,
      )
    ).rows;
    return { items: rows.map(summary), total, limit: f.limit, offset: f.offset };
  }

  return { receive, get, list };
}

export type ScanReportsService = ReturnType<typeof createScanReportsService>;
