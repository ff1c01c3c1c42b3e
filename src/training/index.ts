import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Api } from "../http/server.ts";
import type { Store } from "../store/store.ts";
import { trainingRoutes } from "./training.routes.ts";
import { createTrainingService } from "./training.service.ts";

export type { TrainingRecord } from "./training.schemas.ts";
export type { TrainingService } from "./training.service.ts";

export function createTrainingFeature(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const training = createTrainingService(deps);
  return { training, routes: [trainingRoutes(training)] as ((api: Api) => Promise<void>)[] };
}

export type TrainingFeature = ReturnType<typeof createTrainingFeature>;
