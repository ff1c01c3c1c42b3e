import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GitlabFake, startGitlabFake } from "../../test/fakes/gitlab-fake.ts";
import type { Connector, ConnectorGrant } from "./connector.types.ts";
import { createGitlabConnector } from "./gitlab.connector.ts";

let gitlab: GitlabFake;
let connector: Connector;

const grant = (over: Partial<ConnectorGrant> = {}): ConnectorGrant => ({
  id: "g-1",
  level: "read",
  startsAt: new Date("2026-01-01T00:00:00Z"),
  endsAt: new Date("2026-01-08T17:30:00Z"),
  developer: { id: "dev-ada", gitlabUsername: "ada" },
  resource: { id: "api" },
  ...over,
});

beforeAll(async () => {
  gitlab = await startGitlabFake({
    token: "glpat-test",
    projectId: 42,
    projectPath: "acme/api",
    users: { ada: 7 },
  });
  connector = createGitlabConnector(
    { apiUrl: `${gitlab.url}/api/v4`, project: "acme/api", token: "glpat-test" },
    {},
  );
});
afterAll(() => gitlab.close());
beforeEach(() => {
  gitlab.members.clear();
  gitlab.invitations.clear();
  // Accounts made by accepted invitations go too: each test starts with only ada.
  gitlab.emails.clear();
  for (const name of [...gitlab.users.keys()]) if (name !== "ada") gitlab.users.delete(name);
  gitlab.awaitingApproval = false;
  gitlab.requests.length = 0;
});

describe("the GitLab connector", () => {
  it("adds the developer as a Reporter for read, with GitLab's expiry the day after the grant ends", async () => {
    const result = await connector.provision(grant());
    expect(result).toMatchObject({
      state: "active",
      details: { userId: 7, accessLevel: 20, expiresAt: "2026-01-09" },
    });
    expect(gitlab.requests.find((r) => r.method === "POST")?.path).toBe(
      "/api/v4/projects/acme%2Fapi/members",
    );
    expect(await connector.check(grant())).toMatchObject({ live: true, details: { accessLevel: 20 } });
  });

  it("changes the level of an existing member when provisioned again", async () => {
    await connector.provision(grant());
    await connector.provision(grant({ level: "write" }));
    expect(gitlab.members.get(7)?.access_level).toBe(30);
    await connector.provision(grant({ level: "admin" }));
    expect(gitlab.members.get(7)?.access_level).toBe(40);
  });

  it("reports a member awaiting approval as pending (for an administrator), not live", async () => {
    gitlab.awaitingApproval = true;
    expect((await connector.provision(grant())).state).toBe("pending");
    expect(await connector.check(grant())).toMatchObject({
      live: false,
      state: "pending",
      details: { awaitingApproval: true },
    });
  });

  it("removes the member, and a second removal is fine", async () => {
    await connector.provision(grant());
    await connector.revoke(grant());
    expect(gitlab.members.has(7)).toBe(false);
    await connector.revoke(grant());
    expect(await connector.check(grant())).toMatchObject({ live: false, state: "absent" });
  });

  it("says an unknown GitLab user needs a person", async () => {
    await expect(
      connector.provision(grant({ developer: { id: "x", gitlabUsername: "nobody" } })),
    ).rejects.toMatchObject({ reason: "not_found", retryable: false });
  });

  it("says a bad token needs a person and an outage may be retried", async () => {
    const wrong = createGitlabConnector({ apiUrl: `${gitlab.url}/api/v4`, project: 42, token: "x" }, {});
    await expect(wrong.provision(grant())).rejects.toMatchObject({ reason: "auth_failed", retryable: false });
    gitlab.failNext({ status: 503 });
    await expect(connector.provision(grant())).rejects.toMatchObject({ retryable: true });
  });

  it("says an unreachable GitLab may be retried", async () => {
    const down = createGitlabConnector({ apiUrl: "http://127.0.0.1:1/api/v4", project: 42, token: "x" }, {});
    await expect(down.check(grant())).rejects.toMatchObject({ reason: "unreachable", retryable: true });
  });
});

describe("the GitLab connector inviting by e-mail", () => {
  const inviting = () =>
    createGitlabConnector(
      { apiUrl: `${gitlab.url}/api/v4`, project: 42, token: "glpat-test", inviteByEmail: true },
      {},
    );
  const newcomer = (over: Partial<ConnectorGrant["developer"]> = {}) =>
    grant({ developer: { id: "dev-bo", email: "Bo@Example.test", ...over } });

  it("invites the developer's e-mail when they have no GitLab account, pending until they accept", async () => {
    const c = inviting();
    const result = await c.provision(newcomer());
    expect(result).toMatchObject({
      state: "pending",
      externalRef: "bo@example.test",
      details: { invitationEmail: "bo@example.test", accessLevel: 20, expiresAt: "2026-01-09" },
    });
    expect(gitlab.invitations.get("bo@example.test")).toMatchObject({
      access_level: 20,
      expires_at: "2026-01-09",
    });
    expect(await c.check(newcomer())).toMatchObject({ live: false, state: "pending" });
    // Provisioned again (a longer grant, a wider level): the invitation is updated, not duplicated.
    await c.provision({ ...newcomer(), level: "write" });
    expect(gitlab.invitations.size).toBe(1);
    expect(gitlab.invitations.get("bo@example.test")?.access_level).toBe(30);

    gitlab.acceptInvitation("bo@example.test", "bo-dev", 91);
    expect(await c.check(newcomer())).toMatchObject({
      live: true,
      state: "active",
      details: { accessLevel: 30 },
    });
  });

  it("deletes a pending invitation when the grant ends (DELETE /projects/:id/invitations/:email)", async () => {
    const c = inviting();
    await c.provision(newcomer());
    await c.revoke(newcomer());
    expect(gitlab.invitations.size).toBe(0);
    expect(gitlab.requests.map((r) => `${r.method} ${r.path}`)).toContain(
      "DELETE /api/v4/projects/42/invitations/bo%40example.test",
    );
    await c.revoke(newcomer()); // nothing left: fine
    expect(await c.check(newcomer())).toMatchObject({ live: false, state: "absent" });
  });

  it("removes an accepted invitation's member, found by e-mail when no username is registered", async () => {
    const c = inviting();
    await c.provision(newcomer());
    gitlab.acceptInvitation("bo@example.test", "bo-dev", 92);
    await c.revoke(newcomer());
    expect(gitlab.members.has(92)).toBe(false);
  });

  it("adds a developer with a GitLab account directly, as before", async () => {
    const result = await inviting().provision(
      grant({ developer: { id: "dev-ada", gitlabUsername: "ada", email: "ada@example.test" } }),
    );
    expect(result.state).toBe("active");
    expect(gitlab.members.has(7)).toBe(true);
    expect(gitlab.invitations.size).toBe(0);
  });

  it("without inviteByEmail, a developer without a GitLab account needs a person", async () => {
    await expect(connector.provision(newcomer())).rejects.toMatchObject({ reason: "invalid_grant" });
    expect(gitlab.invitations.size).toBe(0);
  });
});
