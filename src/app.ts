import { createAccessFeature } from "./access/index.ts";
import { createAgreementsFeature } from "./agreements/index.ts";
import { accessForRules, createAlertsFeature, eventLogReader } from "./alerts/index.ts";
import { auditRoutes, createAuditService } from "./audit/index.ts";
import { authRoutes, createAuthService } from "./auth/index.ts";
import type { Clock } from "./core/clock.ts";
import type { Config } from "./core/config.ts";
import type { Logger } from "./core/logger.ts";
import type { Keyring } from "./crypto/keyring.ts";
import { createEventLogFeature } from "./eventlog/index.ts";
import { createGateFeature } from "./gate/index.ts";
import type { Api } from "./http/server.ts";
import { createKeysFeature, type KeySource } from "./keys/index.ts";
import { createNotifyFeature } from "./notify/index.ts";
import { createPeopleFeature } from "./people/index.ts";
import { createReviewsFeature } from "./reviews/index.ts";
import { createScanReportsFeature } from "./scan-reports/index.ts";
import { createScheduler, schedulerRoutes } from "./scheduler/index.ts";
import { createSharesFeature } from "./shares/index.ts";
import { createSourcesFeature } from "./sources/index.ts";
import type { Store } from "./store/store.ts";
import {
  createTlsScansFeature,
  SCAN_TASK as TLS_SCAN_TASK,
  type TlsTargetSource,
} from "./tls-scans/index.ts";
import { createTrainingFeature } from "./training/index.ts";
import { createVettingFeature } from "./vetting/index.ts";

export interface AppDeps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Seals values at rest; also what key management rotates. */
  sealer: Keyring;
  /** Catalog hooks for scheduled TLS scans (default: the access feature's resources). */
  tlsTargetSources?: TlsTargetSource[];
  /** Where the master key came from (default: the environment, which Warden cannot rewrite). */
  keySource?: KeySource;
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
  const access = createAccessFeature({
    store,
    clock,
    audit,
    sealer,
    logger,
    notify: notify.service,
    gate: gate.service,
    scheduler,
    // A resource added or changed gets its TLS scan now (the scan task syncs the catalog first).
    onCatalogChange: () => scheduler.nudge(TLS_SCAN_TASK),
  });
  const reviews = createReviewsFeature({
    store,
    clock,
    audit,
    logger,
    config,
    notify: notify.service,
    scheduler,
    grants: access.grants,
  });
  const shares = createSharesFeature({
    store,
    clock,
    config,
    logger,
    audit,
    sealer,
    scheduler,
    developers: people.developers,
    gate: gate.service,
    agreements: agreements.agreements,
    notify: notify.service,
  });
  // Detection: sources feed the log; rules run on every append and raise alerts; SIEMs get the log.
  const alerts = createAlertsFeature({
    store,
    clock,
    logger,
    audit,
    sealer,
    scheduler,
    notify: notify.service,
    developers: people.developers,
    gate: gate.service,
    eventLog: { ...eventLog, ...eventLogReader(store, () => eventLog.service.head()) },
    access: accessForRules(access),
    publicUrl: config.publicUrl,
  });
  const sources = createSourcesFeature({ config, clock, logger, eventLog });
  const keys = createKeysFeature({
    store,
    clock,
    logger,
    audit,
    keyring: sealer,
    scheduler,
    keySource: deps.keySource ?? { source: "env", dataDir: config.dataDir },
  });
  const tlsScans = createTlsScansFeature({
    store,
    clock,
    logger,
    audit,
    scheduler,
    notify: notify.service,
    targetSources: deps.tlsTargetSources ?? [{ name: "catalog", list: () => access.resources.tlsTargets() }],
    caFile: config.scanTlsCaFile,
  });
  const routes: ((api: Api) => Promise<void>)[] = [
    authRoutes(auth),
    auditRoutes(audit),
    ...people.routes,
    ...agreements.routes,
    ...vetting.routes,
    ...training.routes,
    ...gate.routes,
    ...scanReports.routes,
    ...shares.routes,
    schedulerRoutes(scheduler, audit),
    ...notify.routes,
    ...access.routes,
    ...reviews.routes,
    ...eventLog.routes,
    ...alerts.routes,
    ...sources.routes,
    ...keys.routes,
    ...tlsScans.routes,
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
    shares: shares.service,
    scheduler,
    notify: notify.service,
    access,
    reviews: reviews.service,
    keys: keys.service,
    alerts,
    sources: sources.service,
    tlsScans: tlsScans.service,
    routes,
    /** Routes outside /api (the public /log endpoints of the transparency log, Splunk HEC paths). */
    rootRoutes: [...eventLog.rootRoutes, ...sources.rootRoutes],
  };
}

export type App = ReturnType<typeof createApp>;
