import { auditRoutes, createAuditService } from "./audit/index.ts";
import { authRoutes, createAuthService } from "./auth/index.ts";
import type { Clock } from "./core/clock.ts";
import type { Config } from "./core/config.ts";
import type { Logger } from "./core/logger.ts";
import type { Sealer } from "./crypto/keyring.ts";
import { createGateFeature } from "./gate/index.ts";
import type { Api } from "./http/server.ts";
import { createPeopleFeature } from "./people/index.ts";
import type { Store } from "./store/store.ts";

export interface AppDeps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  sealer: Sealer;
}

/**
 * The composition root: builds every service from its explicit dependencies. The server, the CLI's
 * offline commands and the tests all call this; nothing else wires features together.
 */
export function createApp(deps: AppDeps) {
  const { store, clock, config, sealer } = deps;
  const audit = createAuditService({ store, clock });
  const people = createPeopleFeature({ store, clock, audit });
  const auth = createAuthService({
    store,
    clock,
    config,
    audit,
    sealer,
    developerEmail: people.developerEmail,
  });
  const gate = createGateFeature({ store, clock, audit });
  const routes: ((api: Api) => Promise<void>)[] = [
    authRoutes(auth),
    auditRoutes(audit),
    ...people.routes,
    ...gate.routes,
  ];
  return { deps, audit, auth, people, gate: gate.service, routes };
}

export type App = ReturnType<typeof createApp>;
