import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { canonicalize } from "json-canonicalize";
import { loadConfig } from "../core/config.ts";
import { isUuid } from "../core/schemas.ts";
import {
  checkConsistency,
  consistencyProofFromTiles,
  createWorkerHasher,
  directorySource,
  entryBundlePath,
  entryFromTiles,
  type FetchLike,
  formatTlogProof,
  httpSource,
  inclusionProofFromTiles,
  type NoteVerifier,
  openCheckpoint,
  ProofError,
  parseVerifierKey,
  TILE_WIDTH,
  type TileSource,
  tileLevels,
  tilePath,
  tilesAtLevel,
  type VerifyReport,
  verifyTiles,
  verifyTlogProof,
  verifyTree,
} from "../tlog/index.ts";
import { type ApiClient, api, failOnProblem } from "./client.ts";
import { CliError, EXIT, printJson, printTable } from "./output.ts";

/**
 * `warden audit …`: the verifiable audit log from the command line.
 *
 *   verify                                   the server verifies its whole store (or --offline: this machine)
 *   verify --checkpoint FILE [--key KEY]     you verify, against a checkpoint you kept: online through the
 *          [--tiles DIR [--from N]]          log's tiles API, or offline against a tiles export
 *   prove EVENT                              a C2SP tlog-proof receipt for an event (id or log index)
 *   export DIR [--size N] [--from N]         the log (or a range of it) as C2SP tlog-tiles, with its checkpoint
 *   checkpoint [--out FILE]                  the latest signed checkpoint, to keep
 *   key                                      the log's verifier key, to keep beside it
 *   events                                   list Warden's own audit records
 */

interface ServerVerify {
  ok: boolean;
  size: number;
  start: number;
  root: string;
  firstBad?: { index: number; problem: string };
  problems: string[];
  checkpoints: { size: number; ok: boolean; label: string }[];
}

function progressBar(enabled: boolean, what: string) {
  if (!enabled || !process.stderr.isTTY) return { update: (_d: number, _t: number) => {}, stop: () => {} };
  const bar = new SingleBar({ format: `${what} [{bar}] {value}/{total}`, stream: process.stderr });
  let started = false;
  return {
    update(done: number, total: number) {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}

function printServerReport(r: ServerVerify): void {
  if (r.ok) {
    process.stdout.write(
      `Audit log intact: ${r.size - r.start} entries verified${r.start ? ` (entries before ${r.start} were pruned by retention; their signed checkpoint holds)` : ""}.\n`,
    );
    process.stdout.write(
      `Root ${r.root} matches ${r.checkpoints.filter((c) => c.ok).length} signed checkpoint(s).\n`,
    );
    return;
  }
  process.stdout.write(
    `AUDIT LOG BROKEN${r.firstBad ? ` at entry ${r.firstBad.index}: ${r.firstBad.problem}` : ""}.\n`,
  );
  for (const p of r.problems.slice(0, 10)) process.stdout.write(`  - ${p}\n`);
}

function printClientReport(r: VerifyReport): void {
  if (r.ok) {
    process.stdout.write(
      `OK: ${r.size - (r.start ?? 0)} entries verified${r.start ? ` (from entry ${r.start})` : ""}; root ${r.root}\n`,
    );
    for (const c of r.checked)
      process.stdout.write(
        `  ${c.notCheckable ? "not checkable (before the range)" : "root matches"} ${c.label}\n`,
      );
    return;
  }
  process.stdout.write(`FAILED: the log is not what was checkpointed (${r.size} entries examined).\n`);
  if (r.firstBadIndex !== undefined) {
    const range = r.firstBadRange;
    process.stdout.write(
      range && range.end - range.start > 1
        ? `First bad entry: somewhere in ${range.start}..${range.end - 1} (give --previous DIR with the export the kept checkpoint describes to name it)\n`
        : `First bad entry: ${r.firstBadIndex}\n`,
    );
  }
  for (const p of r.problems.slice(0, 10)) process.stdout.write(`  - ${p.message}\n`);
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (e) {
    throw new CliError(`Cannot read ${what} ${file} (${(e as NodeJS.ErrnoException).code})`, EXIT.usage);
  }
}

/** KEY is a verifier key (name+hash+base64) or a file holding one. */
async function loadKey(key: string): Promise<NoteVerifier> {
  const hint =
    "Give the verifier key as name+hash+base64key (warden audit key prints it), or a file holding it";
  let text = key;
  if (!/^[^+\s]+\+[0-9a-f]{8}\+/.test(key)) {
    try {
      text = (await readFile(key, "utf8")).trim();
    } catch {
      throw new CliError(`${key} is neither a verifier key nor a readable file`, EXIT.usage, hint);
    }
  }
  try {
    return parseVerifierKey(text);
  } catch (e) {
    throw new CliError(`The log key is not valid: ${(e as Error).message}`, EXIT.usage, hint);
  }
}

/** fetch over the CLI's API client: the pinned certificate and the token travel with each request. */
function clientFetch(client: ApiClient): FetchLike {
  return async (url) => {
    const u = new URL(url);
    const res = await client.request("GET", `${u.pathname}${u.search}`, undefined, { accept: "*/*" });
    const body = res.body;
    const buf = Buffer.isBuffer(body)
      ? body
      : Buffer.from(typeof body === "string" ? body : JSON.stringify(body ?? ""));
    return {
      ok: res.status < 400,
      status: res.status,
      arrayBuffer: async () =>
        buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
      text: async () => buf.toString("utf8"),
    };
  };
}

/** The tiles API of the signed-in server, or of another host given with --server. */
async function onlineSource(server: string | undefined) {
  if (server)
    return { source: httpSource(globalThis.fetch as unknown as FetchLike, server), client: undefined };
  const client = await api();
  return { source: httpSource(clientFetch(client), new URL("/log", client.base).toString()), client };
}

const parseIndex = (v: string, name: string) => {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v))
    throw new CliError(`${name} must be a whole number, not ${v}`, EXIT.usage);
  return Number(v);
};

export function registerAuditCommands(program: Command): void {
  const audit = program.command("audit").description("The verifiable audit log (RFC 9162 Merkle tree)");

  audit
    .command("verify")
    .description(
      "Verify the audit log and name the first changed, deleted, reordered or missing entry. Exit 1 if broken",
    )
    .option("--checkpoint <file>", "verify yourself, against a signed checkpoint you kept earlier")
    .option("--key <key>", "the log's verifier key (or a file holding it) you trust; default: the server's")
    .option("--tiles <dir>", "verify a tiles export (warden audit export) offline instead of the server")
    .option("--from <index>", "with --tiles: the export starts at this entry (exported with --from)")
    .option(
      "--previous <dir>",
      "with --tiles: the earlier export the kept checkpoint describes, to name a rewritten entry",
    )
    .option(
      "--server <url>",
      "another log URL prefix serving /checkpoint and /tile/ (default: the signed-in server's /log)",
    )
    .option(
      "--offline",
      "open the store directly (WARDEN_DATA_DIR / WARDEN_DATABASE_URL); stop a PGlite server first",
    )
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      `
Examples:
  warden audit verify                                        the server re-checks everything it stores
  warden audit checkpoint --out kept.checkpoint && warden audit key > log.key   (keep these)
  warden audit verify --checkpoint kept.checkpoint --key log.key              online, through the tiles API
  warden audit verify --checkpoint kept.checkpoint --key log.key --tiles ./export   offline`,
    )
    .action(
      async (o: {
        checkpoint?: string;
        key?: string;
        tiles?: string;
        from?: string;
        previous?: string;
        server?: string;
        offline?: boolean;
        json?: boolean;
      }) => {
        if (!o.checkpoint) {
          if (o.tiles)
            throw new CliError(
              "--tiles needs --checkpoint (and --key): what to verify it against",
              EXIT.usage,
            );
          let r: ServerVerify;
          if (o.offline) {
            const { openApp } = await import("../boot.ts"); // lazily: only this command needs the server
            const { app, store } = await openApp(loadConfig(process.env), { quiet: true });
            const bar = progressBar(!o.json, "verifying");
            try {
              r = await app.eventLog.service.verify({ onProgress: bar.update });
            } finally {
              bar.stop();
              await store.close();
            }
          } else {
            const res = await (await api()).request<ServerVerify>("POST", "/api/v1/log/verify", {});
            failOnProblem(res);
            r = res.body;
          }
          if (o.json) printJson(r);
          else printServerReport(r);
          process.exitCode = r.ok ? EXIT.ok : EXIT.failure;
          return;
        }
        const kept = await readText(o.checkpoint, "checkpoint file");
        let report: VerifyReport;
        if (o.tiles) {
          if (!o.key)
            throw new CliError("Offline verification needs --key: the verifier key you trust", EXIT.usage);
          const key = await loadKey(o.key);
          const bar = progressBar(!o.json, "verifying");
          const hasher = await createWorkerHasher(Math.max(1, availableParallelism()));
          try {
            report = await verifyTiles(o.tiles, kept, key, {
              hasher,
              ...(o.previous ? { previousDir: o.previous } : {}),
              ...(o.from
                ? { start: Math.floor(parseIndex(o.from, "--from") / TILE_WIDTH) * TILE_WIDTH }
                : {}),
              onProgress: (d) => bar.update(d, 0),
            });
          } catch (e) {
            if (e instanceof CliError) throw e;
            throw new CliError(`Cannot verify the export: ${(e as Error).message}`, EXIT.failure);
          } finally {
            bar.stop();
            await hasher.close();
          }
        } else {
          const { source, client } = await onlineSource(o.server);
          let keyText = o.key;
          if (!keyText) {
            if (!client) throw new CliError("--server needs --key: the verifier key you trust", EXIT.usage);
            const res = await client.request("GET", "/log/key", undefined, { accept: "text/plain" });
            failOnProblem(res);
            keyText = Buffer.isBuffer(res.body) ? res.body.toString("utf8").trim() : String(res.body).trim();
            process.stderr.write(
              "note: using the server's own key; pass --key with the key you kept to trust nothing\n",
            );
          }
          const key = await loadKey(keyText);
          let trusted: ReturnType<typeof openCheckpoint>;
          try {
            trusted = openCheckpoint(kept, key);
          } catch (e) {
            throw new CliError(
              `The kept checkpoint does not verify with the key: ${(e as Error).message}`,
              EXIT.failure,
            );
          }
          const current = openCheckpoint(await source.checkpoint(), key);
          const info = client
            ? await client.request<{ prunedBefore: number }>("GET", "/api/v1/log")
            : undefined;
          const start = info && info.status === 200 ? info.body.prunedBefore : 0;
          if (trusted.size < start) {
            // Its tiles are gone with the entries: the checkpoint signed at the cut stands for them.
            process.stderr.write(
              `note: the kept checkpoint (size ${trusted.size}) lies in the range retention pruned (entries before ${start}); the entries from ${start} on are checked against the checkpoint signed at the cut and the server's\n`,
            );
          } else if (current.size >= trusted.size) {
            // The cheap check first: the current tree extends the kept one (O(log n) tiles).
            try {
              const proof = await consistencyProofFromTiles(source, trusted.size, current.size);
              checkConsistency(trusted.size, current.size, trusted.root, current.root, proof);
            } catch (e) {
              if (!(e instanceof ProofError)) throw e;
              process.stderr.write(
                `note: no consistency proof from size ${trusted.size} (${e.message}); checking every entry instead\n`,
              );
            }
          }
          const bar = progressBar(!o.json, "verifying");
          try {
            report = await verifyTree({
              source: source as TileSource,
              size: current.size,
              start,
              trusted: [
                {
                  size: trusted.size,
                  root: trusted.root,
                  label: `the kept checkpoint (size ${trusted.size})`,
                },
                {
                  size: current.size,
                  root: current.root,
                  label: `the server's checkpoint (size ${current.size})`,
                },
              ],
              onProgress: (d) => bar.update(d, current.size),
            });
          } finally {
            bar.stop();
          }
        }
        if (o.json) printJson(report);
        else printClientReport(report);
        if (!report.ok && o.tiles && !o.from && report.firstBadIndex === 0) {
          const first = await firstExportedEntry(o.tiles);
          if (first)
            process.stderr.write(
              `hint: this export's first entry bundle starts at entry ${first}. If it was exported from there (warden audit export --from ${first}, or a log pruned by retention), verify with --from ${first}; otherwise entries 0..${first - 1} are missing.\n`,
            );
        }
        process.exitCode = report.ok ? EXIT.ok : EXIT.failure;
      },
    );

  audit
    .command("prove")
    .description("Print a self-contained receipt (C2SP tlog-proof) that an event is in the audit log")
    .argument("<event>", "the event's id, or its log index")
    .option("--tiles <dir>", "from a tiles export, offline (EVENT must be an index)")
    .option("--key <key>", "check the receipt with this verifier key (or file) before printing it")
    .option("--out <file>", "write the receipt to a file (suggested extension .tlog-proof)")
    .action(async (event: string, o: { tiles?: string; key?: string; out?: string }) => {
      let receipt: string;
      let entry: Uint8Array;
      if (o.tiles) {
        const index = parseIndex(event, "EVENT");
        const source = directorySource(o.tiles);
        const note = await readText(path.join(o.tiles, "checkpoint"), "the export's checkpoint");
        const size = sizeOf(note);
        if (!Number.isSafeInteger(size) || index >= size)
          throw new CliError(`Entry ${index} is not in the export's ${size}-entry checkpoint`, EXIT.notFound);
        try {
          receipt = formatTlogProof({
            index,
            proof: await inclusionProofFromTiles(source, index, size),
            checkpoint: note,
          });
          entry = await entryFromTiles(source, index, size);
        } catch (e) {
          throw new CliError(
            `Cannot prove entry ${index} from the export: ${(e as Error).message}`,
            EXIT.failure,
          );
        }
      } else {
        const client = await api();
        let id = event;
        if (!isUuid(event)) {
          const index = parseIndex(event, "EVENT");
          const found = await client.request<{ items: { id: string; index: number }[] }>(
            "GET",
            `/api/v1/events?beforeIndex=${index + 1}&limit=1`,
          );
          failOnProblem(found);
          const hit = found.body.items[0];
          if (!hit || hit.index !== index) {
            const log = await client.request<{ size: number; prunedBefore: number }>("GET", "/api/v1/log");
            failOnProblem(log);
            if (index < log.body.prunedBefore)
              throw new CliError(
                `Entry ${index} was pruned by retention (entries before ${log.body.prunedBefore} are gone); the checkpoint signed at ${log.body.prunedBefore} stands for them`,
                EXIT.notFound,
                "An export made before the prune (warden audit prove INDEX --tiles DIR) can still prove it",
              );
            throw new CliError(
              `No event at log index ${index}: the log has ${log.body.size} entries (0..${log.body.size - 1})`,
              EXIT.notFound,
            );
          }
          id = hit.id;
        }
        const res = await client.request<{
          index: number;
          entry: unknown;
          proof: { receipt: string } | null;
        }>("GET", `/api/v1/events/${id}`);
        failOnProblem(res);
        if (!res.body.proof)
          throw new CliError(
            "The event is not in a signed checkpoint yet; try again shortly",
            EXIT.unavailable,
          );
        receipt = res.body.proof.receipt;
        // Entries are RFC 8785 canonical JSON: re-serialising the entry gives the logged bytes back.
        entry = new TextEncoder().encode(canonicalize(res.body.entry));
      }
      if (o.key) {
        try {
          verifyTlogProof(receipt, entry, await loadKey(o.key));
        } catch (e) {
          throw new CliError(`The receipt does not verify: ${(e as Error).message}`, EXIT.failure);
        }
      }
      if (o.out) {
        await writeFile(o.out, receipt);
        process.stdout.write(`Receipt written to ${o.out}\n`);
      } else process.stdout.write(receipt);
    });

  audit
    .command("export")
    .description("Export the audit log, or a range of it, as C2SP tlog-tiles with its signed checkpoint")
    .argument("<dir>", "directory to write checkpoint, tile/… and tile/entries/… into")
    .option("--size <n>", "tree size to export (default: the current log)")
    .option("--from <index>", "leave out entries before this one (rounded down to a multiple of 256)")
    .action(async (dir: string, o: { size?: string; from?: string }) => {
      const { source, client } = await onlineSource(undefined);
      const info = await client!.request<{ prunedBefore: number; size: number }>("GET", "/api/v1/log");
      failOnProblem(info);
      const size = o.size ? parseIndex(o.size, "--size") : info.body.size;
      // The signed checkpoint of exactly this size: stored, or signed now by the server from its tiles.
      const cpRes = await client!.request("GET", `/api/v1/log/checkpoint?size=${size}`, undefined, {
        accept: "text/plain",
      });
      failOnProblem(cpRes);
      const cp = Buffer.isBuffer(cpRes.body) ? cpRes.body.toString("utf8") : String(cpRes.body);
      const from = Math.max(
        info.body.prunedBefore,
        Math.floor((o.from ? parseIndex(o.from, "--from") : 0) / TILE_WIDTH) * TILE_WIDTH,
      );
      if (size > 0 && from >= size)
        throw new CliError(`Nothing to export from entry ${from} in a log of ${size}`, EXIT.usage);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, "checkpoint"), cp);
      let files = 1;
      const bundles = Math.ceil(size / TILE_WIDTH);
      const bar = progressBar(true, "exporting bundles");
      for (let level = 0; level < tileLevels(size); level++) {
        const { full, partialWidth } = tilesAtLevel(size, level);
        for (let i = level === 0 ? from / TILE_WIDTH : 0; i < full + (partialWidth ? 1 : 0); i++) {
          const width = i < full ? TILE_WIDTH : partialWidth;
          const data = await source.tile(level, i, width);
          if (!data)
            throw new CliError(`${tilePath(level, i, width)} is missing on the server`, EXIT.failure);
          await put(dir, tilePath(level, i, width), data);
          files++;
        }
      }
      const { full, partialWidth } = tilesAtLevel(size, 0);
      for (let b = from / TILE_WIDTH; b < bundles; b++) {
        const width = b < full ? TILE_WIDTH : partialWidth;
        const data = await source.bundle(b, width);
        if (!data) throw new CliError(`${entryBundlePath(b, width)} is missing on the server`, EXIT.failure);
        await put(dir, entryBundlePath(b, width), data);
        files++;
        bar.update(b + 1, bundles);
      }
      bar.stop();
      process.stdout.write(
        `Exported entries ${from}..${size - 1} (${files} files) to ${dir}.\nVerify offline: warden audit verify --checkpoint KEPT --key KEY --tiles ${dir}${from ? ` --from ${from}` : ""}\n`,
      );
    });

  audit
    .command("checkpoint")
    .description("Print (or save) the log's latest signed checkpoint; keep it to verify against later")
    .option("--out <file>", "write it to a file")
    .action(async (o: { out?: string }) => {
      const { source } = await onlineSource(undefined);
      const note = await source.checkpoint();
      if (o.out) {
        await writeFile(o.out, note);
        process.stdout.write(`Checkpoint of ${sizeOf(note)} entries written to ${o.out}\n`);
      } else process.stdout.write(note);
    });

  audit
    .command("key")
    .description("Print the log's verifier key (C2SP signed-note key: name+hash+base64)")
    .action(async () => {
      const client = await api();
      const res = await client.request("GET", "/log/key", undefined, { accept: "text/plain" });
      failOnProblem(res);
      process.stdout.write(Buffer.isBuffer(res.body) ? res.body.toString("utf8") : `${String(res.body)}\n`);
    });

  audit
    .command("events")
    .description("List Warden's own audit records, newest first")
    .option("--action <prefix>", "only actions starting with this, e.g. agreement.")
    .option("--target-id <id>", "only events about this record")
    .option("--limit <n>", "how many", "50")
    .option("--json", "machine-readable output")
    .action(async (opts: { action?: string; targetId?: string; limit: string; json?: boolean }) => {
      const p = new URLSearchParams({ limit: opts.limit });
      if (opts.action) p.set("action", opts.action);
      if (opts.targetId) p.set("targetId", opts.targetId);
      const res = await (await api()).request<{
        items: {
          seq: number;
          at: string;
          actor: { label: string };
          action: string;
          target: { id: string | null };
          outcome: string;
        }[];
      }>("GET", `/api/v1/audit/events?${p}`);
      failOnProblem(res);
      if (opts.json) return printJson(res.body);
      printTable(
        res.body.items.map((e) => ({
          seq: e.seq,
          at: e.at,
          actor: e.actor.label,
          action: e.action,
          target: e.target.id,
          outcome: e.outcome,
        })),
        ["seq", "at", "actor", "action", "target", "outcome"],
      );
    });
}

/**
 * The first entry of the lowest entry bundle in a tiles export (C2SP tlog-tiles paths: tile/entries/
 * x001/234 is bundle 1234, a partial one ends in .p/<width>), or undefined when there is none.
 */
async function firstExportedEntry(dir: string): Promise<number | undefined> {
  let files: string[];
  try {
    files = (await readdir(path.join(dir, "tile", "entries"), { recursive: true })).map(String);
  } catch {
    return undefined;
  }
  let lowest: number | undefined;
  for (const f of files) {
    const parts = f.split(path.sep);
    // A partial bundle is <n>.p/<width>: drop the width, keep <n>.
    if (parts.length > 1 && /^\d{3}\.p$/.test(parts.at(-2)!) && /^\d+$/.test(parts.at(-1)!)) {
      parts.pop();
      parts[parts.length - 1] = parts.at(-1)!.slice(0, 3);
    }
    const last = parts.at(-1)!;
    if (!/^\d{3}$/.test(last) || !parts.slice(0, -1).every((p) => /^x\d{3}$/.test(p))) continue;
    const n = Number([...parts.slice(0, -1).map((p) => p.slice(1)), last].join(""));
    if (lowest === undefined || n < lowest) lowest = n;
  }
  return lowest === undefined ? undefined : lowest * TILE_WIDTH;
}

/** Tree size of a checkpoint: its second line (C2SP tlog-checkpoint). */
const sizeOf = (note: string): number => Number(note.split("\n")[1]);

async function put(dir: string, rel: string, data: Uint8Array): Promise<void> {
  const full = path.join(dir, rel);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, data);
}
