import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { conflict, forbidden, invalidField, notFound } from "../core/errors.ts";
import { dayOf } from "../core/schemas.ts";
import { isPricingBelowMarket } from "../people/index.ts";
import type { SqlClient, Store } from "../store/store.ts";
import {
  type DeveloperFacts,
  type RedFlagRow,
  type ReferenceRow,
  vettingRepo as repo,
  type VettingRow,
  type VettingValues,
} from "./vetting.repo.ts";
import type {
  DecisionInput,
  RedFlag,
  RedFlagInput,
  Reference,
  ReferenceInput,
  Vetting,
  VettingPatch,
} from "./vetting.schemas.ts";

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const person = (id: string | null, name: string | null) => (id ? { id, name: name ?? "" } : null);

const presentReference = (r: ReferenceRow): Reference => ({
  id: r.id,
  name: r.name,
  company: r.company,
  contact: r.contact,
  notes: r.notes,
  verified: r.verified_at !== null,
  verifiedBy: person(r.verified_by, r.verified_by_name),
  verifiedAt: iso(r.verified_at),
  createdAt: new Date(r.created_at).toISOString(),
});

const presentRedFlag = (f: RedFlagRow): RedFlag => ({
  id: f.id,
  kind: f.kind,
  severity: f.severity,
  note: f.note,
  raisedBy: person(f.raised_by, f.raised_by_name),
  raisedAt: new Date(f.raised_at).toISOString(),
  resolved: f.resolved_at !== null,
  resolvedBy: person(f.resolved_by, f.resolved_by_name),
  resolvedAt: iso(f.resolved_at),
  resolution: f.resolution,
});

const valuesOf = (v: VettingRow | undefined): VettingValues => ({
  backgroundCheck: v?.background_check ?? null,
  awareness:
    v?.awareness_score != null && v.awareness_taken_on
      ? { score: v.awareness_score, takenOn: v.awareness_taken_on }
      : null,
  culture: { outcome: v?.culture_outcome ?? "pending", notes: v?.culture_notes ?? "" },
  drill: { result: v?.drill_result ?? "not_run", on: v?.drill_on ?? null },
});

/** The suggestion for a developer whose vendor's day rate sits far below the market band. */
function pricingSuggestion(dev: DeveloperFacts, flags: RedFlagRow[]) {
  if (!isPricingBelowMarket(dev.day_rate, dev.market_band_low)) return [];
  if (flags.some((f) => f.kind === "pricing_below_market")) return [];
  return [
    {
      kind: "pricing_below_market" as const,
      severity: "medium" as const,
      reason: `${dev.vendor_name}'s day rate (${dev.day_rate} ${dev.currency}) is far below the market band's low end (${dev.market_band_low} ${dev.currency})`,
    },
  ];
}

export function createVettingService(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const { store, clock, audit } = deps;
  const today = () => dayOf(clock.now());

  async function developerOr404(q: SqlClient, id: string) {
    const dev = await repo.developer(q, id);
    if (!dev) throw notFound("developer");
    return dev;
  }

  /**
   * Nobody vets themselves: not a developer account (whatever record it belongs to), and not a staff
   * account that shares the developer's email (the same person holding two accounts).
   */
  async function assertNotSelf(q: SqlClient, ctx: Ctx, dev: DeveloperFacts, what: string) {
    const { actor } = ctx;
    if (actor.kind !== "user" || !actor.userId) throw forbidden(`Only a signed-in staff member can ${what}`);
    if (actor.role === "developer" || actor.developerId)
      throw forbidden(`A developer account cannot ${what}`);
    const email = await repo.userEmail(q, actor.userId);
    if (!email || email.toLowerCase() === dev.email.toLowerCase()) {
      throw forbidden(`You cannot ${what} for yourself; ask another security lead`);
    }
  }

  function notInFuture(field: string, day: string | null | undefined) {
    if (day && day > today()) throw invalidField(`body/${field}`, "must not be in the future");
  }

  async function get(developerId: string, q: SqlClient = store): Promise<Vetting> {
    const dev = await developerOr404(q, developerId);
    const v = await repo.get(q, developerId);
    const flags = await repo.redFlags(q, developerId);
    const values = valuesOf(v);
    return {
      developerId,
      ...values,
      references: (await repo.references(q, developerId)).map(presentReference),
      redFlags: flags.map(presentRedFlag),
      suggestedRedFlags: pricingSuggestion(dev, flags),
      decision: {
        decision: v?.decision ?? "pending",
        reason: v?.decision_reason ?? "",
        decidedBy: person(v?.decided_by ?? null, v?.decided_by_name ?? null),
        decidedAt: iso(v?.decided_at ?? null),
      },
      updatedAt: iso(v?.updated_at ?? null),
    };
  }

  async function update(ctx: Ctx, developerId: string, patch: VettingPatch): Promise<Vetting> {
    notInFuture("backgroundCheck/completedOn", patch.backgroundCheck?.completedOn);
    notInFuture("awareness/takenOn", patch.awareness?.takenOn);
    notInFuture("drill/on", patch.drill?.on);
    await store.tx(async (q) => {
      await developerOr404(q, developerId);
      await repo.ensure(q, developerId, clock.now());
      const next: VettingValues = { ...valuesOf(await repo.get(q, developerId)), ...patch };
      await repo.update(q, developerId, next, clock.now());
      await audit.record(q, ctx, {
        action: "vetting.update",
        target: { type: "developer", id: developerId },
        summary: {
          changed: Object.keys(patch),
          ...(patch.backgroundCheck !== undefined
            ? { backgroundCheck: patch.backgroundCheck?.result ?? null }
            : {}),
          ...(patch.awareness !== undefined ? { awarenessScore: patch.awareness?.score ?? null } : {}),
          ...(patch.culture ? { culture: patch.culture.outcome } : {}),
          ...(patch.drill ? { drill: patch.drill.result } : {}),
        },
      });
    });
    return get(developerId);
  }

  async function addReference(ctx: Ctx, developerId: string, input: ReferenceInput): Promise<Reference> {
    const id = randomUUID();
    await store.tx(async (q) => {
      await developerOr404(q, developerId);
      await repo.insertReference(q, id, developerId, input, clock.now());
      await audit.record(q, ctx, {
        action: "vetting.reference_add",
        target: { type: "developer", id: developerId },
        summary: { referenceId: id, name: input.name, company: input.company },
      });
    });
    return presentReference((await repo.reference(store, developerId, id))!);
  }

  /** Records that the acting staff member checked this reference, and when. */
  async function verifyReference(
    ctx: Ctx,
    developerId: string,
    refId: string,
    notes: string | undefined,
  ): Promise<Reference> {
    await store.tx(async (q) => {
      const dev = await developerOr404(q, developerId);
      const ref = await repo.reference(q, developerId, refId);
      if (!ref) throw notFound("reference");
      if (ref.verified_at) throw conflict("This reference is already verified");
      await assertNotSelf(q, ctx, dev, "verify references");
      await repo.verifyReference(q, refId, ctx.actor.userId!, clock.now(), notes);
      await audit.record(q, ctx, {
        action: "vetting.reference_verify",
        target: { type: "developer", id: developerId },
        summary: { referenceId: refId, name: ref.name },
      });
    });
    return presentReference((await repo.reference(store, developerId, refId))!);
  }

  async function raiseRedFlag(ctx: Ctx, developerId: string, input: RedFlagInput): Promise<RedFlag> {
    const id = randomUUID();
    await store.tx(async (q) => {
      await developerOr404(q, developerId);
      await repo.insertRedFlag(q, id, developerId, input, ctx.actor.userId ?? null, clock.now());
      await audit.record(q, ctx, {
        action: "vetting.red_flag_raise",
        target: { type: "developer", id: developerId },
        summary: { redFlagId: id, kind: input.kind, severity: input.severity },
      });
    });
    return presentRedFlag((await repo.redFlag(store, developerId, id))!);
  }

  async function resolveRedFlag(
    ctx: Ctx,
    developerId: string,
    flagId: string,
    resolution: string,
  ): Promise<RedFlag> {
    await store.tx(async (q) => {
      const dev = await developerOr404(q, developerId);
      const flag = await repo.redFlag(q, developerId, flagId);
      if (!flag) throw notFound("red flag");
      if (flag.resolved_at) throw conflict("This red flag is already resolved");
      await assertNotSelf(q, ctx, dev, "resolve red flags");
      await repo.resolveRedFlag(q, flagId, ctx.actor.userId ?? null, clock.now(), resolution);
      await audit.record(q, ctx, {
        action: "vetting.red_flag_resolve",
        target: { type: "developer", id: developerId },
        summary: { redFlagId: flagId, kind: flag.kind, severity: flag.severity },
      });
    });
    return presentRedFlag((await repo.redFlag(store, developerId, flagId))!);
  }

  /** The vetting decision, by a staff member who is not the developer. */
  async function decide(ctx: Ctx, developerId: string, input: DecisionInput): Promise<Vetting> {
    await store.tx(async (q) => {
      const dev = await developerOr404(q, developerId);
      await assertNotSelf(q, ctx, dev, "decide vetting");
      if (input.decision === "approved" && dev.status === "offboarded") {
        throw conflict("This developer is offboarded; approve only active developers");
      }
      await repo.ensure(q, developerId, clock.now());
      const before = await repo.get(q, developerId);
      await repo.decide(q, developerId, {
        decision: input.decision,
        reason: input.reason,
        by: ctx.actor.userId!,
        at: clock.now(),
      });
      await audit.record(q, ctx, {
        action: "vetting.decide",
        target: { type: "developer", id: developerId },
        summary: { from: before?.decision ?? "pending", to: input.decision, reason: input.reason },
      });
    });
    return get(developerId);
  }

  return { get, update, addReference, verifyReference, raiseRedFlag, resolveRedFlag, decide };
}

export type VettingService = ReturnType<typeof createVettingService>;
