import { spawn } from "node:child_process";
import path from "node:path";
import { inject } from "vitest";

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/**
 * Node's arguments for `warden ARGS…`: the bundle test/global-setup.ts built for this run, picked the way
 * bin/warden.js picks it (`share` has its own small entry), or the sources through tsx without one.
 */
export function wardenArgv(args: string[]): string[] {
  const bundle = inject("cliBundle");
  if (!bundle) return ["--import", "tsx", "src/cli/entry.ts", ...args];
  return [path.join(bundle, args[0] === "share" ? "warden-share.js" : "warden.js"), ...args];
}

/** Runs `warden ARGS…` in a child process, as a user runs it, with `env` added. */
export function runWarden(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, wardenArgv(args), {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.stderr.on("data", (d) => {
      err += d;
    });
    p.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}
