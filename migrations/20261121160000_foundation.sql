-- Foundation schema: platform accounts, people, agreements, vetting, training, settings, audit trail.
-- Dates that end something (expires_on, ends_on) are exclusive: from that day on it no longer holds.

create table data_keys (
  id uuid primary key,
  purpose text not null,
  version integer not null,
  kek_id text not null,
  wrapped bytea not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz,
  unique (purpose, version)
);

create table vendors (
  id uuid primary key,
  name text not null,
  country char(2) not null,
  contacts jsonb not null default '[]',
  day_rate numeric(12, 2),
  currency char(3) not null default 'EUR',
  market_band_low numeric(12, 2),
  market_band_high numeric(12, 2),
  risk_tier text not null check (risk_tier in ('low', 'medium', 'high', 'critical')),
  notes text not null default '',
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create unique index vendors_name_uq on vendors (lower(name));

create table developers (
  id uuid primary key,
  vendor_id uuid references vendors (id),
  full_name text not null,
  email text not null,
  country char(2) not null,
  time_zone text not null,
  working_hours jsonb not null,
  git_usernames jsonb not null default '{}',
  ssh_public_keys jsonb not null default '[]',
  age_recipients jsonb not null default '[]',
  status text not null default 'active' check (status in ('active', 'offboarded')),
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create unique index developers_email_uq on developers (lower(email));
create index developers_vendor_idx on developers (vendor_id);

create table users (
  id uuid primary key,
  email text not null,
  display_name text not null,
  role text not null check (role in ('admin', 'security', 'manager', 'auditor', 'developer')),
  developer_id uuid references developers (id),
  password_hash text,
  totp_secret bytea,
  totp_enabled boolean not null default false,
  recovery_codes jsonb not null default '[]',
  failed_logins integer not null default 0,
  locked_until timestamptz,
  disabled_at timestamptz,
  last_login_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check ((role = 'developer') = (developer_id is not null))
);
create unique index users_email_uq on users (lower(email));
create unique index users_developer_uq on users (developer_id);

create table sessions (
  id text primary key,
  user_id uuid not null references users (id),
  csrf_token text not null,
  mfa_ok boolean not null,
  created_at timestamptz not null,
  last_seen_at timestamptz not null,
  expires_at timestamptz not null,
  ip text,
  user_agent text,
  revoked_at timestamptz
);
create index sessions_user_idx on sessions (user_id);

create table api_tokens (
  id uuid primary key,
  user_id uuid not null references users (id),
  name text not null,
  token_hash text not null unique,
  prefix text not null,
  scopes jsonb not null,
  expires_at timestamptz not null,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null
);
create index api_tokens_user_idx on api_tokens (user_id);

create table one_time_links (
  id uuid primary key,
  kind text not null check (kind in ('setup', 'invite')),
  token_hash text not null unique,
  email text,
  role text,
  developer_id uuid references developers (id),
  created_by uuid references users (id),
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null
);

create table login_failures (
  address text primary key,
  window_start timestamptz not null,
  failures integer not null
);

create table engagements (
  id uuid primary key,
  developer_id uuid not null references developers (id),
  title text not null,
  starts_on date not null,
  ends_on date,
  roles jsonb not null,
  handles_personal_data boolean not null default false,
  scope text not null default '',
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check (ends_on is null or ends_on > starts_on)
);
create index engagements_developer_idx on engagements (developer_id);

create table documents (
  id uuid primary key,
  filename text not null,
  media_type text not null,
  size_bytes integer not null,
  sha256 text not null,
  content bytea not null,
  created_by uuid references users (id),
  created_at timestamptz not null
);

create table agreements (
  id uuid primary key,
  type text not null check (type in ('nda', 'dpa', 'ip_assignment', 'sow', 'msa')),
  vendor_id uuid references vendors (id),
  developer_id uuid references developers (id),
  title text not null,
  status text not null check (status in ('draft', 'active', 'terminated')),
  signed_on date,
  effective_on date not null,
  expires_on date,
  terminated_on date,
  terms jsonb not null,
  document_id uuid references documents (id),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check ((vendor_id is null) <> (developer_id is null)),
  check (expires_on is null or expires_on > effective_on)
);
create index agreements_vendor_idx on agreements (vendor_id);
create index agreements_developer_idx on agreements (developer_id);

create table vetting (
  developer_id uuid primary key references developers (id),
  background_check jsonb,
  awareness_score integer check (awareness_score between 0 and 100),
  awareness_taken_on date,
  culture_outcome text not null default 'pending' check (culture_outcome in ('pending', 'pass', 'fail')),
  culture_notes text not null default '',
  drill_result text not null default 'not_run' check (drill_result in ('not_run', 'passed', 'failed')),
  drill_on date,
  decision text not null default 'pending' check (decision in ('pending', 'approved', 'rejected')),
  decision_reason text not null default '',
  decided_by uuid references users (id),
  decided_at timestamptz,
  updated_at timestamptz not null
);

create table vetting_references (
  id uuid primary key,
  developer_id uuid not null references developers (id),
  name text not null,
  company text not null default '',
  contact text not null default '',
  notes text not null default '',
  verified_by uuid references users (id),
  verified_at timestamptz,
  created_at timestamptz not null
);
create index vetting_references_dev_idx on vetting_references (developer_id);

create table red_flags (
  id uuid primary key,
  developer_id uuid not null references developers (id),
  kind text not null check (kind in ('vague_past_work', 'pricing_below_market', 'refused_secure_channel', 'other')),
  severity text not null check (severity in ('low', 'medium', 'high', 'critical')),
  note text not null default '',
  raised_by uuid references users (id),
  raised_at timestamptz not null,
  resolved_at timestamptz,
  resolved_by uuid references users (id),
  resolution text
);
create index red_flags_dev_idx on red_flags (developer_id);

create table training_records (
  id uuid primary key,
  developer_id uuid not null references developers (id),
  course text not null,
  completed_on date not null,
  score integer check (score between 0 and 100),
  expires_on date,
  created_at timestamptz not null,
  check (expires_on is null or expires_on > completed_on)
);
create index training_records_dev_idx on training_records (developer_id);

create table settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null
);

-- Append-only, hash-chained: chain_hash = SHA-256(prev chain_hash || leaf_hash), with
-- leaf_hash = SHA-256(0x00 || canonical JSON of the entry) as in RFC 9162 so the later Merkle log
-- can adopt the same leaves.
create table audit_events (
  seq bigint primary key,
  id uuid not null unique,
  at timestamptz not null,
  actor_type text not null,
  actor_id text,
  actor_label text not null,
  action text not null,
  target_type text,
  target_id text,
  outcome text not null,
  summary jsonb not null,
  source_ip text,
  user_agent text,
  request_id text,
  leaf_hash bytea not null,
  chain_hash bytea not null
);
create index audit_events_at_idx on audit_events (at);
create index audit_events_target_idx on audit_events (target_type, target_id);
create index audit_events_actor_idx on audit_events (actor_id);

-- The log is append-only inside the database too: updates and deletes are refused.
create function audit_events_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_events is append-only';
end;
$$;
create trigger audit_events_no_update before update or delete on audit_events
  for each row execute function audit_events_append_only();
