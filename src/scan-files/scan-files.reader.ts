import { isAscii, isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { closeSync, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type yauzlModule from "yauzl";
import type { Matcher, TextMatch } from "./scan-files.engine.ts";
import type { Severity } from "./scan-files.rules.ts";
import {
  classifyBinary,
  countNewlines,
  createDotenvAnalyser,
  createPiiAnalyser,
  createSqlDumpAnalyser,
  isTextEncrypted,
  keystoreFinding,
  type LineAnalyser,
  looksLikeData,
  looksLikeDotenv,
  looksLikeSql,
  looksLikeTerraformState,
  type PiiAnalyser,
  piiFinding,
  type SensitiveFinding,
  terraformStateFinding,
} from "./scan-files.sensitive.ts";

/** One finding before redaction. Secrets stay in memory only; every output redacts unless asked not to. */
export interface RawFinding {
  type: "secret" | "sensitive-file";
  ruleId: string;
  title: string;
  severity: Severity;
  path: string;
  line: number;
  column: number;
  secret: string;
  snippet: string;
  fingerprint: string;
  entropy?: number;
  detail?: string;
  commit?: CommitInfo;
}

export interface CommitInfo {
  sha: string;
  author: string;
  email: string;
  date: string;
  message: string;
}

export interface Skip {
  path: string;
  reason: string;
}

export interface SourceOutcome {
  findings: RawFinding[];
  skipped: Skip[];
  bytes: number;
  files: number;
  binary: number;
  encrypted: number;
}

export interface ReaderLimits {
  /** Nesting depth of archives opened (zip in tar.gz = 2). */
  maxArchiveDepth: number;
  /** Decompressed bytes allowed per top-level archive. */
  maxArchiveBytes: number;
  maxArchiveEntries: number;
  /** Compression ratio above which a large entry is treated as a bomb. */
  maxRatio: number;
  /** Files above this size are skipped (bytes). */
  maxFileSize: number;
  /** A nested zip is read into memory to be opened: up to this size. */
  maxNestedZipBytes: number;
}

export const defaultLimits: ReaderLimits = {
  maxArchiveDepth: 3,
  maxArchiveBytes: 1024 * 1024 * 1024,
  maxArchiveEntries: 20_000,
  maxRatio: 200,
  maxFileSize: 4 * 1024 * 1024 * 1024,
  maxNestedZipBytes: 64 * 1024 * 1024,
};

const HEAD_BYTES = 8192;
const CHUNK_BYTES = 1024 * 1024;
/** Text kept from one chunk to the next so matches across the boundary are seen whole. */
const OVERLAP = 40_000;
/** Matches ending this close to a chunk's end wait for the next chunk (they may continue). */
const DEFER = 17_000;
const MAX_LINE = 1024 * 1024;
/** Secrets listed per file (or archive entry, or added text of a commit). */
const MAX_FINDINGS_PER_SOURCE = 1000;

export const secretFingerprint = (ruleId: string, secret: string): string =>
  createHash("sha256").update(`warden-scan-v1\0${ruleId}\0${secret}`).digest("hex").slice(0, 32);

class BombError extends Error {}

// The archive readers load on the first archive: most trees have none, and each worker thread would
// otherwise pay for loading them at start-up.
let yauzlPromise: Promise<typeof yauzlModule> | null = null;
const loadYauzl = () => (yauzlPromise ??= import("yauzl").then((m) => m.default));
let tarPromise: Promise<typeof import("tar-stream")> | null = null;
const loadTarStream = () => (tarPromise ??= import("tar-stream").then((m) => m.default));

interface Budget {
  remaining: number;
  entries: number;
}

interface Ctx {
  matcher: Matcher;
  limits: ReaderLimits;
  path: string;
  depth: number;
  budget: Budget | null;
  /** The commit the text comes from (history), for allowlists naming commits. */
  commit?: string;
  /** A path on disk, when the source is a whole file (zip needs random access). */
  filePath?: string;
  size?: number;
}

function emptyOutcome(): SourceOutcome {
  return { findings: [], skipped: [], bytes: 0, files: 0, binary: 0, encrypted: 0 };
}

function merge(into: SourceOutcome, from: SourceOutcome): void {
  into.findings.push(...from.findings);
  into.skipped.push(...from.skipped);
  into.bytes += from.bytes;
  into.files += from.files;
  into.binary += from.binary;
  into.encrypted += from.encrypted;
}

/**
 * One buffer per thread for reading files: small files are read whole into it with a single `read`,
 * large ones a chunk at a time. Decoding copies the bytes out, so it is reused from file to file.
 */
let readBuffer: Buffer | null = null;

/**
 * Scans one file on disk with synchronous reads, or returns null when the file is an archive that needs
 * the streaming readers (`scanFile`). Never throws: problems become a `skipped` entry.
 *
 * Synchronous on purpose: it runs in worker threads that have nothing else to do meanwhile, and on the
 * 12,000 files / 96 MiB of the benchmark one `readFileSync`-style read costs 108 ms where
 * `fs.promises.readFile` costs 1.2 s and a read stream 1.1 s (a thread-pool round trip per step).
 */
export function scanFileSync(
  filePath: string,
  displayPath: string,
  matcher: Matcher,
  limits: ReaderLimits = defaultLimits,
): SourceOutcome | null {
  let fd = -1;
  try {
    fd = openSync(filePath, "r");
    const st = fstatSync(fd);
    if (st.isDirectory())
      return { ...emptyOutcome(), skipped: [{ path: displayPath, reason: "is a directory" }] };
    if (st.size > limits.maxFileSize)
      return {
        ...emptyOutcome(),
        skipped: [{ path: displayPath, reason: `larger than ${limits.maxFileSize} bytes` }],
      };
    readBuffer ??= Buffer.allocUnsafe(CHUNK_BYTES);
    const buf = readBuffer;
    const fill = (): number => {
      let n = 0;
      while (n < buf.length) {
        const r = readSync(fd, buf, n, buf.length - n, null);
        if (r === 0) break;
        n += r;
      }
      return n;
    };
    let n = fill();
    const head = buf.subarray(0, Math.min(n, HEAD_BYTES));
    const kind = classifyBinary(head, displayPath);
    const out = emptyOutcome();
    if (kind === "zip" || kind === "gzip" || kind === "tar") return null;
    if (kind === "age" || kind === "openpgp") {
      out.files = 1;
      out.encrypted = 1;
      return out;
    }
    if (kind === "pkcs12-by-name") {
      out.files = 1;
      out.bytes = head.length;
      out.findings.push(sensitiveToRaw(keystoreFinding(displayPath, head), displayPath));
      return out;
    }
    const isDb = kind === "sqlite" || kind === "access";
    if (!isDb && head.includes(0)) {
      out.files = 1;
      out.binary = 1;
      return out;
    }
    const ctx: Ctx = { matcher, limits, path: displayPath, depth: 0, budget: null, filePath, size: st.size };
    const scanner = createTextScanner(head, ctx, out, isDb);
    if (!scanner) return out;
    // A short read means the end of the file; a full buffer may be followed by more.
    let final = n < buf.length;
    while (scanner.push(buf.subarray(0, n), final) && !final) {
      n = fill();
      final = n < buf.length;
    }
    scanner.finish();
    return out;
  } catch (e) {
    return { ...emptyOutcome(), skipped: [{ path: displayPath, reason: describeError(e) }] };
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Scans one file on disk. Never throws: problems become a `skipped` entry. */
export async function scanFile(
  filePath: string,
  displayPath: string,
  matcher: Matcher,
  limits: ReaderLimits = defaultLimits,
  size?: number,
): Promise<SourceOutcome> {
  if (size !== undefined && size > limits.maxFileSize) {
    return {
      ...emptyOutcome(),
      skipped: [{ path: displayPath, reason: `larger than ${limits.maxFileSize} bytes` }],
    };
  }
  const stream = createReadStream(filePath, { highWaterMark: 256 * 1024 });
  try {
    return await scanSource(stream, {
      matcher,
      limits,
      path: displayPath,
      depth: 0,
      budget: null,
      filePath,
      ...(size !== undefined ? { size } : {}),
    });
  } catch (e) {
    return { ...emptyOutcome(), skipped: [{ path: displayPath, reason: describeError(e) }] };
  } finally {
    stream.destroy();
  }
}

/** Scans text that is not a file on disk: the added lines of a diff (at most about 1 MiB at a time). */
export function scanAddedText(
  text: string,
  displayPath: string,
  matcher: Matcher,
  limits: ReaderLimits = defaultLimits,
  commit?: string,
): SourceOutcome {
  const out = emptyOutcome();
  const head = Buffer.from(text.slice(0, HEAD_BYTES), "utf8");
  const kind = classifyBinary(head, displayPath);
  if (kind === "age" || kind === "openpgp") {
    out.files = 1;
    out.encrypted = 1;
    return out;
  }
  if (kind === "pkcs12-by-name") {
    out.files = 1;
    out.findings.push(sensitiveToRaw(keystoreFinding(displayPath, head), displayPath));
    return out;
  }
  if (head.includes(0)) {
    out.files = 1;
    out.binary = 1;
    return out;
  }
  const ctx: Ctx = {
    matcher,
    limits,
    path: displayPath,
    depth: 0,
    budget: null,
    ...(commit ? { commit } : {}),
  };
  const scanner = createTextScanner(head, ctx, out, false);
  if (!scanner) return out;
  scanner.pushText(text, true);
  scanner.finish();
  return out;
}

export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === "EACCES" || err?.code === "EPERM") return "permission denied";
  if (err?.code === "ENOENT") return "file disappeared or broken symlink";
  if (err?.code === "EISDIR") return "is a directory";
  if (e instanceof BombError) return e.message;
  return `unreadable: ${err?.message ?? String(e)}`.slice(0, 300);
}

type ChunkIter = AsyncIterator<Buffer>;

async function readHead(it: ChunkIter): Promise<{ head: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let n = 0;
  while (n < HEAD_BYTES) {
    const r = await it.next();
    if (r.done) return { head: Buffer.concat(parts), done: true };
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    parts.push(b);
    n += b.length;
  }
  return { head: Buffer.concat(parts), done: false };
}

/** Re-yields the head, then the rest, counting decompressed bytes against the archive budget. */
async function* rest(
  head: Buffer,
  it: ChunkIter,
  done: boolean,
  budget: Budget | null,
  path: string,
): AsyncGenerator<Buffer> {
  const charge = (n: number) => {
    if (!budget) return;
    budget.remaining -= n;
    if (budget.remaining < 0)
      throw new BombError("archive expands beyond the size limit (possible zip bomb)");
  };
  if (head.length) {
    charge(head.length);
    yield head;
  }
  if (done) return;
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    charge(b.length);
    yield b;
  }
  void path;
}

async function scanSource(source: AsyncIterable<Buffer> | Readable, ctx: Ctx): Promise<SourceOutcome> {
  const it = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const { head, done } = await readHead(it);
  const kind = classifyBinary(head, ctx.path);
  const out = emptyOutcome();
  if (kind === "age" || kind === "openpgp") {
    out.files = 1;
    out.encrypted = 1;
    return out;
  }
  if (kind === "zip" || kind === "gzip" || kind === "tar") {
    if (ctx.depth >= ctx.limits.maxArchiveDepth) {
      out.skipped.push({
        path: ctx.path,
        reason: `archive nested deeper than ${ctx.limits.maxArchiveDepth} levels`,
      });
      return out;
    }
    const budget = ctx.budget ?? { remaining: ctx.limits.maxArchiveBytes, entries: 0 };
    const inner: Ctx = { ...ctx, budget };
    try {
      if (kind === "zip") await scanZip(head, it, done, inner, out);
      else if (kind === "gzip") await scanGzip(head, it, done, inner, out);
      else await scanTar(rest(head, it, done, null, ctx.path), inner, out);
    } catch (e) {
      out.skipped.push({
        path: ctx.path,
        reason:
          e instanceof BombError
            ? e.message
            : `corrupt ${kind} archive: ${(e as Error).message}`.slice(0, 300),
      });
    }
    return out;
  }
  if (kind === "pkcs12-by-name") {
    out.files = 1;
    out.bytes = head.length;
    const f = keystoreFinding(ctx.path, head);
    out.findings.push(sensitiveToRaw(f, ctx.path));
    return out;
  }
  const isDb = kind === "sqlite" || kind === "access";
  if (!isDb && head.includes(0)) {
    out.files = 1;
    out.binary = 1;
    return out;
  }
  await scanTextStream(head, it, done, ctx, out, isDb);
  return out;
}

function sensitiveToRaw(f: SensitiveFinding, path: string): RawFinding {
  return {
    type: "sensitive-file",
    ruleId: f.ruleId,
    title: f.title,
    severity: f.severity,
    path,
    line: f.line,
    column: 1,
    secret: "",
    snippet: f.detail,
    detail: f.detail,
    fingerprint: f.fingerprint,
  };
}

function validUtf8Head(head: Buffer): boolean {
  // Cut at a character boundary: the head may end inside a multi-byte sequence.
  let end = head.length;
  for (let i = 1; i <= 3 && end - i >= 0; i++) {
    const b = head[end - i]!;
    if ((b & 0xc0) === 0xc0) {
      end -= i;
      break;
    }
    if ((b & 0x80) === 0) break;
  }
  return isUtf8(head.subarray(0, end));
}

/** The length of `b` without an incomplete UTF-8 sequence at its end. */
function completeUtf8Length(b: Uint8Array): number {
  const n = b.length;
  for (let i = 1; i <= 3 && i <= n; i++) {
    const c = b[n - i]!;
    if ((c & 0xc0) === 0x80) continue;
    if (c < 0xc0) return n;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return i < need ? n - i : n;
  }
  return n;
}

/** Keyword occurrences found in the bytes of a text before it was decoded (`Matcher.findKeywords`). */
type Found = Parameters<Matcher["scanFound"]>[3];

/** Reads a text source chunk by chunk: secrets, then the sensitive-file analysers chosen from its head. */
interface TextScanner {
  /**
   * Scans the next bytes (`final` on the last call). The bytes may be reused by the caller afterwards.
   * False when the source turned out to be one huge line: it is reported as skipped, stop feeding it.
   */
  push(bytes: Buffer, final: boolean): boolean;
  /** Same for text already decoded (the added lines of a diff). */
  pushText(text: string, final: boolean): boolean;
  /** Adds the sensitive-file findings and notes once everything was pushed. */
  finish(): void;
}

/** Null when the head shows an armored encrypted file (counted as encrypted in `out`). */
function createTextScanner(head: Buffer, ctx: Ctx, out: SourceOutcome, isDb: boolean): TextScanner | null {
  out.files = 1;
  const utf8 = isDb ? false : validUtf8Head(head);
  const headText = head.toString(utf8 ? "utf8" : "latin1");
  if (isTextEncrypted(headText)) {
    out.encrypted = 1;
    out.bytes = head.length;
    return null;
  }
  const path = ctx.path;
  const pii: PiiAnalyser | null = isDb || looksLikeData(headText, path) ? createPiiAnalyser() : null;
  const lineAnalysers: LineAnalyser[] = [];
  if (!isDb && looksLikeDotenv(headText, path)) lineAnalysers.push(createDotenvAnalyser());
  if (!isDb && looksLikeSql(headText)) lineAnalysers.push(createSqlDumpAnalyser(pii ?? createPiiAnalyser()));
  const extraFindings: SensitiveFinding[] = [];
  if (looksLikeTerraformState(headText)) extraFindings.push(terraformStateFinding(path));

  // Chunks are decoded whole while they are valid UTF-8 (or single-byte text) and the keywords can be
  // searched in bytes (`byteMode`); otherwise as a stream, with `decoder`, created on the first chunk
  // that is not pure ASCII (ASCII chunks skip it: Latin-1 is the faster copy, and equal to UTF-8 and
  // windows-1252 on ASCII, which is safe while no multi-byte sequence is pending).
  let byteMode = true;
  let tail: Buffer | null = null;
  let carryBytes: Buffer | null = null;
  let singleByteDecoder: TextDecoder | null = null;
  let decoder: TextDecoder | null = null;
  let carry = "";
  let carryLine = 1; // line number of carry[0]
  let pendingLine = "";
  let lineNo = 1; // line number of the next complete line for line analysers
  let sawNewline = false;
  let bytes = 0;
  let stopped = false;
  const findingsBefore = out.findings.length;

  const process = (text: string, final: boolean, found: Found | undefined) => {
    const full = carry + text;
    const acceptFrom = carry.length === 0 ? 0 : Math.max(0, carry.length - DEFER);
    const acceptTo = final ? Number.POSITIVE_INFINITY : full.length - DEFER;
    const matches = found
      ? ctx.matcher.scanFound(full, path, ctx.commit, found)
      : ctx.matcher.scan(full, path, ctx.commit);
    emitMatches(full, matches, acceptFrom, acceptTo, carryLine, path, out.findings);
    if (pii) pii.feed(text, carryLine + countNewlines(full, 0, carry.length));
    if (lineAnalysers.length) {
      const lines = (pendingLine + text).split("\n");
      pendingLine = final ? "" : lines.pop()!;
      if (pendingLine.length > MAX_LINE) pendingLine = "";
      for (const l of lines) {
        const line = l.endsWith("\r") ? l.slice(0, -1) : l;
        for (const a of lineAnalysers) a.line(line, lineNo);
        lineNo++;
      }
    }
    if (final) {
      carry = "";
      return;
    }
    const keep = full.slice(Math.max(0, full.length - OVERLAP));
    carryLine += countNewlines(full, 0, full.length - keep.length);
    carry = keep;
  };

  const pushText = (text: string, final: boolean, found?: Found): boolean => {
    if (stopped) return false;
    if (!sawNewline) {
      if (text.includes("\n")) sawNewline = true;
      else if (bytes > MAX_LINE) {
        stopped = true;
        out.skipped.push({
          path,
          reason: "single line longer than 1 MiB (generated or minified): not scanned",
        });
        return false;
      }
    }
    process(text, final, found);
    if (out.findings.length - findingsBefore > MAX_FINDINGS_PER_SOURCE) {
      // Thousands of secrets in one file is a data dump: say so rather than hold them all in memory.
      out.findings.length = findingsBefore + MAX_FINDINGS_PER_SOURCE;
      stopped = true;
      out.skipped.push({
        path,
        reason: `more than ${MAX_FINDINGS_PER_SOURCE} secrets: the first ${MAX_FINDINGS_PER_SOURCE} are listed, the rest of the file is not scanned`,
      });
      return false;
    }
    return true;
  };

  return {
    push(b, final) {
      if (stopped) return false;
      const first = bytes === 0;
      bytes += b.length;
      if (byteMode) {
        // The keywords are searched in the bytes (the carry's and this chunk's) before decoding. Where
        // none occurs in a whole source (most files) and no analyser wants the text, it is not even
        // decoded; otherwise the matcher takes the occurrences found rather than searching the text.
        let src = tail ? Buffer.concat([tail, b]) : b;
        tail = null;
        // A chunk may end inside a UTF-8 sequence: those bytes wait for the next chunk.
        const cut = utf8 && !final ? completeUtf8Length(src) : src.length;
        if (cut < src.length) {
          tail = Buffer.from(src.subarray(cut));
          src = src.subarray(0, cut);
        }
        const all = carryBytes ? Buffer.concat([carryBytes, src]) : src;
        const ascii = isAscii(all);
        const n = ascii || !utf8 || isUtf8(all) ? ctx.matcher.findKeywords(all) : -1;
        if (n === 0 && first && final && !ctx.matcher.needsText && !pii && lineAnalysers.length === 0)
          return true;
        if (n >= 0) {
          let text: string;
          if (ascii) text = src.toString("latin1");
          else if (utf8) text = src.toString("utf8");
          else {
            singleByteDecoder ??= new TextDecoder("latin1");
            text = singleByteDecoder.decode(src);
          }
          const bom = first && utf8 && text.charCodeAt(0) === 0xfeff;
          if (bom) text = text.slice(1);
          const going = pushText(text, final, ascii || !utf8 ? { n } : { n, utf8: all, bom });
          // The carry's bytes: the same characters, so the next chunk's offsets line up (when the carry
          // starts inside a surrogate pair they do not decode the same, and that chunk is decoded as a
          // stream instead).
          const carryLength = ascii || !utf8 ? carry.length : Buffer.byteLength(carry, "utf8");
          carryBytes = carry ? Buffer.from(all.subarray(all.length - carryLength)) : null;
          return going;
        }
        // Not valid UTF-8, or a keyword that is not ASCII: decoded as a stream from here on.
        byteMode = false;
        carryBytes = null;
        b = tail ? Buffer.concat([src, tail]) : src;
        tail = null;
        decoder = new TextDecoder(utf8 ? "utf-8" : "latin1", { ignoreBOM: !first });
      }
      let text: string;
      if (!decoder && isAscii(b)) text = b.toString("latin1");
      else {
        decoder ??= new TextDecoder(utf8 ? "utf-8" : "latin1");
        text = decoder.decode(b, { stream: !final });
      }
      return pushText(text, final);
    },
    pushText(text, final) {
      bytes += Buffer.byteLength(text, "utf8");
      return pushText(text, final);
    },
    finish() {
      out.bytes = bytes;
      if (stopped) return;
      if (!utf8 && !isDb && bytes > 0) {
        // Read as Latin-1 so ASCII secrets are still found; said here so the user knows.
        out.skipped.push({ path, reason: "not valid UTF-8: read as Latin-1 (scanned)" });
      }
      for (const a of lineAnalysers) {
        const f = a.finish();
        if (f) extraFindings.push(f);
      }
      // A SQL dump finding already states the personal data it holds.
      if (pii && !extraFindings.some((f) => f.ruleId === "sql-dump")) {
        const f = piiFinding(pii, isDb ? "database-file" : "personal-data", isDb ? "database" : "file");
        if (f) extraFindings.push(f);
      }
      for (const f of extraFindings) out.findings.push(sensitiveToRaw(f, path));
    },
  };
}

async function scanTextStream(
  head: Buffer,
  it: ChunkIter,
  done: boolean,
  ctx: Ctx,
  out: SourceOutcome,
  isDb: boolean,
): Promise<void> {
  // The analysers judge the same head whatever the chunk sizes of the source (the rest is yielded whole).
  const scanner = createTextScanner(head.subarray(0, HEAD_BYTES), ctx, out, isDb);
  if (!scanner) return;
  const parts: Buffer[] = [];
  let partsLen = 0;
  let going = true;
  for await (const b of rest(head, it, done, ctx.budget, ctx.path)) {
    parts.push(b);
    partsLen += b.length;
    if (partsLen >= CHUNK_BYTES) {
      going = scanner.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts), false);
      parts.length = 0;
      partsLen = 0;
      if (!going) break;
    }
  }
  if (going) scanner.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts), true);
  scanner.finish();
}

/**
 * Turns the matcher's matches in `full` into findings, keeping those whose start is at or after `acceptFrom` (earlier ones
 * were reported with the previous chunk) and whose end is before `acceptTo` (later ones may continue).
 */
function emitMatches(
  full: string,
  matches: TextMatch[],
  acceptFrom: number,
  acceptTo: number,
  lineAtStart: number,
  path: string,
  out: RawFinding[],
): void {
  let cursor = 0;
  let line = lineAtStart;
  for (const m of matches) {
    if (m.end <= acceptFrom) continue;
    if (m.end > acceptTo) continue;
    line += countNewlines(full, cursor, m.start);
    cursor = m.start;
    const ls = full.lastIndexOf("\n", m.start - 1) + 1;
    let le = full.indexOf("\n", m.start);
    if (le < 0) le = full.length;
    const from = Math.max(ls, m.start - 60);
    const to = Math.min(le, Math.max(m.end, m.start + 60) + 60);
    out.push({
      type: "secret",
      ruleId: m.rule.id,
      title: m.rule.title,
      severity: m.rule.severity,
      path,
      line,
      column: m.start - ls + 1,
      secret: m.secret,
      snippet: full.slice(from, to).slice(0, 400),
      fingerprint: secretFingerprint(m.rule.id, m.secret),
      entropy: Math.round(m.entropy * 100) / 100,
    });
  }
}

async function scanZip(
  head: Buffer,
  it: ChunkIter,
  done: boolean,
  ctx: Ctx,
  out: SourceOutcome,
): Promise<void> {
  const yauzl = await loadYauzl();
  let zip: yauzlModule.ZipFile;
  const opts = { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: false };
  if (ctx.filePath && ctx.depth === 0) {
    zip = await yauzl.openPromise(ctx.filePath, opts);
  } else {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const b of rest(head, it, done, ctx.budget, ctx.path)) {
      n += b.length;
      if (n > ctx.limits.maxNestedZipBytes)
        throw new BombError(`nested zip larger than ${ctx.limits.maxNestedZipBytes} bytes`);
      parts.push(b);
    }
    zip = await yauzl.fromBufferPromise(Buffer.concat(parts), opts);
  }
  try {
    let encrypted = 0;
    let entries = 0;
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith("/")) continue;
      entries++;
      const budget = ctx.budget!;
      budget.entries++;
      if (budget.entries > ctx.limits.maxArchiveEntries)
        throw new BombError(`more than ${ctx.limits.maxArchiveEntries} archive entries (possible zip bomb)`);
      const innerPath = `${ctx.path}!${entry.fileName}`;
      if (entry.isEncrypted()) {
        encrypted++;
        continue;
      }
      if (
        entry.uncompressedSize > 1024 * 1024 &&
        entry.uncompressedSize / Math.max(1, entry.compressedSize) > ctx.limits.maxRatio
      )
        throw new BombError(
          `entry ${entry.fileName} expands ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))}:1 (possible zip bomb)`,
        );
      if (entry.uncompressedSize > budget.remaining)
        throw new BombError("archive expands beyond the size limit (possible zip bomb)");
      if (!entry.canDecodeFileData()) {
        out.skipped.push({
          path: innerPath,
          reason: `unsupported compression method ${entry.compressionMethod}`,
        });
        continue;
      }
      const stream = await zip.openReadStreamPromise(entry);
      try {
        const r = await scanSource(stream, {
          ...ctx,
          path: innerPath,
          depth: ctx.depth + 1,
          filePath: undefined as never,
        });
        merge(out, r);
      } catch (e) {
        if (e instanceof BombError) throw e;
        out.skipped.push({ path: innerPath, reason: `corrupt entry: ${(e as Error).message}`.slice(0, 300) });
      } finally {
        stream.destroy();
      }
    }
    if (entries > 0 && encrypted === entries) out.encrypted++;
    else out.encrypted += encrypted;
  } finally {
    zip.close();
  }
}

async function scanGzip(
  head: Buffer,
  it: ChunkIter,
  done: boolean,
  ctx: Ctx,
  out: SourceOutcome,
): Promise<void> {
  const gunzip = createGunzip();
  let compressed = 0;
  let produced = 0;
  const feed = (async () => {
    try {
      for await (const b of rest(head, it, done, null, ctx.path)) {
        compressed += b.length;
        if (!gunzip.write(b)) await new Promise((r) => gunzip.once("drain", r));
      }
      gunzip.end();
    } catch (e) {
      gunzip.destroy(e as Error);
    }
  })();
  const limits = ctx.limits;
  const counted = async function* () {
    for await (const b of gunzip as AsyncIterable<Buffer>) {
      produced += b.length;
      if (produced > 8 * 1024 * 1024 && produced / Math.max(1, compressed) > limits.maxRatio * 5)
        throw new BombError(`gzip stream expands over ${limits.maxRatio * 5}:1 (possible gzip bomb)`);
      yield b;
    }
  };
  const innerName = ctx.path.replace(/\.(?:t?gz|gzip)$/i, (m) => (m.toLowerCase() === ".tgz" ? ".tar" : ""));
  const innerPath = `${ctx.path}!${innerName.split(/[/\\!]/).pop()}`;
  try {
    const r = await scanSource(counted(), {
      ...ctx,
      path: innerPath,
      depth: ctx.depth + 1,
      filePath: undefined as never,
    });
    merge(out, r);
  } finally {
    gunzip.destroy();
    await feed.catch(() => {});
  }
}

async function scanTar(source: AsyncIterable<Buffer>, ctx: Ctx, out: SourceOutcome): Promise<void> {
  const extract = (await loadTarStream()).extract();
  const feeding = (async () => {
    try {
      for await (const b of source) {
        if (!extract.write(b)) await new Promise((r) => extract.once("drain", r));
      }
      extract.end();
    } catch (e) {
      extract.destroy(e as Error);
    }
  })();
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (h.type !== "file" && h.type !== "contiguous-file") {
        entry.resume();
        continue;
      }
      const budget = ctx.budget!;
      budget.entries++;
      if (budget.entries > ctx.limits.maxArchiveEntries)
        throw new BombError(`more than ${ctx.limits.maxArchiveEntries} archive entries (possible zip bomb)`);
      const innerPath = `${ctx.path}!${h.name}`;
      const r = await scanSource(entry, {
        ...ctx,
        path: innerPath,
        depth: ctx.depth + 1,
        filePath: undefined as never,
      });
      merge(out, r);
      entry.resume();
    }
  } finally {
    extract.destroy();
    await feeding;
  }
}
