/**
 * SQL for the log, written against the smallest client both node-postgres (Pool, PoolClient) and PGlite
 * satisfy. Every write is ONE statement, so it is atomic on a Pool without holding a connection, and
 * concurrent writers are serialised by the `size = expected` guard on the single tlog_state row.
 */
import type { Edge, StoredBundle, StoredTile } from "./tlog.tree.ts";
import { TILE_WIDTH, tilesAtLevel } from "./verify/tiles.ts";

export interface SqlClient {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** In a transaction that offers it: runs `fn` once it has committed. */
  afterCommit?(fn: () => void): void;
}

/**
 * Bytes cross the client boundary as hex text (`decode($n, 'hex')`, `encode(col, 'hex')`): PGlite 0.5's
 * bytea (de)serialisers work byte by byte in JavaScript (~50 ms for one 77 kB bundle on this machine),
 * while Buffer's hex codec and PostgreSQL's are native. node-postgres handles hex text as fast as bytea.
 */
const hex = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString("hex");
const u8 = (v: unknown): Uint8Array => {
  if (typeof v === "string") return new Uint8Array(Buffer.from(v, "hex"));
  return v as Uint8Array;
};
const num = (v: unknown): number => Number(v);

export interface TreeHead {
  size: number;
  root: Uint8Array;
}

/**
 * The head, locked until the caller's transaction ends: appends inside a transaction (Warden's audit
 * records commit with the change they record) serialise here, and single-statement appends from other
 * writers wait for the lock and then fail their `size = expected` guard.
 */
export async function lockHead(sql: SqlClient): Promise<TreeHead & { prunedBefore: number }> {
  const { rows } = await sql.query<{ size: unknown; root: unknown; pruned_before: unknown }>(
    "SELECT size, encode(root, 'hex') AS root, pruned_before FROM tlog_state WHERE id = 1 FOR UPDATE",
  );
  const row = rows[0];
  if (!row) throw new Error("tlog_state is empty: run the tlog migration");
  return { size: num(row.size), root: u8(row.root), prunedBefore: num(row.pruned_before) };
}

/** Entries before this index were removed by retention (0 when nothing was). */
export async function readPrunedBefore(sql: SqlClient): Promise<number> {
  const { rows } = await sql.query<{ pruned_before: unknown }>(
    "SELECT pruned_before FROM tlog_state WHERE id = 1",
  );
  return num(rows[0]?.pruned_before ?? 0);
}

export async function readHead(sql: SqlClient): Promise<TreeHead> {
  const { rows } = await sql.query<{ size: unknown; root: unknown }>(
    "SELECT size, encode(root, 'hex') AS root FROM tlog_state WHERE id = 1",
  );
  const row = rows[0];
  if (!row) throw new Error("tlog_state is empty: run the tlog migration");
  return { size: num(row.size), root: u8(row.root) };
}

interface TileRow {
  level: unknown;
  idx: unknown;
  width: unknown;
  nodes: unknown;
}

const toTile = (r: TileRow): StoredTile => ({
  level: num(r.level),
  index: num(r.idx),
  width: num(r.width),
  nodes: u8(r.nodes),
});

/**
 * Single node hashes, each sliced out of its tile row by SQL (a proof reads ~log2(n) hashes of 32 bytes,
 * not whole 16 kB rows). Returns, per request, the hash or undefined when the tile is absent or narrower
 * than the node needs.
 */
export async function readNodes(
  sql: SqlClient,
  nodes: { level: number; tile: number; j: number; r: number; offset: number }[],
): Promise<(Uint8Array | undefined)[]> {
  if (nodes.length === 0) return [];
  const { rows } = await sql.query<{ i: unknown; width: unknown; h: unknown }>(
    `SELECT k.i, t.width, encode(substring(t.nodes FROM k.off + 1 FOR 32), 'hex') AS h
       FROM unnest($1::int[], $2::smallint[], $3::bigint[], $4::int[]) AS k(i, level, idx, off)
       JOIN tlog_tiles t ON t.level = k.level AND t.idx = k.idx`,
    [nodes.map((_, i) => i), nodes.map((n) => n.level), nodes.map((n) => n.tile), nodes.map((n) => n.offset)],
  );
  const out: (Uint8Array | undefined)[] = new Array(nodes.length).fill(undefined);
  for (const row of rows) {
    const i = num(row.i);
    const n = nodes[i]!;
    if (n.r < Math.floor(num(row.width) / 2 ** n.j)) {
      const h = u8(row.h);
      if (h.length === 32) out[i] = h;
    }
  }
  return out;
}

/** Whole tile rows (hashes and inner nodes) by level and index, in one query; absent ones are left out. */
export async function readTiles(
  sql: SqlClient,
  keys: { level: number; index: number }[],
): Promise<StoredTile[]> {
  if (keys.length === 0) return [];
  const { rows } = await sql.query<TileRow>(
    `SELECT t.level, t.idx, t.width, encode(t.nodes, 'hex') AS nodes
       FROM unnest($1::smallint[], $2::bigint[]) AS k(level, idx)
       JOIN tlog_tiles t ON t.level = k.level AND t.idx = k.idx`,
    [keys.map((k) => k.level), keys.map((k) => k.index)],
  );
  return rows.map(toTile);
}

/** Tiles [from, to) of one level, in order (for export and audit). */
export async function readTileRange(
  sql: SqlClient,
  level: number,
  from: number,
  to: number,
): Promise<StoredTile[]> {
  const { rows } = await sql.query<TileRow>(
    "SELECT level, idx, width, encode(nodes, 'hex') AS nodes FROM tlog_tiles WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
    [level, from, to],
  );
  return rows.map(toTile);
}

export async function readBundleRange(sql: SqlClient, from: number, to: number): Promise<StoredBundle[]> {
  const { rows } = await sql.query<{ idx: unknown; width: unknown; data: unknown }>(
    "SELECT idx, width, encode(data, 'hex') AS data FROM tlog_bundles WHERE idx >= $1 AND idx < $2 ORDER BY idx",
    [from, to],
  );
  return rows.map((r) => ({ index: num(r.idx), width: num(r.width), data: u8(r.data) }));
}

/**
 * The head and its right edge (the partial tile of each level and the partial bundle), read in ONE
 * statement so they come from one snapshot even while other processes append.
 */
export async function readHeadAndEdge(
  sql: SqlClient,
  opts: { bundles?: boolean } = {},
): Promise<{ head: TreeHead; edge: Edge }> {
  const withBundles = opts.bundles !== false;
  const { rows } = await sql.query<{ kind: string; size: unknown; root: unknown } & TileRow>(
    `WITH s AS (SELECT size, root FROM tlog_state WHERE id = 1),
          k AS (SELECT g.level, s.size / (1::bigint << (8 * (g.level + 1))) AS idx
                  FROM s, generate_series(0, 6) AS g(level)
                 WHERE (s.size / (1::bigint << (8 * g.level))) % 256 > 0)
     SELECT 'head' AS kind, s.size, encode(s.root, 'hex') AS root, NULL::smallint AS level, NULL::bigint AS idx,
            NULL::smallint AS width, NULL::text AS nodes FROM s
     UNION ALL
     SELECT 'tile', s.size, NULL, t.level, t.idx, t.width, encode(t.nodes, 'hex')
       FROM s, k JOIN tlog_tiles t ON t.level = k.level AND t.idx = k.idx
     ${
       withBundles
         ? `UNION ALL
     SELECT 'bundle', s.size, NULL, NULL, b.idx, b.width, encode(b.data, 'hex')
       FROM s JOIN tlog_bundles b ON b.idx = s.size / 256 AND s.size % 256 > 0`
         : ""
     }`,
  );
  const headRow = rows.find((r) => r.kind === "head");
  if (!headRow) throw new Error("tlog_state is empty: run the tlog migration");
  const size = num(headRow.size);
  const edge: Edge = { size, tiles: [], bundle: undefined };
  for (const r of rows) {
    if (r.kind === "tile") edge.tiles[num(r.level)] = toTile(r);
    if (r.kind === "bundle") edge.bundle = { index: num(r.idx), width: num(r.width), data: u8(r.nodes) };
  }
  for (let level = 0; Math.floor(size / TILE_WIDTH ** level) > 0; level++) {
    const want = tilesAtLevel(size, level).partialWidth;
    const t = edge.tiles[level];
    if ((t?.width ?? 0) !== want)
      throw new Error(`tile ${level} at the edge has width ${t?.width ?? 0}, expected ${want}`);
  }
  if (withBundles && (edge.bundle?.width ?? 0) !== size % TILE_WIDTH)
    throw new Error("the partial entry bundle is missing or short");
  return { head: { size, root: u8(headRow.root) }, edge };
}

export interface AppendWrite {
  oldSize: number;
  newSize: number;
  root: Uint8Array;
  at: Date;
  tiles: StoredTile[];
  bundles: StoredBundle[];
}

/**
 * Writes an append in one statement: the head moves from oldSize to newSize only if it is still at
 * oldSize, and the tiles and bundles are written only if it moved. Returns false when another writer got
 * there first (the caller reloads its edge and retries). Durable when it returns: the statement commits.
 */
export async function writeAppend(sql: SqlClient, w: AppendWrite): Promise<boolean> {
  const params: unknown[] = [w.newSize, hex(w.root), w.at.toISOString(), w.oldSize];
  const tileValues = w.tiles.map((t) => {
    params.push(t.level, t.index, t.width, hex(t.nodes));
    const n = params.length;
    return `($${n - 3}::smallint, $${n - 2}::bigint, $${n - 1}::smallint, decode($${n}::text, 'hex'))`;
  });
  const bundleValues = w.bundles.map((b) => {
    params.push(b.index, b.width, hex(b.data));
    const n = params.length;
    return `($${n - 2}::bigint, $${n - 1}::smallint, decode($${n}::text, 'hex'))`;
  });
  const text = `
    WITH head AS (
      UPDATE tlog_state SET size = $1, root = decode($2::text, 'hex'), updated_at = $3 WHERE id = 1 AND size = $4 RETURNING size
    ), tiles AS (
      INSERT INTO tlog_tiles (level, idx, width, nodes)
      SELECT v.level, v.idx, v.width, v.nodes FROM (VALUES ${tileValues.join(", ")}) AS v(level, idx, width, nodes)
      WHERE EXISTS (SELECT 1 FROM head)
      ON CONFLICT (level, idx) DO UPDATE SET width = excluded.width, nodes = excluded.nodes
        WHERE tlog_tiles.width <= excluded.width
    )${
      bundleValues.length === 0
        ? ""
        : `, bundles AS (
      INSERT INTO tlog_bundles (idx, width, data)
      SELECT v.idx, v.width, v.data FROM (VALUES ${bundleValues.join(", ")}) AS v(idx, width, data)
      WHERE EXISTS (SELECT 1 FROM head)
      ON CONFLICT (idx) DO UPDATE SET width = excluded.width, data = excluded.data
        WHERE tlog_bundles.width <= excluded.width
    )`
    }
    SELECT count(*)::int AS moved FROM head`;
  const { rows } = await sql.query<{ moved: unknown }>(text, params);
  return num(rows[0]?.moved) === 1;
}

export interface StoredCheckpoint {
  size: number;
  note: string;
}

export async function readCheckpoints(sql: SqlClient): Promise<StoredCheckpoint[]> {
  const { rows } = await sql.query<{ size: unknown; note: string }>(
    "SELECT size, note FROM tlog_checkpoints ORDER BY size",
  );
  return rows.map((r) => ({ size: num(r.size), note: r.note }));
}

export async function readLatestCheckpoint(sql: SqlClient): Promise<StoredCheckpoint | undefined> {
  const { rows } = await sql.query<{ size: unknown; note: string }>(
    "SELECT size, note FROM tlog_checkpoints ORDER BY size DESC LIMIT 1",
  );
  return rows[0] ? { size: num(rows[0].size), note: rows[0].note } : undefined;
}

export async function readCheckpointAt(sql: SqlClient, size: number): Promise<string | undefined> {
  const { rows } = await sql.query<{ note: string }>("SELECT note FROM tlog_checkpoints WHERE size = $1", [
    size,
  ]);
  return rows[0]?.note;
}

export async function saveCheckpoint(sql: SqlClient, size: number, note: string, at: Date): Promise<void> {
  await sql.query(
    "INSERT INTO tlog_checkpoints (size, note, signed_at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING",
    [size, note, at.toISOString()],
  );
}
