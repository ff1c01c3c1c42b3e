-- Verifiable audit log (RFC 9162 Merkle tree, C2SP tlog-tiles layout). One log per database.
-- Entries and tree hashes are stored the way tlog-tiles serves them, so appends touch O(batch/256 + log n)
-- rows and a proof reads at most two tiles per 8 tree levels.

-- The current tree head. A single row; appends update it in the same statement that writes tiles, with
-- `size = <expected old size>` as the guard, so concurrent writers cannot interleave.
CREATE TABLE tlog_state (
  id smallint PRIMARY KEY CHECK (id = 1),
  size bigint NOT NULL CHECK (size >= 0),
  root bytea NOT NULL CHECK (octet_length(root) = 32),
  updated_at timestamptz NOT NULL
);
INSERT INTO tlog_state (id, size, root, updated_at)
VALUES (1, 0, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea, '1970-01-01T00:00:00Z');

-- Tile <level>/<idx>: up to 256 consecutive hashes at tree height 8*level (level 0 = leaf hashes), i.e.
-- the tlog-tiles tile, followed by the tile's inner nodes (heights +1..+7, floor(width/2^j) hashes each)
-- so that proofs need no rehashing. The right-most tile of each level is partial and grows in place.
CREATE TABLE tlog_tiles (
  level smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
  idx bigint NOT NULL CHECK (idx >= 0),
  width smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
  nodes bytea NOT NULL,
  PRIMARY KEY (level, idx)
);
-- Hashes do not compress: skip TOAST compression attempts.
ALTER TABLE tlog_tiles ALTER COLUMN nodes SET STORAGE EXTERNAL;

-- Entry bundle <idx>: entries 256*idx .. 256*idx+width-1, each as a big-endian uint16 length and bytes.
CREATE TABLE tlog_bundles (
  idx bigint PRIMARY KEY CHECK (idx >= 0),
  width smallint NOT NULL CHECK (width BETWEEN 1 AND 256),
  data bytea NOT NULL
);

-- Every checkpoint the log signed (C2SP signed note text), by tree size. Kept forever: an auditor compares
-- the tree against them, and the log checks each new checkpoint is consistent with the last one.
CREATE TABLE tlog_checkpoints (
  size bigint PRIMARY KEY CHECK (size >= 0),
  note text NOT NULL,
  signed_at timestamptz NOT NULL
);
