import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GithubFake, startGithubFake } from "../../test/fakes/github-fake.ts";
import type { Connector, ConnectorGrant } from "./connector.types.ts";
import { createGithubConnector } from "./github.connector.ts";

let github: GithubFake;
let connector: Connector;
/** GitHub's clock (the fake's): invitations expire 7 days after they were sent. */
let fakeNow = new Date("2026-01-01T00:00:00Z");
const DAY = 86_400_000;

const grant = (over: Partial<ConnectorGrant> = {}): ConnectorGrant => ({
  id: "g-1",
  level: "write",
  startsAt: new Date("2026-01-01T00:00:00Z"),
  endsAt: new Date("2026-01-08T00:00:00Z"),
  developer: { id: "dev-ada", githubUsername: "ada-l" },
  resource: { id: "web" },
  ...over,
});

beforeAll(async () => {
  github = await startGithubFake({ token: "ghp_test", owner: "acme", repo: "web", now: () => fakeNow });
  connector = createGithubConnector(
    { apiUrl: github.url, owner: "acme", repo: "web", token: "ghp_test" },
    {},
  );
});
afterAll(() => github.close());
beforeEach(() => {
  fakeNow = new Date("2026-01-01T00:00:00Z");
  github.collaborators.clear();
  github.invitations.clear();
  github.orgMembers.clear();
  github.requests.length = 0;
});

describe("the GitHub connector", () => {
  it("invites a new collaborator with the mapped permission and reports the access pending until accepted", async () => {
    const result = await connector.provision(grant());
    expect(result).toMatchObject({ state: "pending", externalRef: "ada-l", details: { permission: "push" } });
    const put = github.requests.find((r) => r.method === "PUT");
    expect(put?.path).toBe("/repos/acme/web/collaborators/ada-l");
    expect(JSON.parse(put!.body)).toEqual({ permission: "push" });
    expect(put?.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(await connector.check(grant())).toMatchObject({
      live: false,
      state: "pending",
      details: { expired: false, invitedAt: "2026-01-01T00:00:00.000Z" },
    });
    github.accept("ada-l");
    expect(await connector.check(grant())).toMatchObject({ live: true, details: { role: "write" } });
  });

  it("reports access active at once when GitHub adds the user directly (204)", async () => {
    github.orgMembers.add("ada-l");
    const result = await connector.provision(grant({ level: "read" }));
    expect(result.state).toBe("active");
    expect(github.collaborators.get("ada-l")).toBe("read");
  });

  it("updates a pending invitation instead of sending a second one", async () => {
    await connector.provision(grant({ level: "read" }));
    await connector.provision(grant({ level: "admin" }));
    expect([...github.invitations.values()]).toEqual([
      { login: "ada-l", permissions: "admin", createdAt: fakeNow },
    ]);
  });

  it("reports an invitation GitHub expired after 7 days, and replaces it with a new one on provision", async () => {
    const first = await connector.provision(grant());
    fakeNow = new Date(fakeNow.getTime() + 7 * DAY);
    const checked = await connector.check(grant());
    expect(checked).toMatchObject({
      live: false,
      state: "invitation_expired",
      details: { invitationId: first.details.invitationId, expired: true },
    });
    // Expired, it can no longer be accepted.
    github.accept("ada-l");
    expect(github.collaborators.has("ada-l")).toBe(false);
    const again = await connector.provision(grant());
    expect(again).toMatchObject({ state: "pending", details: { expired: false } });
    expect(again.details.invitationId).not.toBe(first.details.invitationId);
    expect([...github.invitations.keys()]).toEqual([again.details.invitationId]);
    const deleted = github.requests.filter((r) => r.method === "DELETE").map((r) => r.path);
    expect(deleted).toEqual([`/repos/acme/web/invitations/${first.details.invitationId}`]);
    github.accept("ada-l");
    expect(await connector.check(grant())).toMatchObject({ live: true, state: "active" });
  });

  it("deletes a pending invitation on revoke, so it cannot be accepted after the grant ended", async () => {
    const sent = await connector.provision(grant());
    await connector.revoke(grant());
    expect(github.requests.map((r) => `${r.method} ${r.path.split("?")[0]}`)).toContain(
      `DELETE /repos/acme/web/invitations/${sent.details.invitationId}`,
    );
    expect(github.invitations.size).toBe(0);
    github.accept("ada-l");
    expect(github.collaborators.has("ada-l")).toBe(false);
  });

  it("removes the collaborator and any pending invitation, and does it again without complaint", async () => {
    await connector.provision(grant());
    github.accept("ada-l");
    await connector.provision(
      grant({ id: "g-2", level: "admin", developer: { id: "d", githubUsername: "ADA-L" } }),
    );
    github.invitations.set(77, { login: "ada-l", permissions: "read" });
    await connector.revoke(grant());
    expect(github.collaborators.has("ada-l")).toBe(false);
    expect(github.invitations.size).toBe(0);
    await connector.revoke(grant());
    expect(await connector.check(grant())).toMatchObject({ live: false, state: "absent" });
  });

  it("finds an invitation beyond the first page", async () => {
    for (let i = 0; i < 150; i++) github.invitations.set(i, { login: `someone-${i}`, permissions: "read" });
    github.invitations.set(500, { login: "ada-l", permissions: "read" });
    await connector.revoke(grant());
    expect(github.invitations.has(500)).toBe(false);
    expect(github.invitations.size).toBe(150);
  });

  it("maps permissions as configured", async () => {
    const custom = createGithubConnector(
      {
        apiUrl: github.url,
        owner: "acme",
        repo: "web",
        token: "ghp_test",
        permissions: { read: "triage", write: "maintain" },
      },
      {},
    );
    github.orgMembers.add("ada-l");
    await custom.provision(grant({ level: "write" }));
    expect(github.collaborators.get("ada-l")).toBe("maintain");
  });

  it("says bad credentials need a person, not a retry", async () => {
    const wrong = createGithubConnector(
      { apiUrl: github.url, owner: "acme", repo: "web", token: "nope" },
      {},
    );
    await expect(wrong.provision(grant())).rejects.toMatchObject({ reason: "auth_failed", retryable: false });
  });

  it("says a missing repository needs a person", async () => {
    const missing = createGithubConnector(
      { apiUrl: github.url, owner: "acme", repo: "gone", token: "ghp_test" },
      {},
    );
    await expect(missing.provision(grant())).rejects.toMatchObject({ reason: "not_found", retryable: false });
  });

  it("says an outage or a rate limit may be retried, with GitHub's wait", async () => {
    github.failNext({ status: 502, json: { message: "Server Error" } });
    await expect(connector.provision(grant())).rejects.toMatchObject({
      reason: "remote_error",
      retryable: true,
    });
    github.failNext({
      status: 403,
      json: { message: "API rate limit exceeded" },
      headers: { "x-ratelimit-remaining": "0", "retry-after": "30" },
    });
    await expect(connector.provision(grant())).rejects.toMatchObject({
      reason: "rate_limited",
      retryable: true,
      details: { retryAfterSeconds: 30 },
    });
  });

  it("refuses a grant for a developer without a valid GitHub username", async () => {
    await expect(
      connector.provision(grant({ developer: { id: "x", githubUsername: "../admin" } })),
    ).rejects.toMatchObject({
      reason: "invalid_grant",
    });
    expect(github.requests).toHaveLength(0);
  });

  it("never puts the token in an error message", async () => {
    github.failNext({ status: 500 });
    const err = await connector.provision(grant()).catch((e: Error) => e);
    expect(String((err as Error).message)).not.toContain("ghp_test");
  });
});
