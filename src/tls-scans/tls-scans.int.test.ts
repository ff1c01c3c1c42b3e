import { mkdtemp, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, type TestClient } from "../../test/harness.ts";
import { scanTls } from "../scan-tls/index.ts";
import { createCa, issueCertificate } from "../scan-tls/testing/certs.ts";
import { createScheduler } from "../scheduler/index.ts";
import { createTlsScansService, type TlsTargetSource } from "./tls-scans.service.ts";

/**
 * Scheduled TLS scans against a real HTTPS endpoint on loopback whose configuration the test changes
 * between scans (HSTS on, then off), with the test CA trusted through WARDEN_SCAN_TLS_CA.
 */
let t: TestApp;
let dir: string;
let server: https.Server;
let port: number;
let hsts = true;
let security: TestClient;
/** Sessions idle out when the test moves the clock by hours: sign in afresh. */
const freshLead = async () => {
  security = (await t.signIn("security")).client;
  return security;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "warden-tlsscans-"));
  const ca = await createCa("TLS Scans Test CA");
  const leaf = await issueCertificate({
    commonName: "localhost",
    dnsNames: ["localhost"],
    key: { type: "ec", curve: "P-256" },
    notAfterDays: 300,
    issuer: ca,
  });
  await writeFile(path.join(dir, "ca.pem"), ca.certPem);
  server = https.createServer(
    {
      key: leaf.keyPem,
      cert: leaf.certPem,
      minVersion: "TLSv1.2",
      ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256",
    },
    (_req, res) => {
      res.writeHead(200, hsts ? { "strict-transport-security": "max-age=63072000" } : {});
      res.end("ok");
    },
  );
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as AddressInfo).port;
  // Certificates are checked against the app's clock: start it at the real time.
  t = await createTestApp({
    now: new Date().toISOString(),
    env: { WARDEN_SCAN_TLS_CA: path.join(dir, "ca.pem") },
  });
  await freshLead();
});
afterAll(async () => {
  await t?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe("scheduled TLS scans", () => {
  it("scans a new target when the task runs, then again when it is due, and records what got worse", async () => {
    const created = await security.post("/api/v1/scans/tls/targets", {
      target: `https://localhost:${port}/`,
      label: "customer portal",
      intervalHours: 24,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      source: "manual",
      scheduled: true,
      intervalHours: 24,
      lastScan: null,
    });
    const id = created.body.id as string;

    const first = await t.app.scheduler.runNow("tls.scan");
    expect(first).toMatchObject({ outcome: "ok", summary: { scanned: 1, worse: 0, unreachable: 0 } });
    const listed = (await security.get("/api/v1/scans/tls/targets")).body.items.find(
      (x: { id: string }) => x.id === id,
    );
    expect(listed.lastScan).toMatchObject({
      trigger: "schedule",
      status: "scanned",
      grade: "A+",
      worst: "none",
      findingCount: 0,
    });
    expect(new Date(listed.nextScanAt).getTime()).toBe(t.clock.now().getTime() + 24 * 3_600_000);

    // Not due yet: nothing scanned.
    t.clock.advance(3_600_000);
    expect((await t.app.scheduler.runNow("tls.scan")).summary).toMatchObject({ scanned: 0 });

    // The endpoint loses its HSTS header; the next scheduled scan says what changed.
    hsts = false;
    t.clock.advance(23 * 3_600_000);
    expect((await t.app.scheduler.runNow("tls.scan")).summary).toMatchObject({ scanned: 1, worse: 1 });
    await freshLead();
    const detail = (await security.get(`/api/v1/scans/tls/targets/${id}`)).body;
    expect(detail.latest.diff).toMatchObject({ first: false, worse: true, gradeFrom: "A+", gradeTo: "A" });
    expect(detail.latest.diff.added.map((f: { id: string }) => f.id)).toEqual(["hsts-missing"]);
    expect(detail.latest.result.findings.map((f: { id: string }) => f.id)).toEqual(["hsts-missing"]);
    expect(detail.history.map((h: { grade: string }) => h.grade)).toEqual(["A", "A+"]);
    expect(detail.history[0]).toMatchObject({ added: 1, resolved: 0, worse: true });

    // The regression was announced to security through the outbox, with the scan it refers to.
    const n = await t.store.query<{ subject: string; severity: string; body: string; refs: string[] }>(
      "select subject, severity, body, refs from notifications where topic = 'tls.scan.regressed'",
    );
    expect(n.rows).toHaveLength(1);
    expect(n.rows[0]).toMatchObject({
      subject: `TLS scan of customer portal (https://localhost:${port}/) got worse`,
      severity: "medium",
    });
    expect(n.rows[0]?.body).toContain("grade A+ → A");
    expect(n.rows[0]?.refs).toContain(detail.latest.id);

    // Fixed again: the diff shows it resolved.
    hsts = true;
    const again = await security.post(`/api/v1/scans/tls/targets/${id}/scan`, {});
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({
      trigger: "manual",
      grade: "A+",
      diff: { better: true, worse: false },
    });
    expect(again.body.diff.resolved.map((f: { id: string }) => f.id)).toEqual(["hsts-missing"]);
    const events = await t.app.audit.list({ targetId: id, limit: 10 });
    expect(events.map((e) => e.action)).toEqual([
      "tls.scan.recorded",
      "tls.scan.recorded",
      "tls.scan.recorded",
      "tls.target.created",
    ]);
  });

  it("reports an endpoint that does not answer as unreachable, never as secure", async () => {
    await freshLead();
    const created = await security.post("/api/v1/scans/tls/targets", {
      target: "https://127.0.0.1:1/",
      scheduled: false,
    });
    expect(created.body).toMatchObject({ scheduled: false, nextScanAt: null });
    const r = await security.post(`/api/v1/scans/tls/targets/${created.body.id}/scan`, {});
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: "unreachable", worst: "high", grade: null });
    expect(r.body.result.findings.map((f: { id: string }) => f.id)).toEqual(["unreachable"]);
  });

  it("refuses malformed targets, targets with credentials, and duplicates, naming the field", async () => {
    const bad = await security.post("/api/v1/scans/tls/targets", { target: "ftp://files.example" });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain("unsupported scheme");
    const creds = await security.post("/api/v1/scans/tls/targets", {
      target: "postgres://admin:hunter2@db:5432",
    });
    expect(creds.status).toBe(400);
    expect(creds.body.errors).toEqual([
      { field: "body/target", message: expect.stringContaining("password") },
    ]);
    expect(JSON.stringify(await t.store.query("select target from tls_scan_targets"))).not.toContain(
      "hunter2",
    );
    const dup = await security.post("/api/v1/scans/tls/targets", { target: `HTTPS://LOCALHOST:${port}/` });
    expect(dup.status).toBe(409);
  });

  it("pauses and resumes a target's schedule, and deletes it with its history", async () => {
    const c = await security.post("/api/v1/scans/tls/targets", {
      target: `tls://localhost:${port}`,
      intervalHours: 6,
    });
    const paused = await security.patch(`/api/v1/scans/tls/targets/${c.body.id}`, {
      scheduled: false,
      label: "paused",
    });
    expect(paused.body).toMatchObject({ scheduled: false, nextScanAt: null, label: "paused" });
    expect((await t.app.scheduler.runNow("tls.scan")).summary).toMatchObject({ scanned: 0 });
    const resumed = await security.patch(`/api/v1/scans/tls/targets/${c.body.id}`, { scheduled: true });
    expect(new Date(resumed.body.nextScanAt).getTime()).toBe(t.clock.now().getTime());
    expect((await t.app.scheduler.runNow("tls.scan")).summary).toMatchObject({ scanned: 1 });
    expect((await security.del(`/api/v1/scans/tls/targets/${c.body.id}`)).status).toBe(204);
    expect((await security.get(`/api/v1/scans/tls/targets/${c.body.id}`)).status).toBe(404);
    const left = await t.store.query("select 1 from tls_scans where target_id = $1", [c.body.id]);
    expect(left.rows).toEqual([]);
  });

  it("stores a report sent by `warden scan tls --report`, diffing it with the target's earlier reports", async () => {
    const report = await scanTls([`https://localhost:${port}/reported`], { extraCa: [] });
    const manager = (await t.signIn("manager")).client;
    const sent = await manager.post("/api/v1/scans/tls/reports", report);
    expect(sent.status).toBe(201);
    expect(sent.body.scans).toHaveLength(1);
    // Without the test CA (the CLI did not pass --ca), the chain is untrusted: recorded as the CLI saw it.
    expect(sent.body.scans[0]).toMatchObject({
      trigger: "cli",
      target: `https://localhost:${port}/reported`,
      grade: "T",
    });
    const target = (await security.get(`/api/v1/scans/tls/targets/${sent.body.scans[0].targetId}`)).body;
    expect(target).toMatchObject({ source: "cli", scheduled: false, nextScanAt: null });
    expect(target.latest.reportedBy).toMatch(/^manager/);
    const second = await manager.post("/api/v1/scans/tls/reports", report);
    expect(second.body.scans[0].targetId).toBe(target.id);
    const latest = (await security.get(`/api/v1/scans/tls/scans/${second.body.scans[0].id}`)).body;
    expect(latest.diff).toMatchObject({ first: false, added: [], resolved: [] });
    // Managers send reports but do not choose what the server itself probes.
    expect((await manager.post("/api/v1/scans/tls/targets", { target: "example.org" })).status).toBe(403);
  });
});

describe("targets from the resource catalog", () => {
  it("adds a target per resource endpoint, scans it, and unschedules it when the resource goes away", async () => {
    let resources = [
      {
        resourceId: "7d0d7c4a-56f4-4c8a-9a57-6d1f2a3b4c5d",
        target: `https://localhost:${port}/catalog`,
        label: "billing API",
      },
      { resourceId: "1a2b3c4d-0000-4000-8000-000000000001", target: "not a url at all", label: "a bucket" },
    ];
    const source: TlsTargetSource = { name: "catalog", list: async () => resources };
    const scheduler = createScheduler({
      store: t.store,
      clock: t.clock,
      logger: t.app.deps.logger,
      nodeId: "catalog",
    });
    const svc = createTlsScansService({
      store: t.store,
      clock: t.clock,
      logger: t.app.deps.logger,
      audit: t.app.audit,
      scheduler,
      targetSources: [source],
      scanOptions: { extraCa: [] },
    });
    const run = await svc.runDue();
    expect(run).toMatchObject({ synced: 1 });
    const found = await svc.list({ q: "billing", limit: 10, offset: 0 });
    expect(found.items).toHaveLength(1);
    expect(found.items[0]).toMatchObject({
      source: "catalog",
      resourceId: "7d0d7c4a-56f4-4c8a-9a57-6d1f2a3b4c5d",
      scheduled: true,
      lastScan: { trigger: "schedule", status: "scanned" },
    });
    resources = [];
    expect((await svc.runDue()).synced).toBe(1);
    expect((await svc.list({ q: "billing", limit: 10, offset: 0 })).items[0]).toMatchObject({
      scheduled: false,
    });
  });
});

describe("targets from Warden's own resource catalog", () => {
  it("scans the resources' endpoints: a PostgreSQL server in plaintext, a webhook over http://; archived ones stop being scanned", async () => {
    const admin = (await t.signIn("admin")).client;
    const owner = (await admin.get("/api/v1/auth/session")).body.user.id as string;
    const resource = async (body: Record<string, unknown>) => {
      const r = await admin.post("/api/v1/access/resources", {
        environment: "production",
        dataClass: "confidential",
        owners: [owner],
        levels: ["read"],
        ...body,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as string;
    };
    // The machine's PostgreSQL (trust auth, no TLS) and a local plain-HTTP "webhook" receiver.
    const db = await resource({
      name: "orders-db",
      kind: "postgres",
      connector: { connection: { host: "127.0.0.1", port: 5432, database: "test", user: "postgres" } },
    });
    const hook = await resource({
      name: "deploy hook",
      kind: "generic",
      connector: { url: `http://127.0.0.1:${port}/hook`, secret: "s".repeat(40) },
    });
    await resource({ name: "bastion", kind: "ssh", connector: { principals: ["deploy"] } }); // no TLS target

    const run = await t.app.scheduler.runNow("tls.scan");
    expect(run).toMatchObject({ outcome: "ok", summary: { synced: 2 } });
    const targets = (await security.get("/api/v1/scans/tls/targets?limit=200")).body.items as {
      id: string;
      target: string;
      source: string;
      resourceId: string | null;
      scheduled: boolean;
      lastScan: { status: string; worst: string } | null;
    }[];
    const fromCatalog = targets.filter((x) => x.source === "catalog" && [db, hook].includes(x.resourceId!));
    expect(fromCatalog.map((x) => [x.resourceId, x.target]).sort()).toEqual(
      [
        [db, "postgres://127.0.0.1:5432"],
        [hook, `http://127.0.0.1:${port}/hook`],
      ].sort(),
    );
    const dbTarget = fromCatalog.find((x) => x.resourceId === db)!;
    expect(dbTarget.lastScan).toMatchObject({ status: "scanned", worst: "high" });
    const detail = (await security.get(`/api/v1/scans/tls/targets/${dbTarget.id}`)).body;
    expect(detail.latest.result.findings.map((f: { id: string }) => f.id)).toEqual(
      expect.arrayContaining(["postgres-no-tls", "postgres-plaintext"]),
    );

    // The HTTPS test server does not speak plain HTTP: whatever it answers, it is not a pass.
    expect(fromCatalog.find((x) => x.resourceId === hook)!.lastScan).toMatchObject({ worst: "high" });

    expect((await admin.request("DELETE", `/api/v1/access/resources/${db}`)).status).toBe(200);
    await t.app.scheduler.runNow("tls.scan");
    const after = (await security.get(`/api/v1/scans/tls/targets/${dbTarget.id}`)).body;
    expect(after.scheduled).toBe(false);
  });
});
