import { type FormEvent, useId, useState } from "react";
import { ApiError } from "../api.ts";

export interface ReasonChoice {
  /** What the button says: "Approve", "Deny", "Keep", "Revoke". */
  label: string;
  danger?: boolean;
  run(reason: string): Promise<unknown>;
}

/**
 * Decisions that must carry a reason (approve/deny, keep/revoke, revoke now): one reason box and a
 * button per choice. The server checks the reason; its message shows beside the box.
 */
export function ReasonActions({
  choices,
  what,
  placeholder = "Reason (required)",
  onDone,
}: {
  choices: ReasonChoice[];
  /** Names the record for screen readers: "Dana's request for orders-db". */
  what: string;
  placeholder?: string;
  onDone(): void;
}) {
  const id = useId();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function run(c: ReasonChoice) {
    setBusy(true);
    setError(null);
    try {
      await c.run(reason.trim());
      setReason("");
      onDone();
    } catch (err) {
      setError(
        err instanceof ApiError ? (Object.values(err.fields)[0] ?? err.message) : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  }
  return (
    // Enter does nothing: a decision is always an explicit click on the button that names it.
    <form className="decide-row" onSubmit={(e: FormEvent) => e.preventDefault()} aria-busy={busy}>
      <label htmlFor={`${id}-reason`} className="visually-hidden">
        Reason for {what}
      </label>
      <input
        id={`${id}-reason`}
        type="text"
        value={reason}
        placeholder={placeholder}
        maxLength={2000}
        onChange={(e) => setReason(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      {choices.map((c) => (
        <button
          key={c.label}
          type="button"
          className={`small${c.danger ? " danger" : ""}`}
          disabled={busy}
          onClick={() => run(c)}
        >
          {c.label} <span className="visually-hidden">{what}</span>
        </button>
      ))}
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert" style={{ flexBasis: "100%" }}>
          {error}
        </p>
      )}
    </form>
  );
}
