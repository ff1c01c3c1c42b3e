/**
 * Shares end to end: `warden share send` (encrypt on the client + stream to the server) and
 * `warden share get` (stream from the server + decrypt) against a real `warden serve` over HTTPS, vs
 * the Go `age` CLI encrypting and decrypting the same file locally (no network: the peer does less).
 * Peak RSS of each CLI process is sampled from /proc (VmHWM). Then one large file (default 4 GiB)
 * goes through send and get to show the CLI's memory stays flat.
 *
 *   npm run bench shares           (node --import tsx bench/shares.bench.ts)
 *
 * Env: SHARES_BENCH_MIB (default 1024), SHARES_BENCH_ROUNDS (default 3), SHARES_BENCH_RSS_GIB
 * (default 4; 0 skips). The server, its share directory and the throughput files live in /dev/shm
 * when it exists; the large file and its output on os.tmpdir().
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes, randomFillSync, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { authRepo } from "../src/auth/auth.repo.ts";
import { serve } from "../src/boot.ts";
import { createApiClient } from "../src/cli/client.ts";
import { loadConfig } from "../src/core/config.ts";
import { hashPassword } from "../src/crypto/passwords.ts";
import { fmt, machine, table } from "./lib.ts";

const MiB = 1024 * 1024;
const sizeMiB = Number(process.env.SHARES_BENCH_MIB ?? 1024);
const rounds = Number(process.env.SHARES_BENCH_ROUNDS ?? 3);
const rssGib = Number(process.env.SHARES_BENCH_RSS_GIB ?? 4);
const fast = existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();

interface Run {
  seconds: number;
  maxRssMiB: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, sampling its peak RSS (VmHWM) from /proc while it lives. */
function runMeasured(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
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
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${stderr}`));
      else resolve({ seconds: (performance.now() - t0) / 1000, maxRssMiB: hwm, stdout, stderr });
    });
  });
}

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(file, { highWaterMark: 4 * MiB })) h.update(c as Buffer);
  return h.digest("hex");
}

/** Writes `mib` MiB of incompressible data (one random block, varied per MiB). */
async function generate(file: string, mib: number): Promise<void> {
  const block = randomFillSync(Buffer.alloc(MiB));
  const out = createWriteStream(file, { highWaterMark: 4 * MiB });
  for (let i = 0; i < mib; i++) {
    block.writeUInt32BE(i, 0);
    if (!out.write(Buffer.from(block))) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

function multipartPdf(): { payload: Buffer; type: string } {
  const boundary = `----bench${randomBytes(6).toString("hex")}`;
  const pdf = Buffer.from(
    "%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
  );
  return {
    payload: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="nda.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
      ),
      pdf,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
    type: `multipart/form-data; boundary=${boundary}`,
  };
}

async function main() {
  execFileSync(process.execPath, ["scripts/build.mjs", "--server-only"], { stdio: "inherit" });
  const dir = mkdtempSync(join(fast, "warden-shares-bench-"));
  const bigDir = mkdtempSync(join(os.tmpdir(), "warden-shares-bench-"));
  const lines: string[] = [];
  const config = loadConfig({
    WARDEN_DATA_DIR: join(dir, "data"),
    WARDEN_PORT: "0",
    WARDEN_LOG_LEVEL: "silent",
    WARDEN_SHARE_MAX_MB: String(Math.max(sizeMiB, rssGib * 1024) + 1),
  });
  const running = await serve(config, (l) => lines.push(l));
  try {
    const fingerprint = lines.find((l) => l.includes("SHA-256 fingerprint"))!.split(": ")[1]!;
    const { store, app } = running;
    const today = new Date();
    const day = (n: number) => new Date(today.getTime() + n * 86_400_000).toISOString().slice(0, 10);
    const user = async (role: "admin" | "developer", developerId: string | null) => {
      const id = randomUUID();
      await authRepo.insertUser(store, {
        id,
        email: `${role}-${id.slice(0, 6)}@bench.test`,
        displayName: `Bench ${role}`,
        role,
        developerId,
        passwordHash: await hashPassword("unused bench password", { ln: 10, r: 8, p: 1 }),
        at: today,
      });
      const { secret } = await app.auth.createToken(
        {
          actor: { kind: "user", userId: id, role, label: role, ...(developerId ? { developerId } : {}) },
          meta: {},
        },
        { name: "bench", scopes: ["read", "write"], expiresInDays: 1 },
      );
      return secret;
    };
    const adminToken = await user("admin", null);
    const admin = createApiClient({ server: running.url, token: adminToken, caFingerprint: fingerprint });
    const ok = async (
      method: string,
      url: string,
      body?: unknown,
      raw?: { payload: Buffer; type: string },
    ) => {
      const r = await admin.request<{ id: string }>(
        method,
        url,
        body,
        raw ? { "content-type": raw.type } : {},
        raw?.payload,
      );
      if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const keyFile = join(dir, "key.txt");
    execFileSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
    const recipient = execFileSync("age-keygen", ["-y", keyFile]).toString().trim();
    await ok("PUT", "/api/v1/gate/requirements", {
      alwaysRequired: ["nda"],
      personalDataRequired: [],
      requiredTrainings: [],
      awarenessPassMark: 0,
      blockingRedFlagSeverity: "high",
      requireBackgroundCheck: false,
      minVerifiedReferences: 0,
      requireDrillPassed: false,
      warnWithinDays: 30,
    });
    const dev = await ok("POST", "/api/v1/developers", {
      fullName: "Bench Developer",
      email: "dev@bench.test",
      country: "PT",
      timeZone: "Europe/Lisbon",
      workingHours: { start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5] },
      ageRecipients: [recipient],
    });
    await ok("POST", "/api/v1/engagements", {
      developerId: dev.id,
      title: "Bench",
      startsOn: day(-10),
      roles: ["backend"],
    });
    const nda = await ok("POST", "/api/v1/agreements", {
      type: "nda",
      developerId: dev.id,
      title: "NDA",
      signedOn: day(-10),
      effectiveOn: day(-10),
      expiresOn: day(300),
      terms: { dataCategories: ["source code"] },
    });
    await ok("POST", `/api/v1/agreements/${nda.id}/document`, undefined, multipartPdf());
    await ok("POST", `/api/v1/agreements/${nda.id}/activate`, {});
    await ok("PATCH", `/api/v1/developers/${dev.id}/vetting`, {
      awareness: { score: 90, takenOn: day(-10) },
    });
    await ok("POST", `/api/v1/developers/${dev.id}/vetting/decision`, {
      decision: "approved",
      reason: "bench",
    });
    const devToken = await user("developer", dev.id);
    const cliEnv = (token: string) => ({
      WARDEN_SERVER: running.url,
      WARDEN_TOKEN: token,
      WARDEN_CA_FINGERPRINT: fingerprint,
    });
    const warden = (args: string[], token: string) =>
      runMeasured(process.execPath, ["bin/warden.js", ...args], cliEnv(token));

    async function roundTrip(input: string, output: string, maxDownloads = 1) {
      const sent = await warden(
        [
          "share",
          "send",
          input,
          "--to",
          dev.id,
          "--category",
          "source code",
          "--max-downloads",
          String(maxDownloads),
          "--no-progress",
        ],
        adminToken,
      );
      const id = /Sent share ([0-9a-f-]{36})/.exec(sent.stdout)![1]!;
      rmSync(output, { force: true });
      const got = await warden(["share", "get", id, "-i", keyFile, "-o", output, "--no-progress"], devToken);
      return { sent, got };
    }

    const input = join(dir, "plain.bin");
    await generate(input, sizeMiB);
    const inputHash = await sha256File(input);
    const rows: { send: Run; get: Run; ageEnc: Run; ageDec: Run }[] = [];
    for (let r = 0; r < rounds; r++) {
      // Interleaved: each round measures both, so a busy moment hits both sides.
      const { sent, got } = await roundTrip(input, join(dir, "out.bin"));
      if ((await sha256File(join(dir, "out.bin"))) !== inputHash)
        throw new Error("share round trip: mismatch");
      rmSync(join(dir, "out.bin"), { force: true });
      const ageEnc = await runMeasured("age", ["-r", recipient, "-o", join(dir, "peer.age"), input]);
      const ageDec = await runMeasured("age", [
        "-d",
        "-i",
        keyFile,
        "-o",
        join(dir, "peer.out"),
        join(dir, "peer.age"),
      ]);
      rmSync(join(dir, "peer.age"), { force: true });
      rmSync(join(dir, "peer.out"), { force: true });
      rows.push({ send: sent, get: got, ageEnc, ageDec });
      // The server deleted the one-time ciphertext; nothing accumulates in /dev/shm.
    }
    rmSync(input, { force: true });

    const rate = (s: number) => sizeMiB / s;
    const best = (xs: number[]) => Math.max(...xs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const col = (f: (r: (typeof rows)[number]) => Run) => rows.map((r) => rate(f(r).seconds));
    const rss = (f: (r: (typeof rows)[number]) => Run) => Math.max(...rows.map((r) => f(r).maxRssMiB));
    const trip = rows.map((r) => sizeMiB / (r.send.seconds + r.get.seconds));
    const ageTrip = rows.map((r) => sizeMiB / (r.ageEnc.seconds + r.ageDec.seconds));

    let big = "";
    if (rssGib > 0) {
      const bigIn = join(bigDir, "big.bin");
      const bigOut = join(bigDir, "big.out");
      await generate(bigIn, rssGib * 1024);
      const bigHash = await sha256File(bigIn);
      const { sent, got } = await roundTrip(bigIn, bigOut);
      const same = (await sha256File(bigOut)) === bigHash;
      rmSync(bigIn, { force: true });
      rmSync(bigOut, { force: true });
      if (!same) throw new Error("large share round trip: mismatch");
      big = `${rssGib} GiB file (on ${os.tmpdir()}): \`share send\` ${sent.seconds.toFixed(1)} s, peak RSS ${fmt(sent.maxRssMiB)} MiB; \`share get\` ${got.seconds.toFixed(1)} s, peak RSS ${fmt(got.maxRssMiB)} MiB (target: under 150 MiB); output hash-checked.`;
    }

    console.log(`## Shares: send and get vs the age CLI\n\n${machine()}\n`);
    console.log(
      `${sizeMiB} MiB random file in ${fast}, ${rounds} interleaved rounds (best / median MiB/s). Warden runs the installed command (bin/warden.js, which loads the share bundle dist/warden-share.js) against \`warden serve\` over HTTPS on the same machine (the server shares the 2 cores); \`age\` encrypts and decrypts locally.\n`,
    );
    console.log(
      table(
        ["step", "MiB/s (best / median)", "peak RSS MiB"],
        [
          [
            "`warden share send` (encrypt + upload)",
            `${fmt(best(col((r) => r.send)))} / ${fmt(median(col((r) => r.send)))}`,
            fmt(rss((r) => r.send)),
          ],
          [
            "`warden share get` (download + decrypt)",
            `${fmt(best(col((r) => r.get)))} / ${fmt(median(col((r) => r.get)))}`,
            fmt(rss((r) => r.get)),
          ],
          [
            "`age -r` (encrypt, local)",
            `${fmt(best(col((r) => r.ageEnc)))} / ${fmt(median(col((r) => r.ageEnc)))}`,
            fmt(rss((r) => r.ageEnc)),
          ],
          [
            "`age -d` (decrypt, local)",
            `${fmt(best(col((r) => r.ageDec)))} / ${fmt(median(col((r) => r.ageDec)))}`,
            fmt(rss((r) => r.ageDec)),
          ],
          ["round trip: warden send+get", `${fmt(best(trip))} / ${fmt(median(trip))}`, ""],
          ["round trip: age enc+dec", `${fmt(best(ageTrip))} / ${fmt(median(ageTrip))}`, ""],
        ],
      ),
    );
    console.log(
      `\nRatio warden/age (round trip, medians): ${(median(trip) / median(ageTrip)).toFixed(2)}×; send/age-enc ${(median(col((r) => r.send)) / median(col((r) => r.ageEnc))).toFixed(2)}×, get/age-dec ${(median(col((r) => r.get)) / median(col((r) => r.ageDec))).toFixed(2)}×.`,
    );
    if (big) console.log(`\n${big}`);
  } finally {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(bigDir, { recursive: true, force: true });
  }
}

await main();
