import type { OcsfEvent } from "../ingest/index.ts";
import type { GeoLookup } from "./geo.ts";

export type AlertSeverity = "informational" | "low" | "medium" | "high" | "critical";
export type AlertStatus = "open" | "acknowledged" | "resolved";

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface WorkingHours {
  days: IsoWeekday[];
  /** "HH:MM" local time; when start > end the window runs overnight. */
  start: string;
  end: string;
}

export interface DeveloperProfile {
  id: string;
  /** IANA zone, e.g. "Asia/Tokyo". */
  timeZone: string;
  workingHours?: WorkingHours;
  name?: string;
}

export interface Eligibility {
  eligible: boolean;
  /** e.g. "NDA expired 2026-10-01" */
  reasons: string[];
}

/** What the rules may ask of the rest of Warden. Every method must be fast and side-effect free. */
export interface RuleContext {
  developer(id: string): DeveloperProfile | undefined;
  /** Is there a live grant for this developer on this resource at this instant? */
  hasLiveGrant?(q: { developerId: string; resource: { kind: string; name: string }; at: number }): boolean;
  /** The gate's verdict (agreements, training, engagement) at an instant. */
  eligibility?(developerId: string, at: number): Eligibility | undefined;
  /** Networks already known for a developer (e.g. from history), as CIDR strings. */
  knownNetworks?(developerId: string): readonly string[];
  geo?: GeoLookup;
}

export interface RuleHit {
  /** Repeats with the same rule and group key within the grouping window become one alert. */
  groupKey: string;
  severity?: AlertSeverity;
  developerId?: string;
  /** For rule sets that emit several rule identities (Sigma). */
  ruleId?: string;
  title?: string;
  /** Structured facts (plain data: stored with the alert and shown in its detail). */
  details?: Record<string, unknown>;
  /**
   * One line for people. A function of the details is called only when the hit opens an alert, or once
   * per batch for an alert that grew, so rules that fire on every event of a storm build no strings.
   * Pass a function defined once (module level), not a closure made per event.
   */
  summary: string | ((details: Record<string, unknown>) => string);
}

export interface AlertRule {
  id: string;
  title: string;
  severity: AlertSeverity;
  /** OCSF class_uids the rule can fire on; omitted = every class. The engine skips it for the others. */
  classes?: readonly number[];
  evaluate(event: OcsfEvent, ctx: RuleContext): RuleHit | RuleHit[] | undefined;
  /** Entries held in memory (for bounded-state checks). */
  stateSize?(): number;
}

export interface Alert {
  id: string;
  ruleId: string;
  title: string;
  severity: AlertSeverity;
  status: AlertStatus;
  groupKey: string;
  summary: string;
  developerId?: string;
  /** Time of the first and latest event behind the alert (ms). */
  firstSeen: number;
  lastSeen: number;
  /** Hits grouped into this alert. */
  count: number;
  /** References of the events behind it (audit entry ids), newest last, capped. */
  eventRefs: string[];
  details: Record<string, unknown>;
  createdAt: number;
}
