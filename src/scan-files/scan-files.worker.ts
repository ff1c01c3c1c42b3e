/**
 * Worker-thread entry (Piscina). Each worker compiles the rules once per config and then reads and
 * matches the files it is given, so reading, decoding and matching all run off the main thread.
 */
import { workerData } from "node:worker_threads";
import { createMatcher, type Matcher } from "./scan-files.engine.ts";
import type { AutomatonTables } from "./scan-files.prefilter.ts";
import {
  defaultLimits,
  type ReaderLimits,
  type SourceOutcome,
  scanAddedText,
  scanFile,
  scanFileSync,
} from "./scan-files.reader.ts";
import { type ConfigSource, compileConfig } from "./scan-files.ruleset.ts";

export interface FileItem {
  path: string;
  display: string;
}

export interface TextItem {
  display: string;
  text: string;
  /** Line number in the real file of each line of `text` (added lines of a diff). */
  lines: number[];
  /** Index of the commit this text came from, in the caller's list. */
  commit: number;
  /** Its SHA, for allowlists that name commits. */
  sha?: string;
}

/**
 * `config` is given on the calling thread only; a worker thread gets it once, as its `workerData`,
 * rather than with every task.
 */
export type WorkerTask =
  | { kind: "files"; config?: ConfigSource; limits?: ReaderLimits; items: FileItem[] }
  | { kind: "texts"; config?: ConfigSource; limits?: ReaderLimits; items: TextItem[] };

export interface TextOutcome extends SourceOutcome {
  /** commit index for each finding, same order as findings. */
  commits: number[];
}

/**
 * What a worker thread starts with: the validated config, and the keyword automaton the calling thread
 * already compiled for it (compiling it again costs each thread tens of milliseconds at start).
 */
export interface WorkerData {
  config: ConfigSource;
  keywordTables?: AutomatonTables;
}

const BUILTIN: ConfigSource = { files: [] };
const matchers = new WeakMap<ConfigSource, Matcher>();

export function matcherFor(config: ConfigSource = BUILTIN, keywordTables?: AutomatonTables): Matcher {
  let m = matchers.get(config);
  if (!m) {
    const cfg = compileConfig(config);
    m = createMatcher(cfg.rules, cfg.allowlists, keywordTables);
    matchers.set(config, m);
  }
  return m;
}

export async function runTask(task: WorkerTask): Promise<SourceOutcome | TextOutcome> {
  const data = workerData as WorkerData | null;
  const matcher = task.config ? matcherFor(task.config) : matcherFor(data?.config, data?.keywordTables);
  const limits = task.limits ?? defaultLimits;
  const out: TextOutcome = {
    findings: [],
    skipped: [],
    bytes: 0,
    files: 0,
    binary: 0,
    encrypted: 0,
    commits: [],
  };
  if (task.kind === "files") {
    for (const item of task.items) {
      const r =
        scanFileSync(item.path, item.display, matcher, limits) ??
        (await scanFile(item.path, item.display, matcher, limits));
      out.findings.push(...r.findings);
      out.skipped.push(...r.skipped);
      out.bytes += r.bytes;
      out.files += r.files;
      out.binary += r.binary;
      out.encrypted += r.encrypted;
    }
    return out;
  }
  for (const item of task.items) {
    const r = scanAddedText(item.text, item.display, matcher, limits, item.sha);
    for (const f of r.findings) {
      f.line = item.lines[f.line - 1] ?? f.line;
      out.findings.push(f);
      out.commits.push(item.commit);
    }
    out.skipped.push(...r.skipped);
    out.bytes += r.bytes;
    out.files += 1;
  }
  return out;
}

export default runTask;
