-- Scheduled TLS scans (src/tls-scans): endpoints Warden scans on a schedule with its TLS scanner, and
-- every result with its findings, grade and the difference from the target's previous scan.
create table tls_scan_targets (
  id uuid primary key,
  -- as given: host, host:port or URL (never with credentials)
  target text not null,
  label text not null default '',
  -- manual: added in the UI/API; catalog: from a resource of the access catalog; cli: first seen in a
  -- `warden scan tls --report` (not scheduled until someone schedules it)
  source text not null check (source in ('manual', 'catalog', 'cli')),
  -- catalog targets: the resource they come from (no foreign key: the catalog is another feature's)
  resource_id uuid,
  scheduled boolean not null,
  interval_hours integer not null check (interval_hours between 1 and 720),
  next_scan_at timestamptz,
  created_by uuid references users (id),
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create unique index tls_scan_targets_target_uq on tls_scan_targets (lower(target));
create unique index tls_scan_targets_resource_uq on tls_scan_targets (resource_id) where resource_id is not null;
create index tls_scan_targets_due_idx on tls_scan_targets (next_scan_at) where scheduled;

create table tls_scans (
  id uuid primary key,
  target_id uuid not null references tls_scan_targets (id) on delete cascade,
  trigger text not null check (trigger in ('schedule', 'manual', 'cli')),
  status text not null check (status in ('scanned', 'unreachable', 'error')),
  grade text,
  worst text not null check (worst in ('critical', 'high', 'medium', 'low', 'info', 'none')),
  finding_count integer not null,
  -- the scanner's TargetResult (findings included), as `warden scan tls --format json` prints it
  result jsonb not null,
  -- what changed since the target's previous scan: findings added/resolved, grade and status moves
  diff jsonb not null,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  reported_by uuid references users (id)
);
create index tls_scans_target_idx on tls_scans (target_id, started_at desc);
