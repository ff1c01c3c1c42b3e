import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { conflict, invalidField, notFound } from "../core/errors.ts";
import { dayOf } from "../core/schemas.ts";
import type { Page } from "../http/pagination.ts";
import type { Store } from "../store/store.ts";
import { type EngagementRow, type EngagementValues, engagementsRepo as repo } from "./engagements.repo.ts";
import type {
  Engagement,
  EngagementInput,
  EngagementListQuery,
  EngagementPatch,
} from "./engagements.schemas.ts";

export const presentEngagement = (r: EngagementRow, today: string): Engagement => ({
  id: r.id,
  developerId: r.developer_id,
  developerName: r.developer_name,
  title: r.title,
  startsOn: r.starts_on,
  endsOn: r.ends_on,
  roles: r.roles,
  handlesPersonalData: r.handles_personal_data,
  scope: r.scope,
  active: r.starts_on <= today && (r.ends_on === null || today < r.ends_on),
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

export function createEngagementsService(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const { store, clock, audit } = deps;
  const today = () => dayOf(clock.now());

  async function create(ctx: Ctx, input: EngagementInput): Promise<Engagement> {
    const id = randomUUID();
    const { developerId, ...values } = input;
    await store.tx(async (q) => {
      const status = await repo.developerStatus(q, developerId);
      if (!status) throw invalidField("body/developerId", "no developer with this id");
      if (status === "offboarded")
        throw conflict("This developer is offboarded; engagements need an active developer");
      await repo.insert(q, id, developerId, values, clock.now());
      await audit.record(q, ctx, {
        action: "engagement.create",
        target: { type: "engagement", id },
        summary: {
          developerId,
          title: values.title,
          startsOn: values.startsOn,
          endsOn: values.endsOn,
          roles: values.roles,
          handlesPersonalData: values.handlesPersonalData,
        },
      });
    });
    return get(id);
  }

  async function get(id: string): Promise<Engagement> {
    const r = await repo.byId(store, id);
    if (!r) throw notFound("engagement");
    return presentEngagement(r, today());
  }

  async function update(ctx: Ctx, id: string, patch: EngagementPatch): Promise<Engagement> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("engagement");
      const next: EngagementValues = {
        title: cur.title,
        startsOn: cur.starts_on,
        endsOn: cur.ends_on,
        roles: cur.roles,
        handlesPersonalData: cur.handles_personal_data,
        scope: cur.scope,
        ...patch,
      };
      if (next.endsOn !== null && next.endsOn <= next.startsOn) {
        throw invalidField("body/endsOn", "must be after startsOn");
      }
      await repo.update(q, id, next, clock.now());
      await audit.record(q, ctx, {
        action: "engagement.update",
        target: { type: "engagement", id },
        summary: { changed: Object.keys(patch) },
      });
    });
    return get(id);
  }

  async function list(f: EngagementListQuery & { limit: number; offset: number }): Promise<Page<Engagement>> {
    const { rows, total } = await repo.list(store, f);
    const d = today();
    return { items: rows.map((r) => presentEngagement(r, d)), total, limit: f.limit, offset: f.offset };
  }

  async function remove(ctx: Ctx, id: string): Promise<void> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("engagement");
      await repo.remove(q, id);
      await audit.record(q, ctx, {
        action: "engagement.delete",
        target: { type: "engagement", id },
        summary: { developerId: cur.developer_id, title: cur.title },
      });
    });
  }

  return { create, get, update, list, remove };
}

export type EngagementsService = ReturnType<typeof createEngagementsService>;
