import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Api } from "../http/server.ts";
import type { Store } from "../store/store.ts";
import { vettingRoutes } from "./vetting.routes.ts";
import { createVettingService } from "./vetting.service.ts";

export type { RedFlag, Reference, Vetting } from "./vetting.schemas.ts";
export { redFlagKinds, severities } from "./vetting.schemas.ts";
export type { VettingService } from "./vetting.service.ts";

export function createVettingFeature(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const vetting = createVettingService(deps);
  return { vetting, routes: [vettingRoutes(vetting)] as ((api: Api) => Promise<void>)[] };
}

export type VettingFeature = ReturnType<typeof createVettingFeature>;
