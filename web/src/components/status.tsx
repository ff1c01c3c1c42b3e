import type { ReactNode } from "react";
import { type ApiError, isMissingRoute, type Reason } from "../api.ts";

export function Loading({ label = "Loading…", lines = 3 }: { label?: string; lines?: number }) {
  return (
    <div className="loading" role="status" aria-live="polite" style={{ minHeight: `${lines * 1.6 + 1}rem` }}>
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function ErrorBox({ error, what }: { error: ApiError; what?: string }) {
  if (isMissingRoute(error) && what) {
    return (
      <p className="notice" role="status">
        {what} is not available on this server yet.
      </p>
    );
  }
  return (
    <div className="error-box" role="alert">
      <strong>{error.title}.</strong> {error.message}
    </div>
  );
}

/** Green or red, always with words: colour is never the only signal. */
export function EligibilityBadge({ eligible }: { eligible: boolean | undefined }) {
  if (eligible === undefined) return <span className="badge badge-unknown">Unknown</span>;
  return eligible ? (
    <span className="badge badge-ok">Eligible</span>
  ) : (
    <span className="badge badge-bad">Not eligible</span>
  );
}

export function Tag({ children, tone }: { children: ReactNode; tone?: "ok" | "bad" | "warn" | "muted" }) {
  return <span className={`tag${tone ? ` tag-${tone}` : ""}`}>{children}</span>;
}

export function Reasons({ reasons }: { reasons: readonly (Reason | string)[] }) {
  if (reasons.length === 0) return null;
  return (
    <ul className="reasons">
      {reasons.map((r) => {
        const text = typeof r === "string" ? r : r.message;
        return <li key={text}>{text}</li>;
      })}
    </ul>
  );
}

export const dateOnly = (iso: string | null | undefined): string => (iso ? iso.slice(0, 10) : "—");
export const dateTime = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—";
