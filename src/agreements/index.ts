import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { Api } from "../http/server.ts";
import type { Store } from "../store/store.ts";
import { agreementsRoutes } from "./agreements.routes.ts";
import { createAgreementsService } from "./agreements.service.ts";

export {
  type Agreement,
  type AgreementState,
  type AgreementType,
  agreementTypes,
  type Terms,
} from "./agreements.schemas.ts";
export type { AgreementsService } from "./agreements.service.ts";
export { type AgreementDates, agreementEndsOn, agreementStateOn } from "./agreements.state.ts";

export function createAgreementsFeature(deps: {
  store: Store;
  clock: Clock;
  audit: AuditService;
  sealer: Sealer;
}) {
  const agreements = createAgreementsService(deps);
  return { agreements, routes: [agreementsRoutes(agreements)] as ((api: Api) => Promise<void>)[] };
}

export type AgreementsFeature = ReturnType<typeof createAgreementsFeature>;
