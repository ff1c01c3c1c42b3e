-- Domain additions on top of the foundation schema.
-- A terminated agreement keeps why it ended; terminated_on (exclusive, like expires_on) already exists.
alter table agreements add column termination_reason text;
-- The dashboard's "expiring within N days" and the gate look agreements up by their end dates.
create index agreements_expires_idx on agreements (expires_on) where expires_on is not null;
