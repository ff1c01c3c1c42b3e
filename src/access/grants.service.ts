import type { AuditService } from "../audit/index.ts";
import {
  type CheckResult,
  type ConnectorGrant,
  isConnectorError,
  type ProvisionResult,
  type SshConnector,
  sshKeyFingerprint,
} from "../connectors/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Ctx } from "../core/context.ts";
import { systemCtx } from "../core/context.ts";
import { AppError, conflict, forbidden, invalidField, notFound } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { encryptSmall, toArmor } from "../crypto/age/index.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { GateService } from "../gate/index.ts";
import type { Page } from "../http/pagination.ts";
import type { NotifyService } from "../notify/index.ts";
import type { SqlClient, Store } from "../store/store.ts";
import { decisionRequestFor, loadSubjects, subjectKey } from "./access.facts.ts";
import type { EndReason, Grant, GrantListQuery, GrantState } from "./access.schemas.ts";
import { type GrantFilter, type GrantRow, type GrantView, grantsRepo as repo } from "./grants.repo.ts";
import type { AccessPolicies } from "./policies.service.ts";
import { resourcesRepo } from "./resources.repo.ts";
import type { ResourcesService } from "./resources.service.ts";
import type { SshCaService } from "./ssh-ca.service.ts";

/** Provisioning gives up (state failed, no retry) after this many attempts; revocation never does. */
export const MAX_PROVISION_ATTEMPTS = 8;
/** How long a claimed grant is held by the node working on it before another may take it over. */
const CLAIM_LEASE_MS = 5 * 60_000;
/** A pending invitation is asked about at most this often (each check is a call to the Git host). */
export const INVITATION_CHECK_EVERY_MS = 10 * 60_000;
/** The developer is reminded once of an invitation still pending after this long. */
export const INVITATION_REMIND_AFTER_MS = 3 * 86_400_000;
/** An invitation that expired on the host is sent again this many times, then the grant shows it. */
const MAX_INVITATION_RESENDS = 1;
const INVITATION_BATCH = 50;
/** Connector calls run this many at a time in one sweep. */
const CONCURRENCY = 4;

/** Backoff before attempt n+1: 15 s, 30 s, 1 min … capped (5 min for a revoke, 15 min otherwise). */
export const connectorBackoffMs = (attempts: number, op: "provision" | "revoke") =>
  Math.min(op === "revoke" ? 300_000 : 900_000, 15_000 * 2 ** Math.max(0, attempts - 1));

const endLabel: Record<EndReason, string> = {
  expired: "its time ended",
  revoked: "revoked",
  gate: "the gate closed",
  policy: "the access policies no longer allow it",
  offboarded: "the developer was offboarded",
  review: "an access review revoked it",
  resource_archived: "the resource was archived",
};

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const isLive = (s: GrantState) =>
  s === "approved" || s === "provisioning" || s === "active" || s === "failed";

export interface GrantsDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  sealer: Sealer;
  logger: Logger;
  notify: Pick<NotifyService, "enqueue">;
  gate: Pick<GateService, "checkMany">;
  policies: AccessPolicies;
  resources: ResourcesService;
  ssh: SshCaService;
}

export function createGrantsService(deps: GrantsDeps) {
  const { store, clock, audit, sealer, logger, notify, gate, policies, resources, ssh } = deps;
  const credentialSeal = (grantId: string) => ({
    table: "access_credentials",
    id: grantId,
    column: "payload",
  });

  function present(r: GrantView): Grant {
    const now = clock.now().getTime();
    const ended = r.state === "expiring" || r.state === "expired" || r.state === "revoked";
    return {
      id: r.id,
      requestId: r.request_id,
      developerId: r.developer_id,
      developerName: r.developer_name,
      engagementId: r.engagement_id,
      resourceId: r.resource_id,
      resourceName: r.resource_name,
      resourceKind: r.resource_kind,
      environment: r.environment,
      dataClass: r.data_class,
      level: r.level,
      state: r.state,
      live: isLive(r.state),
      startsAt: iso(r.starts_at)!,
      endsAt: iso(r.ends_at)!,
      secondsLeft: ended ? 0 : Math.max(0, Math.floor((new Date(r.ends_at).getTime() - now) / 1000)),
      approvals: r.approvals,
      breakGlass: r.break_glass,
      reviewRequired: r.review_required,
      reviewedAt: iso(r.reviewed_at),
      endReason: r.end_reason,
      endDetail: r.end_detail,
      endedAt: iso(r.ended_at),
      failedOp: r.failed_op,
      attempts: r.attempts,
      lastError: r.last_error,
      nextAttemptAt: iso(r.next_attempt_at),
      externalRef: r.external_ref,
      externalState: r.external_state,
      details: r.external_details,
      credential: r.credential_format
        ? { format: r.credential_format, revealed: Boolean(r.credential_revealed) }
        : null,
      createdAt: iso(r.created_at)!,
      updatedAt: iso(r.updated_at)!,
    };
  }

  async function get(id: string): Promise<Grant> {
    const r = await repo.view(store, id);
    if (!r) throw notFound("grant");
    return present(r);
  }

  async function list(f: GrantListQuery & { limit: number; offset: number }): Promise<Page<Grant>> {
    const { rows, total } = await repo.list(store, {
      ...f,
      live: f.live === undefined ? undefined : f.live === "true",
      breakGlass: f.breakGlass === undefined ? undefined : f.breakGlass === "true",
      reviewPending: f.reviewPending === undefined ? undefined : f.reviewPending === "true",
    });
    return { items: rows.map(present), total, limit: f.limit, offset: f.offset };
  }

  /** Every live grant matching the filter (for reviews and the UI's "live grants"). */
  async function listLive(filter: Omit<GrantFilter, "live" | "state"> = {}): Promise<Grant[]> {
    return (await repo.all(store, { ...filter, live: true })).map(present);
  }

  // ---- ending a grant ------------------------------------------------------------------------------

  /**
   * Moves a live grant to `expiring` (the connector removes the access next) in the caller's
   * transaction, audited. Returns false when the grant was not live (already ending or ended).
   */
  async function beginEnd(
    q: SqlClient,
    ctx: Ctx,
    grant: GrantRow,
    reason: EndReason,
    detail: string,
  ): Promise<boolean> {
    if (!isLive(grant.state) || (grant.state === "failed" && grant.failed_op === "revoke")) return false;
    const now = clock.now();
    await repo.setState(
      q,
      grant.id,
      {
        state: "expiring",
        endReason: reason,
        endDetail: detail.slice(0, 2000),
        endedBy: ctx.actor.userId ?? null,
        endedAt: now,
        failedOp: null,
        attempts: 0,
        lastError: null,
        nextAttemptAt: now,
      },
      now,
    );
    await audit.record(q, ctx, {
      action: reason === "expired" ? "access.grant.expire" : "access.grant.revoke",
      target: { type: "access_grant", id: grant.id },
      summary: {
        from: grant.state,
        to: "expiring",
        reason,
        detail: detail.slice(0, 500),
        developerId: grant.developer_id,
        resourceId: grant.resource_id,
      },
    });
    if (reason !== "expired") {
      await notify.enqueue(q, {
        topic: "access.grant.revoked",
        subject: `Access revoked: ${reason === "revoked" ? "by a person" : endLabel[reason]}`,
        text: `A ${grant.level} grant (${grant.id}) is being revoked: ${detail}`,
        to: { developerIds: [grant.developer_id] },
        severity: reason === "revoked" || reason === "review" ? "info" : "medium",
        data: { grantId: grant.id, resourceId: grant.resource_id, reason },
        refs: [grant.id],
      });
    }
    return true;
  }

  /**
   * Revokes a live grant for real: audited, then the connector removes the access now (retried with
   * backoff if it fails). Admins and security officers may revoke any grant; a manager, the grants
   * on resources they own.
   */
  async function revoke(
    ctx: Ctx,
    grantId: string,
    reason: string,
    endReason: EndReason = "revoked",
  ): Promise<Grant> {
    await store.tx(async (q) => {
      const grant = await repo.byId(q, grantId, { forUpdate: true });
      if (!grant) throw notFound("grant");
      if (ctx.actor.kind === "user" && ctx.actor.role === "manager") {
        const resource = await resourcesRepo.byId(q, grant.resource_id);
        if (!resource?.owners.includes(ctx.actor.userId ?? "")) {
          throw forbidden("Only the resource's owners, admins and security officers may revoke this grant");
        }
      }
      if (!(await beginEnd(q, ctx, grant, endReason, reason))) {
        throw conflict(`This grant is ${grant.state}; only live grants can be revoked`);
      }
    });
    await runDue({ ids: [grantId] });
    return get(grantId);
  }

  /** Ends (revokes) every live grant of a developer, e.g. when they are offboarded. */
  async function revokeAllOf(ctx: Ctx, developerId: string, reason: EndReason, detail: string) {
    const ids: string[] = [];
    await store.tx(async (q) => {
      const live = (
        await q.query<GrantRow>(
          `select * from access_grants where developer_id = $1 and state in ('approved', 'provisioning', 'active', 'failed')
           for update`,
          [developerId],
        )
      ).rows;
      for (const g of live) if (await beginEnd(q, ctx, g, reason, detail)) ids.push(g.id);
    });
    if (ids.length) await runDue({ ids });
    return ids.length;
  }

  // ---- connector work ------------------------------------------------------------------------------

  async function connectorGrantFor(grant: GrantRow): Promise<ConnectorGrant> {
    const dev = (
      await store.query<{
        email: string;
        ssh_public_keys: { key: string; comment: string }[];
        git_usernames: { github?: string; gitlab?: string };
      }>("select email, ssh_public_keys, git_usernames from developers where id = $1", [grant.developer_id])
    ).rows[0];
    const resource = await resourcesRepo.byId(store, grant.resource_id);
    const keys = (dev?.ssh_public_keys ?? []).map((k) => `${k.key} ${k.comment}`.trim());
    return {
      id: grant.id,
      level: grant.level,
      startsAt: new Date(grant.starts_at),
      endsAt: new Date(grant.ends_at),
      developer: {
        id: grant.developer_id,
        ...(dev ? { handle: dev.email, email: dev.email } : {}),
        ...(keys.length ? { sshPublicKeys: keys } : {}),
        ...(dev?.git_usernames.github ? { githubUsername: dev.git_usernames.github } : {}),
        ...(dev?.git_usernames.gitlab ? { gitlabUsername: dev.git_usernames.gitlab } : {}),
      },
      resource: { id: grant.resource_id, ...(resource ? { name: resource.name } : {}) },
    };
  }

  /** The provision-time check: gate and policies once more, right before the connector runs. */
  async function provisionDecision(grant: GrantRow) {
    const resource = await resourcesRepo.byId(store, grant.resource_id);
    if (!resource) throw new Error("grant without resource");
    const key = { developerId: grant.developer_id, engagementId: grant.engagement_id };
    const { subjects, inScope } = await loadSubjects(store, gate, [key], clock.now());
    const subject = subjects.get(subjectKey(key));
    if (!subject)
      return { allowed: false, policies: [] as string[], reasons: ["Developer not found"], gateClosed: true };
    const engine = await policies.current();
    const decision = engine.decide(
      decisionRequestFor({
        action: "provision",
        level: grant.level,
        subject,
        resource,
        approvals: grant.approvals,
        approverRoles: grant.approver_capacities,
        breakGlass: grant.break_glass,
        inEngagementScope: inScope(grant.engagement_id, grant.resource_id),
      }),
    );
    return {
      allowed: decision.allowed,
      policies: decision.policies,
      reasons: subject.eligibility.reasons.map((r) => r.message),
      gateClosed: !subject.eligibility.eligible,
    };
  }

  /**
   * The password to hand over once: age-encrypted to the developer's registered recipients when they
   * have any (only they can open it), else sealed at rest until the one-time reveal.
   */
  async function sealSecret(grant: GrantRow, result: ProvisionResult, recipients: string[]) {
    if (result.secret?.kind !== "password") return null;
    if (recipients.length) {
      const armored = toArmor(await encryptSmall(result.secret.value, recipients));
      return { format: "age" as const, payload: Buffer.from(armored, "utf8") };
    }
    return {
      format: "sealed" as const,
      payload: await sealer.seal("connector", result.secret.value, credentialSeal(grant.id)),
    };
  }

  async function provisionOne(grant: GrantRow): Promise<"active" | "failed" | "denied"> {
    const ctx = systemCtx("access.provision");
    let check: Awaited<ReturnType<typeof provisionDecision>>;
    try {
      check = await provisionDecision(grant);
    } catch (e) {
      return recordFailure(grant, "provision", e);
    }
    if (!check.allowed) {
      const reason: EndReason = check.gateClosed ? "gate" : "policy";
      const detail = check.gateClosed
        ? `Not eligible at provisioning: ${check.reasons.join("; ")}`
        : `Refused at provisioning by ${check.policies.join(", ") || "the policies (no permit matched)"}`;
      // Ending it goes through expiring and the connector's revoke (idempotent): an extension being
      // re-provisioned still holds the earlier access. runDue's next pass picks it up.
      await store.tx(async (q) => {
        const cur = await repo.byId(q, grant.id, { forUpdate: true });
        if (cur) await beginEnd(q, ctx, cur, reason, detail);
      });
      return "denied";
    }
    let result: ProvisionResult;
    try {
      const resource = await resourcesRepo.byId(store, grant.resource_id);
      if (!resource) throw new Error("grant without resource");
      const connector = await resources.connectorFor(resource);
      result = await connector.provision(await connectorGrantFor(grant));
    } catch (e) {
      return recordFailure(grant, "provision", e);
    }
    const recipients =
      (
        await store.query<{ age_recipients: string[] }>(
          "select age_recipients from developers where id = $1",
          [grant.developer_id],
        )
      ).rows[0]?.age_recipients ?? [];
    const credential = await sealSecret(grant, result, recipients);
    const now = clock.now();
    let endedMeanwhile = false;
    await store.tx(async (q) => {
      const cur = await repo.byId(q, grant.id, { forUpdate: true });
      if (cur?.state !== "provisioning") {
        endedMeanwhile = true;
        return;
      }
      await repo.setState(
        q,
        grant.id,
        {
          state: "active",
          failedOp: null,
          attempts: 0,
          lastError: null,
          lastAttemptAt: now,
          nextAttemptAt: null,
          externalRef: result.externalRef,
          externalState: result.state,
          externalDetails:
            result.state === "pending"
              ? { ...result.details, invitationSentAt: now.toISOString() }
              : result.details,
          provisionedAt: now,
          // A (re-)provisioned invitation is followed up afresh: first asked about after the interval.
          externalCheckedAt: now,
          invitationResends: 0,
        },
        now,
      );
      if (credential) await repo.putCredential(q, grant.id, credential.format, credential.payload, now);
      await audit.record(q, ctx, {
        action: "access.grant.activate",
        target: { type: "access_grant", id: grant.id },
        summary: {
          from: "provisioning",
          to: "active",
          externalRef: result.externalRef,
          externalState: result.state,
          credential: credential?.format ?? result.secret?.kind ?? null,
          developerId: grant.developer_id,
          resourceId: grant.resource_id,
          endsAt: new Date(grant.ends_at).toISOString(),
        },
      });
      const how =
        result.secret?.kind === "password"
          ? `\nYour password is waiting, once: \`warden access credential ${grant.id}\`${credential?.format === "age" ? " (encrypted to your age key)" : ""}.`
          : Array.isArray(result.details.certificates)
            ? `\nFetch your certificate${result.details.certificates.length === 1 ? "" : "s (one per registered key)"} with \`warden ssh cert\`.`
            : result.state === "pending"
              ? "\nAccept the invitation the Git host sent you."
              : "";
      await notify.enqueue(q, {
        topic: "access.grant.active",
        subject: "Your access is active",
        text: `Your ${grant.level} access (grant ${grant.id}) is active until ${new Date(grant.ends_at).toISOString()}.${how}`,
        to: { developerIds: [grant.developer_id] },
        webhook: false,
        data: { grantId: grant.id, resourceId: grant.resource_id },
        refs: [grant.id],
      });
    });
    if (endedMeanwhile) {
      // The grant was revoked while the connector was creating the access (its removal may even have
      // finished first): remove what was just created, or hand it to the retried revoke path.
      await undoLateProvision(grant);
      return "denied";
    }
    return "active";
  }

  async function undoLateProvision(grant: GrantRow) {
    try {
      const resource = await resourcesRepo.byId(store, grant.resource_id);
      if (!resource) return;
      await (await resources.connectorFor(resource)).revoke(await connectorGrantFor(grant));
    } catch (e) {
      const now = clock.now();
      await store.tx(async (q) => {
        const cur = await repo.byId(q, grant.id, { forUpdate: true });
        if (!cur || (cur.state !== "revoked" && cur.state !== "expired" && cur.state !== "expiring")) return;
        // Not really gone: back to a failed revoke, retried like any other.
        await repo.setState(
          q,
          grant.id,
          {
            state: "failed",
            failedOp: "revoke",
            attempts: 1,
            lastError: (isConnectorError(e) ? e.message : "internal error").slice(0, 2000),
            lastAttemptAt: now,
            nextAttemptAt: new Date(now.getTime() + connectorBackoffMs(1, "revoke")),
          },
          now,
        );
        await audit.record(q, systemCtx("access.revoke"), {
          action: "access.grant.failed",
          target: { type: "access_grant", id: grant.id },
          outcome: "failure",
          summary: { from: cur.state, to: "failed", op: "revoke", attempt: 1, late: true },
        });
      });
    }
  }

  async function revokeOne(grant: GrantRow): Promise<"removed" | "failed"> {
    const ctx = systemCtx("access.revoke");
    try {
      const resource = await resourcesRepo.byId(store, grant.resource_id);
      if (!resource) throw new Error("grant without resource");
      const connector = await resources.connectorFor(resource);
      await connector.revoke(await connectorGrantFor(grant));
    } catch (e) {
      // A grant that was never provisioned has nothing to remove; when the connector cannot even
      // address it (no Git username, no SSH key: not retryable), that is the end of it. Anything that
      // was provisioned is retried until the access is really gone.
      const neverProvisioned = grant.provisioned_at === null && isConnectorError(e) && !e.retryable;
      if (!neverProvisioned) return recordFailure(grant, "revoke", e);
    }
    const now = clock.now();
    await store.tx(async (q) => {
      const cur = await repo.byId(q, grant.id, { forUpdate: true });
      if (cur?.state !== "expiring") return;
      const to: GrantState = cur.end_reason === "expired" ? "expired" : "revoked";
      await repo.setState(
        q,
        grant.id,
        { state: to, failedOp: null, attempts: 0, lastError: null, lastAttemptAt: now, nextAttemptAt: null },
        now,
      );
      await repo.eraseCredential(q, grant.id, null);
      await audit.record(q, ctx, {
        action: "access.grant.removed",
        target: { type: "access_grant", id: grant.id },
        summary: {
          from: "expiring",
          to,
          reason: cur.end_reason,
          developerId: grant.developer_id,
          resourceId: grant.resource_id,
        },
      });
      if (to === "expired") {
        await notify.enqueue(q, {
          topic: "access.grant.expired",
          subject: "Your access has ended",
          text: `Your ${grant.level} access (grant ${grant.id}) ended at ${new Date(grant.ends_at).toISOString()}. Ask again if you still need it.`,
          to: { developerIds: [grant.developer_id] },
          webhook: false,
          data: { grantId: grant.id, resourceId: grant.resource_id },
          refs: [grant.id],
        });
      }
    });
    return "removed";
  }

  /**
   * Records a failed connector call: state failed, the error shown on the grant, the next attempt
   * scheduled with backoff (a revoke always; a provision while the error is retryable and attempts
   * remain), audited as `access.grant.failed`, and security notified on the first failure in a row
   * and when provisioning gives up.
   */
  async function recordFailure(grant: GrantRow, op: "provision" | "revoke", e: unknown): Promise<"failed"> {
    const message =
      isConnectorError(e) || e instanceof AppError ? e.message : "internal error (see the server log)";
    if (!isConnectorError(e)) logger.error({ err: e, grantId: grant.id, op }, "access connector call failed");
    const retryable = isConnectorError(e) ? e.retryable : true;
    const now = clock.now();
    await store.tx(async (q) => {
      const cur = await repo.byId(q, grant.id, { forUpdate: true });
      if (!cur) return;
      const expected = op === "provision" ? "provisioning" : "expiring";
      if (cur.state !== expected) return;
      const attempts = cur.attempts + 1;
      const willRetry = op === "revoke" || (retryable && attempts < MAX_PROVISION_ATTEMPTS);
      const next = willRetry ? new Date(now.getTime() + connectorBackoffMs(attempts, op)) : null;
      await repo.setState(
        q,
        grant.id,
        {
          state: "failed",
          failedOp: op,
          attempts,
          lastError: message.slice(0, 2000),
          lastAttemptAt: now,
          nextAttemptAt: next,
        },
        now,
      );
      await audit.record(q, systemCtx(`access.${op}`), {
        action: "access.grant.failed",
        target: { type: "access_grant", id: grant.id },
        outcome: "failure",
        summary: {
          from: cur.state,
          to: "failed",
          op,
          attempt: attempts,
          error: message.slice(0, 500),
          retryable,
          nextAttemptAt: next?.toISOString() ?? null,
          developerId: cur.developer_id,
          resourceId: cur.resource_id,
        },
      });
      if (attempts === 1 || !willRetry) {
        await notify.enqueue(q, {
          topic: "access.grant.failed",
          subject: `Access ${op === "provision" ? "provisioning" : "revocation"} failed${willRetry ? " (retrying)" : " (gave up)"}`,
          text: `The connector could not ${op} grant ${grant.id}: ${message}${next ? `\nNext attempt at ${next.toISOString()}.` : "\nNo further automatic attempt: retry or revoke it in Warden."}`,
          to: { roles: ["security"] },
          severity: op === "revoke" ? "high" : "medium",
          data: { grantId: grant.id, op, attempt: attempts, retryable },
          refs: [grant.id],
        });
      }
    });
    return "failed";
  }

  /**
   * Runs the connector work that is due (all of it, or only `ids`): claims rows with SKIP LOCKED and
   * a lease, then calls connectors outside any transaction, a few at a time.
   */
  async function runDue(opts: { ids?: string[]; limit?: number } = {}) {
    const counts = { provisioned: 0, removed: 0, failed: 0, denied: 0 };
    let passes = 0;
    for (;;) {
      const now = clock.now();
      const claimed = await store.tx(async (q) => {
        const rows = await repo.claimDue(q, now, opts.limit ?? 50, opts.ids);
        const out: GrantRow[] = [];
        for (const g of rows) {
          const lease = new Date(now.getTime() + CLAIM_LEASE_MS);
          const op =
            g.state === "expiring" || (g.state === "failed" && g.failed_op === "revoke")
              ? "revoke"
              : "provision";
          if (op === "provision" && new Date(g.starts_at).getTime() > now.getTime()) continue;
          const to: GrantState = op === "revoke" ? "expiring" : "provisioning";
          await repo.setState(q, g.id, { state: to, nextAttemptAt: lease }, now);
          if (g.state !== to) {
            await audit.record(q, systemCtx(`access.${op}`), {
              action: op === "provision" ? "access.grant.provisioning" : "access.grant.revoking",
              target: { type: "access_grant", id: g.id },
              summary: { from: g.state, to, attempt: g.attempts + 1 },
            });
          }
          out.push({ ...g, state: to });
        }
        return out;
      });
      if (claimed.length === 0) break;
      let next = 0;
      const worker = async () => {
        while (next < claimed.length) {
          const g = claimed[next++]!;
          if (g.state === "provisioning") {
            const r = await provisionOne(g);
            if (r === "active") counts.provisioned++;
            else if (r === "denied") counts.denied++;
            else counts.failed++;
          } else {
            const r = await revokeOne(g);
            if (r === "removed") counts.removed++;
            else counts.failed++;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, claimed.length) }, worker));
      // Another pass picks up what this one made due (a grant refused at provisioning is revoked);
      // failures are scheduled in the future, so the loop ends.
      if (++passes >= 20) break;
    }
    return counts;
  }

  /** A lead asks for another attempt now (a provisioning that gave up, or a failing revoke). */
  async function retry(ctx: Ctx, grantId: string): Promise<Grant> {
    await store.tx(async (q) => {
      const g = await repo.byId(q, grantId, { forUpdate: true });
      if (!g) throw notFound("grant");
      if (g.state !== "failed") throw conflict(`This grant is ${g.state}; only failed grants can be retried`);
      const now = clock.now();
      await repo.setState(q, grantId, { nextAttemptAt: now, attempts: 0 }, now);
      await audit.record(q, ctx, {
        action: "access.grant.retry",
        target: { type: "access_grant", id: grantId },
        summary: { op: g.failed_op, attemptsBefore: g.attempts },
      });
    });
    await runDue({ ids: [grantId] });
    return get(grantId);
  }

  // ---- pending invitations -------------------------------------------------------------------------

  /**
   * Follows up grants whose access waits on an invitation (GitHub collaborator, GitLab e-mail invite):
   * asks the host at most every INVITATION_CHECK_EVERY_MS whether it was accepted. Accepted → the grant
   * shows the access active. Still pending after INVITATION_REMIND_AFTER_MS → the developer is reminded
   * once. Expired on the host (GitHub: 7 days) → sent again once, then the grant shows
   * `invitation_expired` and the developer, the requester and the owners are told; gone without being
   * accepted (declined, or withdrawn on the host) → `absent`, told likewise. Each change is audited.
   */
  async function followUpInvitations() {
    const counts = { checked: 0, accepted: 0, reminded: 0, resent: 0, expired: 0, gone: 0, errors: 0 };
    const now = clock.now();
    const claimed = await store.tx(async (q) => {
      const rows = await repo.claimPendingInvitations(
        q,
        new Date(now.getTime() - INVITATION_CHECK_EVERY_MS),
        INVITATION_BATCH,
      );
      for (const g of rows) await repo.setState(q, g.id, { externalCheckedAt: now }, now);
      return rows;
    });
    for (const grant of claimed) {
      counts.checked++;
      try {
        const outcome = await followUpInvitation(grant);
        if (outcome !== "pending") counts[outcome]++;
      } catch (e) {
        // The host could not be asked (outage, rate limit): the next check, minutes later, tries again.
        counts.errors++;
        logger.warn(
          { grantId: grant.id, err: isConnectorError(e) ? e.message : e },
          "access: could not follow up a pending invitation",
        );
      }
    }
    return counts;
  }

  async function followUpInvitation(
    grant: GrantRow,
  ): Promise<"pending" | "accepted" | "reminded" | "resent" | "expired" | "gone"> {
    const ctx = systemCtx("access.invitations");
    const resource = await resourcesRepo.byId(store, grant.resource_id);
    if (!resource) throw new Error("grant without resource");
    const connector = await resources.connectorFor(resource);
    const target = await connectorGrantFor(grant);
    const seen = await connector.check(target);
    const now = clock.now();
    const requester = (
      await store.query<{ requested_by: string | null }>(
        "select requested_by from access_requests where id = $1",
        [grant.request_id],
      )
    ).rows[0]?.requested_by;
    const concerned = {
      developerIds: [grant.developer_id],
      userIds: [...new Set([...(requester ? [requester] : []), ...resource.owners])],
    };
    /** Runs `change` only while the grant still waits on its invitation (not ended, not re-provisioned). */
    const whilePending = (change: (q: SqlClient, cur: GrantRow) => Promise<void>) =>
      store.tx(async (q) => {
        const cur = await repo.byId(q, grant.id, { forUpdate: true });
        if (cur?.state !== "active" || cur.external_state !== "pending") return false;
        await change(q, cur);
        return true;
      });

    if (seen.state === "active") {
      await whilePending(async (q, cur) => {
        await repo.setState(
          q,
          grant.id,
          {
            externalState: "active",
            externalDetails: { ...cur.external_details, acceptedAt: now.toISOString() },
          },
          now,
        );
        await audit.record(q, ctx, {
          action: "access.grant.invitation_accepted",
          target: { type: "access_grant", id: grant.id },
          summary: { developerId: grant.developer_id, resourceId: grant.resource_id },
        });
      });
      return "accepted";
    }

    if (seen.state === "pending") {
      const sentAt = Date.parse(
        String(seen.details.invitedAt ?? grant.external_details.invitationSentAt ?? grant.provisioned_at),
      );
      const due = !grant.external_details.remindedAt && now.getTime() - sentAt >= INVITATION_REMIND_AFTER_MS;
      if (!due) return "pending";
      await whilePending(async (q, cur) => {
        await repo.setState(
          q,
          grant.id,
          { externalDetails: { ...cur.external_details, remindedAt: now.toISOString() } },
          now,
        );
        await notify.enqueue(
          q,
          seen.details.awaitingApproval
            ? {
                topic: "access.invitation.reminder",
                subject: `GitLab has not approved ${resource.name}'s new member yet`,
                text:
                  `Grant ${grant.id} (${grant.level} on ${resource.name}) waits since ${new Date(sentAt).toISOString()} ` +
                  "for a GitLab administrator to approve the membership (GitLab's awaiting state, e.g. seat limits).",
                to: { userIds: resource.owners },
                webhook: false,
                data: { grantId: grant.id, resourceId: grant.resource_id },
                refs: [grant.id],
              }
            : {
                topic: "access.invitation.reminder",
                subject: `Accept your invitation to ${resource.name}`,
                text:
                  `Your ${grant.level} access to ${resource.name} (grant ${grant.id}) waits for you to accept the invitation ` +
                  `the Git host sent ${new Date(sentAt).toISOString()}.${resource.kind === "github" ? " GitHub invitations expire 7 days after they are sent." : ""}`,
                to: { developerIds: [grant.developer_id] },
                webhook: false,
                data: { grantId: grant.id, resourceId: grant.resource_id },
                refs: [grant.id],
              },
        );
      });
      return "reminded";
    }

    if (seen.state === "invitation_expired" && grant.invitation_resends < MAX_INVITATION_RESENDS) {
      const result = await connector.provision(target);
      const applied = await whilePending(async (q, cur) => {
        await repo.setState(
          q,
          grant.id,
          {
            externalState: result.state,
            externalRef: result.externalRef,
            externalDetails: { ...result.details, invitationSentAt: now.toISOString() },
            invitationResends: cur.invitation_resends + 1,
          },
          now,
        );
        await audit.record(q, ctx, {
          action: "access.grant.invitation_resent",
          target: { type: "access_grant", id: grant.id },
          summary: {
            expiredInvitation: seen.details.invitationId ?? null,
            invitation: result.details.invitationId ?? null,
            developerId: grant.developer_id,
            resourceId: grant.resource_id,
          },
        });
        await notify.enqueue(q, {
          topic: "access.invitation.resent",
          subject: `A new invitation to ${resource.name}`,
          text:
            `The invitation for your ${grant.level} access to ${resource.name} (grant ${grant.id}) expired before you ` +
            "accepted it, so a new one was sent. Accept it on the Git host; it is the last one Warden sends for this grant.",
          to: { developerIds: [grant.developer_id] },
          webhook: false,
          data: { grantId: grant.id, resourceId: grant.resource_id },
          refs: [grant.id],
        });
      });
      // The grant ended while the new invitation was being sent: withdraw it (or retry the removal).
      if (!applied) await undoLateProvision(grant);
      return "resent";
    }

    const expired = seen.state === "invitation_expired";
    await whilePending(async (q, cur) => {
      await repo.setState(
        q,
        grant.id,
        {
          externalState: expired ? "invitation_expired" : "absent",
          externalDetails: { ...cur.external_details, ...seen.details, endedAt: now.toISOString() },
        },
        now,
      );
      await audit.record(q, ctx, {
        action: expired ? "access.grant.invitation_expired" : "access.grant.invitation_gone",
        target: { type: "access_grant", id: grant.id },
        outcome: "failure",
        summary: {
          resends: cur.invitation_resends,
          hostState: seen.state,
          developerId: grant.developer_id,
          resourceId: grant.resource_id,
        },
      });
      await notify.enqueue(q, {
        topic: expired ? "access.invitation.expired" : "access.invitation.gone",
        subject: `Invitation to ${resource.name} ${expired ? "expired" : "no longer pending"}: no access`,
        text:
          `Grant ${grant.id} (${grant.level} on ${resource.name}): ${
            expired
              ? `the invitation expired without being accepted${cur.invitation_resends ? ", again" : ""}`
              : "the invitation is gone from the Git host without being accepted (declined or withdrawn there)"
          }, so the developer has no access. To get it, ask again (a new request extends the grant and sends a ` +
          "new invitation); otherwise an owner may revoke the grant.",
        to: concerned,
        severity: "low",
        data: { grantId: grant.id, resourceId: grant.resource_id, hostState: seen.state },
        refs: [grant.id],
      });
    });
    return expired ? "expired" : "gone";
  }

  // ---- SSH keys ------------------------------------------------------------------------------------

  /**
   * Certifies the developer's registered SSH keys on their active SSH grants wherever a key has no
   * usable certificate yet (a key registered after the grant started): every registered key, or only
   * the one `publicKey` names, which must be registered (the CA certifies nothing else). Audited per
   * grant. Returns how many certificates were issued.
   */
  async function certifySshKeys(
    ctx: Ctx,
    filter: { resourceId?: string | undefined; grantId?: string | undefined; publicKey?: string | undefined },
  ): Promise<number> {
    const developerId = ctx.actor.developerId;
    if (!developerId) throw forbidden("Only developers hold SSH certificates");
    const registered = (
      (
        await store.query<{ ssh_public_keys: { key: string; comment: string }[] }>(
          "select ssh_public_keys from developers where id = $1",
          [developerId],
        )
      ).rows[0]?.ssh_public_keys ?? []
    ).flatMap((k) => {
      const line = `${k.key} ${k.comment}`.trim();
      try {
        return [{ line, fingerprint: sshKeyFingerprint(line) }];
      } catch {
        return []; // a registered key type the CA cannot certify
      }
    });
    let wanted = registered;
    if (filter.publicKey !== undefined) {
      let fingerprint: string;
      try {
        fingerprint = sshKeyFingerprint(filter.publicKey);
      } catch (e) {
        throw invalidField(
          "body/publicKey",
          `not an OpenSSH public key Warden can certify: ${(e as Error).message}`,
        );
      }
      wanted = registered.filter((k) => k.fingerprint === fingerprint);
      if (wanted.length === 0) {
        throw invalidField(
          "body/publicKey",
          `${fingerprint} is not one of your registered SSH keys: add it to your profile first`,
        );
      }
    }
    const params: unknown[] = [developerId];
    let extra = "";
    if (filter.resourceId) {
      params.push(filter.resourceId);
      extra += ` and g.resource_id = $${params.length}`;
    }
    if (filter.grantId) {
      params.push(filter.grantId);
      extra += ` and g.id = $${params.length}`;
    }
    const live = (
      await store.query<GrantRow>(
        `select g.* from access_grants g join access_resources r on r.id = g.resource_id
         where g.developer_id = $1 and g.state = 'active' and r.kind = 'ssh'${extra}`,
        params,
      )
    ).rows;
    let issuedCount = 0;
    for (const grant of live) {
      const now = clock.now();
      const usable = new Set(
        (await ssh.ledger.forGrant(grant.id))
          .filter((c) => c.revokedAt === null && c.validBefore > now)
          .map((c) => c.keyFingerprint),
      );
      const missing = wanted.filter((k) => !usable.has(k.fingerprint));
      if (missing.length === 0) continue;
      const resource = await resourcesRepo.byId(store, grant.resource_id);
      if (!resource) continue;
      const connector = await resources.connectorFor(resource);
      if (connector.kind !== "ssh") continue;
      const { issued } = await (connector as SshConnector).certify(
        await connectorGrantFor(grant),
        missing.map((k) => k.line),
      );
      if (issued.length === 0) continue;
      issuedCount += issued.length;
      await audit.recordAlone(ctx, {
        action: "access.ssh.certify",
        target: { type: "access_grant", id: grant.id },
        summary: {
          keys: issued.map((c) => c.keyFingerprint),
          serials: issued.map((c) => c.serial.toString()),
          developerId,
          resourceId: grant.resource_id,
        },
      });
    }
    return issuedCount;
  }

  /**
   * Puts in the KRL the certificates of keys their developer has removed from their profile (the
   * grant's other keys keep working). Run by the sweep; audited per grant.
   */
  async function revokeRemovedSshKeys(): Promise<number> {
    const now = clock.now();
    const stale = await ssh.certificatesOfRemovedKeys(now);
    if (stale.length === 0) return 0;
    const byGrant = new Map<string, typeof stale>();
    for (const c of stale) byGrant.set(c.grantId, [...(byGrant.get(c.grantId) ?? []), c]);
    let revoked = 0;
    for (const [grantId, certificates] of byGrant) {
      await store.tx(async (q) => {
        const serials = await ssh.revokeSerialsIn(
          q,
          certificates.map((c) => c.serial),
          now,
        );
        if (serials.length === 0) return;
        revoked += serials.length;
        await audit.record(q, systemCtx("access.sweep"), {
          action: "access.ssh.key_revoked",
          target: { type: "access_grant", id: grantId },
          summary: {
            reason: "the key is no longer registered to the developer",
            keys: [...new Set(certificates.map((c) => c.keyFingerprint))],
            serials,
            developerId: certificates[0]!.developerId,
          },
        });
      });
    }
    return revoked;
  }

  // ---- the developer's side ------------------------------------------------------------------------

  /** The one-time reveal of a grant's password, to the developer who holds it; erased as it is read. */
  async function revealCredential(ctx: Ctx, grantId: string) {
    const developerId = ctx.actor.developerId;
    if (ctx.actor.role !== "developer" || !developerId) throw forbidden("Only the developer may reveal it");
    const out = await store.tx(async (q) => {
      const g = await repo.byId(q, grantId);
      if (!g || g.developer_id !== developerId) throw notFound("grant");
      const c = await repo.credential(q, grantId);
      if (!c) throw notFound("credential for this grant");
      if (!c.payload) {
        throw new AppError(
          "gone",
          c.revealed_at
            ? `This credential was already revealed at ${new Date(c.revealed_at).toISOString()}; ask for the grant to be re-issued if you lost it`
            : "This credential is no longer available (the grant ended)",
        );
      }
      if (g.state !== "active") throw conflict(`This grant is ${g.state}`);
      const now = clock.now();
      await repo.eraseCredential(q, grantId, now);
      await audit.record(q, ctx, {
        action: "access.credential.reveal",
        target: { type: "access_grant", id: grantId },
        summary: { format: c.format },
      });
      return { grant: g, format: c.format, payload: Buffer.from(c.payload) };
    });
    const value =
      out.format === "age"
        ? out.payload.toString("utf8")
        : (await sealer.open(out.payload, credentialSeal(grantId))).toString("utf8");
    const d = out.grant.external_details;
    return {
      grantId,
      kind: "password" as const,
      format: out.format === "age" ? ("age" as const) : ("plain" as const),
      value,
      connection: {
        role: d.role ?? out.grant.external_ref,
        host: d.host,
        port: d.port,
        database: d.database,
        validUntil: d.validUntil,
      },
    };
  }

  async function listMine(ctx: Ctx, f: GrantListQuery & { limit: number; offset: number }) {
    const developerId = ctx.actor.developerId;
    if (!developerId) throw forbidden("Only developer accounts have grants");
    return list({ ...f, developerId });
  }

  /** Marks a break-glass grant reviewed (the reviews feature shows the pending ones). */
  async function markReviewed(ctx: Ctx, grantId: string, note: string): Promise<Grant> {
    await store.tx(async (q) => {
      const g = await repo.byId(q, grantId, { forUpdate: true });
      if (!g) throw notFound("grant");
      if (!g.review_required) throw conflict("This grant needs no review");
      if (g.reviewed_at) throw conflict("This grant was already reviewed");
      const now = clock.now();
      await repo.setState(
        q,
        grantId,
        { reviewedAt: now, reviewedBy: ctx.actor.userId ?? null, reviewNote: note },
        now,
      );
      await audit.record(q, ctx, {
        action: "access.breakglass.reviewed",
        target: { type: "access_grant", id: grantId },
        summary: { note: note.slice(0, 500), developerId: g.developer_id, resourceId: g.resource_id },
      });
    });
    return get(grantId);
  }

  /**
   * What the target system reports about a grant's access right now (open sessions, invitation
   * state), without changing anything. Used by the reviews feature's least-privilege hints.
   */
  async function check(grantId: string): Promise<CheckResult> {
    const grant = await repo.byId(store, grantId);
    if (!grant) throw notFound("grant");
    const resource = await resourcesRepo.byId(store, grant.resource_id);
    if (!resource) throw notFound("resource");
    const connector = await resources.connectorFor(resource);
    return connector.check(await connectorGrantFor(grant));
  }

  return {
    present,
    get,
    list,
    listLive,
    check,
    listMine,
    beginEnd,
    revoke,
    revokeAllOf,
    runDue,
    retry,
    revealCredential,
    markReviewed,
    certifySshKeys,
    revokeRemovedSshKeys,
    followUpInvitations,
  };
}

export type GrantsService = ReturnType<typeof createGrantsService>;
