import { createAgreementsFeature } from "./agreements/index.ts";
import { auditRoutes, createAuditService } from "./audit/index.ts";
import { authRoutes, createAuthService } from "./auth/index.ts";
import type { Clock } from "./core/clock.ts";
import type { Config } from "./core/config.ts";
import type { Logger } from "./core/logger.ts";
import type { Sealer } from "./crypto/keyring.ts";
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
  const audit = createAuditService({ store, clock });
  // Features register their background tasks here; `serve` starts it, tests call `tick()`.
  const scheduler = createScheduler({ store, clock, logger });
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
    ...notify.routes,
  ];
  return {
    deps,
    audit,
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
  };
}

export type App = ReturnType<typeof createApp>;
