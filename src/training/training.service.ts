import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { forbidden, invalidField, notFound } from "../core/errors.ts";
import { dayOf } from "../core/schemas.ts";
import type { Store } from "../store/store.ts";
import { trainingRepo as repo, type TrainingRow } from "./training.repo.ts";
import type { TrainingInput, TrainingRecord } from "./training.schemas.ts";

export const presentTraining = (r: TrainingRow, today: string): TrainingRecord => ({
  id: r.id,
  developerId: r.developer_id,
  course: r.course,
  completedOn: r.completed_on,
  score: r.score,
  expiresOn: r.expires_on,
  state: r.expires_on !== null && r.expires_on <= today ? "expired" : "current",
  createdAt: new Date(r.created_at).toISOString(),
});

export function createTrainingService(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const { store, clock, audit } = deps;
  const today = () => dayOf(clock.now());

  async function record(ctx: Ctx, developerId: string, input: TrainingInput): Promise<TrainingRecord> {
    if (input.completedOn > today()) throw invalidField("body/completedOn", "must not be in the future");
    const id = randomUUID();
    await store.tx(async (q) => {
      if (!(await repo.developerExists(q, developerId))) throw notFound("developer");
      await repo.insert(q, id, developerId, input, clock.now());
      await audit.record(q, ctx, {
        action: "training.record",
        target: { type: "developer", id: developerId },
        summary: { trainingId: id, ...input },
      });
    });
    return presentTraining((await repo.byId(store, id))!, today());
  }

  async function ofDeveloper(developerId: string, course?: string): Promise<TrainingRecord[]> {
    if (!(await repo.developerExists(store, developerId))) throw notFound("developer");
    const d = today();
    return (await repo.ofDeveloper(store, developerId, course)).map((r) => presentTraining(r, d));
  }

  async function remove(ctx: Ctx, id: string): Promise<void> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("training record");
      await repo.remove(q, id);
      await audit.record(q, ctx, {
        action: "training.delete",
        target: { type: "developer", id: cur.developer_id },
        summary: { trainingId: id, course: cur.course, completedOn: cur.completed_on },
      });
    });
  }

  async function mine(ctx: Ctx): Promise<TrainingRecord[]> {
    if (ctx.actor.role !== "developer" || !ctx.actor.developerId) {
      throw forbidden("Only developer accounts have training records");
    }
    return ofDeveloper(ctx.actor.developerId);
  }

  return { record, ofDeveloper, remove, mine };
}

export type TrainingService = ReturnType<typeof createTrainingService>;
