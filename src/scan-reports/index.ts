import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Store } from "../store/store.ts";
import { scanReportsRoutes } from "./scan-reports.routes.ts";
import { createScanReportsService } from "./scan-reports.service.ts";

export function createScanReportsFeature(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const service = createScanReportsService(deps);
  return { service, routes: [scanReportsRoutes(service)] };
}
