import type { AccessLevel, ApproverRole, DataClass, Environment, ResourceKind } from "../policy/index.ts";
import type { SqlClient } from "../store/store.ts";
import type { DecisionRecord, RequestStatus } from "./access.schemas.ts";

export interface RequestRow {
  id: string;
  developer_id: string;
  engagement_id: string | null;
  resource_id: string;
  level: AccessLevel;
  duration_minutes: number;
  reason: string;
  starts_at: Date | null;
  break_glass: boolean;
  status: RequestStatus;
  required_approvals: number;
  needs_security: boolean;
  decision: DecisionRecord | Record<string, never>;
  grant_id: string | null;
  extends_grant: boolean;
  requested_by: string | null;
  expires_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  decision_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface RequestView extends RequestRow {
  developer_name: string;
  resource_name: string;
  resource_kind: ResourceKind;
  environment: Environment;
  data_class: DataClass;
  owners: string[];
}

export interface ApprovalRow {
  request_id: string;
  approver_id: string;
  approver_name: string;
  decision: "approve" | "deny";
  capacities: ApproverRole[];
  reason: string;
  at: Date;
}

const viewColumns = `q.*, d.full_name as developer_name, r.name as resource_name, r.kind as resource_kind,
  r.environment, r.data_class, r.owners`;
const viewFrom = `access_requests q join developers d on d.id = q.developer_id
  join access_resources r on r.id = q.resource_id`;

export interface RequestFilter {
  status?: RequestStatus | undefined;
  developerId?: string | undefined;
  resourceId?: string | undefined;
  /** Pending requests this user may decide: owner of the resource, or security where it is needed. */
  approverId?: string | undefined;
  approverIsSecurity?: boolean | undefined;
}

function whereOf(f: RequestFilter) {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, v: unknown) => {
    params.push(v);
    where.push(cond.replaceAll("?", `$${params.length}`));
  };
  if (f.status) add("q.status = ?", f.status);
  if (f.developerId) add("q.developer_id = ?", f.developerId);
  if (f.resourceId) add("q.resource_id = ?", f.resourceId);
  if (f.approverId) {
    where.push("q.status = 'pending'");
    params.push(f.approverId);
    const me = `$${params.length}`;
    const asOwner = `r.owners @> jsonb_build_array(${me}::text)`;
    where.push(
      `(${asOwner}${f.approverIsSecurity ? " or q.needs_security" : ""})
       and not exists (select 1 from access_approvals a where a.request_id = q.id and a.approver_id = ${me}::uuid)
       and (q.requested_by is null or q.requested_by <> ${me}::uuid)`,
    );
  }
  return { w: where.length ? `where ${where.join(" and ")}` : "", params };
}

export const requestsRepo = {
  async insert(
    q: SqlClient,
    r: {
      id: string;
      developerId: string;
      engagementId: string | null;
      resourceId: string;
      level: AccessLevel;
      durationMinutes: number;
      reason: string;
      startsAt: Date | null;
      breakGlass: boolean;
      status: RequestStatus;
      requiredApprovals: number;
      needsSecurity: boolean;
      decision: DecisionRecord;
      grantId: string | null;
      extendsGrant: boolean;
      requestedBy: string | null;
      expiresAt: Date;
      at: Date;
    },
  ) {
    await q.query(
      `insert into access_requests (id, developer_id, engagement_id, resource_id, level, duration_minutes, reason,
         starts_at, break_glass, status, required_approvals, needs_security, decision, grant_id, extends_grant,
         requested_by, expires_at, created_at, updated_at)
       values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$18)`,
      [
        r.id,
        r.developerId,
        r.engagementId,
        r.resourceId,
        r.level,
        r.durationMinutes,
        r.reason,
        r.startsAt,
        r.breakGlass,
        r.status,
        r.requiredApprovals,
        r.needsSecurity,
        JSON.stringify(r.decision),
        r.grantId,
        r.extendsGrant,
        r.requestedBy,
        r.expiresAt,
        r.at,
      ],
    );
  },
  async byId(q: SqlClient, id: string, opts: { forUpdate?: boolean } = {}) {
    return (
      await q.query<RequestRow>(
        `select * from access_requests where id = $1${opts.forUpdate ? " for update" : ""}`,
        [id],
      )
    ).rows[0];
  },
  async view(q: SqlClient, id: string) {
    return (await q.query<RequestView>(`select ${viewColumns} from ${viewFrom} where q.id = $1`, [id]))
      .rows[0];
  },
  async list(q: SqlClient, f: RequestFilter & { limit: number; offset: number }) {
    const { w, params } = whereOf(f);
    const total = Number(
      (await q.query<{ n: number }>(`select count(*)::int8 n from ${viewFrom} ${w}`, params)).rows[0]?.n ?? 0,
    );
    params.push(f.limit, f.offset);
    const rows = (
      await q.query<RequestView>(
        `select ${viewColumns} from ${viewFrom} ${w} order by q.created_at desc, q.id
         limit $${params.length - 1} offset $${params.length}`,
        params,
      )
    ).rows;
    return { rows, total };
  },
  async approvals(q: SqlClient, requestIds: string[]) {
    if (requestIds.length === 0) return [];
    return (
      await q.query<ApprovalRow>(
        `select a.*, u.display_name as approver_name from access_approvals a join users u on u.id = a.approver_id
         where a.request_id = any($1::uuid[]) order by a.at`,
        [requestIds],
      )
    ).rows;
  },
  async addApproval(
    q: SqlClient,
    a: {
      requestId: string;
      approverId: string;
      decision: "approve" | "deny";
      capacities: ApproverRole[];
      reason: string;
      at: Date;
    },
  ) {
    await q.query(
      `insert into access_approvals (request_id, approver_id, decision, capacities, reason, at)
       values ($1,$2,$3,$4,$5,$6)`,
      [a.requestId, a.approverId, a.decision, JSON.stringify(a.capacities), a.reason, a.at],
    );
  },
  async setStatus(
    q: SqlClient,
    id: string,
    v: {
      status: RequestStatus;
      decision?: DecisionRecord;
      grantId?: string | null;
      decidedBy?: string | null;
      decisionReason?: string | null;
    },
    at: Date,
  ) {
    await q.query(
      `update access_requests set status = $2, decision = coalesce($3::jsonb, decision), grant_id = coalesce($4, grant_id),
         decided_at = case when $2 = 'pending' then decided_at else $5 end,
         decided_by = coalesce($6, decided_by), decision_reason = coalesce($7, decision_reason), updated_at = $5
       where id = $1`,
      [
        id,
        v.status,
        v.decision ? JSON.stringify(v.decision) : null,
        v.grantId ?? null,
        at,
        v.decidedBy ?? null,
        v.decisionReason ?? null,
      ],
    );
  },
  async setDecision(q: SqlClient, id: string, decision: DecisionRecord, at: Date) {
    await q.query("update access_requests set decision = $2, updated_at = $3 where id = $1", [
      id,
      JSON.stringify(decision),
      at,
    ]);
  },
  /** Pending requests past their expiry, locked for the transition. */
  async claimExpired(q: SqlClient, at: Date, limit: number) {
    return (
      await q.query<RequestRow>(
        `select * from access_requests where status = 'pending' and expires_at <= $1
         order by expires_at limit $2 for update skip locked`,
        [at, limit],
      )
    ).rows;
  },
  async pendingFor(q: SqlClient, developerId: string, resourceId: string) {
    return (
      await q.query<{ id: string }>(
        "select id from access_requests where developer_id = $1 and resource_id = $2 and status = 'pending'",
        [developerId, resourceId],
      )
    ).rows[0];
  },
};
