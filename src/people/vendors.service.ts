import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { conflict, notFound } from "../core/errors.ts";
import type { Page } from "../http/pagination.ts";
import type { Store } from "../store/store.ts";
import { vendorsRepo as repo, type VendorRow } from "./vendors.repo.ts";
import type { Vendor, VendorInput, VendorPatch } from "./vendors.schemas.ts";

/** A day rate below this share of the market band's low end counts as "far below market". */
export const BELOW_MARKET_RATIO = 0.6;

export const isPricingBelowMarket = (dayRate: number | null, bandLow: number | null) =>
  dayRate !== null && bandLow !== null && bandLow > 0 && dayRate < bandLow * BELOW_MARKET_RATIO;

export const presentVendor = (r: VendorRow): Vendor => ({
  id: r.id,
  name: r.name,
  country: r.country,
  contacts: r.contacts,
  dayRate: r.day_rate,
  currency: r.currency,
  marketBandLow: r.market_band_low,
  marketBandHigh: r.market_band_high,
  riskTier: r.risk_tier,
  pricingBelowMarket: isPricingBelowMarket(r.day_rate, r.market_band_low),
  notes: r.notes,
  developerCount: Number(r.developer_count),
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

export function createVendorsService(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const { store, clock, audit } = deps;

  async function create(ctx: Ctx, input: VendorInput): Promise<Vendor> {
    const id = randomUUID();
    await store.tx(async (q) => {
      if (await repo.byName(q, input.name)) throw conflict(`A vendor named "${input.name}" already exists`);
      await repo.insert(q, id, input, clock.now());
      await audit.record(q, ctx, {
        action: "vendor.create",
        target: { type: "vendor", id },
        summary: { name: input.name, riskTier: input.riskTier },
      });
    });
    return get(id);
  }

  async function get(id: string): Promise<Vendor> {
    const r = await repo.byId(store, id);
    if (!r) throw notFound("vendor");
    return presentVendor(r);
  }

  async function update(ctx: Ctx, id: string, patch: VendorPatch): Promise<Vendor> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("vendor");
      const base = presentVendor(cur);
      const next: VendorInput = { ...base, ...patch };
      if (
        next.marketBandLow !== null &&
        next.marketBandHigh !== null &&
        next.marketBandLow > next.marketBandHigh
      ) {
        throw conflict("marketBandLow must not be above marketBandHigh");
      }
      if (patch.name && patch.name.toLowerCase() !== cur.name.toLowerCase()) {
        if (await repo.byName(q, patch.name)) throw conflict(`A vendor named "${patch.name}" already exists`);
      }
      await repo.update(q, id, next, clock.now());
      await audit.record(q, ctx, {
        action: "vendor.update",
        target: { type: "vendor", id },
        summary: { changed: Object.keys(patch) },
      });
    });
    return get(id);
  }

  async function list(f: {
    q?: string | undefined;
    riskTier?: string | undefined;
    country?: string | undefined;
    limit: number;
    offset: number;
  }): Promise<Page<Vendor>> {
    const { rows, total } = await repo.list(store, f);
    return { items: rows.map(presentVendor), total, limit: f.limit, offset: f.offset };
  }

  async function remove(ctx: Ctx, id: string): Promise<void> {
    await store.tx(async (q) => {
      const cur = await repo.byId(q, id);
      if (!cur) throw notFound("vendor");
      if (await repo.hasDependents(q, id))
        throw conflict("This vendor still has developers or agreements; remove those first");
      await repo.remove(q, id);
      await audit.record(q, ctx, {
        action: "vendor.delete",
        target: { type: "vendor", id },
        summary: { name: cur.name },
      });
    });
  }

  return { create, get, update, list, remove };
}

export type VendorsService = ReturnType<typeof createVendorsService>;
