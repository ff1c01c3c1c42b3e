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

  it("reports a member awaiting approval as pending, not live", async () => {
    gitlab.awaitingApproval = true;
    expect((await connector.provision(grant())).state).toBe("pending");
    expect(await connector.check(grant())).toMatchObject({ live: false, state: "pending" });
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
