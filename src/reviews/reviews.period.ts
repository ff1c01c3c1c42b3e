/**
 * The review cadence: scheduled campaigns open once per period (quarterly by default). Periods are
 * calendar-aligned in UTC so every node names the current one the same way; the period's label is the
 * unique key that stops two nodes (or two runs) opening the same campaign twice.
 */
export const cadences = [0, 1, 2, 3, 4, 6, 12] as const;
export type CadenceMonths = (typeof cadences)[number];

export interface Period {
  /** e.g. "2026-Q4", "2026-H2", "2026-11", "2026". */
  label: string;
  start: Date;
  /** Exclusive. */
  end: Date;
}

export function periodOf(at: Date, months: Exclude<CadenceMonths, 0>): Period {
  const y = at.getUTCFullYear();
  const index = Math.floor(at.getUTCMonth() / months);
  const start = new Date(Date.UTC(y, index * months, 1));
  const end = new Date(Date.UTC(y, (index + 1) * months, 1));
  const label =
    months === 12
      ? String(y)
      : months === 6
        ? `${y}-H${index + 1}`
        : months === 3
          ? `${y}-Q${index + 1}`
          : months === 1
            ? `${y}-${String(index + 1).padStart(2, "0")}`
            : `${y}-P${index + 1}/${12 / months}`;
  return { label, start, end };
}

/** The name a scheduled campaign gets: "Access review 2026-Q4". */
export const scheduledName = (p: Period) => `Access review ${p.label}`;
