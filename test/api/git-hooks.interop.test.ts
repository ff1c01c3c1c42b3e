import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventLogReader } from "../../src/alerts/index.ts";
import { renderGitHooks } from "../../src/ingest/index.ts";
import { createTestApp, type TestApp } from "../harness.ts";

/**
 * The scripts `warden hooks git` prints, installed in a real bare repository, reporting a push with git,
 * sh and curl to Warden's own ingest route (NDJSON, an ingest-scoped token read from a file); the push
 * lands in the verifiable log attributed to the developer by Git username, and the rules see it.
 */
let t: TestApp;
let dir = "";
let dev: { id: string };

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, env });
    let stderr = "";
    p.stderr.on("data", (c) => {
      stderr += c;
    });
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stderr }));
  });
}

beforeAll(async () => {
  t = await createTestApp({ now: new Date().toISOString() });
  await t.server.listen({ host: "127.0.0.1", port: 0 });
  const port = (t.server.server.address() as AddressInfo).port;
  dev = await t.buildDeveloper({ fullName: "Ana Git", gitUsernames: { gitlab: "ana-dev" } });
  t.app.eventLog.directory.invalidate();
  const token = await (await t.admin()).post("/api/v1/tokens", { name: "git server", scopes: ["ingest"] });
  expect(token.status).toBe(201);
  dir = mkdtempSync(join(tmpdir(), "warden-hooks-e2e-"));
  writeFileSync(join(dir, "token"), `${token.body.secret}\n`, { mode: 0o600 });
  const { files } = renderGitHooks({
    wardenUrl: `http://127.0.0.1:${port}`,
    tokenFile: join(dir, "token"),
    repoRoot: join(dir, "srv"),
    requireAudit: true,
  });
  mkdirSync(join(dir, "srv", "acme"), { recursive: true });
  await run("git", ["init", "-q", "--bare", "widgets.git"], join(dir, "srv", "acme"), process.env);
  for (const f of files.filter((f) => f.name !== "warden-git-shell")) {
    const target = join(dir, "srv", "acme", "widgets.git", "hooks", f.name);
    writeFileSync(target, f.content);
    chmodSync(target, f.mode);
  }
});

afterAll(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Git server hooks → Warden's ingest route", () => {
  it("logs a push attempt and its completion, attributed by Git username, and the rules see it", async () => {
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: "Ana",
      GIT_AUTHOR_EMAIL: "ana@vendor.example",
      GIT_COMMITTER_NAME: "Ana",
      GIT_COMMITTER_EMAIL: "ana@vendor.example",
      GL_USERNAME: "ana-dev",
    };
    expect(
      (await run("git", ["clone", "-q", join(dir, "srv", "acme", "widgets.git"), "work"], dir, env)).status,
    ).toBe(0);
    const work = join(dir, "work");
    writeFileSync(join(work, "README"), "hello\n");
    await run("git", ["add", "README"], work, env);
    await run("git", ["commit", "-q", "-m", "first"], work, env);
    const push = await run("git", ["push", "-q", "origin", "HEAD:refs/heads/main"], work, env);
    expect(push.stderr).toBe("");
    expect(push.status).toBe(0);

    await t.app.eventLog.writer.idle();
    await t.app.alerts.detection.idle();
    const reader = eventLogReader(t.store, async () => ({ size: 0 }));
    const pushes = (await reader.readAfter(-1, 1000))
      .map((a) => a.event)
      .filter((e) => e.warden.source === "git-hook");
    expect(pushes).toHaveLength(2); // pre-receive (attempt) and post-receive (complete)
    expect(pushes[1]).toMatchObject({
      class_uid: 6006,
      activity_id: 1,
      warden: { developerId: dev.id, resource: { kind: "git_repository", name: "acme/widgets" } },
    });
    // No agreements yet: the gate says this developer should not be pushing.
    const lapsed = (
      await (await t.admin()).get(`/api/v1/alerts?ruleId=access-without-grant&developerId=${dev.id}`)
    ).body.items;
    expect(lapsed).toHaveLength(1);
    expect(lapsed[0].groupKey).toBe(`${dev.id}|git_repository:acme/widgets`);
  });

  it("refuses a push when the token is wrong and audit is required", async () => {
    writeFileSync(join(dir, "token"), "wdn_not_a_real_token\n", { mode: 0o600 });
    const work = join(dir, "work");
    const env = {
      ...process.env,
      GIT_COMMITTER_NAME: "Ana",
      GIT_COMMITTER_EMAIL: "a@x",
      GIT_AUTHOR_NAME: "Ana",
      GIT_AUTHOR_EMAIL: "a@x",
    };
    writeFileSync(join(work, "README"), "hello again\n");
    await run("git", ["commit", "-q", "-am", "second"], work, env);
    const push = await run("git", ["push", "-q", "origin", "HEAD:refs/heads/main"], work, env);
    expect(push.status).not.toBe(0);
    expect(push.stderr).toMatch(/push refused \(audit required\)/);
  });
});
