import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildResource, relaxGate } from "../access-fixtures.ts";
import { type GithubFake, startGithubFake } from "../fakes/github-fake.ts";
import { createTestApp, type SignedIn, type TestApp } from "../harness.ts";
import { liveGrant as grantOn, type Live, again as signInAgain } from "../reviews-fixtures.ts";

/**
 * Access reviews through the API on a real store, with a local server that follows GitHub's documented
 * collaborator endpoints as the grants' target: owners keep or revoke with a reason, a revoke removes the
 * collaborator for real, the deadline (moved by the injected clock, run by the scheduler) revokes what
 * nobody decided, owners are reminded, and the finished campaign exports as formula-safe CSV.
 */
let t: TestApp;
let gh: GithubFake;
let owner: SignedIn;
let owner2: SignedIn;
let security: SignedIn;
let auditor: SignedIn;
let vendorId: string;
let repoA: { id: string };
let repoB: { id: string };
/** A grant on a resource no manual campaign covers, that lives into next year. */
let longLived: Live;
let n = 0;
const TOKEN = "ghp_review_token_0123456789abcdef";
const DAY = 86_400_000;

const github = (owners: string[]) => ({
  kind: "github",
  environment: "staging",
  dataClass: "internal",
  owners,
  // Long grants, so they outlive a review's deadline (and a quarter boundary).
  maxDurationMinutes: 525_600,
  connector: { apiUrl: gh.url, owner: "acme", repo: "api", token: TOKEN },
  name: `review-repo-${++n}`,
});

const liveGrant = (resource: { id: string }, approver: SignedIn, developer: Record<string, unknown> = {}) =>
  grantOn(t, gh, resource, approver, { developer });
const again = (s: SignedIn) => signInAgain(t, s);

const campaign = (who: SignedIn, body: Record<string, unknown>) =>
  who.client.post("/api/v1/reviews/campaigns", {
    name: `Review ${++n}`,
    deadline: new Date(t.clock.now().getTime() + 7 * DAY).toISOString(),
    ...body,
  });
const itemOf = (c: { items: { grantId: string; id: string }[] }, l: Live) =>
  c.items.find((i) => i.grantId === l.grantId)!;
const decide = (who: SignedIn, campaignId: string, itemId: string, body: Record<string, unknown>) =>
  who.client.post(`/api/v1/reviews/campaigns/${campaignId}/items/${itemId}/decision`, body);
const grantState = async (id: string) =>
  (
    await t.store.query<{ state: string; end_reason: string | null }>(
      "select state, end_reason from access_grants where id = $1",
      [id],
    )
  ).rows[0]!;
const topics = async (topic: string) =>
  (
    await t.store.query<{ subject: string; data: Record<string, unknown> }>(
      "select subject, data from notifications where topic = $1 order by created_at",
      [topic],
    )
  ).rows;

beforeAll(async () => {
  t = await createTestApp({ env: { WARDEN_REVIEW_REMINDER_DAYS: "3" } });
  gh = await startGithubFake({ token: TOKEN, owner: "acme", repo: "api" });
  await relaxGate(t);
  owner = await t.signIn("manager");
  owner2 = await t.signIn("manager");
  security = await t.signIn("security");
  auditor = await t.signIn("auditor");
  vendorId = (await t.buildVendor()).id;
  repoA = await buildResource(t, github([owner.userId]));
  repoB = await buildResource(t, github([owner2.userId]));
  longLived = await liveGrant(await buildResource(t, github([owner.userId])), owner);
}, 180_000);
afterAll(async () => {
  await gh?.close();
  await t?.close();
});

describe("opening a campaign", () => {
  it("covers exactly the live grants in scope and tells each owner how many wait for them", async () => {
    const a1 = await liveGrant(repoA, owner, { vendorId });
    const a2 = await liveGrant(repoA, owner);
    const b1 = await liveGrant(repoB, owner2, { vendorId });

    const byResource = await campaign(security, { scope: { resourceId: repoA.id } });
    expect(byResource.status).toBe(201);
    expect(byResource.body.items.map((i: { grantId: string }) => i.grantId).sort()).toEqual(
      [a1.grantId, a2.grantId].sort(),
    );
    expect(byResource.body.counts).toMatchObject({ total: 2, undecided: 2 });
    expect(byResource.body.status).toBe("open");

    const byVendor = await campaign(security, { scope: { vendorId } });
    expect(byVendor.body.items.map((i: { grantId: string }) => i.grantId).sort()).toEqual(
      [a1.grantId, b1.grantId].sort(),
    );
    expect(byVendor.body.items.every((i: { vendor: { id: string } }) => i.vendor.id === vendorId)).toBe(true);

    const opened = (await topics("review.campaign.opened")).filter(
      (m) => m.data.campaignId === byVendor.body.id,
    );
    expect(opened.map((m) => m.subject)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/1 grant to review$/),
        expect.stringMatching(/opened with 2 grants/),
      ]),
    );

    // Each manager sees the items they may decide: their own resource's.
    const asOwner2 = await owner2.client.get(`/api/v1/reviews/campaigns/${byVendor.body.id}?reviewer=me`);
    expect(asOwner2.body.items.map((i: { grantId: string }) => i.grantId)).toEqual([b1.grantId]);
    expect(asOwner2.body.mine).toBe(1);
  });

  it("refuses a deadline in the past and an unknown vendor, naming the field", async () => {
    const past = await campaign(security, { deadline: "2026-01-01T00:00:00Z" });
    expect(past.status).toBe(400);
    expect(past.headers["content-type"]).toContain("application/problem+json");
    expect(past.body.errors[0].field).toBe("body/deadline");
    const vendor = await campaign(security, { scope: { vendorId: "00000000-0000-4000-8000-000000000000" } });
    expect(vendor.status).toBe(400);
    expect(vendor.body.errors[0].field).toBe("body/scope/vendorId");
    const manager = await campaign(owner, {});
    expect(manager.status).toBe(403);
  });
});

describe("deciding", () => {
  it("revokes for real when an owner says so, keeps with a reason, and lets no one else decide", async () => {
    const keep = await liveGrant(repoA, owner);
    const drop = await liveGrant(repoA, owner);
    const c = (await campaign(security, { scope: { resourceId: repoA.id } })).body;

    const stranger = await decide(owner2, c.id, itemOf(c, drop).id, {
      decision: "revoke",
      reason: "not mine",
    });
    expect(stranger.status).toBe(403);
    const readOnly = await decide(auditor, c.id, itemOf(c, drop).id, {
      decision: "revoke",
      reason: "auditing",
    });
    expect(readOnly.status).toBe(403);
    const noReason = await decide(owner, c.id, itemOf(c, drop).id, { decision: "revoke" });
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors[0].field).toBe("body/reason");

    const revoked = await decide(owner, c.id, itemOf(c, drop).id, {
      decision: "revoke",
      reason: "Left the checkout team",
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ decision: "revoke", outcome: "revoked", canDecide: false });
    expect(gh.collaborators.has(drop.login)).toBe(false);
    expect(await grantState(drop.grantId)).toEqual({ state: "revoked", end_reason: "review" });
    const again2 = await decide(owner, c.id, itemOf(c, drop).id, {
      decision: "keep",
      reason: "changed my mind",
    });
    expect(again2.status).toBe(409);

    const kept = await decide(owner, c.id, itemOf(c, keep).id, {
      decision: "keep",
      reason: "Still on the team",
    });
    expect(kept.body).toMatchObject({ decision: "keep", outcome: null });
    expect(gh.collaborators.has(keep.login)).toBe(true);

    // Every grant of the resource in this campaign is decided: the campaign is complete; earlier
    // grants of repoA belong to it too, so decide them first.
    const detail = (await owner.client.get(`/api/v1/reviews/campaigns/${c.id}?undecided=true`)).body;
    for (const i of detail.items) {
      expect((await decide(owner, c.id, i.id, { decision: "keep", reason: "Reviewed" })).status).toBe(200);
    }
    const done = (await owner.client.get(`/api/v1/reviews/campaigns/${c.id}`)).body;
    expect(done.status).toBe("completed");
    expect(done.items.every((i: { outcome: string }) => ["kept", "revoked"].includes(i.outcome))).toBe(true);
    const late = await decide(owner, c.id, itemOf(c, keep).id, { decision: "revoke", reason: "too late" });
    expect(late.status).toBe(409);

    const actions = (
      await t.store.query<{ action: string }>(
        "select action from log_events where kind = 'audit' and resource_id = $1 order by idx",
        [c.id],
      )
    ).rows.map((r) => r.action);
    expect(actions[0]).toBe("review.campaign.create");
    expect(actions).toContain("review.decide");
    expect(actions.at(-1)).toBe("review.campaign.complete");
  });
});

describe("exporting a campaign", () => {
  it("writes CSV with one row per grant, formula-looking reasons neutralised, and records the export", async () => {
    const l = await liveGrant(repoB, owner2);
    const c = (await campaign(security, { scope: { resourceId: repoB.id } })).body;
    for (const i of c.items) {
      const reason = i.grantId === l.grantId ? '=HYPERLINK("http://evil.example","x")' : "Reviewed";
      expect((await decide(owner2, c.id, i.id, { decision: "keep", reason })).status).toBe(200);
    }
    const csv = await auditor.client.get(`/api/v1/reviews/campaigns/${c.id}/export.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.headers["content-disposition"]).toMatch(/^attachment; filename="review-\d+\.csv"$/);
    const text = String(csv.body).replace(/^\uFEFF/, "");
    const lines = text.split("\r\n").filter(Boolean);
    expect(lines).toHaveLength(1 + c.items.length);
    expect(lines[0]!.split(",").slice(0, 6)).toEqual([
      "campaign_id",
      "campaign_name",
      "campaign_status",
      "deadline",
      "grant_id",
      "developer",
    ]);
    const row = lines.find((line) => line.includes(l.grantId))!;
    expect(row).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(row).toContain(",kept,");
    expect(row).not.toMatch(/,=/);

    const html = await auditor.client.get(`/api/v1/reviews/campaigns/${c.id}/report`);
    expect(html.status).toBe(200);
    expect(html.headers["content-type"]).toBe("text/html; charset=utf-8");
    const page = String(html.body);
    expect(page).toContain("Completed");
    expect(page).not.toMatch(/<script/i);

    const exports = await t.store.query<{ summary: { format: string } }>(
      "select (entry::jsonb)->'summary' as summary from log_events where kind = 'audit' and action = 'review.campaign.export' and resource_id = $1 order by idx",
      [c.id],
    );
    expect(exports.rows.map((r) => r.summary.format)).toEqual(["csv", "html"]);
  });
});

describe("the deadline and reminders (scheduler with an injected clock)", () => {
  it("reminds owners of undecided grants, then revokes them at the deadline and keeps the kept", async () => {
    const kept = await liveGrant(repoB, owner2);
    const undecided = await liveGrant(repoB, owner2);
    const c = (
      await campaign(security, {
        scope: { resourceId: repoB.id },
        deadline: new Date(t.clock.now().getTime() + 7 * DAY).toISOString(),
      })
    ).body;
    for (const i of c.items) {
      if (i.grantId === undecided.grantId) continue;
      expect((await decide(owner2, c.id, i.id, { decision: "keep", reason: "Needed" })).status).toBe(200);
    }
    const remindersBefore = (await topics("review.reminder")).length;

    // Day 3: the first reminder; an hour later, none again.
    t.clock.advance(3 * DAY);
    await t.app.scheduler.tick();
    const first = (await topics("review.reminder")).filter((m) => m.data.campaignId === c.id);
    expect(first).toHaveLength(1);
    expect(first[0]!.subject).toMatch(/^Reminder: 1 grant to review in "Review \d+" \(4 days left\)$/);
    t.clock.advance(3600_000);
    await t.app.scheduler.tick();
    expect((await topics("review.reminder")).filter((m) => m.data.campaignId === c.id)).toHaveLength(1);
    expect((await topics("review.reminder")).length).toBeGreaterThan(remindersBefore);

    // Not yet at the deadline: nothing revoked.
    expect(gh.collaborators.has(undecided.login)).toBe(true);

    // Past the deadline, the scheduler's next run revokes the undecided grant through the connector.
    t.clock.set(new Date(Date.parse(c.deadline) + 30_000));
    await t.app.scheduler.tick();
    expect(gh.collaborators.has(undecided.login)).toBe(false);
    expect(gh.collaborators.has(kept.login)).toBe(true);
    expect(await grantState(undecided.grantId)).toEqual({ state: "revoked", end_reason: "review" });
    expect((await grantState(kept.grantId)).state).toBe("active");

    const sec = await again(security);
    const done = (await sec.client.get(`/api/v1/reviews/campaigns/${c.id}`)).body;
    expect(done.status).toBe("completed");
    expect(itemOf(done, undecided)).toMatchObject({ decision: null, outcome: "revoked_at_deadline" });
    expect(itemOf(done, kept)).toMatchObject({ decision: "keep", outcome: "kept" });
    expect(done.counts).toMatchObject({ revokedAtDeadline: 1, undecided: 0 });
    const tasks = (await sec.client.get("/api/v1/scheduler/tasks")).body.items;
    expect(tasks.find((x: { name: string }) => x.name === "reviews.deadline").lastOutcome).toBe("ok");
  });
});

describe("the quarterly schedule", () => {
  it("opens one campaign per quarter over the grants that outlived the quarter's start", async () => {
    t.clock.set("2027-01-01T00:30:00Z");
    await t.app.scheduler.tick();
    t.clock.advance(3600_000);
    await t.app.scheduler.tick();
    const rows = (
      await t.store.query<{ id: string; name: string; period: string }>(
        "select id, name, period from review_campaigns where origin = 'scheduled'",
      )
    ).rows;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: "Access review 2027-Q1", period: "2027-Q1" });
    const sec = await again(security);
    const c = (await sec.client.get(`/api/v1/reviews/campaigns/${rows[0]!.id}`)).body;
    expect(c.items.map((i: { grantId: string }) => i.grantId)).toContain(longLived.grantId);
    expect(c.origin).toBe("scheduled");
    expect(Date.parse(c.deadline) - Date.parse("2027-01-01T00:30:00Z")).toBe(14 * DAY);
  });
});
