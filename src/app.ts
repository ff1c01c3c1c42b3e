import { createAgreementsFeature } from "./agreements/index.ts";
import { auditRoutes, createAuditService } from "./audit/index.ts";
import { authRoutes, createAuthService } from "./auth/index.ts";
import type { Clock } from "./core/clock.ts";
import type { Config } from "./core/config.ts";
import type { Logger } from "./core/logger.ts";
import type { Sealer } from "./crypto/keyring.ts";
import { createEventLogFeature } from "./eventlog/index.ts";
import { createGateFeature } from "./gate/index.ts";
import type { Api } from "./http/server.ts";
import { createNotifyFeature } from "./notify/index.ts";
import { createPeopleFeature } from "./people/index.ts";
import { createScanReportsFeature } from "./scan-reports/index.ts";
import { createScheduler, schedulerRoutes } from "./scheduler/index.ts";
import type { Store } from "./store/store.ts";
import { createTrainingFeature } from "./training/index.ts";
import { createVettingFeature } from "./vetting/index.ts";

export interface AppDeps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  sealer: Sealer;
}

/**
 * The composition root: builds every service from its explicit dependencies. The server, the CLI's
 * offline commands and the tests all call this; nothing else wires features together.
 */
export function createApp(deps: AppDeps) {
  const { store, clock, config, sealer, logger } = deps;
  // Features register their background tasks here; `serve` starts it, tests call `tick()`.
  const scheduler = createScheduler({ store, clock, logger });
  // One verifiable log: every audit record and every ingested event is a leaf of its Merkle tree.
  const eventLog = createEventLogFeature({ store, clock, config, logger, sealer, scheduler });
  const audit = createAuditService({ store, log: eventLog.auditLog });
  const notify = createNotifyFeature({ store, clock, config, logger, scheduler, audit });
  const people = createPeopleFeature({ store, clock, audit });
  const agreements = createAgreementsFeature({ store, clock, audit, sealer });
  const vetting = createVettingFeature({ store, clock, audit });
  const training = createTrainingFeature({ store, clock, audit });
  const auth = createAuthService({
    store,
    clock,
    config,
    audit,
    sealer,
    developerEmail: people.developerEmail,
  });
  const gate = createGateFeature({ store, clock, audit });
  const scanReports = createScanReportsFeature({ store, clock, audit });
  const routes: ((api: Api) => Promise<void>)[] = [
    authRoutes(auth),
    auditRoutes(audit),
    ...people.routes,
    ...agreements.routes,
    ...vetting.routes,
    ...training.routes,
    ...gate.routes,
    ...scanReports.routes,
    schedulerRoutes(scheduler, audit),
    ...eventLog.routes,
    ...notify.routes,
  ];
  return {
    deps,
    audit,
    eventLog,
    auth,
    people,
    agreements,
    vetting,
    training,
    gate: gate.service,
    scanReports: scanReports.service,
    scheduler,
    notify: notify.service,
    routes,
    /** Routes outside /api (the public /log endpoints of the transparency log). */
    rootRoutes: [...eventLog.rootRoutes],
  };
}

export type App = ReturnType<typeof createApp>;
