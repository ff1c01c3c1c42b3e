import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { CliError, EXIT } from "./output.ts";

/** Asks on the terminal; refuses when there is none, so scripts get a clear error instead of a hang. */
export async function ask(question: string, opts: { secret?: boolean } = {}): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new CliError(
      `Cannot ask "${question.trim()}" without a terminal`,
      EXIT.usage,
      "Pass the value as an option (see --help)",
    );
  }
  let muted = false;
  const out = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stdout.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output: out, terminal: true });
  try {
    const p = rl.question(question);
    muted = !!opts.secret;
    const answer = await p;
    if (opts.secret) process.stdout.write("\n");
    return answer.trim();
  } finally {
    rl.close();
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}
