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
  "GET /api/v1/notifications/deliveries": ["admin", "security", "auditor"],
  "POST /api/v1/notifications/deliveries/{id}/redrive": LEADS,
  "POST /api/v1/notifications/test": LEADS,
  "GET /api/v1/me/agreements/{id}/document": ["developer"],
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
