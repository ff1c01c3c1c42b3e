/**
 * What the rules may ask of the rest of Warden, answered from memory (rules run inline on every event):
 * developer profiles (time zone, working hours), the gate's verdict at an instant, live grants. The facts
 * are loaded in a few set queries and reloaded when a change that matters passes through the log
 * (`noteEvents`), or after `maxAgeMs` (changes made on other Warden nodes).
 */
import { type DeveloperFacts, evaluateDeveloper, type GateRequirements } from "../gate/index.ts";
import type { OcsfEvent } from "../ingest/index.ts";
import type { DeveloperProfile, Eligibility, RuleContext, WorkingHours } from "./alert.types.ts";
import type { GeoLookup } from "./geo.ts";
import { lruMap } from "./lru.ts";

export interface DeveloperRecord {
  id: string;
  name: string;
  timeZone: string;
  workingHours: WorkingHours | null;
  status: "active" | "offboarded";
}

/** A live grant as the access feature reports it. */
export interface LiveGrant {
  id: string;
  developerId: string;
  resource: { kind: string; name: string };
  startsAt: Date;
  endsAt: Date;
}

export interface DetectionSources {
  developers(): Promise<DeveloperRecord[]>;
  gate(): Promise<{ requirements: GateRequirements; facts: DeveloperFacts[] }>;
  /**
   * The access feature's live grants and its catalog (the resources Warden manages). Without them the
   * rule checks eligibility only; an event on a resource outside the catalog is not judged on grants.
   */
  access?: {
    liveGrants(): Promise<LiveGrant[]>;
    managedResources(): Promise<{ kind: string; name: string }[]>;
  };
}

/**
 * Events name what they touched by its kind at the source (`git_repository`, `server`); the catalog
 * by connector (`github`, `gitlab`, `ssh`, `postgres`, `generic`). Both map to one family; names match
 * case-insensitively (so a GitHub resource is best named after its repository, `acme/app`).
 */
const FAMILY: Record<string, string> = {
  git_repository: "git",
  github: "git",
  gitlab: "git",
  server: "server",
  ssh: "server",
  postgres: "database",
  database: "database",
};
export const resourceKey = (kind: string, name: string) => `${FAMILY[kind] ?? kind}|${name.toLowerCase()}`;

/** Audit actions whose records change what the rules know (profiles, eligibility, grants, catalog). */
const RELOAD_ON = /^(developer|engagement|agreement|vetting|training|gate|access|grant)\./;

export interface DetectionContext extends RuleContext {
  /** Loads the facts when never loaded, marked stale, or older than maxAgeMs. */
  ensureFresh(): Promise<void>;
  /** Marks the facts stale when one of these events changed them. */
  noteEvents(events: readonly OcsfEvent[]): void;
  invalidate(): void;
  setGeo(geo: GeoLookup): void;
  setDefaultHours(hours: WorkingHours): void;
}

export function createDetectionContext(
  sources: DetectionSources,
  opts: { maxAgeMs?: number } = {},
): DetectionContext {
  const maxAge = opts.maxAgeMs ?? 60_000;
  let loadedAt = Number.NEGATIVE_INFINITY;
  let stale = true;
  let loading: Promise<void> | undefined;
  let profiles = new Map<string, DeveloperProfile>();
  let facts = new Map<string, DeveloperFacts>();
  let requirements: GateRequirements | undefined;
  let grants: Map<string, LiveGrant[]> | undefined;
  let managed = new Set<string>();

  let defaultHours: WorkingHours | undefined;
  // The gate's verdict per developer for its latest UTC day: the facts only change by date within a load.
  let verdicts = lruMap<string, { day: number; verdict: Eligibility }>(20_000);

  async function load() {
    const [devs, gate, live, catalog] = await Promise.all([
      sources.developers(),
      sources.gate(),
      sources.access ? sources.access.liveGrants() : Promise.resolve(undefined),
      sources.access ? sources.access.managedResources() : Promise.resolve([]),
    ]);
    const nextProfiles = new Map<string, DeveloperProfile>();
    for (const d of devs) {
      const p: DeveloperProfile = { id: d.id, timeZone: d.timeZone, name: d.name };
      const hours = d.workingHours ?? defaultHours;
      if (hours) p.workingHours = hours;
      nextProfiles.set(d.id, p);
    }
    profiles = nextProfiles;
    facts = new Map(gate.facts.map((f) => [f.developer.id, f]));
    requirements = gate.requirements;
    if (live) {
      const m = new Map<string, LiveGrant[]>();
      for (const g of live) {
        const list = m.get(g.developerId);
        if (list) list.push(g);
        else m.set(g.developerId, [g]);
      }
      grants = m;
    } else grants = undefined;
    managed = new Set(catalog.map((r) => resourceKey(r.kind, r.name)));
    verdicts = lruMap(20_000);
  }

  const ctx: DetectionContext = {
    developer: (id) => profiles.get(id),
    eligibility(developerId, at) {
      const f = facts.get(developerId);
      if (!f || !requirements) return undefined;
      // The verdict holds for a UTC day (the gate's dates are days): keep the last one per developer.
      const day = Math.floor(at / 86_400_000);
      const last = verdicts.get(developerId);
      if (last && last.day === day) return last.verdict;
      const e = evaluateDeveloper(f, requirements, new Date(at));
      const verdict = { eligible: e.eligible, reasons: e.reasons.map((r) => r.message) };
      verdicts.set(developerId, { day, verdict });
      return verdict;
    },
    async ensureFresh() {
      // Wall-clock age (not the injected clock): this is about cache freshness, not business time.
      if (!stale && Date.now() - loadedAt < maxAge) return;
      if (!loading) {
        stale = false;
        loading = load()
          .then(() => {
            loadedAt = Date.now();
          })
          .catch((err) => {
            stale = true;
            throw err;
          })
          .finally(() => {
            loading = undefined;
          });
      }
      await loading;
    },
    noteEvents(events) {
      for (const e of events) {
        if (e.warden.source !== "warden") continue;
        const action = (e.unmapped as { action?: unknown } | undefined)?.action ?? e.api?.operation;
        if (typeof action === "string" && RELOAD_ON.test(action)) {
          stale = true;
          return;
        }
      }
    },
    invalidate() {
      stale = true;
    },
    setGeo(geo) {
      ctx.geo = geo;
    },
    setDefaultHours(hours) {
      if (JSON.stringify(hours) === JSON.stringify(defaultHours)) return;
      defaultHours = hours;
      stale = true;
    },
  };
  // Only when grants are known, and only for resources Warden manages: otherwise the rule must not
  // claim "no live grant".
  if (sources.access) {
    ctx.hasLiveGrant = ({ developerId, resource, at }) => {
      if (!grants) return true;
      const key = resourceKey(resource.kind, resource.name);
      if (!managed.has(key)) return true;
      const list = grants.get(developerId);
      if (!list) return false;
      return list.some(
        (g) =>
          resourceKey(g.resource.kind, g.resource.name) === key &&
          g.startsAt.getTime() <= at &&
          at < g.endsAt.getTime(),
      );
    };
  }
  return ctx;
}
