import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manualClock } from "../core/clock.ts";
import { exitCodes, registerAuditLogCommands } from "./tlog.cli.ts";
import { createTlog, type Tlog } from "./tlog.service.ts";
import { createNoteSigner, generateNoteKey } from "./tlog.signer.ts";
import { parseVerifierKey } from "./verify/note.ts";
import { parseTilePath } from "./verify/tiles.ts";
import { verifyTlogProof } from "./verify/tlog-proof.ts";

const ORIGIN = "warden.test/audit";
const key = generateNoteKey(ORIGIN);
const event = (i: number) => new TextEncoder().encode(JSON.stringify({ id: i, action: "repo.clone" }));

/** Runs `audit <args>` and returns what it printed and its exit code. */
async function cli(args: string[], server?: string) {
  const lines: string[] = [];
  let code = -1;
  const program = new Command().exitOverride();
  const audit = program.command("audit");
  registerAuditLogCommands(audit, {
    out: (s) => lines.push(s),
    err: (s) => lines.push(s),
    exit: (c) => {
      code = c;
    },
    ...(server ? { defaultServer: server } : {}),
  });
  await program.parseAsync(["node", "warden", "audit", ...args]);
  return { code, text: lines.join("\n") };
}

describe("warden audit verify and prove", () => {
  let db: PGlite;
  let log: Tlog;
  let dir: string;
  let server: Server;
  let url: string;
  let kept: string;

  beforeAll(async () => {
    db = new PGlite();
    for (const m of ["20261121170000_tlog.sql", "20261122030000_tlog_prune.sql"])
      await db.exec(await readFile(new URL(`../../migrations/${m}`, import.meta.url), "utf8"));
    log = createTlog({
      sql: db,
      signer: createNoteSigner(key.privateKey),
      origin: ORIGIN,
      clock: manualClock(),
    });
    await log.appendBatch(Array.from({ length: 300 }, (_, i) => event(i)));
    dir = await mkdtemp(join(tmpdir(), "tlog-cli-"));
    kept = join(dir, "kept.checkpoint");
    await writeFile(kept, await log.checkpoint());
    await log.appendBatch(Array.from({ length: 230 }, (_, i) => event(300 + i)));
    await log.exportTiles(join(dir, "export"));
    // How the server exposes the log: tlog-tiles resources under a prefix (here /log).
    server = createServer(async (req, res) => {
      const path = (req.url ?? "").replace(/^\/log\//, "");
      const parsed = parseTilePath(path);
      const body =
        path === "checkpoint"
          ? await log.checkpoint()
          : parsed?.kind === "tile"
            ? await log.tile(parsed.level, parsed.index, parsed.width)
            : parsed?.kind === "entries"
              ? await log.bundle(parsed.index, parsed.width)
              : undefined;
      res.writeHead(body === undefined ? 404 : 200).end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log`;
  }, 180_000); // PGlite takes seconds to start on a busy 2-core machine.
  afterAll(async () => {
    server?.close();
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("verifies a tiles export offline against a kept checkpoint", async () => {
    const r = await cli([
      "verify",
      "--tiles",
      join(dir, "export"),
      "--checkpoint",
      kept,
      "--key",
      key.verifierKey,
    ]);
    expect(r.text).toMatch(/^OK: 530 entries verified/);
    expect(r.code).toBe(exitCodes.ok);
  });

  it("verifies online through the log's tiles API", async () => {
    const r = await cli(["verify", "--checkpoint", kept, "--key", key.verifierKey], url);
    expect(r.text).toMatch(/^OK: 530 entries verified/);
    expect(r.code).toBe(exitCodes.ok);
  });

  it("fails with exit code 1 and names the entry when an exported entry was altered", async () => {
    const copy = join(dir, "tampered");
    await log.exportTiles(copy);
    const bundle = join(copy, "tile/entries/001");
    const bytes = await readFile(bundle);
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    await writeFile(bundle, bytes);
    const r = await cli(["verify", "--tiles", copy, "--checkpoint", kept, "--key", key.verifierKey]);
    expect(r.code).toBe(exitCodes.failed);
    expect(r.text).toMatch(/First bad entry: 256/);
  });

  it("rejects a malformed key with exit code 2 and says what to give", async () => {
    const r = await cli([
      "verify",
      "--tiles",
      join(dir, "export"),
      "--checkpoint",
      kept,
      "--key",
      "nonsense",
    ]);
    expect(r.code).toBe(exitCodes.badInput);
    expect(r.text).toMatch(/Cannot read key file nonsense/);
  });

  it("prints a receipt that a third party verifies with only the key and the event", async () => {
    const r = await cli(["prove", "417", "--key", key.verifierKey], url);
    expect(r.code).toBe(exitCodes.ok);
    const receipt = `${r.text}\n`;
    expect(receipt.startsWith("c2sp.org/tlog-proof@v1\nindex 417\n")).toBe(true);
    expect(verifyTlogProof(receipt, event(417), parseVerifierKey(key.verifierKey)).tree.size).toBe(530);
  });

  it("says when the server cannot be reached (exit code 3)", async () => {
    const r = await cli([
      "verify",
      "--checkpoint",
      kept,
      "--key",
      key.verifierKey,
      "--server",
      "http://127.0.0.1:9/log",
    ]);
    expect(r.code).toBe(exitCodes.unreachable);
    expect(r.text).toMatch(/Cannot fetch the checkpoint/);
  });
});
