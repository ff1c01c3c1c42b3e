import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Api } from "../http/server.ts";
import type { Store } from "../store/store.ts";
import { vendorsRoutes } from "./vendors.routes.ts";
import { createVendorsService } from "./vendors.service.ts";

export type { Vendor } from "./vendors.schemas.ts";
export { isPricingBelowMarket } from "./vendors.service.ts";

export function createPeopleFeature(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const vendors = createVendorsService(deps);
  return {
    vendors,
    /** Used by the auth feature for developer invites. */
    developerEmail: async (id: string): Promise<string | undefined> =>
      (await deps.store.query<{ email: string }>("select email from developers where id = $1", [id])).rows[0]
        ?.email,
    routes: [vendorsRoutes(vendors)] as ((api: Api) => Promise<void>)[],
  };
}

export type PeopleFeature = ReturnType<typeof createPeopleFeature>;
