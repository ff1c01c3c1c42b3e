import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/store.ts";
import { gateRoutes } from "./gate.routes.ts";
import { createGateService } from "./gate.service.ts";

export type { Eligibility, GateFacts, Reason } from "./eligibility.ts";
export { dayOf, eligibility } from "./eligibility.ts";
export { type DeveloperFacts, loadFacts } from "./gate.repo.ts";
export { type DeveloperEligibility, evaluateDeveloper, type GateService } from "./gate.service.ts";
export { defaultRequirements, type GateRequirements } from "./requirements.ts";

export function createGateFeature(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const service = createGateService(deps);
  return { service, routes: [gateRoutes(service)] };
}
