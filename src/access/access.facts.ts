import type { Eligibility, GateService } from "../gate/index.ts";
import type {
  AccessAction,
  AccessLevel,
  ApproverRole,
  DecisionRequestInput,
  DeveloperRole,
} from "../policy/index.ts";
import type { SqlClient } from "../store/store.ts";
import type { ResourceRow } from "./resources.repo.ts";
import { resourcesRepo } from "./resources.repo.ts";

/** Who would hold the access, as the policies see them. */
export interface Subject {
  developerId: string;
  vendorId: string | null;
  roles: DeveloperRole[];
  engagementId: string | null;
  eligibility: Eligibility;
}

export interface SubjectKey {
  developerId: string;
  engagementId: string | null;
}

export const subjectKey = (k: SubjectKey) => `${k.developerId}:${k.engagementId ?? ""}`;

/**
 * Loads the subjects of many (developer, engagement) pairs in a fixed number of set queries: the
 * developers, the engagements' roles, the gate (gate.checkMany) and the engagement scopes. Used for
 * one request as for the sweep over every live grant, so both decide on the very same facts.
 */
export async function loadSubjects(
  q: SqlClient,
  gate: Pick<GateService, "checkMany">,
  keys: SubjectKey[],
  at: Date,
): Promise<{
  subjects: Map<string, Subject>;
  inScope: (engagementId: string | null, resourceId: string) => boolean;
}> {
  const developerIds = [...new Set(keys.map((k) => k.developerId))];
  const engagementIds = [...new Set(keys.map((k) => k.engagementId).filter((e): e is string => !!e))];
  const developers = developerIds.length
    ? (
        await q.query<{ id: string; vendor_id: string | null }>(
          "select id, vendor_id from developers where id = any($1::uuid[])",
          [developerIds],
        )
      ).rows
    : [];
  const engagements = engagementIds.length
    ? (
        await q.query<{ id: string; roles: DeveloperRole[] }>(
          "select id, roles from engagements where id = any($1::uuid[])",
          [engagementIds],
        )
      ).rows
    : [];
  const vendorOf = new Map(developers.map((d) => [d.id, d.vendor_id]));
  const rolesOf = new Map(engagements.map((e) => [e.id, e.roles]));
  const eligibilities = await gate.checkMany(keys, at, q);
  const scope = await resourcesRepo.scopePairs(q, engagementIds);
  const subjects = new Map<string, Subject>();
  for (const k of keys) {
    const key = subjectKey(k);
    if (subjects.has(key) || !vendorOf.has(k.developerId)) continue;
    subjects.set(key, {
      developerId: k.developerId,
      vendorId: vendorOf.get(k.developerId) ?? null,
      roles: (k.engagementId && rolesOf.get(k.engagementId)) || [],
      engagementId: k.engagementId,
      eligibility: eligibilities.get(key) ?? {
        eligible: false,
        reasons: [{ code: "developer_missing", message: "Developer not found" }],
        nextLapse: null,
      },
    });
  }
  return {
    subjects,
    inScope: (engagementId, resourceId) => !!engagementId && scope.has(`${engagementId}:${resourceId}`),
  };
}

/** The Cedar request for one decision, from loaded facts. Pure. */
export function decisionRequestFor(options: {
  action: AccessAction;
  level: AccessLevel;
  subject: Subject;
  resource: Pick<ResourceRow, "id" | "kind" | "environment" | "data_class" | "owners" | "break_glass">;
  approvals: number;
  approverRoles: readonly ApproverRole[];
  breakGlass: boolean;
  inEngagementScope: boolean;
}): DecisionRequestInput {
  const { subject, resource } = options;
  return {
    action: options.action,
    level: options.level,
    developer: {
      id: subject.developerId,
      vendorId: subject.vendorId,
      roles: subject.roles,
      external: true,
      eligibility: {
        eligible: subject.eligibility.eligible,
        reasons: subject.eligibility.reasons.map((r) => r.message),
      },
    },
    resource: {
      id: resource.id,
      kind: resource.kind,
      environment: resource.environment,
      dataClass: resource.data_class,
      owners: resource.owners,
      breakGlass: resource.break_glass,
    },
    context: {
      approvals: options.approvals,
      approverRoles: [...options.approverRoles],
      breakGlass: options.breakGlass,
      inEngagementScope: options.inEngagementScope,
    },
  };
}

/**
 * The engagement a request is for: the one named (it must be the developer's), else a current
 * engagement that lists the resource in scope, else any current one; null when none is current
 * (the gate then says "No active engagement").
 */
export async function chooseEngagement(
  q: SqlClient,
  developerId: string,
  resourceId: string,
  day: string,
  named?: string,
): Promise<string | null | undefined> {
  const rows = (
    await q.query<{ id: string; in_scope: boolean; current: boolean }>(
      `select e.id,
              exists (select 1 from access_engagement_resources er where er.engagement_id = e.id and er.resource_id = $2) as in_scope,
              (e.starts_on <= $3::date and (e.ends_on is null or e.ends_on > $3::date)) as current
       from engagements e where e.developer_id = $1 order by e.starts_on desc`,
      [developerId, resourceId, day],
    )
  ).rows;
  if (named) return rows.some((r) => r.id === named) ? named : undefined;
  const current = rows.filter((r) => r.current);
  return (current.find((r) => r.in_scope) ?? current[0])?.id ?? null;
}
