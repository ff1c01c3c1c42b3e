/**
 * Syslog message parsing: RFC 5424 (the syslog protocol) and RFC 3164 (BSD syslog, what most daemons and
 * relays still emit). Written by hand because the npm parsers for this are small, rarely maintained and
 * either drop structured data or allocate heavily; the grammar is short and this sits on the hot ingest
 * path (see bench/detection.bench.ts).
 */

export interface SyslogMessage {
  format: "rfc5424" | "rfc3164";
  facility: number;
  severity: number;
  /** Event time in ms since the epoch; the receive time when the message carries none. */
  time: number;
  /** The timestamp as written, if any. */
  timestamp?: string;
  hostname?: string;
  appName?: string;
  procId?: string;
  msgId?: string;
  /** RFC 5424 STRUCTURED-DATA: SD-ID → params (a repeated param name keeps the last value). */
  structuredData?: Record<string, Record<string, string>>;
  message: string;
  raw: string;
}

export type SyslogParseResult =
  | { ok: true; message: SyslogMessage }
  | { ok: false; error: string; raw: string };

export interface SyslogParseOptions {
  /** Receive time (ms) — used for messages without a timestamp and to infer RFC 3164's missing year. */
  receivedAt: number;
  /** IANA zone in which RFC 3164 timestamps (which carry no offset) are read. Default UTC. */
  rfc3164TimeZone?: string;
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

const NIL = "-";

export function parseSyslog(raw: string, opts: SyslogParseOptions): SyslogParseResult {
  // Framing leftovers: a trailing CR/LF or NUL is not part of the message.
  let line = raw;
  while (line.length > 0) {
    const last = line.charCodeAt(line.length - 1);
    if (last === 10 || last === 13 || last === 0) line = line.slice(0, -1);
    else break;
  }
  if (line.charCodeAt(0) !== 60 /* < */) return { ok: false, error: "missing <PRI>", raw: line };
  const close = line.indexOf(">", 1);
  if (close < 2 || close > 4) return { ok: false, error: "malformed <PRI>", raw: line };
  const pri = Number(line.slice(1, close));
  if (!Number.isInteger(pri) || pri < 0 || pri > 191)
    return { ok: false, error: "PRI out of range", raw: line };
  const facility = pri >> 3;
  const severity = pri & 7;
  const rest = line.slice(close + 1);
  // RFC 5424: VERSION is "1" followed by a space right after PRI.
  if (rest.startsWith("1 ")) return parse5424(line, rest.slice(2), facility, severity, opts);
  return parse3164(line, rest, facility, severity, opts);
}

function parse5424(
  raw: string,
  s: string,
  facility: number,
  severity: number,
  opts: SyslogParseOptions,
): SyslogParseResult {
  let pos = 0;
  const next = (): string | undefined => {
    if (pos >= s.length) return undefined;
    const sp = s.indexOf(" ", pos);
    const tok = sp === -1 ? s.slice(pos) : s.slice(pos, sp);
    pos = sp === -1 ? s.length : sp + 1;
    return tok;
  };
  const timestamp = next();
  const hostname = next();
  const appName = next();
  const procId = next();
  const msgId = next();
  if (msgId === undefined) return { ok: false, error: "RFC 5424 header is incomplete", raw };
  let time = opts.receivedAt;
  if (timestamp !== NIL) {
    const t = Date.parse(timestamp!);
    if (Number.isNaN(t))
      return { ok: false, error: `bad RFC 5424 timestamp ${JSON.stringify(timestamp)}`, raw };
    time = t;
  }
  let structuredData: Record<string, Record<string, string>> | undefined;
  if (s[pos] === "-") {
    pos += 1;
  } else if (s[pos] === "[") {
    const sd = parseStructuredData(s, pos);
    if (!sd.ok) return { ok: false, error: sd.error, raw };
    structuredData = sd.data;
    pos = sd.end;
  } else {
    return { ok: false, error: "RFC 5424 STRUCTURED-DATA missing", raw };
  }
  if (s[pos] === " ") pos += 1;
  let message = s.slice(pos);
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1); // UTF-8 BOM marks a UTF-8 MSG
  const msg: SyslogMessage = { format: "rfc5424", facility, severity, time, message, raw };
  if (timestamp !== NIL) msg.timestamp = timestamp;
  if (hostname !== NIL) msg.hostname = hostname;
  if (appName !== NIL) msg.appName = appName;
  if (procId !== NIL) msg.procId = procId;
  if (msgId !== NIL) msg.msgId = msgId;
  if (structuredData) msg.structuredData = structuredData;
  return { ok: true, message: msg };
}

type SdResult =
  | { ok: true; data: Record<string, Record<string, string>>; end: number }
  | { ok: false; error: string };

/** SD-ELEMENT = "[" SD-ID *(SP SD-PARAM) "]"; PARAM-VALUE escapes '"', '\' and ']' with '\' (RFC 5424 §6.3.3). */
function parseStructuredData(s: string, start: number): SdResult {
  const data: Record<string, Record<string, string>> = {};
  let i = start;
  while (s[i] === "[") {
    i += 1;
    let idEnd = i;
    while (idEnd < s.length && s[idEnd] !== " " && s[idEnd] !== "]") idEnd += 1;
    const id = s.slice(i, idEnd);
    if (!id) return { ok: false, error: "empty SD-ID" };
    const params: Record<string, string> = {};
    i = idEnd;
    while (s[i] === " ") {
      i += 1;
      const eq = s.indexOf("=", i);
      if (eq === -1 || s[eq + 1] !== '"') return { ok: false, error: `malformed SD-PARAM in [${id}]` };
      const name = s.slice(i, eq);
      i = eq + 2;
      let value = "";
      for (;;) {
        if (i >= s.length) return { ok: false, error: `unterminated SD-PARAM value in [${id}]` };
        const c = s[i]!;
        if (c === "\\" && (s[i + 1] === '"' || s[i + 1] === "\\" || s[i + 1] === "]")) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i += 1;
          break;
        } else {
          value += c;
          i += 1;
        }
      }
      params[name] = value;
    }
    if (s[i] !== "]") return { ok: false, error: `unterminated SD-ELEMENT [${id}]` };
    i += 1;
    data[id] = params;
  }
  return { ok: true, data, end: i };
}

// "Mmm dd hh:mm:ss" (day space-padded), optionally followed by a year as some relays add.
const BSD_TS = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(?: (\d{4}))? /;
// An RFC 3339 timestamp in the RFC 3164 position (rsyslog's "high precision" template).
const ISO_TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;
// TAG[PID]: — the tag is at most 32 alphanumerics by the RFC; real ones carry '-', '.', '_' and '/'.
const TAG = /^([^\s[\]:]{1,64})(?:\[([^\]]{1,32})\])?: ?/;

function parse3164(
  raw: string,
  s: string,
  facility: number,
  severity: number,
  opts: SyslogParseOptions,
): SyslogParseResult {
  let time = opts.receivedAt;
  let timestamp: string | undefined;
  let rest = s;
  const bsd = BSD_TS.exec(rest);
  if (bsd) {
    timestamp = bsd[0].trimEnd();
    const month = MONTHS[bsd[1]!];
    if (month === undefined) return { ok: false, error: `bad month in ${JSON.stringify(timestamp)}`, raw };
    const parts = {
      month,
      day: Number(bsd[2]!.trim()),
      hour: Number(bsd[3]),
      minute: Number(bsd[4]),
      second: Number(bsd[5]),
    };
    time = bsdTime(parts, bsd[6] ? Number(bsd[6]) : undefined, opts);
    rest = rest.slice(bsd[0].length);
  } else {
    const iso = ISO_TS.exec(rest);
    if (iso) {
      timestamp = iso[1]!;
      time = Date.parse(timestamp);
      rest = rest.slice(iso[0].length);
    }
  }
  let hostname: string | undefined;
  // After a timestamp comes HOSTNAME unless the sender left it out (local /dev/log messages do): a token
  // that already looks like "tag:" or "tag[pid]:" is the tag.
  if (timestamp) {
    const sp = rest.indexOf(" ");
    const first = sp === -1 ? rest : rest.slice(0, sp);
    if (!/^[^\s[]+(\[[^\]]*\])?:$/.test(first) && sp !== -1) {
      hostname = first;
      rest = rest.slice(sp + 1);
    }
  }
  let appName: string | undefined;
  let procId: string | undefined;
  const tag = TAG.exec(rest);
  if (tag) {
    appName = tag[1];
    procId = tag[2];
    rest = rest.slice(tag[0].length);
  }
  const msg: SyslogMessage = { format: "rfc3164", facility, severity, time, message: rest, raw };
  if (timestamp) msg.timestamp = timestamp;
  if (hostname) msg.hostname = hostname;
  if (appName) msg.appName = appName;
  if (procId) msg.procId = procId;
  return { ok: true, message: msg };
}

interface LocalParts {
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/**
 * RFC 3164 timestamps carry neither year nor zone. The year is the receive year, or the previous one when
 * that would put the message more than a day in the future (a December message arriving in January).
 */
function bsdTime(p: LocalParts, year: number | undefined, opts: SyslogParseOptions): number {
  const zone = opts.rfc3164TimeZone ?? "UTC";
  const received = new Date(opts.receivedAt);
  const y = year ?? received.getUTCFullYear();
  let t = zonedToUtc(y, p, zone);
  if (year === undefined && t - opts.receivedAt > 86_400_000) t = zonedToUtc(y - 1, p, zone);
  return t;
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Converts a wall-clock time in an IANA zone to epoch ms (two passes settle DST edges). */
export function zonedToUtc(year: number, p: LocalParts, zone: string): number {
  const guess = Date.UTC(year, p.month, p.day, p.hour, p.minute, p.second);
  if (zone === "UTC" || zone === "Etc/UTC") return guess;
  let t = guess - zoneOffset(guess, zone);
  t = guess - zoneOffset(t, zone);
  return t;
}

function zoneOffset(at: number, zone: string): number {
  let f = offsetFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    offsetFormatters.set(zone, f);
  }
  const parts: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(at))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  );
  return asUtc - Math.floor(at / 1000) * 1000;
}
