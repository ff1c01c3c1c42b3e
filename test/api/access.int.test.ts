import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../src/connectors/index.ts";
import {
  adminClient,
  ask,
  auditActions,
  buildResource,
  type EligibleDeveloper,
  eligibleDeveloper,
  notificationTopics,
  relaxGate,
  setScope,
  type TokenAccount,
  tokenAccount,
} from "../access-fixtures.ts";
import { type GithubFake, startGithubFake } from "../fakes/github-fake.ts";
import { createTestApp, type TestApp } from "../harness.ts";

/**
 * Least-privilege access through the API on a real store, with a local server that follows GitHub's
 * documented collaborator endpoints as the connector's target: the catalog keeps its secrets, requests
 * are decided by the Cedar policies and the resource owners, grants are provisioned and revoked for
 * real on the Git host, break-glass alerts security.
 */
let t: TestApp;
let gh: GithubFake;
let owner: TokenAccount;
let owner2: TokenAccount;
let security: TokenAccount;
let outsider: TokenAccount;
let n = 0;
const TOKEN = "ghp_test_token_0123456789abcdef";

const github = (o: Record<string, unknown> = {}) => ({
  kind: "github",
  environment: "staging",
  dataClass: "internal",
  owners: [owner.userId],
  connector: { apiUrl: gh.url, owner: "acme", repo: "api", token: TOKEN },
  ...o,
  name: `repo-${++n}`,
});
const developer = (o: Parameters<typeof eligibleDeveloper>[1] = {}) =>
  eligibleDeveloper(t, { ...o, developer: { gitUsernames: { github: `octo-dev-${++n}` } } });

beforeAll(async () => {
  t = await createTestApp();
  gh = await startGithubFake({ token: TOKEN, owner: "acme", repo: "api" });
  await relaxGate(t);
  owner = await tokenAccount(t, "manager");
  owner2 = await tokenAccount(t, "manager");
  security = await tokenAccount(t, "security");
  outsider = await tokenAccount(t, "manager");
}, 120_000);
afterAll(async () => {
  await gh?.close();
  await t?.close();
});

describe("the resource catalog", () => {
  it("seals connector secrets at rest and never returns them", async () => {
    const r = await buildResource(t, github());
    expect(r.connector.type).toBe("github");
    expect(r.connector.secretsSet).toEqual(["token"]);
    expect(r.connector.settings.token).toBeUndefined();
    expect(JSON.stringify(r)).not.toContain(TOKEN);
    const row = (
      await t.store.query<{ connector_settings: unknown; connector_secrets: Uint8Array }>(
        "select connector_settings, connector_secrets from access_resources where id = $1",
        [r.id],
      )
    ).rows[0]!;
    expect(JSON.stringify(row.connector_settings)).not.toContain(TOKEN);
    expect(Buffer.from(row.connector_secrets).toString("latin1")).not.toContain(TOKEN);
    const list = await (await adminClient(t)).get("/api/v1/access/resources?limit=200");
    expect(JSON.stringify(list.body)).not.toContain(TOKEN);
    // Changing other settings keeps the sealed token (the grant below still reaches the fake).
    const patched = await (await adminClient(t)).patch(`/api/v1/access/resources/${r.id}`, {
      connector: { apiUrl: gh.url, owner: "acme", repo: "api", permissions: { read: "triage" } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.connector.secretsSet).toEqual(["token"]);
    expect(patched.body.connector.settings.permissions.read).toBe("triage");
  });

  it("names the field at fault in invalid connector settings and owners", async () => {
    const bad = await (await adminClient(t)).post("/api/v1/access/resources", {
      ...github({ connector: { apiUrl: gh.url, owner: "acme corp", repo: "api", token: TOKEN } }),
      levels: ["read"],
    });
    expect(bad.status).toBe(400);
    expect(bad.headers["content-type"]).toContain("application/problem+json");
    expect(bad.body.errors[0].field).toBe("body/connector/owner");
    const auditor = await tokenAccount(t, "auditor");
    const notOwner = await (await adminClient(t)).post("/api/v1/access/resources", {
      ...github({ owners: [auditor.userId] }),
      levels: ["read"],
    });
    expect(notOwner.status).toBe(400);
    expect(notOwner.body.errors[0].field).toBe("body/owners");
  });

  it("shows developers the catalog without connector settings or owners", async () => {
    await buildResource(t, github());
    const dev = await developer();
    const r = await dev.account.client.get("/api/v1/me/access/resources?limit=200");
    expect(r.status).toBe(200);
    expect(r.body.items.length).toBeGreaterThan(0);
    expect(r.body.items[0].connector).toBeUndefined();
    expect(r.body.items[0].owners).toBeUndefined();
    expect(JSON.stringify(r.body)).not.toContain(gh.url);
  });
});

describe("requests, approvals and grants", () => {
  let dev: EligibleDeveloper;
  let resource: { id: string };

  beforeAll(async () => {
    dev = await developer();
    resource = await buildResource(t, github());
  });

  it("caps the duration by the resource and offers only its levels", async () => {
    const long = await dev.account.client.post("/api/v1/me/access/requests", {
      resourceId: resource.id,
      level: "read",
      durationMinutes: 600,
      reason: "Investigate a bug",
    });
    expect(long.status).toBe(400);
    expect(long.body.errors[0]).toEqual({
      field: "body/durationMinutes",
      message: expect.stringMatching(/at most 480/),
    });
    const admin = await dev.account.client.post("/api/v1/me/access/requests", {
      resourceId: resource.id,
      level: "admin",
      durationMinutes: 60,
      reason: "Investigate a bug",
    });
    expect(admin.status).toBe(400);
    expect(admin.body.errors[0].field).toBe("body/level");
  });

  it("goes from request to an owner's approval to a real collaborator invitation, and revocation removes it", async () => {
    const req = await ask(dev, { resourceId: resource.id, reason: "Fix issue #42" });
    expect(req.status).toBe("pending");
    expect(req.requiredApprovals).toBe(1);
    expect(req.needsSecurity).toBe(false);
    expect(req.decision.policies).toEqual(["eligible-may-request"]);

    const inbox = await owner.client.get("/api/v1/access/requests?approver=me");
    expect(inbox.body.items.map((r: { id: string }) => r.id)).toContain(req.id);
    expect(inbox.body.items.find((r: { id: string }) => r.id === req.id).canDecide).toBe(true);
    const notMine = await outsider.client.get("/api/v1/access/requests?approver=me");
    expect(notMine.body.items.map((r: { id: string }) => r.id)).not.toContain(req.id);

    const noReason = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, {});
    expect(noReason.status).toBe(400);
    const stranger = await outsider.client.post(`/api/v1/access/requests/${req.id}/approve`, {
      reason: "ok",
    });
    expect(stranger.status).toBe(403);

    const approved = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, {
      reason: "Needed for the sprint",
    });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe("approved");
    expect(approved.body.decision.policies).toEqual(["owner-approved"]);
    expect(approved.body.approvals[0]).toMatchObject({ decision: "approve", capacities: ["owner"] });

    const grant = (await owner.client.get(`/api/v1/access/grants/${approved.body.grantId}`)).body;
    expect(grant.state).toBe("active");
    expect(grant.externalState).toBe("pending");
    expect(grant.secondsLeft).toBe(3600);
    const login = (
      await t.store.query<{ git_usernames: { github: string } }>(
        "select git_usernames from developers where id = $1",
        [dev.id],
      )
    ).rows[0]!.git_usernames.github;
    expect([...gh.invitations.values()].map((i) => i.login)).toContain(login);

    const mine = await dev.account.client.get("/api/v1/me/access/grants?live=true");
    expect(mine.body.items.map((g: { id: string }) => g.id)).toContain(grant.id);

    const revoked = await owner.client.post(`/api/v1/access/grants/${grant.id}/revoke`, {
      reason: "Sprint is over",
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.state).toBe("revoked");
    expect(revoked.body.endReason).toBe("revoked");
    expect([...gh.invitations.values()].map((i) => i.login)).not.toContain(login);
    expect(gh.collaborators.has(login.toLowerCase())).toBe(false);
    expect(await auditActions(t, grant.id)).toEqual([
      "access.grant.create",
      "access.grant.provisioning",
      "access.grant.activate",
      "access.grant.revoke",
      "access.grant.removed",
    ]);
    expect(await notificationTopics(t)).toEqual(
      expect.arrayContaining([
        "access.request.created",
        "access.request.approved",
        "access.grant.active",
        "access.grant.revoked",
      ]),
    );
    const again = await owner.client.post(`/api/v1/access/grants/${grant.id}/revoke`, { reason: "twice" });
    expect(again.status).toBe(409);
  });

  it("denies with a reason and lets the requester cancel, one pending request at a time", async () => {
    const req = await ask(dev, { resourceId: resource.id });
    const dup = await dev.account.client.post("/api/v1/me/access/requests", {
      resourceId: resource.id,
      level: "read",
      durationMinutes: 30,
      reason: "Second try",
    });
    expect(dup.status).toBe(409);
    const denied = await owner.client.post(`/api/v1/access/requests/${req.id}/deny`, {
      reason: "Use staging data instead",
    });
    expect(denied.body.status).toBe("denied");
    expect(denied.body.decisionReason).toBe("Use staging data instead");
    expect(denied.body.approvals[0]).toMatchObject({ decision: "deny", reason: "Use staging data instead" });
    const late = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, {
      reason: "changed my mind",
    });
    expect(late.status).toBe(409);

    const other = await ask(dev, { resourceId: resource.id });
    const cancelled = await dev.account.client.post(`/api/v1/me/access/requests/${other.id}/cancel`, {});
    expect(cancelled.body.status).toBe("cancelled");
    const someoneElse = await developer();
    const foreign = await someoneElse.account.client.post(
      `/api/v1/me/access/requests/${other.id}/cancel`,
      {},
    );
    expect(foreign.status).toBe(404);
  });

  it("extends a live grant only through a new approval", async () => {
    const first = await ask(dev, { resourceId: resource.id, durationMinutes: 60 });
    const a = await owner.client.post(`/api/v1/access/requests/${first.id}/approve`, { reason: "ok" });
    const grantId = a.body.grantId as string;
    const before = (await owner.client.get(`/api/v1/access/grants/${grantId}`)).body;
    t.clock.advance(20 * 60_000);
    const more = await ask(dev, { resourceId: resource.id, durationMinutes: 120, reason: "Need more time" });
    expect(more.extendsGrant).toBe(true);
    expect(more.grantId).toBe(grantId);
    const still = (await owner.client.get(`/api/v1/access/grants/${grantId}`)).body;
    expect(still.endsAt).toBe(before.endsAt);
    const b = await owner.client.post(`/api/v1/access/requests/${more.id}/approve`, { reason: "fine" });
    expect(b.body.grantId).toBe(grantId);
    const after = (await owner.client.get(`/api/v1/access/grants/${grantId}`)).body;
    expect(after.state).toBe("active");
    expect(new Date(after.endsAt).getTime()).toBe(new Date(t.clock.now()).getTime() + 120 * 60_000);
    expect(await auditActions(t, grantId)).toContain("access.grant.extend");
    await owner.client.post(`/api/v1/access/grants/${grantId}/revoke`, { reason: "done" });
  });
});

describe("the default policies decide, and say which policy did", () => {
  it("needs two approvers and a security officer for write on production", async () => {
    const dev = await developer();
    const prod = await buildResource(
      t,
      github({ environment: "production", owners: [owner.userId, owner2.userId] }),
    );
    const outOfScope = await dev.account.client.post("/api/v1/me/access/requests", {
      resourceId: prod.id,
      level: "read",
      durationMinutes: 30,
      reason: "Look at production",
    });
    expect(outOfScope.status).toBe(403);
    expect(outOfScope.body.detail).toContain("external-staging-default");
    expect(outOfScope.body.policies).toEqual(["external-staging-default"]);

    await setScope(t, dev.engagementId, [prod.id]);
    const req = await ask(dev, { resourceId: prod.id, level: "write", reason: "Hotfix deploy" });
    expect(req.requiredApprovals).toBe(2);
    expect(req.needsSecurity).toBe(true);
    const secInbox = await security.client.get("/api/v1/access/requests?approver=me");
    expect(secInbox.body.items.map((r: { id: string }) => r.id)).toContain(req.id);

    const one = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "ok by me" });
    expect(one.body.status).toBe("pending");
    expect(one.body.decision.policies).toEqual(
      expect.arrayContaining(["sensitive-needs-security", "production-write-two-approvers"]),
    );
    const twice = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "again" });
    expect(twice.status).toBe(409);
    const two = await owner2.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "ok too" });
    expect(two.body.status).toBe("pending");
    expect(two.body.decision.policies).toEqual(["sensitive-needs-security"]);
    const three = await security.client.post(`/api/v1/access/requests/${req.id}/approve`, {
      reason: "security ok",
    });
    expect(three.body.status).toBe("approved");
    expect(three.body.approvals.map((a: { capacities: string[] }) => a.capacities)).toEqual([
      ["owner"],
      ["owner"],
      ["security"],
    ]);
    const grant = (await owner.client.get(`/api/v1/access/grants/${three.body.grantId}`)).body;
    expect(grant).toMatchObject({ state: "active", level: "write", approvals: 3 });
    await security.client.post(`/api/v1/access/grants/${grant.id}/revoke`, { reason: "hotfix shipped" });
  });

  it("refuses database access to frontend developers, and records the refusal", async () => {
    const dev = await developer({ roles: ["frontend"] });
    const db = await buildResource(t, {
      kind: "postgres",
      environment: "staging",
      dataClass: "internal",
      owners: [owner.userId],
      name: `db-${++n}`,
      connector: { connection: { host: "127.0.0.1", database: "app", user: "postgres" } },
    });
    const r = await dev.account.client.post("/api/v1/me/access/requests", {
      resourceId: db.id,
      level: "read",
      durationMinutes: 30,
      reason: "Check a query",
    });
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/denied by frontend-no-database/);
    expect(await auditActions(t, db.id)).toContain("access.request.refused");
  });

  it("refuses an invalid policy set with Cedar's position and keeps deciding with the running one", async () => {
    const admin = await adminClient(t);
    const bad = await admin.put("/api/v1/access/policies", {
      text: '@id("x")\nforbid (principal, action, resource is Warden::Resource)\nwhen { resource.environment == Warden::Environment::"prod" };\n',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe("body/text");
    expect(bad.body.errors[0].message).toMatch(/^3:\d+ \[x\]/);
    const current = await admin.get("/api/v1/access/policies");
    expect(current.body.isDefault).toBe(true);
    expect(current.body.policyIds).toContain("frontend-no-database");

    const tested = await admin.post("/api/v1/access/policies/test", {
      samples: [
        {
          name: "frontend reads staging db",
          expect: "deny",
          action: "request",
          level: "read",
          developer: { id: "d", roles: ["frontend"], eligibility: { eligible: true } },
          resource: { id: "r", kind: "postgres", environment: "staging", dataClass: "internal" },
        },
      ],
    });
    expect(tested.body.results[0]).toMatchObject({
      decision: "deny",
      policies: ["frontend-no-database"],
      matches: true,
    });

    // A stricter set: nothing but read, ever. Saved, it decides the next request.
    const strict = `${current.body.text}\n@id("read-only")\nforbid (principal, action in [Warden::Action::"write", Warden::Action::"admin"], resource);\n`;
    const saved = await admin.put("/api/v1/access/policies", { text: strict });
    expect(saved.status).toBe(200);
    expect(saved.body.policyIds).toContain("read-only");
    const dev = await developer();
    const res = await buildResource(t, github());
    const w = await dev.account.client.post("/api/v1/me/access/requests", {
      resourceId: res.id,
      level: "write",
      durationMinutes: 30,
      reason: "Push a fix",
    });
    expect(w.status).toBe(403);
    expect(w.body.policies).toEqual(["read-only"]);
    await admin.put("/api/v1/access/policies", { text: current.body.text });
  });
});

describe("break-glass", () => {
  it("opens at most an hour of access to a flagged resource, alerts security at once and requires a review", async () => {
    const dev = await developer();
    const plain = await buildResource(t, github());
    const refused = await dev.account.client.post("/api/v1/me/access/break-glass", {
      resourceId: plain.id,
      level: "read",
      reason: "Production is down, need to look",
    });
    expect(refused.status).toBe(409);
    const flagged = await buildResource(t, github({ breakGlass: true }));
    const tooLong = await dev.account.client.post("/api/v1/me/access/break-glass", {
      resourceId: flagged.id,
      level: "write",
      durationMinutes: 120,
      reason: "Production is down, need to look",
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].field).toBe("body/durationMinutes");
    const opened = await dev.account.client.post("/api/v1/me/access/break-glass", {
      resourceId: flagged.id,
      level: "write",
      reason: "Production is down, need to look",
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body).toMatchObject({
      state: "active",
      breakGlass: true,
      reviewRequired: true,
      reviewedAt: null,
    });
    expect(opened.body.secondsLeft).toBe(3600);
    expect(await auditActions(t, opened.body.id)).toContain("access.breakglass.opened");
    const alert = (
      await t.store.query<{ severity: string; subject: string }>(
        "select severity, subject from notifications where topic = 'access.breakglass.opened'",
      )
    ).rows;
    expect(alert).toHaveLength(1);
    expect(alert[0]!.severity).toBe("critical");
    const pending = await security.client.get("/api/v1/access/grants?breakGlass=true&reviewPending=true");
    expect(pending.body.items.map((g: { id: string }) => g.id)).toContain(opened.body.id);
    const reviewed = await security.client.post(`/api/v1/access/grants/${opened.body.id}/review`, {
      note: "Outage INC-7, access was needed",
    });
    expect(reviewed.status).toBe(200);
    expect(reviewed.body.reviewedAt).not.toBeNull();
  });
});

describe("a generic resource", () => {
  const SECRET = "webhook-secret-0123456789-abcdefghij";
  let receiver: Server;
  let url = "";
  const received: { type: string; grantId: string; signed: boolean }[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        const event = JSON.parse(body) as { type: string; grant: { id: string } };
        received.push({
          type: event.type,
          grantId: event.grant.id,
          signed: verifyWebhookSignature({
            header: req.headers["warden-signature"] as string,
            body,
            secret: SECRET,
            now: t.clock.now(),
          }),
        });
        res
          .writeHead(200, { "content-type": "application/json" })
          .end('{"state":"active","externalRef":"ticket-1"}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/warden`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it("is provisioned and revoked through signed webhook calls", async () => {
    const dev = await developer();
    const res = await buildResource(t, {
      name: `app-${++n}`,
      kind: "generic",
      environment: "development",
      dataClass: "internal",
      owners: [owner.userId],
      connector: { url, secret: SECRET, maxAttempts: 1 },
    });
    expect(res.connector).toMatchObject({ type: "webhook", secretsSet: ["secret"] });
    const req = await ask(dev, { resourceId: res.id });
    const ok = await owner.client.post(`/api/v1/access/requests/${req.id}/approve`, { reason: "ok" });
    const grantId = ok.body.grantId as string;
    expect((await owner.client.get(`/api/v1/access/grants/${grantId}`)).body).toMatchObject({
      state: "active",
      externalRef: "ticket-1",
    });
    await owner.client.post(`/api/v1/access/grants/${grantId}/revoke`, { reason: "done" });
    expect(received.filter((r) => r.grantId === grantId)).toEqual([
      { type: "grant.provision", grantId, signed: true },
      { type: "grant.revoke", grantId, signed: true },
    ]);
  });
});
