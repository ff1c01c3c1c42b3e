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
  /** Whether the source tells reads from writes (an SSH login does not). */
  classifies: boolean;
  source: string;
}

/** What the hints need of a resource: its kind, owners and how hosts name it. */
interface ResourceFacts {
  id: string;
  kind: string;
  owners: string[];
  /** Lowercase names the resource has in ingested events (repository, project path, database). */
  names: string[];
  hosts: string[];
  principals: string[];
}

const lowerList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").map((x) => x.toLowerCase()) : [];

/** How a resource appears in ingested events, from its connector settings. */
function factsOf(r: {
  id: string;
  kind: string;
  owners: string[];
  connector_settings: Record<string, unknown>;
}) {
  const s = r.connector_settings ?? {};
  const names: string[] = [];
  if (r.kind === "github" && typeof s.owner === "string" && typeof s.repo === "string")
    names.push(`${s.owner}/${s.repo}`.toLowerCase());
  if (r.kind === "gitlab" && (typeof s.project === "string" || typeof s.project === "number"))
    names.push(String(s.project).toLowerCase());
  const connection = (s.connection ?? {}) as { database?: unknown; host?: unknown };
  if (r.kind === "postgres" && typeof connection.database === "string") {
    names.push(connection.database.toLowerCase());
    if (typeof connection.host === "string")
      names.push(`${connection.host}/${connection.database}`.toLowerCase());
  }
  return {
    id: r.id,
    kind: r.kind,
    owners: r.owners,
    names,
    hosts: lowerList(s.hosts),
    principals: lowerList(s.principals),
  };
}

const resourceNames = (r: ResourceFacts) => new Set(r.names);

/**
 * Least-privilege hints: live grants that look wider than the job needs, for revocation or a narrower
 * level. Usage comes from Warden's own audit trail (what the developer did that names the grant or its
 * resource, e.g. revealing the credential), from ingested events (SSH logins from hosts' syslog, Git
 * hooks, GitHub/GitLab audit streams, the ingest API) tied to catalog resources by their connector
 * settings, and, on request, from the connectors (PostgreSQL: sessions open right now).
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
        out.set(g.id, [
          ...(out.get(g.id) ?? []),
          { at, write: at >= since && isWriteAction(e.action), classifies: true, source: "warden" },
        ]);
      }
    }
    return out;
  }

  /**
   * Per grant: ingested events (syslog SSH logins, Git hooks, GitHub/GitLab audit streams, the ingest
   * API) that show its developer using its resource. An event names the resource as the host calls
   * it, so each resource's names come from its connector settings: an SSH resource's `hosts` (else its
   * principals, as the account logged into), a repository's owner/name or project path, a PostgreSQL
   * database (or the grant's own role, as the database user). An SSH login with a Warden certificate
   * names its grant in the key id: that decides. Only successful events count.
   */
  async function fromIngestedEvents(live: Grant[], resources: Map<string, ResourceFacts>, from: Date) {
    const out = new Map<string, Seen[]>();
    if (live.length === 0) return out;
    const namesOf = new Map<string, Set<string>>();
    for (const r of resources.values()) namesOf.set(r.id, resourceNames(r));
    const pgRoles = live
      .filter((g) => g.resourceKind === "postgres" && g.externalRef)
      .map((g) => g.externalRef!);
    const events = (
      await store.query<{
        at: Date;
        action: string;
        source: string;
        developer_id: string | null;
        resource_type: string | null;
        resource: string | null;
        actor_label: string | null;
        key_id: string | null;
      }>(
        `select at, action, source, developer_id, resource_type, lower(resource_id) as resource, actor_label,
           case when class_uid = 3002 then (entry::jsonb)->'event'->'unmapped'->'ssh'->'cert'->>'key_id' end as key_id
         from log_events
         where kind = 'ocsf' and at >= $1 and status_id = 1 and resource_id is not null
           and (developer_id = any($2::uuid[]) or actor_label = any($3::text[]))`,
        [from, [...new Set(live.map((g) => g.developerId))], pgRoles],
      )
    ).rows;
    const byDeveloper = new Map<string, Grant[]>();
    for (const g of live) byDeveloper.set(g.developerId, [...(byDeveloper.get(g.developerId) ?? []), g]);
    const byRole = new Map(live.filter((g) => g.resourceKind === "postgres").map((g) => [g.externalRef, g]));
    for (const e of events) {
      const at = new Date(e.at);
      const candidates = new Set<Grant>(e.developer_id ? (byDeveloper.get(e.developer_id) ?? []) : []);
      const role = e.actor_label ? byRole.get(e.actor_label) : undefined;
      if (role) candidates.add(role);
      const certifiedGrant = e.key_id
        ? /:grant=([0-9a-f-]{36})$/i.exec(e.key_id)?.[1]?.toLowerCase()
        : undefined;
      for (const g of candidates) {
        if (at < new Date(g.startsAt)) continue;
        const r = resources.get(g.resourceId);
        if (!r) continue;
        let uses = false;
        if (r.kind === "ssh") {
          // A Warden certificate says which grant it belongs to; otherwise the host, or the account.
          if (certifiedGrant) uses = certifiedGrant === g.id;
          else if (e.resource_type === "server") {
            uses = r.hosts.length
              ? r.hosts.includes(e.resource ?? "")
              : r.principals.includes((e.actor_label ?? "").toLowerCase());
          }
        } else if (r.kind === "postgres") {
          uses = role === g || (e.developer_id === g.developerId && namesOf.get(r.id)!.has(e.resource ?? ""));
        } else {
          uses = e.developer_id === g.developerId && namesOf.get(r.id)!.has(e.resource ?? "");
        }
        if (!uses) continue;
        out.set(g.id, [
          ...(out.get(g.id) ?? []),
          // An SSH login says nothing about reading or writing; Git and database events do.
          { at, write: isWriteAction(e.action), classifies: r.kind !== "ssh", source: e.source },
        ]);
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
    const resources = new Map(
      (
        await store.query<{
          id: string;
          kind: string;
          owners: string[];
          connector_settings: Record<string, unknown>;
        }>("select id, kind, owners, connector_settings from access_resources where id = any($1::uuid[])", [
          [...new Set(live.map((g) => g.resourceId))],
        ])
      ).rows.map((r) => [r.id, factsOf(r)]),
    );
    const trail = await fromAuditTrail(live, since, from);
    const ingested = await fromIngestedEvents(live, resources, from);
    const sources = [
      { name: "audit trail", grants: live.length, errors: 0 },
      { name: "ingested events", grants: live.length, errors: 0 },
    ];
    const probe = q.connectors === "true" ? await fromConnectors(live) : null;
    if (probe) sources.push({ name: "postgres: open sessions", grants: probe.checked, errors: probe.errors });

    const lead = ctx.actor.role === "admin" || ctx.actor.role === "security";

    const items: Hint[] = [];
    for (const g of live) {
      const own = trail.get(g.id) ?? [];
      const outside = ingested.get(g.id) ?? [];
      const events = [...own, ...outside];
      const recent = events.filter((e) => e.at >= since);
      const sessions = probe?.seen.get(g.id);
      const last = events.reduce<Date | null>((m, e) => (m && m > e.at ? m : e.at), null);
      const plural = (n: number) => `${n} event${n === 1 ? "" : "s"}`;
      const usage: Usage = {
        lastSeenAt: sessions ? now : last,
        classified: recent.some((e) => e.classifies),
        wrote: recent.some((e) => e.write),
        evidence: [
          ...(own.length ? [`audit trail: ${plural(own.length)}`] : []),
          ...(outside.length
            ? [
                `ingested: ${plural(outside.length)} (${[...new Set(outside.map((e) => e.source))].sort().join(", ")})`,
              ]
            : []),
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
          (ctx.actor.role === "manager" &&
            (resources.get(g.resourceId)?.owners ?? []).includes(ctx.actor.userId ?? "")),
      });
    }
    const rank = { unused: 0, write_unused: 1, admin_level: 2 };
    items.sort((a, b) => rank[a.kind] - rank[b.kind] || a.resourceName.localeCompare(b.resourceName));
    return { items, unusedDays: q.unusedDays, checkedAt: now.toISOString(), sources, grants: live.length };
  }

  return { list };
}

export type HintsService = ReturnType<typeof createHintsService>;
