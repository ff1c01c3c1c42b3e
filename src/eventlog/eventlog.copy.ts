/**
 * Rows of `log_events` in PostgreSQL's binary COPY format ("Binary Format" of the COPY reference page),
 * encoded once, when an event arrives. Written by hand because the durable append rate depends on it and
 * no library does what it needs:
 *
 * - each entry's UTF-8 bytes are written once, into the row, and the Merkle leaf hash is taken from those
 *   very bytes (`entryAt`/`entryLength`), so what is hashed is exactly what is stored;
 * - the leaf index is only known once the writer holds the tree, so every row starts with an 8-byte slot
 *   for it that `setIndices` fills in place, and the rows go to the server without being copied again;
 * - fields need no escaping and the server parses no text (uuid, timestamptz, integers are sent binary):
 *   measured against the text format, it saves both this process and the database CPU per event.
 *
 * Column order is `COLUMNS` below; a test reads rows back through the server to check every type.
 */
import { AppError } from "../core/errors.ts";
import type { IndexColumns } from "./eventlog.entries.ts";

export interface RowInput extends IndexColumns {
  id: string;
  entry: string;
}

export const COLUMNS = [
  "idx",
  "id",
  "entry",
  "kind",
  "at",
  "received_at",
  "class_uid",
  "activity_id",
  "status_id",
  "severity_id",
  "source",
  "source_uid",
  "actor_id",
  "actor_label",
  "developer_id",
  "subject_developer_id",
  "action",
  "resource_type",
  "resource_id",
  "src_ip",
] as const;

/** Encoded rows: tuples back to back, without the file header and trailer (see `copyChunks`). */
export interface EncodedRows {
  data: Buffer;
  count: number;
  /** Where each row (tuple) starts; its 8-byte leaf index is at rowAt + 6 (filled by setIndices). */
  rowAt: Int32Array;
  /** Each entry's UTF-8 bytes within data. */
  entryAt: Int32Array;
  entryLength: Int32Array;
}

// "PGCOPY\n\377\r\n\0", then flags (int32 0: no OIDs) and the header extension length (int32 0).
const HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
const TRAILER = Buffer.from([0xff, 0xff]);

/** The whole COPY data for these encoded groups of rows: header, rows, trailer. */
export const copyChunks = (groups: EncodedRows[]): Uint8Array[] => [
  HEADER,
  ...groups.filter((g) => g.count > 0).map((g) => g.data),
  TRAILER,
];

// PostgreSQL timestamps count microseconds from 2000-01-01T00:00:00Z.
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const TWO_32 = 2 ** 32;
const HEX = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Encodes rows (their `idx` left for setIndices). Throws a validation error for a value PostgreSQL
 * would refuse (an integer column out of range, a time outside what a Date can hold), naming the row.
 */
export function encodeRows(rows: readonly RowInput[]): EncodedRows {
  const count = rows.length;
  // A first guess from the entry sizes; grown when a row does not fit (UTF-8 can take 3 bytes per unit).
  let size = 64;
  for (const r of rows) size += r.entry.length + 256;
  let data = Buffer.allocUnsafe(size);
  let o = 0;
  const rowAt = new Int32Array(count);
  const entryAt = new Int32Array(count);
  const entryLength = new Int32Array(count);

  const ensure = (n: number) => {
    if (o + n <= data.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(data.length * 2, o + n));
    data.copy(bigger, 0, 0, o);
    data = bigger;
  };
  const text = (s: string | null) => {
    if (s === null) {
      data.writeInt32BE(-1, o);
      o += 4;
      return;
    }
    ensure(4 + 3 * s.length);
    // Short ASCII strings byte by byte: cheaper than a call into Buffer#write for a dozen bytes.
    let n = 0;
    if (s.length <= 64) {
      const at = o + 4;
      for (; n < s.length; n++) {
        const c = s.charCodeAt(n);
        if (c >= 0x80) break;
        data[at + n] = c;
      }
    }
    if (n < s.length) n = data.write(s, o + 4, "utf8");
    data.writeInt32BE(n, o);
    o += 4 + n;
  };
  const uuid = (s: string | null, what: string, row: number) => {
    if (s === null) {
      data.writeInt32BE(-1, o);
      o += 4;
      return;
    }
    if (!HEX.test(s)) throw invalid(row, what, "is not a UUID");
    data.writeInt32BE(16, o);
    o += 4;
    data.write(s.substring(0, 8), o, "hex");
    data.write(s.substring(9, 13), o + 4, "hex");
    data.write(s.substring(14, 18), o + 6, "hex");
    data.write(s.substring(19, 23), o + 8, "hex");
    data.write(s.substring(24, 36), o + 10, "hex");
    o += 16;
  };
  const timestamp = (d: Date, what: string, row: number) => {
    const ms = d.getTime();
    if (!Number.isFinite(ms)) throw invalid(row, what, "is not a valid time");
    const us = Math.round((ms - PG_EPOCH_MS) * 1000);
    const hi = Math.floor(us / TWO_32);
    data.writeInt32BE(8, o);
    data.writeInt32BE(hi, o + 4);
    data.writeUInt32BE(us - hi * TWO_32, o + 8);
    o += 12;
  };
  const int = (v: number, bytes: 2 | 4, what: string, row: number) => {
    const max = bytes === 2 ? 0x7fff : 0x7fffffff;
    if (!Number.isInteger(v) || v > max || v < -max - 1)
      throw invalid(row, what, `must be an integer of at most ${bytes * 8} bits`);
    data.writeInt32BE(bytes, o);
    if (bytes === 2) data.writeInt16BE(v, o + 4);
    else data.writeInt32BE(v, o + 4);
    o += 4 + bytes;
  };

  for (let i = 0; i < count; i++) {
    const r = rows[i]!;
    ensure(2 + 12 + 20 + 4);
    rowAt[i] = o;
    data.writeInt16BE(COLUMNS.length, o);
    data.writeInt32BE(8, o + 2);
    o += 14;
    uuid(r.id, "id", i);
    entryAt[i] = o + 4;
    text(r.entry);
    entryLength[i] = o - entryAt[i]!;
    ensure(4 * 64 + 3 * (r.kind.length + r.source.length + r.action.length));
    text(r.kind);
    timestamp(r.at, "time", i);
    timestamp(r.receivedAt, "received time", i);
    int(r.classUid, 4, "class_uid", i);
    int(r.activityId, 4, "activity_id", i);
    int(r.statusId, 2, "status_id", i);
    int(r.severityId, 2, "severity_id", i);
    text(r.source);
    text(r.sourceUid);
    text(r.actorId);
    text(r.actorLabel);
    ensure(48);
    uuid(r.developerId, "developer id", i);
    uuid(r.subjectDeveloperId, "subject developer id", i);
    text(r.action);
    text(r.resourceType);
    text(r.resourceId);
    text(r.srcIp);
  }
  // Keep only what was written (copied when the first guess was generous, so it is not held while queued).
  const used = o >= data.length * 0.75 ? data.subarray(0, o) : Buffer.from(data.subarray(0, o));
  return { data: used, count, rowAt, entryAt, entryLength };
}

/** Rows `keep` (positions, ascending) of `rows`, copied into new encoded rows. */
export function pickRows(rows: EncodedRows, keep: readonly number[]): EncodedRows {
  const end = (i: number) => (i + 1 < rows.count ? rows.rowAt[i + 1]! : rows.data.length);
  let size = 0;
  for (const i of keep) size += end(i) - rows.rowAt[i]!;
  const data = Buffer.allocUnsafe(size);
  const out: EncodedRows = {
    data,
    count: keep.length,
    rowAt: new Int32Array(keep.length),
    entryAt: new Int32Array(keep.length),
    entryLength: new Int32Array(keep.length),
  };
  let o = 0;
  keep.forEach((i, k) => {
    const from = rows.rowAt[i]!;
    rows.data.copy(data, o, from, end(i));
    out.rowAt[k] = o;
    out.entryAt[k] = o + (rows.entryAt[i]! - from);
    out.entryLength[k] = rows.entryLength[i]!;
    o += end(i) - from;
  });
  return out;
}

/** Writes leaf indices firstIndex, firstIndex + 1, … into the rows. */
export function setIndices(rows: EncodedRows, firstIndex: number): void {
  for (let i = 0; i < rows.count; i++) {
    const at = rows.rowAt[i]! + 6;
    const idx = firstIndex + i;
    const hi = Math.floor(idx / TWO_32);
    rows.data.writeInt32BE(hi, at);
    rows.data.writeUInt32BE(idx - hi * TWO_32, at + 4);
  }
}

/** The entry bytes of row i (a view into the rows, not a copy). */
export const entryBytes = (rows: EncodedRows, i: number): Uint8Array =>
  rows.data.subarray(rows.entryAt[i]!, rows.entryAt[i]! + rows.entryLength[i]!);

const invalid = (row: number, what: string, problem: string) =>
  new AppError("validation_failed", `event ${row}: ${what} ${problem}`, {
    fields: [{ field: `${row}`, message: `${what} ${problem}` }],
  });
