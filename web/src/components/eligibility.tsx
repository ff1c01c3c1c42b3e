import type { Eligibility } from "../api.ts";
import { useResource } from "../hooks.ts";
import { EligibilityBadge, Reasons } from "./status.tsx";

/** The gate's outcome for every developer, keyed by id (one request for a whole list). */
export function useEligibilityMap() {
  const r = useResource<{ items: Eligibility[] }>("/gate/developers");
  const map = new Map<string, Eligibility>();
  for (const e of r.data?.items ?? []) map.set(e.developerId, e);
  return { map, loading: r.loading, error: r.error };
}

/** A badge with the reasons in plain words, wherever a developer appears. */
export function GateStatus({ e, compact }: { e: Eligibility | undefined; compact?: boolean }) {
  if (!e) return <EligibilityBadge eligible={undefined} />;
  return (
    <div className="gate-status">
      <EligibilityBadge eligible={e.eligible} />
      {!e.eligible && <Reasons reasons={compact ? e.reasons.slice(0, 3) : e.reasons} />}
      {compact && !e.eligible && e.reasons.length > 3 && (
        <p className="hint">and {e.reasons.length - 3} more</p>
      )}
      {e.eligible && e.nextLapse && (
        <p className="hint">
          Until {e.nextLapse.date}: {e.nextLapse.reason}
        </p>
      )}
    </div>
  );
}
