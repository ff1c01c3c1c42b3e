import { keysRoutes } from "./keys.routes.ts";
import { createKeysService, type KeysDeps } from "./keys.service.ts";

export { type KeySource, type KeysService, REENCRYPT_TASK, ROTATION_GRACE_MS } from "./keys.service.ts";

export function createKeysFeature(deps: KeysDeps) {
  const service = createKeysService(deps);
  return { service, routes: [keysRoutes(service)] };
}
