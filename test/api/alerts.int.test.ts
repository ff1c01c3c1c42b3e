import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemCtx } from "../../src/core/context.ts";
import {
  FileHostingActivityId,
  OCSF_VERSION,
  type OcsfEvent,
  ocsfEvent,
  parseSshdMessage,
} from "../../src/ingest/index.ts";
import { createTestApp, type SignedIn, type TestApp, type TestClient } from "../harness.ts";

/**
 * Alerts through the real surface: events appended to the verifiable log run the rules inline, alerts
 * are stored with their events, people work them through the API, rules are configured in settings and
 * tested against past events.
 */
let t: TestApp;
let security: SignedIn;
let auditor: SignedIn;
let admin: TestClient;
let tokyo: { id: string };
let newYork: { id: string };

function login(o: {
  dev?: string;
  at: string | number;
  ok?: boolean;
  user?: string;
  ip?: string;
}): OcsfEvent {
  const e = parseSshdMessage({
    message: `${o.ok === false ? "Failed" : "Accepted"} password for ${o.user ?? "dev"} from ${o.ip ?? "198.51.100.4"} port 4000 ssh2`,
    time: typeof o.at === "number" ? o.at : Date.parse(o.at),
    hostname: "bastion",
  })!;
  e.metadata.uid = randomUUID();
  e.warden.source = "syslog";
  if (o.dev) e.warden.developerId = o.dev;
  return e;
}

function clone(dev: string, repo: string, at: number): OcsfEvent {
  return ocsfEvent("fileHostingActivity", {
    activity_id: FileHostingActivityId.download,
    activity_name: "Download",
    time: at,
    severity_id: 1,
    status_id: 1,
    status: "Success",
    file: { name: repo, type: "Git repository" },
    metadata: { version: OCSF_VERSION, product: { name: "GitHub" }, uid: randomUUID() },
    warden: { source: "github-audit", developerId: dev, resource: { kind: "git_repository", name: repo } },
  });
}

async function ingest(events: OcsfEvent[]) {
  await t.app.eventLog.appendEvents(events);
  await settle();
}

/** Waits until the log has told every listener and the rules have stored their alerts. */
async function settle() {
  for (let i = 0; i < 3; i++) {
    await t.app.eventLog.writer.idle();
    await t.app.alerts.detection.idle();
  }
}

const alertsOf = async (query: string) => (await admin.get(`/api/v1/alerts?${query}`)).body.items as any[];

beforeAll(async () => {
  t = await createTestApp({ now: "2026-11-02T10:00:00Z" });
  admin = await t.admin();
  security = await t.signIn("security");
  auditor = await t.signIn("auditor");
  tokyo = await t.buildDeveloper({
    fullName: "Kenji Tokyo",
    timeZone: "Asia/Tokyo",
    workingHours: { start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5] },
  });
  newYork = await t.buildDeveloper({
    fullName: "Nora New York",
    timeZone: "America/New_York",
    workingHours: { start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5] },
  });
});
afterAll(async () => t?.close());

describe("off-hours rule on logged events", () => {
  it("flags a Tokyo developer at 02:00 local and not a New York developer at the same instant", async () => {
    // 2026-11-02 17:00 UTC: 02:00 Tuesday in Tokyo, 12:00 Monday in New York.
    await ingest([
      login({ dev: tokyo.id, at: "2026-11-02T17:00:00Z" }),
      login({ dev: newYork.id, at: "2026-11-02T17:00:00Z" }),
    ]);
    const offHours = await alertsOf("ruleId=off-hours");
    expect(offHours).toHaveLength(1);
    expect(offHours[0]).toMatchObject({
      severity: "medium",
      status: "open",
      developer: { id: tokyo.id, name: "Kenji Tokyo" },
      count: 1,
      details: { timeZone: "Asia/Tokyo", localTime: "02:00", localDate: "2026-11-03" },
    });
    expect(offHours[0].summary).toContain("02:00 Asia/Tokyo");
  });

  it("reports the gate's reasons when a developer without agreements logs in", async () => {
    const lapsed = await alertsOf(`ruleId=access-without-grant&developerId=${newYork.id}`);
    expect(lapsed).toHaveLength(1);
    expect(lapsed[0].details.reasons.join("; ")).toMatch(/NDA/);
  });
});

describe("failed-login burst, grouping and event links", () => {
  let alertId = "";
  it("raises one alert for a burst and counts the repeats into it", async () => {
    const t0 = Date.parse("2026-11-02T09:00:00Z");
    await ingest(
      Array.from({ length: 12 }, (_, i) =>
        login({ at: t0 + i * 1000, ok: false, user: "root", ip: "203.0.113.77" }),
      ),
    );
    const burst = await alertsOf("ruleId=failed-login-burst&q=203.0.113.77");
    expect(burst).toHaveLength(1);
    expect(burst[0]).toMatchObject({ severity: "high", count: 3, groupKey: "address|203.0.113.77" });
    expect(burst[0].firstSeen).toBe("2026-11-02T09:00:09.000Z");
    expect(burst[0].lastSeen).toBe("2026-11-02T09:00:11.000Z");
    alertId = burst[0].id;
    const detail = (await admin.get(`/api/v1/alerts/${alertId}`)).body;
    expect(detail.events).toHaveLength(3);
    expect(detail.events[0].label).toMatch(
      /Authentication: Logon \(Failure\) user root from 203\.0\.113\.77/,
    );
    expect(detail.activity[0]).toMatchObject({ kind: "opened", actor: { label: "rules" } });
  });

  it("lets security acknowledge, assign, annotate and resolve it, each change on its timeline", async () => {
    let r = await security.client.patch(`/api/v1/alerts/${alertId}`, {
      status: "acknowledged",
      assigneeId: security.userId,
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: "acknowledged", assignee: { id: security.userId } });
    r = await security.client.post(`/api/v1/alerts/${alertId}/notes`, {
      body: "Scanner from a known botnet",
    });
    expect(r.status).toBe(201);
    r = await security.client.patch(`/api/v1/alerts/${alertId}`, {
      status: "resolved",
      comment: "Blocked at the firewall",
    });
    expect(r.body.status).toBe("resolved");
    expect(r.body.resolvedAt).toBe("2026-11-02T10:00:00.000Z");
    expect(r.body.activity.map((a: any) => a.kind)).toEqual(["opened", "status", "assign", "note", "status"]);
    expect(r.body.activity[4]).toMatchObject({ body: "Blocked at the firewall", data: { to: "resolved" } });
    const audit = (await admin.get(`/api/v1/audit/events?targetId=${alertId}`)).body.items.map(
      (e: any) => e.action,
    );
    expect(audit).toEqual(
      expect.arrayContaining(["alerts.alert.opened", "alerts.alert.update", "alerts.alert.note"]),
    );
  });

  it("opens a new alert when the burst goes on after the old one was resolved", async () => {
    const t0 = Date.parse("2026-11-02T09:30:00Z");
    await ingest(
      Array.from({ length: 10 }, (_, i) =>
        login({ at: t0 + i * 1000, ok: false, user: `u${i}`, ip: "203.0.113.77" }),
      ),
    );
    const burst = await alertsOf("ruleId=failed-login-burst&q=203.0.113.77");
    expect(burst.map((a) => a.status).sort()).toEqual(["open", "resolved"]);
  });

  it("refuses to reopen an alert while another open one collects its events", async () => {
    const r = await security.client.patch(`/api/v1/alerts/${alertId}`, { status: "open" });
    expect(r.status).toBe(409);
    expect(r.headers["content-type"]).toMatch(/problem\+json/);
  });

  it("refuses an assignee who is not staff, and lets auditors read but not change", async () => {
    const dev = await t.signIn("developer");
    let r = await security.client.patch(`/api/v1/alerts/${alertId}`, { assigneeId: dev.userId });
    expect(r.status).toBe(400);
    expect(r.body.errors?.[0]?.field ?? r.body.detail).toMatch(/assigneeId/);
    expect((await auditor.client.get(`/api/v1/alerts/${alertId}`)).status).toBe(200);
    r = await auditor.client.patch(`/api/v1/alerts/${alertId}`, { status: "open" });
    expect(r.status).toBe(403);
  });

  it("filters by status and severity and pages", async () => {
    const open = await admin.get("/api/v1/alerts?status=open&severity=high,critical&limit=1");
    expect(open.body.limit).toBe(1);
    expect(
      open.body.items.every((a: any) => a.status === "open" && ["high", "critical"].includes(a.severity)),
    ).toBe(true);
    expect(open.body.total).toBeGreaterThanOrEqual(1);
    expect((await admin.get("/api/v1/alerts?status=bogus")).status).toBe(400);
  });
});

describe("access without a live grant", () => {
  it("names a missing grant on a resource of the catalog, and judges nothing else on grants", async () => {
    const owner = await t.signIn("manager");
    const r = await admin.post("/api/v1/access/resources", {
      kind: "github",
      name: "acme/widgets",
      description: "",
      environment: "production",
      dataClass: "confidential",
      owners: [owner.userId],
      levels: ["read", "write"],
      maxDurationMinutes: 480,
      connector: {
        apiUrl: "https://github.invalid",
        owner: "acme",
        repo: "widgets",
        token: "ghp_not_used_here",
      },
    });
    expect(r.status).toBe(201);
    const t0 = Date.parse("2026-11-02T11:00:00Z");
    await ingest([clone(newYork.id, "acme/widgets", t0), clone(newYork.id, "acme/free", t0 + 1000)]);
    const lapsed = await alertsOf(`ruleId=access-without-grant&developerId=${newYork.id}&q=acme`);
    const managed = lapsed.find((a) => a.groupKey.endsWith("git_repository:acme/widgets"));
    expect(managed.details.reasons[0]).toBe("no live grant on git_repository acme/widgets");
    const unmanaged = lapsed.find((a) => a.groupKey.endsWith("git_repository:acme/free"));
    expect(unmanaged.details.reasons.join("; ")).not.toMatch(/live grant/);
    expect(unmanaged.details.reasons.join("; ")).toMatch(/NDA/);
  });
});

describe("break-glass", () => {
  it("raises a critical alert when access records a break-glass opening", async () => {
    await t.app.audit.recordAlone(systemCtx("access"), {
      action: "access.breakglass.opened",
      target: { type: "grant", id: randomUUID() },
      summary: { reason: "production outage" },
    });
    await settle();
    const bg = await alertsOf("ruleId=break-glass");
    expect(bg).toHaveLength(1);
    expect(bg[0]).toMatchObject({ severity: "critical" });
    expect(bg[0].summary).toMatch(/break-glass/i);
  });
});

describe("rule settings", () => {
  it("lists the built-in rules with their effective options", async () => {
    const r = await auditor.client.get("/api/v1/alerts/rules");
    expect(r.status).toBe(200);
    const burst = r.body.builtin.find((b: any) => b.id === "failed-login-burst");
    expect(burst).toMatchObject({
      enabled: true,
      severity: "high",
      options: { threshold: 10, windowMinutes: 5 },
    });
    expect(r.body.builtin.map((b: any) => b.id)).toContain("off-hours");
  });

  it("refuses a Sigma rule that does not load, naming it", async () => {
    const r = await admin.put("/api/v1/alerts/rules", {
      sigma: [{ id: "broken", yaml: "title: x\ndetection:\n  sel: { user|windash: a }\n  condition: sel\n" }],
    });
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(/Sigma rule broken: .*windash/);
  });

  it("applies changed thresholds, disabled rules and Sigma rules to the next events", async () => {
    const r = await admin.put("/api/v1/alerts/rules", {
      builtin: { massDownload: { distinct: 3, windowMinutes: 10 }, offHours: false },
      sigma: [
        {
          id: "secret-repo",
          yaml: "title: Clone of the secrets repository\nid: secret-repo-clone\nlevel: high\nlogsource: { product: github }\ndetection:\n  sel: { repo: acme/secrets }\n  condition: sel\n",
        },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.builtin.find((b: any) => b.id === "off-hours").enabled).toBe(false);
    const t0 = Date.parse("2026-11-02T20:00:00Z"); // off hours in Tokyo, but off-hours is disabled now
    await ingest(["acme/a", "acme/b", "acme/secrets"].map((repo, i) => clone(tokyo.id, repo, t0 + i * 1000)));
    const mass = await alertsOf("ruleId=mass-download");
    expect(mass).toHaveLength(1);
    expect(mass[0]).toMatchObject({ developer: { id: tokyo.id }, details: { count: 3 } });
    expect(await alertsOf("ruleId=sigma:secret-repo-clone")).toHaveLength(1);
    expect((await alertsOf("ruleId=off-hours")).every((a) => a.lastSeen < "2026-11-02T20:00:00Z")).toBe(true);
    const audit = (await admin.get("/api/v1/audit/events?action=alerts.rules.update")).body.items;
    expect(audit[0].summary.changed).toEqual(expect.arrayContaining(["builtin", "sigma"]));
  });
});

describe("test a rule against past events", () => {
  it("replays saved or proposed settings over the log without storing alerts", async () => {
    const before = (await admin.get("/api/v1/alerts?limit=200")).body.total;
    const body = {
      from: "2026-11-02T08:00:00Z",
      to: "2026-11-03T00:00:00Z",
      settings: { builtin: { failedLoginBurst: { threshold: 20 }, offHours: { graceMinutes: 0 } } },
      ruleIds: ["failed-login-burst", "off-hours"],
    };
    let r = await security.client.post("/api/v1/alerts/rules/test", body);
    expect(r.status).toBe(200);
    expect(r.body.eventsScanned).toBeGreaterThan(20);
    expect(r.body.truncated).toBe(false);
    // Two bursts of 12 and 10 failures, 30 minutes apart: none reaches 20.
    expect(r.body.byRule["failed-login-burst"]).toBeUndefined();
    // The replay groups within an hour; the stored alert kept collecting until someone resolved it.
    const offHours = r.body.alerts.filter((a: any) => a.ruleId === "off-hours" && a.developerId === tokyo.id);
    expect(offHours).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ summary: expect.stringContaining("02:00 Asia/Tokyo") }),
      ]),
    );
    r = await security.client.post("/api/v1/alerts/rules/test", {
      ...body,
      settings: { builtin: { failedLoginBurst: { threshold: 5, by: ["address"] } } },
    });
    // Both bursts within the grouping hour: one alert, 8 + 6 hits from the 5th failure of each on.
    expect(r.body.byRule["failed-login-burst"]).toBe(1);
    expect(r.body.alerts.find((a: any) => a.ruleId === "failed-login-burst")).toMatchObject({
      groupKey: "address|203.0.113.77",
      count: 14,
    });
    expect((await admin.get("/api/v1/alerts?limit=200")).body.total).toBe(before);
  });

  it("rejects an empty or too long range", async () => {
    const r = await security.client.post("/api/v1/alerts/rules/test", {
      from: "2026-11-02T08:00:00Z",
      to: "2026-11-02T08:00:00Z",
    });
    expect(r.status).toBe(400);
  });
});

describe("timeline picture data", () => {
  it("counts alerts opened per hour by severity, with totals by status", async () => {
    const r = await auditor.client.get(
      "/api/v1/alerts/timeline?from=2026-11-02T00:00:00Z&to=2026-11-03T00:00:00Z",
    );
    expect(r.status).toBe(200);
    expect(r.body.hours).toHaveLength(24);
    const at9 = r.body.hours.find((h: any) => h.hour === "2026-11-02T09:00:00.000Z");
    // Per address: the resolved burst and the one after it; per account: root@bastion.
    expect(at9.counts.high).toBe(3);
    const at17 = r.body.hours.find((h: any) => h.hour === "2026-11-02T17:00:00.000Z");
    expect(at17.counts.medium).toBe(1); // off-hours in Tokyo
    expect(r.body.totals.resolved.high).toBe(1);
  });
});
