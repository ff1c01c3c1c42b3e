import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { notFound } from "../core/errors.ts";
import type { SqlClient, Store } from "../store/store.ts";
import { dayOf, type Eligibility, eligibility, type GateEngagement } from "./eligibility.ts";
import { counts, type DeveloperFacts, expiringAgreements, loadFacts } from "./gate.repo.ts";
import { defaultRequirements, type GateRequirements, requirementsSchema } from "./requirements.ts";

const SETTINGS_KEY = "gate.requirements";

export interface EngagementEligibility extends Eligibility {
  engagementId: string;
  title: string;
}

export interface DeveloperEligibility extends Eligibility {
  developerId: string;
  name: string;
  vendorName: string | null;
  /** For a developer who is not eligible: the first day a requirement stopped holding, if known. */
  lostOn: string | null;
  engagements: EngagementEligibility[];
  checkedAt: string;
}

const isCurrent = (e: GateEngagement, day: string) =>
  e.startsOn <= day && (e.endsOn === null || day < e.endsOn);

/** Evaluates one developer: eligible when at least one current engagement passes the gate. */
export function evaluateDeveloper(f: DeveloperFacts, req: GateRequirements, at: Date): DeveloperEligibility {
  const day = dayOf(at);
  const facts = (engagement: GateEngagement | null) => ({
    developer: f.developer,
    engagement,
    agreements: f.agreements,
    vetting: f.vetting,
    verifiedReferences: f.verifiedReferences,
    redFlags: f.redFlags,
    trainings: f.trainings,
  });
  const perEngagement: EngagementEligibility[] = f.engagements.map((e) => ({
    engagementId: e.id,
    title: e.title,
    ...eligibility(facts(e), req, at),
  }));
  const current = f.engagements.filter((e) => isCurrent(e, day));
  let overall: Eligibility;
  if (current.length > 0) {
    const results = perEngagement.filter((r) => current.some((e) => e.id === r.engagementId));
    overall = results.find((r) => r.eligible) ?? results[0]!;
  } else {
    // Explain with the latest engagement (ended or not yet started), or none at all.
    overall = eligibility(facts(f.engagements[0] ?? null), req, at);
  }
  const sinces = overall.reasons.map((r) => r.since).filter((s): s is string => !!s && s <= day);
  return {
    developerId: f.developer.id,
    name: f.developer.name,
    vendorName: f.developer.vendorName,
    eligible: overall.eligible,
    reasons: overall.reasons,
    nextLapse: overall.nextLapse,
    lostOn: overall.eligible || sinces.length === 0 ? null : sinces.sort()[0]!,
    engagements: perEngagement,
    checkedAt: at.toISOString(),
  };
}

export function createGateService(deps: { store: Store; clock: Clock; audit: AuditService }) {
  const { store, clock, audit } = deps;

  async function requirements(q: SqlClient = store): Promise<GateRequirements> {
    const row = (
      await q.query<{ value: unknown }>("select value from settings where key = $1", [SETTINGS_KEY])
    ).rows[0];
    if (!row) return defaultRequirements;
    const parsed = requirementsSchema.safeParse(row.value);
    return parsed.success ? parsed.data : defaultRequirements;
  }

  async function setRequirements(ctx: Ctx, input: GateRequirements): Promise<GateRequirements> {
    const before = await requirements();
    await store.tx(async (q) => {
      await q.query(
        `insert into settings (key, value, updated_at) values ($1, $2, $3)
         on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`,
        [SETTINGS_KEY, JSON.stringify(input), clock.now()],
      );
      const changed = Object.keys(input).filter(
        (k) =>
          JSON.stringify(input[k as keyof GateRequirements]) !==
          JSON.stringify(before[k as keyof GateRequirements]),
      );
      await audit.record(q, ctx, {
        action: "gate.requirements.update",
        target: { type: "settings", id: SETTINGS_KEY },
        summary: { changed, value: input },
      });
    });
    return input;
  }

  async function forDeveloper(developerId: string, at = clock.now()): Promise<DeveloperEligibility> {
    const [facts] = await loadFacts(store, developerId);
    if (!facts) throw notFound("developer");
    return evaluateDeveloper(facts, await requirements(), at);
  }

  /** The gate for one developer on one engagement, as access decisions need it. */
  async function check(developerId: string, engagementId: string, at = clock.now()): Promise<Eligibility> {
    const [facts] = await loadFacts(store, developerId);
    const engagement = facts?.engagements.find((e) => e.id === engagementId);
    if (!facts || !engagement) throw notFound("engagement");
    return eligibility({ ...facts, engagement }, await requirements(), at);
  }

  /**
   * The gate for many (developer, engagement) pairs at once, in a fixed handful of set queries however
   * many pairs (the access sweep re-checks every live grant this way). A null engagement is judged as
   * "no engagement". Keyed `${developerId}:${engagementId ?? ""}`; unknown developers are left out.
   * Pass the caller's transaction as `q` when there is one.
   */
  async function checkMany(
    pairs: { developerId: string; engagementId: string | null }[],
    at = clock.now(),
    q: SqlClient = store,
  ): Promise<Map<string, Eligibility>> {
    const req = await requirements(q);
    const ids = [...new Set(pairs.map((p) => p.developerId))];
    const facts = new Map((await loadFacts(q, ids)).map((f) => [f.developer.id, f]));
    const out = new Map<string, Eligibility>();
    for (const { developerId, engagementId } of pairs) {
      const key = `${developerId}:${engagementId ?? ""}`;
      if (out.has(key)) continue;
      const f = facts.get(developerId);
      if (!f) continue;
      const engagement = engagementId ? (f.engagements.find((e) => e.id === engagementId) ?? null) : null;
      out.set(key, eligibility({ ...f, engagement }, req, at));
    }
    return out;
  }

  async function all(at = clock.now()): Promise<DeveloperEligibility[]> {
    const req = await requirements();
    return (await loadFacts(store)).map((f) => evaluateDeveloper(f, req, at));
  }

  async function dashboard(at = clock.now()) {
    const req = await requirements();
    const day = dayOf(at);
    const horizon = dayOf(new Date(at.getTime() + req.warnWithinDays * 86400_000));
    const everyone = (await loadFacts(store))
      .filter((f) => f.developer.status === "active")
      .map((f) => evaluateDeveloper(f, req, at));
    return {
      at: at.toISOString(),
      warnWithinDays: req.warnWithinDays,
      counts: {
        ...(await counts(store, day)),
        eligibleDevelopers: everyone.filter((e) => e.eligible).length,
      },
      notEligible: everyone
        .filter((e) => !e.eligible)
        .map((e) => ({
          developerId: e.developerId,
          name: e.name,
          vendorName: e.vendorName,
          lostOn: e.lostOn,
          reasons: e.reasons.map((r) => r.message),
        }))
        .sort((a, b) => (b.lostOn ?? "").localeCompare(a.lostOn ?? "")),
      losingSoon: everyone
        .filter((e) => e.eligible && e.nextLapse && e.nextLapse.date < horizon)
        .map((e) => ({
          developerId: e.developerId,
          name: e.name,
          vendorName: e.vendorName,
          date: e.nextLapse!.date,
          reason: e.nextLapse!.reason,
        }))
        .sort((a, b) => a.date.localeCompare(b.date)),
      expiringAgreements: (await expiringAgreements(store, day, horizon)).map((a) => ({
        id: a.id,
        title: a.title,
        type: a.type,
        party: a.party,
        expiresOn: a.expires_on,
      })),
    };
  }

  return { requirements, setRequirements, forDeveloper, check, checkMany, all, dashboard };
}

export type GateService = ReturnType<typeof createGateService>;
