import { randomUUID } from "node:crypto";
import type { Grant, GrantsService } from "../access/index.ts";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import { type Ctx, systemCtx } from "../core/context.ts";
import { AppError, conflict, forbidden, invalidField, notFound } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import type { Page } from "../http/pagination.ts";
import type { NotifyService } from "../notify/index.ts";
import type { SqlClient, Store } from "../store/store.ts";
import { periodOf, scheduledName } from "./reviews.period.ts";
import { type CampaignRow, type ItemRow, type NewItem, reviewsRepo as repo } from "./reviews.repo.ts";
import type {
  Campaign,
  CampaignDetail,
  CampaignInput,
  CampaignStatus,
  DecisionInput,
  ReviewItem,
} from "./reviews.schemas.ts";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** A "revoke" decision whose revocation did not complete within this long is retried by the sweep. */
const STUCK_REVOCATION_MS = 60_000;

export interface ReviewsDeps {
  store: Store;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  notify: Pick<NotifyService, "enqueue">;
  grants: Pick<GrantsService, "listLive" | "revoke">;
  config: Config["reviews"];
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const isLead = (ctx: Ctx) =>
  ctx.actor.kind === "system" || ctx.actor.role === "admin" || ctx.actor.role === "security";
const mayDecide = (ctx: Ctx, owners: string[]) =>
  isLead(ctx) || (ctx.actor.role === "manager" && owners.includes(ctx.actor.userId ?? ""));

/**
 * Access review campaigns: every live grant in scope becomes an item that an owner of its resource
 * (or a security officer or admin) keeps or revokes with a reason. A revoke takes effect at once
 * through access's own revocation (the connector removes the access for real); at the deadline every
 * undecided grant is revoked the same way. Campaigns open on a calendar cadence (quarterly by default)
 * or by hand, remind owners through notify, and finish as evidence (CSV, printable report).
 */
export function createReviewsService(deps: ReviewsDeps) {
  const { store, clock, audit, notify, grants, logger, config } = deps;

  // ---- presenting ---------------------------------------------------------------------------------

  const zero = { total: 0, undecided: 0, keep: 0, revoke: 0, revokedAtDeadline: 0, ended: 0, mine: 0 };

  async function presentCampaigns(q: SqlClient, ctx: Ctx, rows: CampaignRow[]): Promise<Campaign[]> {
    const counts = await repo.counts(
      q,
      rows.map((r) => r.id),
      { userId: ctx.actor.userId ?? null, lead: isLead(ctx) },
    );
    return rows.map((r) => {
      const { mine, ...n } = counts.get(r.id) ?? zero;
      return {
        id: r.id,
        name: r.name,
        description: r.description,
        scope: {
          vendorId: r.scope.vendorId ?? null,
          vendorName: r.scope_vendor_name,
          resourceId: r.scope.resourceId ?? null,
          resourceName: r.scope_resource_name,
          environment: r.scope.environment ?? null,
        },
        origin: r.origin,
        period: r.period,
        status: r.status,
        deadline: iso(r.deadline)!,
        createdBy: r.created_by_label,
        createdAt: iso(r.created_at)!,
        completedAt: iso(r.completed_at),
        cancelledReason: r.cancelled_reason,
        remindersSent: r.reminders_sent,
        lastRemindedAt: iso(r.last_reminded_at),
        counts: n,
        mine: r.status === "open" ? mine : 0,
      };
    });
  }

  const presentItem =
    (ctx: Ctx, open: boolean) =>
    (i: ItemRow): ReviewItem => ({
      id: i.id,
      campaignId: i.campaign_id,
      grantId: i.grant_id,
      developer: { id: i.developer_id, name: i.developer_name, email: i.developer_email },
      vendor: i.vendor_id ? { id: i.vendor_id, name: i.vendor_name ?? "" } : null,
      resource: {
        id: i.resource_id,
        name: i.resource_name,
        kind: i.resource_kind as ReviewItem["resource"]["kind"],
        environment: i.environment as ReviewItem["resource"]["environment"],
        dataClass: i.data_class as ReviewItem["resource"]["dataClass"],
      },
      level: i.level as ReviewItem["level"],
      grantStartsAt: iso(i.grant_starts_at)!,
      grantEndsAt: iso(i.grant_ends_at)!,
      breakGlass: i.break_glass,
      decision: i.decision,
      reason: i.reason,
      decidedBy: i.decided_by_label,
      decidedAt: iso(i.decided_at),
      outcome: i.outcome,
      outcomeDetail: i.outcome_detail,
      outcomeAt: iso(i.outcome_at),
      canDecide: open && i.outcome === null && i.decision !== "revoke" && mayDecide(ctx, i.owners),
    });

  async function list(
    ctx: Ctx,
    f: { status?: CampaignStatus | undefined; limit: number; offset: number },
  ): Promise<Page<Campaign>> {
    const { rows, total } = await repo.listCampaigns(store, f);
    return { items: await presentCampaigns(store, ctx, rows), total, limit: f.limit, offset: f.offset };
  }

  async function get(
    ctx: Ctx,
    id: string,
    f: { reviewer?: "me" | undefined; undecided?: "true" | "false" | undefined } = {},
  ): Promise<CampaignDetail> {
    const row = await repo.campaign(store, id);
    if (!row) throw notFound("review campaign");
    const [campaign] = await presentCampaigns(store, ctx, [row]);
    let items = (await repo.items(store, id)).map(presentItem(ctx, row.status === "open"));
    if (f.reviewer === "me") items = items.filter((i) => i.canDecide);
    if (f.undecided)
      items = items.filter((i) => (i.decision === null && i.outcome === null) === (f.undecided === "true"));
    return { ...campaign!, items };
  }

  // ---- opening a campaign -------------------------------------------------------------------------

  /** The live grants in scope, with the facts a snapshot keeps (developer e-mail, vendor). */
  async function itemsInScope(
    scope: CampaignInput["scope"],
    startedBefore?: Date,
  ): Promise<(NewItem & { id: string })[]> {
    const live: Grant[] = await grants.listLive({
      ...(scope.resourceId ? { resourceId: scope.resourceId } : {}),
      ...(scope.environment ? { environment: scope.environment } : {}),
    });
    const facts = await repo.developerFacts(store, [...new Set(live.map((g) => g.developerId))]);
    return live
      .filter((g) => !scope.vendorId || facts.get(g.developerId)?.vendor_id === scope.vendorId)
      .filter((g) => !startedBefore || Date.parse(g.startsAt) < startedBefore.getTime())
      .map((g) => {
        const d = facts.get(g.developerId);
        return {
          id: randomUUID(),
          campaign_id: "",
          grant_id: g.id,
          developer_id: g.developerId,
          developer_name: g.developerName,
          developer_email: d?.email ?? "",
          vendor_id: d?.vendor_id ?? null,
          vendor_name: d?.vendor_name ?? null,
          resource_id: g.resourceId,
          resource_name: g.resourceName,
          resource_kind: g.resourceKind,
          environment: g.environment,
          data_class: g.dataClass,
          level: g.level,
          grant_starts_at: new Date(g.startsAt),
          grant_ends_at: new Date(g.endsAt),
          break_glass: g.breakGlass,
        };
      });
  }

  /** Tells each owner how many grants wait for them, and the webhook that a campaign opened. */
  async function announce(q: SqlClient, campaignId: string, name: string, deadline: Date, total: number) {
    for (const o of await repo.pendingByOwner(q, campaignId)) {
      await notify.enqueue(q, {
        topic: "review.campaign.opened",
        subject: `Access review "${name}": ${o.pending} grant${o.pending === 1 ? "" : "s"} to review`,
        text:
          `Please keep or revoke each grant on the resources you own, with a reason, by ${deadline.toISOString()}. ` +
          "Grants nobody decides on by then are revoked.",
        to: { userIds: [o.userId] },
        webhook: false,
        data: { campaignId, pending: o.pending },
        refs: [campaignId],
      });
    }
    await notify.enqueue(q, {
      topic: "review.campaign.opened",
      subject: `Access review "${name}" opened with ${total} grant${total === 1 ? "" : "s"}`,
      text: `Deadline ${deadline.toISOString()}.`,
      data: { campaignId, total },
      refs: [campaignId],
    });
  }

  async function open(
    ctx: Ctx,
    input: Omit<CampaignInput, "deadline"> & {
      origin: "scheduled" | "manual";
      period: string | null;
      deadline: Date;
    },
    startedBefore?: Date,
  ): Promise<string | null> {
    const items = await itemsInScope(input.scope, startedBefore);
    // A scheduled review re-certifies grants that outlived a period boundary; with none, no campaign.
    if (input.origin === "scheduled" && items.length === 0) return null;
    const id = randomUUID();
    const now = clock.now();
    const created = await store.tx(async (q) => {
      const inserted = await repo.insertCampaign(q, {
        id,
        name: input.name,
        description: input.description,
        scope: input.scope,
        origin: input.origin,
        period: input.period,
        deadline: input.deadline,
        createdBy: ctx.actor.userId ?? null,
        at: now,
      });
      if (!inserted) return false;
      await repo.insertItems(q, id, items);
      await audit.record(q, ctx, {
        action: "review.campaign.create",
        target: { type: "review", id },
        summary: {
          name: input.name,
          origin: input.origin,
          ...(input.period ? { period: input.period } : {}),
          scope: input.scope,
          deadline: input.deadline.toISOString(),
          items: items.length,
        },
      });
      await announce(q, id, input.name, input.deadline, items.length);
      // Nothing to review: the campaign is finished the moment it opens (and says so, as evidence).
      if (items.length === 0) await completeIn(q, ctx, id);
      return true;
    });
    return created ? id : null;
  }

  async function create(ctx: Ctx, input: CampaignInput): Promise<CampaignDetail> {
    const deadline = new Date(input.deadline);
    const now = clock.now().getTime();
    if (deadline.getTime() < now + HOUR)
      throw invalidField("body/deadline", "must be at least an hour from now");
    if (deadline.getTime() > now + 366 * DAY) throw invalidField("body/deadline", "must be within a year");
    if (input.scope.vendorId && !(await repo.vendorExists(store, input.scope.vendorId)))
      throw invalidField("body/scope/vendorId", "no such vendor");
    const id = await open(ctx, { ...input, origin: "manual", period: null, deadline });
    return get(ctx, id!);
  }

  /**
   * Opens the current period's scheduled campaign unless it exists (any node, any number of runs). It
   * covers the grants that were live before the period began: grants approved within the period were
   * just decided by their approvers. The set only shrinks during a period, so "none" stays "none".
   */
  async function openScheduled(at: Date): Promise<string | null> {
    if (config.cadenceMonths === 0) return null;
    const period = periodOf(at, config.cadenceMonths);
    return open(
      systemCtx("access review schedule"),
      {
        name: scheduledName(period),
        description: `Scheduled review of every live grant (every ${config.cadenceMonths} month${
          config.cadenceMonths === 1 ? "" : "s"
        }).`,
        scope: {},
        origin: "scheduled",
        period: period.label,
        deadline: new Date(at.getTime() + config.deadlineDays * DAY),
      },
      period.start,
    );
  }

  // ---- deciding -----------------------------------------------------------------------------------

  async function decide(
    ctx: Ctx,
    campaignId: string,
    itemId: string,
    input: DecisionInput,
  ): Promise<ReviewItem> {
    const now = clock.now();
    const decided = await store.tx(async (q) => {
      const c = await repo.campaign(q, campaignId, { forUpdate: true });
      if (!c) throw notFound("review campaign");
      const item = await repo.item(q, campaignId, itemId, { forUpdate: true });
      if (!item) throw notFound("review item");
      if (!mayDecide(ctx, item.owners)) {
        throw forbidden("Only the resource's owners, security officers and admins decide on this grant");
      }
      if (c.status !== "open") throw conflict(`This campaign is ${c.status}; decisions are closed`);
      if (item.outcome !== null) throw conflict("This grant was already settled");
      if (item.decision === "revoke") throw conflict("This grant was already revoked by a reviewer");
      await repo.setDecision(q, itemId, {
        decision: input.decision,
        reason: input.reason,
        by: ctx.actor.userId ?? null,
        byLabel: ctx.actor.label,
        at: now,
      });
      await audit.record(q, ctx, {
        action: "review.decide",
        target: { type: "review", id: campaignId },
        summary: {
          itemId,
          grantId: item.grant_id,
          decision: input.decision,
          reason: input.reason.slice(0, 500),
          ...(item.decision ? { previous: item.decision } : {}),
          developerId: item.developer_id,
          resourceId: item.resource_id,
        },
      });
      return item;
    });
    if (input.decision === "revoke") {
      await applyRevocation(ctx, campaignId, { ...decided, reason: input.reason }, "revoked");
    }
    await completeIfSettled(campaignId);
    const item = await repo.item(store, campaignId, itemId);
    return presentItem(ctx, true)(item!);
  }

  /**
   * Revokes the item's grant through access (audited there, the connector removes the access; a
   * failing connector is retried by access). A grant that already ended settles the item as "ended".
   */
  async function applyRevocation(
    ctx: Ctx,
    campaignId: string,
    item: Pick<ItemRow, "id" | "grant_id" | "reason">,
    outcome: "revoked" | "revoked_at_deadline",
  ) {
    const c = await repo.campaign(store, campaignId);
    const why =
      outcome === "revoked"
        ? `Access review "${c?.name}": ${item.reason ?? "revoked"}`
        : `Access review "${c?.name}": nobody decided by the deadline`;
    let settled: "revoked" | "revoked_at_deadline" | "ended" = outcome;
    let detail: string | null = null;
    try {
      const g = await grants.revoke(ctx, item.grant_id, why, "review");
      detail = g.state === "failed" ? `connector failed; access retries: ${g.lastError ?? ""}`.trim() : null;
    } catch (e) {
      if (!(e instanceof AppError && (e.code === "conflict" || e.code === "not_found"))) throw e;
      settled = "ended";
      detail = e.message;
    }
    await store.tx(async (q) => {
      await repo.setOutcome(q, item.id, settled, detail, clock.now());
      if (outcome === "revoked_at_deadline") {
        await audit.record(q, ctx, {
          action: "review.deadline.revoke",
          target: { type: "review", id: campaignId },
          summary: { itemId: item.id, grantId: item.grant_id, outcome: settled },
        });
      }
    });
  }

  async function completeIn(q: SqlClient, ctx: Ctx, campaignId: string) {
    const c = await repo.campaign(q, campaignId, { forUpdate: true });
    if (c?.status !== "open") return;
    await repo.complete(q, campaignId, clock.now());
    const n = (await repo.counts(q, [campaignId], { userId: null, lead: true })).get(campaignId) ?? zero;
    await audit.record(q, ctx, {
      action: "review.campaign.complete",
      target: { type: "review", id: campaignId },
      summary: {
        total: n.total,
        kept: n.keep,
        revoked: n.revoke,
        revokedAtDeadline: n.revokedAtDeadline,
        ended: n.ended,
      },
    });
    await notify.enqueue(q, {
      topic: "review.campaign.completed",
      subject: `Access review "${c.name}" completed`,
      text:
        `${n.total} grants: ${n.keep} kept, ${n.revoke} revoked by reviewers, ` +
        `${n.revokedAtDeadline} revoked at the deadline, ${n.ended} ended before.`,
      to: { roles: ["security"] },
      data: { campaignId, ...n },
      refs: [campaignId],
    });
  }

  async function completeIfSettled(campaignId: string) {
    await store.tx(async (q) => {
      if (await repo.settled(q, campaignId)) await completeIn(q, systemCtx("access review"), campaignId);
    });
  }

  async function cancel(ctx: Ctx, campaignId: string, reason: string): Promise<CampaignDetail> {
    await store.tx(async (q) => {
      const c = await repo.campaign(q, campaignId, { forUpdate: true });
      if (!c) throw notFound("review campaign");
      if (c.status !== "open") throw conflict(`This campaign is already ${c.status}`);
      await repo.cancel(q, campaignId, reason, clock.now());
      await audit.record(q, ctx, {
        action: "review.campaign.cancel",
        target: { type: "review", id: campaignId },
        summary: { reason: reason.slice(0, 500) },
      });
    });
    return get(ctx, campaignId);
  }

  // ---- background work ----------------------------------------------------------------------------

  /**
   * At the deadline: revokes every undecided grant and completes the campaign. Also finishes "revoke"
   * decisions whose revocation was interrupted (a crash between the decision and the connector call).
   */
  async function sweepDeadlines(at: Date) {
    const ctx = systemCtx("access review deadline");
    let revoked = 0;
    let campaigns = 0;
    for (const id of await repo.withUnappliedRevocations(
      store,
      new Date(at.getTime() - STUCK_REVOCATION_MS),
    )) {
      for (const item of await repo.toRevoke(store, id, false)) {
        await applyRevocation(ctx, id, item, "revoked");
      }
      await completeIfSettled(id);
    }
    for (const id of await repo.openIds(store, { dueBy: at })) {
      for (const item of await repo.toRevoke(store, id, true)) {
        await applyRevocation(ctx, id, item, item.decision === "revoke" ? "revoked" : "revoked_at_deadline");
        if (item.decision === null) revoked++;
      }
      await store.tx((q) => completeIn(q, ctx, id));
      campaigns++;
    }
    if (revoked)
      logger.info({ revoked, campaigns }, "access reviews: undecided grants revoked at the deadline");
    return { campaigns, revoked };
  }

  /**
   * Reminds owners of undecided items every `reminderDays`, and once more in the last day before the
   * deadline. Each owner hears only about their own items.
   */
  async function remind(at: Date) {
    let reminded = 0;
    const every = config.reminderDays * DAY;
    for (const id of await repo.openIds(store)) {
      await store.tx(async (q) => {
        const c = await repo.campaign(q, id, { forUpdate: true });
        if (c?.status !== "open") return;
        const last = (c.last_reminded_at ?? c.created_at).getTime();
        const lastDay = c.deadline.getTime() - DAY;
        const due = at.getTime() - last >= every || (at.getTime() >= lastDay && last < lastDay);
        if (!due || at.getTime() >= c.deadline.getTime()) return;
        const owners = await repo.pendingByOwner(q, id);
        if (owners.length === 0) return;
        const hoursLeft = Math.max(1, Math.round((c.deadline.getTime() - at.getTime()) / HOUR));
        const left = hoursLeft >= 48 ? `${Math.round(hoursLeft / 24)} days` : `${hoursLeft} hours`;
        for (const o of owners) {
          await notify.enqueue(q, {
            topic: "review.reminder",
            subject: `Reminder: ${o.pending} grant${o.pending === 1 ? "" : "s"} to review in "${c.name}" (${left} left)`,
            text:
              `The access review "${c.name}" ends ${c.deadline.toISOString()}. ` +
              "Grants still undecided then are revoked.",
            to: { userIds: [o.userId] },
            webhook: false,
            data: { campaignId: id, pending: o.pending },
            refs: [id],
          });
        }
        await repo.markReminded(q, id, at);
        await audit.record(q, systemCtx("access review reminders"), {
          action: "review.remind",
          target: { type: "review", id },
          summary: { owners: owners.length, pending: owners.reduce((s, o) => s + o.pending, 0) },
        });
        reminded++;
      });
    }
    return { reminded };
  }

  /** The campaign for an export, with the export itself recorded (who took evidence, when). */
  async function forExport(ctx: Ctx, id: string, format: "csv" | "html"): Promise<CampaignDetail> {
    const c = await get(ctx, id);
    await audit.recordAlone(ctx, {
      action: "review.campaign.export",
      target: { type: "review", id },
      summary: { format, status: c.status, items: c.items.length },
    });
    return c;
  }

  return { list, get, create, cancel, decide, openScheduled, sweepDeadlines, remind, forExport };
}

export type ReviewsService = ReturnType<typeof createReviewsService>;
