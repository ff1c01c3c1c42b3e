/**
 * age encryption throughput and memory: Warden's streaming age (node:crypto STREAM) vs the Go `age`
 * CLI vs typage (age-encryption, pure JavaScript), on one generated file, side by side in one run.
 *
 *   node --import tsx bench/age.bench.ts        (or: npm run bench age)
 *
 * Env: AGE_BENCH_MIB (file size, default 1024), AGE_BENCH_ROUNDS (default 3, best and median shown),
 * AGE_BENCH_TYPAGE_MIB (default = AGE_BENCH_MIB; 0 skips typage), AGE_BENCH_RSS_GIB (default 4: a
 * generated stream of that size is encrypted and decrypted in one process whose peak RSS is reported;
 * 0 skips it). Each implementation runs in its own process (this file bundled by esbuild, run by plain node as the
 * CLI will be) so that peak RSS is its own. The files live
 * in /dev/shm when it exists, so that the disk does not hide the crypto.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";

const MiB = 1024 * 1024;
const self = new URL(import.meta.url).pathname;

// ---------------------------------------------------------------- child processes (one measurement each)

async function child(args: string[]): Promise<void> {
  const [what, input, output, key] = args as [string, string, string, string];
  const started = performance.now();
  const age = await import("../src/crypto/age/index.ts");
  const t0 = performance.now();
  if (what === "ours-enc") await age.encryptToFile(input, output, [key], { overwrite: true });
  else if (what === "ours-dec") {
    await age.decryptToFile(input, output, [readFileSync(key, "utf8")], { overwrite: true });
  } else if (what === "typage-enc" || what === "typage-dec") {
    const { Encrypter, Decrypter } = await import("age-encryption");
    const source = Readable.toWeb(
      createReadStream(input, { highWaterMark: MiB }),
    ) as ReadableStream<Uint8Array>;
    let out: ReadableStream<Uint8Array>;
    if (what === "typage-enc") {
      const e = new Encrypter();
      e.addRecipient(key);
      out = await e.encrypt(source);
    } else {
      const d = new Decrypter();
      d.addIdentity(
        readFileSync(key, "utf8")
          .split("\n")
          .find((l) => l.startsWith("AGE-SECRET-KEY-1"))!,
      );
      out = await d.decrypt(source);
    }
    await out.pipeTo(Writable.toWeb(createWriteStream(output)));
  } else if (what === "rss") {
    const gib = Number(input);
    const pair = age.generateKeyPair();
    const block = randomFillSync(Buffer.alloc(MiB));
    const total = gib * 1024;
    async function* generated() {
      for (let i = 0; i < total; i++) {
        block.writeUInt32BE(i, 0); // every MiB differs
        yield block;
      }
    }
    const inHash = createHash("sha256");
    const outHash = createHash("sha256");
    const tee = (async function* () {
      for await (const b of generated()) {
        inHash.update(b);
        yield b;
      }
    })();
    let bytes = 0;
    for await (const b of age.decrypt(age.encrypt(tee, [pair.recipient]), [pair.identity])) {
      outHash.update(b);
      bytes += b.length;
    }
    if (inHash.digest("hex") !== outHash.digest("hex") || bytes !== total * MiB)
      throw new Error("rss: mismatch");
  } else throw new Error(`unknown child ${what}`);
  const seconds = (performance.now() - t0) / 1000;
  const result = {
    seconds,
    startup: (t0 - started) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------- orchestration

interface Run {
  seconds: number;
  maxRssMiB: number;
}

/** Runs a command, sampling its peak RSS (VmHWM) from /proc while it lives. */
function runMeasured(cmd: string, args: string[]): Promise<Run & { stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let hwm = 0;
    p.stdout.on("data", (d) => {
      stdout += d;
    });
    p.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"));
        if (m) hwm = Math.max(hwm, Number(m[1]) / 1024);
      } catch {
        // the process just exited
      }
    }, 20);
    p.on("close", (code) => {
      clearInterval(timer);
      if (code !== 0)
        return reject(new Error(`${cmd} ${args.join(" ")} failed (${code}): ${stderr.slice(0, 500)}`));
      resolve({ seconds: (performance.now() - t0) / 1000, maxRssMiB: hwm, stdout });
    });
  });
}

/** This script bundled with esbuild, as the CLI ships: plain node, no tsx start-up or memory. */
let bundled = "";

async function bundleSelf(dir: string): Promise<void> {
  const { build } = await import("esbuild");
  bundled = join(dir, "age-bench.mjs");
  await build({
    entryPoints: [self],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: bundled,
    logLevel: "silent",
  });
}

async function oursChild(
  what: string,
  input: string,
  output: string,
  key: string,
): Promise<Run & { startup: number }> {
  const r = await runMeasured(process.execPath, [bundled, "--child", what, input, output, key]);
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!) as {
    seconds: number;
    startup: number;
    maxRssMiB: number;
  };
  return { seconds: j.seconds, startup: j.startup, maxRssMiB: Math.max(j.maxRssMiB, r.maxRssMiB) };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const b of createReadStream(path, { highWaterMark: MiB })) h.update(b);
  return h.digest("hex");
}

async function writeRandomFile(path: string, mib: number): Promise<void> {
  const f = await open(path, "w");
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < mib; i++) await f.write(randomFillSync(block));
  await f.close();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => x.toFixed(0);

async function main(): Promise<void> {
  const mib = Number(process.env.AGE_BENCH_MIB ?? 1024);
  const rounds = Number(process.env.AGE_BENCH_ROUNDS ?? 3);
  const typageMib = Number(process.env.AGE_BENCH_TYPAGE_MIB ?? mib);
  const rssGib = Number(process.env.AGE_BENCH_RSS_GIB ?? 4);
  for (const bin of ["age", "age-keygen"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${bin}`]);
    } catch {
      console.error(`${bin} is not installed: run .ci/install-deps (Debian package age)`);
      process.exit(2);
    }
  }
  const base = existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
  const dir = mkdtempSync(join(base, "warden-age-bench-"));
  const path = (n: string) => join(dir, n);
  try {
    await bundleSelf(dir);
    execFileSync("age-keygen", ["-o", path("key.txt")], { stdio: "ignore" });
    const recipient = execFileSync("age-keygen", ["-y", path("key.txt")])
      .toString()
      .trim();
    await writeRandomFile(path("plain"), mib);
    const plainHash = await sha256File(path("plain"));
    const ageVersion = execFileSync("age", ["--version"]).toString().trim();

    const results: Record<string, { enc: Run[]; dec: Run[] }> = {
      ours: { enc: [], dec: [] },
      age: { enc: [], dec: [] },
    };
    let startup = 0;
    for (let r = 0; r < rounds; r++) {
      // Interleaved so that background load hits both alike.
      const oe = await oursChild("ours-enc", path("plain"), path("ours.age"), recipient);
      startup = oe.startup;
      results.ours!.enc.push(oe);
      results.age!.enc.push(
        await runMeasured("age", ["-e", "-r", recipient, "-o", path("age.age"), path("plain")]),
      );
      results.ours!.dec.push(await oursChild("ours-dec", path("age.age"), path("ours.out"), path("key.txt")));
      results.age!.dec.push(
        await runMeasured("age", ["-d", "-i", path("key.txt"), "-o", path("age.out"), path("ours.age")]),
      );
      if (r === 0) {
        // Cross-check: each decrypted the other's ciphertext back to the original.
        if ((await sha256File(path("ours.out"))) !== plainHash) throw new Error("ours: wrong plaintext");
        if ((await sha256File(path("age.out"))) !== plainHash) throw new Error("age: wrong plaintext");
      }
      rmSync(path("ours.out"));
      rmSync(path("age.out"));
    }

    let typage: { enc: Run; dec: Run } | undefined;
    if (typageMib > 0) {
      const src = typageMib === mib ? path("plain") : path("plain-typage");
      if (src !== path("plain")) await writeRandomFile(src, typageMib);
      const enc = await runMeasured(process.execPath, [
        bundled,
        "--child",
        "typage-enc",
        src,
        path("typage.age"),
        recipient,
      ]);
      const dec = await runMeasured(process.execPath, [
        bundled,
        "--child",
        "typage-dec",
        path("typage.age"),
        path("typage.out"),
        path("key.txt"),
      ]);
      const parse = (r: Run & { stdout: string }) => {
        const j = JSON.parse(r.stdout.trim().split("\n").pop()!) as Run;
        return { seconds: j.seconds, maxRssMiB: Math.max(j.maxRssMiB, r.maxRssMiB) };
      };
      typage = { enc: parse(enc), dec: parse(dec) };
      rmSync(path("typage.out"));
    }

    let rss: (Run & { startup: number }) | undefined;
    if (rssGib > 0) rss = await oursChild("rss", String(rssGib), "-", "-");

    const speed = (runs: Run[], size = mib) => runs.map((r) => size / r.seconds);
    const best = (runs: Run[], size = mib) => Math.max(...speed(runs, size));
    const med = (runs: Run[], size = mib) => median(speed(runs, size));
    const peak = (runs: Run[]) => Math.max(...runs.map((r) => r.maxRssMiB));
    const o = results.ours!;
    const a = results.age!;
    const cpu = os.cpus();
    const lines = [
      "## age encryption: Warden vs age CLI vs typage",
      "",
      "Command: `node --import tsx bench/age.bench.ts`",
      `Machine: ${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, load average ${os.loadavg()[0]!.toFixed(1)}; Node ${process.version}, ${ageVersion === "" ? "age" : `age ${ageVersion}`}`,
      `Input: ${mib} MiB of random data in ${base}; ${rounds} interleaved rounds (best / median MiB/s). Warden runs bundled in its own process; its time excludes its ${startup.toFixed(2)} s module load.`,
      "",
      "| implementation | encrypt MiB/s (best / median) | decrypt MiB/s (best / median) | peak RSS MiB |",
      "| --- | --- | --- | --- |",
      `| Warden (node:crypto STREAM) | ${fmt(best(o.enc))} / ${fmt(med(o.enc))} | ${fmt(best(o.dec))} / ${fmt(med(o.dec))} | ${fmt(Math.max(peak(o.enc), peak(o.dec)))} |`,
      `| age CLI (Go) | ${fmt(best(a.enc))} / ${fmt(med(a.enc))} | ${fmt(best(a.dec))} / ${fmt(med(a.dec))} | ${fmt(Math.max(peak(a.enc), peak(a.dec)))} |`,
    ];
    if (typage) {
      lines.push(
        `| typage (age-encryption, ${typageMib} MiB, 1 round) | ${fmt(typageMib / typage.enc.seconds)} | ${fmt(typageMib / typage.dec.seconds)} | ${fmt(Math.max(typage.enc.maxRssMiB, typage.dec.maxRssMiB))} |`,
      );
    }
    lines.push(
      "",
      `Ratio Warden / age CLI: encrypt ${(best(o.enc) / best(a.enc)).toFixed(2)}× (median ${(med(o.enc) / med(a.enc)).toFixed(2)}×), decrypt ${(best(o.dec) / best(a.dec)).toFixed(2)}× (median ${(med(o.dec) / med(a.dec)).toFixed(2)}×); target ≥ 0.8×.`,
    );
    if (typage) {
      lines.push(
        `Ratio Warden / typage: encrypt ${(best(o.enc) / (typageMib / typage.enc.seconds)).toFixed(1)}×, decrypt ${(best(o.dec) / (typageMib / typage.dec.seconds)).toFixed(1)}×.`,
      );
    }
    if (rss) {
      lines.push(
        `Constant memory: a generated ${rssGib} GiB stream encrypted and decrypted (hash-checked) in one process in ${rss.seconds.toFixed(1)} s, peak RSS ${fmt(rss.maxRssMiB)} MiB (limit 150 MiB).`,
      );
    }
    console.log(lines.join("\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") {
  await child(process.argv.slice(3));
} else {
  await main();
}
