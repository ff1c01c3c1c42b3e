/** Durations and relative times in plain words, for status pages and grants. */

const units: [number, string][] = [
  [86_400_000, "d"],
  [3_600_000, "h"],
  [60_000, "min"],
  [1000, "s"],
];

/** 90000 → "1 min 30 s"; keeps the two largest units. */
export function duration(ms: number): string {
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const [size, unit] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.join(" ") || `${Math.round(ms)} ms`;
}

/** "in 5 min" / "3 h ago" / "now", relative to `now`. */
export function relative(iso: string, now: number): string {
  const d = Date.parse(iso) - now;
  if (Math.abs(d) < 1000) return "now";
  return d > 0 ? `in ${duration(d)}` : `${duration(d)} ago`;
}

/** 480 → "8 h"; 1440 → "1 d"; 90 → "1 h 30 min". */
export const minutes = (m: number): string => duration(m * 60_000);
