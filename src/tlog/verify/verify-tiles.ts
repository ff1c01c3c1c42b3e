/**
 * `verifyTiles`: audit a C2SP tlog-tiles export (a directory with `checkpoint`, `tile/…` and
 * `tile/entries/…`) offline, against a checkpoint the auditor kept earlier and the log's verifier key.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { BundleHasher } from "./bundle-hash.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { equalBytes, HASH_SIZE } from "./hash.ts";
import { type NoteVerifier, parseVerifierKey } from "./note.ts";
import { entryBundlePath, TILE_WIDTH, tilePath } from "./tiles.ts";
import { type TileSource, type VerifyReport, verifyTree } from "./verify-tree.ts";

async function readOrUndefined(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/**
 * Reads tiles from a directory. A partial tile that is absent falls back to the full tile (logs may delete
 * partial tiles once full ones exist, tlog-tiles §Partial Tiles), keeping only the first `width` hashes.
 */
export function directorySource(dir: string): TileSource {
  return {
    directory: dir,
    async tile(level, index, width) {
      const exact = await readOrUndefined(join(dir, tilePath(level, index, width)));
      if (exact || width === TILE_WIDTH) return exact;
      const full = await readOrUndefined(join(dir, tilePath(level, index)));
      if (full) return full.subarray(0, width * HASH_SIZE);
      // A wider partial tile of a later tree size holds the same first hashes.
      const widths = await readdir(join(dir, `${tilePath(level, index)}.p`)).catch(() => [] as string[]);
      const wider = widths
        .map(Number)
        .filter((w) => w > width)
        .sort((a, b) => a - b)[0];
      if (wider === undefined) return undefined;
      return (await readOrUndefined(join(dir, tilePath(level, index, wider))))?.subarray(
        0,
        width * HASH_SIZE,
      );
    },
    async bundle(index, width) {
      return (await readOrUndefined(join(dir, entryBundlePath(index, width)))) ?? undefined;
    },
  };
}

export interface VerifyTilesOptions {
  /** An earlier export that the trusted checkpoint describes: lets a rewritten history name its first entry. */
  previousDir?: string;
  origin?: string;
  onProgress?: (done: number) => void;
  /** The export starts at this entry (a multiple of 256): entries before it are absent by design. */
  start?: number;
  hasher?: BundleHasher;
}

export async function verifyTiles(
  dir: string,
  trustedCheckpoint: string,
  verifierKey: string | NoteVerifier,
  options: VerifyTilesOptions = {},
): Promise<VerifyReport & { checkpointSize: number }> {
  const verifier = typeof verifierKey === "string" ? parseVerifierKey(verifierKey) : verifierKey;
  const trusted = openCheckpoint(trustedCheckpoint, verifier, options.origin);
  const cpBytes = await readOrUndefined(join(dir, "checkpoint"));
  if (!cpBytes) throw new Error(`${join(dir, "checkpoint")} is missing: is this a tiles export?`);
  const current = openCheckpoint(new TextDecoder().decode(cpBytes), verifier, options.origin);
  const report = await verifyTree({
    source: directorySource(dir),
    size: current.size,
    trusted: [
      { size: trusted.size, root: trusted.root, label: `the trusted checkpoint (size ${trusted.size})` },
      { size: current.size, root: current.root, label: `the export's checkpoint (size ${current.size})` },
    ],
    onProgress: options.onProgress,
    ...(options.start ? { start: options.start } : {}),
    ...(options.hasher ? { hasher: options.hasher } : {}),
  });
  const range = report.firstBadRange;
  if (options.previousDir && range && range.end - range.start > 1) {
    const exact = await firstDifference(directorySource(options.previousDir), directorySource(dir), trusted);
    if (exact !== undefined) {
      report.firstBadIndex = exact;
      report.firstBadRange = { start: exact, end: exact + 1 };
      report.problems.push({
        kind: "entry-changed",
        index: exact,
        message: `entry ${exact} differs from the earlier export that the trusted checkpoint verifies`,
      });
    }
  }
  return { ...report, checkpointSize: current.size };
}

/** Verifies the earlier export against the trusted root, then finds the first leaf hash that differs. */
async function firstDifference(
  previous: TileSource,
  current: TileSource,
  trusted: { size: number; root: Uint8Array },
): Promise<number | undefined> {
  const prior = await verifyTree({
    source: previous,
    size: trusted.size,
    trusted: [{ size: trusted.size, root: trusted.root, label: "the trusted checkpoint" }],
  });
  if (!prior.ok) return undefined;
  for (let b = 0; b * TILE_WIDTH < trusted.size; b++) {
    const width = Math.min(TILE_WIDTH, trusted.size - b * TILE_WIDTH);
    const [a, c] = await Promise.all([previous.tile(0, b, width), current.tile(0, b, width)]);
    for (let k = 0; k < width; k++) {
      const x = a?.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE);
      const y = c?.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE);
      if (!x || !y || !equalBytes(x, y)) return b * TILE_WIDTH + k;
    }
  }
  return undefined;
}
