import { AppError } from "../core/errors.ts";
import type { CompiledAllowlist } from "./scan-files.engine.ts";
import { builtinRules, type SecretRule, type Severity } from "./scan-files.rules.ts";
import type { ConfigRule, ScanConfig } from "./scan-files.schemas.ts";

/**
 * Turns validated config files into the rules and allowlists the matcher runs. Kept apart from reading
 * and validating them (scan-files.config.ts): worker threads get the validated files as data and compile
 * them here without loading the TOML parser or Zod.
 */

export interface LoadedConfig {
  rules: SecretRule[];
  allowlists: CompiledAllowlist[];
  /** Rules with a `path` and no `regex`: the file's name alone is the finding (gitleaks semantics). */
  pathRules: { id: string; title: string; severity: Severity; path: RegExp }[];
  /** Files given in the config, for messages. */
  sources: string[];
}

/** The config files read for one scan, validated, in the order their rules apply (imports first). */
export interface ConfigSource {
  files: { path: string; depth: number; config: ScanConfig }[];
}

/**
 * Translates a Go RE2 pattern (gitleaks) to a JavaScript one. RE2's inline flags cannot be scoped in
 * Node 20's RegExp, so `(?i)` anywhere turns on case-insensitivity for the whole pattern: this can only
 * widen a match, never miss one.
 */
export function goRegexToJs(source: string): { source: string; flags: string } {
  let flags = "";
  let s = source;
  const addFlag = (f: string) => {
    if (!flags.includes(f)) flags += f;
  };
  s = s.replace(/\(\?([imsU]+)\)/g, (_m, f: string) => {
    for (const c of f) if (c !== "U") addFlag(c);
    return "";
  });
  s = s.replace(/\(\?([imsU]*)-?[imsU]*:/g, (_m, f: string) => {
    for (const c of f) if (c !== "U") addFlag(c);
    return "(?:";
  });
  s = s.replace(/\(\?P</g, "(?<");
  s = s.replace(/\\z/g, "$").replace(/\\A/g, "^");
  const posix: Record<string, string> = {
    alnum: "A-Za-z0-9",
    alpha: "A-Za-z",
    digit: "0-9",
    lower: "a-z",
    upper: "A-Z",
    space: "\\s",
    punct: "!-\\/:-@\\[-`{-~",
    xdigit: "0-9A-Fa-f",
    word: "\\w",
  };
  s = s.replace(/\[:(\w+):\]/g, (m, name: string) => posix[name] ?? m);
  return { source: s, flags };
}

function compileRegex(src: string, where: string): RegExp {
  const { source, flags } = goRegexToJs(src);
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw new AppError("validation_failed", `${where}: invalid regular expression (${(e as Error).message})`);
  }
}

function compileAllowlist(
  a: NonNullable<ScanConfig["allowlist"]>,
  where: string,
  ruleIds: string[],
): CompiledAllowlist {
  return {
    ...(a.description ? { description: a.description } : {}),
    // gitleaks accepts AND/&& and OR/|| in any case; OR is its default.
    condition: a.condition && /^(?:and|&&)$/i.test(a.condition) ? "AND" : "OR",
    regexTarget: a.regexTarget ?? "secret",
    regexes: a.regexes.map((r, i) => compileRegex(r, `${where} regexes[${i}]`)),
    stopwords: a.stopwords.map((w) => w.toLowerCase()),
    paths: a.paths.map((r, i) => compileRegex(r, `${where} paths[${i}]`)),
    commits: a.commits.map((c) => c.toLowerCase()),
    values: new Set(a.values),
    ruleIds,
  };
}

function countGroups(re: RegExp): number {
  return new RegExp(`${re.source}|`).exec("")!.length - 1;
}

function compileRule(r: ConfigRule, file: string): SecretRule | null {
  if (!r.regex) return null;
  const regex = compileRegex(r.regex, `${file}: rule ${r.id}`);
  return {
    id: r.id,
    title: r.description?.slice(0, 200) ?? r.id,
    category: "generic",
    severity: r.severity ?? "medium",
    keywords: r.keywords.map((k) => k.toLowerCase()),
    regex,
    secretGroup: r.secretGroup ?? (countGroups(regex) > 0 ? 1 : 0),
    ...(r.entropy !== undefined ? { entropy: r.entropy } : {}),
    ...(r.path ? { path: compileRegex(r.path, `${file}: rule ${r.id} path`) } : {}),
  };
}

/** Compiles validated config files into rules and allowlists. No files: the built-in rules. */
export function compileConfig(source: ConfigSource): LoadedConfig {
  const out: LoadedConfig = { rules: [], allowlists: [], pathRules: [], sources: [] };
  let useDefault = true;
  const disabled = new Set<string>();
  const custom = new Map<string, SecretRule>();
  for (const { path: abs, depth, config: cfg } of source.files) {
    out.sources.push(abs);
    if (cfg.extend?.useDefault === false && depth === 0) useDefault = false;
    for (const id of cfg.extend?.disabledRules ?? []) disabled.add(id);
    for (const r of cfg.rules) {
      const compiled = compileRule(r, abs);
      const lists = [...(r.allowlist ? [r.allowlist] : []), ...(r.allowlists ?? [])];
      for (const [i, a] of lists.entries())
        out.allowlists.push(compileAllowlist(a, `${abs}: rule ${r.id} allowlist ${i}`, [r.id]));
      if (compiled) custom.set(r.id, compiled);
      else if (r.path)
        out.pathRules.push({
          id: r.id,
          title: r.description ?? r.id,
          severity: r.severity ?? "medium",
          path: compileRegex(r.path, `${abs}: rule ${r.id} path`),
        });
    }
    const globals = [...(cfg.allowlist ? [cfg.allowlist] : []), ...cfg.allowlists];
    for (const [i, a] of globals.entries())
      out.allowlists.push(compileAllowlist(a, `${abs}: allowlist ${i}`, a.targetRules));
  }
  const base = useDefault ? builtinRules.filter((r) => !custom.has(r.id)) : [];
  // Specific rules first, generic ones last: on overlapping matches the first rule wins.
  const all = [
    ...base.filter((r) => !r.generic && !r.contextual),
    ...base.filter((r) => r.contextual),
    ...custom.values(),
    ...base.filter((r) => r.generic),
  ];
  out.rules = all.filter((r) => !disabled.has(r.id));
  return out;
}
