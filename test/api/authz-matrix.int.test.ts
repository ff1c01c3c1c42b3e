import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/context.ts";
import { createTestApp, type SignedIn, type TestApp } from "../harness.ts";

/**
 * Every API route × every role: who may reach it. This table is the specification, written apart from
 * the code's own permission table, so a route that grows or loses access by mistake fails here. A new
 * route without a row fails too.
 */
const STAFF: Role[] = ["admin", "security", "manager", "auditor"];
const LEADS: Role[] = ["admin", "security"];
const ALL: Role[] = ["admin", "security", "manager", "auditor", "developer"];
const PUBLIC = "public" as const;

const expected: Record<string, Role[] | typeof PUBLIC> = {
  "GET /api/v1/setup": PUBLIC,
  "POST /api/v1/setup": PUBLIC,
  "POST /api/v1/auth/login": PUBLIC,
  "POST /api/v1/auth/mfa": ALL,
  "POST /api/v1/auth/totp/setup": ALL,
  "POST /api/v1/auth/totp/enable": ALL,
  "GET /api/v1/auth/session": ALL,
  "POST /api/v1/auth/logout": ALL,
  "GET /api/v1/invites/{token}": PUBLIC,
  "POST /api/v1/invites/accept": PUBLIC,
  "POST /api/v1/invites": LEADS,
  "GET /api/v1/invites": LEADS,
  "GET /api/v1/tokens": ALL,
  "POST /api/v1/tokens": ALL,
  "DELETE /api/v1/tokens/{id}": ALL,
  "GET /api/v1/users": ["admin", "security", "auditor"],
  "PATCH /api/v1/users/{id}": ["admin"],
  "POST /api/v1/users/{id}/unlock": ["admin"],
  "POST /api/v1/users/{id}/reset-mfa": ["admin"],
  "GET /api/v1/vendors": STAFF,
  "POST /api/v1/vendors": ["admin", "security", "manager"],
  "GET /api/v1/vendors/{id}": STAFF,
  "PATCH /api/v1/vendors/{id}": ["admin", "security", "manager"],
  "DELETE /api/v1/vendors/{id}": ["admin", "security", "manager"],
  "GET /api/v1/developers": STAFF,
  "POST /api/v1/developers": ["admin", "security", "manager"],
  "GET /api/v1/developers/{id}": STAFF,
  "PATCH /api/v1/developers/{id}": ["admin", "security", "manager"],
  "DELETE /api/v1/developers/{id}": ["admin", "security", "manager"],
  "GET /api/v1/me/profile": ["developer"],
  "PATCH /api/v1/me/profile": ["developer"],
  "GET /api/v1/engagements": STAFF,
  "POST /api/v1/engagements": ["admin", "security", "manager"],
  "GET /api/v1/engagements/{id}": STAFF,
  "PATCH /api/v1/engagements/{id}": ["admin", "security", "manager"],
  "DELETE /api/v1/engagements/{id}": ["admin", "security", "manager"],
  "GET /api/v1/agreements": STAFF,
  "GET /api/v1/agreements/expiring": STAFF,
  "POST /api/v1/agreements": LEADS,
  "GET /api/v1/agreements/{id}": STAFF,
  "PATCH /api/v1/agreements/{id}": LEADS,
  "DELETE /api/v1/agreements/{id}": LEADS,
  "POST /api/v1/agreements/{id}/activate": LEADS,
  "POST /api/v1/agreements/{id}/terminate": LEADS,
  "POST /api/v1/agreements/{id}/document": LEADS,
  "GET /api/v1/agreements/{id}/document": ["admin", "security", "auditor"],
  "GET /api/v1/me/agreements": ["developer"],
  "GET /api/v1/developers/{id}/vetting": STAFF,
  "PATCH /api/v1/developers/{id}/vetting": LEADS,
  "POST /api/v1/developers/{id}/vetting/references": LEADS,
  "POST /api/v1/developers/{id}/vetting/references/{refId}/verify": LEADS,
  "POST /api/v1/developers/{id}/vetting/red-flags": LEADS,
  "POST /api/v1/developers/{id}/vetting/red-flags/{flagId}/resolve": LEADS,
  "POST /api/v1/developers/{id}/vetting/decision": LEADS,
  "GET /api/v1/developers/{id}/training": STAFF,
  "POST /api/v1/developers/{id}/training": ["admin", "security", "manager"],
  "DELETE /api/v1/training/{id}": ["admin", "security", "manager"],
  "GET /api/v1/me/training": ["developer"],
  "GET /api/v1/developers/{id}/eligibility": STAFF,
  "GET /api/v1/gate/developers": STAFF,
  "GET /api/v1/me/eligibility": ["developer"],
  "GET /api/v1/gate/requirements": ["admin", "security", "auditor"],
  "PUT /api/v1/gate/requirements": LEADS,
  "GET /api/v1/dashboard": STAFF,
  "GET /api/v1/audit/events": ["admin", "security", "auditor"],
  "POST /api/v1/scans/files/reports": ["admin", "security", "manager"],
  "GET /api/v1/scans/files/reports": STAFF,
  "GET /api/v1/scans/files/reports/{id}": STAFF,
  "GET /api/v1/audit/verify": ["admin", "security", "auditor"],
  "GET /api/v1/scheduler/tasks": ["admin", "security", "auditor"],
  "POST /api/v1/scheduler/tasks/{name}/run": LEADS,
  "GET /api/v1/shares/recipients": ["admin", "security", "manager"],
  "POST /api/v1/shares": ["admin", "security", "manager"],
  "GET /api/v1/shares": STAFF,
  "GET /api/v1/shares/{id}": STAFF,
  "POST /api/v1/shares/{id}/revoke": ["admin", "security", "manager"],
  "PUT /api/v1/shares/{id}/content": ["admin", "security", "manager"],
  "GET /api/v1/me/shares": ["developer"],
  "GET /api/v1/me/shares/{id}": ["developer"],
  "POST /api/v1/me/shares/{id}/download": ["developer"],
  "GET /api/v1/keys": ["admin", "security", "auditor"],
  "GET /api/v1/keys/rotations/{id}": ["admin", "security", "auditor"],
  "POST /api/v1/keys/kek/rotate": ["admin"],
  "POST /api/v1/keys/data/rotate": ["admin"],
  "GET /api/v1/scans/tls/targets": STAFF,
  "POST /api/v1/scans/tls/targets": LEADS,
  "GET /api/v1/scans/tls/targets/{id}": STAFF,
  "PATCH /api/v1/scans/tls/targets/{id}": LEADS,
  "DELETE /api/v1/scans/tls/targets/{id}": LEADS,
  "POST /api/v1/scans/tls/targets/{id}/scan": LEADS,
  "GET /api/v1/scans/tls/scans/{id}": STAFF,
  "POST /api/v1/scans/tls/reports": ["admin", "security", "manager"],
  "GET /api/v1/notifications/deliveries": ["admin", "security", "auditor"],
  "POST /api/v1/notifications/deliveries/{id}/redrive": LEADS,
  "POST /api/v1/notifications/test": LEADS,
  "GET /api/v1/me/agreements/{id}/document": ["developer"],
  "GET /api/v1/access/resources": STAFF,
  "POST /api/v1/access/resources": LEADS,
  "GET /api/v1/access/resources/{id}": STAFF,
  "PATCH /api/v1/access/resources/{id}": LEADS,
  "DELETE /api/v1/access/resources/{id}": LEADS,
  "GET /api/v1/access/engagements/{id}/resources": STAFF,
  "PUT /api/v1/access/engagements/{id}/resources": LEADS,
  "GET /api/v1/access/requests": STAFF,
  "GET /api/v1/access/requests/{id}": STAFF,
  "POST /api/v1/access/requests/{id}/approve": ["admin", "security", "manager"],
  "POST /api/v1/access/requests/{id}/deny": ["admin", "security", "manager"],
  "GET /api/v1/access/grants": STAFF,
  "GET /api/v1/access/grants/{id}": STAFF,
  "POST /api/v1/access/grants/{id}/revoke": ["admin", "security", "manager"],
  "POST /api/v1/access/grants/{id}/retry": LEADS,
  "POST /api/v1/access/grants/{id}/review": LEADS,
  "GET /api/v1/access/policies": STAFF,
  "PUT /api/v1/access/policies": LEADS,
  "POST /api/v1/access/policies/test": STAFF,
  "GET /api/v1/me/access/resources": ["developer"],
  "GET /api/v1/me/access/requests": ["developer"],
  "POST /api/v1/me/access/requests": ["developer"],
  "GET /api/v1/me/access/requests/{id}": ["developer"],
  "POST /api/v1/me/access/requests/{id}/cancel": ["developer"],
  "POST /api/v1/me/access/break-glass": ["developer"],
  "GET /api/v1/reviews/hints": STAFF,
  "GET /api/v1/reviews/campaigns": STAFF,
  "POST /api/v1/reviews/campaigns": LEADS,
  "GET /api/v1/reviews/campaigns/{id}": STAFF,
  "POST /api/v1/reviews/campaigns/{id}/cancel": LEADS,
  "POST /api/v1/reviews/campaigns/{id}/items/{itemId}/decision": ["admin", "security", "manager"],
  "GET /api/v1/reviews/campaigns/{id}/export.csv": STAFF,
  "GET /api/v1/reviews/campaigns/{id}/report": STAFF,
  "GET /api/v1/me/access/grants": ["developer"],
  "POST /api/v1/me/access/grants/{id}/credential": ["developer"],
  "GET /api/v1/me/ssh/certificates": ["developer"],
  "POST /api/v1/me/ssh/certificates": ["developer"],
  "GET /api/v1/ssh/ca.pub": PUBLIC,
  "GET /api/v1/ssh/krl": PUBLIC,
  "GET /api/v1/alerts": ["admin", "security", "auditor"],
  "GET /api/v1/alerts/timeline": ["admin", "security", "auditor"],
  "GET /api/v1/alerts/{id}": ["admin", "security", "auditor"],
  "PATCH /api/v1/alerts/{id}": LEADS,
  "POST /api/v1/alerts/{id}/notes": LEADS,
  "GET /api/v1/alerts/rules": ["admin", "security", "auditor"],
  "PUT /api/v1/alerts/rules": LEADS,
  "POST /api/v1/alerts/rules/test": LEADS,
  "GET /api/v1/siem/destinations": ["admin", "security", "auditor"],
  "POST /api/v1/siem/destinations": LEADS,
  "GET /api/v1/siem/destinations/{id}": ["admin", "security", "auditor"],
  "PATCH /api/v1/siem/destinations/{id}": LEADS,
  "DELETE /api/v1/siem/destinations/{id}": LEADS,
  "POST /api/v1/siem/destinations/{id}/test": LEADS,
  "GET /api/v1/siem/dead-letters": ["admin", "security", "auditor"],
  "POST /api/v1/siem/dead-letters/{id}/redrive": LEADS,
  "POST /api/v1/ingest/github-audit": PUBLIC,
  "POST /api/v1/ingest/gitlab-audit": PUBLIC,
  "GET /api/v1/sources/status": ["admin", "security", "auditor"],
  "GET /api/v1/events": ["admin", "security", "auditor"],
  "GET /api/v1/events/export": ["admin", "security", "auditor"],
  "GET /api/v1/events/heatmap": ["admin", "security", "auditor"],
  "GET /api/v1/events/{id}": ["admin", "security", "auditor"],
  "GET /api/v1/events/{id}/receipt": ["admin", "security", "auditor"],
  "GET /api/v1/log": ["admin", "security", "auditor"],
  "GET /api/v1/log/checkpoint": ["admin", "security", "auditor"],
  "GET /api/v1/log/proof/inclusion": ["admin", "security", "auditor"],
  "GET /api/v1/log/proof/consistency": ["admin", "security", "auditor"],
  "POST /api/v1/log/verify": ["admin", "security", "auditor"],
  "GET /api/v1/log/retention": ["admin", "security", "auditor"],
  "PUT /api/v1/log/retention": LEADS,
  "POST /api/v1/ingest/events": LEADS,
};

let t: TestApp;
let routes: { method: string; path: string }[] = [];
const signedIn = new Map<Role, SignedIn>();

beforeAll(async () => {
  t = await createTestApp();
  const doc = (await t.client().get("/api/openapi.json")).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => ["get", "post", "put", "patch", "delete"].includes(m))
      .map((m) => ({ method: m.toUpperCase(), path })),
  );
  for (const role of ALL) signedIn.set(role, await t.signIn(role));
});
afterAll(async () => t?.close());

const concrete = (path: string) =>
  path.replace(/\{token\}/g, "inv_nonexistent_token_value").replace(/\{[a-zA-Z]+\}/g, () => randomUUID());
// Sign-out ends the session it is called with: those rows are checked last.
const last = (r: { path: string }) => (r.path.endsWith("/logout") ? 1 : 0);

describe("authorization matrix", () => {
  it("has a row for every documented API route", () => {
    const documented = routes.map((r) => `${r.method} ${r.path}`).sort();
    expect(documented.filter((k) => !(k in expected))).toEqual([]);
    expect(Object.keys(expected).filter((k) => !documented.includes(k))).toEqual([]);
  });

  it("turns away anonymous callers from every non-public route", async () => {
    for (const r of routes) {
      if (expected[`${r.method} ${r.path}`] === PUBLIC) continue;
      const res = await t
        .client()
        .request(r.method, concrete(r.path), r.method === "GET" || r.method === "DELETE" ? undefined : {});
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
    }
  });

  it("lets each role reach exactly the routes its row names", async () => {
    const failures: string[] = [];
    for (const r of [...routes].sort((a, b) => last(a) - last(b))) {
      const rule = expected[`${r.method} ${r.path}`];
      if (rule === PUBLIC || rule === undefined) continue;
      for (const role of ALL) {
        const { client } = signedIn.get(role)!;
        const res = await client.request(
          r.method,
          concrete(r.path),
          r.method === "GET" || r.method === "DELETE" ? undefined : {},
        );
        const allowed = rule.includes(role);
        const denied = res.status === 403 || res.status === 401;
        if (allowed === denied)
          failures.push(
            `${role} ${r.method} ${r.path} -> ${res.status} (${allowed ? "should be allowed" : "should be denied"})`,
          );
        if (!allowed && res.status !== 403)
          failures.push(`${role} ${r.method} ${r.path} -> ${res.status} (denial should be 403)`);
      }
    }
    expect(failures).toEqual([]);
  });
});
