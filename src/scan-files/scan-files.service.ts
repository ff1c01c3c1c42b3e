import { type Dirent, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Piscina } from "piscina";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import { AppError } from "../core/errors.ts";
import { readConfigSource } from "./scan-files.config.ts";
import { allowsWholeFiles } from "./scan-files.engine.ts";
import { gitAddedText, gitRevExists, gitTopLevel } from "./scan-files.git.ts";
import {
  type CommitInfo,
  defaultLimits,
  type RawFinding,
  type ReaderLimits,
  type Skip,
} from "./scan-files.reader.ts";
import type { Severity } from "./scan-files.rules.ts";
import { type ConfigSource, compileConfig } from "./scan-files.ruleset.ts";
import { type ReportFinding, type ScanReport, scanReportSchema } from "./scan-files.schemas.ts";
import {
  type FileItem,
  matcherFor,
  runTask,
  type TextItem,
  type TextOutcome,
  type WorkerData,
  type WorkerTask,
} from "./scan-files.worker.ts";

export const WARDEN_SCAN_VERSION = "0.1.0";

export interface ScanProgress {
  files: number;
  bytes: number;
  findings: number;
  /** Files known so far (grows while the tree is walked). */
  queued: number;
}

export interface ScanFilesOptions {
  paths: string[];
  gitHistory?: boolean;
  /** With gitHistory: only commits after this revision (REV..HEAD). */
  since?: string;
  staged?: boolean;
  configPath?: string;
  baselinePath?: string;
  /** Redact secrets in the result (default true). */
  redact?: boolean;
  /**
   * Threads that scan files, the calling thread included (it walks the tree and scans beside N-1 worker
   * threads); 0 or 1 scans on the calling thread alone. History scans use N-2 workers. Default: all cores.
   */
  workers?: number;
  limits?: Partial<ReaderLimits>;
  vendorId?: string;
  engagementId?: string;
  clock?: Clock;
  onProgress?: (p: ScanProgress) => void;
  /** Working directory for relative display paths (default process.cwd()). */
  cwd?: string;
}

export interface ScanResult {
  /** Redacted unless `redact: false` was asked. */
  report: ScanReport;
  /** Always redacted: what may leave the machine (`--report`). */
  redactedReport: ScanReport;
}

const severityRank: Record<Severity, number> = { low: 1, medium: 2, high: 3 };

export function atOrAbove(sev: Severity, threshold: Severity): boolean {
  return severityRank[sev] >= severityRank[threshold];
}

/** Keeps a few leading characters of long secrets (provider prefixes help triage), never the rest. */
export function redactSecret(secret: string): string {
  if (!secret) return "";
  if (secret.startsWith("-----BEGIN")) return `${secret.split("\n")[0]}…REDACTED`;
  const keep = secret.length >= 20 ? 4 : 0;
  return `${secret.slice(0, keep)}${"*".repeat(Math.min(8, secret.length - keep))}…(${secret.length} chars)`;
}

function redactFinding(f: RawFinding, redact: boolean): ReportFinding {
  const secret = redact ? redactSecret(f.secret) : f.secret;
  let snippet = f.snippet;
  if (redact && f.secret) {
    const first = f.secret.split("\n")[0]!;
    snippet = snippet.split(f.secret).join(secret).split(first).join(secret);
  }
  return {
    type: f.type,
    ruleId: f.ruleId,
    title: f.title,
    severity: f.severity,
    path: f.path,
    line: f.line,
    column: f.column,
    secret: secret.slice(0, 20_000),
    snippet: snippet.slice(0, 2000),
    fingerprint: f.fingerprint,
    ...(f.entropy !== undefined ? { entropy: f.entropy } : {}),
    ...(f.detail ? { detail: f.detail.slice(0, 2000) } : {}),
    ...(f.commit ? { commit: f.commit } : {}),
  };
}

/** Reads fingerprints from a previous JSON report or from `{ "fingerprints": [...] }`. */
export function loadBaseline(path: string): Set<string> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new AppError("bad_request", `Cannot read baseline ${path}: ${(e as Error).message}`);
  }
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === "string" && /^[0-9a-f]{32}$/.test(v)) out.add(v);
  };
  if (Array.isArray(data)) for (const f of data) add((f as { fingerprint?: unknown })?.fingerprint);
  else if (data && typeof data === "object") {
    const o = data as { findings?: unknown; fingerprints?: unknown };
    if (Array.isArray(o.fingerprints)) for (const f of o.fingerprints) add(f);
    if (Array.isArray(o.findings))
      for (const f of o.findings) add((f as { fingerprint?: unknown })?.fingerprint);
  }
  return out;
}

/** tsx's ESM loader, resolved from this package (not from the current directory, as `--import tsx` would be). */
function tsxLoader(): string {
  const pkg = createRequire(import.meta.url).resolve("tsx/package.json");
  return pathToFileURL(join(dirname(pkg), "dist", "loader.mjs")).href;
}

// From source the worker is the .ts beside this file; in the bundle (dist/warden.js) the build emits it
// as dist/scan-files.worker.js.
const workerFile = fileURLToPath(
  new URL(
    import.meta.url.endsWith(".ts") ? "./scan-files.worker.ts" : "./scan-files.worker.js",
    import.meta.url,
  ),
);

interface Pool {
  run(task: WorkerTask): Promise<TextOutcome>;
  size: number;
  /** Tasks waiting for a thread. */
  backlog(): number;
  close(): Promise<void>;
}

/**
 * Heap limits of a worker thread: far above what a scan needs (one 1 MiB chunk and its text at a time),
 * low enough that a runaway worker fails its task instead of taking the machine's memory.
 */
const WORKER_HEAP = { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 };

function createPool(workers: number, config: ConfigSource): Pool {
  if (workers <= 0)
    return {
      run: (t) => runTask({ ...t, config }) as Promise<TextOutcome>,
      size: 1,
      backlog: () => 0,
      close: async () => {},
    };
  // The worker is TypeScript: when this module runs from source, the worker needs the same loader.
  const needsTsx = workerFile.endsWith(".ts") && !process.execArgv.some((a) => a.includes("tsx"));
  const piscina = new Piscina({
    filename: workerFile,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 1000,
    execArgv: needsTsx ? [...process.execArgv, "--import", tsxLoader()] : process.execArgv,
    workerData: { config, keywordTables: matcherFor(config).keywordTables() } satisfies WorkerData,
    resourceLimits: WORKER_HEAP,
    // Each worker holds its next tasks, so it does not wait for this thread between two tasks.
    concurrentTasksPerWorker: CONCURRENT_PER_WORKER,
  });
  return {
    run: (t) => piscina.run(t) as Promise<TextOutcome>,
    size: workers,
    backlog: () => piscina.queueSize,
    close: () => piscina.destroy(),
  };
}

/** A task whose worker died (out of memory, killed): its files are reported as skipped, the scan goes on. */
function failedTask(task: WorkerTask, e: unknown): TextOutcome {
  const reason = `not scanned: the scanner thread failed (${(e as Error)?.message ?? e})`.slice(0, 300);
  return {
    findings: [],
    skipped: task.items.map((i) => ({ path: i.display, reason })),
    bytes: 0,
    files: 0,
    binary: 0,
    encrypted: 0,
    commits: [],
  };
}

/**
 * Walks the given paths depth-first in name order, yielding regular files. Skips .git; reports what it
 * cannot read. The directory entries' types come from `readdir` itself (d_type), so a file costs no
 * `lstat` here; only symbolic links are resolved, and entries of unknown type looked up.
 *
 * Synchronous: this thread scans files between two directories too, and waiting for each listing on
 * libuv's pool left it idle for a third of a run (about 2,000 directories in the benchmark's tree).
 */
function* walk(
  roots: string[],
  cwd: string,
  skipped: Skip[],
  excluded: (display: string) => boolean,
): Generator<FileItem> {
  // Under cwd (the usual case) the relative path is the rest of the absolute one: paths here are
  // normalised (resolved roots, joined names), so no `path.relative` per file.
  const under = cwd.endsWith(sep) ? cwd : cwd + sep;
  const display = (abs: string) => {
    if (abs.startsWith(under) && abs.length > under.length) return abs.slice(under.length);
    const rel = relative(cwd, abs);
    return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
  };
  type Entry = { abs: string; kind: "file" | "dir" | "link" | "other" | "unknown"; root: boolean };
  const kindOf = (d: Dirent): Entry["kind"] =>
    d.isFile()
      ? "file"
      : d.isDirectory()
        ? "dir"
        : d.isSymbolicLink()
          ? "link"
          : d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice()
            ? "other"
            : "unknown";
  const stack: Entry[] = roots.map((abs) => ({ abs, kind: "unknown" as const, root: true })).reverse();
  while (stack.length) {
    const entry = stack.pop()!;
    const { abs } = entry;
    const shown = display(abs);
    let kind = entry.kind;
    if (kind === "unknown") {
      try {
        const st = lstatSync(abs);
        kind = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "link" : "other";
      } catch (e) {
        skipped.push({ path: shown, reason: `cannot read: ${(e as NodeJS.ErrnoException).code ?? e}` });
        continue;
      }
    }
    if (kind === "link") {
      try {
        // Symlinked directories are not followed (loops); symlinked files are scanned.
        if (statSync(abs).isFile() && !excluded(shown)) yield { path: abs, display: shown };
      } catch {
        skipped.push({ path: shown, reason: "broken symbolic link" });
      }
      continue;
    }
    if (kind === "dir") {
      if (!entry.root && /(?:^|[/\\])\.git$/.test(abs)) continue;
      if (excluded(`${shown}/`)) continue;
      try {
        const children: Entry[] = [];
        // `abs` is normalised and a name holds no separator: concatenation is what `join` would give.
        const prefix = abs.endsWith(sep) ? abs : abs + sep;
        for (const d of readdirSync(abs, { withFileTypes: true }))
          if (d.name !== ".git") children.push({ abs: prefix + d.name, kind: kindOf(d), root: false });
        children.sort((x, y) => (x.abs < y.abs ? 1 : x.abs > y.abs ? -1 : 0));
        stack.push(...children);
      } catch (e) {
        skipped.push({
          path: shown,
          reason: `cannot list directory: ${(e as NodeJS.ErrnoException).code ?? e}`,
        });
      }
      continue;
    }
    if (kind === "file" && !excluded(shown)) yield { path: abs, display: shown };
  }
}

/** Files per worker message: enough to amortise the message, few enough to keep both workers busy. */
const FILES_PER_TASK = 64;
/** Bytes scanned on the calling thread before worker threads start. */
const INLINE_BYTES = 1024 * 1024;
/** Batches of files handed to each worker thread at a time (it holds CONCURRENT_PER_WORKER of them). */
const PER_WORKER = 8;
const CONCURRENT_PER_WORKER = 6;

/** Runs a scan and returns the report (redacted unless `redact: false`). Throws AppError on usage errors. */
export async function scanFiles(options: ScanFilesOptions): Promise<ScanResult> {
  const clock = options.clock ?? systemClock;
  const startedAt = clock.now();
  const t0 = performance.now();
  const cwd = options.cwd ?? process.cwd();
  if (options.paths.length === 0) throw new AppError("bad_request", "Give at least one PATH to scan");
  const roots = options.paths.map((p) => resolve(cwd, p));
  for (const r of roots) {
    try {
      await stat(r);
    } catch {
      throw new AppError("bad_request", `Path not found: ${r}`);
    }
  }
  if (options.since && !options.gitHistory) throw new AppError("bad_request", "--since needs --git-history");
  if (options.staged && options.gitHistory)
    throw new AppError("bad_request", "Use either --staged or --git-history, not both");
  const configSource = readConfigSource(options.configPath ? resolve(cwd, options.configPath) : undefined);
  const config = compileConfig(configSource);
  const baseline = options.baselinePath ? loadBaseline(options.baselinePath) : new Set<string>();
  const limits: ReaderLimits = { ...defaultLimits, ...options.limits };
  const mode: ScanReport["mode"] = options.gitHistory ? "git-history" : options.staged ? "staged" : "files";
  const threads = options.workers ?? Math.max(1, availableParallelism());
  // Files: this thread walks the tree and scans too, so it is one of the `threads`: on 2 cores, one
  // worker thread and this one (measured faster than two workers beside an idle walker: one thread start
  // and one JIT warm-up fewer, and no third thread on two cores).
  // History: `git log -p` produces about 15 MiB/s on one core and this thread parses it, while one thread
  // matches over 100 MiB/s: workers only help with the cores left after those two (none on 2 cores,
  // where they measured slower than matching here: copies of every text to a thread and back).
  const workers = mode === "files" ? Math.max(0, threads - 1) : Math.max(0, threads - 2);
  // Small scans stay on this thread (a worker costs a thread start and compiling the rules): the pool
  // starts past INLINE_BYTES. Then a batch of files goes to the workers while they hold fewer than
  // PER_WORKER batches, and is scanned here otherwise (while they start, nearly all of them). The pool's
  // queue lives on this thread: each worker holds several batches, so it still has work while this
  // thread scans one of its own and cannot hand out the next.
  const inline = createPool(0, configSource);
  let threaded: Pool | null = null;
  let inlineBytes = 0;
  let atWorkers = 0;
  const runInline = (task: WorkerTask) =>
    inline.run(task).then((r) => {
      inlineBytes += r.bytes;
      return r;
    });
  const pool: Pool = {
    size: workers,
    backlog: () => threaded?.backlog() ?? 0,
    run(task) {
      if (workers <= 0 || (!threaded && inlineBytes < INLINE_BYTES)) return runInline(task);
      threaded ??= createPool(workers, configSource);
      if (task.kind === "files" && atWorkers >= workers * PER_WORKER) return runInline(task);
      atWorkers++;
      return threaded.run(task).then(
        (r) => {
          atWorkers--;
          return r;
        },
        (e) => {
          atWorkers--;
          return failedTask(task, e);
        },
      );
    },
    close: async () => {
      await threaded?.close();
    },
  };

  const findings: RawFinding[] = [];
  const skipped: Skip[] = [];
  const commits: CommitInfo[] = [];
  const progress: ScanProgress = { files: 0, bytes: 0, findings: 0, queued: 0 };
  let binary = 0;
  let encrypted = 0;
  const inFlight = new Set<Promise<void>>();
  // Files: batches scanned here are done when they return; at most PER_WORKER per worker are in flight.
  // History: tasks held by each worker, and as many queued here.
  const maxInFlight = Math.max(2, pool.size * (PER_WORKER + 1));

  const submit = async (task: WorkerTask) => {
    const p = pool.run(task).then((r) => {
      r.findings.forEach((f, i) => {
        const ci = r.commits?.[i];
        if (ci !== undefined && ci >= 0 && commits[ci]) f.commit = commits[ci];
        findings.push(f);
      });
      skipped.push(...r.skipped);
      binary += r.binary;
      encrypted += r.encrypted;
      progress.files += r.files;
      progress.bytes += r.bytes;
      progress.findings = findings.length;
      options.onProgress?.({ ...progress });
    });
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    // Bounded memory: never more than a few batches waiting per worker.
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    // The walk and the batches scanned here are synchronous: let the workers' answers in (they free
    // room for the next batch) and the progress bar draw.
    if (pool.size > 0) await new Promise<void>((r) => setImmediate(r));
  };

  try {
    if (mode === "files") {
      // Files that a global allowlist allows whatever they hold are not even read.
      const globalPaths = config.allowlists
        .filter((a) => a.ruleIds.length === 0 && allowsWholeFiles(a))
        .flatMap((a) => a.paths);
      const excluded = (p: string) => globalPaths.some((re) => re.test(p));
      let batch: FileItem[] = [];
      for (const item of walk(roots, cwd, skipped, excluded)) {
        progress.queued++;
        for (const pr of config.pathRules) {
          if (pr.path.test(item.display))
            findings.push({
              type: "sensitive-file",
              ruleId: pr.id,
              title: pr.title,
              severity: pr.severity,
              path: item.display,
              line: 0,
              column: 0,
              secret: "",
              snippet: "",
              fingerprint: secretFingerprintOfPath(pr.id, item.display),
            });
        }
        batch.push(item);
        // Sizes are not known here (no stat per file): the worker reads each file's size as it opens it.
        if (batch.length >= FILES_PER_TASK) {
          await submit({ kind: "files", limits, items: batch });
          batch = [];
        }
      }
      if (batch.length) await submit({ kind: "files", limits, items: batch });
    } else {
      const repos = [...new Set(roots.map((r) => gitTopLevel(r)))];
      for (const repo of repos) {
        if (options.since && !gitRevExists(repo, options.since))
          throw new AppError("bad_request", `--since ${options.since}: no such revision in ${repo}`);
        const prefix = relative(cwd, repo);
        let batch: TextItem[] = [];
        let size = 0;
        const gen = gitAddedText(
          repo,
          mode === "staged"
            ? { kind: "staged" }
            : { kind: "history", ...(options.since ? { since: options.since } : {}) },
          commits,
        );
        for await (const item of gen) {
          if (prefix && !prefix.startsWith("..")) item.display = join(prefix, item.display);
          batch.push(item);
          size += item.text.length;
          if (size >= 512 * 1024 || batch.length >= 256) {
            await submit({ kind: "texts", limits, items: batch });
            batch = [];
            size = 0;
          }
        }
        if (batch.length) await submit({ kind: "texts", limits, items: batch });
      }
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }

  // History: the same secret in the same file shows up once, at the commit that introduced it (oldest).
  let kept = findings;
  if (mode === "git-history") {
    const seen = new Map<string, RawFinding>();
    for (const f of findings) {
      const key = `${f.fingerprint}\0${f.path}`;
      const prev = seen.get(key);
      if (!prev || (f.commit && prev.commit && f.commit.date < prev.commit.date)) seen.set(key, f);
    }
    kept = [...seen.values()];
  }
  const before = kept.length;
  kept = kept.filter((f) => !baseline.has(f.fingerprint));
  kept.sort(
    (a, b) =>
      a.path.localeCompare(b.path) ||
      a.line - b.line ||
      a.column - b.column ||
      a.ruleId.localeCompare(b.ruleId),
  );
  skipped.sort((a, b) => a.path.localeCompare(b.path));
  const redact = options.redact !== false;
  const build = (redact: boolean): ScanReport => ({
    schema: "warden.scan.files/v1",
    tool: { name: "warden", version: WARDEN_SCAN_VERSION },
    startedAt: startedAt.toISOString(),
    finishedAt: new Date(startedAt.getTime() + (performance.now() - t0)).toISOString(),
    targets: options.paths,
    mode,
    redacted: redact,
    ...(options.vendorId ? { vendorId: options.vendorId } : {}),
    ...(options.engagementId ? { engagementId: options.engagementId } : {}),
    stats: {
      files: progress.files,
      bytes: progress.bytes,
      binarySkipped: binary,
      encrypted,
      ...(mode !== "files" ? { commits: commits.length } : {}),
      rules: config.rules.length + config.pathRules.length,
      durationMs: Math.round(performance.now() - t0),
      baselineSuppressed: before - kept.length,
    },
    findings: kept.map((f) => redactFinding(f, redact)),
    skipped: skipped.map((s) => ({ path: s.path.slice(0, 4096), reason: s.reason.slice(0, 500) })),
  });
  const redactedReport = scanReportSchema.parse(build(true));
  return { report: redact ? redactedReport : scanReportSchema.parse(build(false)), redactedReport };
}

function secretFingerprintOfPath(ruleId: string, path: string): string {
  // Name-only rules have nothing but the file name to key on.
  const name = path.split(/[/\\]/).pop() ?? path;
  return createHashHex(`warden-scan-v1\0${ruleId}\0path\0${name}`);
}

import { createHash } from "node:crypto";

function createHashHex(s: string): string {
  return createHash("sha256").update(s).digest("hex").slice(0, 32);
}
