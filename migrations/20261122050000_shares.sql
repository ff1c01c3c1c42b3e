-- End-to-end encrypted shares (age v1). The server holds ciphertext only: the payload lives in the
-- share directory (a file per upload, named by content_ref), the rows hold metadata. A share row is
-- kept after it ends (revoked, expired, used up) as the record of who sent what to whom; only its
-- ciphertext is deleted.
create table shares (
  id uuid primary key,
  kind text not null check (kind in ('file', 'text')),
  status text not null check (status in ('pending', 'ready', 'revoked', 'expired', 'used_up')),
  sender_id uuid not null references users (id),
  -- Sealed at rest (AES-256-GCM, AAD shares/<id>/filename and shares/<id>/note).
  filename bytea,
  note bytea,
  data_categories jsonb not null,
  -- Plaintext size the sender declared; the upload must have exactly the matching ciphertext size.
  plaintext_bytes bigint not null check (plaintext_bytes >= 0),
  ciphertext_bytes bigint,
  sha256 text,
  -- Downloads each recipient may make; null means any number until the share expires.
  max_downloads integer check (max_downloads is null or max_downloads >= 1),
  one_time boolean not null default false,
  expires_at timestamptz not null,
  content_ref text,
  created_at timestamptz not null,
  uploaded_at timestamptz,
  ended_at timestamptz,
  ended_by uuid references users (id),
  content_deleted_at timestamptz,
  check (not one_time or max_downloads = 1)
);
create index shares_sender_idx on shares (sender_id, created_at desc);
create index shares_created_idx on shares (created_at desc);
-- The purge task looks for live shares past their expiry and ended shares whose file is still there.
create index shares_live_expiry_idx on shares (expires_at) where status in ('pending', 'ready');
create index shares_content_left_idx on shares (ended_at)
  where content_ref is not null and content_deleted_at is null and status not in ('pending', 'ready');

-- Who a share is for, and the public keys the ciphertext was checked against (a snapshot: a key
-- changed later does not change what this ciphertext was encrypted to).
create table share_recipients (
  share_id uuid not null references shares (id),
  developer_id uuid not null references developers (id),
  keys jsonb not null,
  primary key (share_id, developer_id)
);
create index share_recipients_developer_idx on share_recipients (developer_id);

-- Every download and refused download attempt on an existing share, for the sender's download log.
-- A download counts while in progress and once completed; a transfer that broke off gives it back.
create table share_downloads (
  id uuid primary key,
  -- The order attempts happened in, even within one clock tick.
  seq bigint generated always as identity,
  share_id uuid not null references shares (id),
  developer_id uuid references developers (id),
  user_id uuid references users (id),
  outcome text not null check (outcome in ('in_progress', 'completed', 'incomplete', 'refused')),
  reason text,
  bytes_sent bigint not null default 0,
  started_at timestamptz not null,
  finished_at timestamptz,
  ip text,
  user_agent text
);
create index share_downloads_share_idx on share_downloads (share_id, seq);
create index share_downloads_open_idx on share_downloads (started_at) where outcome = 'in_progress';
