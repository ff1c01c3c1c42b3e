import type { SqlClient } from "../store/store.ts";
import type { GateAgreement, GateEngagement, GateFacts } from "./eligibility.ts";

/**
 * Loads the gate's facts straight from the foundation tables, for one developer or for all of them in
 * a handful of set queries (the dashboard evaluates everyone at once).
 */
export interface DeveloperFacts {
  developer: GateFacts["developer"] & { vendorId: string | null; vendorName: string | null; email: string };
  engagements: GateEngagement[];
  agreements: GateAgreement[];
  vetting: GateFacts["vetting"];
  verifiedReferences: number;
  redFlags: GateFacts["redFlags"];
  trainings: GateFacts["trainings"];
}

/** For one developer (an id), a set of developers (a list of ids: one set query each), or everyone. */
export async function loadFacts(q: SqlClient, developerId?: string | string[]): Promise<DeveloperFacts[]> {
  const one = developerId !== undefined;
  const many = Array.isArray(developerId);
  if (many && developerId.length === 0) return [];
  const p = one ? [developerId] : [];
  const match = many ? "= any($1::uuid[])" : "= $1";
  const devFilter = one ? `where d.id ${match}` : "";
  const by = (col: string) => (one ? `where ${col} ${match}` : "");

  const devs = (
    await q.query<{
      id: string;
      full_name: string;
      email: string;
      status: "active" | "offboarded";
      vendor_id: string | null;
      vendor_name: string | null;
    }>(
      `select d.id, d.full_name, d.email, d.status, d.vendor_id, v.name as vendor_name
       from developers d left join vendors v on v.id = d.vendor_id ${devFilter} order by d.full_name, d.id`,
      p,
    )
  ).rows;
  if (devs.length === 0) return [];

  const engagements = (
    await q.query<{
      id: string;
      developer_id: string;
      title: string;
      starts_on: string;
      ends_on: string | null;
      handles_personal_data: boolean;
    }>(
      `select id, developer_id, title, starts_on, ends_on, handles_personal_data from engagements ${by("developer_id")} order by starts_on desc`,
      p,
    )
  ).rows;
  // Agreements bind a developer directly or through their vendor.
  const agreements = (
    await q.query<{
      developer_id: string;
      id: string;
      type: GateAgreement["type"];
      status: GateAgreement["status"];
      signed_on: string | null;
      effective_on: string;
      expires_on: string | null;
      terminated_on: string | null;
      party_name: string;
    }>(
      `select d.id as developer_id, a.id, a.type, a.status, a.signed_on, a.effective_on, a.expires_on, a.terminated_on,
              coalesce(v.name, pd.full_name) as party_name
       from developers d
       join agreements a on a.developer_id = d.id or (a.vendor_id is not null and a.vendor_id = d.vendor_id)
       left join vendors v on v.id = a.vendor_id
       left join developers pd on pd.id = a.developer_id
       ${devFilter}`,
      p,
    )
  ).rows;
  const vetting = (
    await q.query<{
      developer_id: string;
      decision: "pending" | "approved" | "rejected";
      background_check: { result: "clear" | "consider" | "failed" | "pending"; completedOn?: string } | null;
      awareness_score: number | null;
      culture_outcome: "pending" | "pass" | "fail";
      drill_result: "not_run" | "passed" | "failed";
    }>(
      `select developer_id, decision, background_check, awareness_score, culture_outcome, drill_result from vetting ${by("developer_id")}`,
      p,
    )
  ).rows;
  const refs = (
    await q.query<{ developer_id: string; n: number }>(
      `select developer_id, count(*)::int8 as n from vetting_references where verified_at is not null ${one ? `and developer_id ${match}` : ""} group by developer_id`,
      p,
    )
  ).rows;
  const flags = (
    await q.query<{
      developer_id: string;
      kind: string;
      severity: "low" | "medium" | "high" | "critical";
      resolved_at: Date | null;
    }>(`select developer_id, kind, severity, resolved_at from red_flags ${by("developer_id")}`, p)
  ).rows;
  const trainings = (
    await q.query<{ developer_id: string; course: string; completed_on: string; expires_on: string | null }>(
      `select developer_id, course, completed_on, expires_on from training_records ${by("developer_id")}`,
      p,
    )
  ).rows;

  const group = <T extends { developer_id: string }>(rows: T[]) => {
    const m = new Map<string, T[]>();
    for (const r of rows) {
      const list = m.get(r.developer_id);
      if (list) list.push(r);
      else m.set(r.developer_id, [r]);
    }
    return m;
  };
  const eBy = group(engagements);
  const aBy = group(agreements);
  const vBy = group(vetting);
  const rBy = group(refs);
  const fBy = group(flags);
  const tBy = group(trainings);

  return devs.map((d) => {
    const v = vBy.get(d.id)?.[0];
    return {
      developer: {
        id: d.id,
        name: d.full_name,
        email: d.email,
        status: d.status,
        vendorId: d.vendor_id,
        vendorName: d.vendor_name,
      },
      engagements: (eBy.get(d.id) ?? []).map((e) => ({
        id: e.id,
        title: e.title,
        startsOn: e.starts_on,
        endsOn: e.ends_on,
        handlesPersonalData: e.handles_personal_data,
      })),
      agreements: (aBy.get(d.id) ?? []).map((a) => ({
        id: a.id,
        type: a.type,
        partyName: a.party_name,
        status: a.status,
        signedOn: a.signed_on,
        effectiveOn: a.effective_on,
        expiresOn: a.expires_on,
        terminatedOn: a.terminated_on,
      })),
      vetting: v
        ? {
            decision: v.decision,
            backgroundCheck: v.background_check
              ? { result: v.background_check.result, completedOn: v.background_check.completedOn ?? null }
              : null,
            awarenessScore: v.awareness_score,
            cultureOutcome: v.culture_outcome,
            drillResult: v.drill_result,
          }
        : null,
      verifiedReferences: Number(rBy.get(d.id)?.[0]?.n ?? 0),
      redFlags: (fBy.get(d.id) ?? []).map((f) => ({
        kind: f.kind,
        severity: f.severity,
        resolved: f.resolved_at !== null,
      })),
      trainings: (tBy.get(d.id) ?? []).map((t) => ({
        course: t.course,
        completedOn: t.completed_on,
        expiresOn: t.expires_on,
      })),
    };
  });
}

export async function expiringAgreements(q: SqlClient, fromDay: string, toDay: string) {
  return (
    await q.query<{ id: string; title: string; type: string; party: string; expires_on: string }>(
      `select a.id, a.title, a.type, coalesce(v.name, d.full_name) as party, a.expires_on
       from agreements a left join vendors v on v.id = a.vendor_id left join developers d on d.id = a.developer_id
       where a.status = 'active' and a.expires_on is not null and a.expires_on >= $1 and a.expires_on < $2
       order by a.expires_on, a.title`,
      [fromDay, toDay],
    )
  ).rows;
}

export async function counts(q: SqlClient, day: string) {
  const r = (
    await q.query<{ vendors: number; developers: number; engagements: number; agreements: number }>(
      `select (select count(*) from vendors)::int8 as vendors,
              (select count(*) from developers where status = 'active')::int8 as developers,
              (select count(*) from engagements where starts_on <= $1 and (ends_on is null or ends_on > $1))::int8 as engagements,
              (select count(*) from agreements where status = 'active' and effective_on <= $1 and (expires_on is null or expires_on > $1))::int8 as agreements`,
      [day],
    )
  ).rows[0];
  return {
    vendors: Number(r?.vendors ?? 0),
    developers: Number(r?.developers ?? 0),
    activeEngagements: Number(r?.engagements ?? 0),
    activeAgreements: Number(r?.agreements ?? 0),
  };
}
