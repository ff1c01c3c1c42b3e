import { expect } from "vitest";
import { ask, type EligibleDeveloper, eligibleDeveloper } from "./access-fixtures.ts";
import type { GithubFake } from "./fakes/github-fake.ts";
import { type SignedIn, type TestApp, totpCode } from "./harness.ts";

/** Builders for the reviews suites, on top of the access fixtures. */

export interface Live {
  dev: EligibleDeveloper;
  login: string;
  grantId: string;
}

let n = 0;

/**
 * An eligible developer with an active grant on a GitHub-like resource (the owner approves; the login is
 * an organisation member, so GitHub adds it at once instead of inviting).
 */
export async function liveGrant(
  t: TestApp,
  gh: GithubFake,
  resource: { id: string },
  approver: Pick<SignedIn, "client">,
  o: { developer?: Record<string, unknown>; level?: string; days?: number } = {},
): Promise<Live> {
  const login = `rev-dev-${++n}-${Math.random().toString(36).slice(2, 6)}`;
  gh.orgMembers.add(login);
  const dev = await eligibleDeveloper(t, { developer: { gitUsernames: { github: login }, ...o.developer } });
  const req = await ask(dev, {
    resourceId: resource.id,
    level: o.level ?? "read",
    durationMinutes: (o.days ?? 120) * 24 * 60,
    reason: "Quarter's work",
  });
  const ok = await approver.client.post(`/api/v1/access/requests/${req.id}/approve`, {
    reason: "Planned work",
  });
  expect(ok.status).toBe(200);
  expect(gh.collaborators.has(login)).toBe(true);
  return { dev, login, grantId: ok.body.grantId as string };
}

/** Signs an existing account in again (sessions idle out when a test moves the clock). */
export async function again(t: TestApp, s: SignedIn): Promise<SignedIn> {
  const login = await s.client.post("/api/v1/auth/login", { email: s.email, password: s.password });
  expect(login.status).toBe(200);
  if (login.body.mfa === "required") {
    const mfa = await s.client.post("/api/v1/auth/mfa", { code: totpCode(s.totpSecret!, t.clock.now()) });
    expect(mfa.status).toBe(200);
  }
  return s;
}
