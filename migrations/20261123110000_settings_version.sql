-- A version per setting, bumped by every change whoever writes it, so a node can tell with one cheap
-- read that a setting changed on another node (the alert rules are checked about every second while
-- events flow, instead of being re-read once a minute).
alter table settings add column version bigint not null default 1;

create function settings_bump_version() returns trigger language plpgsql as $$
begin
  new.version := old.version + 1;
  return new;
end;
$$;
create trigger settings_version before update on settings
  for each row execute function settings_bump_version();
