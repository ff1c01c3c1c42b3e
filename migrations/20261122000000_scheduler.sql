-- Background tasks (expiry sweeps, review deadlines, purges, retention, scheduled scans).
-- One row per task. A node runs a due task only after winning its lease with a single conditional
-- UPDATE, so several Warden nodes on one PostgreSQL never run the same task at once; a node that dies
-- mid-run loses its lease when lease_until passes and another node takes over.
create table scheduler_tasks (
  name text primary key check (name ~ '^[a-z][a-z0-9.:-]{0,79}$'),
  every_ms integer not null check (every_ms >= 1000),
  next_run_at timestamptz not null,
  lease_owner text,
  lease_until timestamptz,
  last_started_at timestamptz,
  last_finished_at timestamptz,
  last_outcome text check (last_outcome in ('ok', 'failed')),
  last_error text,
  last_summary jsonb not null default '{}'::jsonb,
  runs bigint not null default 0,
  failures bigint not null default 0,
  consecutive_failures integer not null default 0
);
