-- Access reviews (issue 3): campaigns in which resource owners keep or revoke each live grant with a
-- reason; at the deadline undecided grants are revoked. Each item keeps a snapshot of the grant as it
-- was when the campaign opened, so the finished campaign stays evidence after grants, developers or
-- resources change.

-- scope: { vendorId?, resourceId?, environment? } (empty: every live grant).
-- origin: scheduled (the cadence task; period names it, e.g. 2026-Q4) or manual.
-- status: open (owners decide), completed (every item has an outcome), cancelled (nothing revoked).
create table review_campaigns (
  id uuid primary key,
  name text not null,
  description text not null default '',
  scope jsonb not null default '{}'::jsonb,
  origin text not null check (origin in ('scheduled', 'manual')),
  period text,
  status text not null check (status in ('open', 'completed', 'cancelled')),
  deadline timestamptz not null,
  created_by uuid references users (id),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  completed_at timestamptz,
  cancelled_reason text,
  reminders_sent integer not null default 0,
  last_reminded_at timestamptz
);
-- One scheduled campaign per period, however many nodes run the cadence task.
create unique index review_campaigns_period_uq on review_campaigns (period) where origin = 'scheduled';
create index review_campaigns_open_idx on review_campaigns (deadline) where status = 'open';

-- One live grant under review. decision: keep | revoke (null: undecided).
-- outcome, set when the item is settled:
--   kept                 an owner decided to keep it
--   revoked              an owner decided to revoke it; the grant was revoked (connector retries are access's)
--   revoked_at_deadline  nobody decided by the deadline; the grant was revoked
--   ended                the grant had already ended on its own (expiry, gate, another revocation)
create table review_items (
  id uuid primary key,
  campaign_id uuid not null references review_campaigns (id),
  grant_id uuid not null references access_grants (id),
  developer_id uuid not null,
  developer_name text not null,
  developer_email text not null,
  vendor_id uuid,
  vendor_name text,
  resource_id uuid not null,
  resource_name text not null,
  resource_kind text not null,
  environment text not null,
  data_class text not null,
  level text not null,
  grant_starts_at timestamptz not null,
  grant_ends_at timestamptz not null,
  break_glass boolean not null default false,
  decision text check (decision in ('keep', 'revoke')),
  reason text,
  decided_by uuid references users (id),
  decided_by_label text,
  decided_at timestamptz,
  outcome text check (outcome in ('kept', 'revoked', 'revoked_at_deadline', 'ended')),
  outcome_detail text,
  outcome_at timestamptz,
  unique (campaign_id, grant_id)
);
create index review_items_pending_idx on review_items (campaign_id) where outcome is null;
create index review_items_grant_idx on review_items (grant_id);
