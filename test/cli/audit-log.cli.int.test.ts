import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authRepo } from "../../src/auth/auth.repo.ts";
import { type Running, serve } from "../../src/boot.ts";
import { loadConfig } from "../../src/core/config.ts";
import { systemCtx } from "../../src/core/context.ts";
import { hashPassword } from "../../src/crypto/passwords.ts";
import { OCSF_VERSION } from "../../src/ingest/index.ts";
import {
  decodeBundle,
  encodeBundle,
  entryBundlePath,
  parseVerifierKey,
  verifyTlogProof,
} from "../../src/tlog/index.ts";
import { runWarden } from "./run-cli.ts";

/**
 * `warden audit verify | prove | export | checkpoint | key` as an auditor runs them: a real HTTPS server,
 * the CLI in a child process, checkpoints and keys kept in files, exports checked offline.
 */
let running: Running;
let dir: string;
let env: Record<string, string>;

const warden = (args: string[]) => runWarden(args, env);

const at = (f: string) => path.join(dir, f);

async function appendAuthEvents(from: number, n: number) {
  await running.app.eventLog.appendEvents(
    Array.from({ length: n }, (_, i) => ({
      class_uid: 3002,
      category_uid: 3,
      activity_id: 1,
      type_uid: 300201,
      time: Date.now(),
      severity_id: 1,
      status_id: 1,
      metadata: { version: OCSF_VERSION, product: { name: "sshd" }, uid: `cli-${from + i}` },
      user: { name: `user${(from + i) % 5}` },
      warden: { source: "syslog" },
    })),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "warden-audit-cli-"));
  const lines: string[] = [];
  running = await serve(
    loadConfig({ WARDEN_DATA_DIR: at("data"), WARDEN_PORT: "0", WARDEN_LOG_LEVEL: "silent" }),
    (l) => lines.push(l),
  );
  const fingerprint = lines.find((l) => l.includes("SHA-256 fingerprint"))?.split(": ")[1] ?? "";
  const userId = randomUUID();
  await authRepo.insertUser(running.store, {
    id: userId,
    email: "auditor@example.test",
    displayName: "Auditor",
    role: "auditor",
    developerId: null,
    passwordHash: await hashPassword("unused password 123", { ln: 10, r: 8, p: 1 }),
    at: new Date(),
  });
  const { secret } = await running.app.auth.createToken(
    { actor: { kind: "user", userId, role: "auditor", label: "auditor@example.test" }, meta: {} },
    { name: "audit-cli", scopes: ["read"], expiresInDays: 1 },
  );
  env = {
    XDG_CONFIG_HOME: at("config"),
    WARDEN_SERVER: running.url,
    WARDEN_TOKEN: secret,
    WARDEN_CA_FINGERPRINT: fingerprint,
  };
  await appendAuthEvents(0, 100);
}, 240_000);
afterAll(async () => {
  await running?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("warden audit", () => {
  it("keeps a checkpoint and the key, then verifies the grown log online against them", async () => {
    const key = await warden(["audit", "key"]);
    expect(key.code, key.err).toBe(0);
    expect(() => parseVerifierKey(key.out.trim())).not.toThrow();
    await writeFile(at("log.key"), key.out);
    const cp = await warden(["audit", "checkpoint", "--out", at("kept.checkpoint")]);
    expect(cp.code, cp.err).toBe(0);
    expect(cp.out).toMatch(/Checkpoint of \d+ entries written/);

    await appendAuthEvents(100, 400);
    const server = await warden(["audit", "verify"]);
    expect(server.code, server.err).toBe(0);
    expect(server.out).toContain("Audit log intact");

    const online = await warden([
      "audit",
      "verify",
      "--checkpoint",
      at("kept.checkpoint"),
      "--key",
      at("log.key"),
    ]);
    expect(online.code, online.err + online.out).toBe(0);
    expect(online.out).toMatch(/^OK: \d+ entries verified/);
    expect(online.out).toContain("root matches the kept checkpoint");
  }, 240_000);

  it("exports the log as tiles that verify offline, and names an entry changed in the export", async () => {
    const exp = await warden(["audit", "export", at("export")]);
    expect(exp.code, exp.err).toBe(0);
    const args = [
      "audit",
      "verify",
      "--checkpoint",
      at("kept.checkpoint"),
      "--key",
      at("log.key"),
      "--tiles",
      at("export"),
    ];
    const ok = await warden(args);
    expect(ok.code, ok.out + ok.err).toBe(0);

    const size = Number((await readFile(path.join(at("export"), "checkpoint"), "utf8")).split("\n")[1]);
    const file = path.join(at("export"), entryBundlePath(1, Math.min(256, size - 256)));
    const entries = decodeBundle(new Uint8Array(await readFile(file)))!.map((e) => new Uint8Array(e));
    const changed = entries[7]!;
    changed[20] = (changed[20] ?? 0) ^ 1;
    await writeFile(file, encodeBundle(entries));
    const bad = await warden(args);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("First bad entry: 263");
  }, 240_000);

  it("prints a receipt for an event that verifies with only the key and the entry", async () => {
    const id = (await running.app.eventLog.service.search({ source: "syslog" }, 1))[0]!.id;
    const r = await warden(["audit", "prove", id, "--key", at("log.key"), "--out", at("event.tlog-proof")]);
    expect(r.code, r.err).toBe(0);
    const receipt = await readFile(at("event.tlog-proof"), "utf8");
    const d = await running.app.eventLog.service.get(id);
    const entry = new TextEncoder().encode(
      (await running.store.query<{ entry: string }>("select entry from log_events where id = $1", [id]))
        .rows[0]!.entry,
    );
    const key = parseVerifierKey((await readFile(at("log.key"), "utf8")).trim());
    expect(verifyTlogProof(receipt, entry, key).index).toBe(d.index);
  }, 240_000);

  it("refuses a malformed key with exit code 2 and says what to give", async () => {
    const r = await warden([
      "audit",
      "verify",
      "--checkpoint",
      at("kept.checkpoint"),
      "--key",
      "not-a-key+zz",
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("name+hash+base64key");
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
  }, 240_000);
  it("after retention pruned the log: says so for a pruned entry, and verifies what remains", async () => {
    await running.app.eventLog.retention.set(systemCtx("test"), { defaultDays: 1, classes: [] });
    const pruned = await running.app.eventLog.retention.run(new Date(Date.now() + 3 * 86_400_000));
    expect(pruned.before).toBeGreaterThanOrEqual(256);
    const cut = pruned.before;

    const prove = await warden(["audit", "prove", "3"]);
    expect(prove.code).toBe(5);
    expect(prove.err).toContain(`Entry 3 was pruned by retention (entries before ${cut} are gone)`);

    // The checkpoint kept at the start lies in the pruned range: the rest verifies, and the CLI says why
    // the kept one cannot be checked any more.
    const online = await warden([
      "audit",
      "verify",
      "--checkpoint",
      at("kept.checkpoint"),
      "--key",
      at("log.key"),
    ]);
    expect(online.code, online.out + online.err).toBe(0);
    expect(online.err).toContain("lies in the range retention pruned");
    expect(online.out).toContain(`(from entry ${cut})`);

    const exp = await warden(["audit", "export", at("export-pruned")]);
    expect(exp.code, exp.err).toBe(0);
    expect(exp.out).toContain(`--from ${cut}`);
    const args = ["audit", "verify", "--checkpoint", at("export-pruned/checkpoint"), "--key", at("log.key")];
    const without = await warden([...args, "--tiles", at("export-pruned")]);
    expect(without.code).toBe(1);
    expect(without.err).toContain(`hint: this export's first entry bundle starts at entry ${cut}`);
    const withFrom = await warden([...args, "--tiles", at("export-pruned"), "--from", String(cut)]);
    expect(withFrom.code, withFrom.out + withFrom.err).toBe(0);
  }, 240_000);
});
