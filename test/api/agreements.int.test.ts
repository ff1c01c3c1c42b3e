import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, multipart, pdfBytes, type TestApp, type TestClient } from "../harness.ts";

let t: TestApp;
let security: TestClient;
beforeAll(async () => {
  // A 1 MB upload limit keeps the "too large" case small.
  t = await createTestApp({ now: "2026-11-02T10:00:00Z", env: { WARDEN_UPLOAD_MAX_MB: "1" } });
  security = (await t.signIn("security")).client;
});
afterAll(async () => t.close());

const terms = {
  permittedTools: ["GitHub", "Slack"],
  permittedStorageLocations: ["company laptop"],
  incidentResponseHours: 24,
  dataCategories: ["customer contact data"],
};

const upload = (c: TestClient, id: string, file: Buffer, opts: Parameters<typeof multipart>[1] = {}) => {
  const m = multipart(file, opts);
  return c.raw("POST", `/api/v1/agreements/${id}/document`, m.payload, m.headers);
};

const counts = async () => {
  const r = await t.store.query<{ docs: number; events: number }>(
    "select (select count(*) from documents)::int8 docs, (select count(*) from log_events)::int8 events",
  );
  return r.rows[0]!;
};

const signedActive = async (o: Record<string, unknown> = {}) => {
  const a = await t.buildAgreement({ signedOn: "2026-09-20", effectiveOn: "2026-10-01", ...o });
  expect((await upload(security, a.id, pdfBytes())).status).toBe(200);
  const r = await security.post(`/api/v1/agreements/${a.id}/activate`);
  expect(r.status).toBe(200);
  return r.body;
};

describe("agreements", () => {
  it("records a vendor DPA as a draft with its terms, and audits it", async () => {
    const vendor = await t.buildVendor({ name: "Acme Outsourcing" });
    const r = await security.post("/api/v1/agreements", {
      type: "dpa",
      vendorId: vendor.id,
      title: "Acme DPA 2026",
      signedOn: "2026-10-20",
      effectiveOn: "2026-10-01",
      expiresOn: "2027-10-01",
      terms,
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      type: "dpa",
      party: { kind: "vendor", id: vendor.id, name: "Acme Outsourcing" },
      status: "draft",
      state: "draft",
      inEffect: false,
      endsOn: "2027-10-01",
      terms,
      document: null,
    });
    const [event] = await t.app.audit.list({ targetId: r.body.id, limit: 5 });
    expect(event).toMatchObject({ action: "agreement.create", summary: { type: "dpa" } });
  });

  it.each([
    ["no party", { developerId: undefined }, "body/vendorId"],
    ["two parties", { vendorId: "00000000-0000-4000-8000-000000000001" }, "body/vendorId"],
    ["an expiry on the effective day", { expiresOn: "2026-10-01" }, "body/expiresOn"],
    ["an expiry before the effective day", { expiresOn: "2026-09-01" }, "body/expiresOn"],
    ["a signature on the expiry day", { signedOn: "2027-01-01", expiresOn: "2027-01-01" }, "body/signedOn"],
    ["a signature in the future", { signedOn: "2026-11-03" }, "body/signedOn"],
    ["an unknown type", { type: "loi" }, "body/type"],
    ["an unknown term", { terms: { ...terms, vibes: true } }, "body/terms/vibes"],
    [
      "incident response of 0 hours",
      { terms: { ...terms, incidentResponseHours: 0 } },
      "body/terms/incidentResponseHours",
    ],
    [
      "a developer that does not exist",
      { developerId: "00000000-0000-4000-8000-000000000000" },
      "body/developerId",
    ],
  ])("rejects %s", async (_name, change, field) => {
    const dev = await t.buildDeveloper();
    const body: Record<string, unknown> = {
      type: "nda",
      developerId: dev.id,
      title: "NDA",
      effectiveOn: "2026-10-01",
      ...change,
    };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const r = await security.post("/api/v1/agreements", body);
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it("accepts a signature after the effective day (effective as of an earlier date)", async () => {
    const a = await t.buildAgreement({ signedOn: "2026-10-15", effectiveOn: "2026-10-01" });
    expect(a.signedOn).toBe("2026-10-15");
  });

  it("stores the signed PDF encrypted with its SHA-256 and serves it back, logging the read", async () => {
    const a = await t.buildAgreement({ signedOn: "2026-10-01" });
    const pdf = pdfBytes("NDA of Ana — signé");
    const r = await upload(security, a.id, pdf, {
      filename: "../NDA signé.pdf",
      contentType: "application/octet-stream",
    });
    expect(r.status).toBe(200);
    const sha256 = createHash("sha256").update(pdf).digest("hex");
    expect(r.body.document).toMatchObject({
      filename: "NDA signé.pdf",
      mediaType: "application/pdf",
      sizeBytes: pdf.length,
      sha256,
    });

    const stored = await t.store.query<{ content: Uint8Array }>(
      "select content from documents where id = $1",
      [r.body.document.id],
    );
    expect(Buffer.from(stored.rows[0]!.content).includes(Buffer.from("%PDF-"))).toBe(false);

    const auditor = (await t.signIn("auditor")).client;
    const dl = await auditor.get(`/api/v1/agreements/${a.id}/document`);
    expect(dl.status).toBe(200);
    expect(dl.headers["content-type"]).toBe("application/pdf");
    expect(dl.headers["content-disposition"]).toContain('attachment; filename="NDA sign_.pdf"');
    expect(dl.headers["content-disposition"]).toContain("filename*=UTF-8''NDA%20sign%C3%A9.pdf");
    expect(dl.headers["cache-control"]).toBe("no-store");
    expect(Buffer.from(dl.body, "latin1").equals(pdf) || dl.body === pdf.toString()).toBe(true);
    const reads = await t.app.audit.list({ targetId: r.body.document.id, action: "document.read", limit: 5 });
    expect(reads).toHaveLength(1);
    expect(reads[0]!.summary).toMatchObject({ agreementId: a.id, sha256 });
  });

  it("answers 415 for a file that is not a PDF, whatever it claims, and stores nothing", async () => {
    const a = await t.buildAgreement();
    const before = await counts();
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const r = await upload(security, a.id, png, { filename: "contract.pdf" });
    expect(r.status).toBe(415);
    expect(r.headers["content-type"]).toContain("application/problem+json");
    const truncated = await upload(security, a.id, Buffer.from("%PDF-1.7\n1 0 obj"));
    expect(truncated.status).toBe(415);
    const json = await security.post(`/api/v1/agreements/${a.id}/document`, { file: "x" });
    expect(json.status).toBe(415);
    expect(await counts()).toEqual(before);
    expect((await security.get(`/api/v1/agreements/${a.id}`)).body.document).toBeNull();
  });

  it("answers 413 for a file over the upload limit and stores nothing", async () => {
    const a = await t.buildAgreement();
    const before = await counts();
    const big = Buffer.concat([
      Buffer.from("%PDF-1.7\n"),
      Buffer.alloc(1024 * 1024 + 10, 0x20),
      Buffer.from("\n%%EOF"),
    ]);
    const r = await upload(security, a.id, big);
    expect(r.status).toBe(413);
    expect(await counts()).toEqual(before);
  });

  it("replaces the document of a draft and drops the old one", async () => {
    const a = await t.buildAgreement();
    const first = await upload(security, a.id, pdfBytes("v1"));
    const second = await upload(security, a.id, pdfBytes("v2"));
    expect(second.body.document.id).not.toBe(first.body.document.id);
    const old = await t.store.query("select 1 from documents where id = $1", [first.body.document.id]);
    expect(old.rows).toHaveLength(0);
  });

  it("activates only with a signed date and a document, then locks what was signed", async () => {
    const a = await t.buildAgreement({ effectiveOn: "2026-10-01", expiresOn: "2027-10-01" });
    const noSig = await security.post(`/api/v1/agreements/${a.id}/activate`);
    expect(noSig.status).toBe(409);
    expect(noSig.body.detail).toMatch(/signed date.*signed document/);
    await security.patch(`/api/v1/agreements/${a.id}`, { signedOn: "2026-09-28" });
    expect((await security.post(`/api/v1/agreements/${a.id}/activate`)).body.detail).toMatch(
      /signed document/,
    );
    await upload(security, a.id, pdfBytes());
    const act = await security.post(`/api/v1/agreements/${a.id}/activate`);
    expect(act.status).toBe(200);
    expect(act.body).toMatchObject({ status: "active", state: "active", inEffect: true });

    expect((await security.patch(`/api/v1/agreements/${a.id}`, { signedOn: "2026-09-01" })).status).toBe(409);
    expect((await upload(security, a.id, pdfBytes("swap"))).status).toBe(409);
    expect((await security.del(`/api/v1/agreements/${a.id}`)).status).toBe(409);
    const amended = await security.patch(`/api/v1/agreements/${a.id}`, { expiresOn: "2028-10-01" });
    expect(amended.body.expiresOn).toBe("2028-10-01");
    const bad = await security.patch(`/api/v1/agreements/${a.id}`, { expiresOn: "2026-09-01" });
    expect(bad.status).toBe(400);
    const actions = (await t.app.audit.list({ targetId: a.id, limit: 20 })).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        "agreement.create",
        "agreement.document_upload",
        "agreement.activate",
        "agreement.update",
      ]),
    );
  });

  it("terminates with a date and a reason; the agreement holds until that day", async () => {
    const a = await signedActive({ expiresOn: "2027-10-01" });
    expect(
      (
        await security.post(`/api/v1/agreements/${a.id}/terminate`, {
          terminatedOn: "2027-10-01",
          reason: "x",
        })
      ).status,
    ).toBe(400);
    const r = await security.post(`/api/v1/agreements/${a.id}/terminate`, {
      terminatedOn: "2026-12-01",
      reason: "Vendor contract ended",
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: "terminated",
      state: "active",
      inEffect: true,
      terminatedOn: "2026-12-01",
      terminationReason: "Vendor contract ended",
      endsOn: "2026-12-01",
    });
    t.clock.set("2026-12-01T08:00:00Z");
    try {
      const later = await (await t.signIn("auditor")).client.get(`/api/v1/agreements/${a.id}`);
      expect(later.body).toMatchObject({ state: "terminated", inEffect: false });
    } finally {
      t.clock.set("2026-11-02T10:00:00Z");
    }
    expect(
      (
        await security.post(`/api/v1/agreements/${a.id}/terminate`, {
          terminatedOn: "2026-11-10",
          reason: "again",
        })
      ).status,
    ).toBe(409);
    expect((await security.patch(`/api/v1/agreements/${a.id}`, { title: "x" })).status).toBe(409);
  });

  it("computes expiry (exclusive) and lists what stops holding within N days", async () => {
    const vendor = await t.buildVendor();
    const soon = await signedActive({ vendorId: vendor.id, developerId: undefined, expiresOn: "2026-11-20" });
    const today = await signedActive({ vendorId: vendor.id, expiresOn: "2026-11-02" });
    const later = await signedActive({ vendorId: vendor.id, expiresOn: "2027-03-01" });
    expect(today.state).toBe("expired");
    const r = await security.get("/api/v1/agreements/expiring?withinDays=30");
    const ids = r.body.items.map((a: { id: string }) => a.id);
    expect(ids).toContain(soon.id);
    expect(ids).not.toContain(today.id);
    expect(ids).not.toContain(later.id);
    expect(r.body.items.find((a: { id: string }) => a.id === soon.id).daysLeft).toBe(18);
    const expired = await security.get(`/api/v1/agreements?vendorId=${vendor.id}&state=expired`);
    expect(expired.body.items.map((a: { id: string }) => a.id)).toEqual([today.id]);
    expect((await security.get(`/api/v1/agreements?vendorId=${vendor.id}&state=active`)).body.total).toBe(2);
    expect((await security.get("/api/v1/agreements/expiring?withinDays=0")).status).toBe(400);
  });

  it("deletes a draft with its document", async () => {
    const a = await t.buildAgreement();
    const up = await upload(security, a.id, pdfBytes());
    expect((await security.del(`/api/v1/agreements/${a.id}`)).status).toBe(204);
    const doc = await t.store.query("select 1 from documents where id = $1", [up.body.document.id]);
    expect(doc.rows).toHaveLength(0);
  });

  it("lets managers read agreements but not change them or download documents", async () => {
    const a = await signedActive();
    const manager = (await t.signIn("manager")).client;
    expect((await manager.get(`/api/v1/agreements/${a.id}`)).status).toBe(200);
    expect(
      (
        await manager.post(`/api/v1/agreements/${a.id}/terminate`, {
          terminatedOn: "2026-12-01",
          reason: "x",
        })
      ).status,
    ).toBe(403);
    const before = await counts();
    expect((await manager.get(`/api/v1/agreements/${a.id}/document`)).status).toBe(403);
    expect((await counts()).events).toBe(before.events);
  });
});

describe("developer self-service agreements", { timeout: 120_000 }, () => {
  it("shows a developer their own and their vendor's signed agreements, never another's", async () => {
    const vendor = await t.buildVendor();
    const dev = await t.buildDeveloper({ vendorId: vendor.id });
    const me = await t.signIn("developer", { developerId: dev.id, email: dev.email });
    const mine = await signedActive({ developerId: dev.id });
    const vendors = await signedActive({ vendorId: vendor.id, type: "msa" });
    const draft = await t.buildAgreement({ developerId: dev.id });
    const other = await signedActive();
    const r = await me.client.get("/api/v1/me/agreements");
    expect(r.status).toBe(200);
    const ids = r.body.items.map((a: { id: string }) => a.id);
    expect(ids.sort()).toEqual([mine.id, vendors.id].sort());
    expect(ids).not.toContain(draft.id);
    expect(ids).not.toContain(other.id);
    expect(r.body.items[0]).not.toHaveProperty("document");
    expect(r.body.items[0].hasDocument).toBe(true);
    expect((await me.client.get(`/api/v1/agreements/${other.id}`)).status).toBe(403);
    expect((await me.client.get(`/api/v1/agreements/${mine.id}/document`)).status).toBe(403);
    expect((await security.get("/api/v1/me/agreements")).status).toBe(403);
  });

  it("lets a developer download the signed copy of an agreement that binds them, audited, and no other", async () => {
    const vendor = await t.buildVendor();
    const dev = await t.buildDeveloper({ vendorId: vendor.id });
    const me = await t.signIn("developer", { developerId: dev.id, email: dev.email });
    const vendors = await signedActive({ vendorId: vendor.id, type: "msa" });
    const draft = await t.buildAgreement({ developerId: dev.id });
    const other = await signedActive();
    const r = await me.client.get(`/api/v1/me/agreements/${vendors.id}/document`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/pdf");
    expect(String(r.body).startsWith("%PDF-")).toBe(true);
    const ev = await security.get(`/api/v1/audit/events?action=document.read&actorId=${me.userId}`);
    expect(ev.body.items).toHaveLength(1);
    expect((await me.client.get(`/api/v1/me/agreements/${other.id}/document`)).status).toBe(404);
    expect((await me.client.get(`/api/v1/me/agreements/${draft.id}/document`)).status).toBe(404);
  });
});
