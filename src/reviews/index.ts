import type { GrantsService } from "../access/index.ts";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/logger.ts";
import type { Api } from "../http/server.ts";
import type { NotifyService } from "../notify/index.ts";
import type { Scheduler } from "../scheduler/index.ts";
import type { Store } from "../store/store.ts";
import { createHintsService } from "./hints.service.ts";
import { reviewsRoutes } from "./reviews.routes.ts";
import { createReviewsService } from "./reviews.service.ts";

export type { HintsService } from "./hints.service.ts";
export { campaignCsv, campaignReportHtml, csvCell } from "./reviews.export.ts";
export type { Campaign, CampaignDetail, ReviewItem } from "./reviews.schemas.ts";
export type { ReviewsService } from "./reviews.service.ts";

export interface ReviewsFeatureDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  config: Config;
  notify: Pick<NotifyService, "enqueue">;
  scheduler: Scheduler;
  grants: Pick<GrantsService, "listLive" | "revoke" | "check">;
}

/**
 * Access reviews: campaigns (scheduled on a calendar cadence or opened by hand) in which owners keep
 * or revoke live grants; reminders; revocation at the deadline; CSV and printable evidence.
 */
export function createReviewsFeature(deps: ReviewsFeatureDeps) {
  const service = createReviewsService({ ...deps, config: deps.config.reviews });
  deps.scheduler.register({
    name: "reviews.deadline",
    description: "Revokes grants nobody decided on when an access review's deadline passes",
    everyMs: 60_000,
    run: async ({ at }) => service.sweepDeadlines(at),
  });
  deps.scheduler.register({
    name: "reviews.remind",
    description: "Reminds resource owners of grants they still have to review",
    everyMs: 3600_000,
    run: async ({ at }) => service.remind(at),
  });
  if (deps.config.reviews.cadenceMonths > 0) {
    deps.scheduler.register({
      name: "reviews.schedule",
      description: `Opens the scheduled access review every ${deps.config.reviews.cadenceMonths} month(s)`,
      everyMs: 3600_000,
      run: async ({ at }) => ({ opened: (await service.openScheduled(at)) ? 1 : 0 }),
    });
  }
  const hints = createHintsService(deps);
  return {
    service,
    hints,
    routes: [reviewsRoutes(service, hints, deps.clock)] as ((api: Api) => Promise<void>)[],
  };
}

export type ReviewsFeature = ReturnType<typeof createReviewsFeature>;
