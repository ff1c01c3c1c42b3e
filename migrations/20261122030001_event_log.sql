-- One verifiable log for every event: Warden's own audit records and events from outside sources are
-- leaves of the RFC 9162 Merkle tree in tlog_tiles. Each leaf's entry (canonical JSON) is stored once,
-- here, beside the columns it is searched by; the tree holds only hashes.

create table log_events (
  idx bigint primary key check (idx >= 0),         -- leaf index in the Merkle tree
  id uuid not null unique,
  entry text not null,                              -- the exact entry; leaf = SHA-256(0x00 || utf8(entry))
  kind text not null check (kind in ('audit', 'ocsf')),
  at timestamptz not null,                          -- when it happened, as the source says
  received_at timestamptz not null,
  class_uid integer not null,                       -- OCSF class (3002 Authentication, 6003 API Activity…)
  activity_id integer not null,
  status_id smallint not null,                      -- OCSF status: 1 success, 2 failure
  severity_id smallint not null,
  source text not null,                             -- 'warden', 'git-hook', 'syslog', 'github-audit'…
  source_uid text,                                  -- the source's event id: idempotency key with source
  actor_id text,
  actor_label text,
  developer_id uuid,                                -- the Warden developer who acted, when known
  subject_developer_id uuid,                        -- the developer a Warden record is about
  action text not null,
  resource_type text,
  resource_id text,
  src_ip text
);
create unique index log_events_source_uid_uq on log_events (source, source_uid) where source_uid is not null;
create index log_events_at_idx on log_events (at);
create index log_events_developer_idx on log_events (developer_id, at) where developer_id is not null;
create index log_events_subject_idx on log_events (subject_developer_id) where subject_developer_id is not null;
create index log_events_resource_idx on log_events (resource_id) where resource_id is not null;

-- Append-only inside the database too. Retention deletes whole pruned ranges and says so first with
-- `set local warden.log_retention = 'on'`; anything else is refused. (A database superuser can still
-- switch this off: `warden audit verify` is what catches that.)
create function log_events_append_only() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' and current_setting('warden.log_retention', true) = 'on' then
    return old;
  end if;
  raise exception 'log_events is append-only';
end;
$$;
create trigger log_events_no_update before update or delete on log_events
  for each row execute function log_events_append_only();

-- The key that signs checkpoints (C2SP signed note, Ed25519): generated on first start, the private key
-- sealed at rest (AES-256-GCM under the master key; AAD log_signing_keys/<id>/private_key).
create table log_signing_keys (
  id uuid primary key,
  origin text not null,
  verifier_key text not null,
  private_key bytea not null,
  created_at timestamptz not null,
  retired_at timestamptz
);
create unique index log_signing_keys_active_uq on log_signing_keys ((retired_at is null)) where retired_at is null;

-- Ranges removed by retention: the log keeps the signed checkpoint at the end of each.
create table log_prunes (
  before bigint primary key check (before >= 0),
  checkpoint text not null,
  pruned_at timestamptz not null,
  entries bigint not null
);

-- The foundation's hash-chained trail is imported into the tree by Warden at start-up (its leaves are
-- canonical JSON computed in JavaScript), in one transaction, after which this table is dropped.
drop trigger audit_events_no_update on audit_events;
drop function audit_events_append_only();
alter table audit_events rename to audit_events_legacy;
