import { createReadStream, existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import type http from "node:http";
import os from "node:os";
import path from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { isAppError } from "../core/errors.ts";
import { isUuid } from "../core/schemas.ts";
import {
  type AgeIdentity,
  ageFailureOf,
  decrypt,
  decryptBuffer,
  decryptToFile,
  encrypt,
  parseIdentities,
} from "../crypto/age/index.ts";
import type { InboxShare, ShareDetail } from "../shares/index.ts";
import { type ApiClient, type ApiResponse, api, failOnProblem, readResponse } from "./client.ts";
import { CliError, EXIT, printJson, printTable } from "./output.ts";
import { ask, readStdin } from "./prompt.ts";

/**
 * `warden share …`: end-to-end encrypted shares from the terminal. Encryption and decryption happen
 * here, streaming (constant memory for files of any size); the server only sees ciphertext.
 */

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** "7d", "12h", "30m", "2w", or an ISO date-time → the instant it names. */
export function parseExpiry(value: string, now = new Date()): string {
  const m = /^(\d{1,4})([mhdw])$/.exec(value.trim());
  if (m) return new Date(now.getTime() + Number(m[1]) * UNITS[m[2]!]!).toISOString();
  const at = new Date(value);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new CliError(
      `--expires ${value}: expected a duration such as 7d, 12h, 30m, 2w, or a date-time`,
      EXIT.usage,
    );
  return at.toISOString();
}

const mib = (n: number) => (n / 1048576).toFixed(1);
export const humanBytes = (n: number) =>
  n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : n < 1024 ** 3
        ? `${mib(n)} MiB`
        : `${(n / 1024 ** 3).toFixed(2)} GiB`;

/** A progress bar on stderr when it is a terminal (scripts and pipes get none). */
async function progressBar(label: string, total: number, enabled: boolean) {
  if (!enabled || !process.stderr.isTTY || total < 1024 * 1024) return { update(_n: number) {}, stop() {} };
  const { default: cliProgress } = await import("cli-progress");
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} {bar} {percentage}% | {done}/{all} MiB | {rate} MiB/s | {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { done: "0.0", all: mib(total), rate: "0.0" });
  return {
    update(n: number) {
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      bar.update(n, { done: mib(n), rate: mib(n / secs) });
    },
    stop: () => bar.stop(),
  };
}

/** A pass-through that reports the bytes seen so far. */
function counter(onBytes: (n: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onBytes(n);
      cb(null, chunk);
    },
  });
}

/** Turns an age failure into a message and exit code a person can act on. */
function ageCliError(e: unknown, what: string, streamed = false): CliError {
  const reason = ageFailureOf(e);
  // Streamed to standard output, the authenticated part before the failure is already out.
  const written = streamed
    ? "What was written to standard output is incomplete: discard it."
    : "Nothing was written.";
  if (reason === "truncated" || reason === "tampered" || reason === "trailing_data")
    return new CliError(
      `${what} failed: ${(e as Error).message}. ${written}`,
      EXIT.failure,
      "The download was cut short or the ciphertext was altered; try `warden share get` again if downloads are left",
    );
  if (reason === "no_identity")
    return new CliError(
      `${what} failed: none of your identities opens this share. ${written}`,
      EXIT.failure,
      "Pass the identity file of a key the share was sent to with --identity",
    );
  if (isAppError(e)) return new CliError(`${what} failed: ${e.message}`, EXIT.failure);
  return new CliError(`${what} failed: ${(e as Error).message ?? String(e)}`, EXIT.failure);
}

/** Share fields whose `warden share send` option has another name. */
const SEND_OPTIONS: Record<string, string> = {
  expiresAt: "--expires",
  dataCategories: "--category",
  filename: "FILE (its name)",
  size: "FILE (its size)",
};

async function call<T>(client: ApiClient, method: string, url: string, body?: unknown): Promise<T> {
  const res = await client.request<T>(method, url, body);
  failOnProblem(res, SEND_OPTIONS);
  return res.body;
}

/**
 * Streams `body` as the request body and waits for the answer. A server that refuses early (a bad
 * header, a size mismatch) may close the connection while we still write: its answer, when it
 * arrived, wins over the write error.
 */
async function streamUpload(
  client: ApiClient,
  urlPath: string,
  body: NodeJS.ReadableStream,
): Promise<ApiResponse> {
  let answered: ((r: ApiResponse) => void) | undefined;
  const response = new Promise<ApiResponse>((resolve) => {
    answered = resolve;
  });
  const req = await client.open(
    "PUT",
    urlPath,
    { "content-type": "application/age", "transfer-encoding": "chunked" },
    (res: http.IncomingMessage) => {
      readResponse(res).then(answered!, () => answered!({ status: 0, body: undefined, headers: {} }));
    },
    10 * 60_000,
  );
  const sent = pipeline(body, req).then(
    () => undefined,
    (e: Error) => e,
  );
  const first = await Promise.race([response, sent.then((e) => ({ error: e }))]);
  if ("status" in first) return first;
  if (first.error) {
    // Give an early answer a moment to arrive before reporting the broken connection.
    const late = await Promise.race([response, new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
    if (late) return late;
    if (isAppError(first.error) || ageFailureOf(first.error)) throw ageCliError(first.error, "Encryption");
    throw new CliError(`The upload broke off: ${first.error.message}`, EXIT.unavailable);
  }
  return response;
}

async function readIdentities(
  files: string[] | undefined,
): Promise<{ identities: AgeIdentity[]; from: string[] }> {
  const candidates = files?.length
    ? files
    : process.env.WARDEN_AGE_IDENTITY
      ? [process.env.WARDEN_AGE_IDENTITY]
      : [path.join(os.homedir(), ".ssh", "id_ed25519")].filter((f) => existsSync(f));
  if (candidates.length === 0)
    throw new CliError(
      "No identity to decrypt with",
      EXIT.usage,
      "Pass your age identity file (or OpenSSH Ed25519 key) with --identity FILE, or set WARDEN_AGE_IDENTITY",
    );
  const identities: AgeIdentity[] = [];
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      throw new CliError(`Cannot read the identity file ${file}: ${(e as Error).message}`, EXIT.usage);
    }
    try {
      identities.push(...parseIdentities(text));
    } catch (e) {
      throw new CliError(`${file}: ${(e as Error).message}`, EXIT.usage);
    }
  }
  return { identities, from: candidates };
}

const needShareId = (id: string) => {
  if (!isUuid(id))
    throw new CliError(`"${id}" is not a share id`, EXIT.usage, "Find ids with `warden share list`");
};

async function whoami(client: ApiClient) {
  return (await call<{ user: { role: string } }>(client, "GET", "/api/v1/auth/session")).user;
}

interface SendOptions {
  to: string[];
  text?: boolean;
  category: string[];
  expires?: string;
  maxDownloads?: string;
  oneTime?: boolean;
  note?: string;
  progress: boolean;
  json?: boolean;
}

async function send(file: string | undefined, o: SendOptions) {
  if (o.text && file)
    throw new CliError(
      "Give a FILE or --text, not both",
      EXIT.usage,
      "A text secret is read from standard input",
    );
  if (!o.text && !file) throw new CliError("Give the FILE to send, or --text for a secret", EXIT.usage);
  let secret: Buffer | undefined;
  let size: number;
  if (o.text) {
    const text = process.stdin.isTTY
      ? await ask("Secret (input hidden): ", { secret: true })
      : await readStdin();
    if (!text) throw new CliError("The secret is empty", EXIT.usage);
    secret = Buffer.from(text, "utf8");
    size = secret.length;
  } else {
    const s = await stat(file!).catch((e: NodeJS.ErrnoException) => {
      throw new CliError(
        `Cannot read ${file}: ${e.code === "ENOENT" ? "no such file" : e.message}`,
        EXIT.usage,
      );
    });
    if (!s.isFile()) throw new CliError(`${file} is not a regular file`, EXIT.usage);
    size = s.size;
  }
  const maxDownloads = o.maxDownloads === undefined ? null : Number(o.maxDownloads);
  if (maxDownloads !== null && (!Number.isInteger(maxDownloads) || maxDownloads < 1))
    throw new CliError("--max-downloads: a whole number, 1 or more", EXIT.usage);
  const client = await api();
  const created = await call<ShareDetail>(client, "POST", "/api/v1/shares", {
    kind: o.text ? "text" : "file",
    ...(o.text ? {} : { filename: path.basename(file!) }),
    to: o.to,
    dataCategories: o.category,
    size,
    ...(o.expires ? { expiresAt: parseExpiry(o.expires) } : {}),
    maxDownloads,
    oneTime: o.oneTime ?? false,
    ...(o.note ? { note: o.note } : {}),
  });
  const keys = created.recipients.flatMap((r) => r.keys.map((k) => k.recipient));
  const bar = await progressBar("encrypting + uploading", size, o.progress);
  let res: ApiResponse;
  try {
    const plaintext = secret
      ? [secret]
      : createReadStream(file!, { highWaterMark: 1024 * 1024 }).pipe(counter((n) => bar.update(n)));
    res = await streamUpload(client, created.uploadUrl!, encrypt(plaintext, keys));
  } catch (e) {
    bar.stop();
    await client.request("POST", `/api/v1/shares/${created.id}/revoke`, {}).catch(() => {});
    throw e;
  }
  bar.stop();
  if (res.status !== 200) {
    // Nothing stays on the server: the pending share is withdrawn too.
    await client.request("POST", `/api/v1/shares/${created.id}/revoke`, {}).catch(() => {});
    failOnProblem(res);
  }
  const share = res.body as ShareDetail;
  if (o.json) {
    printJson(share);
    return;
  }
  const who = share.recipients.map((r) => `${r.name} <${r.email}>`).join(", ");
  const limit = share.oneTime
    ? "once"
    : share.maxDownloads
      ? `${share.maxDownloads} times`
      : "any number of times";
  process.stdout.write(
    `Sent share ${share.id} (${o.text ? "text secret" : `${share.filename}, ${humanBytes(share.size)}`}) to ${who}.\n` +
      `  Encrypted to ${keys.length} key${keys.length === 1 ? "" : "s"}; each recipient may download it ${limit} until ${share.expiresAt}.\n` +
      `  They get it with: warden share get ${share.id}\n`,
  );
}

interface GetOptions {
  output?: string;
  identity?: string[];
  force?: boolean;
  progress: boolean;
}

/** Opens a download (POST, one use) and returns the response stream once it answered 200. */
async function openDownload(client: ApiClient, id: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    client
      .open(
        "POST",
        `/api/v1/me/shares/${id}/download`,
        { "content-type": "application/json", "content-length": "2" },
        (res) => {
          if (res.statusCode === 200) resolve(res);
          else readResponse(res).then((r) => reject(safeProblem(r)), reject);
        },
        10 * 60_000,
      )
      .then((req) => {
        req.on("error", (e) =>
          reject(new CliError(`The download broke off: ${e.message}`, EXIT.unavailable)),
        );
        req.end("{}");
      }, reject);
  });
}

function safeProblem(r: ApiResponse): unknown {
  try {
    failOnProblem(r);
  } catch (e) {
    return e;
  }
  return new CliError(`Unexpected answer ${r.status}`, EXIT.failure);
}

async function get(id: string, o: GetOptions) {
  needShareId(id);
  const client = await api();
  const meta = await call<InboxShare>(client, "GET", `/api/v1/me/shares/${id}`);
  if (meta.state !== "available")
    throw new CliError(
      `Share ${id} cannot be downloaded: it is ${meta.state.replace("_", " ")}`,
      EXIT.failure,
      meta.state === "used_up" ? "Ask the sender to send it again" : undefined,
    );
  // Check the identity before using a download: a one-time share must not be spent on the wrong key.
  const { identities, from } = await readIdentities(o.identity);
  const shareKeys = new Set(meta.keys.map((k) => k.recipient));
  if (!identities.some((i) => shareKeys.has(i.recipient)))
    throw new CliError(
      `None of the identities in ${from.join(", ")} opens this share. It was encrypted to: ${meta.keys
        .map((k) => k.fingerprint)
        .join(", ")}`,
      EXIT.usage,
      "Pass the matching identity file with --identity (no download was used)",
    );
  const toStdout = o.output === "-" || (o.output === undefined && meta.kind === "text");
  const out = toStdout
    ? undefined
    : path.resolve(o.output ?? path.basename(meta.filename ?? `share-${id}.txt`));
  if (out && existsSync(out) && !o.force)
    throw new CliError(
      `${out} already exists`,
      EXIT.conflict,
      "Choose another name with -o FILE, or pass --force",
    );
  const res = await openDownload(client, id);
  const total = Number(res.headers["content-length"] ?? meta.ciphertextBytes ?? 0);
  if (toStdout && meta.kind === "file") {
    // A file may be gigabytes: streamed like `age -d`, each 64 KiB chunk released only once it
    // authenticated. A ciphertext that breaks off or was altered stops it with an error and exit 1.
    try {
      await pipeline(decrypt(res, identities), process.stdout);
    } catch (e) {
      throw ageCliError(e, "Decryption", true);
    }
    return;
  }
  if (toStdout) {
    // Text secrets are small (64 KiB at most): decrypted whole, printed only if complete.
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const plain = await decryptBuffer(Buffer.concat(chunks), identities).catch((e) => {
      throw ageCliError(e, "Decryption");
    });
    process.stdout.write(plain);
    if (meta.kind === "text" && process.stdout.isTTY) process.stdout.write("\n");
    return;
  }
  const bar = await progressBar("downloading + decrypting", total, o.progress);
  try {
    const { bytesWritten } = await decryptToFile(res, out!, identities, {
      overwrite: o.force ?? false,
      onProgress: (n) => bar.update(n),
    });
    bar.stop();
    process.stderr.write(`Decrypted ${humanBytes(bytesWritten)} to ${out}\n`);
  } catch (e) {
    bar.stop();
    throw ageCliError(e, "Decryption");
  }
}

function rowOfSent(s: ShareDetail) {
  return {
    id: s.id,
    kind: s.kind,
    name: s.filename ?? "(text)",
    size: humanBytes(s.size),
    status: s.status,
    to: s.recipients.map((r) => r.name).join(", "),
    downloads: s.recipients.map((r) => r.downloads).reduce((a, b) => a + b, 0),
    expiresAt: s.expiresAt.slice(0, 16).replace("T", " "),
  };
}

export function registerShareCommands(program: Command): void {
  const share = program
    .command("share")
    .description("End-to-end encrypted shares (age): send files and secrets to developers, get them")
    .addHelpText(
      "after",
      `
Examples:
  warden share send dump.sql.gz --to ana@acme.example --category "personal data" --expires 3d --one-time
  echo -n 's3cr3t' | warden share send --text --to ana@acme.example --category credentials --note "staging DB"
  warden share list
  warden share get <id> --identity ~/.config/age/keys.txt -o dump.sql.gz
  warden share revoke <id>`,
    );
  share
    .command("send [file]")
    .description("Encrypt a file (or --text from standard input) to developers' keys, here, and upload it")
    .requiredOption("--to <developer...>", "recipients: developer ids or emails")
    .requiredOption(
      "--category <name...>",
      "data categories of the content; each recipient's agreements must permit them",
    )
    .option("--text", "send a text secret read from standard input (or asked for)")
    .option("--expires <when>", "7d, 12h, 30m, 2w or a date-time (default 7d)")
    .option("--max-downloads <n>", "downloads each recipient may make (default: any until expiry)")
    .option("--one-time", "one download per recipient; the ciphertext is deleted once all have it")
    .option("--note <text>", "a note for the recipients (not end-to-end encrypted: no secrets here)")
    .option("--no-progress", "no progress bar")
    .option("--json", "print the share as JSON")
    .action(async (file: string | undefined, o: SendOptions) => send(file, o));
  share
    .command("get <id>")
    .description("Download a share sent to you and decrypt it here (written only if complete and authentic)")
    .option(
      "-o, --output <file>",
      "where to write the plaintext (default: the share's file name; - for stdout)",
    )
    .option(
      "-i, --identity <file...>",
      "age identity file or OpenSSH Ed25519 private key (default: $WARDEN_AGE_IDENTITY, ~/.ssh/id_ed25519)",
    )
    .option("--force", "overwrite the output file")
    .option("--no-progress", "no progress bar")
    .action(async (id: string, o: GetOptions) => get(id, o));
  share
    .command("list")
    .description("Shares sent to you (developers), or the shares you sent (staff)")
    .option("--json", "machine-readable output")
    .action(async (o: { json?: boolean }) => {
      const client = await api();
      const me = await whoami(client);
      if (me.role === "developer") {
        const inbox = await call<{ items: InboxShare[] }>(client, "GET", "/api/v1/me/shares?limit=200");
        if (o.json) return printJson(inbox);
        printTable(
          inbox.items.map((s) => ({
            id: s.id,
            from: s.sender.name,
            name: s.filename ?? "(text)",
            size: humanBytes(s.size),
            state: s.state,
            left: s.downloadsLeft ?? "any",
            expiresAt: s.expiresAt.slice(0, 16).replace("T", " "),
          })),
          ["id", "from", "name", "size", "state", "left", "expiresAt"],
        );
        return;
      }
      const sent = await call<{ items: ShareDetail[] }>(client, "GET", "/api/v1/shares?limit=200");
      if (o.json) return printJson(sent);
      printTable(sent.items.map(rowOfSent), [
        "id",
        "kind",
        "name",
        "size",
        "status",
        "to",
        "downloads",
        "expiresAt",
      ]);
    });
  share
    .command("show <id>")
    .description("A share you sent: recipients, keys and the download log")
    .option("--json", "machine-readable output")
    .action(async (id: string, o: { json?: boolean }) => {
      needShareId(id);
      const s = await call<ShareDetail>(await api(), "GET", `/api/v1/shares/${id}`);
      if (o.json) return printJson(s);
      const r = rowOfSent(s);
      process.stdout.write(
        `${r.id}  ${r.name}  ${r.size}  ${s.status}${s.contentDeleted ? " (ciphertext deleted)" : ""}\n` +
          `  expires ${s.expiresAt}  ${s.oneTime ? "one-time" : s.maxDownloads ? `max ${s.maxDownloads} per recipient` : "no download limit"}\n` +
          `  categories: ${s.dataCategories.join(", ")}\n` +
          s.recipients
            .map(
              (x) =>
                `  to ${x.name} <${x.email}>: ${x.downloads} download(s), keys ${x.keys.map((k) => k.fingerprint).join(", ")}\n`,
            )
            .join("") +
          (s.downloads.length ? "Download log:\n" : "No downloads yet.\n"),
      );
      if (s.downloads.length)
        printTable(
          s.downloads.map((d) => ({
            at: d.startedAt.slice(0, 19).replace("T", " "),
            who: d.developerName,
            outcome: d.outcome,
            reason: d.reason,
            bytes: d.bytesSent,
            ip: d.ip,
          })),
          ["at", "who", "outcome", "reason", "bytes", "ip"],
        );
    });
  share
    .command("revoke <id>")
    .description("Revoke a share you sent: it ends now and its ciphertext is deleted")
    .action(async (id: string) => {
      needShareId(id);
      const s = await call<ShareDetail>(await api(), "POST", `/api/v1/shares/${id}/revoke`, {});
      process.stdout.write(`Revoked share ${s.id}; its ciphertext is deleted.\n`);
    });
}
