-- Alerts raised by the detection rules, their people-side workflow, and SIEM forwarding.

-- One row per problem: repeats of the same rule and group (the dedup key) are counted into the open
-- alert until someone resolves it; the next repeat after that opens a new alert.
create table alerts (
  id uuid primary key,
  rule_id text not null,
  title text not null,
  severity text not null check (severity in ('informational', 'low', 'medium', 'high', 'critical')),
  status text not null default 'open' check (status in ('open', 'acknowledged', 'resolved')),
  dedup_key text not null,
  group_key text not null,
  summary text not null,
  details jsonb not null default '{}'::jsonb,
  -- The developer the alert is about, when the rule knows (no foreign key: events outlive records).
  developer_id uuid,
  count bigint not null check (count >= 1),
  first_seen timestamptz not null,
  last_seen timestamptz not null,
  assignee_id uuid references users (id),
  created_at timestamptz not null,
  updated_at timestamptz not null,
  resolved_at timestamptz
);
create unique index alerts_dedup_open_uq on alerts (dedup_key) where status <> 'resolved';
create index alerts_last_seen_idx on alerts (last_seen desc, id);
create index alerts_status_idx on alerts (status, last_seen desc);
create index alerts_developer_idx on alerts (developer_id, last_seen desc) where developer_id is not null;
create index alerts_created_idx on alerts (created_at);

-- The events behind an alert (the log's event ids), newest kept; `label` is a one-line description so
-- the alert page reads without loading every event.
create table alert_events (
  alert_id uuid not null references alerts (id),
  event_id text not null,
  at timestamptz not null,
  label text not null,
  primary key (alert_id, event_id)
);
create index alert_events_event_idx on alert_events (event_id);
create index alert_events_at_idx on alert_events (alert_id, at desc);

-- What people did with an alert: notes, status changes, assignments (the alert's own timeline).
create table alert_activity (
  id uuid primary key,
  seq bigint generated always as identity,
  alert_id uuid not null references alerts (id),
  at timestamptz not null,
  actor_id uuid,
  actor_label text not null,
  kind text not null check (kind in ('opened', 'note', 'status', 'assign', 'severity')),
  body text not null default '',
  data jsonb not null default '{}'::jsonb
);
create index alert_activity_alert_idx on alert_activity (alert_id, seq);

-- Where events are forwarded. `cursor` is the last log index handed over; a batch that keeps failing
-- becomes a dead letter after the last try and the cursor moves on. Secret headers are sealed.
create table siem_destinations (
  id uuid primary key,
  name text not null,
  kind text not null check (kind in ('syslog', 'ecs_http')),
  config jsonb not null,
  secret_headers bytea,
  enabled boolean not null default true,
  cursor bigint not null default -1,
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  forwarded bigint not null default 0,
  last_success_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create unique index siem_destinations_name_uq on siem_destinations (lower(name));

create table siem_dead_letters (
  id uuid primary key,
  destination_id uuid not null references siem_destinations (id) on delete cascade,
  created_at timestamptz not null,
  first_index bigint not null,
  last_index bigint not null,
  events integer not null,
  payload text not null,
  error text not null,
  attempts integer not null,
  status text not null default 'dead' check (status in ('dead', 'delivered')),
  redriven_at timestamptz,
  redriven_by text
);
create index siem_dead_letters_dest_idx on siem_dead_letters (destination_id, created_at desc);
create index siem_dead_letters_status_idx on siem_dead_letters (status, created_at desc);
