import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withBase62Crc32 } from "./scan-files.checks.ts";
import { scanReportSchema } from "./scan-files.schemas.ts";

const devMain = join(import.meta.dirname, "dev-main.ts");
const GH = withBase62Crc32("ghp_", "Qw8Er4Ty6Ui2Op0As1Df3Gh5Jk7Lz9");
let root: string;

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", devMain, ...args], {
      cwd: join(import.meta.dirname, "../.."),
      env: {
        ...process.env,
        XDG_CONFIG_HOME: join(root, "xdg"),
        WARDEN_SERVER: "",
        WARDEN_TOKEN: "",
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "warden-scan-cli-"));
  mkdirSync(join(root, "leaky"));
  mkdirSync(join(root, "clean"));
  writeFileSync(
    join(root, "leaky/app.ts"),
    `const t = "${GH}";\nconst test = "sk_test_51Hx9Qw2Er4Ty6Ui8Op0As1Df3";\n`,
  );
  writeFileSync(join(root, "clean/app.ts"), "export const ok = true;\n");
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

// Child processes and worker threads start slowly on a loaded 2-core machine: generous guards.
describe("warden scan files (CLI)", { timeout: 300_000 }, () => {
  it("exits 0 on a clean tree and 1 when findings reach --fail-on", async () => {
    expect((await run(["scan", "files", join(root, "clean")])).code).toBe(0);
    const r = await run(["scan", "files", join(root, "leaky")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("github-pat");
    expect(r.stdout).not.toContain(GH);
  });

  it("exits 2 on usage and I/O errors with a message, never a stack trace", async () => {
    const missing = await run(["scan", "files", join(root, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Path not found/);
    expect(missing.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect((await run(["scan", "files", "--format", "xml", root])).code).toBe(2);
    expect((await run(["scan", "files", "--since", "HEAD", root])).code).toBe(2);
  });

  it("writes JSON the server schema accepts, CSV and SARIF 2.1.0", async () => {
    const json = await run(["scan", "files", "--format", "json", "--fail-on", "high", join(root, "leaky")]);
    expect(json.code).toBe(1);
    const report = scanReportSchema.parse(JSON.parse(json.stdout));
    expect(report.findings.map((f) => f.ruleId).sort()).toEqual(["github-pat", "stripe-test-secret-key"]);
    const onlyLow = await run(["scan", "files", "--fail-on", "high", join(root, "leaky/app.ts")]);
    expect(onlyLow.code).toBe(1);
    const csv = await run(["scan", "files", "--format", "csv", join(root, "leaky")]);
    expect(csv.stdout.split("\r\n")[0]).toMatch(/^severity,rule_id,type,path,line/);
    const sarifOut = await run(["scan", "files", "--format", "sarif", join(root, "leaky")]);
    const sarif = JSON.parse(sarifOut.stdout);
    expect(sarif.version).toBe("2.1.0");
    const result = sarif.runs[0].results[0];
    expect(result.locations[0].physicalLocation.region.startLine).toBeGreaterThanOrEqual(1);
    expect(result.partialFingerprints["wardenSecretFingerprint/v1"]).toMatch(/^[0-9a-f]{32}$/);
    expect(sarifOut.stdout).not.toContain(GH);
    const open = await run(["scan", "files", "--no-redact", "--format", "json", join(root, "leaky")]);
    expect(open.stdout).toContain(GH);
  });

  it("sends the redacted report with the bearer token and the vendor and engagement ids", async () => {
    const received: { auth?: string; url?: string; body: string }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        received.push({ auth: req.headers.authorization, url: req.url, body });
        res.writeHead(201, { "content-type": "application/json" }).end('{"id":"scan_1"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    mkdirSync(join(root, "xdg/warden"), { recursive: true });
    writeFileSync(
      join(root, "xdg/warden/credentials.json"),
      JSON.stringify({ server: `http://127.0.0.1:${port}`, token: "wdn_test_token" }),
    );
    try {
      const r = await run([
        "scan",
        "files",
        "--report",
        "--no-redact",
        "--vendor",
        "ven_1",
        "--engagement",
        "eng_2",
        join(root, "leaky"),
      ]);
      expect(r.code).toBe(1);
      expect(received).toHaveLength(1);
      expect(received[0]!.url).toBe("/api/v1/scans/files/reports");
      expect(received[0]!.auth).toBe("Bearer wdn_test_token");
      const payload = scanReportSchema.parse(JSON.parse(received[0]!.body));
      expect(payload).toMatchObject({ vendorId: "ven_1", engagementId: "eng_2", redacted: true });
      expect(received[0]!.body).not.toContain(GH);
    } finally {
      server.close();
    }
    const noCreds = await run(["scan", "files", "--report", join(root, "clean")], {
      XDG_CONFIG_HOME: join(root, "empty"),
    });
    expect(noCreds.code).toBe(2);
    expect(noCreds.stderr).toMatch(/warden login/);
  });
});

// Child processes and worker threads start slowly on a loaded 2-core machine: generous guards.
describe("warden scan install-hook", { timeout: 300_000 }, () => {
  it("installs a pre-commit hook that blocks a commit adding a secret", async () => {
    const repo = join(root, "hooked");
    mkdirSync(repo);
    const git = (...a: string[]) =>
      execFileSync("git", ["-C", repo, ...a], { encoding: "utf8", stdio: "pipe" });
    git("init", "-q");
    git("config", "user.name", "Dev");
    git("config", "user.email", "dev@acme-corp.io");
    const cmd = `${process.execPath} --import ${join(import.meta.dirname, "../../node_modules/tsx/dist/loader.mjs")} ${devMain}`;
    const r = await run(["scan", "install-hook", "--repo", repo, "--command", cmd]);
    expect(r.code).toBe(0);
    const hook = join(repo, ".git/hooks/pre-commit");
    expect(statSync(hook).mode & 0o111).not.toBe(0);
    expect(readFileSync(hook, "utf8")).toContain("--staged");
    writeFileSync(join(repo, "leak.ts"), `const t = "${GH}";\n`);
    git("add", "leak.ts");
    expect(() => git("commit", "-qm", "leak")).toThrow();
    writeFileSync(join(repo, "leak.ts"), "const t = process.env.T;\n");
    git("add", "leak.ts");
    git("commit", "-qm", "clean");
    expect(git("log", "--oneline")).toContain("clean");
  });
});
