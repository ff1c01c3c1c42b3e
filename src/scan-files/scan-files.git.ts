import { spawn, spawnSync } from "node:child_process";
import { AppError } from "../core/errors.ts";
import type { CommitInfo } from "./scan-files.reader.ts";
import type { TextItem } from "./scan-files.worker.ts";

/** The repository's top-level directory, or an error saying the path is not in a Git work tree. */
export function gitTopLevel(path: string): string {
  const r = spawnSync("git", ["-C", path, "rev-parse", "--show-toplevel"], { encoding: "utf8" });
  if (r.error)
    throw new AppError("bad_request", "git is not installed or not on PATH: install git to scan history");
  if (r.status !== 0) throw new AppError("bad_request", `${path} is not inside a Git repository`);
  return r.stdout.trim();
}

export function gitRevExists(repo: string, rev: string): boolean {
  const r = spawnSync("git", ["-C", repo, "rev-parse", "--verify", "--quiet", `${rev}^{commit}`], {
    encoding: "utf8",
  });
  return r.status === 0;
}

/** Largest added text per item: bigger additions are split so one item never holds a huge file. */
const MAX_ITEM_CHARS = 1024 * 1024;
const MARK = "\u0001";
const SEP = "\u0002";

/**
 * Streams `git log -p` (or `git diff --cached`) and yields the added lines of each file of each commit,
 * with their line numbers in the new file. Only additions matter: a secret that was added and removed
 * later is found in the commit that added it. Hand-written parser: the unified diff format with -U0 is
 * small and no maintained streaming parser exists for it.
 */
export async function* gitAddedText(
  repo: string,
  mode: { kind: "history"; since?: string } | { kind: "staged" },
  commits: CommitInfo[],
): AsyncGenerator<TextItem> {
  const common = ["-c", "core.quotePath=false", "-C", repo];
  const args =
    mode.kind === "history"
      ? [
          ...common,
          "log",
          "-p",
          "-U0",
          "--no-color",
          "--no-ext-diff",
          "--no-textconv",
          "--full-history",
          `--format=${MARK}%H${SEP}%an${SEP}%ae${SEP}%aI${SEP}%s`,
          ...(mode.since ? [`${mode.since}..HEAD`] : ["--all"]),
        ]
      : [...common, "diff", "--cached", "-U0", "--no-color", "--no-ext-diff", "--no-textconv"];
  const child = spawn("git", args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => {
    if (stderr.length < 4000) stderr += d;
  });
  const exited = new Promise<number>((res) => child.on("close", (code) => res(code ?? 1)));

  let commit = mode.kind === "staged" ? -1 : -2;
  let file: string | null = null;
  let newLine = 0;
  let lines: string[] = [];
  let lineNos: number[] = [];
  let size = 0;
  const flush = (): TextItem | null => {
    if (!file || lines.length === 0) return null;
    const sha = commits[commit]?.sha;
    const item: TextItem = {
      display: file,
      text: lines.join("\n"),
      lines: lineNos,
      commit,
      ...(sha ? { sha } : {}),
    };
    lines = [];
    lineNos = [];
    size = 0;
    return item;
  };

  let pending = "";
  const decoder = new TextDecoder("utf-8");
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      const text = pending + decoder.decode(chunk, { stream: true });
      const parts = text.split("\n");
      pending = parts.pop()!;
      for (const line of parts) {
        const c = line.charCodeAt(0);
        if (c === 43 /* + */) {
          if (line.startsWith("+++ ")) {
            const it = flush();
            if (it) yield it;
            const p = line.slice(4);
            file = p === "/dev/null" ? null : unquote(p).replace(/^b\//, "");
            continue;
          }
          if (file) {
            lines.push(line.slice(1));
            lineNos.push(newLine++);
            size += line.length;
            if (size > MAX_ITEM_CHARS) {
              const it = flush();
              if (it) yield it;
            }
          }
        } else if (c === 64 /* @ */ && line.startsWith("@@")) {
          const m = /\+(\d+)/.exec(line);
          newLine = m ? Number(m[1]) : 1;
        } else if (c === 1) {
          const it = flush();
          if (it) yield it;
          file = null;
          const [sha, author, email, date, message] = line.slice(1).split(SEP);
          commits.push({
            sha: sha ?? "",
            author: author ?? "",
            email: email ?? "",
            date: date ?? "",
            message: (message ?? "").slice(0, 500),
          });
          commit = commits.length - 1;
        } else if (c === 100 /* d */ && line.startsWith("diff --git ")) {
          const it = flush();
          if (it) yield it;
          file = null;
        }
      }
    }
    const last = flush();
    if (last) yield last;
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await exited;
  if (code !== 0 && code !== 141)
    throw new AppError("bad_request", `git failed: ${stderr.trim().split("\n")[0] ?? code}`);
}

function unquote(p: string): string {
  if (!p.startsWith('"')) return p;
  // git C-quotes unusual paths; with core.quotePath=false only control characters and quotes are escaped.
  return p
    .slice(1, -1)
    .replace(/\\(["\\])/g, "$1")
    .replace(/\\t/g, "\t")
    .replace(/\\n/g, "\n");
}
