/**
 * Runs the generated hook scripts for real: git, sh, curl and ssh-keygen from Debian against a local
 * HTTP server standing in for Warden's ingest endpoint.
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { normaliseGitHookRecord, renderGitHooks } from "./git-hooks.ts";

const missing = ["/usr/bin/git", "/usr/bin/curl", "/usr/bin/ssh-keygen", "/usr/bin/git-shell"].filter(
  (p) => !existsSync(p),
);

/** Asynchronous on purpose: the ingest stand-in runs in this process and must answer while we wait. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (c) => {
      stdout += c;
    });
    p.stderr.on("data", (c) => {
      stderr += c;
    });
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
    p.stdin.on("error", () => {}); // a process that exits without reading its input is fine here
    p.stdin.end(opts.input ?? "");
  });
}

interface Received {
  auth?: string;
  contentType?: string;
  lines: unknown[];
}

describe("warden hooks git", () => {
  let dir = "";
  let server: http.Server;
  let port = 0;
  let status = 202;
  const received: Received[] = [];
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: "Dev",
    GIT_AUTHOR_EMAIL: "dev@example.com",
    GIT_COMMITTER_NAME: "Dev",
    GIT_COMMITTER_EMAIL: "dev@example.com",
    WARDEN_GIT_USER: "dev-ana",
  };
  const git = (cwd: string, ...args: string[]) => run("git", args, { cwd, env: gitEnv });

  beforeAll(async () => {
    if (missing.length)
      throw new Error(
        `missing ${missing.join(", ")}: run .ci/install-deps (Debian: git, curl, openssh-client)`,
      );
    dir = mkdtempSync(join(tmpdir(), "warden-hooks-"));
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        if (req.url === "/api/v1/ingest/events" && req.method === "POST") {
          received.push({
            auth: req.headers.authorization,
            contentType: req.headers["content-type"],
            lines: body
              .split("\n")
              .filter(Boolean)
              .map((l) => JSON.parse(l)),
          });
        }
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as AddressInfo).port;

    writeFileSync(join(dir, "token"), "wdn_ingest_test_token\n", { mode: 0o600 });
    const { files } = renderGitHooks({
      wardenUrl: `http://127.0.0.1:${port}/`,
      tokenFile: join(dir, "token"),
      repoRoot: join(dir, "srv"),
    });
    mkdirSync(join(dir, "srv", "acme"), { recursive: true });
    expect((await git(join(dir, "srv", "acme"), "init", "-q", "--bare", "widgets.git")).status).toBe(0);
    for (const f of files) {
      const target =
        f.name === "warden-git-shell"
          ? join(dir, f.name)
          : join(dir, "srv", "acme", "widgets.git", "hooks", f.name);
      writeFileSync(target, f.content);
      chmodSync(target, f.mode);
    }
    expect((await git(dir, "clone", "-q", join(dir, "srv", "acme", "widgets.git"), "work")).status).toBe(0);
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    received.length = 0;
    status = 202;
  });

  it("reports a push attempt and its completion as NDJSON with the bearer token", async () => {
    const work = join(dir, "work");
    writeFileSync(join(work, "README"), "hello\n");
    await git(work, "add", "README");
    await git(work, "commit", "-qm", "first");
    const push = await git(work, "push", "-q", "origin", "HEAD:refs/heads/main");
    expect(push.status, push.stderr).toBe(0);
    expect(received).toHaveLength(2);
    for (const r of received) {
      expect(r.auth).toBe("Bearer wdn_ingest_test_token");
      expect(r.contentType).toBe("application/x-ndjson");
    }
    const [attempt, complete] = received.map((r) => normaliseGitHookRecord(r.lines[0]));
    expect(attempt).toMatchObject({ class_uid: 6006, activity_id: 1, status_id: 0 });
    expect(complete).toMatchObject({
      class_uid: 6006,
      activity_id: 1,
      status_id: 1,
      actor: { user: { name: "dev-ana" } },
      warden: {
        source: "git-hook",
        resource: { kind: "git_repository", name: "acme/widgets" },
        credential: { gitUsername: "dev-ana" },
      },
    });
    const head = (await git(work, "rev-parse", "HEAD")).stdout.trim();
    expect(complete!.unmapped?.git).toMatchObject({
      type: "git.push",
      transport: "local",
      refs: [{ ref: "refs/heads/main", new: head }],
    });
    // The token is read at run time; it is never written into the scripts.
    expect(
      readFileSync(join(dir, "srv", "acme", "widgets.git", "hooks", "pre-receive"), "utf8"),
    ).not.toContain("wdn_ingest_test_token");
  });

  it("refuses a push that cannot be recorded when audit is required, and allows it otherwise", async () => {
    const work = join(dir, "work");
    status = 403;
    writeFileSync(join(work, "b"), "b\n");
    await git(work, "add", "b");
    await git(work, "commit", "-qm", "second");
    const refused = await run("git", ["push", "-q", "origin", "HEAD:refs/heads/main"], {
      cwd: work,
      env: { ...gitEnv, WARDEN_REQUIRE_AUDIT: "1" },
    });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain("push refused (audit required)");
    const allowed = await git(work, "push", "-q", "origin", "HEAD:refs/heads/main");
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain("could not record this push");
  });

  it("reports an SSH fetch with the certificate key id, then hands over to git-shell", async () => {
    const keygen = (...a: string[]) => execFileSync("ssh-keygen", ["-q", ...a], { stdio: "ignore" });
    keygen("-t", "ed25519", "-N", "", "-f", join(dir, "ca"));
    keygen("-t", "ed25519", "-N", "", "-f", join(dir, "dev"));
    keygen("-s", join(dir, "ca"), "-I", "warden:dev_7:grant_9", "-n", "git", "-z", "5", join(dir, "dev.pub"));
    const cert = readFileSync(join(dir, "dev-cert.pub"), "utf8").trim();
    writeFileSync(join(dir, "auth-info"), `publickey ${cert}\n`);
    const env = {
      ...process.env,
      SSH_ORIGINAL_COMMAND: "git-upload-pack 'acme/widgets.git'",
      SSH_CONNECTION: "203.0.113.5 50022 127.0.0.1 22",
      SSH_USER_AUTH: join(dir, "auth-info"),
      WARDEN_GIT_USER: "git",
    };
    const r = await run(join(dir, "warden-git-shell"), [], { cwd: join(dir, "srv"), env, input: "0000" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("refs/heads/main"); // git-upload-pack's ref advertisement
    expect(received).toHaveLength(1);
    const e = normaliseGitHookRecord(received[0]!.lines[0]);
    expect(e).toMatchObject({
      activity_id: 2,
      src_endpoint: { ip: "203.0.113.5" },
      warden: {
        credential: {
          sshKeyId: "warden:dev_7:grant_9",
          sshKeyFingerprint: expect.stringMatching(/^SHA256:/),
        },
        resource: { name: "acme/widgets" },
      },
      unmapped: { git: { type: "git.fetch", transport: "ssh" } },
    });
  });

  it("refuses anything but git commands through the wrapper", async () => {
    const r = await run(join(dir, "warden-git-shell"), [], {
      env: { ...process.env, SSH_ORIGINAL_COMMAND: "bash -i" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("only serves git clone, fetch and push");
    expect(received).toHaveLength(0);
  });

  it("rejects a non-http Warden URL and values that could break out of the shell strings", () => {
    expect(() => renderGitHooks({ wardenUrl: "ftp://warden" })).toThrow(/http/);
    expect(() => renderGitHooks({ wardenUrl: "https://w", tokenFile: "/tmp/$(reboot)" })).toThrow(
      /must not contain/,
    );
  });
});
