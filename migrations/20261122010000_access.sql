-- Least-privilege access (issue 3): the resource catalog, requests and approvals, time-bound grants
-- provisioned and revoked by connectors, and the SSH certificate authority's persistent state.

-- A resource developers may ask access to. The connector (postgres, ssh, github, gitlab, or webhook for
-- kind generic) is configured by connector_settings (no secret in there) and connector_secrets: the
-- secret fields (database password, API token, webhook secret) as sealed JSON, AAD
-- access_resources/<id>/connector_secrets.
create table access_resources (
  id uuid primary key,
  name text not null,
  description text not null default '',
  kind text not null check (kind in ('postgres', 'ssh', 'github', 'gitlab', 'generic')),
  environment text not null check (environment in ('production', 'staging', 'development')),
  data_class text not null check (data_class in ('public', 'internal', 'confidential', 'restricted')),
  -- User ids of the people who approve (and re-certify) access to this resource.
  owners jsonb not null default '[]',
  connector_settings jsonb not null,
  connector_secrets bytea,
  levels jsonb not null,
  max_duration_minutes integer not null check (max_duration_minutes between 5 and 525600),
  break_glass boolean not null default false,
  archived_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create unique index access_resources_name_uq on access_resources (lower(name));

-- The resources an engagement names in its scope (the policies' `inEngagementScope`).
create table access_engagement_resources (
  engagement_id uuid not null references engagements (id) on delete cascade,
  resource_id uuid not null references access_resources (id),
  primary key (engagement_id, resource_id)
);
create index access_engagement_resources_res_idx on access_engagement_resources (resource_id);

-- What a developer asked for. status: pending (waiting for approvals), approved (a grant exists or
-- was extended), denied, cancelled (by the requester), expired (nobody decided in time).
-- grant_id: the grant this request created, or the live grant it extends (extension = new approval).
create table access_requests (
  id uuid primary key,
  developer_id uuid not null references developers (id),
  engagement_id uuid references engagements (id) on delete set null,
  resource_id uuid not null references access_resources (id),
  level text not null check (level in ('read', 'write', 'admin')),
  duration_minutes integer not null check (duration_minutes > 0),
  reason text not null,
  starts_at timestamptz,
  break_glass boolean not null default false,
  status text not null check (status in ('pending', 'approved', 'denied', 'cancelled', 'expired')),
  -- What the policies require, computed when the request was made (shown to approvers).
  required_approvals integer not null default 1,
  needs_security boolean not null default false,
  -- The last policy decision on this request: { action, decision, policies, reasons }.
  decision jsonb not null default '{}'::jsonb,
  grant_id uuid,
  extends_grant boolean not null default false,
  requested_by uuid references users (id),
  expires_at timestamptz not null,
  decided_at timestamptz,
  decided_by uuid references users (id),
  decision_reason text,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index access_requests_pending_idx on access_requests (expires_at) where status = 'pending';
create index access_requests_developer_idx on access_requests (developer_id, created_at desc);
create index access_requests_resource_idx on access_requests (resource_id);
-- One open request per developer and resource.
create unique index access_requests_one_pending_uq on access_requests (developer_id, resource_id)
  where status = 'pending';

-- One approver's decision on a request, with its reason. capacities: owner and/or security.
create table access_approvals (
  request_id uuid not null references access_requests (id),
  approver_id uuid not null references users (id),
  decision text not null check (decision in ('approve', 'deny')),
  capacities jsonb not null,
  reason text not null,
  at timestamptz not null,
  primary key (request_id, approver_id)
);

-- A time-bound grant. state:
--   approved      approved, waiting for its start (next_attempt_at = starts_at)
--   provisioning  the connector is creating the access (next_attempt_at = the claim's lease)
--   active        the access exists until ends_at
--   expiring      the grant is ending (end_reason says why); the connector is removing the access
--   expired       ended at its time, access removed
--   revoked       ended early (by a person, the gate, the policies, offboarding, a review), removed
--   failed        the last connector call failed (failed_op: provision or revoke); retried at
--                 next_attempt_at with backoff while retryable; a revoke is retried until it succeeds
-- Per-row retries: a sweep picks due rows with `for update skip locked`, so several nodes share them.
create table access_grants (
  id uuid primary key,
  request_id uuid not null references access_requests (id),
  developer_id uuid not null references developers (id),
  engagement_id uuid references engagements (id) on delete set null,
  resource_id uuid not null references access_resources (id),
  level text not null check (level in ('read', 'write', 'admin')),
  state text not null check (state in ('approved', 'provisioning', 'active', 'expiring', 'expired', 'revoked', 'failed')),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  -- The approvals that let it exist, for the policy re-check: count and capacities (owner/security).
  approvals integer not null default 0,
  approver_capacities jsonb not null default '[]',
  break_glass boolean not null default false,
  -- Break-glass grants must be reviewed after; the reviews feature records the review.
  review_required boolean not null default false,
  reviewed_at timestamptz,
  reviewed_by uuid references users (id),
  review_note text,
  end_reason text check (end_reason in ('expired', 'revoked', 'gate', 'policy', 'offboarded', 'review', 'resource_archived')),
  end_detail text,
  ended_by uuid references users (id),
  ended_at timestamptz,
  failed_op text check (failed_op in ('provision', 'revoke')),
  attempts integer not null default 0,
  last_error text,
  last_attempt_at timestamptz,
  next_attempt_at timestamptz,
  -- What the connector created (role name, certificate serial, collaborator login) and non-secret facts.
  external_ref text,
  external_state text,
  external_details jsonb not null default '{}'::jsonb,
  provisioned_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  check (ends_at > starts_at)
);
create index access_grants_due_idx on access_grants (next_attempt_at) where next_attempt_at is not null;
create index access_grants_live_idx on access_grants (ends_at) where state in ('approved', 'provisioning', 'active', 'failed');
create index access_grants_developer_idx on access_grants (developer_id);
create index access_grants_resource_idx on access_grants (resource_id);
-- At most one live grant per developer and resource: connectors keep one role/collaborator per pair,
-- so a second grant would share (and on its end, remove) the first one's access. Changes extend it.
create unique index access_grants_one_live_uq on access_grants (developer_id, resource_id)
  where state in ('approved', 'provisioning', 'active', 'expiring', 'failed');
alter table access_requests add constraint access_requests_grant_fk foreign key (grant_id) references access_grants (id);

-- A credential to hand to the developer once (a database password): sealed (AAD
-- access_credentials/<grant_id>/payload), or age-encrypted to the developer's registered recipients.
-- The payload is erased when revealed, and when the grant ends.
create table access_credentials (
  grant_id uuid primary key references access_grants (id),
  kind text not null check (kind in ('password')),
  format text not null check (format in ('sealed', 'age')),
  payload bytea,
  created_at timestamptz not null,
  revealed_at timestamptz
);

-- The SSH certificate authority: one Ed25519 key, generated on first use, sealed at rest (AAD
-- access_ssh_ca/1/private_key). krl_revision increases with every revocation (the KRL's version).
create table access_ssh_ca (
  id integer primary key check (id = 1),
  private_key bytea not null,
  public_key text not null,
  krl_revision bigint not null default 0,
  created_at timestamptz not null
);

-- Every certificate the CA issued (serials are 64-bit: kept as text, exact on both drivers).
create table access_ssh_certificates (
  serial text primary key,
  grant_id uuid not null references access_grants (id),
  key_id text not null,
  certificate text not null default '',
  valid_after timestamptz not null,
  valid_before timestamptz not null,
  revoked_at timestamptz,
  created_at timestamptz not null
);
create index access_ssh_certificates_grant_idx on access_ssh_certificates (grant_id);
create index access_ssh_certificates_revoked_idx on access_ssh_certificates (valid_before) where revoked_at is not null;
