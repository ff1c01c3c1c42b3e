import { randomUUID } from "node:crypto";
import { authRepo } from "../src/auth/auth.repo.ts";
import type { Role } from "../src/core/context.ts";
import { hashPassword } from "../src/crypto/passwords.ts";
import { multipart, pdfBytes, type TestApp, type TestClient } from "./harness.ts";

/** An account that calls the API with a long-lived API token: no sign-in (and its rate limit), no
 * session to idle out when a test moves the clock. */
export interface TokenAccount {
  client: TestClient;
  userId: string;
  developerId?: string;
}

export async function tokenAccount(t: TestApp, role: Role, developerId?: string): Promise<TokenAccount> {
  const userId = randomUUID();
  await authRepo.insertUser(t.store, {
    id: userId,
    email: `${role}-${userId.slice(0, 8)}@example.test`,
    displayName: `${role} ${userId.slice(0, 4)}`,
    role,
    developerId: developerId ?? null,
    passwordHash: await hashPassword(randomUUID(), { ln: 10, r: 8, p: 1 }),
    at: t.clock.now(),
  });
  const { secret } = await t.app.auth.createToken(
    {
      actor: { kind: "user", userId, role, label: role, ...(developerId ? { developerId } : {}) },
      meta: {},
    },
    { name: "test", scopes: ["read", "write"], expiresInDays: 365 },
  );
  const client = t.client();
  client.bearer = secret;
  return { client, userId, ...(developerId ? { developerId } : {}) };
}

/**
 * Builders for the access suites: a gate that asks for an NDA and a decided vetting only (so a
 * developer becomes eligible in a few calls), an eligible developer with an engagement and a signed-in
 * developer account, staff who own resources, and resources.
 */
const admins = new WeakMap<TestApp, Promise<TestClient>>();
/** An admin with an API token, one per test app. */
export function adminClient(t: TestApp): Promise<TestClient> {
  let a = admins.get(t);
  if (!a) {
    a = tokenAccount(t, "admin").then((x) => x.client);
    admins.set(t, a);
  }
  return a;
}

export async function relaxGate(t: TestApp) {
  const admin = await adminClient(t);
  const r = await admin.put("/api/v1/gate/requirements", {
    alwaysRequired: ["nda"],
    personalDataRequired: [],
    requiredTrainings: [],
    awarenessPassMark: 50,
    blockingRedFlagSeverity: "critical",
    requireBackgroundCheck: false,
    minVerifiedReferences: 0,
    requireDrillPassed: false,
    warnWithinDays: 30,
  });
  if (r.status !== 200) throw new Error(`gate requirements: ${JSON.stringify(r.body)}`);
}

export interface EligibleDeveloper {
  id: string;
  engagementId: string;
  agreementId: string;
  account: TokenAccount;
}

export async function eligibleDeveloper(
  t: TestApp,
  o: {
    roles?: string[];
    endsOn?: string | null;
    ndaExpiresOn?: string | null;
    developer?: Record<string, unknown>;
  } = {},
): Promise<EligibleDeveloper> {
  const admin = await adminClient(t);
  const dev = await t.buildDeveloper(o.developer ?? {});
  const engagement = await t.buildEngagement({
    developerId: dev.id,
    roles: o.roles ?? ["backend"],
    startsOn: "2026-10-01",
    ...(o.endsOn ? { endsOn: o.endsOn } : {}),
  });
  const nda = await t.buildAgreement({
    developerId: dev.id,
    signedOn: "2026-10-01",
    effectiveOn: "2026-10-01",
    ...(o.ndaExpiresOn ? { expiresOn: o.ndaExpiresOn } : {}),
  });
  const upload = multipart(pdfBytes());
  const up = await admin.raw("POST", `/api/v1/agreements/${nda.id}/document`, upload.payload, upload.headers);
  if (up.status !== 200) throw new Error(`upload: ${JSON.stringify(up.body)}`);
  const act = await admin.post(`/api/v1/agreements/${nda.id}/activate`, {});
  if (act.status !== 200) throw new Error(`activate: ${JSON.stringify(act.body)}`);
  const vet = await admin.patch(`/api/v1/developers/${dev.id}/vetting`, {
    awareness: { score: 90, takenOn: "2026-10-01" },
  });
  if (vet.status !== 200) throw new Error(`vetting: ${JSON.stringify(vet.body)}`);
  const dec = await admin.post(`/api/v1/developers/${dev.id}/vetting/decision`, {
    decision: "approved",
    reason: "All checks clear",
  });
  if (dec.status !== 200) throw new Error(`decision: ${JSON.stringify(dec.body)}`);
  const elig = await admin.get(`/api/v1/developers/${dev.id}/eligibility`);
  if (!elig.body.eligible) throw new Error(`not eligible: ${JSON.stringify(elig.body.reasons)}`);
  const account = await tokenAccount(t, "developer", dev.id);
  return { id: dev.id, engagementId: engagement.id, agreementId: nda.id, account };
}

export async function buildResource(t: TestApp, body: Record<string, unknown>) {
  const r = await (await adminClient(t)).post("/api/v1/access/resources", {
    description: "",
    levels: ["read", "write"],
    maxDurationMinutes: 480,
    ...body,
  });
  if (r.status !== 201) throw new Error(`resource: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function setScope(t: TestApp, engagementId: string, resourceIds: string[]) {
  const r = await (await adminClient(t)).put(`/api/v1/access/engagements/${engagementId}/resources`, {
    resourceIds,
  });
  if (r.status !== 200) throw new Error(`scope: ${JSON.stringify(r.body)}`);
}

/** Requests as the developer and returns the request (fails loudly on a non-201). */
export async function ask(dev: EligibleDeveloper, body: Record<string, unknown>) {
  const r = await dev.account.client.post("/api/v1/me/access/requests", {
    level: "read",
    durationMinutes: 60,
    reason: "Investigate a bug",
    ...body,
  });
  if (r.status !== 201) throw new Error(`request: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function auditActions(t: TestApp, targetId: string): Promise<string[]> {
  const rows = await t.store.query<{ action: string }>(
    "select action from log_events where kind = 'audit' and resource_id = $1 order by idx",
    [targetId],
  );
  return rows.rows.map((r) => r.action);
}

export async function notificationTopics(t: TestApp): Promise<string[]> {
  return (
    await t.store.query<{ topic: string }>("select topic from notifications order by created_at")
  ).rows.map((r) => r.topic);
}
