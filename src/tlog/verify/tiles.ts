/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile and entry bundle paths, tile widths for a tree
 * size, and the entry bundle encoding (big-endian uint16 length-prefixed entries).
 */
export const TILE_WIDTH = 256;
export const TILE_HEIGHT = 8;
export const MAX_ENTRY_BYTES = 0xffff;

/** Index N as zero-padded 3-digit path elements, all but the last prefixed with x: 1234067 → x001/x234/067. */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad tile index ${n}`);
  const parts: string[] = [];
  let rest = n;
  do {
    parts.unshift(String(rest % 1000).padStart(3, "0"));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join("/");
}

const suffix = (width: number): string => {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH)
    throw new RangeError(`bad tile width ${width}`);
  return width === TILE_WIDTH ? "" : `.p/${width}`;
};

/** `tile/<L>/<N>[.p/<W>]`. */
export function tilePath(level: number, index: number, width = TILE_WIDTH): string {
  if (!Number.isInteger(level) || level < 0 || level > 63) throw new RangeError(`bad tile level ${level}`);
  return `tile/${level}/${encodeTileIndex(index)}${suffix(width)}`;
}

/** `tile/entries/<N>[.p/<W>]`. */
export function entryBundlePath(index: number, width = TILE_WIDTH): string {
  return `tile/entries/${encodeTileIndex(index)}${suffix(width)}`;
}

/** Parses a tile or bundle path back into its parts (for serving tiles over HTTP). */
export function parseTilePath(
  path: string,
):
  | { kind: "tile"; level: number; index: number; width: number }
  | { kind: "entries"; index: number; width: number }
  | undefined {
  const m = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(
    path,
  );
  if (!m) return undefined;
  const [, what, idx, w] = m as unknown as [string, string, string, string | undefined];
  const index = Number(idx.replaceAll("x", "").replaceAll("/", ""));
  const width = w === undefined ? TILE_WIDTH : Number(w);
  if (width > 255 && w !== undefined) return undefined;
  if (!Number.isSafeInteger(index)) return undefined;
  if (what === "entries") return { kind: "entries", index, width };
  const level = Number(what);
  if (level > 63) return undefined;
  return { kind: "tile", level, index, width };
}

/**
 * The tiles at one level that a tree of `size` entries has: `full` full tiles and, when the width is
 * not a multiple of 256, one partial tile of `partialWidth` hashes (floor(size / 256^level) mod 256).
 */
export function tilesAtLevel(size: number, level: number): { full: number; partialWidth: number } {
  const hashes = Math.floor(size / TILE_WIDTH ** level);
  return { full: Math.floor(hashes / TILE_WIDTH), partialWidth: hashes % TILE_WIDTH };
}

/** Number of tile levels a tree of `size` entries has (levels with at least one hash). */
export function tileLevels(size: number): number {
  let levels = 0;
  while (Math.floor(size / TILE_WIDTH ** levels) > 0) levels++;
  return levels;
}

export function encodeBundle(entries: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_BYTES) throw new RangeError(`an entry is ${e.length} bytes; the limit is 65535`);
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >>> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/** Decodes a bundle; returns undefined when the bytes are not a sequence of complete entries. */
export function decodeBundle(bytes: Uint8Array): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) return undefined;
    const len = (bytes[at]! << 8) | bytes[at + 1]!;
    if (at + 2 + len > bytes.length) return undefined;
    out.push(bytes.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}
