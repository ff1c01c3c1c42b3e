import { selectPage } from "../store/page.ts";
import type { SqlClient } from "../store/store.ts";
import type { VendorInput } from "./vendors.schemas.ts";

export interface VendorRow {
  id: string;
  name: string;
  country: string;
  contacts: { name: string; email: string; role: string; phone: string }[];
  day_rate: number | null;
  currency: string;
  market_band_low: number | null;
  market_band_high: number | null;
  risk_tier: VendorInput["riskTier"];
  notes: string;
  developer_count: number;
  created_at: Date;
  updated_at: Date;
}

const columns = `v.*, (select count(*) from developers d where d.vendor_id = v.id)::int8 as developer_count`;

export const vendorsRepo = {
  async insert(q: SqlClient, id: string, v: VendorInput, at: Date) {
    await q.query(
      `insert into vendors (id, name, country, contacts, day_rate, currency, market_band_low, market_band_high,
         risk_tier, notes, created_at, updated_at) values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11)`,
      [
        id,
        v.name,
        v.country,
        JSON.stringify(v.contacts),
        v.dayRate,
        v.currency,
        v.marketBandLow,
        v.marketBandHigh,
        v.riskTier,
        v.notes,
        at,
      ],
    );
  },
  async update(q: SqlClient, id: string, v: VendorInput, at: Date) {
    await q.query(
      `update vendors set name = $2, country = $3, contacts = $4, day_rate = $5, currency = $6, market_band_low = $7,
         market_band_high = $8, risk_tier = $9, notes = $10, updated_at = $11 where id = $1`,
      [
        id,
        v.name,
        v.country,
        JSON.stringify(v.contacts),
        v.dayRate,
        v.currency,
        v.marketBandLow,
        v.marketBandHigh,
        v.riskTier,
        v.notes,
        at,
      ],
    );
  },
  async byId(q: SqlClient, id: string) {
    return (await q.query<VendorRow>(`select ${columns} from vendors v where v.id = $1`, [id])).rows[0];
  },
  async byName(q: SqlClient, name: string) {
    return (
      await q.query<VendorRow>(`select ${columns} from vendors v where lower(v.name) = lower($1)`, [name])
    ).rows[0];
  },
  async list(
    q: SqlClient,
    f: {
      q?: string | undefined;
      riskTier?: string | undefined;
      country?: string | undefined;
      limit: number;
      offset: number;
    },
  ) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (f.q) {
      params.push(`%${f.q.replace(/[%_\\]/g, "\\$&")}%`);
      where.push(`v.name ilike $${params.length}`);
    }
    if (f.riskTier) {
      params.push(f.riskTier);
      where.push(`v.risk_tier = $${params.length}`);
    }
    if (f.country) {
      params.push(f.country);
      where.push(`v.country = $${params.length}`);
    }
    const w = where.length ? `where ${where.join(" and ")}` : "";
    return selectPage<VendorRow>(q, {
      select: `select ${columns} from vendors v`,
      where: w,
      orderBy: "lower(v.name), v.id",
      params,
      limit: f.limit,
      offset: f.offset,
      count: "select count(*) from vendors v",
    });
  },
  async remove(q: SqlClient, id: string) {
    await q.query("delete from vendors where id = $1", [id]);
  },
  async hasDependents(q: SqlClient, id: string) {
    const r = await q.query<{ n: number }>(
      `select (select count(*) from developers where vendor_id = $1) + (select count(*) from agreements where vendor_id = $1) as n`,
      [id],
    );
    return Number(r.rows[0]?.n ?? 0) > 0;
  },
};
