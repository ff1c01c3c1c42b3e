import type { SqlClient } from "../store/store.ts";
import type { CampaignScope, CampaignStatus, ItemOutcome, ReviewDecision } from "./reviews.schemas.ts";

export interface CampaignRow {
  id: string;
  name: string;
  description: string;
  scope: CampaignScope;
  origin: "scheduled" | "manual";
  period: string | null;
  status: CampaignStatus;
  deadline: Date;
  created_by: string | null;
  created_by_label: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
  cancelled_reason: string | null;
  reminders_sent: number;
  last_reminded_at: Date | null;
  scope_vendor_name: string | null;
  scope_resource_name: string | null;
}

export interface ItemRow {
  id: string;
  campaign_id: string;
  grant_id: string;
  developer_id: string;
  developer_name: string;
  developer_email: string;
  vendor_id: string | null;
  vendor_name: string | null;
  resource_id: string;
  resource_name: string;
  resource_kind: string;
  environment: string;
  data_class: string;
  level: string;
  grant_starts_at: Date;
  grant_ends_at: Date;
  break_glass: boolean;
  decision: ReviewDecision | null;
  reason: string | null;
  decided_by: string | null;
  decided_by_label: string | null;
  decided_at: Date | null;
  outcome: ItemOutcome | null;
  outcome_detail: string | null;
  outcome_at: Date | null;
  /** The resource's current owners (user ids): who may decide the item. */
  owners: string[];
}

export interface Counts {
  total: number;
  undecided: number;
  keep: number;
  revoke: number;
  revokedAtDeadline: number;
  ended: number;
}

export type NewItem = Omit<
  ItemRow,
  | "decision"
  | "reason"
  | "decided_by"
  | "decided_by_label"
  | "decided_at"
  | "outcome"
  | "outcome_detail"
  | "outcome_at"
  | "owners"
>;

const campaignColumns = `c.*, u.email as created_by_label, v.name as scope_vendor_name, r.name as scope_resource_name`;
const campaignFrom = `review_campaigns c left join users u on u.id = c.created_by
  left join vendors v on v.id = (c.scope->>'vendorId')::uuid
  left join access_resources r on r.id = (c.scope->>'resourceId')::uuid`;
const itemColumns = `i.*, coalesce(r.owners, '[]'::jsonb) as owners`;
const itemFrom = "review_items i left join access_resources r on r.id = i.resource_id";

export const reviewsRepo = {
  async insertCampaign(
    q: SqlClient,
    c: {
      id: string;
      name: string;
      description: string;
      scope: CampaignScope;
      origin: "scheduled" | "manual";
      period: string | null;
      deadline: Date;
      createdBy: string | null;
      at: Date;
    },
  ): Promise<boolean> {
    // A scheduled campaign whose period exists already is not an error: another node (or run) won.
    const r = await q.query(
      `insert into review_campaigns (id, name, description, scope, origin, period, status, deadline, created_by,
         created_at, updated_at)
       values ($1,$2,$3,$4,$5,$6,'open',$7,$8,$9,$9)
       on conflict (period) where origin = 'scheduled' do nothing
       returning id`,
      [
        c.id,
        c.name,
        c.description,
        JSON.stringify(c.scope),
        c.origin,
        c.period,
        c.deadline,
        c.createdBy,
        c.at,
      ],
    );
    return r.rows.length === 1;
  },

  async insertItems(q: SqlClient, campaignId: string, items: (NewItem & { id: string })[]) {
    if (items.length === 0) return;
    // One statement per batch: unnest over column arrays keeps the parameter count fixed.
    const cols = {
      id: [] as string[],
      grant: [] as string[],
      dev: [] as string[],
      devName: [] as string[],
      devEmail: [] as string[],
      vendor: [] as (string | null)[],
      vendorName: [] as (string | null)[],
      res: [] as string[],
      resName: [] as string[],
      kind: [] as string[],
      env: [] as string[],
      dataClass: [] as string[],
      level: [] as string[],
      starts: [] as string[],
      ends: [] as string[],
      breakGlass: [] as boolean[],
    };
    for (const i of items) {
      cols.id.push(i.id);
      cols.grant.push(i.grant_id);
      cols.dev.push(i.developer_id);
      cols.devName.push(i.developer_name);
      cols.devEmail.push(i.developer_email);
      cols.vendor.push(i.vendor_id);
      cols.vendorName.push(i.vendor_name);
      cols.res.push(i.resource_id);
      cols.resName.push(i.resource_name);
      cols.kind.push(i.resource_kind);
      cols.env.push(i.environment);
      cols.dataClass.push(i.data_class);
      cols.level.push(i.level);
      cols.starts.push(i.grant_starts_at.toISOString());
      cols.ends.push(i.grant_ends_at.toISOString());
      cols.breakGlass.push(i.break_glass);
    }
    await q.query(
      `insert into review_items (id, campaign_id, grant_id, developer_id, developer_name, developer_email, vendor_id,
         vendor_name, resource_id, resource_name, resource_kind, environment, data_class, level, grant_starts_at,
         grant_ends_at, break_glass)
       select t.id, $1, t.grant_id, t.dev, t.dev_name, t.dev_email, t.vendor, t.vendor_name, t.res, t.res_name,
         t.kind, t.env, t.data_class, t.level, t.starts, t.ends, t.break_glass
       from unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::uuid[], $8::text[], $9::uuid[],
         $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::timestamptz[], $16::timestamptz[],
         $17::boolean[])
         as t(id, grant_id, dev, dev_name, dev_email, vendor, vendor_name, res, res_name, kind, env, data_class,
           level, starts, ends, break_glass)`,
      [
        campaignId,
        cols.id,
        cols.grant,
        cols.dev,
        cols.devName,
        cols.devEmail,
        cols.vendor,
        cols.vendorName,
        cols.res,
        cols.resName,
        cols.kind,
        cols.env,
        cols.dataClass,
        cols.level,
        cols.starts,
        cols.ends,
        cols.breakGlass,
      ],
    );
  },

  async campaign(q: SqlClient, id: string, opts: { forUpdate?: boolean } = {}) {
    if (opts.forUpdate) await q.query("select 1 from review_campaigns where id = $1 for update", [id]);
    return (
      await q.query<CampaignRow>(`select ${campaignColumns} from ${campaignFrom} where c.id = $1`, [id])
    ).rows[0];
  },

  async listCampaigns(
    q: SqlClient,
    f: { status?: CampaignStatus | undefined; limit: number; offset: number },
  ) {
    const params: unknown[] = [];
    let where = "";
    if (f.status) {
      params.push(f.status);
      where = `where c.status = $${params.length}`;
    }
    const total = Number(
      (await q.query<{ n: number }>(`select count(*)::int8 as n from review_campaigns c ${where}`, params))
        .rows[0]?.n ?? 0,
    );
    params.push(f.limit, f.offset);
    const rows = (
      await q.query<CampaignRow>(
        `select ${campaignColumns} from ${campaignFrom} ${where}
         order by (c.status = 'open') desc, c.deadline desc, c.created_at desc
         limit $${params.length - 1} offset $${params.length}`,
        params,
      )
    ).rows;
    return { rows, total };
  },

  /** Outcome counts per campaign, and how many items the given user may decide (owner or lead). */
  async counts(q: SqlClient, ids: string[], reviewer: { userId: string | null; lead: boolean }) {
    const rows = (
      await q.query<{
        campaign_id: string;
        total: number;
        undecided: number;
        keep: number;
        revoke: number;
        deadline: number;
        ended: number;
        mine: number;
      }>(
        `select i.campaign_id,
           count(*)::int8 as total,
           count(*) filter (where i.decision is null and i.outcome is null)::int8 as undecided,
           count(*) filter (where i.decision = 'keep')::int8 as keep,
           count(*) filter (where i.decision = 'revoke')::int8 as revoke,
           count(*) filter (where i.outcome = 'revoked_at_deadline')::int8 as deadline,
           count(*) filter (where i.outcome = 'ended' and i.decision is null)::int8 as ended,
           count(*) filter (where i.outcome is null and i.decision is distinct from 'revoke'
             and ($2 or coalesce(r.owners, '[]'::jsonb) ? $3))::int8 as mine
         from ${itemFrom}
         where i.campaign_id = any($1::uuid[])
         group by i.campaign_id`,
        [ids, reviewer.lead, reviewer.userId ?? ""],
      )
    ).rows;
    const out = new Map<string, Counts & { mine: number }>();
    for (const r of rows) {
      out.set(r.campaign_id, {
        total: Number(r.total),
        undecided: Number(r.undecided),
        keep: Number(r.keep),
        revoke: Number(r.revoke),
        revokedAtDeadline: Number(r.deadline),
        ended: Number(r.ended),
        mine: Number(r.mine),
      });
    }
    return out;
  },

  async items(q: SqlClient, campaignId: string) {
    return (
      await q.query<ItemRow>(
        `select ${itemColumns} from ${itemFrom} where i.campaign_id = $1
         order by i.resource_name, i.developer_name, i.id`,
        [campaignId],
      )
    ).rows;
  },

  async item(q: SqlClient, campaignId: string, itemId: string, opts: { forUpdate?: boolean } = {}) {
    if (opts.forUpdate) await q.query("select 1 from review_items where id = $1 for update", [itemId]);
    return (
      await q.query<ItemRow>(
        `select ${itemColumns} from ${itemFrom} where i.id = $1 and i.campaign_id = $2`,
        [itemId, campaignId],
      )
    ).rows[0];
  },

  async setDecision(
    q: SqlClient,
    itemId: string,
    d: { decision: ReviewDecision; reason: string; by: string | null; byLabel: string; at: Date },
  ) {
    await q.query(
      `update review_items set decision = $2, reason = $3, decided_by = $4, decided_by_label = $5, decided_at = $6
       where id = $1`,
      [itemId, d.decision, d.reason, d.by, d.byLabel, d.at],
    );
  },

  async setOutcome(q: SqlClient, itemId: string, outcome: ItemOutcome, detail: string | null, at: Date) {
    await q.query(
      "update review_items set outcome = $2, outcome_detail = $3, outcome_at = $4 where id = $1 and outcome is null",
      [itemId, outcome, detail, at],
    );
  },

  /** Items that still need a revocation: decided "revoke", or (once the deadline passed) undecided. */
  async toRevoke(q: SqlClient, campaignId: string, includeUndecided: boolean) {
    return (
      await q.query<ItemRow>(
        `select ${itemColumns} from ${itemFrom}
         where i.campaign_id = $1 and i.outcome is null
           and (i.decision = 'revoke' or ($2 and i.decision is null))
         order by i.id`,
        [campaignId, includeUndecided],
      )
    ).rows;
  },

  /** Whether every item has a decision and every revocation was carried out. */
  async settled(q: SqlClient, campaignId: string): Promise<boolean> {
    const r = await q.query(
      `select 1 from review_items where campaign_id = $1 and outcome is null
         and (decision is null or decision = 'revoke') limit 1`,
      [campaignId],
    );
    return r.rows.length === 0;
  },

  async complete(q: SqlClient, campaignId: string, at: Date) {
    await q.query(
      "update review_items set outcome = 'kept', outcome_at = $2 where campaign_id = $1 and decision = 'keep' and outcome is null",
      [campaignId, at],
    );
    await q.query(
      "update review_campaigns set status = 'completed', completed_at = $2, updated_at = $2 where id = $1 and status = 'open'",
      [campaignId, at],
    );
  },

  async cancel(q: SqlClient, campaignId: string, reason: string, at: Date) {
    await q.query(
      "update review_campaigns set status = 'cancelled', cancelled_reason = $2, completed_at = $3, updated_at = $3 where id = $1",
      [campaignId, reason, at],
    );
  },

  async openIds(q: SqlClient, opts: { dueBy?: Date } = {}) {
    const params: unknown[] = [];
    let where = "status = 'open'";
    if (opts.dueBy) {
      params.push(opts.dueBy);
      where += " and deadline <= $1";
    }
    return (
      await q.query<{ id: string }>(
        `select id from review_campaigns where ${where} order by deadline`,
        params,
      )
    ).rows.map((r) => r.id);
  },

  /** Campaigns with items stuck between a "revoke" decision and its revocation (a crash in between). */
  async withUnappliedRevocations(q: SqlClient, decidedBefore: Date) {
    return (
      await q.query<{ campaign_id: string }>(
        `select distinct i.campaign_id from review_items i join review_campaigns c on c.id = i.campaign_id
         where c.status = 'open' and i.decision = 'revoke' and i.outcome is null and i.decided_at <= $1`,
        [decidedBefore],
      )
    ).rows.map((r) => r.campaign_id);
  },

  /** Per owner: how many undecided items of the campaign wait for them. */
  async pendingByOwner(q: SqlClient, campaignId: string) {
    return (
      await q.query<{ owner: string; n: number }>(
        `select o.owner, count(*)::int8 as n
         from review_items i join access_resources r on r.id = i.resource_id
           cross join lateral jsonb_array_elements_text(r.owners) as o(owner)
         where i.campaign_id = $1 and i.decision is null and i.outcome is null
         group by o.owner order by o.owner`,
        [campaignId],
      )
    ).rows.map((r) => ({ userId: r.owner, pending: Number(r.n) }));
  },

  async markReminded(q: SqlClient, campaignId: string, at: Date) {
    await q.query(
      "update review_campaigns set reminders_sent = reminders_sent + 1, last_reminded_at = $2, updated_at = $2 where id = $1",
      [campaignId, at],
    );
  },

  /** The facts a snapshot needs that grants do not carry: e-mail and vendor. */
  async developerFacts(q: SqlClient, ids: string[]) {
    const rows = (
      await q.query<{ id: string; email: string; vendor_id: string | null; vendor_name: string | null }>(
        `select d.id, d.email, d.vendor_id, v.name as vendor_name
         from developers d left join vendors v on v.id = d.vendor_id where d.id = any($1::uuid[])`,
        [ids],
      )
    ).rows;
    return new Map(rows.map((r) => [r.id, r]));
  },

  async vendorExists(q: SqlClient, id: string) {
    return (await q.query("select 1 from vendors where id = $1", [id])).rows.length > 0;
  },
};
