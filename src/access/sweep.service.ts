import type { Clock } from "../core/clock.ts";
import { systemCtx } from "../core/context.ts";
import type { GateService } from "../gate/index.ts";
import type { ApproverRole } from "../policy/index.ts";
import type { Store } from "../store/store.ts";
import { decisionRequestFor, loadSubjects, subjectKey } from "./access.facts.ts";
import type { EndReason } from "./access.schemas.ts";
import { type GrantRow, grantsRepo } from "./grants.repo.ts";
import type { GrantsService } from "./grants.service.ts";
import type { AccessPolicies } from "./policies.service.ts";
import type { RequestsService } from "./requests.service.ts";
import { type ResourceRow, resourcesRepo } from "./resources.repo.ts";

/** How many grants one transaction ends at a time. */
const END_BATCH = 200;

/** A live grant that no longer passes, with why. */
export interface Failing {
  grantId: string;
  reason: EndReason;
  detail: string;
}

/** Gate reasons that mean the developer's engagement is over (or they were offboarded): offboarding. */
const OFFBOARDING_CODES = new Set(["developer_offboarded", "engagement_ended", "engagement_missing"]);

/**
 * The access sweep, run by the scheduler every 15 seconds (so every cause takes effect within one
 * minute): pending requests expire; grants whose time is up start ending; every live grant is judged
 * again by the gate and the policies, and those that no longer pass are revoked (offboarding when the
 * engagement ended); certificates of SSH keys their developer removed are revoked; then the due
 * connector work runs (provisioning, revocation, retries); last, pending Git invitations are followed up
 * (accepted, reminded, re-sent once when expired, or shown expired).
 *
 * The re-check is built for many grants: the live grants, their resources, the gate's facts and the
 * engagement scopes are read in a fixed number of set queries, the policy set is parsed once, and only
 * the grants that fail are written.
 */
export function createAccessSweep(deps: {
  store: Store;
  clock: Clock;
  gate: Pick<GateService, "checkMany">;
  policies: AccessPolicies;
  grants: GrantsService;
  requests: RequestsService;
}) {
  const { store, clock, gate, policies, grants, requests } = deps;
  const ctx = systemCtx("access.sweep");

  /** Moves every live grant whose window has ended to `expiring`. */
  async function expireEnded(): Promise<number> {
    let n = 0;
    for (;;) {
      const done = await store.tx(async (q) => {
        const rows = await grantsRepo.claimEnded(q, clock.now(), END_BATCH);
        for (const g of rows) {
          if (await grants.beginEnd(q, ctx, g, "expired", `Ended at ${new Date(g.ends_at).toISOString()}`))
            n++;
        }
        return rows.length;
      });
      if (done < END_BATCH) return n;
    }
  }

  /** Judges every live grant again; returns those that fail (nothing written). */
  async function findFailing(): Promise<{ checked: number; failing: Failing[] }> {
    const at = clock.now();
    const live = (
      await store.query<
        Pick<
          GrantRow,
          "id" | "developer_id" | "engagement_id" | "resource_id" | "level" | "approvals" | "break_glass"
        > & { approver_capacities: ApproverRole[] }
      >(
        `select id, developer_id, engagement_id, resource_id, level, approvals, approver_capacities, break_glass
         from access_grants
         where state in ('approved', 'provisioning', 'active', 'failed')
           and not (state = 'failed' and failed_op = 'revoke')`,
      )
    ).rows;
    if (live.length === 0) return { checked: 0, failing: [] };
    const resources = new Map<string, ResourceRow>(
      (await resourcesRepo.byIds(store, [...new Set(live.map((g) => g.resource_id))])).map((r) => [r.id, r]),
    );
    const keys = live.map((g) => ({ developerId: g.developer_id, engagementId: g.engagement_id }));
    const { subjects, inScope } = await loadSubjects(store, gate, keys, at);
    const engine = await policies.current();
    const failing: Failing[] = [];
    // Grants the gate already closes need no policy decision; the rest are decided in one batch.
    const toDecide: { grantId: string; request: ReturnType<typeof decisionRequestFor> }[] = [];
    for (const g of live) {
      const resource = resources.get(g.resource_id);
      const subject = subjects.get(
        subjectKey({ developerId: g.developer_id, engagementId: g.engagement_id }),
      );
      if (!resource || !subject) {
        failing.push({
          grantId: g.id,
          reason: "policy",
          detail: "The developer or the resource no longer exists",
        });
        continue;
      }
      if (resource.archived_at) {
        failing.push({ grantId: g.id, reason: "resource_archived", detail: `${resource.name} was archived` });
        continue;
      }
      if (!subject.eligibility.eligible) {
        const codes = subject.eligibility.reasons.map((r) => r.code);
        failing.push({
          grantId: g.id,
          reason: codes.some((c) => OFFBOARDING_CODES.has(c)) ? "offboarded" : "gate",
          detail: `Not eligible: ${subject.eligibility.reasons.map((r) => r.message).join("; ")}`,
        });
        continue;
      }
      toDecide.push({
        grantId: g.id,
        request: decisionRequestFor({
          action: "provision",
          level: g.level,
          subject,
          resource,
          approvals: g.approvals,
          approverRoles: g.approver_capacities,
          breakGlass: g.break_glass,
          inEngagementScope: inScope(g.engagement_id, g.resource_id),
        }),
      });
    }
    const decisions = engine.decideMany(toDecide.map((d) => d.request));
    decisions.forEach((decision, i) => {
      if (decision.allowed) return;
      failing.push({
        grantId: toDecide[i]!.grantId,
        reason: "policy",
        detail: `No longer allowed: ${decision.policies.length ? `denied by ${decision.policies.join(", ")}` : "no policy permits it"}`,
      });
    });
    return { checked: live.length, failing };
  }

  /** Starts ending the failing grants (audited, one transaction per batch). */
  async function endFailing(failing: Failing[]): Promise<Record<EndReason, number>> {
    const counts = {} as Record<EndReason, number>;
    for (let i = 0; i < failing.length; i += END_BATCH) {
      const batch = failing.slice(i, i + END_BATCH);
      await store.tx(async (q) => {
        const rows = (
          await q.query<GrantRow>(
            "select * from access_grants where id = any($1::uuid[]) for update skip locked",
            [batch.map((f) => f.grantId)],
          )
        ).rows;
        for (const f of batch) {
          const g = rows.find((r) => r.id === f.grantId);
          if (g && (await grants.beginEnd(q, ctx, g, f.reason, f.detail)))
            counts[f.reason] = (counts[f.reason] ?? 0) + 1;
        }
      });
    }
    return counts;
  }

  async function run() {
    const expiredRequests = await requests.expirePending();
    const expired = await expireEnded();
    const { checked, failing } = await findFailing();
    const ended = await endFailing(failing);
    const sshKeysRevoked = await grants.revokeRemovedSshKeys();
    const work = await grants.runDue();
    const invitations = await grants.followUpInvitations();
    return {
      checked,
      expiredRequests,
      expired,
      revoked: Object.values(ended).reduce((a, b) => a + b, 0),
      ...Object.fromEntries(Object.entries(ended).map(([k, v]) => [`revoked_${k}`, v])),
      provisioned: work.provisioned,
      removed: work.removed,
      failed: work.failed,
      sshKeysRevoked,
      invitationsChecked: invitations.checked,
      invitationsAccepted: invitations.accepted,
      invitationsResent: invitations.resent,
      invitationsExpired: invitations.expired + invitations.gone,
    };
  }

  return { run, expireEnded, findFailing, endFailing };
}

export type AccessSweep = ReturnType<typeof createAccessSweep>;
