/**
 * The alert timeline picture: alerts opened per hour as stacked bars by severity (SVG), with day marks,
 * a legend in words and a title per bar, so colour is never the only signal. Clicking a bar filters the
 * list to that hour.
 */
export const SEVERITIES = ["critical", "high", "medium", "low", "informational"] as const;
export type Severity = (typeof SEVERITIES)[number];
export type SeverityCounts = Record<Severity, number>;

export interface Timeline {
  from: string;
  to: string;
  hours: { hour: string; counts: SeverityCounts }[];
  totals: { open: SeverityCounts; acknowledged: SeverityCounts; resolved: SeverityCounts };
}

export const SEVERITY_COLOUR: Record<Severity, string> = {
  critical: "#7f0d12",
  high: "#c2410c",
  medium: "#b7791f",
  low: "#2563a8",
  informational: "#8a94a3",
};

const W = 960;
const H = 180;
const PAD = { left: 34, right: 8, top: 10, bottom: 26 };

export function AlertTimeline({
  data,
  onPickHour,
}: {
  data: Timeline;
  onPickHour?: (hourIso: string) => void;
}) {
  const hours = data.hours;
  const totals = hours.map((h) => SEVERITIES.reduce((n, s) => n + h.counts[s], 0));
  const max = Math.max(1, ...totals);
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const barW = innerW / Math.max(1, hours.length);
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const ticks = niceTicks(max);
  const sum = totals.reduce((a, b) => a + b, 0);
  const dayStarts = hours
    .map((h, i) => ({ i, d: new Date(h.hour) }))
    .filter(({ d }) => d.getUTCHours() === 0);
  return (
    <figure className="alert-timeline">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`Alerts opened per hour (UTC) from ${data.from.slice(0, 16).replace("T", " ")} to ${data.to
          .slice(0, 16)
          .replace("T", " ")}: ${sum} in all`}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} className="alert-timeline-grid" />
            <text x={PAD.left - 4} y={y(t) + 3} textAnchor="end" className="alert-timeline-axis">
              {t}
            </text>
          </g>
        ))}
        {dayStarts.map(({ i, d }) => (
          <g key={i}>
            <line
              x1={PAD.left + i * barW}
              x2={PAD.left + i * barW}
              y1={PAD.top}
              y2={H - PAD.bottom}
              className="alert-timeline-day"
            />
            <text x={PAD.left + i * barW + 3} y={H - 8} className="alert-timeline-axis">
              {d.toISOString().slice(5, 10)}
            </text>
          </g>
        ))}
        {hours.map((h, i) => {
          if (totals[i] === 0) return null;
          let acc = 0;
          const label = `${h.hour.slice(0, 13).replace("T", " ")}:00 UTC: ${SEVERITIES.filter(
            (s) => h.counts[s] > 0,
          )
            .map((s) => `${h.counts[s]} ${s}`)
            .join(", ")}`;
          return (
            // biome-ignore lint/a11y/noStaticElementInteractions: the list below the picture is the keyboard path; this is a shortcut
            <g
              key={h.hour}
              className={onPickHour ? "alert-timeline-bar clickable" : "alert-timeline-bar"}
              onClick={onPickHour ? () => onPickHour(h.hour) : undefined}
            >
              <title>{label}</title>
              {SEVERITIES.slice()
                .reverse()
                .map((s) => {
                  const v = h.counts[s];
                  if (v === 0) return null;
                  const top = y(acc + v);
                  const bottom = y(acc);
                  acc += v;
                  return (
                    <rect
                      key={s}
                      x={PAD.left + i * barW + 0.5}
                      width={Math.max(1, barW - 1)}
                      y={top}
                      height={Math.max(1, bottom - top)}
                      fill={SEVERITY_COLOUR[s]}
                    />
                  );
                })}
            </g>
          );
        })}
        <line x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} className="alert-timeline-base" />
      </svg>
      <figcaption>
        <ul className="alert-legend">
          {SEVERITIES.map((s) => (
            <li key={s}>
              <span className="swatch" style={{ background: SEVERITY_COLOUR[s] }} aria-hidden="true" />
              {s} ({hours.reduce((n, h) => n + h.counts[s], 0)})
            </li>
          ))}
        </ul>
        Alerts opened per hour (UTC), by their first event.
      </figcaption>
    </figure>
  );
}

function niceTicks(max: number): number[] {
  const raw = max / 4;
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? pow * 10);
  const out: number[] = [];
  for (let v = step; v <= max; v += step) out.push(v);
  return out;
}
