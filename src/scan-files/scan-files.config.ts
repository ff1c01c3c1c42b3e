import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { AppError } from "../core/errors.ts";
import type { CompiledAllowlist } from "./scan-files.engine.ts";
import { builtinRules, type SecretRule, type Severity } from "./scan-files.rules.ts";
import { type ConfigRule, type ScanConfig, scanConfigSchema } from "./scan-files.schemas.ts";

export interface LoadedConfig {
  rules: SecretRule[];
  allowlists: CompiledAllowlist[];
  /** Rules with a `path` and no `regex`: the file's name alone is the finding (gitleaks semantics). */
  pathRules: { id: string; title: string; severity: Severity; path: RegExp }[];
  /** Files given in the config, for messages. */
  sources: string[];
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
    regexes: a.regexes.map((r, i) => compileRegex(r, `${where} regexes[${i}]`)),
    stopwords: a.stopwords.map((w) => w.toLowerCase()),
    paths: a.paths.map((r, i) => compileRegex(r, `${where} paths[${i}]`)),
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

function readToml(path: string): ScanConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new AppError(
      "bad_request",
      `Cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  let data: unknown;
  try {
    data = parseToml(text);
  } catch (e) {
    throw new AppError(
      "validation_failed",
      `Config file ${path} is not valid TOML: ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const parsed = scanConfigSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError("validation_failed", `Config file ${path}: ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/** Loads the config (and the gitleaks files it imports) into rules and allowlists. No config: built-in rules. */
export function loadConfig(path?: string): LoadedConfig {
  const out: LoadedConfig = { rules: [], allowlists: [], pathRules: [], sources: [] };
  let useDefault = true;
  const disabled = new Set<string>();
  const seen = new Set<string>();
  const custom = new Map<string, SecretRule>();

  const visit = (file: string, depth: number) => {
    const abs = resolve(file);
    if (seen.has(abs)) return;
    if (depth > 5) throw new AppError("validation_failed", `Config ${file}: imports nested more than 5 deep`);
    seen.add(abs);
    out.sources.push(abs);
    const cfg = readToml(abs);
    const here = dirname(abs);
    if (cfg.extend?.useDefault === false && depth === 0) useDefault = false;
    for (const id of cfg.extend?.disabledRules ?? []) disabled.add(id);
    for (const imp of [...(cfg.extend?.path ? [cfg.extend.path] : []), ...(cfg.extend?.gitleaks ?? [])])
      visit(resolve(here, imp), depth + 1);
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
  };
  if (path) visit(path, 0);
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
