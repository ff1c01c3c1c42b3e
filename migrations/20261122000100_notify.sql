-- Transactional outbox for notifications: a feature enqueues in the same transaction as the change it
-- announces, and the `notify.deliver` task sends afterwards (no network call inside a transaction),
-- retrying with backoff; a delivery that keeps failing is kept as a dead letter for an operator.
create table notifications (
  id uuid primary key,
  created_at timestamptz not null,
  topic text not null,
  severity text not null check (severity in ('info', 'low', 'medium', 'high', 'critical')),
  subject text not null,
  body text not null,
  data jsonb not null default '{}'::jsonb,
  refs text[] not null default '{}'
);
create index notifications_created_idx on notifications (created_at desc);

create table notification_deliveries (
  id uuid primary key,
  notification_id uuid not null references notifications (id) on delete cascade,
  channel text not null check (channel in ('email', 'webhook')),
  target text not null,
  status text not null check (status in ('pending', 'sent', 'dead')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  last_error text,
  sent_at timestamptz
);
create index notification_deliveries_due_idx on notification_deliveries (next_attempt_at)
  where status = 'pending';
create index notification_deliveries_notification_idx on notification_deliveries (notification_id);
