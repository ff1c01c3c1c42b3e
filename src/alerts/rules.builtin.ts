/**
 * Warden's built-in alert rules. Each is a factory: calling it again gives fresh state, which is how rules
 * are replayed against past events. Rules read time from the event (never from a wall clock), so replay
 * and live evaluation agree; state is held in bounded LRU maps.
 */
import ipaddr from "ipaddr.js";
import type { OcsfEvent } from "../ingest/index.ts";
import type {
  AlertRule,
  AlertSeverity,
  DeveloperProfile,
  IsoWeekday,
  RuleContext,
  RuleHit,
  WorkingHours,
} from "./alert.types.ts";
import { distanceKm, type GeoLocation } from "./geo.ts";
import { type LruMap, lruMap } from "./lru.ts";

export { lruMap };

const isSuccess = (e: OcsfEvent) => e.status_id === 1;
const isFailure = (e: OcsfEvent) => e.status_id === 2;

// ------------------------------------------------------------------------------------------- working hours

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY: Record<string, IsoWeekday> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

type LocalTime = { weekday: IsoWeekday; minutes: number; date: string; hhmm: string };
// Zone offsets are whole minutes, so the answer holds for a whole minute. Events arrive roughly in time
// order, so remembering the last minute per zone avoids Intl formatting (microseconds) on the hot path.
const lastPerZone = new Map<string, { minute: number; value: LocalTime }>();

/** Local weekday, minute of day and date of an instant in an IANA zone. */
export function localTime(at: number, timeZone: string): LocalTime {
  const minute = Math.floor(at / 60_000);
  const memo = lastPerZone.get(timeZone);
  if (memo && memo.minute === minute) return memo.value;
  const value = computeLocalTime(at, timeZone);
  if (memo) {
    memo.minute = minute;
    memo.value = value;
  } else if (lastPerZone.size < 1000) {
    lastPerZone.set(timeZone, { minute, value });
  }
  return value;
}

function computeLocalTime(at: number, timeZone: string): LocalTime {
  let f = zoneFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    zoneFormatters.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(at))) p[part.type] = part.value;
  const minutes = Number(p.hour) * 60 + Number(p.minute);
  return {
    weekday: WEEKDAY[p.weekday!]!,
    minutes,
    date: `${p.year}-${p.month}-${p.day}`,
    hhmm: fmt(minutes),
  };
}

const hhmm = (s: string) => {
  const [h, m] = s.split(":");
  return Number(h) * 60 + Number(m);
};
const fmt = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

/** Is an instant inside a developer's working hours? Undefined when the profile has no hours. */
export function withinWorkingHours(dev: DeveloperProfile, at: number, graceMinutes = 0): boolean | undefined {
  const wh = dev.workingHours;
  if (!wh) return undefined;
  const { weekday, minutes } = localTime(at, dev.timeZone);
  const start = hhmm(wh.start) - graceMinutes;
  const end = hhmm(wh.end) + graceMinutes;
  if (start < end) return wh.days.includes(weekday) && minutes >= start && minutes < end;
  // Overnight shift: the evening part belongs to today, the morning part to the day before.
  const yesterday = (weekday === 1 ? 7 : weekday - 1) as IsoWeekday;
  return (minutes >= start && wh.days.includes(weekday)) || (minutes < end && wh.days.includes(yesterday));
}

export interface OffHoursConfig {
  severity?: AlertSeverity;
  /** Minutes of tolerance either side of the window. Default 0. */
  graceMinutes?: number;
  /** Also flag failed attempts. Default false: failures are the burst rule's business. */
  includeFailures?: boolean;
}

const offHoursSummary = (d: Record<string, unknown>) => {
  const wh = d.workingHours as WorkingHours;
  return `${d.developer} active at ${d.localTime} ${d.timeZone} (${d.localDate}), outside working hours ${wh.start}–${wh.end}`;
};

export function offHoursRule(cfg: OffHoursConfig = {}): AlertRule {
  const severity = cfg.severity ?? "medium";
  // "<developer>|<local date>", remembered per developer: one string per developer and day, not per event.
  const keys = lruMap<string, { date: string; key: string }>(10_000);
  const groupKeyOf = (id: string, date: string) => {
    const k = keys.get(id);
    if (k && k.date === date) return k.key;
    const key = `${id}|${date}`;
    keys.set(id, { date, key });
    return key;
  };
  return {
    id: "off-hours",
    title: "Activity outside the developer's working hours",
    severity,
    evaluate(e, ctx) {
      const id = e.warden.developerId;
      if (!id || (isFailure(e) && !cfg.includeFailures)) return undefined;
      const dev = ctx.developer(id);
      if (!dev) return undefined;
      const inside = withinWorkingHours(dev, e.time, cfg.graceMinutes ?? 0);
      if (inside !== false) return undefined;
      const local = localTime(e.time, dev.timeZone);
      const wh = dev.workingHours!;
      return {
        groupKey: groupKeyOf(id, local.date),
        developerId: id,
        summary: offHoursSummary,
        details: {
          developer: dev.name ?? id,
          timeZone: dev.timeZone,
          localTime: local.hhmm,
          localDate: local.date,
          weekday: local.weekday,
          workingHours: wh,
        },
      };
    },
  };
}

// ------------------------------------------------------------------------------------- failed login burst

export interface FailedLoginBurstConfig {
  /** Failures within the window that raise an alert. Default 10. */
  threshold?: number;
  windowMs?: number;
  /** Count per target account, per source address, or both (default). */
  by?: Array<"account" | "address">;
  severity?: AlertSeverity;
  maxKeys?: number;
}

const accountBurstSummary = (d: Record<string, unknown>) =>
  `${d.count} failed logins for account ${d.account}${d.host ? ` on ${d.host}` : ""} within ${d.windowMinutes} min`;
const addressBurstSummary = (d: Record<string, unknown>) =>
  `${d.count} failed logins from ${d.address} within ${d.windowMinutes} min`;

export function failedLoginBurstRule(cfg: FailedLoginBurstConfig = {}): AlertRule {
  const threshold = cfg.threshold ?? 10;
  const windowMs = cfg.windowMs ?? 5 * 60_000;
  const by = cfg.by ?? ["account", "address"];
  const byAccount = by.includes("account");
  const byAddress = by.includes("address");
  const minutes = Math.round(windowMs / 60_000);
  // Per key: the failure times in the window (at most `threshold`) and, once it fired, one hit object
  // that later failures update in place: a storm's repeats allocate nothing (the engine reads a hit's
  // details when it stores the alert, after the batch).
  // Addresses are keys as they come (no string building per event); accounts are few, keyed per host.
  type Window = { times: number[]; hit: RuleHit | undefined };
  const byAccountKey = lruMap<string, Window>(cfg.maxKeys ?? 10_000);
  const byIp = lruMap<string, Window>(cfg.maxKeys ?? 10_000);
  const windowOf = (windows: typeof byIp, key: string, t: number) => {
    let w = windows.get(key);
    if (!w) {
      w = { times: [], hit: undefined };
      windows.set(key, w);
    }
    const times = w.times;
    times.push(t);
    while (times.length > 0 && times[0]! <= t - windowMs) times.shift();
    if (times.length > threshold) times.shift(); // more than threshold entries never change the verdict
    return w;
  };
  return {
    id: "failed-login-burst",
    title: "Burst of failed logins",
    severity: cfg.severity ?? "high",
    classes: [3002],
    stateSize: () => byAccountKey.size + byIp.size,
    evaluate(e) {
      // Logon failures only: sshd's separate "Invalid user" notice (activity Other) would double count.
      if (e.class_uid !== 3002 || e.activity_id !== 1 || !isFailure(e)) return undefined;
      let first: RuleHit | undefined;
      let second: RuleHit | undefined;
      const account = e.user?.name;
      const host = e.dst_endpoint?.hostname ?? e.dst_endpoint?.ip ?? "";
      const ip = e.src_endpoint?.ip;
      if (byAccount && account) {
        const key = `account|${account}@${host}`;
        const w = windowOf(byAccountKey, key, e.time);
        const n = w.times.length;
        if (n >= threshold) {
          if (w.hit && w.hit.developerId === e.warden.developerId) w.hit.details!.count = n;
          else
            w.hit = {
              groupKey: key,
              developerId: e.warden.developerId,
              summary: accountBurstSummary,
              details: { account, host, count: n, windowMinutes: minutes },
            };
          first = w.hit;
        }
      }
      if (byAddress && ip) {
        const w = windowOf(byIp, ip, e.time);
        const n = w.times.length;
        if (n >= threshold) {
          if (w.hit) w.hit.details!.count = n;
          else
            w.hit = {
              groupKey: `address|${ip}`,
              summary: addressBurstSummary,
              details: { address: ip, count: n, windowMinutes: minutes },
            };
          second = w.hit;
        }
      }
      return first && second ? [first, second] : (first ?? second);
    },
  };
}

// ----------------------------------------------------------------------------------- mass clone/download

export interface MassDownloadConfig {
  /** Distinct repositories or files (N). Default 20. */
  distinct?: number;
  /** Within this window (M minutes). Default 10 minutes. */
  windowMs?: number;
  severity?: AlertSeverity;
  maxKeys?: number;
}

/** File Hosting activities that take data away: download, copy, sync, preview, open. */
const TAKE_ACTIVITIES = new Set([2, 6, 9, 14, 15]);

export function massDownloadRule(cfg: MassDownloadConfig = {}): AlertRule {
  const distinct = cfg.distinct ?? 20;
  const windowMs = cfg.windowMs ?? 10 * 60_000;
  const seen = lruMap<string, Map<string, number>>(cfg.maxKeys ?? 10_000);
  return {
    id: "mass-download",
    title: "Mass cloning or downloading",
    severity: cfg.severity ?? "high",
    classes: [6006],
    stateSize: () => seen.size,
    evaluate(e) {
      if (e.class_uid !== 6006 || !TAKE_ACTIVITIES.has(e.activity_id) || isFailure(e)) return undefined;
      const who = e.warden.developerId ?? e.actor?.user?.name;
      const what = e.warden.resource?.name ?? e.file?.path ?? e.file?.name;
      if (!who || !what) return undefined;
      let m = seen.get(who);
      if (!m) {
        m = new Map();
        seen.set(who, m);
      }
      m.delete(what);
      m.set(what, e.time);
      for (const [k, t] of m) {
        if (t > e.time - windowMs && m.size <= distinct) break;
        m.delete(k);
      }
      if (m.size < distinct) return undefined;
      return {
        groupKey: who,
        developerId: e.warden.developerId,
        summary: `${who} took ${m.size} distinct repositories or files within ${Math.round(windowMs / 60_000)} min`,
        details: { count: m.size, recent: [...m.keys()].slice(-10) },
      };
    },
  };
}

// ------------------------------------------------------------------------------------ access without grant

export interface AccessWithoutGrantConfig {
  severity?: AlertSeverity;
}

export function accessWithoutGrantRule(cfg: AccessWithoutGrantConfig = {}): AlertRule {
  return {
    id: "access-without-grant",
    title: "Access without a live grant or after eligibility lapsed",
    severity: cfg.severity ?? "high",
    evaluate(e, ctx) {
      const developerId = e.warden.developerId;
      const resource = e.warden.resource;
      if (!developerId || !isSuccess(e)) return undefined;
      const reasons: string[] = [];
      if (resource && ctx.hasLiveGrant && !ctx.hasLiveGrant({ developerId, resource, at: e.time })) {
        reasons.push(`no live grant on ${resource.kind} ${resource.name}`);
      }
      const elig = ctx.eligibility?.(developerId, e.time);
      if (elig && !elig.eligible) reasons.push(...elig.reasons);
      if (reasons.length === 0) return undefined;
      return {
        groupKey: `${developerId}|${resource ? `${resource.kind}:${resource.name}` : "-"}`,
        developerId,
        summary: `${ctx.developer(developerId)?.name ?? developerId} accessed ${resource ? `${resource.kind} ${resource.name}` : "a resource"}: ${reasons.join("; ")}`,
        details: { reasons, resource },
      };
    },
  };
}

// -------------------------------------------------------------------------------------- new source network

export interface NewNetworkConfig {
  ipv4Prefix?: number;
  ipv6Prefix?: number;
  /** The first network seen for a developer is learned silently. Default true. */
  learnFirst?: boolean;
  maxNetworksPerDeveloper?: number;
  maxDevelopers?: number;
  severity?: AlertSeverity;
}

export function networkOf(ip: string, v4: number, v6: number): string | undefined {
  try {
    const a = ipaddr.process(ip);
    const len = a.kind() === "ipv4" ? v4 : v6;
    const bytes = a.toByteArray();
    for (let i = 0; i < bytes.length; i++) {
      const keep = Math.max(0, Math.min(8, len - i * 8));
      bytes[i]! &= (0xff << (8 - keep)) & 0xff;
    }
    return `${ipaddr.fromByteArray(bytes).toString()}/${len}`;
  } catch {
    return undefined;
  }
}

export function newSourceNetworkRule(cfg: NewNetworkConfig = {}): AlertRule {
  const v4 = cfg.ipv4Prefix ?? 24;
  const v6 = cfg.ipv6Prefix ?? 48;
  const perDev = cfg.maxNetworksPerDeveloper ?? 64;
  const known = lruMap<string, LruMap<string, true>>(cfg.maxDevelopers ?? 10_000);
  const networks = lruMap<string, string | null>(10_000);
  const cachedNetwork = (ip: string) => {
    let n = networks.get(ip);
    if (n === undefined) {
      n = networkOf(ip, v4, v6) ?? null;
      networks.set(ip, n);
    }
    return n ?? undefined;
  };
  return {
    id: "new-source-network",
    title: "New source network for a developer",
    severity: cfg.severity ?? "low",
    stateSize: () => known.size,
    evaluate(e, ctx) {
      const id = e.warden.developerId;
      const ip = e.src_endpoint?.ip;
      if (!id || !ip || !isSuccess(e)) return undefined;
      const net = cachedNetwork(ip);
      if (!net) return undefined;
      let nets = known.get(id);
      let first = false;
      if (!nets) {
        nets = lruMap<string, true>(perDev);
        for (const n of ctx.knownNetworks?.(id) ?? []) {
          const [addr, len] = n.split("/");
          const norm = addr ? networkOf(addr, Number(len ?? v4), Number(len ?? v6)) : undefined;
          if (norm) nets.set(norm, true);
        }
        first = nets.size === 0;
        known.set(id, nets);
      }
      if (nets.get(net)) return undefined;
      nets.set(net, true);
      if (first && cfg.learnFirst !== false) return undefined;
      return {
        groupKey: `${id}|${net}`,
        developerId: id,
        summary: `${id} connected from a new network ${net} (${ip})`,
        details: { network: net, ip },
      };
    },
  };
}

// ------------------------------------------------------------------------------------- impossible travel

export interface ImpossibleTravelConfig {
  /** Faster than this between two sources is impossible. Default 1000 km/h (a fast airliner). */
  maxSpeedKmh?: number;
  /** Ignore jumps shorter than this (geo databases are coarse). Default 500 km. */
  minDistanceKm?: number;
  severity?: AlertSeverity;
  maxDevelopers?: number;
}

export function impossibleTravelRule(cfg: ImpossibleTravelConfig = {}): AlertRule {
  const maxSpeed = cfg.maxSpeedKmh ?? 1000;
  const minDistance = cfg.minDistanceKm ?? 500;
  const last = lruMap<string, { at: number; ip: string; loc: GeoLocation }>(cfg.maxDevelopers ?? 10_000);
  return {
    id: "impossible-travel",
    title: "Impossible travel between two sources",
    severity: cfg.severity ?? "high",
    stateSize: () => last.size,
    evaluate(e, ctx) {
      const id = e.warden.developerId;
      const ip = e.src_endpoint?.ip;
      if (!id || !ip || !isSuccess(e) || !ctx.geo) return undefined;
      const prev = last.get(id);
      if (prev && prev.ip === ip) {
        prev.at = e.time; // same source: no lookup needed
        return undefined;
      }
      const loc = ctx.geo.lookup(ip);
      if (!loc) return undefined;
      last.set(id, { at: e.time, ip, loc });
      if (!prev) return undefined;
      const km = distanceKm(prev.loc, loc);
      if (km < minDistance) return undefined;
      const hours = Math.max(Math.abs(e.time - prev.at), 1) / 3_600_000;
      const speed = km / hours;
      if (speed <= maxSpeed) return undefined;
      const where = (l: GeoLocation, i: string) => [l.city, l.country].filter(Boolean).join(", ") || i;
      return {
        groupKey: id,
        developerId: id,
        summary: `${id} seen in ${where(prev.loc, prev.ip)} then ${where(loc, ip)}: ${Math.round(km)} km in ${Math.round(hours * 60)} min`,
        details: {
          from: { ip: prev.ip, ...prev.loc },
          to: { ip, ...loc },
          km: Math.round(km),
          kmh: Math.round(speed),
        },
      };
    },
  };
}

// ------------------------------------------------------------------------------------------- break glass

export interface BreakGlassConfig {
  /** Account names reserved for emergencies. */
  accounts?: string[];
  /** Certificate key ids of break-glass certificates. Default: contains "break-glass"/"breakglass". */
  keyIdPattern?: RegExp;
  severity?: AlertSeverity;
}

export function breakGlassRule(cfg: BreakGlassConfig = {}): AlertRule {
  const accounts = new Set(cfg.accounts ?? []);
  const pattern = cfg.keyIdPattern ?? /break[-_ ]?glass/i;
  return {
    id: "break-glass",
    title: "Break-glass access used",
    severity: cfg.severity ?? "critical",
    evaluate(e) {
      const account = e.user?.name ?? e.actor?.user?.name;
      const keyId = e.warden.credential?.sshKeyId;
      const why = e.warden.breakGlass
        ? "marked break-glass by its source"
        : account && accounts.has(account)
          ? `break-glass account ${account}`
          : keyId && pattern.test(keyId)
            ? `break-glass certificate ${keyId}`
            : undefined;
      if (!why) return undefined;
      // Attempts count too, but a failure is not "use": lower its severity.
      return {
        groupKey: `${account ?? keyId ?? "-"}|${e.src_endpoint?.ip ?? ""}`,
        developerId: e.warden.developerId,
        severity: isFailure(e) ? "high" : undefined,
        summary: `${isFailure(e) ? "Attempted" : "Used"} ${why}${e.src_endpoint?.ip ? ` from ${e.src_endpoint.ip}` : ""}`,
        details: { account, keyId, status: e.status },
      };
    },
  };
}

// ----------------------------------------------------------------------------------------------- all

export interface BuiltinRulesConfig {
  offHours?: OffHoursConfig | false;
  failedLoginBurst?: FailedLoginBurstConfig | false;
  massDownload?: MassDownloadConfig | false;
  accessWithoutGrant?: AccessWithoutGrantConfig | false;
  newSourceNetwork?: NewNetworkConfig | false;
  impossibleTravel?: ImpossibleTravelConfig | false;
  breakGlass?: BreakGlassConfig | false;
}

/** Fresh instances of every enabled built-in rule (call again to replay with clean state). */
export function builtinRules(cfg: BuiltinRulesConfig = {}): AlertRule[] {
  const rules: AlertRule[] = [];
  if (cfg.offHours !== false) rules.push(offHoursRule(cfg.offHours));
  if (cfg.failedLoginBurst !== false) rules.push(failedLoginBurstRule(cfg.failedLoginBurst));
  if (cfg.massDownload !== false) rules.push(massDownloadRule(cfg.massDownload));
  if (cfg.accessWithoutGrant !== false) rules.push(accessWithoutGrantRule(cfg.accessWithoutGrant));
  if (cfg.newSourceNetwork !== false) rules.push(newSourceNetworkRule(cfg.newSourceNetwork));
  if (cfg.impossibleTravel !== false) rules.push(impossibleTravelRule(cfg.impossibleTravel));
  if (cfg.breakGlass !== false) rules.push(breakGlassRule(cfg.breakGlass));
  return rules;
}

export type { RuleContext };
