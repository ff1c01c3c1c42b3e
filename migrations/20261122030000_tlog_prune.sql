-- Retention may remove a prefix of the verifiable log: entries before `pruned_before` (a multiple of 256,
-- so whole entry bundles go) are deleted with their level-0 tiles. The signed checkpoint at that size and
-- the tiles above level 0 stay, so inclusion proofs for every remaining entry, and consistency proofs
-- from that checkpoint on, still verify.
ALTER TABLE tlog_state ADD COLUMN pruned_before bigint NOT NULL DEFAULT 0
  CHECK (pruned_before >= 0 AND pruned_before % 256 = 0);
