import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { AppError } from "../core/errors.ts";

const MARKER = "# installed by: warden scan install-hook";

export interface InstallHookOptions {
  repo: string;
  /** Command that runs warden (default "warden"). */
  command?: string;
  force?: boolean;
}

/**
 * Writes a pre-commit hook that scans the staged changes. Honours core.hooksPath (via `git rev-parse
 * --git-path hooks`). An existing foreign hook is kept: refused without --force, backed up with it.
 */
export function installHook(opts: InstallHookOptions): { path: string; backup?: string } {
  const r = spawnSync("git", ["-C", opts.repo, "rev-parse", "--git-path", "hooks"], { encoding: "utf8" });
  if (r.error) throw new AppError("bad_request", "git is not installed or not on PATH");
  if (r.status !== 0) throw new AppError("bad_request", `${opts.repo} is not inside a Git repository`);
  const rel = r.stdout.trim();
  const hooksDir = isAbsolute(rel) ? rel : join(opts.repo, rel);
  const hook = join(hooksDir, "pre-commit");
  let backup: string | undefined;
  if (existsSync(hook)) {
    const current = readFileSync(hook, "utf8");
    if (!current.includes(MARKER)) {
      if (!opts.force)
        throw new AppError(
          "conflict",
          `${hook} already exists and was not written by warden: rerun with --force to replace it (it will be kept as pre-commit.before-warden)`,
        );
      backup = join(dirname(hook), "pre-commit.before-warden");
      renameSync(hook, backup);
    }
  }
  mkdirSync(hooksDir, { recursive: true });
  const cmd = opts.command ?? "warden";
  const script = `#!/bin/sh
${MARKER}
# Blocks a commit whose staged changes add a secret or an unencrypted sensitive file.
# Bypass once (knowingly) with: git commit --no-verify
${backup ? `"$(dirname "$0")/pre-commit.before-warden" "$@" || exit $?\n` : ""}exec ${cmd} scan files --staged --fail-on low --no-progress .
`;
  writeFileSync(hook, script, { mode: 0o755 });
  chmodSync(hook, 0o755);
  return { path: hook, ...(backup ? { backup } : {}) };
}
