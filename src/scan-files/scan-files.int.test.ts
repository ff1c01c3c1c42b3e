import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withBase62Crc32 } from "./scan-files.checks.ts";
import { scanFiles } from "./scan-files.service.ts";

function need(bin: string): void {
  const r = spawnSync(bin, ["--version"]);
  if (r.error)
    throw new Error(`${bin} is required by this test: run .ci/install-deps (Debian packages git zip)`);
}

const GH = withBase62Crc32("ghp_", "Qw8Er4Ty6Ui2Op0As1Df3Gh5Jk7Lz9");
const STRIPE = "sk_live_51Hx9Qw2Er4Ty6Ui8Op0As1Df3";
let root: string;

function people(n: number): string {
  const rows = ["name,email,phone"];
  for (let i = 0; i < n; i++)
    rows.push(`Person ${i},person${i}@acme-corp.io,+44 20 7946 0${String(100 + i)}`);
  return `${rows.join("\n")}\n`;
}

beforeAll(() => {
  need("git");
  need("zip");
  root = mkdtempSync(join(tmpdir(), "warden-scan-"));
  const t = join(root, "tree");
  mkdirSync(join(t, "src"), { recursive: true });
  mkdirSync(join(t, "data"), { recursive: true });
  writeFileSync(
    join(t, "src/config.ts"),
    `export const github = "${GH}";\nexport const stripe = "${STRIPE}";\n`,
  );
  writeFileSync(
    join(t, "src/clean.ts"),
    'export const region = "eu-west-1";\nconst key = process.env.API_KEY;\n',
  );
  writeFileSync(
    join(t, ".env"),
    "DATABASE_URL=postgres://app:Xk82mPq0Lz@db-7.acme.internal/app\nPORT=3000\n",
  );
  writeFileSync(
    join(t, ".env.example"),
    "DATABASE_URL=postgres://user:password@localhost/app\nAPI_KEY=your-api-key\n",
  );
  writeFileSync(join(t, "data/people.csv"), people(20));
  writeFileSync(
    join(t, "data/contacts-example.csv"),
    "name,email\nA,a@example.com\nB,b@example.com\nC,c@example.org\nD,d@example.com\nE,e@example.net\n",
  );
  writeFileSync(
    join(t, "data/dump.sql"),
    "-- PostgreSQL database dump\nCOPY public.users (id, email) FROM stdin;\n1\tann@acme-corp.io\n2\tbob@acme-corp.io\n\\.\n",
  );
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
  writeFileSync(join(t, "data/plain.key"), privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  writeFileSync(
    join(t, "data/protected.key"),
    privateKey.export({
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: "long passphrase",
    }) as string,
  );
  writeFileSync(
    join(t, "data/secret.age"),
    Buffer.concat([Buffer.from("age-encryption.org/v1\n-> X25519 abc\n"), Buffer.alloc(64, 7)]),
  );
  // archives: a zip holding a .env, an encrypted zip, a .tar.gz, a corrupt zip and a zip bomb
  const a = join(root, "arch");
  mkdirSync(a);
  writeFileSync(join(a, ".env"), `GITHUB_TOKEN=${GH}\n`);
  writeFileSync(join(a, "zeros.txt"), Buffer.alloc(60 * 1024 * 1024));
  execFileSync("zip", ["-q", join(t, "data/bundle.zip"), ".env"], { cwd: a });
  execFileSync("zip", ["-q", "-P", "pw", join(t, "data/locked.zip"), ".env"], { cwd: a });
  execFileSync("zip", ["-q", join(t, "data/bomb.zip"), "zeros.txt"], { cwd: a });
  execFileSync("tar", ["czf", join(t, "data/backup.tar.gz"), ".env"], { cwd: a });
  writeFileSync(
    join(t, "data/dump.sql.gz"),
    gzipSync(`-- MySQL dump 10.13\nINSERT INTO users VALUES (1,'x@acme-corp.io');\n`),
  );
  writeFileSync(
    join(t, "data/broken.zip"),
    Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 0xff)]),
  );
  // bad input
  symlinkSync(join(t, "missing-target"), join(t, "dangling"));
  writeFileSync(
    join(t, "src/latin1.txt"),
    Buffer.concat([Buffer.from("caf\xe9 ", "latin1"), Buffer.from(`token = "${STRIPE}"\n`)]),
  );
  writeFileSync(join(t, "src/bundle.min.js"), "a".repeat(2 * 1024 * 1024 + 10));
}, 300_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

// Child processes and worker threads start slowly on a loaded 2-core machine: generous guards.
describe("scanFiles on a tree", { timeout: 300_000 }, () => {
  it("finds secrets and unencrypted sensitive files, passes encrypted ones, reports bad input", async () => {
    const { report } = await scanFiles({ paths: ["tree"], cwd: root, workers: 0 });
    const got = report.findings.map((f) => `${f.ruleId} ${f.path}`);
    expect(got).toEqual(
      expect.arrayContaining([
        "github-pat tree/src/config.ts",
        "stripe-secret-key tree/src/config.ts",
        "dotenv-file tree/.env",
        "postgres-connection-string tree/.env",
        "personal-data tree/data/people.csv",
        "sql-dump tree/data/dump.sql",
        "private-key-pkcs8 tree/data/plain.key",
        "dotenv-file tree/data/bundle.zip!.env",
        "github-pat tree/data/bundle.zip!.env",
        "github-pat tree/data/backup.tar.gz!backup.tar!.env",
        "sql-dump tree/data/dump.sql.gz!dump.sql",
        "stripe-secret-key tree/src/latin1.txt",
      ]),
    );
    const paths = report.findings.map((f) => f.path);
    for (const clean of [
      "tree/src/clean.ts",
      "tree/.env.example",
      "tree/data/contacts-example.csv",
      "tree/data/protected.key",
      "tree/data/secret.age",
    ])
      expect(paths).not.toContain(clean);
    expect(paths.some((p) => p.startsWith("tree/data/locked.zip"))).toBe(false);
    expect(report.stats.encrypted).toBeGreaterThanOrEqual(2);
    const gh = report.findings.find((f) => f.ruleId === "github-pat" && f.path === "tree/src/config.ts")!;
    expect(gh.line).toBe(1);
    expect(gh.column).toBe(24);
    const reasons = Object.fromEntries(report.skipped.map((s) => [s.path, s.reason]));
    expect(reasons["tree/dangling"]).toMatch(/broken symbolic link/);
    expect(reasons["tree/data/bomb.zip"]).toMatch(/zip bomb/);
    expect(reasons["tree/data/broken.zip"]).toMatch(/corrupt zip/);
    expect(reasons["tree/src/bundle.min.js"]).toMatch(/single line/);
    expect(reasons["tree/src/latin1.txt"]).toMatch(/UTF-8/);
  });

  it("redacts secrets by default and shows them only when asked", async () => {
    const redacted = await scanFiles({ paths: ["tree/src/config.ts"], cwd: root, workers: 0 });
    const text = JSON.stringify(redacted.report);
    expect(text).not.toContain(GH);
    expect(text).not.toContain(STRIPE);
    const open = await scanFiles({ paths: ["tree/src/config.ts"], cwd: root, workers: 0, redact: false });
    expect(JSON.stringify(open.report)).toContain(GH);
    expect(JSON.stringify(open.redactedReport)).not.toContain(GH);
  });

  it("gives the same findings with worker threads", async () => {
    const a = await scanFiles({ paths: ["tree"], cwd: root, workers: 0 });
    const b = await scanFiles({ paths: ["tree"], cwd: root, workers: 2, limits: {} });
    expect(b.report.findings.map((f) => f.fingerprint + f.path)).toEqual(
      a.report.findings.map((f) => f.fingerprint + f.path),
    );
  });

  it("suppresses findings listed in a baseline by the secret's fingerprint", async () => {
    const first = await scanFiles({ paths: ["tree/src"], cwd: root, workers: 0 });
    const baseline = join(root, "baseline.json");
    writeFileSync(baseline, JSON.stringify(first.report));
    // the secret moved to another file and line: still suppressed
    writeFileSync(join(root, "tree/src/moved.ts"), `\n\nconst again = "${GH}";\n`);
    const second = await scanFiles({ paths: ["tree/src"], cwd: root, workers: 0, baselinePath: baseline });
    expect(second.report.findings).toEqual([]);
    expect(second.report.stats.baselineSuppressed).toBeGreaterThanOrEqual(3);
    rmSync(join(root, "tree/src/moved.ts"));
  });

  it("applies custom rules, allowlists and imported gitleaks rules from the config", async () => {
    const dir = join(root, "cfg");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "app.txt"),
      `acme_token = "ACME-7f3k9q2m1x8v"\ninternal = "corp_AbC123xyZ789"\ngh = "${GH}"\n`,
    );
    writeFileSync(
      join(dir, "gitleaks.toml"),
      `[[rules]]\nid = "corp-key"\ndescription = "Corp key"\nregex = '''(?i)\\b(corp_[a-z0-9]{12})\\b'''\nkeywords = ["corp_"]\n`,
    );
    writeFileSync(
      join(dir, "warden-scan.toml"),
      `[extend]\ngitleaks = ["gitleaks.toml"]\n\n[[rules]]\nid = "acme-token"\nregex = '''ACME-[a-z0-9]{12}'''\nkeywords = ["acme-"]\nseverity = "high"\n\n[[allowlists]]\ndescription = "known test token"\nvalues = ["${GH}"]\n`,
    );
    const { report } = await scanFiles({
      paths: [dir],
      cwd: root,
      workers: 0,
      configPath: join(dir, "warden-scan.toml"),
    });
    const ids = report.findings
      .filter((f) => f.path.endsWith("app.txt") && f.type === "secret")
      .map((f) => f.ruleId);
    expect(ids).toEqual(["acme-token", "corp-key"]);
    expect(report.findings.find((f) => f.ruleId === "acme-token")!.severity).toBe("high");
  });

  it("applies the config in worker threads too (past the first batch, scanned off this thread)", async () => {
    const dir = join(root, "cfg-threads");
    mkdirSync(dir, { recursive: true });
    // 80 files of 20 kB: the first task (64 files, 1.25 MiB) runs here and starts the pool for the rest.
    for (let i = 0; i < 80; i++)
      writeFileSync(join(dir, `pad-${String(i).padStart(3, "0")}.txt`), "lorem ipsum dolor\n".repeat(1100));
    writeFileSync(join(dir, "z-app.txt"), `acme_token = "ACME-7f3k9q2m1x8v"\n`);
    writeFileSync(
      join(dir, "warden-scan.toml"),
      `[[rules]]\nid = "acme-token"\nregex = '''ACME-[a-z0-9]{12}'''\nkeywords = ["acme-"]\n`,
    );
    const { report } = await scanFiles({
      paths: [dir],
      cwd: root,
      workers: 2,
      configPath: join(dir, "warden-scan.toml"),
    });
    expect(report.stats.files).toBe(82);
    expect(report.findings.map((f) => `${f.ruleId} ${f.path}`)).toEqual(["acme-token cfg-threads/z-app.txt"]);
  });

  it("lists at most 1000 secrets of one file and says the rest was not scanned", async () => {
    const dir = join(root, "dump");
    mkdirSync(dir, { recursive: true });
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const token = (i: number) =>
      withBase62Crc32(
        "ghp_",
        Array.from({ length: 30 }, (_, k) => alphabet[(i * 7 + k * 13 + ((i * k) % 11)) % 62]).join(""),
      );
    writeFileSync(
      join(dir, "tokens.txt"),
      Array.from({ length: 1200 }, (_, i) => `t${i} = "${token(i)}"`).join("\n"),
    );
    const { report } = await scanFiles({ paths: [dir], cwd: root, workers: 0 });
    expect(report.findings).toHaveLength(1000);
    expect(report.skipped).toEqual([
      { path: "dump/tokens.txt", reason: expect.stringMatching(/more than 1000 secrets/) },
    ]);
  });

  it("rejects an invalid config with a message naming the problem", async () => {
    const bad = join(root, "bad.toml");
    writeFileSync(bad, `[[rules]]\nid = "x"\nregex = '''([a-z'''\n`);
    await expect(scanFiles({ paths: ["tree/src"], cwd: root, workers: 0, configPath: bad })).rejects.toThrow(
      /rule x: invalid regular expression/,
    );
  });
});

// Child processes and worker threads start slowly on a loaded 2-core machine: generous guards.
describe("Git history and staged changes", { timeout: 300_000 }, () => {
  let repo: string;
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" });

  beforeAll(() => {
    repo = join(root, "repo");
    mkdirSync(repo);
    git("init", "-q", "-b", "main");
    git("config", "user.name", "Dev One");
    git("config", "user.email", "dev1@acme-corp.io");
    writeFileSync(join(repo, "app.ts"), "export const x = 1;\n");
    git("add", ".");
    git("commit", "-qm", "initial");
    writeFileSync(join(repo, "app.ts"), `export const x = 1;\nconst token = "${GH}";\n`);
    git("commit", "-qam", "add token");
    writeFileSync(join(repo, "app.ts"), "export const x = 1;\nconst token = process.env.TOKEN;\n");
    git("commit", "-qam", "remove token");
  });

  it("finds a secret that was added and later removed, with its commit", async () => {
    const { report } = await scanFiles({ paths: [repo], cwd: root, gitHistory: true, workers: 2 });
    expect(report.stats.commits).toBe(3);
    const f = report.findings.find((x) => x.ruleId === "github-pat")!;
    expect(f.path).toBe("repo/app.ts");
    expect(f.line).toBe(2);
    expect(f.commit).toMatchObject({ author: "Dev One", email: "dev1@acme-corp.io", message: "add token" });
    const now = await scanFiles({ paths: [repo], cwd: root, workers: 0 });
    expect(now.report.findings).toEqual([]);
  });

  it("scans only commits after --since", async () => {
    const head = git("rev-parse", "HEAD~1").trim();
    const { report } = await scanFiles({
      paths: [repo],
      cwd: root,
      gitHistory: true,
      since: head,
      workers: 0,
    });
    expect(report.stats.commits).toBe(1);
    expect(report.findings).toEqual([]);
    await expect(
      scanFiles({ paths: [repo], cwd: root, gitHistory: true, since: "nope", workers: 0 }),
    ).rejects.toThrow(/no such revision/);
  });

  it("scans only staged changes with --staged", async () => {
    writeFileSync(join(repo, "new.ts"), `const k = "${STRIPE}";\n`);
    writeFileSync(join(repo, "unstaged.ts"), `const g = "${GH}";\n`);
    git("add", "new.ts");
    const { report } = await scanFiles({ paths: [repo], cwd: root, staged: true, workers: 0 });
    expect(report.findings.map((f) => `${f.ruleId} ${f.path}:${f.line}`)).toEqual([
      "stripe-secret-key repo/new.ts:1",
    ]);
    git("reset", "-q");
    rmSync(join(repo, "new.ts"));
    rmSync(join(repo, "unstaged.ts"));
  });
});
