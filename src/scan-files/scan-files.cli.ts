import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { isAppError } from "../core/errors.ts";
import { formatCsv, formatJson, formatSarif, formatText } from "./scan-files.format.ts";
import { installHook } from "./scan-files.hook.ts";
import { resolveCredentials, sendReport } from "./scan-files.report.ts";
import { cliOptionsSchema } from "./scan-files.schemas.ts";
import { atOrAbove, type ScanProgress, scanFiles } from "./scan-files.service.ts";

/** Exit codes CI can rely on. */
export const EXIT = { clean: 0, findings: 1, error: 2 } as const;

function fail(e: unknown): number {
  const msg = isAppError(e) ? e.message : e instanceof Error ? e.message : String(e);
  process.stderr.write(`warden scan: ${msg}\n`);
  return EXIT.error;
}

async function createProgress(enabled: boolean): Promise<{ update(p: ScanProgress): void; stop(): void }> {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const { default: cliProgress } = await import("cli-progress");
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: "scanning {bar} {value}/{total} files | {mib} MiB | {rate} MiB/s | {findings} findings",
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { mib: "0.0", rate: "0.0", findings: 0 });
  return {
    update(p) {
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      bar.setTotal(Math.max(p.queued, p.files, 1));
      bar.update(p.files, {
        mib: (p.bytes / 1048576).toFixed(1),
        rate: (p.bytes / 1048576 / secs).toFixed(1),
        findings: p.findings,
      });
    },
    stop: () => bar.stop(),
  };
}

export async function runScanFilesCommand(paths: string[], raw: Record<string, unknown>): Promise<number> {
  const parsed = cliOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return fail(`--${String(i.path[0] ?? "option")}: ${i.message}`);
  }
  const opts = parsed.data;
  const progress = await createProgress(opts.progress && opts.format === "text" ? true : opts.progress);
  try {
    const { report, redactedReport } = await scanFiles({
      paths,
      gitHistory: opts.gitHistory,
      staged: opts.staged,
      redact: opts.redact,
      ...(opts.since ? { since: opts.since } : {}),
      ...(opts.config ? { configPath: opts.config } : {}),
      ...(opts.baseline ? { baselinePath: opts.baseline } : {}),
      ...(opts.workers ? { workers: opts.workers } : {}),
      ...(opts.vendor ? { vendorId: opts.vendor } : {}),
      ...(opts.engagement ? { engagementId: opts.engagement } : {}),
      onProgress: (p) => progress.update(p),
    });
    progress.stop();
    const text =
      opts.format === "json"
        ? formatJson(report)
        : opts.format === "sarif"
          ? formatSarif(report)
          : opts.format === "csv"
            ? formatCsv(report)
            : formatText(report, { color: !opts.output && process.stdout.isTTY === true });
    if (opts.output) writeFileSync(opts.output, text, { mode: 0o600 });
    else process.stdout.write(text);
    if (opts.report) {
      const creds = resolveCredentials(opts.server);
      const res = await sendReport(redactedReport, creds);
      if (res.status < 200 || res.status >= 300) {
        let why = res.body.slice(0, 300);
        try {
          const p = JSON.parse(res.body) as { title?: string; detail?: string };
          why = [p.title, p.detail].filter(Boolean).join(": ") || why;
        } catch {}
        return fail(`the server refused the report (HTTP ${res.status}) ${why}`);
      }
      process.stderr.write(
        `Reported ${report.findings.length} findings to ${new URL(creds.server).origin}\n`,
      );
    }
    return report.findings.some((f) => atOrAbove(f.severity, opts.failOn)) ? EXIT.findings : EXIT.clean;
  } catch (e) {
    progress.stop();
    return fail(e);
  }
}

/** Adds `files` and `install-hook` to the `warden scan` command. */
export function registerScanFilesCommands(scan: Command): void {
  const usageExit = (err: { exitCode: number }) => {
    process.exit(err.exitCode === 0 ? 0 : EXIT.error);
  };
  scan
    .command("files")
    .description("Find leaked secrets and unencrypted sensitive files in files, archives and Git history")
    .argument(
      "<paths...>",
      "files or directories to scan (a path inside the repository for --git-history/--staged)",
    )
    .option("--git-history", "scan every commit reachable from any ref (added lines)")
    .option("--since <rev>", "with --git-history: only commits after REV (REV..HEAD)")
    .option("--staged", "scan only the changes staged for commit (pre-commit)")
    .addOption(
      new Option("--format <format>", "output format")
        .choices(["text", "json", "sarif", "csv"])
        .default("text"),
    )
    .option("--output <file>", "write the output to FILE instead of stdout")
    .option(
      "--baseline <file>",
      "ignore findings whose fingerprint is in FILE (a previous --format json output)",
    )
    .option("--config <file>", "TOML config: custom rules, allowlists, gitleaks rule imports")
    .addOption(
      new Option("--fail-on <severity>", "exit 1 when a finding is at or above this severity")
        .choices(["low", "medium", "high"])
        .default("low"),
    )
    .option("--redact", "redact secret values in the output (default)", true)
    .option("--no-redact", "show secret values in the output (never sent with --report)")
    .option("--report", "send the (redacted) results to the Warden server")
    .option("--server <url>", "Warden server URL (default: WARDEN_SERVER or `warden login` credentials)")
    .option("--vendor <id>", "vendor the scanned repository belongs to (with --report)")
    .option("--engagement <id>", "engagement the scanned repository belongs to (with --report)")
    .option("--workers <n>", "scanning threads, this one included (default: number of cores)")
    .option("--no-progress", "no progress display even on a terminal")
    .addHelpText(
      "after",
      "\nExit codes: 0 no finding at or above --fail-on, 1 findings at or above --fail-on, 2 usage or I/O error.",
    )
    .exitOverride(usageExit)
    .action(async (paths: string[], opts: Record<string, unknown>) => {
      process.exitCode = await runScanFilesCommand(paths, opts);
    });

  scan
    .command("install-hook")
    .description("Install a Git pre-commit hook that runs `warden scan files --staged`")
    .option("--repo <path>", "repository to install into", ".")
    .option("--command <cmd>", "how the hook runs warden", "warden")
    .option("--force", "replace an existing pre-commit hook (kept as pre-commit.before-warden and still run)")
    .exitOverride(usageExit)
    .action((opts: { repo: string; command: string; force?: boolean }) => {
      try {
        const r = installHook({ repo: opts.repo, command: opts.command, force: opts.force === true });
        process.stdout.write(
          `Installed pre-commit hook at ${r.path}${r.backup ? ` (previous hook kept as ${r.backup})` : ""}\n`,
        );
        process.exitCode = EXIT.clean;
      } catch (e) {
        process.exitCode = fail(e);
      }
    });
}
