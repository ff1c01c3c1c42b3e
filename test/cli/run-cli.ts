import { spawn } from "node:child_process";

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `warden ARGS…` from source in a child process, as a user runs it, with `env` added. */
export function runWarden(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", "src/cli/entry.ts", ...args], {
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
