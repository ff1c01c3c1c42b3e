import type { GrantsService, ResourcesService } from "../access/index.ts";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { Sealer } from "../crypto/keyring.ts";
import { type GateService, loadFacts } from "../gate/index.ts";
import type { Api } from "../http/server.ts";
import type { NotifyService } from "../notify/index.ts";
import type { DevelopersService } from "../people/index.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import type { WorkingHours } from "./alert.types.ts";
import { alertsRoutes } from "./alerts.routes.ts";
import { createAlertsService } from "./alerts.service.ts";
import { createDetectionContext, type LiveGrant } from "./detection.context.ts";
import { createDetectionService } from "./detection.service.ts";
import type { EventLogPort } from "./event-log.port.ts";
import { forwardingRoutes } from "./forwarding.routes.ts";
import { createForwardingService } from "./forwarding.service.ts";

export interface AlertsFeatureDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  sealer: Sealer;
  scheduler: Scheduler;
  notify: Pick<NotifyService, "enqueue">;
  developers: Pick<DevelopersService, "profiles">;
  gate: Pick<GateService, "requirements">;
  eventLog: EventLogPort;
  /** Live grants and the catalog from the access feature, for "access without a live grant". */
  access?: {
    liveGrants(): Promise<LiveGrant[]>;
    managedResources(): Promise<{ kind: string; name: string }[]>;
  };
  /** Public base URL of the web UI, for links in notifications. */
  publicUrl?: string | undefined;
}

/**
 * Alerts: rules evaluated inline on every event the log appends, alerts people work (status, assignee,
 * notes), rule settings and replays, notifications through the outbox, SIEM forwarding.
 */
export function createAlertsFeature(deps: AlertsFeatureDeps) {
  const { store, clock, logger, audit } = deps;
  const context = createDetectionContext({
    developers: async () =>
      (await deps.developers.profiles()).map((d) => ({
        id: d.id,
        name: d.name,
        timeZone: d.timeZone,
        workingHours: d.workingHours as WorkingHours,
        status: d.status,
      })),
    gate: async () => ({ requirements: await deps.gate.requirements(), facts: await loadFacts(store) }),
    ...(deps.access ? { access: deps.access } : {}),
  });
  const alertUrl = deps.publicUrl ? (id: string) => `${deps.publicUrl}/alerts/${id}` : undefined;
  let detection: ReturnType<typeof createDetectionService> | undefined;
  const service = createAlertsService({
    store,
    clock,
    audit,
    context,
    eventLog: deps.eventLog,
    onSettingsChanged: () => detection?.reload(),
  });
  detection = createDetectionService({
    store,
    clock,
    logger,
    audit,
    notify: deps.notify,
    context,
    loadSettings: service.loadSettings,
    settingsVersion: service.settingsVersion,
    ...(alertUrl ? { alertUrl } : {}),
  });
  const detach = deps.eventLog.onAppended(detection.onAppended);
  const forwarding = createForwardingService({
    store,
    clock,
    logger,
    audit,
    sealer: deps.sealer,
    scheduler: deps.scheduler,
    eventLog: deps.eventLog,
    ...(alertUrl ? { alertUrl } : {}),
  });
  return {
    service,
    detection,
    forwarding,
    context,
    /** Stops evaluating rules on new events (shutdown; the benchmark's rules-off run). */
    detach: () => {
      detach();
    },
    routes: [alertsRoutes(service), forwardingRoutes(forwarding)] as ((api: Api) => Promise<void>)[],
  };
}

export type AlertsFeature = ReturnType<typeof createAlertsFeature>;

/** What the access-without-grant rule needs from the access feature: live grants and the catalog. */
export function accessForRules(access: {
  grants: Pick<GrantsService, "listLive">;
  resources: Pick<ResourcesService, "list">;
}): NonNullable<AlertsFeatureDeps["access"]> {
  return {
    async liveGrants() {
      return (await access.grants.listLive()).map((g) => ({
        id: g.id,
        developerId: g.developerId,
        resource: { kind: g.resourceKind, name: g.resourceName },
        startsAt: new Date(g.startsAt),
        endsAt: new Date(g.endsAt),
      }));
    },
    async managedResources() {
      const page = await access.resources.list({ limit: 100_000, offset: 0 });
      return page.items.map((r) => ({ kind: r.kind, name: r.name }));
    },
  };
}
