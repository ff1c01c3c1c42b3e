import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authRepo } from "../../src/auth/auth.repo.ts";
import { type Running, serve } from "../../src/boot.ts";
import { loadConfig } from "../../src/core/config.ts";
import { hashPassword } from "../../src/crypto/passwords.ts";
import { parseSshdMessage } from "../../src/ingest/index.ts";
import { runWarden } from "./run-cli.ts";

/**
 * `warden events search | export` and `warden alerts list | show | ack | resolve` against a real HTTPS
 * server, the CLI in a child process, as a security lead works from a terminal.
 */
let running: Running;
let dir: string;
let env: Record<string, string>;

const warden = (args: string[]) => runWarden(args, env);

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "warden-events-cli-"));
  const lines: string[] = [];
  running = await serve(
    loadConfig({ WARDEN_DATA_DIR: path.join(dir, "data"), WARDEN_PORT: "0", WARDEN_LOG_LEVEL: "silent" }),
    (l) => lines.push(l),
  );
  const fingerprint = lines.find((l) => l.includes("SHA-256 fingerprint"))?.split(": ")[1] ?? "";
  const userId = randomUUID();
  await authRepo.insertUser(running.store, {
    id: userId,
    email: "soc@example.test",
    displayName: "SOC lead",
    role: "security",
    developerId: null,
    passwordHash: await hashPassword("unused password 123", { ln: 10, r: 8, p: 1 }),
    at: new Date(),
  });
  const { secret } = await running.app.auth.createToken(
    { actor: { kind: "user", userId, role: "security", label: "soc@example.test" }, meta: {} },
    { name: "cli", scopes: ["read", "write"], expiresInDays: 1 },
  );
  env = {
    XDG_CONFIG_HOME: path.join(dir, "config"),
    WARDEN_SERVER: running.url,
    WARDEN_TOKEN: secret,
    WARDEN_CA_FINGERPRINT: fingerprint,
  };
  const now = Date.now();
  await running.app.eventLog.appendEvents(
    Array.from({ length: 12 }, (_, i) => {
      const e = parseSshdMessage({
        message: `Failed password for root from 203.0.113.9 port ${40_000 + i} ssh2`,
        time: now - 60_000 + i * 1000,
        hostname: "bastion",
      })!;
      e.metadata.uid = randomUUID();
      e.warden.source = "syslog";
      return e;
    }),
  );
  for (let i = 0; i < 3; i++) {
    await running.app.eventLog.writer.idle();
    await running.app.alerts.detection.idle();
  }
}, 240_000);
afterAll(async () => {
  await running?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("warden events", () => {
  it("searches the log with filters", async () => {
    const r = await warden(["events", "search", "--class", "3002", "--outcome", "failure", "--json"]);
    expect(r.code, r.err).toBe(0);
    const items = JSON.parse(r.out).items;
    expect(items).toHaveLength(12);
    expect(items.every((e: { srcIp: string }) => e.srcIp === "203.0.113.9")).toBe(true);
    const table = await warden(["events", "search", "--ip", "203.0.113.", "--limit", "2"]);
    expect(table.code).toBe(0);
    expect(table.out.split("\n")[0]).toMatch(/^INDEX\s+AT\s+CLASS\s+ACTION/);
    expect(table.out.trim().split("\n")).toHaveLength(3);
  });

  it("exports matching events as OCSF NDJSON to a file, and as a JSON array to standard output", async () => {
    const file = path.join(dir, "failures.ndjson");
    const r = await warden([
      "events",
      "export",
      "--outcome",
      "failure",
      "--from",
      "2020-01-01",
      "--out",
      file,
    ]);
    expect(r.code, r.err).toBe(0);
    const lines = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(12);
    expect(lines[0]).toMatchObject({ class_uid: 3002, status_id: 2, src_endpoint: { ip: "203.0.113.9" } });
    const json = await warden(["events", "export", "--class", "3002", "--format", "json"]);
    expect(json.code, json.err).toBe(0);
    expect(JSON.parse(json.out)).toHaveLength(12);
  });

  it("says what is wrong with a bad time and exits 2", async () => {
    const r = await warden(["events", "search", "--from", "last tuesday"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--from: not a date or time: last tuesday");
  });
});

describe("warden alerts", () => {
  it("lists the alerts the burst raised, shows one, acknowledges and resolves it", async () => {
    const list = await warden(["alerts", "list", "--rule", "failed-login-burst", "--json"]);
    expect(list.code, list.err).toBe(0);
    const alerts = JSON.parse(list.out).items;
    expect(alerts.length).toBeGreaterThan(0);
    const id = alerts[0].id as string;
    const table = await warden(["alerts", "list"]);
    expect(table.out).toContain("Burst of failed logins");

    const ack = await warden(["alerts", "ack", id, "--comment", "on it"]);
    expect(ack.code, ack.err).toBe(0);
    expect(ack.out).toMatch(/: acknowledged$/m);
    const show = await warden(["alerts", "show", id]);
    expect(show.code).toBe(0);
    expect(show.out).toContain("[high, acknowledged]");
    expect(show.out).toMatch(/203\.0\.113\.9/);
    expect(show.out).toMatch(/soc@example\.test.*: status open → acknowledged — on it/);
    expect((await warden(["alerts", "resolve", id])).out).toMatch(/: resolved$/m);
    expect((await warden(["alerts", "resolve", "00000000-0000-4000-8000-000000000000"])).code).toBe(5);
  });
});
