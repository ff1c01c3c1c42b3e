/**
 * The event log's public types: what other features (alerts, sources) append and receive.
 *
 * Every entry of Warden's verifiable log is one event: Warden's own audit records (`audit.record`) and
 * events from outside sources (HTTP ingestion, syslog, Git hooks, GitHub/GitLab webhooks), normalised to
 * OCSF. All of them are leaves of one RFC 9162 Merkle tree (src/tlog).
 */
import type { OcsfEvent } from "../ingest/index.ts";

export type { OcsfEvent };

/** The result of appending one event. */
export interface AppendOutcome {
  /** Warden's id of the event (uuid). For a duplicate, the id of the event already logged. */
  id: string;
  /** The event's leaf index in the log (0-based). */
  index: number;
  /** True when (warden.source, metadata.uid) was logged before: nothing new was appended. */
  duplicate: boolean;
}

/** An event as listeners receive it, after it is durable. */
export interface AppendedEvent {
  id: string;
  index: number;
  /** Warden's own audit records arrive mapped to OCSF (API Activity, Authentication, Account Change…). */
  event: OcsfEvent;
}

export type AppendedListener = (events: AppendedEvent[]) => void | Promise<void>;

export interface EventAppender {
  /**
   * Appends OCSF events in order. Resolves once they are durable (committed with the Merkle tree);
   * idempotent by (event.warden.source, event.metadata.uid): a duplicate is not appended again and
   * resolves with the first event's id and index. Events whose actor is not attributed yet are mapped to
   * a Warden developer (SSH certificate key id, Git username, email, token). Throws AppError
   * `rate_limited` (HTTP 429, `details.retryAfterSeconds`) when the in-flight queue is full: callers
   * retry later rather than lose events. `validation_failed` when an event is not storable (too large).
   */
  appendEvents(events: OcsfEvent[]): Promise<AppendOutcome[]>;
  /**
   * Calls `listener` after each durable append, in log order, with the new events (duplicates are not
   * repeated). Includes Warden's own audit records once their transaction commits. Errors a listener
   * throws are logged and do not undo the append. Returns an unsubscribe function.
   */
  onAppended(listener: AppendedListener): () => void;
}
