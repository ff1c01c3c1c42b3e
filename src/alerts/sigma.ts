/**
 * A streaming evaluator for a documented subset of Sigma (sigma-specification v2: rules, modifiers
 * appendix, correlation rules v2.0). No maintained JavaScript implementation exists (pySigma converts
 * rules to backend queries; it does not evaluate events), so this compiles each rule to closures once and
 * evaluates them inline on each event. Supported (docs/detection.md lists it for users):
 *   - detection: maps (fields AND-ed, value lists OR-ed), lists of maps (OR-ed), keyword lists, null values
 *   - modifiers: contains, startswith, endswith, all, re (with i, m, s), cidr, exists, cased, gt, gte, lt,
 *     lte, fieldref, base64; wildcards * and ? with \ escapes; case-insensitive string matching by default
 *   - condition: and, or, not, parentheses, "1 of X*", "all of X*", "1 of them", "all of them"
 *   - correlations: event_count and value_count with group-by, timespan, condition (gt/gte/lt/lte/eq,
 *     ranges), aliases, generate; referenced by rule id or name
 * Rejected at load with the unsupported feature named: temporal / temporal_ordered correlations,
 * correlations of correlations, pipe aggregations in conditions, the windash/base64offset/expand
 * modifiers, placeholders.
 */
import ipaddr from "ipaddr.js";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import type { OcsfEvent } from "../ingest/index.ts";
import { lruMap } from "./lru.ts";
import { fieldAccessor, keywordText, SIGMA_LOGSOURCE } from "./sigma.taxonomy.ts";

export type SigmaLevel = "informational" | "low" | "medium" | "high" | "critical";

export interface SigmaDetectionRule {
  kind: "detection";
  id?: string;
  name?: string;
  title: string;
  level: SigmaLevel;
  tags: string[];
  /** Whether hits of this rule alone raise alerts (false when only a correlation uses it). */
  standalone: boolean;
  matches: (event: OcsfEvent) => boolean;
}

export interface SigmaCorrelationRule {
  kind: "correlation";
  id?: string;
  name?: string;
  title: string;
  level: SigmaLevel;
  tags: string[];
  type: "event_count" | "value_count";
  rules: SigmaDetectionRule[];
  groupBy: string[];
  timespanMs: number;
  condition: { gt?: number; gte?: number; lt?: number; lte?: number; eq?: number; field?: string };
  /** alias → (rule name → field) */
  aliases: Record<string, Record<string, string>>;
}

export interface SigmaRuleSet {
  detections: SigmaDetectionRule[];
  correlations: SigmaCorrelationRule[];
}

export interface SigmaHit {
  kind: "detection" | "correlation";
  ruleKey: string;
  title: string;
  level: SigmaLevel;
  tags: string[];
  /** Correlations: the group-by values joined, e.g. "client_ip=203.0.113.9,host=bastion". */
  groupKey?: string;
  group?: Record<string, string>;
  /** event_count: events in the window; value_count: distinct values. */
  count?: number;
}

export interface SigmaLoadOptions {
  /** Extra Sigma field → OCSF path entries, ahead of the built-in taxonomy. */
  fieldMap?: Record<string, readonly string[]>;
}

const levelSchema = z.enum(["informational", "low", "medium", "high", "critical"]);
const baseSchema = z.object({
  title: z.string().min(1).max(256),
  id: z.string().max(128).optional(),
  name: z.string().max(128).optional(),
  level: levelSchema.optional(),
  tags: z.array(z.string()).optional(),
});
const detectionSchema = baseSchema.extend({
  logsource: z.record(z.string(), z.unknown()).optional(),
  detection: z.record(z.string(), z.unknown()),
});
const countCondition = z
  .object({
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    eq: z.number().optional(),
    field: z.string().optional(),
  })
  .strict();
const correlationSchema = baseSchema.extend({
  correlation: z.object({
    type: z.string(),
    rules: z.union([z.string(), z.array(z.string())]),
    "group-by": z.array(z.string()).optional(),
    timespan: z.string().regex(/^\d+[smhd]$/, "timespan must be a number and one of s, m, h, d, e.g. 15m"),
    condition: countCondition,
    aliases: z.record(z.string(), z.record(z.string(), z.string())).optional(),
    generate: z.boolean().optional(),
  }),
});

function invalid(message: string, where?: string): AppError {
  return new AppError("validation_failed", where ? `${where}: ${message}` : message, {
    fields: [{ field: where ?? "sigma", message }],
  });
}

/** Loads one or more Sigma YAML texts (each may hold several `---` documents). */
export function loadSigmaRules(texts: string | string[], opts: SigmaLoadOptions = {}): SigmaRuleSet {
  const detections: SigmaDetectionRule[] = [];
  const pendingCorrelations: Array<{ doc: z.infer<typeof correlationSchema>; where: string }> = [];
  const all = Array.isArray(texts) ? texts : [texts];
  all.forEach((text, fileIndex) => {
    const docs = parseAllDocuments(text);
    const list = Array.isArray(docs) ? docs : [docs];
    list.forEach((doc, docIndex) => {
      const where = `rule file ${fileIndex + 1}, document ${docIndex + 1}`;
      if (doc.errors.length > 0) throw invalid(`YAML error: ${doc.errors[0]!.message}`, where);
      const obj = doc.toJS() as unknown;
      if (obj === null || obj === undefined) return;
      if (typeof obj !== "object") throw invalid("not a Sigma rule", where);
      if ("action" in obj) throw invalid("global/repeat/reset documents (action:) are not supported", where);
      if ("correlation" in obj) {
        const parsed = correlationSchema.safeParse(obj);
        if (!parsed.success) throw invalid(z.prettifyError(parsed.error), where);
        pendingCorrelations.push({ doc: parsed.data, where });
        return;
      }
      const parsed = detectionSchema.safeParse(obj);
      if (!parsed.success) throw invalid(z.prettifyError(parsed.error), where);
      detections.push(compileDetection(parsed.data, opts, `${where} (${parsed.data.title})`));
    });
  });

  const byRef = new Map<string, SigmaDetectionRule>();
  for (const d of detections) {
    if (d.id) byRef.set(d.id, d);
    if (d.name) byRef.set(d.name, d);
  }
  const correlations = pendingCorrelations.map(({ doc, where }) => {
    const c = doc.correlation;
    if (c.type !== "event_count" && c.type !== "value_count") {
      throw invalid(
        `correlation type ${c.type} is not supported (supported: event_count, value_count)`,
        where,
      );
    }
    const refs = Array.isArray(c.rules) ? c.rules : [c.rules];
    const rules = refs.map((ref) => {
      const r = byRef.get(ref);
      if (!r) {
        const isCorrelation = pendingCorrelations.some((p) => p.doc.id === ref || p.doc.name === ref);
        throw invalid(
          isCorrelation
            ? `correlation of correlations (${ref}) is not supported`
            : `rule ${ref} is not loaded; load it in the same set`,
          where,
        );
      }
      if (!c.generate) r.standalone = false;
      return r;
    });
    const bounds = [c.condition.gt, c.condition.gte, c.condition.lt, c.condition.lte, c.condition.eq];
    if (bounds.every((b) => b === undefined))
      throw invalid("condition needs one of gt, gte, lt, lte, eq", where);
    if (c.type === "value_count" && !c.condition.field)
      throw invalid("value_count needs condition.field", where);
    const rule: SigmaCorrelationRule = {
      kind: "correlation",
      title: doc.title,
      level: doc.level ?? "medium",
      tags: doc.tags ?? [],
      type: c.type,
      rules,
      groupBy: c["group-by"] ?? [],
      timespanMs: parseTimespan(c.timespan),
      condition: c.condition,
      aliases: c.aliases ?? {},
    };
    if (doc.id) rule.id = doc.id;
    if (doc.name) rule.name = doc.name;
    return rule;
  });
  return { detections, correlations };
}

export function parseTimespan(s: string): number {
  const n = Number(s.slice(0, -1));
  const unit = s.slice(-1);
  const ms = unit === "s" ? 1000 : unit === "m" ? 60_000 : unit === "h" ? 3_600_000 : 86_400_000;
  return n * ms;
}

// ---------------------------------------------------------------------------------------------- detection

type Pred = (e: OcsfEvent) => boolean;

function compileDetection(
  doc: z.infer<typeof detectionSchema>,
  opts: SigmaLoadOptions,
  where: string,
): SigmaDetectionRule {
  const { condition, timeframe, ...identifiers } = doc.detection;
  if (condition === undefined) throw invalid("detection.condition is missing", where);
  if (timeframe !== undefined)
    throw invalid("detection.timeframe is obsolete; use a correlation rule", where);
  const preds = new Map<string, Pred>();
  for (const [name, value] of Object.entries(identifiers)) {
    preds.set(name, compileSearch(value, opts, `${where} ${name}`));
  }
  const conditions = Array.isArray(condition) ? condition : [condition];
  const compiled = conditions.map((c) => {
    if (typeof c !== "string") throw invalid("condition must be a string", where);
    return compileCondition(c, preds, where);
  });
  const cond: Pred = compiled.length === 1 ? compiled[0]! : (e) => compiled.some((p) => p(e));
  const sourceFilters: Pred[] = [];
  for (const [key, value] of Object.entries(doc.logsource ?? {})) {
    const table = SIGMA_LOGSOURCE[key];
    const f = typeof value === "string" ? table?.[value] : undefined;
    if (f) sourceFilters.push(f);
  }
  const matches: Pred =
    sourceFilters.length === 0 ? cond : (e) => sourceFilters.every((f) => f(e)) && cond(e);
  const rule: SigmaDetectionRule = {
    kind: "detection",
    title: doc.title,
    level: doc.level ?? "medium",
    tags: doc.tags ?? [],
    standalone: true,
    matches,
  };
  if (doc.id) rule.id = doc.id;
  if (doc.name) rule.name = doc.name;
  return rule;
}

function compileSearch(value: unknown, opts: SigmaLoadOptions, where: string): Pred {
  if (Array.isArray(value)) {
    if (value.every((v) => v !== null && typeof v === "object" && !Array.isArray(v))) {
      const maps = value.map((v) => compileMap(v as Record<string, unknown>, opts, where));
      return (e) => maps.some((m) => m(e));
    }
    if (value.every((v) => typeof v !== "object" || v === null)) return compileKeywords(value, where);
    throw invalid("a search list must hold only maps or only keywords", where);
  }
  if (value !== null && typeof value === "object")
    return compileMap(value as Record<string, unknown>, opts, where);
  return compileKeywords([value], where);
}

function compileKeywords(values: unknown[], where: string): Pred {
  const matchers = values.map((v) => {
    if (v === null) throw invalid("a keyword cannot be null", where);
    return stringMatcher(String(v), "contains", false);
  });
  return (e) => {
    const text = keywordText(e);
    return matchers.some((m) => m(text));
  };
}

const SUPPORTED_MODIFIERS = new Set([
  "contains",
  "startswith",
  "endswith",
  "all",
  "re",
  "i",
  "m",
  "s",
  "cidr",
  "exists",
  "cased",
  "gt",
  "gte",
  "lt",
  "lte",
  "fieldref",
  "base64",
]);

function compileMap(map: Record<string, unknown>, opts: SigmaLoadOptions, where: string): Pred {
  const parts: Pred[] = [];
  for (const [key, raw] of Object.entries(map)) {
    const [field, ...mods] = key.split("|");
    for (const m of mods) {
      if (!SUPPORTED_MODIFIERS.has(m)) throw invalid(`modifier ${m} is not supported`, `${where} ${key}`);
    }
    if (!field) throw invalid("a field name is required (keyword maps are not supported)", `${where} ${key}`);
    parts.push(compileField(field, new Set(mods), raw, opts, `${where} ${key}`));
  }
  return (e) => {
    for (const p of parts) if (!p(e)) return false;
    return true;
  };
}

type ValueTest = (v: unknown, e: OcsfEvent) => boolean;

function compileField(
  field: string,
  mods: Set<string>,
  raw: unknown,
  opts: SigmaLoadOptions,
  where: string,
): Pred {
  const get = fieldAccessor(field, opts.fieldMap);
  const values = Array.isArray(raw) ? raw : [raw];
  if (mods.has("exists")) {
    const want = values[0] === true || values[0] === "true";
    return (e) => {
      const v = get(e);
      return (v !== undefined && v !== null) === want;
    };
  }
  if (mods.has("cidr") && !mods.has("all")) {
    const inAny = cidrSetMatcher(values.map((value) => parseRange(value, where)));
    return (e) => {
      const v = get(e);
      if (typeof v === "string") return inAny(v);
      if (!Array.isArray(v)) return false;
      for (const x of v) if (typeof x === "string" && inAny(x)) return true;
      return false;
    };
  }
  const tests: ValueTest[] = values.map((value) => compileValue(value, mods, opts, where));
  const all = mods.has("all");
  return (e) => {
    const v = get(e);
    if (all) {
      for (const t of tests) if (!anyElement(v, e, t)) return false;
      return true;
    }
    for (const t of tests) if (anyElement(v, e, t)) return true;
    return false;
  };
}

/** A field holding an array matches when any element does. */
function anyElement(v: unknown, e: OcsfEvent, t: ValueTest): boolean {
  if (Array.isArray(v)) return v.some((x) => t(x, e));
  return t(v, e);
}

function compileValue(value: unknown, mods: Set<string>, opts: SigmaLoadOptions, where: string): ValueTest {
  if (value === null) return (v) => v === undefined || v === null || v === "";
  for (const op of ["gt", "gte", "lt", "lte"] as const) {
    if (mods.has(op)) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw invalid(`|${op} needs a number`, where);
      return (v) => {
        const x = typeof v === "number" ? v : Number(v);
        if (v === undefined || v === null || v === "" || Number.isNaN(x)) return false;
        return op === "gt" ? x > n : op === "gte" ? x >= n : op === "lt" ? x < n : x <= n;
      };
    }
  }
  if (mods.has("cidr")) {
    const range = parseRange(value, where);
    return (v) => typeof v === "string" && inCidr(v, range);
  }
  if (mods.has("fieldref")) {
    const other = fieldAccessor(String(value), opts.fieldMap);
    return (v, e) => v !== undefined && v !== null && String(v) === String(other(e) ?? "\u0000");
  }
  if (mods.has("re")) {
    let flags = "";
    if (mods.has("i")) flags += "i";
    if (mods.has("m")) flags += "m";
    if (mods.has("s")) flags += "s";
    let re: RegExp;
    try {
      re = new RegExp(String(value), flags);
    } catch (err) {
      throw invalid(`bad regular expression: ${(err as Error).message}`, where);
    }
    return (v) => v !== undefined && v !== null && re.test(String(v));
  }
  if (typeof value === "number" || typeof value === "boolean") {
    const s = String(value);
    return (v) => v === value || (v !== undefined && v !== null && String(v) === s);
  }
  let text = String(value);
  if (mods.has("base64")) text = Buffer.from(text, "utf8").toString("base64");
  const mode = mods.has("contains")
    ? "contains"
    : mods.has("startswith")
      ? "startswith"
      : mods.has("endswith")
        ? "endswith"
        : "exact";
  const m = stringMatcher(text, mode, mods.has("cased"));
  return (v) => v !== undefined && v !== null && m(typeof v === "string" ? v : String(v));
}

function parseRange(value: unknown, where: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  try {
    return ipaddr.parseCIDR(String(value));
  } catch {
    throw invalid(`bad CIDR ${JSON.stringify(value)}`, where);
  }
}

const parsedIps = new Map<string, ipaddr.IPv4 | ipaddr.IPv6 | null>();

function parseIp(s: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  let ip = parsedIps.get(s);
  if (ip === undefined) {
    try {
      ip = ipaddr.process(s); // maps ::ffff:a.b.c.d to IPv4
    } catch {
      ip = null;
    }
    if (parsedIps.size > 50_000) parsedIps.clear(); // bounded memo
    parsedIps.set(s, ip);
  }
  return ip;
}

export function inCidr(ipText: string, range: [ipaddr.IPv4 | ipaddr.IPv6, number]): boolean {
  return cidrSetMatcher([range])(ipText);
}

/** Dotted-quad IPv4 to an unsigned 32-bit number, or -1: no allocation, for the per-event path. */
export function ipv4Number(s: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46 && digits > 0 && dots < 3) {
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? n * 256 + part : -1;
}

/**
 * One matcher for a list of ranges: IPv4 addresses are compared as numbers against precomputed
 * network/mask pairs; anything else (IPv6, IPv4-mapped IPv6) goes through ipaddr.js.
 */
function cidrSetMatcher(ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][]): (ipText: string) => boolean {
  const v4 = ranges
    .filter((r) => r[0].kind() === "ipv4")
    .map((r) => {
      const mask = r[1] === 0 ? 0 : (0xffffffff << (32 - r[1])) >>> 0;
      return { net: (ipv4Number(r[0].toString()) & mask) >>> 0, mask };
    });
  return (ipText) => {
    const n = ipv4Number(ipText);
    if (n >= 0) {
      for (const r of v4) if ((n & r.mask) >>> 0 === r.net) return true;
      return false;
    }
    const ip = parseIp(ipText);
    if (!ip) return false;
    for (const r of ranges) if (ip.kind() === r[0].kind() && ip.match(r)) return true;
    return false;
  };
}

type Mode = "exact" | "contains" | "startswith" | "endswith";

/**
 * Sigma strings: `*` any run, `?` one character, `\*` `\?` `\\` literal; other backslashes are literal.
 * Matching is case-insensitive unless `cased`. Plain strings avoid regular expressions for speed.
 */
export function stringMatcher(pattern: string, mode: Mode, cased: boolean): (s: string) => boolean {
  let hasWildcard = false;
  let literal = "";
  let reSource = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && (pattern[i + 1] === "*" || pattern[i + 1] === "?" || pattern[i + 1] === "\\")) {
      literal += pattern[i + 1];
      reSource += escapeRe(pattern[i + 1]!);
      i++;
    } else if (c === "*") {
      hasWildcard = true;
      reSource += "[\\s\\S]*";
    } else if (c === "?") {
      hasWildcard = true;
      reSource += "[\\s\\S]";
    } else {
      literal += c;
      reSource += escapeRe(c);
    }
  }
  if (hasWildcard) {
    const prefix = mode === "exact" || mode === "startswith" ? "^" : "";
    const suffix = mode === "exact" || mode === "endswith" ? "$" : "";
    const re = new RegExp(prefix + reSource + suffix, cased ? "" : "i");
    return (s) => re.test(s);
  }
  if (cased) {
    switch (mode) {
      case "exact":
        return (s) => s === literal;
      case "contains":
        return (s) => s.includes(literal);
      case "startswith":
        return (s) => s.startsWith(literal);
      case "endswith":
        return (s) => s.endsWith(literal);
    }
  }
  if (mode === "exact") {
    const lit = literal.toLowerCase();
    return (s) => s.length === lit.length && s.toLowerCase() === lit;
  }
  // Case-insensitive search without lower-casing (and copying) the whole subject, e.g. a raw log line.
  const re = new RegExp(
    (mode === "startswith" ? "^" : "") + reSource + (mode === "endswith" ? "$" : ""),
    "i",
  );
  return (s) => re.test(s);
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

// ---------------------------------------------------------------------------------------------- condition

/** condition := or; or := and ("or" and)*; and := not ("and" not)*; not := "not" not | atom */
export function compileCondition(text: string, preds: Map<string, Pred>, where: string): Pred {
  if (text.includes("|"))
    throw invalid("pipe aggregations in conditions are not supported; use a correlation rule", where);
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos]?.toLowerCase();
  const take = () => tokens[pos++];
  const expect = (t: string) => {
    if (peek() !== t) throw invalid(`condition: expected "${t}" at token ${pos + 1} of "${text}"`, where);
    pos++;
  };
  const lookup = (name: string): Pred => {
    const p = preds.get(name);
    if (!p) throw invalid(`condition names unknown search identifier ${name}`, where);
    return p;
  };
  const select = (pattern: string): Pred[] => {
    let names: string[];
    if (pattern === "them") names = [...preds.keys()].filter((n) => !n.startsWith("_"));
    else {
      const re = new RegExp(
        `^${pattern
          .split("*")
          .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
          .join(".*")}$`,
      );
      names = [...preds.keys()].filter((n) => re.test(n));
    }
    if (names.length === 0) throw invalid(`condition: "${pattern}" matches no search identifier`, where);
    return names.map(lookup);
  };
  const parseOr = (): Pred => {
    const parts = [parseAnd()];
    while (peek() === "or") {
      pos++;
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0]! : (e) => parts.some((p) => p(e));
  };
  const parseAnd = (): Pred => {
    const parts = [parseNot()];
    while (peek() === "and") {
      pos++;
      parts.push(parseNot());
    }
    return parts.length === 1 ? parts[0]! : (e) => parts.every((p) => p(e));
  };
  const parseNot = (): Pred => {
    if (peek() === "not") {
      pos++;
      const inner = parseNot();
      return (e) => !inner(e);
    }
    return parseAtom();
  };
  const parseAtom = (): Pred => {
    const t = peek();
    if (t === undefined) throw invalid(`condition ends early: "${text}"`, where);
    if (t === "(") {
      pos++;
      const inner = parseOr();
      expect(")");
      return inner;
    }
    if ((t === "1" || t === "all" || t === "any") && tokens[pos + 1]?.toLowerCase() === "of") {
      pos += 2;
      const target = take();
      if (!target) throw invalid(`condition: "${t} of" needs a target`, where);
      const group = select(target);
      return t === "all" ? (e) => group.every((p) => p(e)) : (e) => group.some((p) => p(e));
    }
    pos++;
    return lookup(tokens[pos - 1]!);
  };
  const result = parseOr();
  if (pos !== tokens.length) throw invalid(`condition: unexpected "${tokens[pos]}" in "${text}"`, where);
  return result;
}

// -------------------------------------------------------------------------------------------- evaluation

export interface SigmaEvaluatorOptions {
  /** Most groups kept per correlation; the least recently seen are dropped first (lru.ts). Default 10,000. */
  maxGroups?: number;
  fieldMap?: Record<string, readonly string[]>;
}

export interface SigmaEvaluator {
  evaluate(event: OcsfEvent): SigmaHit[];
  /** Groups currently held, summed over correlations (for bounded-memory checks). */
  stateSize(): number;
}

/** event_count: the times of the group's events in the window; value_count: each value's last time. */
type GroupState = number[] | Map<string, number>;

const NO_HITS: SigmaHit[] = [];
Object.freeze(NO_HITS);

export function ruleKey(r: { id?: string; name?: string; title: string }): string {
  return r.id ?? r.name ?? r.title;
}

/** Evaluates a rule set event by event, keeping only the correlation windows in memory. */
export function createSigmaEvaluator(set: SigmaRuleSet, opts: SigmaEvaluatorOptions = {}): SigmaEvaluator {
  const maxGroups = opts.maxGroups ?? 10_000;
  const correlations = set.correlations.map((c) => {
    const bounds = [c.condition.gt, c.condition.gte, c.condition.lt, c.condition.lte, c.condition.eq].filter(
      (b): b is number => b !== undefined,
    );
    // Enough entries to decide the condition: beyond max bound + 1 the answer cannot change.
    const cap = Math.max(...bounds) + 1;
    const groupGetters = c.groupBy.map((g) => {
      const alias = c.aliases[g];
      if (!alias) return () => fieldAccessor(g, opts.fieldMap);
      return (rule: SigmaDetectionRule) => {
        const f = (rule.name && alias[rule.name]) || (rule.id && alias[rule.id]);
        return fieldAccessor(f || g, opts.fieldMap);
      };
    });
    const accessorCache = new Map<SigmaDetectionRule, Array<(e: OcsfEvent) => unknown>>();
    const accessorsFor = (rule: SigmaDetectionRule) => {
      let a = accessorCache.get(rule);
      if (!a) {
        a = groupGetters.map((g) => g(rule));
        accessorCache.set(rule, a);
      }
      return a;
    };
    const valueField = c.condition.field ? fieldAccessor(c.condition.field, opts.fieldMap) : undefined;
    return {
      rule: c,
      cap,
      accessorsFor,
      valueField,
      groups: lruMap<string, GroupState>(maxGroups),
    };
  });
  const test = (c: SigmaCorrelationRule["condition"], n: number) =>
    (c.gt === undefined || n > c.gt) &&
    (c.gte === undefined || n >= c.gte) &&
    (c.lt === undefined || n < c.lt) &&
    (c.lte === undefined || n <= c.lte) &&
    (c.eq === undefined || n === c.eq);

  return {
    stateSize: () => correlations.reduce((n, c) => n + c.groups.size, 0),
    evaluate(event) {
      let hits: SigmaHit[] | undefined;
      let matched: SigmaDetectionRule[] | undefined;
      for (const d of set.detections) {
        if (!d.matches(event)) continue;
        if (!matched) matched = [];
        matched.push(d);
        if (d.standalone) {
          if (!hits) hits = [];
          hits.push({ kind: "detection", ruleKey: ruleKey(d), title: d.title, level: d.level, tags: d.tags });
        }
      }
      if (!matched) return hits ?? NO_HITS;
      for (const c of correlations) {
        let rule: SigmaDetectionRule | undefined;
        for (const r of c.rule.rules) {
          if (matched.includes(r)) {
            rule = r;
            break;
          }
        }
        if (!rule) continue;
        const accessors = c.accessorsFor(rule);
        // The state key is the values alone (one field: the value as it comes, no string built); the
        // readable "field=value,…" group key is built only for a hit.
        let stateKey = "";
        let missing = false;
        for (let i = 0; i < accessors.length; i++) {
          const v = accessors[i]!(event);
          if (v === undefined || v === null) {
            missing = true;
            break;
          }
          stateKey = i === 0 ? String(v) : `${stateKey}\u0001${String(v)}`;
        }
        if (missing) continue; // an event without the group-by fields cannot be grouped
        let state = c.groups.get(stateKey);
        if (!state) {
          state = c.rule.type === "event_count" ? [] : new Map();
          c.groups.set(stateKey, state);
        }
        const from = event.time - c.rule.timespanMs;
        let count: number;
        if (c.rule.type === "event_count") {
          const times = state as number[];
          times.push(event.time);
          while (times.length > 0 && times[0]! <= from) times.shift();
          if (times.length > c.cap) times.splice(0, times.length - c.cap);
          count = times.length;
        } else {
          const v = c.valueField!(event);
          if (v === undefined || v === null) continue;
          const values = state as Map<string, number>;
          values.delete(String(v));
          values.set(String(v), event.time);
          for (const [k, t] of values) {
            if (t > from && values.size <= c.cap) break;
            values.delete(k);
          }
          count = values.size;
        }
        if (test(c.rule.condition, count)) {
          const group: Record<string, string> = {};
          let groupKey = "";
          for (let i = 0; i < accessors.length; i++) {
            const v = String(accessors[i]!(event));
            group[c.rule.groupBy[i]!] = v;
            groupKey += `${i === 0 ? "" : ","}${c.rule.groupBy[i]}=${v}`;
          }
          if (!hits) hits = [];
          hits.push({
            kind: "correlation",
            ruleKey: ruleKey(c.rule),
            title: c.rule.title,
            level: c.rule.level,
            tags: c.rule.tags,
            groupKey,
            group,
            count,
          });
        }
      }
      return hits ?? NO_HITS;
    },
  };
}
