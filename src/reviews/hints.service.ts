import type { Grant, GrantsService } from "../access/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import type { Store } from "../store/store.ts";
import { isWriteAction, judge, type Usage } from "./hints.rules.ts";
import type { Hint } from "./reviews.schemas.ts";

const DAY = 86_400_000;
/** Connector checks run this many at a time (they are network calls to the target systems). */
const CHECK_CONCURRENCY = 4;
/** Actions under access.* and review.* are about managing access, not using it; except these. */
const USE_ACTIONS = ["access.credential.reveal"];

export interface HintsDeps {
  store: Store;
  clock: Clock;
  grants: Pick<GrantsService, "listLive" | "check">;
}

interface Seen {
  at: Date;
  write: boolean;
}

/**
 * Least-privilege hints: live grants that look wider than the job needs, for revocation or a narrower
 * level. Usage comes from the audit trail (what the developer did that names the grant or its resource:
 * revealing the credential now, ingested SSH logins and Git pushes once they land there) and, on request,
 * from the connectors (PostgreSQL: sessions open right now).
 */
export function createHintsService(deps: HintsDeps) {
  const { store, clock, grants } = deps;

  /** Per grant: the latest sign of use in the audit trail, and whether it was a write. */
  async function fromAuditTrail(live: Grant[], since: Date, from: Date) {
    const out = new Map<string, Seen[]>();
    if (live.length === 0) return out;
    const developerIds = [...new Set(live.map((g) => g.developerId))];
    const accounts = (
      await store.query<{ id: string; developer_id: string }>(
        "select id, developer_id from users where developer_id = any($1::uuid[])",
        [developerIds],
      )
    ).rows;
    const developerOfUser = new Map(accounts.map((a) => [a.id, a.developer_id]));
    const events = (
      await store.query<{
        at: Date;
        action: string;
        actor_id: string | null;
        target_id: string | null;
        grant_id: string | null;
        resource_id: string | null;
        developer_id: string | null;
      }>(
        // Warden's own records in the event log (kind 'audit'): the entry is the canonical JSON record.
        `select at, action, actor_id, resource_id as target_id,
           (entry::jsonb)->'summary'->>'grantId' as grant_id,
           (entry::jsonb)->'summary'->>'resourceId' as resource_id,
           (entry::jsonb)->'summary'->>'developerId' as developer_id
         from log_events
         where kind = 'audit' and at >= $1 and (entry::jsonb)->>'outcome' = 'success'
           and (actor_id = any($2::text[]) or (entry::jsonb)->'summary'->>'developerId' = any($3::text[]))
           and (action = any($4::text[]) or not (action like 'access.%' or action like 'review.%'))`,
        [from, accounts.map((a) => a.id), developerIds, USE_ACTIONS],
      )
    ).rows;
    const byDeveloper = new Map<string, Grant[]>();
    for (const g of live) byDeveloper.set(g.developerId, [...(byDeveloper.get(g.developerId) ?? []), g]);
    for (const e of events) {
      const dev = (e.actor_id && developerOfUser.get(e.actor_id)) || e.developer_id;
      if (!dev) continue;
      const at = new Date(e.at);
      for (const g of byDeveloper.get(dev) ?? []) {
        const names =
          e.target_id === g.id ||
          e.grant_id === g.id ||
          e.target_id === g.resourceId ||
          e.resource_id === g.resourceId;
        if (!names || at < new Date(g.startsAt)) continue;
        out.set(g.id, [...(out.get(g.id) ?? []), { at, write: at >= since && isWriteAction(e.action) }]);
      }
    }
    return out;
  }

  /** Asks each PostgreSQL grant's connector whether the role has a session open now. */
  async function fromConnectors(live: Grant[]) {
    const seen = new Map<string, number>();
    const targets = live.filter((g) => g.resourceKind === "postgres");
    let errors = 0;
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const g = targets[next++]!;
        try {
          const r = await grants.check(g.id);
          const sessions = Number(r.details.openSessions ?? 0);
          if (sessions > 0) seen.set(g.id, sessions);
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, worker));
    return { seen, checked: targets.length, errors };
  }

  async function list(
    ctx: Ctx,
    q: { unusedDays: number; resourceId?: string | undefined; connectors: "true" | "false" },
  ) {
    const now = clock.now();
    const since = new Date(now.getTime() - q.unusedDays * DAY);
    const live = (await grants.listLive(q.resourceId ? { resourceId: q.resourceId } : {})).filter(
      (g) => g.state === "active",
    );
    const from = new Date(Math.min(since.getTime(), ...live.map((g) => Date.parse(g.startsAt))));
    const trail = await fromAuditTrail(live, since, from);
    const sources = [{ name: "audit trail", grants: live.length, errors: 0 }];
    const probe = q.connectors === "true" ? await fromConnectors(live) : null;
    if (probe) sources.push({ name: "postgres: open sessions", grants: probe.checked, errors: probe.errors });

    const owners = new Map(
      (
        await store.query<{ id: string; owners: string[] }>(
          "select id, owners from access_resources where id = any($1::uuid[])",
          [[...new Set(live.map((g) => g.resourceId))]],
        )
      ).rows.map((r) => [r.id, r.owners]),
    );
    const lead = ctx.actor.role === "admin" || ctx.actor.role === "security";

    const items: Hint[] = [];
    for (const g of live) {
      const events = trail.get(g.id) ?? [];
      const recent = events.filter((e) => e.at >= since);
      const sessions = probe?.seen.get(g.id);
      const last = events.reduce<Date | null>((m, e) => (m && m > e.at ? m : e.at), null);
      const usage: Usage = {
        lastSeenAt: sessions ? now : last,
        classified: recent.length > 0,
        wrote: recent.some((e) => e.write),
        evidence: [
          ...(events.length ? [`audit trail: ${events.length} event${events.length === 1 ? "" : "s"}`] : []),
          ...(sessions ? [`postgres: ${sessions} open session${sessions === 1 ? "" : "s"} now`] : []),
        ],
      };
      const verdict = judge({ level: g.level, startsAt: new Date(g.startsAt) }, usage, now, q.unusedDays);
      if (!verdict) continue;
      items.push({
        grantId: g.id,
        developerId: g.developerId,
        developerName: g.developerName,
        resourceId: g.resourceId,
        resourceName: g.resourceName,
        environment: g.environment,
        level: g.level,
        grantStartsAt: g.startsAt,
        grantEndsAt: g.endsAt,
        ...verdict,
        lastSeenAt: usage.lastSeenAt?.toISOString() ?? null,
        evidence: usage.evidence,
        canRevoke:
          lead ||
          (ctx.actor.role === "manager" && (owners.get(g.resourceId) ?? []).includes(ctx.actor.userId ?? "")),
      });
    }
    const rank = { unused: 0, write_unused: 1, admin_level: 2 };
    items.sort((a, b) => rank[a.kind] - rank[b.kind] || a.resourceName.localeCompare(b.resourceName));
    return { items, unusedDays: q.unusedDays, checkedAt: now.toISOString(), sources, grants: live.length };
  }

  return { list };
}

export type HintsService = ReturnType<typeof createHintsService>;
