/**
 * `warden hooks git`: server-side Git hooks (pre-receive, post-receive) and an SSH forced-command wrapper
 * for clone/fetch, all POSIX sh + curl, that report to Warden's ingest endpoint
 * (POST /api/v1/ingest/events, NDJSON, `Authorization: Bearer <ingest-scoped token>`), plus the
 * normaliser for the records they send. The token is read from a file at run time and handed to curl
 * through a private header file, so it never appears in the scripts, in `ps` or in logs.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import {
  FileHostingActivityId,
  OCSF_VERSION,
  type OcsfEvent,
  ocsfEvent,
  Severity,
  Status,
} from "./ocsf.types.ts";

export const INGEST_PATH = "/api/v1/ingest/events";

/** Values end up inside double-quoted shell strings: refuse what could escape them. */
const shellSafe = (s: string) => !/["$`\\\n\r]/.test(s);
const safePath = z.string().max(4096).refine(shellSafe, 'must not contain ", $, `, \\ or line breaks');

export const gitHooksOptionsSchema = z.object({
  wardenUrl: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL")
    .refine(shellSafe, 'must not contain ", $, `, \\ or line breaks')
    .transform((u) => u.replace(/\/+$/, "")),
  tokenFile: safePath.min(1).default("/etc/warden/git-ingest.token"),
  /** Prefix stripped from repository paths so "/srv/git/acme/app.git" reports as "acme/app". */
  repoRoot: safePath.default(""),
  /** Refuse pushes and fetches when the event cannot be delivered. */
  requireAudit: z.boolean().default(false),
  /** CA bundle for a Warden server with a private certificate. */
  caFile: safePath.optional(),
});
export type GitHooksOptions = z.input<typeof gitHooksOptionsSchema>;

export interface GitHookFile {
  name: "pre-receive" | "post-receive" | "warden-git-shell";
  mode: number;
  content: string;
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Shared shell functions, inlined in every script so each file installs on its own. */
function prelude(o: z.output<typeof gitHooksOptionsSchema>): string {
  return `
WARDEN_URL="\${WARDEN_URL:-${o.wardenUrl}}"
WARDEN_TOKEN_FILE="\${WARDEN_TOKEN_FILE:-${o.tokenFile}}"
WARDEN_REPO_ROOT="\${WARDEN_REPO_ROOT:-${o.repoRoot}}"
WARDEN_REQUIRE_AUDIT="\${WARDEN_REQUIRE_AUDIT:-${o.requireAudit ? 1 : 0}}"
WARDEN_CA_FILE="\${WARDEN_CA_FILE:-${o.caFile ?? ""}}"

# JSON string body: control characters dropped, backslash and quote escaped.
warden_json() {
  printf '%s' "$1" | tr -d '\\000-\\037' | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g'
}

warden_uuid() {
  cat /proc/sys/kernel/random/uuid 2>/dev/null || od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'
}

warden_repo() {
  r="$1"
  if [ -n "$WARDEN_REPO_ROOT" ]; then r="\${r#"$WARDEN_REPO_ROOT"}"; fi
  r="\${r#/}"; r="\${r%/}"; r="\${r%.git}"
  printf '%s' "$r"
}

# Who is acting: the hosting layer's user (GitLab, Gitolite, Gitea/Forgejo, HTTP auth) or the account.
warden_user() {
  printf '%s' "\${GL_USERNAME:-\${GL_USER:-\${GITEA_PUSHER_NAME:-\${REMOTE_USER:-\${WARDEN_GIT_USER:-$(id -un)}}}}}"
}

warden_remote_ip() {
  if [ -n "$SSH_CONNECTION" ]; then printf '%s' "\${SSH_CONNECTION%% *}"; else printf '%s' "\${REMOTE_ADDR:-}"; fi
}

warden_transport() {
  if [ -n "$SSH_CONNECTION" ]; then echo ssh; elif [ -n "$REMOTE_ADDR" ]; then echo http; else echo local; fi
}

# warden_event TYPE PHASE REPO REFS_JSON -> one NDJSON line
warden_event() {
  printf '{"source":"git-hook","source_event_id":"%s","type":"%s","phase":"%s","time":"%s","host":"%s","repo":"%s","user":"%s","ssh_key_id":"%s","ssh_key_fingerprint":"%s","remote_ip":"%s","transport":"%s","refs":[%s]}' \\
    "$WARDEN_EVENT_ID" "$1" "$2" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(warden_json "$(hostname)")" \\
    "$(warden_json "$3")" "$(warden_json "$(warden_user)")" "$(warden_json "\${WARDEN_SSH_KEY_ID:-}")" \\
    "$(warden_json "\${WARDEN_SSH_KEY_FINGERPRINT:-}")" "$(warden_json "$(warden_remote_ip)")" "$(warden_transport)" "$4"
}

# warden_send NDJSON -> 0 when Warden acknowledged it (durably stored)
warden_send() {
  if [ ! -r "$WARDEN_TOKEN_FILE" ]; then
    echo "warden: cannot read the ingest token file $WARDEN_TOKEN_FILE" >&2
    return 1
  fi
  hdr=$(mktemp) || return 1
  chmod 600 "$hdr"
  printf 'Authorization: Bearer %s\\n' "$(tr -d ' \\r\\n' < "$WARDEN_TOKEN_FILE")" > "$hdr"
  printf '%s\\n' "$1" | curl -fsS --max-time 10 --retry 3 --retry-delay 1 --retry-connrefused \\
    \${WARDEN_CA_FILE:+--cacert} \${WARDEN_CA_FILE:+"$WARDEN_CA_FILE"} \\
    -H @"$hdr" -H 'Content-Type: application/x-ndjson' --data-binary @- \\
    "$WARDEN_URL${INGEST_PATH}" > /dev/null
  rc=$?
  rm -f "$hdr"
  return $rc
}
`;
}

function receiveHook(phase: "attempt" | "complete", o: z.output<typeof gitHooksOptionsSchema>): string {
  const header =
    phase === "attempt"
      ? "# pre-receive: reports each push attempt; with WARDEN_REQUIRE_AUDIT=1 a push that cannot be\n# recorded is refused."
      : "# post-receive: reports each completed push.";
  return `#!/bin/sh
# Warden Git audit hook, generated by \`warden hooks git\`. Do not put the token in this file.
${header}
${prelude(o)}
refs=""
while read -r old new ref; do
  [ -n "$ref" ] || continue
  item=$(printf '{"ref":"%s","old":"%s","new":"%s"}' "$(warden_json "$ref")" "$(warden_json "$old")" "$(warden_json "$new")")
  refs="\${refs:+$refs,}$item"
done
WARDEN_EVENT_ID="\${WARDEN_EVENT_ID:-$(warden_uuid)}"
repo=$(warden_repo "$(cd "\${GIT_DIR:-.}" && pwd)")
if ! warden_send "$(warden_event git.push ${phase} "$repo" "$refs")"; then
  echo "warden: could not record this push in the audit log" >&2
  ${phase === "attempt" ? 'if [ "$WARDEN_REQUIRE_AUDIT" = 1 ]; then echo "warden: push refused (audit required)" >&2; exit 1; fi' : ":"}
fi
exit 0
`;
}

function wrapper(o: z.output<typeof gitHooksOptionsSchema>): string {
  return `#!/bin/sh
# Warden SSH forced command for Git, generated by \`warden hooks git\`. Allows only git clone/fetch/push,
# reports clone and fetch (pushes are reported by the receive hooks) and hands over to git-shell.
${prelude(o)}
cmd="$SSH_ORIGINAL_COMMAND"
case "$cmd" in
  "git-upload-pack "*|"git-upload-archive "*) op=fetch ;;
  "git-receive-pack "*) op=push ;;
  *) echo "warden: this account only serves git clone, fetch and push" >&2; exit 1 ;;
esac
path=\${cmd#* }
path=$(printf '%s' "$path" | sed -e "s/^'//" -e "s/'$//")

# The key or certificate that authenticated this session (sshd: ExposeAuthInfo yes).
if [ -z "$WARDEN_SSH_KEY_ID" ] && [ -n "$SSH_USER_AUTH" ] && [ -r "$SSH_USER_AUTH" ]; then
  key=$(sed -n 's/^publickey //p' "$SSH_USER_AUTH" | head -n 1)
  if [ -n "$key" ]; then
    tmp=$(mktemp)
    printf '%s\\n' "$key" > "$tmp"
    WARDEN_SSH_KEY_ID=$(ssh-keygen -L -f "$tmp" 2>/dev/null | sed -n 's/^[[:space:]]*Key ID: "\\(.*\\)"$/\\1/p')
    WARDEN_SSH_KEY_FINGERPRINT=$(ssh-keygen -l -f "$tmp" 2>/dev/null | cut -d' ' -f2)
    rm -f "$tmp"
  fi
fi
export WARDEN_SSH_KEY_ID WARDEN_SSH_KEY_FINGERPRINT

if [ "$op" = fetch ]; then
  WARDEN_EVENT_ID=$(warden_uuid)
  if ! warden_send "$(warden_event git.fetch complete "$(warden_repo "$path")" "")"; then
    echo "warden: could not record this fetch in the audit log" >&2
    if [ "$WARDEN_REQUIRE_AUDIT" = 1 ]; then echo "warden: fetch refused (audit required)" >&2; exit 1; fi
  fi
fi
exec git-shell -c "$cmd"
`;
}

export function renderGitHooks(input: GitHooksOptions): { instructions: string; files: GitHookFile[] } {
  const parsed = gitHooksOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError("validation_failed", `warden hooks git: ${z.prettifyError(parsed.error)}`);
  }
  const o = parsed.data;
  const files: GitHookFile[] = [
    { name: "pre-receive", mode: 0o755, content: receiveHook("attempt", o) },
    { name: "post-receive", mode: 0o755, content: receiveHook("complete", o) },
    { name: "warden-git-shell", mode: 0o755, content: wrapper(o) },
  ];
  const instructions = `Warden Git audit hooks

1. Create an ingest-scoped API token in Warden (scope: ingest) and store it for the git user only:
     install -d -m 700 -o git ${shQuote(o.tokenFile.replace(/\/[^/]*$/, "") || "/")}
     printf '%s' "$TOKEN" > ${shQuote(o.tokenFile)} && chown git ${shQuote(o.tokenFile)} && chmod 600 ${shQuote(o.tokenFile)}
2. Install the receive hooks in every repository (or once via core.hooksPath):
     install -m 755 pre-receive post-receive /srv/git/REPO.git/hooks/
     git config --system core.hooksPath /etc/warden/git-hooks   # alternative: one copy for all repos
3. Report clones and fetches over SSH with the forced-command wrapper:
     install -m 755 warden-git-shell /usr/local/bin/
   and in sshd_config for the git account:
     Match User git
         ForceCommand /usr/local/bin/warden-git-shell
         ExposeAuthInfo yes      # lets the wrapper read the certificate key id (it names the Warden grant)
   (or per key in authorized_keys: command="/usr/local/bin/warden-git-shell",restrict ssh-ed25519 AAAA...)
4. Check: push to a test repository and look for its git.push event in Warden's audit log.

Events go to ${o.wardenUrl}${INGEST_PATH} as NDJSON. Set WARDEN_REQUIRE_AUDIT=1 (now: ${o.requireAudit ? 1 : 0}) to refuse pushes
and fetches that cannot be recorded. Requires: sh, curl, sed, ssh-keygen (wrapper), git-shell.
`;
  return { instructions, files };
}

/** Registers `hooks git` on the given `hooks` command. Exit codes: 0 ok, 2 bad options, 1 write failure. */
export function registerHooksCommands(hooks: Command): void {
  hooks
    .command("git")
    .description("print install instructions and scripts for Git server hooks that report to Warden")
    .requiredOption(
      "--url <url>",
      "Warden's base URL as seen from the Git server, e.g. https://warden.example.com",
    )
    .option("--token-file <path>", "where the hooks read the ingest token", "/etc/warden/git-ingest.token")
    .option("--repo-root <dir>", "path prefix stripped from repository names", "")
    .option("--require-audit", "refuse pushes and fetches that cannot be recorded", false)
    .option("--ca-file <path>", "CA bundle for Warden's TLS certificate")
    .option("--out <dir>", "write the scripts into this directory instead of printing them")
    .action(
      (opts: {
        url: string;
        tokenFile: string;
        repoRoot: string;
        requireAudit: boolean;
        caFile?: string;
        out?: string;
      }) => {
        let rendered: ReturnType<typeof renderGitHooks>;
        try {
          rendered = renderGitHooks({
            wardenUrl: opts.url,
            tokenFile: opts.tokenFile,
            repoRoot: opts.repoRoot,
            requireAudit: opts.requireAudit,
            caFile: opts.caFile,
          });
        } catch (err) {
          process.stderr.write(
            `${(err as Error).message}\nRun \`warden hooks git --help\` for the options.\n`,
          );
          process.exitCode = 2;
          return;
        }
        if (opts.out) {
          try {
            mkdirSync(opts.out, { recursive: true });
            for (const f of rendered.files) {
              const p = join(opts.out, f.name);
              writeFileSync(p, f.content);
              chmodSync(p, f.mode);
            }
          } catch (err) {
            process.stderr.write(`could not write the hooks to ${opts.out}: ${(err as Error).message}\n`);
            process.exitCode = 1;
            return;
          }
          process.stdout.write(
            `${rendered.instructions}\nWrote ${rendered.files.map((f) => f.name).join(", ")} to ${opts.out}\n`,
          );
          return;
        }
        process.stdout.write(rendered.instructions);
        for (const f of rendered.files) process.stdout.write(`\n# ----- ${f.name} -----\n${f.content}`);
      },
    );
}

// ------------------------------------------------------------------------------------ records → OCSF

export const gitHookRecordSchema = z.object({
  source: z.literal("git-hook"),
  source_event_id: z.string().min(1).max(128),
  type: z.enum(["git.push", "git.fetch"]),
  phase: z.enum(["attempt", "complete"]),
  time: z.string().datetime({ offset: true }),
  host: z.string().max(255).optional(),
  repo: z.string().min(1).max(1024),
  user: z.string().max(256).optional(),
  ssh_key_id: z.string().max(1024).optional(),
  ssh_key_fingerprint: z.string().max(256).optional(),
  remote_ip: z.string().max(64).optional(),
  transport: z.enum(["ssh", "http", "local"]).optional(),
  refs: z
    .array(z.object({ ref: z.string().max(1024), old: z.string().max(64), new: z.string().max(64) }))
    .max(10_000),
});
export type GitHookRecord = z.infer<typeof gitHookRecordSchema>;

/** A record sent by the hook scripts → OCSF File Hosting Activity (push = Upload, fetch = Download). */
export function normaliseGitHookRecord(input: unknown, raw?: string): OcsfEvent {
  const parsed = gitHookRecordSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError(
      "validation_failed",
      `git hook record is not valid: ${z.prettifyError(parsed.error)}`,
      {
        fields: parsed.error.issues.map((i) => ({ field: i.path.join("/"), message: i.message })),
      },
    );
  }
  const r = parsed.data;
  const push = r.type === "git.push";
  const attempt = r.phase === "attempt";
  const nz = (s: string | undefined) => (s ? s : undefined);
  const credential = Object.fromEntries(
    Object.entries({
      gitUsername: nz(r.user),
      sshKeyId: nz(r.ssh_key_id),
      sshKeyFingerprint: nz(r.ssh_key_fingerprint),
    }).filter(([, v]) => v !== undefined),
  );
  const event = ocsfEvent("fileHostingActivity", {
    activity_id: push ? FileHostingActivityId.upload : FileHostingActivityId.download,
    activity_name: push ? "Upload" : "Download",
    time: Date.parse(r.time),
    severity_id: Severity.informational,
    status_id: attempt ? Status.unknown : Status.success,
    status: attempt ? "Unknown" : "Success",
    status_detail: attempt ? "push attempt (pre-receive)" : undefined,
    message: `${r.type} ${r.repo}${r.user ? ` by ${r.user}` : ""}`,
    actor: nz(r.user) ? { user: { name: r.user! } } : undefined,
    src_endpoint: nz(r.remote_ip) ? { ip: r.remote_ip! } : undefined,
    dst_endpoint: nz(r.host) ? { hostname: r.host! } : undefined,
    file: { name: r.repo, type: "Git repository" },
    metadata: {
      version: OCSF_VERSION,
      product: { name: "Warden Git hooks", vendor_name: "Warden" },
      uid: r.source_event_id,
      log_name: "git",
    },
    unmapped: { git: { type: r.type, phase: r.phase, transport: r.transport, refs: r.refs } },
    raw_data: raw ?? JSON.stringify(input),
    warden: { source: "git-hook", credential, resource: { kind: "git_repository", name: r.repo } },
  });
  for (const k of ["actor", "src_endpoint", "dst_endpoint", "status_detail"] as const) {
    if (event[k] === undefined) delete event[k];
  }
  return event;
}
