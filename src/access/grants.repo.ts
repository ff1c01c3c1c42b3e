import type { AccessLevel, ApproverRole, DataClass, Environment, ResourceKind } from "../policy/index.ts";
import type { SqlClient } from "../store/store.ts";
import type { EndReason, GrantState } from "./access.schemas.ts";

export interface GrantRow {
  id: string;
  request_id: string;
  developer_id: string;
  engagement_id: string | null;
  resource_id: string;
  level: AccessLevel;
  state: GrantState;
  starts_at: Date;
  ends_at: Date;
  approvals: number;
  approver_capacities: ApproverRole[];
  break_glass: boolean;
  review_required: boolean;
  reviewed_at: Date | null;
  reviewed_by: string | null;
  review_note: string | null;
  end_reason: EndReason | null;
  end_detail: string | null;
  ended_by: string | null;
  ended_at: Date | null;
  failed_op: "provision" | "revoke" | null;
  attempts: number;
  last_error: string | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date | null;
  external_ref: string | null;
  external_state: string | null;
  external_details: Record<string, unknown>;
  provisioned_at: Date | null;
  /** When the sweep last asked the host about a pending invitation. */
  external_checked_at: Date | null;
  /** How many times an expired invitation was sent again (once at most). */
  invitation_resends: number;
  created_at: Date;
  updated_at: Date;
}

/** A grant with the names the API shows. */
export interface GrantView extends GrantRow {
  developer_name: string;
  resource_name: string;
  resource_kind: ResourceKind;
  environment: Environment;
  data_class: DataClass;
  credential_format: "sealed" | "age" | null;
  credential_revealed: boolean | null;
}

const viewColumns = `g.*, d.full_name as developer_name, r.name as resource_name, r.kind as resource_kind,
  r.environment, r.data_class, c.format as credential_format, (c.revealed_at is not null) as credential_revealed`;
const viewFrom = `access_grants g join developers d on d.id = g.developer_id
  join access_resources r on r.id = g.resource_id left join access_credentials c on c.grant_id = g.id`;

export const LIVE_STATES = ["approved", "provisioning", "active", "failed"] as const;

export interface GrantFilter {
  state?: GrantState | undefined;
  live?: boolean | undefined;
  developerId?: string | undefined;
  resourceId?: string | undefined;
  resourceIds?: string[] | undefined;
  environment?: Environment | undefined;
  breakGlass?: boolean | undefined;
  reviewPending?: boolean | undefined;
  ids?: string[] | undefined;
}

function whereOf(f: GrantFilter) {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, v: unknown) => {
    params.push(v);
    where.push(cond.replaceAll("?", `$${params.length}`));
  };
  if (f.state) add("g.state = ?", f.state);
  // A failed revoke still holds access until it succeeds: live too. A failed provision is live
  // until it is resolved (its access may be partly there).
  if (f.live === true) where.push("g.state in ('approved', 'provisioning', 'active', 'failed')");
  if (f.live === false) where.push("g.state in ('expiring', 'expired', 'revoked')");
  if (f.developerId) add("g.developer_id = ?", f.developerId);
  if (f.resourceId) add("g.resource_id = ?", f.resourceId);
  if (f.resourceIds) add("g.resource_id = any(?::uuid[])", f.resourceIds);
  if (f.environment) add("r.environment = ?", f.environment);
  if (f.breakGlass !== undefined) add("g.break_glass = ?", f.breakGlass);
  if (f.reviewPending === true) where.push("g.review_required and g.reviewed_at is null");
  if (f.reviewPending === false) where.push("not (g.review_required and g.reviewed_at is null)");
  if (f.ids) add("g.id = any(?::uuid[])", f.ids);
  return { w: where.length ? `where ${where.join(" and ")}` : "", params };
}

export const grantsRepo = {
  async insert(
    q: SqlClient,
    g: {
      id: string;
      requestId: string;
      developerId: string;
      engagementId: string | null;
      resourceId: string;
      level: AccessLevel;
      startsAt: Date;
      endsAt: Date;
      approvals: number;
      approverCapacities: ApproverRole[];
      breakGlass: boolean;
      at: Date;
    },
  ) {
    await q.query(
      `insert into access_grants (id, request_id, developer_id, engagement_id, resource_id, level, state, starts_at,
         ends_at, approvals, approver_capacities, break_glass, review_required, next_attempt_at, created_at, updated_at)
       values ($1,$2,$3,$4,$5,$6,'approved',$7,$8,$9,$10,$11,$11,$7,$12,$12)`,
      [
        g.id,
        g.requestId,
        g.developerId,
        g.engagementId,
        g.resourceId,
        g.level,
        g.startsAt,
        g.endsAt,
        g.approvals,
        JSON.stringify(g.approverCapacities),
        g.breakGlass,
        g.at,
      ],
    );
  },
  async byId(q: SqlClient, id: string, opts: { forUpdate?: boolean } = {}) {
    return (
      await q.query<GrantRow>(
        `select * from access_grants where id = $1${opts.forUpdate ? " for update" : ""}`,
        [id],
      )
    ).rows[0];
  },
  async view(q: SqlClient, id: string) {
    return (await q.query<GrantView>(`select ${viewColumns} from ${viewFrom} where g.id = $1`, [id])).rows[0];
  },
  async list(q: SqlClient, f: GrantFilter & { limit: number; offset: number }) {
    const { w, params } = whereOf(f);
    const total = Number(
      (
        await q.query<{ n: number }>(
          `select count(*)::int8 n from access_grants g join access_resources r on r.id = g.resource_id ${w}`,
          params,
        )
      ).rows[0]?.n ?? 0,
    );
    params.push(f.limit, f.offset);
    const rows = (
      await q.query<GrantView>(
        `select ${viewColumns} from ${viewFrom} ${w} order by g.ends_at desc, g.id
         limit $${params.length - 1} offset $${params.length}`,
        params,
      )
    ).rows;
    return { rows, total };
  },
  /** Every grant matching the filter (no paging): for other features and the sweep. */
  async all(q: SqlClient, f: GrantFilter) {
    const { w, params } = whereOf(f);
    return (
      await q.query<GrantView>(`select ${viewColumns} from ${viewFrom} ${w} order by g.ends_at, g.id`, params)
    ).rows;
  },
  /** The live grant of a developer on a resource, if any (there is at most one). */
  async liveFor(q: SqlClient, developerId: string, resourceId: string) {
    return (
      await q.query<GrantRow>(
        `select * from access_grants where developer_id = $1 and resource_id = $2
           and state in ('approved', 'provisioning', 'active', 'expiring', 'failed')`,
        [developerId, resourceId],
      )
    ).rows[0];
  },
  async setState(
    q: SqlClient,
    id: string,
    values: Partial<{
      state: GrantState;
      startsAt: Date;
      endsAt: Date;
      level: AccessLevel;
      approvals: number;
      approverCapacities: ApproverRole[];
      endReason: EndReason | null;
      endDetail: string | null;
      endedBy: string | null;
      endedAt: Date | null;
      failedOp: "provision" | "revoke" | null;
      attempts: number;
      lastError: string | null;
      lastAttemptAt: Date | null;
      nextAttemptAt: Date | null;
      externalRef: string | null;
      externalState: string | null;
      externalDetails: Record<string, unknown>;
      provisionedAt: Date | null;
      externalCheckedAt: Date | null;
      invitationResends: number;
      reviewedAt: Date | null;
      reviewedBy: string | null;
      reviewNote: string | null;
    }>,
    at: Date,
  ) {
    const columns: Record<string, string> = {
      state: "state",
      startsAt: "starts_at",
      endsAt: "ends_at",
      level: "level",
      approvals: "approvals",
      approverCapacities: "approver_capacities",
      endReason: "end_reason",
      endDetail: "end_detail",
      endedBy: "ended_by",
      endedAt: "ended_at",
      failedOp: "failed_op",
      attempts: "attempts",
      lastError: "last_error",
      lastAttemptAt: "last_attempt_at",
      nextAttemptAt: "next_attempt_at",
      externalRef: "external_ref",
      externalState: "external_state",
      externalDetails: "external_details",
      provisionedAt: "provisioned_at",
      externalCheckedAt: "external_checked_at",
      invitationResends: "invitation_resends",
      reviewedAt: "reviewed_at",
      reviewedBy: "reviewed_by",
      reviewNote: "review_note",
    };
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [key, value] of Object.entries(values)) {
      const column = columns[key];
      if (!column || value === undefined) continue;
      params.push(key === "approverCapacities" || key === "externalDetails" ? JSON.stringify(value) : value);
      sets.push(`${column} = $${params.length}`);
    }
    params.push(at);
    sets.push(`updated_at = $${params.length}`);
    await q.query(`update access_grants set ${sets.join(", ")} where id = $1`, params);
  },
  /**
   * Claims due connector work: grants whose next attempt is due, locked with SKIP LOCKED so several
   * nodes (or a sweep and an API call) never work on one grant at once. The caller sets a lease.
   */
  async claimDue(q: SqlClient, at: Date, limit: number, ids?: string[]) {
    const params: unknown[] = [at, limit];
    let only = "";
    if (ids) {
      params.push(ids);
      only = "and id = any($3::uuid[])";
    }
    return (
      await q.query<GrantRow>(
        `select * from access_grants
         where next_attempt_at is not null and next_attempt_at <= $1
           and state in ('approved', 'provisioning', 'expiring', 'failed') ${only}
         order by next_attempt_at
         limit $2
         for update skip locked`,
        params,
      )
    ).rows;
  },
  /**
   * Active grants whose access waits on an invitation and were not asked about since `checkedBefore`,
   * locked (SKIP LOCKED) so one node follows each up; the caller stamps external_checked_at at once.
   */
  async claimPendingInvitations(q: SqlClient, checkedBefore: Date, limit: number) {
    return (
      await q.query<GrantRow>(
        `select * from access_grants
         where state = 'active' and external_state = 'pending'
           and (external_checked_at is null or external_checked_at <= $1)
         order by external_checked_at nulls first limit $2 for update skip locked`,
        [checkedBefore, limit],
      )
    ).rows;
  },
  /** Live grants whose window has ended, locked for the expiry transition. */
  async claimEnded(q: SqlClient, at: Date, limit: number) {
    return (
      await q.query<GrantRow>(
        `select * from access_grants
         where state in ('approved', 'provisioning', 'active', 'failed') and ends_at <= $1
           and not (state = 'failed' and failed_op = 'revoke')
         order by ends_at limit $2 for update skip locked`,
        [at, limit],
      )
    ).rows;
  },
  async credential(q: SqlClient, grantId: string) {
    return (
      await q.query<{
        grant_id: string;
        kind: "password";
        format: "sealed" | "age";
        payload: Uint8Array | null;
        revealed_at: Date | null;
      }>("select * from access_credentials where grant_id = $1 for update", [grantId])
    ).rows[0];
  },
  async putCredential(
    q: SqlClient,
    grantId: string,
    format: "sealed" | "age",
    payload: Uint8Array,
    at: Date,
  ) {
    await q.query(
      `insert into access_credentials (grant_id, kind, format, payload, created_at, revealed_at)
       values ($1, 'password', $2, $3, $4, null)
       on conflict (grant_id) do update set format = excluded.format, payload = excluded.payload,
         created_at = excluded.created_at, revealed_at = null`,
      [grantId, format, payload, at],
    );
  },
  async eraseCredential(q: SqlClient, grantId: string, revealedAt: Date | null) {
    await q.query(
      "update access_credentials set payload = null, revealed_at = coalesce(revealed_at, $2) where grant_id = $1",
      [grantId, revealedAt],
    );
  },
};
