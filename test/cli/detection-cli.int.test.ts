import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serve } from "../../src/boot.ts";
import { loadConfig } from "../../src/core/config.ts";
import { wardenArgv } from "./run-cli.ts";

/** `serve` starts the configured syslog receiver; `warden hooks git` prints or writes the Git hooks. */
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function warden(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, wardenArgv(args), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe("warden serve with a syslog port", () => {
  it("listens for syslog, says where, and stops listening when the server stops", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "warden-serve-syslog-"));
    dirs.push(dir);
    const lines: string[] = [];
    const running = await serve(
      loadConfig({
        WARDEN_DATA_DIR: dir,
        WARDEN_PORT: "0",
        WARDEN_LOG_LEVEL: "silent",
        WARDEN_SYSLOG_TCP_PORT: "0",
      }),
      (l) => lines.push(l),
    );
    let port = 0;
    try {
      const line = lines.find((l) => l.includes("syslog receiver"));
      expect(line).toMatch(/syslog receiver: 127\.0\.0\.1 TCP \d+/);
      port = Number(/TCP (\d+)/.exec(line!)![1]);
      await new Promise<void>((resolve, reject) => {
        const s = net.connect(port, "127.0.0.1", () => {
          s.end();
          resolve();
        });
        s.on("error", reject);
      });
    } finally {
      await running.stop();
    }
    await expect(
      new Promise<void>((resolve, reject) => {
        const s = net.connect(port, "127.0.0.1", () => {
          s.end();
          resolve();
        });
        s.on("error", reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("warden hooks git", () => {
  it("prints install instructions and the three scripts, with no token in them", async () => {
    const r = await warden([
      "hooks",
      "git",
      "--url",
      "https://warden.example.test:8443",
      "--repo-root",
      "/srv/git",
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/pre-receive/);
    expect(r.out).toContain("# ----- pre-receive -----");
    expect(r.out).toContain("# ----- post-receive -----");
    expect(r.out).toContain("# ----- warden-git-shell -----");
    expect(r.out).toContain("https://warden.example.test:8443");
    expect(r.out).toContain("/api/v1/ingest/events");
    expect(r.out).toContain("/etc/warden/git-ingest.token");
  });

  it("writes executable scripts with --out", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), "warden-hooks-"));
    dirs.push(out);
    const r = await warden(["hooks", "git", "--url", "https://warden.example.test", "--out", out]);
    expect(r.code).toBe(0);
    for (const f of ["pre-receive", "post-receive", "warden-git-shell"]) {
      expect((await stat(path.join(out, f))).mode & 0o111).not.toBe(0);
      expect(await readFile(path.join(out, f), "utf8")).toMatch(/^#!\/bin\/sh/);
    }
  });

  it("says what is wrong with a bad URL and exits 2", async () => {
    const r = await warden(["hooks", "git", "--url", "ftp://nope"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/http\(s\) URL/);
    expect(r.err).toMatch(/warden hooks git --help/);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/);
  });
});
