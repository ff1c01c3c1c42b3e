import { generateKeyPair } from "../src/crypto/age/index.ts";
import { multipart, pdfBytes, type SignedIn, type TestApp, type TestClient } from "./harness.ts";

/**
 * Builders for share tests: a gate that asks for an NDA and a decided vetting only (the full gate has
 * its own tests), and developers who pass it with an age key and agreements permitting some data.
 */
export async function relaxGate(t: TestApp): Promise<void> {
  const r = await (await t.admin()).put("/api/v1/gate/requirements", {
    alwaysRequired: ["nda"],
    personalDataRequired: [],
    requiredTrainings: [],
    awarenessPassMark: 0,
    blockingRedFlagSeverity: "high",
    requireBackgroundCheck: false,
    minVerifiedReferences: 0,
    requireDrillPassed: false,
    warnWithinDays: 30,
  });
  if (r.status !== 200) throw new Error(`gate requirements: ${JSON.stringify(r.body)}`);
}

async function ok(client: TestClient, method: string, url: string, body?: unknown) {
  const r = await client.request(method, url, body);
  if (r.status >= 300) throw new Error(`${method} ${url} failed (${r.status}): ${JSON.stringify(r.body)}`);
  return r.body;
}

export interface Recipient extends SignedIn {
  developerId: string;
  /** The age identity file text (AGE-SECRET-KEY-1…). */
  identity: string;
  /** The registered age1… recipient. */
  recipient: string;
  ndaId: string;
}

/**
 * A developer with an account (signed in), an age key, a current engagement, an active NDA whose
 * terms permit `categories`, and an approved vetting: eligible, ready to receive shares.
 */
export async function eligibleRecipient(
  t: TestApp,
  opts: { categories?: string[]; sshKeys?: string[]; ageRecipients?: string[] } = {},
): Promise<Recipient> {
  const admin = await t.admin();
  const dev = await t.signIn("developer");
  const developerId = dev.developerId!;
  const day = (offset: number) =>
    new Date(t.clock.now().getTime() + offset * 86_400_000).toISOString().slice(0, 10);
  const pair = generateKeyPair();
  await ok(admin, "PATCH", `/api/v1/developers/${developerId}`, {
    ageRecipients: opts.ageRecipients ?? [pair.recipient],
    sshPublicKeys: opts.sshKeys ?? [],
  });
  await t.buildEngagement({ developerId, startsOn: day(-30) });
  const nda = await t.buildAgreement({
    developerId,
    type: "nda",
    signedOn: day(-30),
    effectiveOn: day(-30),
    expiresOn: day(330),
    terms: { dataCategories: opts.categories ?? ["source code"] },
  });
  const { payload, headers } = multipart(pdfBytes());
  const up = await admin.raw("POST", `/api/v1/agreements/${nda.id}/document`, payload, headers);
  if (up.status !== 200) throw new Error(`document upload: ${JSON.stringify(up.body)}`);
  await ok(admin, "POST", `/api/v1/agreements/${nda.id}/activate`, {});
  await ok(admin, "PATCH", `/api/v1/developers/${developerId}/vetting`, {
    awareness: { score: 90, takenOn: day(-30) },
  });
  await ok(admin, "POST", `/api/v1/developers/${developerId}/vetting/decision`, {
    decision: "approved",
    reason: "checks clear",
  });
  return { ...dev, developerId, identity: pair.identity, recipient: pair.recipient, ndaId: nda.id };
}
