-- Reports that `warden scan files --report` sends: always redacted, attached to a vendor or engagement.
create table file_scan_reports (
  id uuid primary key,
  vendor_id uuid references vendors (id),
  engagement_id uuid references engagements (id),
  mode text not null,
  targets jsonb not null,
  stats jsonb not null,
  findings jsonb not null,
  skipped jsonb not null,
  finding_count integer not null,
  high_count integer not null,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  received_at timestamptz not null,
  reported_by uuid references users (id)
);
create index file_scan_reports_vendor_idx on file_scan_reports (vendor_id, received_at desc);
create index file_scan_reports_engagement_idx on file_scan_reports (engagement_id, received_at desc);
