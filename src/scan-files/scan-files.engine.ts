import { KNOWN_EXAMPLES, looksLikePlaceholder, shannonEntropy } from "./scan-files.checks.ts";
import { type AutomatonTables, automatonFromTables, buildKeywordAutomaton } from "./scan-files.prefilter.ts";
import type { SecretRule } from "./scan-files.rules.ts";

/** A secret found in a piece of text, by character offsets into that text. */
export interface TextMatch {
  rule: SecretRule;
  /** Offsets of the secret itself. */
  start: number;
  end: number;
  secret: string;
  entropy: number;
}

/**
 * An allowlist (gitleaks semantics): with `condition` OR a finding is allowed when any criterion given
 * holds, with AND when every criterion given holds. `regexes` are tried on the secret, the whole match
 * or the whole line (`regexTarget`).
 */
export interface CompiledAllowlist {
  description?: string;
  condition: "OR" | "AND";
  regexTarget: "secret" | "match" | "line";
  regexes: RegExp[];
  /** Secrets containing any of these (lower case). */
  stopwords: string[];
  /** File paths. */
  paths: RegExp[];
  /** Commit SHAs (history scans). */
  commits: string[];
  /** Exact secrets (warden extension). */
  values: Set<string>;
  /** Limit to these rule ids (empty: all rules). */
  ruleIds: string[];
}

/** An allowlist that holds for whole files, whatever their content: paths alone, or paths or anything. */
export const allowsWholeFiles = (a: CompiledAllowlist): boolean =>
  a.paths.length > 0 &&
  (a.condition === "OR" ||
    (a.regexes.length === 0 && a.stopwords.length === 0 && a.commits.length === 0 && a.values.size === 0));

export interface Matcher {
  rules: SecretRule[];
  /** Finds secrets in `text`; `path` picks path-dependent behaviour (lockfiles), `commit` is for allowlists. */
  scan(text: string, path: string, commit?: string): TextMatch[];
  /**
   * The keyword prefilter over the undecoded bytes of a text: the number of keyword occurrences, or -1
   * when the rules' keywords cannot be searched in bytes (a non-ASCII keyword). When it is 0 and no rule
   * runs without keywords (`needsText` false), the text holds no secret and need not even be decoded.
   * Otherwise `scanFound` takes the decoded text and uses these occurrences instead of searching again.
   */
  findKeywords(bytes: Uint8Array): number;
  /** Some rule has no keyword: every text must be decoded and searched. */
  needsText: boolean;
  /** The compiled keyword automaton, for `createMatcher` on another thread (it then skips compiling it). */
  keywordTables(): AutomatonTables;
  /**
   * `scan` with the n keyword occurrences `findKeywords` found in `bytes`, of which `text` is the
   * decoding: Latin-1 or ASCII (same offsets), or valid UTF-8 (`utf8`, offsets converted; `bom`: the
   * decoder dropped a byte-order mark).
   */
  scanFound(
    text: string,
    path: string,
    commit: string | undefined,
    found: { n: number; utf8?: Uint8Array; bom?: boolean },
  ): TextMatch[];
}

/** Same-line markers (the ones gitleaks, secretlint and detect-secrets users already write are honoured). */
const INLINE_IGNORE =
  /warden:ignore(?!-next-line)|gitleaks:allow|pragma: allowlist secret|secretlint-disable-line|trufflehog:ignore/;
const NEXT_LINE_IGNORE = /warden:ignore-next-line|secretlint-disable-next-line/;

const LOCKFILE =
  /(?:^|[/\\])(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lock|Cargo\.lock|go\.sum|poetry\.lock|Pipfile\.lock|composer\.lock|Gemfile\.lock|packages\.lock\.json|mix\.lock|pubspec\.lock|flake\.lock|uv\.lock)$/;

/** How far from a keyword hit a rule's pattern may start or end (single-line rules). */
const BEFORE = 512;
const AFTER = 4096;
const MULTILINE_AFTER = 17_000;

/**
 * Adds [ws, we) to a sorted list of disjoint windows (flat [start, end, start, end…]), merging
 * overlaps. Hits arrive in order of their keyword's end, so a window nearly always goes last.
 */
function addWindow(w: number[], ws: number, we: number): void {
  let i = w.length;
  if (ws > w[i - 1]!) {
    w.push(ws, we);
    return;
  }
  // Inside or overlapping the last window (keywords close together, a run of "AAAA…"): extend it.
  if (ws >= w[i - 2]!) {
    if (we > w[i - 1]!) w[i - 1] = we;
    return;
  }
  // Walk back to the first window that ends at or after ws, then merge every window [ws, we) touches.
  while (i >= 2 && w[i - 1]! >= ws) i -= 2;
  let j = i;
  let s = ws;
  let e = we;
  while (j < w.length && w[j]! <= e) {
    s = Math.min(s, w[j]!);
    e = Math.max(e, w[j + 1]!);
    j += 2;
  }
  w.splice(i, j - i, s, e);
}

export function createMatcher(
  rules: SecretRule[],
  allowlists: CompiledAllowlist[] = [],
  keywordTables?: AutomatonTables,
): Matcher {
  const byKeyword = new Map<string, number[]>();
  const alwaysRun: number[] = [];
  rules.forEach((rule, i) => {
    if (rule.keywords.length === 0) alwaysRun.push(i);
    for (const k of new Set(rule.keywords.map((k) => k.toLowerCase()))) {
      const list = byKeyword.get(k) ?? [];
      list.push(i);
      byKeyword.set(k, list);
    }
  });
  // One pass of the keyword automaton over the text finds every keyword occurrence; each selects the
  // rules that listed that keyword, and only those rules' patterns run, in windows around the hits.
  const keywords = [...byKeyword.keys()].filter((k) => k.length > 0);
  // Tables compiled elsewhere are taken only for the same keywords (the same rules, in the same order).
  const automaton =
    keywordTables && keywordTables.keywords.join("\0") === keywords.join("\0")
      ? automatonFromTables(keywordTables)
      : buildKeywordAutomaton(keywords);
  const rulesOf = automaton.keywords.map((k) => byKeyword.get(k)!);
  const windowsOf: (number[] | null)[] = rules.map(() => null);
  const globals = rules.map(
    (r) => new RegExp(r.regex.source, r.regex.flags.includes("g") ? r.regex.flags : `${r.regex.flags}g`),
  );
  // What the hot loops need of each rule, in arrays of one type rather than read from rule objects of
  // several shapes, with no branch per kind of rule (a branch first taken after compilation deoptimised
  // the loop).
  const lineBound = Uint8Array.from(rules, (r) => (r.multiline ? 0 : 1));
  const before = Int32Array.from(rules, (r) => (r.multiline ? 64 : BEFORE));
  const after = Int32Array.from(rules, (r) => (r.multiline ? MULTILINE_AFTER : AFTER));
  const generic = Uint8Array.from(rules, (r) => (r.generic ? 1 : 0));
  const pathOf: (RegExp | null)[] = rules.map((r) => r.path ?? null);
  const globalAllow = allowlists.filter((a) => a.ruleIds.length === 0);
  const ruleAllow = rules.map((r) => allowlists.filter((a) => a.ruleIds.includes(r.id)));

  /** Whether an allowlist lets this match pass; the line is cut out only when a list asks for it. */
  function allowed(
    lists: CompiledAllowlist[],
    secret: string,
    match: string,
    text: string,
    start: number,
    path: string,
    commit: string | undefined,
  ): boolean {
    for (const a of lists) {
      let any = false;
      let all = true;
      const criterion = (holds: boolean) => {
        any ||= holds;
        all &&= holds;
      };
      if (a.commits.length) criterion(commit !== undefined && a.commits.includes(commit));
      if (a.paths.length) criterion(a.paths.some((re) => re.test(path)));
      if (a.values.size) criterion(a.values.has(secret));
      if (a.regexes.length) {
        let target = secret;
        if (a.regexTarget === "match") target = match;
        else if (a.regexTarget === "line") {
          const ls = text.lastIndexOf("\n", start - 1) + 1;
          const le = text.indexOf("\n", start);
          target = text.slice(ls, le < 0 ? text.length : le);
        }
        criterion(a.regexes.some((re) => re.test(target)));
      }
      if (a.stopwords.length) {
        const lower = secret.toLowerCase();
        criterion(a.stopwords.some((w) => lower.includes(w)));
      }
      if (a.condition === "AND" ? any && all : any) return true;
    }
    return false;
  }

  function lineIgnored(text: string, start: number): boolean {
    const ls = text.lastIndexOf("\n", start - 1) + 1;
    let le = text.indexOf("\n", start);
    if (le < 0) le = text.length;
    if (INLINE_IGNORE.test(text.slice(ls, Math.min(le, ls + 8192)))) return true;
    if (ls > 0) {
      const ps = text.lastIndexOf("\n", ls - 2) + 1;
      if (NEXT_LINE_IGNORE.test(text.slice(Math.max(ps, ls - 8192), ls))) return true;
    }
    return false;
  }

  /**
   * Checks one match of rule ri found at ws in `text` and adds it to `out` when it is a secret. False
   * for an empty match (the caller steps over it). Kept out of `scan`: it runs rarely, on matches of
   * many shapes, and inlined there it made the hot loop's compiled code large and deoptimised it again
   * and again (`--trace-opt`: 7 compilations of `scan` per run, 30-90 ms each, down to 4).
   */
  function consider(
    ri: number,
    m: RegExpExecArray,
    ws: number,
    text: string,
    path: string,
    commit: string | undefined,
    out: TextMatch[],
  ): boolean {
    if (m[0].length === 0) return false;
    const rule = rules[ri]!;
    // Patterns with alternatives capture the secret in the first group that took part.
    let secret = m[rule.secretGroup];
    for (let g = rule.secretGroup + 1; secret === undefined && g < m.length; g++) secret = m[g];
    if (!secret) return true;
    const rel = m.index + m[0].lastIndexOf(secret);
    const start = ws + rel;
    const end = start + secret.length;
    if (KNOWN_EXAMPLES.has(secret)) return true;
    if (!rule.multiline && looksLikePlaceholder(rule.repeatsAllowed ? secret.replace(/^A+/, "") : secret))
      return true;
    // A format's own filler (X's run of A's) says nothing about the randomness of the rest.
    const random = rule.repeatsAllowed ? secret.replace(/^A+/, "") : secret;
    const entropy = shannonEntropy(random.length > 4096 ? random.slice(0, 4096) : random);
    if (rule.entropy !== undefined && entropy < rule.entropy) return true;
    if (rule.validate && !rule.validate(secret, m)) return true;
    if (
      allowed(globalAllow, secret, m[0], text, start, path, commit) ||
      allowed(ruleAllow[ri]!, secret, m[0], text, start, path, commit)
    )
      return true;
    if (out.some((o) => start < o.end && o.start < end)) return true;
    if (lineIgnored(text, start)) return true;
    out.push({ rule, start, end, secret, entropy });
    return true;
  }

  function scan(text: string, path: string, commit: string | undefined, n: number): TextMatch[] {
    const isLockfile = LOCKFILE.test(path);
    // Per rule, the merged windows [start, end) in which its pattern runs (arrays reused across calls).
    const touched: number[] = [];
    const windowsFor = (ri: number): number[] => {
      let w = windowsOf[ri];
      if (!w) {
        w = windowsOf[ri] = [];
        touched.push(ri);
      }
      return w;
    };
    for (const ri of alwaysRun) windowsFor(ri).push(0, text.length);
    const hits = automaton.hits();
    let lineStart = -1;
    let lineEnd = -1;
    for (let h = 0; h < n; h++) {
      const p = hits[2 * h]!;
      if (p < lineStart || p >= lineEnd) {
        lineStart = text.lastIndexOf("\n", p) + 1;
        const e = text.indexOf("\n", p);
        lineEnd = e < 0 ? text.length : e;
      }
      for (const ri of rulesOf[hits[2 * h + 1]!]!) {
        const lines = lineBound[ri] === 1;
        addWindow(
          windowsFor(ri),
          Math.max(lines ? lineStart : 0, p - before[ri]!),
          Math.min(lines ? lineEnd : text.length, p + after[ri]!),
        );
      }
    }
    const out: TextMatch[] = [];
    touched.sort((a, b) => a - b);
    const windows = touched.map((ri) => windowsOf[ri]!);
    for (const ri of touched) windowsOf[ri] = null;
    for (let t = 0; t < touched.length; t++) {
      const ri = touched[t]!;
      const w = windows[t]!;
      if (isLockfile && generic[ri] === 1) continue;
      const only = pathOf[ri];
      if (only && !only.test(path)) continue;
      const re = globals[ri]!;
      for (let i = 0; i < w.length; i += 2) {
        const ws = w[i]!;
        const slice = text.slice(ws, w[i + 1]!);
        re.lastIndex = 0;
        for (let m = re.exec(slice); m !== null; m = re.exec(slice))
          if (!consider(ri, m, ws, text, path, commit, out)) re.lastIndex++;
      }
    }
    return out.sort((a, b) => a.start - b.start);
  }

  return {
    rules,
    needsText: alwaysRun.length > 0,
    keywordTables: () => automaton.tables(),
    scan: (text, path, commit) => scan(text, path, commit, automaton.scan(text, 0, text.length)),
    findKeywords: (bytes) => automaton.scanBytes(bytes, 0, bytes.length),
    scanFound(text, path, commit, found) {
      if (found.utf8) automaton.utf8HitsToText(found.utf8, found.n, found.bom ? 1 : 0);
      return scan(text, path, commit, found.n);
    },
  };
}
