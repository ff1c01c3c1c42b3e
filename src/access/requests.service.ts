import { randomUUID } from "node:crypto";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { systemCtx } from "../core/context.ts";
import { AppError, conflict, forbidden, invalidField, notFound } from "../core/errors.ts";
import { dayOf } from "../core/schemas.ts";
import type { GateService } from "../gate/index.ts";
import type { Page } from "../http/pagination.ts";
import type { NotifyService } from "../notify/index.ts";
import type { AccessAction, AccessLevel, ApproverRole, PolicyEngine } from "../policy/index.ts";
import type { SqlClient, Store } from "../store/store.ts";
import {
  chooseEngagement,
  decisionRequestFor,
  loadSubjects,
  type Subject,
  subjectKey,
} from "./access.facts.ts";
import {
  type AccessRequest,
  BREAK_GLASS_MAX_MINUTES,
  type BreakGlassInput,
  type DecisionRecord,
  MAX_SCHEDULE_AHEAD_MS,
  PENDING_REQUEST_TTL_MS,
  type RequestInput,
  type RequestListQuery,
} from "./access.schemas.ts";
import { grantsRepo } from "./grants.repo.ts";
import type { GrantsService } from "./grants.service.ts";
import type { AccessPolicies } from "./policies.service.ts";
import {
  type ApprovalRow,
  type RequestRow,
  type RequestView,
  requestsRepo as repo,
} from "./requests.repo.ts";
import { type ResourceRow, resourcesRepo } from "./resources.repo.ts";

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const MAX_PROBED_APPROVALS = 5;

/** Capacities in which a user may decide a request on a resource: owner, security officer. */
export function capacitiesOf(
  actor: { userId?: string | undefined; role?: string | undefined },
  owners: readonly string[],
): ApproverRole[] {
  const out: ApproverRole[] = [];
  if (actor.userId && owners.includes(actor.userId)) out.push("owner");
  if (actor.role === "security") out.push("security");
  return out;
}

/**
 * What the policies demand for approval, found by asking them: the fewest approvals (owner and
 * security both present) that the `approve` action allows, and whether security must be among them.
 * Pure over an engine and a decision template.
 */
export function approvalRequirements(
  engine: PolicyEngine,
  base: Omit<Parameters<typeof decisionRequestFor>[0], "action" | "approvals" | "approverRoles">,
): { requiredApprovals: number; needsSecurity: boolean } {
  for (let n = 1; n <= MAX_PROBED_APPROVALS; n++) {
    const both = engine.decide(
      decisionRequestFor({ ...base, action: "approve", approvals: n, approverRoles: ["owner", "security"] }),
    );
    if (!both.allowed) continue;
    const ownerOnly = engine.decide(
      decisionRequestFor({ ...base, action: "approve", approvals: n, approverRoles: ["owner"] }),
    );
    return { requiredApprovals: n, needsSecurity: !ownerOnly.allowed };
  }
  return { requiredApprovals: 1, needsSecurity: false };
}

export function createRequestsService(deps: {
  store: Store;
  clock: Clock;
  audit: AuditService;
  notify: Pick<NotifyService, "enqueue">;
  gate: Pick<GateService, "checkMany">;
  policies: AccessPolicies;
  grants: GrantsService;
}) {
  const { store, clock, audit, notify, gate, policies, grants } = deps;

  function present(r: RequestView, approvals: ApprovalRow[], viewer?: Ctx): AccessRequest {
    const decision = "action" in r.decision ? (r.decision as DecisionRecord) : null;
    const mine = approvals.filter((a) => a.request_id === r.id);
    const capacities = viewer ? capacitiesOf(viewer.actor, r.owners) : [];
    const canDecide =
      r.status === "pending" &&
      capacities.length > 0 &&
      !mine.some((a) => a.approver_id === viewer?.actor.userId) &&
      r.requested_by !== viewer?.actor.userId;
    return {
      id: r.id,
      developerId: r.developer_id,
      developerName: r.developer_name,
      engagementId: r.engagement_id,
      resourceId: r.resource_id,
      resourceName: r.resource_name,
      resourceKind: r.resource_kind,
      environment: r.environment,
      dataClass: r.data_class,
      level: r.level,
      durationMinutes: r.duration_minutes,
      reason: r.reason,
      startsAt: iso(r.starts_at),
      breakGlass: r.break_glass,
      status: r.status,
      requiredApprovals: r.required_approvals,
      needsSecurity: r.needs_security,
      approvals: mine.map((a) => ({
        approverId: a.approver_id,
        approverName: a.approver_name,
        decision: a.decision,
        capacities: a.capacities,
        reason: a.reason,
        at: iso(a.at)!,
      })),
      decision,
      grantId: r.grant_id,
      extendsGrant: r.extends_grant,
      expiresAt: iso(r.expires_at)!,
      decidedAt: iso(r.decided_at),
      decisionReason: r.decision_reason,
      createdAt: iso(r.created_at)!,
      canDecide,
    };
  }

  async function get(ctx: Ctx, id: string): Promise<AccessRequest> {
    const r = await repo.view(store, id);
    if (!r) throw notFound("request");
    // Developers see their own requests only (another's answers 404, not 403).
    if (ctx.actor.role === "developer" && r.developer_id !== ctx.actor.developerId) throw notFound("request");
    return present(r, await repo.approvals(store, [id]), ctx);
  }

  async function list(
    ctx: Ctx,
    f: RequestListQuery & { limit: number; offset: number },
  ): Promise<Page<AccessRequest>> {
    const filter = {
      ...f,
      ...(ctx.actor.role === "developer" ? { developerId: ctx.actor.developerId ?? "" } : {}),
      ...(f.approver === "me"
        ? { approverId: ctx.actor.userId ?? "", approverIsSecurity: ctx.actor.role === "security" }
        : {}),
    };
    const { rows, total } = await repo.list(store, filter);
    const approvals = await repo.approvals(
      store,
      rows.map((r) => r.id),
    );
    return { items: rows.map((r) => present(r, approvals, ctx)), total, limit: f.limit, offset: f.offset };
  }

  /** Loads the facts and asks the policies about one request; the record names the deciding policies. */
  async function decideOn(
    q: SqlClient,
    action: AccessAction,
    r: { developerId: string; engagementId: string | null; level: AccessLevel; breakGlass: boolean },
    resource: ResourceRow,
    approvals: { count: number; capacities: ApproverRole[] },
  ) {
    const key = { developerId: r.developerId, engagementId: r.engagementId };
    const { subjects, inScope } = await loadSubjects(q, gate, [key], clock.now());
    const subject = subjects.get(subjectKey(key)) as Subject;
    const engine = await policies.current(q);
    const base = {
      level: r.level,
      subject,
      resource,
      breakGlass: r.breakGlass,
      inEngagementScope: inScope(r.engagementId, resource.id),
    };
    const decision = engine.decide(
      decisionRequestFor({
        ...base,
        action,
        approvals: approvals.count,
        approverRoles: approvals.capacities,
      }),
    );
    const record: DecisionRecord = {
      action: `${action}.${r.level}`,
      decision: decision.decision,
      policies: decision.policies,
      reasons: subject.eligibility.eligible ? [] : subject.eligibility.reasons.map((x) => x.message),
      at: clock.now().toISOString(),
    };
    return { decision, record, engine, base, subject };
  }

  const refusal = (record: DecisionRecord, what: string) =>
    new AppError(
      "forbidden",
      `${what} is not allowed: ${record.policies.length ? `denied by ${record.policies.join(", ")}` : "no policy permits it"}${record.reasons.length ? ` (${record.reasons.join("; ")})` : ""}`,
      { policies: record.policies, reasons: record.reasons },
    );

  async function loadResource(q: SqlClient, id: string, field = "body/resourceId") {
    const resource = await resourcesRepo.byId(q, id);
    if (!resource || resource.archived_at)
      throw invalidField(field, "no resource with this id in the catalog");
    return resource;
  }

  const developerOf = (ctx: Ctx) => {
    if (ctx.actor.role !== "developer" || !ctx.actor.developerId)
      throw forbidden("Only developers request access for themselves");
    return ctx.actor.developerId;
  };

  /** A developer asks for a level on a resource for a time, with a reason. */
  async function create(ctx: Ctx, input: RequestInput): Promise<AccessRequest> {
    const developerId = developerOf(ctx);
    const now = clock.now();
    const id = randomUUID();
    const refused = await store.tx(async (q) => {
      const resource = await loadResource(q, input.resourceId);
      if (!resource.levels.includes(input.level))
        throw invalidField("body/level", `this resource offers ${resource.levels.join(", ")}`);
      if (input.durationMinutes > resource.max_duration_minutes)
        throw invalidField(
          "body/durationMinutes",
          `at most ${resource.max_duration_minutes} minutes for ${resource.name}`,
        );
      let startsAt: Date | null = null;
      if (input.startsAt) {
        startsAt = new Date(input.startsAt);
        if (startsAt.getTime() < now.getTime() - 60_000)
          throw invalidField("body/startsAt", "is in the past");
        if (startsAt.getTime() > now.getTime() + MAX_SCHEDULE_AHEAD_MS)
          throw invalidField("body/startsAt", "at most 30 days ahead");
      }
      const engagementId = await chooseEngagement(
        q,
        developerId,
        resource.id,
        dayOf(now),
        input.engagementId,
      );
      if (engagementId === undefined) throw invalidField("body/engagementId", "not one of your engagements");
      if (await repo.pendingFor(q, developerId, resource.id))
        throw conflict("You already have a pending request for this resource; cancel it first");
      const live = await grantsRepo.liveFor(q, developerId, resource.id);
      if (live?.state === "expiring" || (live?.state === "failed" && live.failed_op === "revoke"))
        throw conflict("Your access to this resource is being removed; ask again once it has ended");

      const facts = { developerId, engagementId, level: input.level, breakGlass: false };
      const { record, base, engine } = await decideOn(q, "request", facts, resource, {
        count: 0,
        capacities: [],
      });
      if (record.decision === "deny") return record;
      const { requiredApprovals, needsSecurity } = approvalRequirements(engine, base);
      await repo.insert(q, {
        id,
        developerId,
        engagementId,
        resourceId: resource.id,
        level: input.level,
        durationMinutes: input.durationMinutes,
        reason: input.reason,
        startsAt,
        breakGlass: false,
        status: "pending",
        requiredApprovals,
        needsSecurity,
        decision: record,
        grantId: live?.id ?? null,
        extendsGrant: Boolean(live),
        requestedBy: ctx.actor.userId ?? null,
        expiresAt: new Date(now.getTime() + PENDING_REQUEST_TTL_MS),
        at: now,
      });
      await audit.record(q, ctx, {
        action: "access.request.create",
        target: { type: "access_request", id },
        summary: {
          developerId,
          resourceId: resource.id,
          level: input.level,
          durationMinutes: input.durationMinutes,
          startsAt: startsAt?.toISOString() ?? null,
          extendsGrant: live?.id ?? null,
          reason: input.reason.slice(0, 500),
          requiredApprovals,
          needsSecurity,
          policies: record.policies,
        },
      });
      await notify.enqueue(q, {
        topic: "access.request.created",
        subject: `Access request: ${input.level} on ${resource.name}`,
        text: `${ctx.actor.label} asks for ${input.level} on ${resource.name} (${resource.environment}) for ${input.durationMinutes} minutes${live ? " (extending a live grant)" : ""}.\nReason: ${input.reason}\nApprovals needed: ${requiredApprovals}${needsSecurity ? ", one from security" : ""}.\nDecide: warden access approve ${id} --reason ... | warden access deny ${id} --reason ...`,
        to: { userIds: resource.owners, ...(needsSecurity ? { roles: ["security"] } : {}) },
        data: { requestId: id, resourceId: resource.id, level: input.level },
        refs: [id],
      });
      return null;
    });
    if (refused) {
      // Refusals leave a trace too: someone asking for what policy forbids is worth seeing.
      await audit.recordAlone(ctx, {
        action: "access.request.refused",
        target: { type: "access_resource", id: input.resourceId },
        outcome: "failure",
        summary: { developerId, level: input.level, policies: refused.policies, reasons: refused.reasons },
      });
      throw refusal(refused, `${input.level} access to this resource`);
    }
    return get(ctx, id);
  }

  /** Creates the grant of an approved request, or extends the live grant it names, in `q`. */
  async function grantFor(q: SqlClient, ctx: Ctx, r: RequestRow, count: number, capacities: ApproverRole[]) {
    const now = clock.now();
    const startsAt = r.starts_at && new Date(r.starts_at) > now ? new Date(r.starts_at) : now;
    const endsAt = new Date(startsAt.getTime() + r.duration_minutes * 60_000);
    const live = await grantsRepo.liveFor(q, r.developer_id, r.resource_id);
    if (live && (live.state === "expiring" || (live.state === "failed" && live.failed_op === "revoke")))
      throw conflict(
        "The developer's access to this resource is being removed; they must ask again afterwards",
      );
    if (live) {
      const newEnd = new Date(Math.max(new Date(live.ends_at).getTime(), endsAt.getTime()));
      await grantsRepo.setState(
        q,
        live.id,
        {
          state: "approved",
          endsAt: newEnd,
          level: r.level,
          approvals: count,
          approverCapacities: capacities,
          failedOp: null,
          attempts: 0,
          lastError: null,
          // Re-provisioned now: the connector applies the new end (VALID UNTIL, certificate) and level.
          nextAttemptAt: now,
        },
        now,
      );
      await audit.record(q, ctx, {
        action: "access.grant.extend",
        target: { type: "access_grant", id: live.id },
        summary: {
          from: live.state,
          to: "approved",
          requestId: r.id,
          endsAt: { from: new Date(live.ends_at).toISOString(), to: newEnd.toISOString() },
          level: { from: live.level, to: r.level },
        },
      });
      return live.id;
    }
    const grantId = randomUUID();
    await grantsRepo.insert(q, {
      id: grantId,
      requestId: r.id,
      developerId: r.developer_id,
      engagementId: r.engagement_id,
      resourceId: r.resource_id,
      level: r.level,
      startsAt,
      endsAt,
      approvals: count,
      approverCapacities: capacities,
      breakGlass: r.break_glass,
      at: now,
    });
    await audit.record(q, ctx, {
      action: "access.grant.create",
      target: { type: "access_grant", id: grantId },
      summary: {
        to: "approved",
        requestId: r.id,
        developerId: r.developer_id,
        resourceId: r.resource_id,
        level: r.level,
        startsAt: startsAt.toISOString(),
        endsAt: endsAt.toISOString(),
        breakGlass: r.break_glass,
      },
    });
    return grantId;
  }

  async function decide(
    ctx: Ctx,
    id: string,
    verdict: "approve" | "deny",
    reason: string,
  ): Promise<AccessRequest> {
    const userId = ctx.actor.userId;
    if (ctx.actor.kind !== "user" || !userId) throw forbidden();
    let grantId: string | null = null;
    let refused: DecisionRecord | null = null;
    await store.tx(async (q) => {
      const r = await repo.byId(q, id, { forUpdate: true });
      if (!r) throw notFound("request");
      const resource = await resourcesRepo.byId(q, r.resource_id);
      if (!resource) throw notFound("request");
      const capacities = capacitiesOf(ctx.actor, resource.owners);
      if (capacities.length === 0)
        throw forbidden("Only the resource's owners and security officers decide on access to it");
      if (r.requested_by === userId) throw forbidden("Nobody decides on their own request");
      if (r.status !== "pending") throw conflict(`This request is already ${r.status}`);
      const before = (await repo.approvals(q, [id])).filter((a) => a.decision === "approve");
      if (before.some((a) => a.approver_id === userId)) throw conflict("You already approved this request");
      const now = clock.now();
      const facts = {
        developerId: r.developer_id,
        engagementId: r.engagement_id,
        level: r.level,
        breakGlass: false,
      };

      if (verdict === "deny") {
        await repo.addApproval(q, {
          requestId: id,
          approverId: userId,
          decision: "deny",
          capacities,
          reason,
          at: now,
        });
        await repo.setStatus(q, id, { status: "denied", decidedBy: userId, decisionReason: reason }, now);
        await audit.record(q, ctx, {
          action: "access.request.deny",
          target: { type: "access_request", id },
          summary: { from: "pending", to: "denied", capacities, reason: reason.slice(0, 500) },
        });
        await notify.enqueue(q, {
          topic: "access.request.denied",
          subject: `Access request denied: ${r.level} on ${resource.name}`,
          text: `${ctx.actor.label} denied your request for ${r.level} on ${resource.name}.\nReason: ${reason}`,
          to: { developerIds: [r.developer_id] },
          webhook: false,
          data: { requestId: id },
          refs: [id],
        });
        return;
      }

      // The gate and the request-level policies hold now, not only when it was asked.
      const asked = await decideOn(q, "request", facts, resource, { count: 0, capacities: [] });
      if (asked.record.decision === "deny") {
        refused = asked.record;
        return;
      }
      await repo.addApproval(q, {
        requestId: id,
        approverId: userId,
        decision: "approve",
        capacities,
        reason,
        at: now,
      });
      const count = before.length + 1;
      const all = [
        ...new Set([...before.flatMap((a) => a.capacities), ...capacities]),
      ].sort() as ApproverRole[];
      const { record } = await decideOn(q, "approve", facts, resource, { count, capacities: all });
      if (record.decision === "allow") {
        grantId = await grantFor(q, ctx, r, count, all);
        await repo.setStatus(
          q,
          id,
          { status: "approved", decision: record, grantId, decidedBy: userId, decisionReason: reason },
          now,
        );
      } else {
        await repo.setDecision(q, id, record, now);
      }
      await audit.record(q, ctx, {
        action: "access.request.approve",
        target: { type: "access_request", id },
        summary: {
          from: "pending",
          to: record.decision === "allow" ? "approved" : "pending",
          capacities,
          approvals: count,
          policies: record.policies,
          grantId,
          reason: reason.slice(0, 500),
        },
      });
      if (record.decision === "allow") {
        await notify.enqueue(q, {
          topic: "access.request.approved",
          subject: `Access approved: ${r.level} on ${resource.name}`,
          text: `Your request for ${r.level} on ${resource.name} was approved (${count} approval(s)). Warden is setting it up.`,
          to: { developerIds: [r.developer_id] },
          webhook: false,
          data: { requestId: id, grantId },
          refs: [id],
        });
      }
    });
    if (refused) throw refusal(refused, "Approving this request");
    if (grantId) await grants.runDue({ ids: [grantId] });
    return get(ctx, id);
  }

  const approve = (ctx: Ctx, id: string, reason: string) => decide(ctx, id, "approve", reason);
  const deny = (ctx: Ctx, id: string, reason: string) => decide(ctx, id, "deny", reason);

  /** The requester withdraws a pending request. */
  async function cancel(ctx: Ctx, id: string): Promise<AccessRequest> {
    const developerId = developerOf(ctx);
    await store.tx(async (q) => {
      const r = await repo.byId(q, id, { forUpdate: true });
      if (!r || r.developer_id !== developerId) throw notFound("request");
      if (r.status !== "pending") throw conflict(`This request is already ${r.status}`);
      await repo.setStatus(q, id, { status: "cancelled" }, clock.now());
      await audit.record(q, ctx, {
        action: "access.request.cancel",
        target: { type: "access_request", id },
        summary: { from: "pending", to: "cancelled" },
      });
    });
    return get(ctx, id);
  }

  /** Pending requests nobody decided in time expire (the sweep). */
  async function expirePending(): Promise<number> {
    const ctx = systemCtx("access.sweep");
    return store.tx(async (q) => {
      const now = clock.now();
      const due = await repo.claimExpired(q, now, 500);
      for (const r of due) {
        await repo.setStatus(q, r.id, { status: "expired", decisionReason: "Nobody decided in time" }, now);
        await audit.record(q, ctx, {
          action: "access.request.expire",
          target: { type: "access_request", id: r.id },
          summary: { from: "pending", to: "expired", expiresAt: new Date(r.expires_at).toISOString() },
        });
        await notify.enqueue(q, {
          topic: "access.request.expired",
          subject: "Your access request expired",
          text: `Nobody decided on your request ${r.id} in time. Ask again if you still need the access.`,
          to: { developerIds: [r.developer_id] },
          webhook: false,
          data: { requestId: r.id },
          refs: [r.id],
        });
      }
      return due.length;
    });
  }

  /**
   * Break-glass: a developer on an active engagement opens emergency access to a resource flagged for
   * it, for at most an hour, without prior approval. Security is notified at once; the grant must be
   * reviewed after.
   */
  async function breakGlass(ctx: Ctx, input: BreakGlassInput) {
    const developerId = developerOf(ctx);
    const now = clock.now();
    const requestId = randomUUID();
    let grantId = "";
    const refused = await store.tx(async (q) => {
      const resource = await loadResource(q, input.resourceId);
      if (!resource.break_glass) throw conflict(`${resource.name} is not flagged for break-glass access`);
      if (!resource.levels.includes(input.level))
        throw invalidField("body/level", `this resource offers ${resource.levels.join(", ")}`);
      const minutes = Math.min(input.durationMinutes, BREAK_GLASS_MAX_MINUTES, resource.max_duration_minutes);
      const engagementId = await chooseEngagement(
        q,
        developerId,
        resource.id,
        dayOf(now),
        input.engagementId,
      );
      if (engagementId === undefined) throw invalidField("body/engagementId", "not one of your engagements");
      if (engagementId === null) throw conflict("Break-glass needs an active engagement");
      if (await grantsRepo.liveFor(q, developerId, resource.id))
        throw conflict("You already hold access to this resource");
      const facts = { developerId, engagementId, level: input.level, breakGlass: true };
      const asked = await decideOn(q, "request", facts, resource, { count: 0, capacities: [] });
      if (asked.record.decision === "deny") return asked.record;
      const { record } = await decideOn(q, "approve", facts, resource, { count: 0, capacities: [] });
      if (record.decision === "deny") return record;
      await repo.insert(q, {
        id: requestId,
        developerId,
        engagementId,
        resourceId: resource.id,
        level: input.level,
        durationMinutes: minutes,
        reason: input.reason,
        startsAt: null,
        breakGlass: true,
        status: "approved",
        requiredApprovals: 0,
        needsSecurity: false,
        decision: record,
        grantId: null,
        extendsGrant: false,
        requestedBy: ctx.actor.userId ?? null,
        expiresAt: now,
        at: now,
      });
      const row = (await repo.byId(q, requestId))!;
      grantId = await grantFor(q, ctx, row, 0, []);
      await repo.setStatus(q, requestId, { status: "approved", grantId, decisionReason: "break-glass" }, now);
      await audit.record(q, ctx, {
        action: "access.breakglass.opened",
        target: { type: "access_grant", id: grantId },
        summary: {
          developerId,
          resourceId: resource.id,
          resourceName: resource.name,
          environment: resource.environment,
          level: input.level,
          minutes,
          reason: input.reason.slice(0, 500),
          policies: record.policies,
        },
      });
      await notify.enqueue(q, {
        topic: "access.breakglass.opened",
        subject: `BREAK-GLASS: ${ctx.actor.label} opened ${input.level} on ${resource.name}`,
        text: `${ctx.actor.label} opened emergency ${input.level} access to ${resource.name} (${resource.environment}) for ${minutes} minutes.\nReason: ${input.reason}\nGrant ${grantId} must be reviewed after; revoke it now with: warden access revoke ${grantId} --reason ...`,
        to: { roles: ["security"], userIds: resource.owners },
        severity: "critical",
        data: { grantId, requestId, resourceId: resource.id, developerId, level: input.level, minutes },
        refs: [grantId, requestId],
      });
      return null;
    });
    if (refused) {
      await audit.recordAlone(ctx, {
        action: "access.breakglass.refused",
        target: { type: "access_resource", id: input.resourceId },
        outcome: "failure",
        summary: { developerId, level: input.level, policies: refused.policies, reasons: refused.reasons },
      });
      throw refusal(refused, "Break-glass access");
    }
    await grants.runDue({ ids: [grantId] });
    return grants.get(grantId);
  }

  return { get, list, create, approve, deny, cancel, expirePending, breakGlass };
}

export type RequestsService = ReturnType<typeof createRequestsService>;
