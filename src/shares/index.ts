import type { Api } from "../http/server.ts";
import type { Scheduler } from "../scheduler/index.ts";
import { sharesRoutes } from "./shares.routes.ts";
import { createSharesService, type SharesDeps } from "./shares.service.ts";
import { createShareStorage } from "./shares.storage.ts";

export { payloadBytes, type ShareKey, shareKeysOf } from "./shares.checks.ts";
export type { InboxShare, Share, ShareDetail, ShareInput } from "./shares.schemas.ts";
export type { SharesService } from "./shares.service.ts";

/** How often the purge task looks for expired shares (and stray files). */
export const PURGE_EVERY_MS = 5 * 60_000;

export function createSharesFeature(
  deps: Omit<SharesDeps, "storage"> & { scheduler: Pick<Scheduler, "register"> },
) {
  const storage = createShareStorage(deps.config.shares.dir);
  const service = createSharesService({ ...deps, storage });
  deps.scheduler.register({
    name: "shares.purge",
    description: "Deletes the ciphertext of expired shares, abandoned uploads and stray files",
    everyMs: PURGE_EVERY_MS,
    run: ({ at }) => service.purge(at),
  });
  return { service, storage, routes: [sharesRoutes(service)] as ((api: Api) => Promise<void>)[] };
}
