/**
 * Hour-of-day × weekday heat map of one developer's activity, in the developer's own time zone.
 * Cells inside the working hours are shaded blue; activity outside them is shaded orange to red and
 * outlined, so a 2 AM session stands out at a glance. Colour is never the only signal: every cell has a
 * tooltip and the figure carries a text summary of the busiest off-hours cells.
 */

export interface HeatCell {
  dow: number; // ISO weekday, 1 = Monday … 7 = Sunday
  hour: number; // 0–23, local
  n: number;
}

export interface WorkingHours {
  start: string; // "09:00"
  end: string; // "18:00"; before start means past midnight
  days: number[]; // ISO weekdays
}

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const HOURS = Array.from({ length: 24 }, (_, h) => h);
const CELL = 22;
const GAP = 2;
const LEFT = 40;
const TOP = 22;

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** Whether the hour starting at `hour` on `dow` lies (even partly) inside the working hours. */
export function inWorkingHours(wh: WorkingHours | undefined, dow: number, hour: number): boolean {
  if (!wh) return true;
  const start = minutes(wh.start);
  const end = minutes(wh.end);
  const from = hour * 60;
  const to = from + 60;
  if (start < end) return wh.days.includes(dow) && from < end && to > start;
  // Past midnight: the evening part belongs to `dow`, the early part to the day before.
  const prev = dow === 1 ? 7 : dow - 1;
  return (wh.days.includes(dow) && to > start) || (wh.days.includes(prev) && from < end);
}

function shade(t: number, off: boolean): string {
  // t in (0, 1]: lightness falls as activity grows. Blue inside hours, orange→red outside.
  const light = 92 - Math.round(t * 52);
  return off ? `hsl(${28 - Math.round(t * 24)} 90% ${light}%)` : `hsl(212 70% ${light}%)`;
}

export function Heatmap({
  cells,
  workingHours,
  timeZone,
  title,
}: {
  cells: HeatCell[];
  workingHours?: WorkingHours;
  timeZone: string;
  title: string;
}) {
  const grid = new Map(cells.map((c) => [`${c.dow}:${c.hour}`, c.n]));
  const max = Math.max(1, ...cells.map((c) => c.n));
  const width = LEFT + 24 * (CELL + GAP);
  const height = TOP + 7 * (CELL + GAP) + 30;
  const offHours = cells
    .filter((c) => c.n > 0 && !inWorkingHours(workingHours, c.dow, c.hour))
    .sort((a, b) => b.n - a.n);
  const summary =
    offHours.length === 0
      ? "No activity outside working hours."
      : `Activity outside working hours: ${offHours
          .slice(0, 5)
          .map((c) => `${DAYS[c.dow - 1]} ${String(c.hour).padStart(2, "0")}:00 (${c.n})`)
          .join(", ")}${offHours.length > 5 ? ", …" : ""}.`;
  return (
    <figure className="heatmap">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        style={{ maxWidth: `${width * 1.4}px` }}
        role="img"
        aria-label={`${title}, ${timeZone}. ${summary}`}
      >
        {HOURS.map((h) =>
          h % 3 === 0 ? (
            <text
              key={`h${h}`}
              x={LEFT + h * (CELL + GAP) + CELL / 2}
              y={TOP - 8}
              textAnchor="middle"
              className="heatmap-axis"
            >
              {String(h).padStart(2, "0")}
            </text>
          ) : null,
        )}
        {DAYS.map((d, i) => (
          <text
            key={d}
            x={LEFT - 6}
            y={TOP + i * (CELL + GAP) + CELL / 2 + 4}
            textAnchor="end"
            className="heatmap-axis"
          >
            {d}
          </text>
        ))}
        {DAYS.map((d, i) =>
          HOURS.map((h) => {
            const dow = i + 1;
            const n = grid.get(`${dow}:${h}`) ?? 0;
            const off = !inWorkingHours(workingHours, dow, h);
            const x = LEFT + h * (CELL + GAP);
            const y = TOP + i * (CELL + GAP);
            return (
              <rect
                key={`${d}${h}`}
                x={x}
                y={y}
                width={CELL}
                height={CELL}
                rx={3}
                fill={n === 0 ? (off ? "#f4f4f5" : "#eef2f7") : shade(n / max, off)}
                stroke={n > 0 && off ? "#b42318" : "none"}
                strokeWidth={n > 0 && off ? 2 : 0}
              >
                <title>
                  {`${d} ${String(h).padStart(2, "0")}:00–${String(h).padStart(2, "0")}:59: ${n} event${n === 1 ? "" : "s"}${off ? " (outside working hours)" : ""}`}
                </title>
              </rect>
            );
          }),
        )}
        <g transform={`translate(${LEFT}, ${TOP + 7 * (CELL + GAP) + 10})`} className="heatmap-axis">
          <rect width={12} height={12} rx={2} fill={shade(0.8, false)} />
          <text x={16} y={10}>
            within working hours
          </text>
          <rect
            x={150}
            width={12}
            height={12}
            rx={2}
            fill={shade(0.8, true)}
            stroke="#b42318"
            strokeWidth={2}
          />
          <text x={166} y={10}>
            outside working hours
          </text>
          <text x={330} y={10}>
            darker = more events (max {max})
          </text>
        </g>
      </svg>
      <figcaption>
        {title}, local time in {timeZone}
        {workingHours ? ` (working hours ${workingHours.start}–${workingHours.end})` : ""}. {summary}
      </figcaption>
    </figure>
  );
}
