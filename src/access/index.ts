import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { GateService } from "../gate/index.ts";
import type { Api } from "../http/server.ts";
import type { NotifyService } from "../notify/index.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import { createGrantsService } from "./grants.service.ts";
import { createAccessPolicies } from "./policies.service.ts";
import { createResourcesService } from "./resources.service.ts";
import { createSshCaService } from "./ssh-ca.service.ts";

export type {
  AccessRequest,
  CatalogItem,
  EndReason,
  Grant,
  GrantState,
  RequestStatus,
  Resource,
} from "./access.schemas.ts";
export { endReasons, grantStates, liveGrantStates, requestStatuses } from "./access.schemas.ts";
export type { GrantFilter } from "./grants.repo.ts";
export type { GrantsService } from "./grants.service.ts";
export type { ResourcesService } from "./resources.service.ts";

export interface AccessDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  sealer: Sealer;
  logger: Logger;
  notify: Pick<NotifyService, "enqueue">;
  gate: Pick<GateService, "checkMany">;
  scheduler: Scheduler;
}

/**
 * Least-privilege access: the resource catalog, requests and approvals under Cedar policies,
 * time-bound grants provisioned and revoked by connectors, sweeps, break-glass, the SSH CA.
 * Other features use `grants.listLive(filter)` and `grants.revoke(ctx, grantId, reason)`.
 */
export function createAccessFeature(deps: AccessDeps) {
  const ssh = createSshCaService(deps);
  const policies = createAccessPolicies(deps);
  const resources = createResourcesService({ ...deps, ssh });
  const grants = createGrantsService({ ...deps, policies, resources, ssh });
  const routes: ((api: Api) => Promise<void>)[] = [];
  return {
    resources,
    grants,
    policies,
    ssh,
    routes,
    close: () => resources.closeConnectors(),
  };
}

export type AccessFeature = ReturnType<typeof createAccessFeature>;
