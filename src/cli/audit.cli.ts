import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { openApp } from "../boot.ts";
import { loadConfig } from "../core/config.ts";
import { api, failOnProblem } from "./client.ts";
import { EXIT, printJson, printTable } from "./output.ts";

interface VerifyOut {
  ok: boolean;
  checked: number;
  firstBad?: { seq: number; problem: string };
}

function report(r: VerifyOut, json: boolean | undefined) {
  if (json) printJson(r);
  else if (r.ok) process.stdout.write(`Audit trail intact: ${r.checked} entries verified.\n`);
  else
    process.stdout.write(
      `AUDIT TRAIL BROKEN at entry ${r.firstBad?.seq}: ${r.firstBad?.problem} (${r.checked} entries before it verified).\n`,
    );
  process.exitCode = r.ok ? EXIT.ok : EXIT.failure;
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command("audit").description("The tamper-evident audit trail");
  audit
    .command("verify")
    .description(
      "Recompute the hash chain; names the first changed, deleted or reordered entry. Exit 1 if broken",
    )
    .option(
      "--offline",
      "open the store directly (WARDEN_DATA_DIR / WARDEN_DATABASE_URL) instead of asking the server; stop a PGlite server first",
    )
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  warden audit verify\n  WARDEN_DATA_DIR=/var/lib/warden warden audit verify --offline --json",
    )
    .action(async (opts: { offline?: boolean; json?: boolean }) => {
      if (!opts.offline) {
        const res = await (await api()).request<VerifyOut>("GET", "/api/v1/audit/verify");
        failOnProblem(res);
        return report(res.body, opts.json);
      }
      const { app, store } = await openApp(loadConfig(process.env), { quiet: true });
      const bar =
        process.stderr.isTTY && !opts.json
          ? new SingleBar({ format: "verifying [{bar}] {value}/{total} entries" })
          : undefined;
      try {
        let started = false;
        const r = await app.audit.verify((done, total) => {
          if (!bar) return;
          if (!started) {
            bar.start(total, 0);
            started = true;
          }
          bar.update(done);
        });
        bar?.stop();
        report(r, opts.json);
      } finally {
        await store.close();
      }
    });
  audit
    .command("events")
    .description("List audit events, newest first")
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
