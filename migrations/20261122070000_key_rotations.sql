-- Key rotations (src/keys): a KEK rotation rewraps the data keys; a data-key rotation adds a version per
-- purpose and re-encrypts every sealed value in the background. Progress is derived from the data itself
-- (values not yet under the new key), so a crashed node's work is simply picked up again.
create table key_rotations (
  id uuid primary key,
  kind text not null check (kind in ('kek', 'data')),
  purposes jsonb not null default '[]',
  -- data: the data-key ids being replaced; kek: the KEK ids being replaced
  from_keys jsonb not null default '[]',
  -- data: purpose -> new data-key id; kek: the new KEK id
  to_keys jsonb not null default '{}',
  state text not null check (state in ('running', 'finished')),
  -- values to re-encrypt when the rotation started (data) or data keys rewrapped (kek)
  total integer not null default 0,
  requested_by uuid references users (id),
  started_at timestamptz not null,
  updated_at timestamptz not null,
  finished_at timestamptz,
  last_error text
);
-- One data-key rotation at a time.
create unique index key_rotations_one_running on key_rotations (kind) where state = 'running';
create index key_rotations_started_idx on key_rotations (started_at desc);
