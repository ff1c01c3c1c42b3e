import { randomUUID } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventLogReader } from "../../src/alerts/index.ts";
import type { OcsfEvent } from "../../src/ingest/index.ts";
import { createTestApp, type TestApp, type TestClient } from "../harness.ts";

/**
 * Sources wired into the server: the syslog receiver (as `serve` starts it) and the GitHub / GitLab audit
 * streams, authenticated by their shared secrets, normalised to OCSF, attributed to developers, logged.
 */
const GITHUB_TOKEN = "github-stream-token-0123456789";
const GITLAB_TOKEN = "gitlab-verification-token-0123";
let t: TestApp;
let admin: TestClient;
let dev: { id: string };

async function settle() {
  await t.app.sources.settled();
  for (let i = 0; i < 3; i++) {
    await t.app.eventLog.writer.idle();
    await t.app.alerts.detection.idle();
  }
}

async function logged(source: string): Promise<OcsfEvent[]> {
  const reader = eventLogReader(t.store, async () => ({ size: 0 }));
  return (await reader.readAfter(-1, 5000)).map((a) => a.event).filter((e) => e.warden.source === source);
}

const githubEvent = (action: string, repo: string, extra: Record<string, unknown> = {}) => ({
  "@timestamp": Date.parse("2026-11-02T09:30:00Z"),
  _document_id: randomUUID(),
  action,
  actor: "kenji-dev",
  actor_ip: "198.51.100.23",
  repo,
  org: "acme",
  transport_protocol_name: "ssh",
  ...extra,
});

beforeAll(async () => {
  t = await createTestApp({
    now: "2026-11-02T10:00:00Z",
    env: {
      WARDEN_SYSLOG_TCP_PORT: "0",
      WARDEN_SYSLOG_UDP_PORT: "0",
      WARDEN_GITHUB_AUDIT_STREAM_TOKEN: GITHUB_TOKEN,
      WARDEN_GITLAB_AUDIT_TOKEN: GITLAB_TOKEN,
    },
  });
  admin = await t.admin();
  dev = await t.buildDeveloper({
    fullName: "Kenji Dev",
    email: "kenji@vendor.example",
    gitUsernames: { github: "kenji-dev", gitlab: "kenji.gl" },
  });
  t.app.eventLog.directory.invalidate();
  await t.app.sources.startSyslog();
});
afterAll(async () => {
  await t?.app.sources.stop();
  await t?.close();
});

describe("syslog receiver started with the server", () => {
  it("logs sshd lines sent over TCP (octet counting) and UDP, attributing certificate logins", async () => {
    const ports = t.app.sources.status().syslog.ports;
    expect(ports.tcp).toBeGreaterThan(0);
    const lines = [
      `<38>1 2026-11-02T09:00:00Z bastion sshd 811 - - Accepted publickey for deploy from 198.51.100.7 port 52144 ssh2: ED25519-CERT SHA256:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg ID warden:developer=${dev.id}:grant=${randomUUID()} (serial 42) CA ED25519 SHA256:CaFingerprintAbCdEfGhIjKlMnOpQrStUvWxYz01234`,
      "<38>1 2026-11-02T09:00:05Z bastion sshd 812 - - Failed password for invalid user admin from 203.0.113.9 port 40000 ssh2",
      "<86>Nov  2 09:00:06 bastion CRON[99]: pam_unix(cron:session): session opened for user root",
    ];
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(ports.tcp!, "127.0.0.1", () => {
        s.end(lines.map((l) => `${Buffer.byteLength(l)} ${l}`).join(""), () => resolve());
      });
      s.on("error", reject);
    });
    const udp = dgram.createSocket("udp4");
    await new Promise<void>((r) =>
      udp.send(
        "<38>1 2026-11-02T09:00:07Z bastion sshd 813 - - Failed password for root from 203.0.113.9 port 40001 ssh2",
        ports.udp!,
        "127.0.0.1",
        () => r(),
      ),
    );
    udp.close();
    await expect
      .poll(async () => {
        await settle();
        return (await logged("syslog")).length;
      })
      .toBe(3);
    const events = await logged("syslog");
    expect(events.find((e) => e.status_id === 1)).toMatchObject({
      class_uid: 3002,
      auth_protocol: "SSH certificate",
      user: { name: "deploy" },
      warden: { developerId: dev.id, credential: { sshCertSerial: "42" } },
    });
    expect(events.filter((e) => e.status_id === 2).map((e) => e.src_endpoint?.ip)).toEqual([
      "203.0.113.9",
      "203.0.113.9",
    ]);
    const status = (await admin.get("/api/v1/sources/status")).body;
    expect(status.syslog).toMatchObject({ listening: true, messages: 4, events: 3 });
    expect(status.pipeline).toMatchObject({ received: 3, appended: 3, dropped: 0 });
  });
});

describe("GitHub audit-log stream", () => {
  it("refuses a request without the shared secret", async () => {
    const r = await t
      .client()
      .raw(
        "POST",
        "/api/v1/ingest/github-audit",
        JSON.stringify({ event: githubEvent("git.clone", "acme/a") }),
        {
          "content-type": "application/json",
          authorization: "Splunk wrong-token-wrong-token-00",
        },
      );
    expect(r.status).toBe(401);
    expect(r.headers["content-type"]).toMatch(/problem\+json/);
  });

  it("takes Splunk HEC envelopes (as GitHub's Splunk destination sends them), attributed by Git username", async () => {
    const body = [
      { event: githubEvent("git.clone", "acme/app") },
      { event: githubEvent("git.push", "acme/app") },
      { event: githubEvent("repo.add_member", "acme/app", { user: "someone" }) },
    ]
      .map((e) => JSON.stringify(e))
      .join("");
    const r = await t.client().raw("POST", "/api/v1/ingest/github-audit", body, {
      "content-type": "application/json",
      authorization: `Splunk ${GITHUB_TOKEN}`,
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ accepted: 3, duplicates: 0, rejected: 0, problems: [] });
    await settle();
    const events = await logged("github-audit");
    const clone = events.find((e) => e.unmapped?.action === "git.clone");
    expect(clone).toMatchObject({
      class_uid: 6006,
      activity_id: 2,
      warden: { developerId: dev.id, resource: { kind: "git_repository", name: "acme/app" } },
    });
    expect(events.find((e) => e.unmapped?.action === "git.push")?.activity_id).toBe(1);
    expect(events.find((e) => e.unmapped?.action === "repo.add_member")?.class_uid).toBe(3005);
  });

  it("is idempotent by GitHub's document id, and takes gzip at the HEC path at the server root", async () => {
    const same = githubEvent("git.fetch", "acme/lib");
    const body = gzipSync(
      Buffer.from(`${JSON.stringify({ event: same })}\n${JSON.stringify({ event: same })}`),
    );
    const r = await t.client().raw("POST", "/services/collector", body, {
      "content-type": "application/json",
      "content-encoding": "gzip",
      authorization: `Splunk ${GITHUB_TOKEN}`,
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ text: "Success", code: 0 });
    await settle();
    expect((await logged("github-audit")).filter((e) => e.metadata.uid === same._document_id)).toHaveLength(
      1,
    );
    expect((await t.client().get("/services/collector/health")).body.code).toBe(17);
  });

  it("reports events it cannot read and refuses a body of none", async () => {
    const r = await t
      .client()
      .raw("POST", "/api/v1/ingest/github-audit", `${JSON.stringify({ event: { action: "git.clone" } })}`, {
        "content-type": "application/json",
        authorization: `Bearer ${GITHUB_TOKEN}`,
      });
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(/@timestamp/);
    const bad = await t.client().raw("POST", "/api/v1/ingest/github-audit", "{not json", {
      "content-type": "application/json",
      authorization: `Bearer ${GITHUB_TOKEN}`,
    });
    expect(bad.status).toBe(400);
  });
});

describe("GitLab audit event streaming", () => {
  const gitlabEvent = (project: string) => ({
    id: randomUUID(),
    author_id: 7,
    author_name: "kenji.gl",
    entity_id: 12,
    entity_path: project,
    entity_type: "Project",
    event_type: "repository_git_operation",
    details: { custom_message: { action: "git-upload-pack", protocol: "ssh" }, author_class: "User" },
    ip_address: "198.51.100.24",
    created_at: "2026-11-02T09:40:00.000Z",
  });

  it("checks the verification token header and logs a clone, attributed by GitLab username", async () => {
    let r = await t.client().request("POST", "/api/v1/ingest/gitlab-audit", gitlabEvent("acme/infra"), {
      "x-gitlab-event-streaming-token": "nope-nope-nope-nope",
    });
    expect(r.status).toBe(401);
    r = await t.client().request("POST", "/api/v1/ingest/gitlab-audit", gitlabEvent("acme/infra"), {
      "x-gitlab-event-streaming-token": GITLAB_TOKEN,
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ accepted: 1, duplicates: 0 });
    await settle();
    expect((await logged("gitlab-audit"))[0]).toMatchObject({
      class_uid: 6006,
      activity_id: 2,
      src_endpoint: { ip: "198.51.100.24" },
      warden: { developerId: dev.id, resource: { name: "acme/infra" } },
    });
  });

  it("feeds the mass-clone rule", async () => {
    await admin.put("/api/v1/alerts/rules", {
      builtin: { massDownload: { distinct: 5, windowMinutes: 10 } },
    });
    for (let i = 0; i < 5; i++) {
      const r = await t
        .client()
        .request("POST", "/api/v1/ingest/gitlab-audit", gitlabEvent(`acme/repo-${i}`), {
          "x-gitlab-event-streaming-token": GITLAB_TOKEN,
        });
      expect(r.status).toBe(200);
    }
    await settle();
    const mass = (await admin.get("/api/v1/alerts?ruleId=mass-download")).body.items;
    expect(mass).toHaveLength(1);
    expect(mass[0]).toMatchObject({ developer: { id: dev.id }, severity: "high" });
  });
});
