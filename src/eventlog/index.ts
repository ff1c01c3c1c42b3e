/**
 * The event log feature: one verifiable log (RFC 9162 Merkle tree, C2SP checkpoints, tiles and proofs)
 * holding Warden's own audit records and events from outside sources (normalised to OCSF), with search,
 * export, retention and the public transparency-log endpoints under /log.
 *
 * Other features use: `appendEvents(events)` and `onAppended(listener)` (see eventlog.types.ts), and the
 * audit façade (src/audit) for their own records.
 */
import type { AuditListFilter, AuditLog, VerifyResult } from "../audit/audit.service.ts";
import type { Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/logger.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { Api } from "../http/server.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import { createTileCache } from "../tlog/index.ts";
import { createActorDirectory } from "./eventlog.directory.ts";
import { type AuditRecordEntry, decodeEntry } from "./eventlog.entries.ts";
import { searchRows } from "./eventlog.repo.ts";
import { createRetention } from "./eventlog.retention.ts";
import { eventLogRoutes } from "./eventlog.routes.ts";
import { createEventLogService } from "./eventlog.service.ts";
import type { EventAppender } from "./eventlog.types.ts";
import { createEventLogWriter } from "./eventlog.writer.ts";
import { logRoutes } from "./log.routes.ts";

export type { AuditRecordEntry, LogEntry, OcsfRecordEntry } from "./eventlog.entries.ts";
export { auditToOcsf, decodeEntry, entryToOcsf } from "./eventlog.entries.ts";
export { type EventFilter, type EventRow, searchRows } from "./eventlog.repo.ts";
export type { EventLogService } from "./eventlog.service.ts";
export type {
  AppendedEvent,
  AppendedListener,
  AppendOutcome,
  EventAppender,
  OcsfEvent,
} from "./eventlog.types.ts";

/** Audit actions that change what the actor directory maps (developers, their keys and names, tokens). */
const PEOPLE_CHANGE = /^(developer|token|user)\./;

export interface EventLogFeatureDeps {
  store: Store;
  clock: Clock;
  config: Config;
  logger: Logger;
  sealer: Sealer;
  scheduler: Scheduler;
}

export function createEventLogFeature(deps: EventLogFeatureDeps) {
  const { store, clock, logger } = deps;
  const directory = createActorDirectory({ sql: store, clock });
  const tileCache = createTileCache();
  const writer = createEventLogWriter({
    tileCache,
    store,
    clock,
    logger,
    directory,
    maxQueuedEvents: deps.config.ingest.maxQueuedEvents,
  });
  const service = createEventLogService({
    tileCache,
    store,
    clock,
    logger,
    sealer: deps.sealer,
    origin: deps.config.logOrigin,
    publicUrl: deps.config.publicUrl,
  });

  /** What src/audit needs (it keeps `audit.record`'s signature for every feature). */
  const auditLog: AuditLog = {
    writer,
    async listAudit(f: AuditListFilter) {
      const rows = await searchRows(
        store,
        {
          kind: "audit",
          actorId: f.actorId,
          action: f.action,
          resourceType: f.targetType,
          resourceId: f.targetId,
          from: f.from,
          to: f.to,
          beforeIndex: f.beforeSeq !== undefined ? f.beforeSeq - 1 : undefined,
        },
        f.limit,
      );
      return rows.map((r) => decodeEntry(r.entry)).filter((e): e is AuditRecordEntry => e?.v === 1);
    },
    async verifyForAudit(onProgress): Promise<VerifyResult> {
      const r = await service.verify(onProgress ? { onProgress } : {});
      return {
        ok: r.ok,
        checked: r.firstBad ? r.firstBad.index : r.size,
        ...(r.firstBad ? { firstBad: { seq: r.firstBad.index + 1, problem: r.firstBad.problem } } : {}),
      };
    },
    head: () => service.head(),
  };

  // Attribution reads a snapshot of developers and tokens: a change of them recorded on this node
  // refreshes it before the next batch (changes on other nodes: within the snapshot's 30 s).
  writer.onAppended((batch) => {
    for (const { event } of batch) {
      if (event.warden.source !== "warden") continue;
      const action = (event.unmapped as { action?: unknown } | undefined)?.action;
      if (typeof action === "string" && PEOPLE_CHANGE.test(action)) {
        directory.invalidate();
        return;
      }
    }
  });

  const appender: EventAppender = { appendEvents: writer.appendEvents, onAppended: writer.onAppended };
  const retention = createRetention({ store, clock, logger, service, writer });

  deps.scheduler.register({
    name: "log.checkpoint",
    description: "Sign a checkpoint of the audit log when it has grown (C2SP tlog-checkpoint)",
    everyMs: 60_000,
    run: async () => {
      const t = await service.tlog();
      const note = await t.checkpoint();
      return { size: Number(note.split("\n")[1]) };
    },
  });
  deps.scheduler.register({
    name: "log.retention",
    description: "Prune audit log entries past their class's retention, keeping the signed checkpoint",
    everyMs: 6 * 3_600_000,
    run: async ({ at }) => retention.run(at),
  });

  return {
    ...appender,
    writer,
    service,
    directory,
    auditLog,
    retention,
    routes: [eventLogRoutes({ service, appender, retention, resolveActor: directory.resolve })] as ((
      api: Api,
    ) => Promise<void>)[],
    /** Routes outside /api: the public transparency-log endpoints under /log. */
    rootRoutes: [logRoutes(service)],
    /** Start-up work: import the foundation's trail now and load (or generate) the signing key. */
    async start() {
      await writer.importLegacyNow();
      await service.log();
    },
  };
}

export type EventLogFeature = ReturnType<typeof createEventLogFeature>;
