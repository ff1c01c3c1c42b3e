import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Api } from "../http/server.ts";
import type { Store } from "../store/store.ts";
import { developersRoutes } from "./developers.routes.ts";
import { createDevelopersService } from "./developers.service.ts";
import { engagementsRoutes } from "./engagements.routes.ts";
import { createEngagementsService } from "./engagements.service.ts";
import { vendorsRoutes } from "./vendors.routes.ts";
import { createVendorsService } from "./vendors.service.ts";

export { parseAgeRecipient, parseSshPublicKey, type SshPublicKey } from "./developers.keys.ts";
export type { Developer } from "./developers.schemas.ts";
export type { DevelopersService } from "./developers.service.ts";
export type { Engagement } from "./engagements.schemas.ts";
export { engagementRoles } from "./engagements.schemas.ts";
export type { Vendor } from "./vendors.schemas.ts";
export { isPricingBelowMarket } from "./vendors.service.ts";

export function createPeopleFeature(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const vendors = createVendorsService(deps);
  const developers = createDevelopersService(deps);
  const engagements = createEngagementsService(deps);
  return {
    vendors,
    developers,
    engagements,
    /** Used by the auth feature for developer invites. */
    developerEmail: async (id: string): Promise<string | undefined> => (await developers.identity(id))?.email,
    routes: [vendorsRoutes(vendors), developersRoutes(developers), engagementsRoutes(engagements)] as ((
      api: Api,
    ) => Promise<void>)[],
  };
}

export type PeopleFeature = ReturnType<typeof createPeopleFeature>;
