import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import { type Ctx, systemCtx } from "../core/context.ts";
import { AppError, conflict, invalidField, notFound } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { NotifyService } from "../notify/index.ts";
import {
  parseTarget,
  type ScanTlsOptions,
  scanTls,
  type TargetResult,
  type TlsScanReport,
} from "../scan-tls/index.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { SqlClient, Store } from "../store/store.ts";
import { diffScans, type ScanDiff, worstOf } from "./tls-scans.diff.ts";
import { tlsScansRepo as repo, type ScanRow, type TargetRow, type TargetWithLast } from "./tls-scans.repo.ts";

/**
 * Scheduled TLS scans: targets (added by hand, from the access catalog through a `TlsTargetSource`, or
 * first seen in a `warden scan tls --report`), scanned by the `tls.scan` task when due, each result
 * stored with its findings, grade and the difference from the previous scan. A scan that got worse
 * (a new finding of medium or above, a lower grade, an endpoint that stopped answering) notifies the
 * security team through the outbox, in the transaction that stores it.
 *
 * Scans are network calls: they always run before the transaction that stores their result.
 */

/** The hook for the resource catalog: each resource with a network endpoint becomes a target. */
export interface TlsTargetSource {
  name: string;
  list(): Promise<{ resourceId: string; target: string; label: string }[]>;
}

export interface TlsScansDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  scheduler: Scheduler;
  notify?: Pick<NotifyService, "enqueue">;
  /** Catalog hooks (the access feature provides one); synced before each scheduled run. */
  targetSources?: TlsTargetSource[];
  /** PEM file of extra CAs trusted by scheduled scans (WARDEN_SCAN_TLS_CA), e.g. an internal CA. */
  caFile?: string | undefined;
  /** Scanner options for the server's scans. */
  scanOptions?: ScanTlsOptions;
}

export const SCAN_TASK = "tls.scan";
const DEFAULT_INTERVAL_HOURS = 24;
/** Targets one run of the task scans at most (the rest stay due for the next run, five minutes on). */
const BATCH = 50;

type Trigger = ScanRow["trigger"];

const summary = (r: {
  id: string;
  target_id: string;
  trigger: Trigger;
  status: ScanRow["status"];
  grade: string | null;
  worst: string;
  finding_count: number;
  diff: ScanDiff;
  started_at: Date;
  finished_at: Date;
  reported_by_email: string | null;
}) => ({
  id: r.id,
  targetId: r.target_id,
  trigger: r.trigger,
  status: r.status,
  grade: r.grade,
  worst: r.worst as ReturnType<typeof worstOf>,
  findingCount: Number(r.finding_count),
  added: r.diff.added.length,
  resolved: r.diff.resolved.length,
  worse: r.diff.worse,
  startedAt: new Date(r.started_at),
  finishedAt: new Date(r.finished_at),
  reportedBy: r.reported_by_email,
});

const detail = (r: ScanRow) => ({ ...summary(r), target: r.target, result: r.result, diff: r.diff });

function presentTarget(t: TargetWithLast) {
  return {
    id: t.id,
    target: t.target,
    label: t.label,
    source: t.source,
    resourceId: t.resource_id,
    scheduled: t.scheduled,
    intervalHours: Number(t.interval_hours),
    nextScanAt: t.scheduled && t.next_scan_at ? new Date(t.next_scan_at) : null,
    createdAt: new Date(t.created_at),
    lastScan: t.l_id
      ? summary({
          id: t.l_id,
          target_id: t.id,
          trigger: t.l_trigger!,
          status: t.l_status!,
          grade: t.l_grade,
          worst: t.l_worst!,
          finding_count: t.l_finding_count ?? 0,
          diff: t.l_diff!,
          started_at: t.l_started_at!,
          finished_at: t.l_finished_at!,
          reported_by_email: t.l_reported_by_email,
        })
      : null,
  };
}

/** A target string as the scanner reads it; refused with a field error if malformed or carrying credentials. */
function checkTarget(target: string): string {
  const t = target.trim();
  parseTarget(t); // throws validation_failed naming the field
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(t)) {
    throw invalidField("body/target", "must not carry a user name or password; Warden's probes never log in");
  }
  return t;
}

export function createTlsScansService(deps: TlsScansDeps) {
  const { store, clock, audit, logger } = deps;
  let extraCa: Promise<string[]> | undefined;
  /** The certificate `warden serve` generated for itself: scans of Warden's own URL trust it. */
  let ownCertificate: string | undefined;
  const trustedCas = async () => {
    extraCa ??= deps.caFile ? readFile(deps.caFile, "utf8").then((pem) => [pem]) : Promise.resolve([]);
    return ownCertificate ? [...(await extraCa), ownCertificate] : extraCa;
  };
  /**
   * Called by `serve` with the self-signed certificate it generated (never one the operator configured:
   * those must chain to a CA like any other target's), so that Warden scanning itself reports nothing
   * to fix, as the CLI does after `warden login` pinned the same certificate.
   */
  function trustOwnCertificate(pem: string) {
    ownCertificate = pem;
  }

  async function scan(
    targets: string[],
  ): Promise<{ results: TargetResult[]; startedAt: Date; finishedAt: Date }> {
    const startedAt = clock.now();
    const report = await scanTls(
      targets,
      {
        concurrency: 8,
        ...deps.scanOptions,
        extraCa: [...(deps.scanOptions?.extraCa ?? []), ...(await trustedCas())],
      },
      { clock },
    );
    return { results: report.targets, startedAt, finishedAt: clock.now() };
  }

  /** Stores one result with its diff; notifies when it got worse. Call inside a transaction. */
  async function storeResult(
    q: SqlClient,
    ctx: Ctx,
    target: Pick<TargetRow, "id" | "target" | "label">,
    result: TargetResult,
    trigger: Trigger,
    startedAt: Date,
    finishedAt: Date,
  ): Promise<{ id: string; diff: ScanDiff }> {
    const prev = await repo.latestResult(q, target.id);
    const diff = diffScans(prev, result);
    const id = randomUUID();
    const worst = worstOf(result.findings);
    await repo.insertScan(q, {
      id,
      targetId: target.id,
      trigger,
      result,
      diff,
      worst,
      startedAt,
      finishedAt,
      reportedBy: ctx.actor.userId ?? null,
    });
    await audit.record(q, ctx, {
      action: "tls.scan.recorded",
      target: { type: "tls_scan_target", id: target.id },
      summary: {
        scanId: id,
        trigger,
        status: result.status,
        grade: result.grade?.grade ?? null,
        worst,
        added: diff.added.map((f) => f.id),
        resolved: diff.resolved.map((f) => f.id),
      },
    });
    if (diff.worse && deps.notify) {
      const name = target.label ? `${target.label} (${target.target})` : target.target;
      const reasons = [
        ...(diff.statusFrom === "scanned" && diff.statusTo !== "scanned"
          ? [`it no longer answers (${result.error ?? result.status})`]
          : []),
        ...(diff.gradeFrom && diff.gradeTo !== diff.gradeFrom
          ? [`grade ${diff.gradeFrom} → ${diff.gradeTo ?? "none"}`]
          : []),
        ...diff.added.map((f) => `new ${f.severity} finding: ${f.title}`),
      ];
      const addedWorst = worstOf(diff.added);
      await deps.notify.enqueue(q, {
        topic: "tls.scan.regressed",
        severity: addedWorst === "none" || addedWorst === "info" ? "medium" : addedWorst,
        subject: `TLS scan of ${name} got worse`,
        text: `The TLS scan of ${name} got worse:\n${reasons.map((r) => `- ${r}`).join("\n")}`,
        to: { roles: ["security"] },
        data: { targetId: target.id, scanId: id, gradeFrom: diff.gradeFrom, gradeTo: diff.gradeTo },
        refs: [target.id, id],
      });
    }
    return { id, diff };
  }

  async function list(f: {
    q?: string | undefined;
    worst?: string | undefined;
    limit: number;
    offset: number;
  }) {
    const { rows, total } = await repo.list(store, f);
    return { items: rows.map(presentTarget), total, limit: f.limit, offset: f.offset };
  }

  async function get(id: string) {
    const t = await repo.byId(store, id);
    if (!t) throw notFound("TLS scan target");
    const history = await repo.history(store, id, 60);
    const latest = t.l_id ? await repo.scanById(store, t.l_id) : undefined;
    return { ...presentTarget(t), latest: latest ? detail(latest) : null, history: history.map(summary) };
  }

  async function getScan(id: string) {
    const s = await repo.scanById(store, id);
    if (!s) throw notFound("TLS scan");
    return detail(s);
  }

  async function create(
    ctx: Ctx,
    input: {
      target: string;
      label?: string | undefined;
      intervalHours?: number | undefined;
      scheduled?: boolean | undefined;
    },
  ) {
    const target = checkTarget(input.target);
    const id = randomUUID();
    const scheduled = input.scheduled ?? true;
    await store.tx(async (q) => {
      if (await repo.byTarget(q, target)) throw conflict(`${target} is already a scan target`);
      await repo.insert(q, {
        id,
        target,
        label: input.label ?? "",
        source: "manual",
        resourceId: null,
        scheduled,
        intervalHours: input.intervalHours ?? DEFAULT_INTERVAL_HOURS,
        // A new target is due at once: the task picks it up on its next run.
        nextScanAt: scheduled ? clock.now() : null,
        createdBy: ctx.actor.userId ?? null,
        at: clock.now(),
      });
      await audit.record(q, ctx, {
        action: "tls.target.created",
        target: { type: "tls_scan_target", id },
        summary: { target, scheduled, intervalHours: input.intervalHours ?? DEFAULT_INTERVAL_HOURS },
      });
    });
    if (scheduled) await deps.scheduler.nudge(SCAN_TASK);
    return presentTarget((await repo.byId(store, id))!);
  }

  async function update(
    ctx: Ctx,
    id: string,
    patch: {
      label?: string | undefined;
      intervalHours?: number | undefined;
      scheduled?: boolean | undefined;
    },
  ) {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("TLS scan target");
      const scheduled = patch.scheduled ?? cur.scheduled;
      const intervalHours = patch.intervalHours ?? Number(cur.interval_hours);
      const now = clock.now();
      let nextScanAt: Date | null = null;
      if (scheduled) {
        // From the last scan (or now, if never scanned or newly scheduled) plus the interval.
        const base = cur.scheduled && cur.l_started_at ? new Date(cur.l_started_at) : null;
        nextScanAt = base ? new Date(base.getTime() + intervalHours * 3_600_000) : now;
      }
      await repo.update(q, id, {
        label: patch.label ?? cur.label,
        intervalHours,
        scheduled,
        nextScanAt,
        at: now,
      });
      await audit.record(q, ctx, {
        action: "tls.target.updated",
        target: { type: "tls_scan_target", id },
        summary: { ...patch },
      });
    });
    return presentTarget((await repo.byId(store, id))!);
  }

  async function remove(ctx: Ctx, id: string) {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("TLS scan target");
      await repo.remove(q, id);
      await audit.record(q, ctx, {
        action: "tls.target.deleted",
        target: { type: "tls_scan_target", id },
        summary: { target: cur.target },
      });
    });
  }

  /** Scans one target now (on request) and stores the result. */
  async function scanNow(ctx: Ctx, id: string) {
    const t = await repo.byId(store, id);
    if (!t) throw notFound("TLS scan target");
    const { results, startedAt, finishedAt } = await scan([t.target]);
    const stored = await store.tx((q) =>
      storeResult(q, ctx, t, results[0]!, "manual", startedAt, finishedAt),
    );
    return getScan(stored.id);
  }

  /** Stores the results a `warden scan tls --report` sent; unknown targets are recorded, unscheduled. */
  async function receiveReport(ctx: Ctx, report: TlsScanReport) {
    if (report.targets.length === 0)
      throw new AppError("validation_failed", "targets: the report has no target");
    for (const r of report.targets) checkTarget(r.target);
    const ids: string[] = [];
    await store.tx(async (q) => {
      for (const r of report.targets) {
        const target = r.target.trim();
        let t: Pick<TargetRow, "id" | "target" | "label"> | undefined = await repo.byTarget(q, target);
        if (!t) {
          const id = randomUUID();
          await repo.insert(q, {
            id,
            target,
            label: "",
            source: "cli",
            resourceId: null,
            scheduled: false,
            intervalHours: DEFAULT_INTERVAL_HOURS,
            nextScanAt: null,
            createdBy: ctx.actor.userId ?? null,
            at: clock.now(),
          });
          t = { id, target, label: "" };
        }
        const stored = await storeResult(
          q,
          ctx,
          t,
          r,
          "cli",
          new Date(report.startedAt),
          new Date(report.finishedAt),
        );
        ids.push(stored.id);
      }
    });
    const scans = [];
    for (const id of ids) {
      const s = (await repo.scanById(store, id))!;
      scans.push({ ...summary(s), target: s.target });
    }
    return { scans };
  }

  /** Brings catalog targets in line with the sources: new resources added, vanished ones unscheduled. */
  async function syncSources(): Promise<number> {
    if (!deps.targetSources?.length) return 0;
    const seen = new Set<string>();
    let changed = 0;
    for (const source of deps.targetSources) {
      let entries: Awaited<ReturnType<TlsTargetSource["list"]>>;
      try {
        entries = await source.list();
      } catch (err) {
        logger.warn(
          { err, source: source.name },
          "TLS target source failed; keeping its targets as they are",
        );
        for (const t of await repo.catalogTargets(store)) if (t.resource_id) seen.add(t.resource_id);
        continue;
      }
      for (const e of entries) {
        seen.add(e.resourceId);
        let target: string;
        try {
          target = checkTarget(e.target);
        } catch {
          continue; // a resource whose address is not a scannable endpoint
        }
        if (await repo.byResource(store, e.resourceId)) continue;
        await store.tx(async (q) => {
          if (await repo.byTarget(q, target)) return; // already scanned as a manual target
          const id = randomUUID();
          await repo.insert(q, {
            id,
            target,
            label: e.label,
            source: "catalog",
            resourceId: e.resourceId,
            scheduled: true,
            intervalHours: DEFAULT_INTERVAL_HOURS,
            nextScanAt: clock.now(),
            createdBy: null,
            at: clock.now(),
          });
          await audit.record(q, systemCtx("tls scans"), {
            action: "tls.target.created",
            target: { type: "tls_scan_target", id },
            summary: { target, source: source.name, resourceId: e.resourceId },
          });
          changed++;
        });
      }
    }
    for (const t of await repo.catalogTargets(store)) {
      if (t.resource_id && !seen.has(t.resource_id) && t.scheduled) {
        await repo.update(store, t.id, {
          label: t.label,
          intervalHours: Number(t.interval_hours),
          scheduled: false,
          nextScanAt: null,
          at: clock.now(),
        });
        changed++;
      }
    }
    return changed;
  }

  /** One run of the scheduled task: scans every due target (up to a batch) and stores the results. */
  async function runDue() {
    const synced = await syncSources();
    const due = await repo.claimDue(store, clock.now(), BATCH);
    if (due.length === 0) return { scanned: 0, worse: 0, unreachable: 0, synced };
    const { results, startedAt, finishedAt } = await scan(due.map((t) => t.target));
    let worse = 0;
    const ctx = systemCtx("scheduled TLS scan");
    for (const [i, t] of due.entries()) {
      const r = results[i]!;
      const stored = await store.tx((q) => storeResult(q, ctx, t, r, "schedule", startedAt, finishedAt));
      if (stored.diff.worse) worse++;
    }
    return {
      scanned: due.length,
      worse,
      unreachable: results.filter((r) => r.status !== "scanned").length,
      synced,
    };
  }

  deps.scheduler.register({
    name: SCAN_TASK,
    description: "Scans the TLS targets that are due (Scans → TLS) and records what changed",
    everyMs: 5 * 60_000,
    leaseMs: 30 * 60_000,
    run: async () => runDue(),
  });

  return { list, get, getScan, create, update, remove, scanNow, receiveReport, runDue, trustOwnCertificate };
}

export type TlsScansService = ReturnType<typeof createTlsScansService>;
