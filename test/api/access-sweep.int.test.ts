import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ACCESS_SWEEP_EVERY_MS } from "../../src/access/index.ts";
import { systemCtx } from "../../src/core/context.ts";
import {
  adminClient,
  ask,
  auditActions,
  buildResource,
  eligibleDeveloper,
  notificationTopics,
  relaxGate,
  type TokenAccount,
  tokenAccount,
} from "../access-fixtures.ts";
import { type GithubFake, startGithubFake } from "../fakes/github-fake.ts";
import { createTestApp, type TestApp } from "../harness.ts";

/**
 * The access sweep with an injected clock: grants end on time, a lapsed agreement or an ended
 * engagement takes access away, pending requests expire, and a connector that fails is retried with
 * backoff until it recovers. The Git host is a local server following GitHub's collaborator API.
 * Clock moves outlive browser sessions, so checks after a move read the services directly.
 */
let t: TestApp;
let gh: GithubFake;
let owner: TokenAccount;
let n = 0;
const TOKEN = "ghp_sweep_token_0123456789";
const START = "2026-11-02T10:00:00.000Z";

const developer = (o: Parameters<typeof eligibleDeveloper>[1] = {}) =>
  eligibleDeveloper(t, { ...o, developer: { gitUsernames: { github: `sweep-dev-${++n}` }, ...o.developer } });
const resource = (o: Record<string, unknown> = {}) =>
  buildResource(t, {
    name: `sweep-repo-${++n}`,
    kind: "github",
    environment: "staging",
    dataClass: "internal",
    owners: [owner.userId],
    maxDurationMinutes: 2880,
    connector: { apiUrl: gh.url, owner: "acme", repo: "web", token: TOKEN },
    ...o,
  });
const grant = (id: string) => t.app.access.grants.get(id);
const onGitHub = (login: string) =>
  gh.collaborators.has(login.toLowerCase()) || [...gh.invitations.values()].some((i) => i.login === login);
async function approved(devId: Awaited<ReturnType<typeof developer>>, resourceId: string, minutes: number) {
  const req = await ask(devId, { resourceId, durationMinutes: minutes });
  const r = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "ok" });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return r.body.grantId as string;
}
const sweep = () => t.app.scheduler.runNow("access.sweep");

beforeAll(async () => {
  // SMTP is configured (a closed port: nothing is delivered) so notifications name their recipients.
  t = await createTestApp({
    now: START,
    env: { WARDEN_SMTP_URL: "smtp://127.0.0.1:9", WARDEN_SMTP_FROM: "warden@example.test" },
  });
  gh = await startGithubFake({ token: TOKEN, owner: "acme", repo: "web", now: () => t.clock.now() });
  await relaxGate(t);
  owner = await tokenAccount(t, "manager");
}, 120_000);
beforeEach(() => {
  // Each test starts at the same instant (earlier tests moved the clock).
  t.clock.set(START);
});
afterAll(async () => {
  await gh?.close();
  await t?.close();
});

describe("the access sweep", () => {
  it("runs often enough that every cause takes effect within a minute", async () => {
    expect(ACCESS_SWEEP_EVERY_MS).toBeLessThanOrEqual(30_000);
    const tasks = await (await adminClient(t)).get("/api/v1/scheduler/tasks");
    expect(tasks.body.items.find((x: { name: string }) => x.name === "access.sweep").everyMs).toBe(
      ACCESS_SWEEP_EVERY_MS,
    );
  });

  it("ends a grant on time and removes the collaborator", async () => {
    const dev = await developer();
    const res = await resource();
    const id = await approved(dev, res.id, 60);
    const login = `sweep-dev-${n - 1}`;
    expect((await grant(id)).state).toBe("active");
    expect(onGitHub(login)).toBe(true);
    await t.app.scheduler.tick(); // the sweep's regular run now; the next is due 15 s later
    t.clock.set(new Date(new Date((await grant(id)).endsAt).getTime() + ACCESS_SWEEP_EVERY_MS));
    const runs = await t.app.scheduler.tick();
    expect(runs.find((r) => r.name === "access.sweep")?.summary).toMatchObject({ expired: 1, removed: 1 });
    const g = await grant(id);
    expect(g).toMatchObject({ state: "expired", endReason: "expired", live: false, secondsLeft: 0 });
    expect(onGitHub(login)).toBe(false);
    expect(await auditActions(t, id)).toEqual(
      expect.arrayContaining(["access.grant.expire", "access.grant.removed"]),
    );
  });

  it("starts a grant with a scheduled start when its time comes", async () => {
    const dev = await developer();
    const res = await resource();
    const startsAt = new Date(new Date(START).getTime() + 3600_000).toISOString();
    const req = await ask(dev, { resourceId: res.id, durationMinutes: 60, startsAt });
    const ok = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, {
      reason: "tomorrow's deploy",
    });
    const id = ok.body.grantId as string;
    expect(await grant(id)).toMatchObject({ state: "approved", startsAt });
    expect(onGitHub(`sweep-dev-${n - 1}`)).toBe(false);
    t.clock.set(startsAt);
    await sweep();
    expect(await grant(id)).toMatchObject({ state: "active" });
    expect(onGitHub(`sweep-dev-${n - 1}`)).toBe(true);
  });

  it("expires a pending request nobody decided within a day", async () => {
    const dev = await developer();
    const res = await resource();
    const req = await ask(dev, { resourceId: res.id });
    t.clock.advance(24 * 3600_000 + 1000);
    await sweep();
    const r = await t.app.access.requests.get(systemCtx(), req.id);
    expect(r.status).toBe("expired");
    expect(await auditActions(t, req.id)).toContain("access.request.expire");
  });

  it("revokes when an agreement lapses (the gate closes)", async () => {
    const dev = await developer({ ndaExpiresOn: "2026-11-03" });
    const res = await resource();
    const id = await approved(dev, res.id, 1440);
    t.clock.set("2026-11-02T23:59:50Z");
    await sweep();
    expect((await grant(id)).state).toBe("active");
    t.clock.set("2026-11-03T00:00:05Z");
    await sweep();
    const g = await grant(id);
    expect(g).toMatchObject({ state: "revoked", endReason: "gate" });
    expect(g.endDetail).toContain("NDA");
    expect(g.endDetail).toContain("expired on 2026-11-03");
    expect(onGitHub(`sweep-dev-${n - 1}`)).toBe(false);
  });

  it("offboards: the end of the engagement ends every grant of it", async () => {
    const dev = await developer({ endsOn: "2026-11-03" });
    const a = await resource();
    const b = await resource();
    const ids = [await approved(dev, a.id, 1440), await approved(dev, b.id, 1440)];
    t.clock.set("2026-11-03T00:00:10Z");
    const run = await sweep();
    expect(run.summary).toMatchObject({ revoked: 2, revoked_offboarded: 2 });
    for (const id of ids)
      expect(await grant(id)).toMatchObject({ state: "revoked", endReason: "offboarded" });
  });

  it("offboards a developer whose record is offboarded", async () => {
    const dev = await developer();
    const res = await resource();
    const id = await approved(dev, res.id, 120);
    const r = await (await adminClient(t)).patch(`/api/v1/developers/${dev.id}`, { status: "offboarded" });
    expect(r.status).toBe(200);
    await sweep();
    expect(await grant(id)).toMatchObject({ state: "revoked", endReason: "offboarded" });
  });

  it("revokes grants the policies no longer allow, naming the policy", async () => {
    const dev = await developer();
    const res = await resource();
    const id = await approved(dev, res.id, 120);
    const admin = await adminClient(t);
    const text = (await admin.get("/api/v1/access/policies")).body.text as string;
    const saved = await admin.put("/api/v1/access/policies", {
      text: `${text}\n@id("no-git")\nforbid (principal, action, resource is Warden::Resource) when { resource.kind == Warden::ResourceKind::"github" };\n`,
    });
    expect(saved.status).toBe(200);
    try {
      await sweep();
      const g = await grant(id);
      expect(g).toMatchObject({ state: "revoked", endReason: "policy" });
      expect(g.endDetail).toContain("no-git");
    } finally {
      await admin.put("/api/v1/access/policies", { text });
    }
  });
});

describe("connector failures are retried, shown and raised", () => {
  it("retries a failing provisioning with backoff until the connector recovers", async () => {
    const dev = await developer();
    const res = await resource();
    gh.failNext({ status: 503, json: { message: "Service unavailable" } }, 1);
    const id = await approved(dev, res.id, 120);
    const failed = await grant(id);
    expect(failed).toMatchObject({ state: "failed", failedOp: "provision", attempts: 1, live: true });
    expect(failed.lastError).toMatch(/503/);
    expect(new Date(failed.nextAttemptAt!).getTime()).toBe(new Date(START).getTime() + 15_000);
    expect(await auditActions(t, id)).toContain("access.grant.failed");
    const note = (
      await t.store.query<{ topic: string; data: { grantId: string } }>(
        "select topic, data from notifications where topic = 'access.grant.failed'",
      )
    ).rows;
    expect(note.map((x) => x.data.grantId)).toContain(id);

    t.clock.advance(10_000);
    await sweep();
    expect((await grant(id)).state).toBe("failed"); // not yet due
    t.clock.advance(6_000);
    await sweep();
    expect(await grant(id)).toMatchObject({ state: "active", attempts: 0, lastError: null });
    expect(onGitHub(`sweep-dev-${n - 1}`)).toBe(true);
  });

  it("keeps retrying a failing revocation; the grant stays live until the access is really gone", async () => {
    const dev = await developer();
    const res = await resource();
    const id = await approved(dev, res.id, 120);
    gh.failNext({ status: 502, json: { message: "Bad gateway" } }, 2);
    const r = await t.app.access.grants.revoke(systemCtx("test"), id, "No longer needed");
    expect(r).toMatchObject({ state: "failed", failedOp: "revoke", live: true, endReason: "revoked" });
    expect(onGitHub(`sweep-dev-${n - 1}`)).toBe(true);
    t.clock.advance(15_000);
    await sweep();
    expect(await grant(id)).toMatchObject({ state: "failed", attempts: 2 });
    t.clock.advance(30_000);
    await sweep();
    expect(await grant(id)).toMatchObject({ state: "revoked", live: false });
    expect(onGitHub(`sweep-dev-${n - 1}`)).toBe(false);
  });

  it("gives up on a provisioning only a person can fix, and shows why", async () => {
    const dev = await eligibleDeveloper(t); // no GitHub username on record
    const res = await resource();
    const req = await ask(dev, { resourceId: res.id, durationMinutes: 60 });
    const a = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "ok" });
    const g = await grant(a.body.grantId);
    expect(g).toMatchObject({ state: "failed", failedOp: "provision", nextAttemptAt: null });
    expect(g.lastError).toMatch(/GitHub username/i);
    const removed = await owner.client.post(`/api/v1/access/grants/${g.id}/revoke`, {
      reason: "cannot provision",
    });
    expect(removed.body.state).toBe("revoked");
  });
});

describe("pending invitations are followed up", () => {
  const DAY = 86_400_000;
  /** A repository on which grants may last a month (GitHub expires invitations after 7 days). */
  const longResource = () => resource({ maxDurationMinutes: 30 * 24 * 60 });
  /** Where a notification's e-mails go (SMTP is configured for this file; nothing is sent). */
  const recipientsOf = async (topic: string, grantId: string) =>
    (
      await t.store.query<{ target: string }>(
        `select d.target from notification_deliveries d join notifications n on n.id = d.notification_id
         where n.topic = $1 and $2 = any(n.refs) and d.channel = 'email' order by d.target`,
        [topic, grantId],
      )
    ).rows.map((r) => r.target);
  const emailOfUser = async (id: string) =>
    (await t.store.query<{ email: string }>("select email from users where id = $1", [id])).rows[0]!.email;
  const emailOfDeveloper = async (id: string) =>
    (await t.store.query<{ email: string }>("select email from developers where id = $1", [id])).rows[0]!
      .email;
  /** When the sweep last asked GitHub about the grant's invitation. */
  const checkedAt = async (id: string) =>
    new Date(
      (
        await t.store.query<{ at: Date }>(
          "select external_checked_at as at from access_grants where id = $1",
          [id],
        )
      ).rows[0]!.at,
    );
  const invitationsOf = (login: string) => [...gh.invitations.entries()].filter(([, i]) => i.login === login);

  it("reminds, re-sends once when GitHub expires the invitation, then shows it expired and tells everyone concerned", async () => {
    const dev = await developer();
    const login = `sweep-dev-${n}`;
    const res = await longResource();
    const id = await approved(dev, res.id, 20 * 24 * 60);
    expect(await grant(id)).toMatchObject({ state: "active", externalState: "pending" });
    const [[firstInvitation]] = invitationsOf(login) as [[number, unknown]];

    // Minutes later: asked, still pending, nothing to say.
    t.clock.advance(11 * 60_000);
    await sweep();
    expect(await checkedAt(id)).toEqual(t.clock.now());
    expect(await grant(id)).toMatchObject({ externalState: "pending" });
    expect(await notificationTopics(t)).not.toContain("access.invitation.reminder");

    // Three days on: one reminder to the developer.
    t.clock.set(new Date(new Date(START).getTime() + 3 * DAY + 60_000));
    await sweep();
    expect(await recipientsOf("access.invitation.reminder", id)).toEqual([await emailOfDeveloper(dev.id)]);
    t.clock.advance(11 * 60_000);
    await sweep();
    expect(await recipientsOf("access.invitation.reminder", id)).toHaveLength(1);

    // Seven days on, GitHub expired it: a new one is sent (the old one deleted), once.
    t.clock.set(new Date(new Date(START).getTime() + 7 * DAY + 60_000));
    expect((await sweep()).summary).toMatchObject({ invitationsResent: 1 });
    const [[secondInvitation]] = invitationsOf(login) as [[number, unknown]];
    expect(secondInvitation).not.toBe(firstInvitation);
    expect(gh.invitations.has(firstInvitation)).toBe(false);
    expect(await grant(id)).toMatchObject({
      externalState: "pending",
      details: { invitationId: secondInvitation },
    });
    expect(await recipientsOf("access.invitation.resent", id)).toEqual([await emailOfDeveloper(dev.id)]);
    expect(await auditActions(t, id)).toContain("access.grant.invitation_resent");

    // Expired again: no third invitation; the grant shows it, and developer, requester and owner hear.
    t.clock.set(new Date(new Date(START).getTime() + 14 * DAY + 2 * 60_000));
    expect((await sweep()).summary).toMatchObject({ invitationsResent: 0, invitationsExpired: 1 });
    expect(invitationsOf(login).map(([k]) => k)).toEqual([secondInvitation]);
    const shown = await grant(id);
    expect(shown).toMatchObject({ state: "active", externalState: "invitation_expired" });
    expect(await auditActions(t, id)).toContain("access.grant.invitation_expired");
    expect(await recipientsOf("access.invitation.expired", id)).toEqual(
      [
        await emailOfDeveloper(dev.id),
        await emailOfUser(dev.account.userId), // the requester (here the developer's own account)
        await emailOfUser(owner.userId),
      ].sort(),
    );
    // Not asked about any more.
    const lastAsked = await checkedAt(id);
    t.clock.advance(11 * 60_000);
    await sweep();
    expect(await checkedAt(id)).toEqual(lastAsked);
    // When the grant ends, the expired invitation left on GitHub is deleted too.
    await t.app.access.grants.revoke(systemCtx("test"), id, "Never accepted");
    expect(invitationsOf(login)).toEqual([]);
  });

  it("shows the access active once the developer accepts", async () => {
    const dev = await developer();
    const login = `sweep-dev-${n}`;
    const id = await approved(dev, (await longResource()).id, 3 * 24 * 60);
    gh.accept(login);
    t.clock.advance(11 * 60_000);
    expect((await sweep()).summary).toMatchObject({ invitationsAccepted: 1 });
    expect(await grant(id)).toMatchObject({ externalState: "active" });
    expect(await auditActions(t, id)).toContain("access.grant.invitation_accepted");
  });

  it("tells the developer and the requester when the invitation is declined", async () => {
    const dev = await developer();
    const login = `sweep-dev-${n}`;
    const id = await approved(dev, (await longResource()).id, 3 * 24 * 60);
    gh.decline(login);
    t.clock.advance(11 * 60_000);
    await sweep();
    expect(await grant(id)).toMatchObject({ state: "active", externalState: "absent" });
    expect(await auditActions(t, id)).toContain("access.grant.invitation_gone");
    expect(await recipientsOf("access.invitation.gone", id)).toContain(await emailOfDeveloper(dev.id));
  });

  it("deletes the invitation on GitHub when the grant ends while it is still pending", async () => {
    const dev = await developer();
    const login = `sweep-dev-${n}`;
    const id = await approved(dev, (await longResource()).id, 60);
    const [[invitation]] = invitationsOf(login) as [[number, unknown]];
    t.clock.advance(61 * 60_000);
    expect((await sweep()).summary).toMatchObject({ expired: 1, removed: 1 });
    expect(await grant(id)).toMatchObject({ state: "expired" });
    expect(gh.requests.map((r) => `${r.method} ${r.path}`)).toContain(
      `DELETE /repos/acme/web/invitations/${invitation}`,
    );
    expect(invitationsOf(login)).toEqual([]);
    gh.accept(login); // too late: nothing to accept
    expect(gh.collaborators.has(login)).toBe(false);
  });
});
