/**
 * What alerts and sources need from the verifiable event log (src/eventlog, CONTRACTS.md "Between
 * issue-4 helpers"): append normalised OCSF events, hear about durable appends in log order, and read
 * past events for forwarding (by leaf index) and for testing rules (by time).
 */
import type { OcsfEvent } from "../ingest/index.ts";

export interface AppendOutcome {
  id: string;
  index: number;
  duplicate: boolean;
}

/** An event after it is durable: the log's id and leaf index, and the event in OCSF. */
export interface AppendedEvent {
  id: string;
  index: number;
  event: OcsfEvent;
}

export interface EventLogPort {
  appendEvents(events: OcsfEvent[]): Promise<AppendOutcome[]>;
  onAppended(listener: (events: AppendedEvent[]) => void | Promise<void>): () => void;
  /** Events in log order with a leaf index above `afterIndex`, at most `limit`. */
  readAfter(afterIndex: number, limit: number): Promise<AppendedEvent[]>;
  /** Events whose own time is in [from, to), in log order, with a leaf index above `afterIndex`. */
  readBetween(from: Date, to: Date, afterIndex: number, limit: number): Promise<AppendedEvent[]>;
}
