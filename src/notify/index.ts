import type { AuditService } from "../audit/index.ts";
import { notifyRoutes } from "./notify.routes.ts";
import { createNotifyService, type NotifyDeps } from "./notify.service.ts";

export {
  type DeliveryView,
  deliveryBackoffMs,
  MAX_ATTEMPTS,
  type NotifyMessage,
  type NotifyService,
  type Severity,
} from "./notify.service.ts";

export function createNotifyFeature(deps: NotifyDeps & { audit: AuditService }) {
  const service = createNotifyService(deps);
  return { service, routes: [notifyRoutes(service, deps.audit, deps.store)] };
}
