-- Pending invitations on Git hosts (issue 3: "handle pending invitations"). A grant whose access waits
-- for the developer to accept an invitation (external_state 'pending') is checked by the sweep every
-- few minutes: accepted → 'active'; expired on the host (GitHub: after 7 days) → re-sent once, then
-- 'invitation_expired'; gone without being accepted → 'absent'. The developer, the requester and the
-- owners are told.
alter table access_grants add column external_checked_at timestamptz;
alter table access_grants add column invitation_resends integer not null default 0;
create index access_grants_pending_invitation_idx on access_grants (external_checked_at)
  where state = 'active' and external_state = 'pending';
