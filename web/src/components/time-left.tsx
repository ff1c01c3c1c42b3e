import { useEffect, useState } from "react";
import { duration } from "./time.ts";

/**
 * Pictures of time: how much of a grant's window is left (a bar per grant), and every live grant on
 * one time axis (who holds what until when). Colour is never the only signal: the words say it too.
 */

/** The current time, refreshed every `everyMs` so bars and "time left" move while a page is open. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

const tone = (fractionLeft: number) => (fractionLeft < 0.1 ? "bad" : fractionLeft < 0.34 ? "warn" : "ok");

export function timeLeftText(startsAt: string, endsAt: string, now: number, started = false): string {
  const start = Date.parse(startsAt);
  const end = Date.parse(endsAt);
  // `now` refreshes every half minute: a grant that just became active may start "after" it.
  if (now < start && !started) return `starts in ${duration(start - now)}`;
  if (now >= end) return "ended";
  return `${duration(end - now)} left`;
}

/** A bar of the grant's window: the part used up, the part left, with the time left in words. */
export function TimeLeftBar({
  startsAt,
  endsAt,
  now,
  started = false,
}: {
  startsAt: string;
  endsAt: string;
  now: number;
  /** The grant is known to have started (it is active), whatever the page's clock says. */
  started?: boolean;
}) {
  const start = Date.parse(startsAt);
  const end = Date.parse(endsAt);
  const total = Math.max(1, end - start);
  const left = Math.min(1, Math.max(0, (end - Math.max(now, start)) / total));
  const text = timeLeftText(startsAt, endsAt, now, started);
  const w = 120;
  return (
    <span className="time-left">
      <svg
        width={w}
        height={10}
        viewBox={`0 0 ${w} 10`}
        role="img"
        aria-label={`${Math.round(left * 100)}% of the window left`}
      >
        <rect x={0} y={1} width={w} height={8} rx={4} className="tl-track" />
        <rect
          x={w * (1 - left)}
          y={1}
          width={w * left}
          height={8}
          rx={4}
          className={`tl-left tl-${tone(left)}`}
        />
      </svg>
      <span className={`tl-text tl-text-${tone(left)}`}>{text}</span>
    </span>
  );
}

export interface TimelineRow {
  id: string;
  label: string;
  sublabel: string;
  startsAt: string;
  endsAt: string;
  /** Emphasised (break-glass, production write). */
  flag?: boolean;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Tick spacing for an axis `span` long: hours for a day, days for a month, weeks beyond. */
function ticksFor(from: number, span: number): { at: number; label: string }[] {
  const step = span <= 2 * DAY ? 6 * HOUR : span <= 21 * DAY ? DAY : span <= 120 * DAY ? 7 * DAY : 30 * DAY;
  const first = Math.ceil(from / step) * step;
  const out: { at: number; label: string }[] = [];
  for (let at = first; at <= from + span && out.length < 16; at += step) {
    const d = new Date(at);
    out.push({
      at,
      label:
        step < DAY
          ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
          : d.toLocaleDateString(undefined, { month: "short", day: "numeric" }),
    });
  }
  return out;
}

/**
 * Every live grant on one axis from now to the last end: each bar is what remains of a grant, so the
 * longest bars are the longest-lived access. Grants not started yet begin later on the axis.
 */
export function GrantsTimeline({ rows, now, max = 40 }: { rows: TimelineRow[]; now: number; max?: number }) {
  const shown = [...rows].sort((a, b) => Date.parse(a.endsAt) - Date.parse(b.endsAt)).slice(0, max);
  if (shown.length === 0) return null;
  const end = Math.max(...shown.map((r) => Date.parse(r.endsAt)), now + HOUR);
  const span = end - now;
  const labelW = 230;
  const chartW = 640;
  const rowH = 22;
  const top = 22;
  const height = top + shown.length * rowH + 6;
  const x = (t: number) => labelW + ((Math.max(now, Math.min(end, t)) - now) / span) * chartW;
  return (
    <figure className="timeline">
      <svg
        viewBox={`0 0 ${labelW + chartW + 10} ${height}`}
        width="100%"
        role="img"
        aria-labelledby="timeline-title timeline-caption"
        className="timeline-svg"
      >
        <title id="timeline-title">Live grants on a time axis</title>
        {ticksFor(now, span).map((t) => (
          <g key={t.at}>
            <line x1={x(t.at)} x2={x(t.at)} y1={top - 4} y2={height} className="tl-grid" />
            <text x={x(t.at)} y={12} className="tl-tick" textAnchor="middle">
              {t.label}
            </text>
          </g>
        ))}
        <line x1={labelW} x2={labelW} y1={top - 8} y2={height} className="tl-now" />
        <text x={labelW} y={top - 10} className="tl-tick" textAnchor="start">
          now
        </text>
        {shown.map((r, i) => {
          const y = top + i * rowH;
          const x1 = x(Date.parse(r.startsAt));
          const x2 = x(Date.parse(r.endsAt));
          const left = (Date.parse(r.endsAt) - now) / (Date.parse(r.endsAt) - Date.parse(r.startsAt) || 1);
          return (
            <g key={r.id}>
              <title>{`${r.label} — ${r.sublabel}: ${timeLeftText(r.startsAt, r.endsAt, now)}`}</title>
              <text x={0} y={y + 14} className="tl-label">
                {r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label}
              </text>
              <rect
                x={x1}
                y={y + 4}
                width={Math.max(2, x2 - x1)}
                height={rowH - 9}
                rx={3}
                className={`tl-left tl-${r.flag ? "bad" : tone(left)}`}
              />
            </g>
          );
        })}
      </svg>
      <figcaption id="timeline-caption" className="hint">
        {shown.length} live grant{shown.length === 1 ? "" : "s"} from now to their end
        {rows.length > shown.length ? ` (the ${shown.length} ending soonest of ${rows.length})` : ""}; red
        marks break-glass or a grant about to end.
      </figcaption>
    </figure>
  );
}
