/**
 * Reads past events from the event log for replays (testing rules) and forwarding, in log order, as
 * OCSF (Warden's own audit records mapped by the log's `entryToOcsf`).
 */
import { decodeEntry, type EventFilter, entryToOcsf, searchRows } from "../eventlog/index.ts";
import type { SqlClient } from "../store/store.ts";
import type { AppendedEvent, EventLogPort } from "./event-log.port.ts";

export function eventLogReader(
  q: SqlClient,
  head: () => Promise<{ size: number }>,
): Pick<EventLogPort, "readAfter" | "readBetween"> & { size(): Promise<number> } {
  async function read(f: EventFilter, limit: number): Promise<AppendedEvent[]> {
    if (limit <= 0) return [];
    const rows = await searchRows(q, f, limit, "asc");
    const out: AppendedEvent[] = [];
    for (const r of rows) {
      const entry = decodeEntry(r.entry);
      if (!entry) continue;
      out.push({ id: r.id, index: Number(r.idx), event: entryToOcsf(entry, r.developer_id) });
    }
    return out;
  }
  return {
    readAfter: (afterIndex, limit) => read({ afterIndex }, limit),
    readBetween: (from, to, afterIndex, limit) => read({ from, to, afterIndex }, limit),
    size: async () => (await head()).size,
  };
}
