/**
 * `warden audit verify` and `warden audit prove`: check Warden's audit log without trusting Warden.
 *
 *   audit verify --checkpoint FILE --key KEY --tiles DIR [--previous DIR]   offline, a tiles export
 *   audit verify --checkpoint FILE --key KEY --server URL                   online, the log's tiles API
 *   audit prove EVENT (--server URL | --tiles DIR) [--key KEY] [--out FILE] a C2SP tlog-proof receipt
 *
 * Exit codes: 0 verified; 1 verification failed (the log is not what was checkpointed); 2 bad input
 * (unreadable file, malformed key or checkpoint); 3 the server could not be reached or answered an error.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { z } from "zod";
import { openCheckpoint } from "./verify/checkpoint.ts";
import { checkConsistency, ProofError } from "./verify/merkle.ts";
import { type NoteVerifier, parseVerifierKey } from "./verify/note.ts";
import {
  consistencyProofFromTiles,
  entryFromTiles,
  type FetchLike,
  httpSource,
  inclusionProofFromTiles,
} from "./verify/tile-proofs.ts";
import { formatTlogProof, verifyTlogProof } from "./verify/tlog-proof.ts";
import { directorySource, verifyTiles } from "./verify/verify-tiles.ts";
import type { TileSource, VerifyReport } from "./verify/verify-tree.ts";
import { verifyTree } from "./verify/verify-tree.ts";

export const exitCodes = { ok: 0, failed: 1, badInput: 2, unreachable: 3 } as const;

export interface AuditLogCliDeps {
  /** HTTP client for online mode (adds the API token); defaults to globalThis.fetch. */
  fetch?: FetchLike;
  /** Default log prefix when --server is absent, e.g. from the CLI's config (`https://host/log`). */
  defaultServer?: string;
  /** Maps an EVENT argument (an event id) to its log index; without it EVENT must be an index. */
  resolveEventIndex?: (event: string) => Promise<number>;
  out?: (text: string) => void;
  err?: (text: string) => void;
  exit?: (code: number) => void;
}

class CliError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

const verifyOptions = z
  .object({
    checkpoint: z.string().min(1),
    key: z.string().min(1),
    tiles: z.string().min(1).optional(),
    server: z.string().url().optional(),
    previous: z.string().min(1).optional(),
    json: z.boolean().optional(),
  })
  .refine((o) => Boolean(o.tiles) !== Boolean(o.server), {
    message: "give exactly one of --tiles DIR or --server URL",
  });

const proveOptions = z
  .object({
    tiles: z.string().min(1).optional(),
    server: z.string().url().optional(),
    key: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
  })
  .refine((o) => Boolean(o.tiles) !== Boolean(o.server), {
    message: "give exactly one of --tiles DIR or --server URL",
  });

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new CliError(
      exitCodes.badInput,
      `Cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
}

/** KEY is a verifier key string or a file holding one. */
async function loadKey(key: string): Promise<NoteVerifier> {
  const text = /^[^+\s]+\+[0-9a-f]{8}\+/.test(key) ? key : (await readText(key, "key file")).trim();
  try {
    return parseVerifierKey(text);
  } catch (e) {
    throw new CliError(
      exitCodes.badInput,
      `The log key is not valid: ${(e as Error).message}. Expected name+hash+base64key.`,
    );
  }
}

function printReport(r: VerifyReport, out: (s: string) => void): void {
  if (r.ok) {
    out(`OK: ${r.size} entries verified; root ${r.root}`);
    for (const c of r.checked) out(`  root matches ${c.label}`);
    return;
  }
  out(`FAILED: the log does not match what was checkpointed (${r.size} entries examined).`);
  if (r.firstBadIndex !== undefined) {
    const range = r.firstBadRange;
    out(
      range && range.end - range.start > 1
        ? `First bad entry: somewhere in ${range.start}..${range.end - 1} (give --previous DIR with an earlier export to name it)`
        : `First bad entry: ${r.firstBadIndex}`,
    );
  }
  for (const p of r.problems) out(`  - ${p.message}`);
}

export function registerAuditLogCommands(audit: Command, deps: AuditLogCliDeps = {}): void {
  const out = deps.out ?? ((s: string) => process.stdout.write(`${s}\n`));
  const err = deps.err ?? ((s: string) => process.stderr.write(`${s}\n`));
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  const fetch = deps.fetch ?? (globalThis.fetch as unknown as FetchLike);

  const run = (fn: () => Promise<number>) => async () => {
    try {
      exit(await fn());
    } catch (e) {
      if (e instanceof CliError) {
        err(e.message);
        exit(e.code);
      } else if (e instanceof z.ZodError) {
        err(`Invalid options: ${e.issues.map((i) => i.message).join("; ")}`);
        exit(exitCodes.badInput);
      } else if (e instanceof ProofError) {
        err(`Verification failed: ${e.message}`);
        exit(exitCodes.failed);
      } else {
        err(`Could not complete: ${(e as Error).message}`);
        exit(exitCodes.unreachable);
      }
    }
  };

  const withDefaultServer = (o: { tiles?: string; server?: string }) =>
    o.tiles || o.server || !deps.defaultServer ? o : { ...o, server: deps.defaultServer };

  const online = (server: string) => {
    const source = httpSource(fetch, server);
    return {
      source,
      checkpoint: async () => {
        try {
          return await source.checkpoint();
        } catch (e) {
          throw new CliError(
            exitCodes.unreachable,
            `Cannot fetch the checkpoint from ${server}: ${(e as Error).message}`,
          );
        }
      },
    };
  };

  audit
    .command("verify")
    .description("Verify the audit log against a checkpoint you kept: offline from a tiles export, or online")
    .requiredOption("--checkpoint <file>", "a signed checkpoint saved earlier (C2SP tlog-checkpoint)")
    .requiredOption("--key <key>", "the log's verifier key (name+hash+base64key) or a file holding it")
    .option("--tiles <dir>", "a tiles export (warden audit export) to verify offline")
    .option("--server <url>", "the log's URL prefix (serving /checkpoint and /tile/…) to verify online")
    .option("--previous <dir>", "an earlier export the kept checkpoint describes, to name a rewritten entry")
    .option("--json", "print the report as JSON")
    .action(async (raw: unknown, cmd: Command) => {
      await run(async () => {
        const o = verifyOptions.parse(withDefaultServer({ ...(raw as object), ...(cmd.opts() as object) }));
        const key = await loadKey(o.key);
        const kept = await readText(o.checkpoint, "checkpoint file");
        let trusted: ReturnType<typeof openCheckpoint>;
        try {
          trusted = openCheckpoint(kept, key);
        } catch (e) {
          throw new CliError(
            exitCodes.badInput,
            `The kept checkpoint does not verify with the key: ${(e as Error).message}`,
          );
        }
        let report: VerifyReport;
        if (o.tiles) {
          report = await verifyTiles(o.tiles, kept, key, o.previous ? { previousDir: o.previous } : {});
        } else {
          const { source, checkpoint } = online(o.server!);
          const current = openCheckpoint(await checkpoint(), key);
          // The cheap check first: the current tree extends the kept one (O(log n) tiles).
          if (current.size >= trusted.size) {
            const proof = await consistencyProofFromTiles(source, trusted.size, current.size);
            checkConsistency(trusted.size, current.size, trusted.root, current.root, proof);
          }
          report = await verifyTree({
            source: source as TileSource,
            size: current.size,
            trusted: [
              { size: trusted.size, root: trusted.root, label: `the kept checkpoint (size ${trusted.size})` },
              {
                size: current.size,
                root: current.root,
                label: `the server's checkpoint (size ${current.size})`,
              },
            ],
          });
        }
        if (o.json) out(JSON.stringify(report, null, 2));
        else printReport(report, out);
        return report.ok ? exitCodes.ok : exitCodes.failed;
      })();
    });

  audit
    .command("prove")
    .description("Print a self-contained receipt (C2SP tlog-proof) that an event is in the audit log")
    .argument("<event>", "the event's log index (or id, when the server maps ids)")
    .option("--server <url>", "the log's URL prefix (serving /checkpoint and /tile/…)")
    .option("--tiles <dir>", "a tiles export, offline")
    .option("--key <key>", "verify the receipt with this verifier key before printing it")
    .option("--out <file>", "write the receipt to a file (suggested extension .tlog-proof)")
    .action(async (event: string, raw: unknown, cmd: Command) => {
      await run(async () => {
        const o = proveOptions.parse(withDefaultServer({ ...(raw as object), ...(cmd.opts() as object) }));
        let index: number;
        if (/^(0|[1-9][0-9]*)$/.test(event)) index = Number(event);
        else if (deps.resolveEventIndex) index = await deps.resolveEventIndex(event);
        else
          throw new CliError(exitCodes.badInput, `EVENT must be a log index, not ${JSON.stringify(event)}`);
        let source: TileSource;
        let note: string;
        if (o.tiles) {
          source = directorySource(o.tiles);
          note = await readText(`${o.tiles}/checkpoint`, "the export's checkpoint");
        } else {
          const s = online(o.server!);
          source = s.source;
          note = await s.checkpoint();
        }
        const size = Number(note.split("\n")[1]);
        if (!Number.isSafeInteger(size) || index >= size) {
          throw new CliError(
            exitCodes.badInput,
            `Entry ${index} is not in the log's ${size}-entry checkpoint`,
          );
        }
        const proof = await inclusionProofFromTiles(source, index, size);
        const receipt = formatTlogProof({ index, proof, checkpoint: note });
        if (o.key) verifyTlogProof(receipt, await entryFromTiles(source, index, size), await loadKey(o.key));
        if (o.out) await writeFile(o.out, receipt);
        else out(receipt.trimEnd());
        return exitCodes.ok;
      })();
    });
}
