/**
 * Streaming age v1 encryption and decryption for Node: typage (age-encryption) builds and opens the
 * header (file key, X25519 stanzas, header MAC), our ssh-ed25519 stanza and strict header parser fill
 * its gaps, and the payload runs on node:crypto (age.stream.ts).
 */
import { randomUUID } from "node:crypto";
import { access, type FileHandle, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import type { Recipient } from "age-encryption";
import { Decrypter, Encrypter } from "age-encryption";
import { AppError } from "../../core/errors.ts";
import { ageError, fromTypageHeaderError } from "./age.errors.ts";
import { type AgeHeader, tryParseHeader } from "./age.header.ts";
import { type AgeIdentity, type AgeRecipient, parseIdentities, parseRecipient } from "./age.keys.ts";
import {
  decryptPayload,
  derivePayloadKey,
  encryptPayload,
  PAYLOAD_NONCE_SIZE,
  readFileChunks,
} from "./age.stream.ts";

/** Bytes to encrypt or decrypt: a Node stream, any (async) iterable of byte chunks, or one buffer. */
export type AgeInput = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array;

/** Recipients as strings (`age1…`, `ssh-ed25519 AAAA…`) or as parsed by parseRecipient. */
export type RecipientInput = string | AgeRecipient;
/** Identities as the text of an identity file / OpenSSH key, or as parsed by parseIdentities. */
export type IdentityInput = string | AgeIdentity;

export const DEFAULT_MAX_HEADER_BYTES = 1024 * 1024;
const WRITE_BATCH = 1024 * 1024;

function toAsyncIterable(input: AgeInput): AsyncIterable<Uint8Array> {
  if (input instanceof Uint8Array) {
    return (async function* () {
      yield input;
    })();
  }
  if (Symbol.asyncIterator in input) return input;
  return (async function* () {
    yield* input;
  })();
}

function resolveRecipients(recipients: readonly RecipientInput[]): AgeRecipient[] {
  if (recipients.length === 0) throw ageError("invalid_recipient", "At least one recipient is required");
  return recipients.map((r) => (typeof r === "string" ? parseRecipient(r) : r));
}

function resolveIdentities(identities: readonly IdentityInput[]): AgeIdentity[] {
  const all = identities.flatMap((i) => (typeof i === "string" ? parseIdentities(i) : [i]));
  if (all.length === 0) throw ageError("invalid_identity", "At least one identity is required to decrypt");
  return all;
}

/**
 * Builds the header and payload nonce for a new file and returns them with the payload key.
 * typage hands the file key only to Recipient objects (its documented extension point), so a
 * recipient that wraps nothing captures it; typage then encrypts an empty payload, whose single
 * 16-byte final chunk we drop, keeping its header (stanzas + MAC) and fresh 16-byte nonce.
 */
async function startFile(recipients: readonly AgeRecipient[]): Promise<{ prefix: Uint8Array; key: Buffer }> {
  let fileKey: Uint8Array | undefined;
  const capture: Recipient = {
    wrapFileKey(key) {
      fileKey = key.slice();
      return [];
    },
  };
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(r.wrapper);
  encrypter.addRecipient(capture);
  const empty = await encrypter.encrypt(new Uint8Array(0));
  if (!fileKey) throw new AppError("internal", "age: the file key was not captured");
  const prefix = empty.subarray(0, empty.length - 16);
  const nonce = prefix.subarray(prefix.length - PAYLOAD_NONCE_SIZE);
  const key = derivePayloadKey(fileKey, nonce);
  fileKey.fill(0);
  return { prefix, key };
}

async function* encryptIterable(
  source: AsyncIterable<Uint8Array>,
  recipients: readonly AgeRecipient[],
  borrowed: boolean,
): AsyncGenerator<Uint8Array[]> {
  const { prefix, key } = await startFile(recipients);
  yield [prefix];
  yield* encryptPayload(source, key, { borrowed });
}

/**
 * A Readable over batches of buffers: pushes a whole batch per pull (push is synchronous and cheap,
 * unlike a generator step per buffer). Destroying the stream stops the generator, closing its input.
 */
function batchesToReadable(batches: AsyncGenerator<Uint8Array[]>): Readable {
  let pulling = false;
  return new Readable({
    async read() {
      if (pulling) return;
      pulling = true;
      try {
        for (;;) {
          const next = await batches.next();
          if (next.done) {
            this.push(null);
            return;
          }
          let more = true;
          for (const b of next.value) more = this.push(b);
          if (!more) return;
        }
      } catch (e) {
        this.destroy(e as Error);
      } finally {
        pulling = false;
      }
    },
    destroy(error, callback) {
      batches.return(undefined).then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
}

/**
 * Encrypts `input` to the recipients, as a stream of age v1 binary ciphertext. Recipients are
 * validated at once (throws AppError `validation_failed`); read errors surface on the stream.
 */
export function encrypt(input: AgeInput, recipients: readonly RecipientInput[]): Readable {
  const parsed = resolveRecipients(recipients);
  return batchesToReadable(encryptIterable(toAsyncIterable(input), parsed, false));
}

export interface ReadHeaderOptions {
  /** Refuse headers larger than this (default 1 MiB). */
  maxHeaderBytes?: number;
}

/**
 * Reads and strictly checks the age header at the start of a stream, without any identity: version
 * line, stanza syntax, canonical base64, native stanza shapes, MAC line. Returns the header and the
 * rest of the stream (payload nonce and chunks), so a server can validate an upload and keep
 * streaming it to storage. Throws an AppError (`unprocessable`) whose message says what is wrong.
 */
export async function readHeader(
  input: AgeInput,
  options: ReadHeaderOptions = {},
): Promise<{ header: AgeHeader; rest: AsyncIterable<Uint8Array> }> {
  const max = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const iterator = toAsyncIterable(input)[Symbol.asyncIterator]();
  let buffered: Buffer = Buffer.alloc(0);
  for (;;) {
    const next = await iterator.next();
    if (!next.done) buffered = Buffer.concat([buffered, next.value]);
    const parsed = tryParseHeader(
      buffered.subarray(0, max + 1),
      next.done === true && buffered.length <= max,
    );
    if (parsed) {
      const leftover = buffered.subarray(parsed.length);
      const rest = (async function* () {
        if (leftover.length > 0) yield leftover;
        if (next.done) return;
        for (;;) {
          const n = await iterator.next();
          if (n.done) return;
          yield n.value;
        }
      })();
      return { header: parsed.header, rest };
    }
    if (buffered.length > max) {
      await iterator.return?.();
      throw ageError("header_too_large", `The age header is larger than the ${max}-byte limit`);
    }
  }
}

export interface ShareHeaderPolicy {
  /** Stanza types a share may carry; default X25519 and ssh-ed25519 (no passphrase, no plugins). */
  allowedTypes?: readonly string[];
  /** Most stanzas (recipients) accepted; default 100. */
  maxStanzas?: number;
}

/**
 * Checks a parsed header against what a Warden share may contain. The server calls it on uploads:
 * it needs no identity and never sees the file key.
 */
export function checkShareHeader(header: AgeHeader, policy: ShareHeaderPolicy = {}): void {
  const allowed = policy.allowedTypes ?? ["X25519", "ssh-ed25519"];
  const max = policy.maxStanzas ?? 100;
  if (header.stanzas.length > max) {
    throw ageError(
      "unsupported_stanza",
      `The age header has ${header.stanzas.length} recipients; at most ${max}`,
    );
  }
  for (const s of header.stanzas) {
    if (!allowed.includes(s.type)) {
      throw ageError(
        "unsupported_stanza",
        `The age header has a "${s.type.slice(0, 40)}" recipient; shares accept only ${allowed.join(", ")}`,
      );
    }
  }
}

async function unwrapFileKey(header: AgeHeader, identities: readonly AgeIdentity[]): Promise<Uint8Array> {
  const decrypter = new Decrypter();
  for (const id of identities) decrypter.addIdentity(id.unwrapper);
  try {
    return await decrypter.decryptHeader(header.bytes);
  } catch (e) {
    throw fromTypageHeaderError(e);
  }
}

async function readExactly(
  source: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ data: Buffer; rest: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  let data = Buffer.alloc(0);
  while (data.length < n) {
    const next = await iterator.next();
    if (next.done) throw ageError("truncated", "The age file is truncated: the payload nonce is missing");
    data = Buffer.concat([data, next.value]);
  }
  const leftover = data.subarray(n);
  const rest = (async function* () {
    if (leftover.length > 0) yield leftover;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  return { data: data.subarray(0, n), rest };
}

export interface DecryptOptions extends ReadHeaderOptions {
  /** Called once the header authenticated, before any plaintext, with the header that was opened. */
  onHeader?: (header: AgeHeader) => void;
}

/**
 * Decrypts an age v1 binary file, as a plaintext stream. Identities are validated at once; header
 * and payload failures surface as stream errors (AppError `unprocessable` with `details.reason`).
 * Plaintext is released chunk by chunk after each chunk authenticates, so the output is complete
 * only when the stream ends without error: use decryptToFile to never keep a partial result.
 */
export function decrypt(
  input: AgeInput,
  identities: readonly IdentityInput[],
  options: DecryptOptions = {},
): Readable {
  const parsed = resolveIdentities(identities);
  return batchesToReadable(decryptIterable(toAsyncIterable(input), parsed, options, false));
}

async function* decryptIterable(
  source: AsyncIterable<Uint8Array>,
  identities: readonly AgeIdentity[],
  options: DecryptOptions,
  borrowed: boolean,
): AsyncGenerator<Uint8Array[]> {
  // readHeader and readExactly copy what they keep, so borrowed pieces stay safe across them.
  const { header, rest } = await readHeader(source, options);
  const fileKey = await unwrapFileKey(header, identities);
  options.onHeader?.(header);
  const { data: nonce, rest: payload } = await readExactly(rest, PAYLOAD_NONCE_SIZE);
  const key = derivePayloadKey(fileKey, nonce);
  fileKey.fill(0);
  yield* decryptPayload(payload, key, { borrowed });
}

export interface FileOutputOptions {
  /** Replace an existing output file (default false: refuse with `conflict`). */
  overwrite?: boolean;
  /** Called with the number of input bytes read so far (for a progress bar). */
  onProgress?: (bytesRead: number) => void;
  /** Mode of the created file; default 0o600 (the output may be a secret). */
  mode?: number;
}

/** A path is read with reused buffers (borrowed pieces); other inputs are taken as they come. */
function sourceOf(
  input: string | AgeInput,
  onProgress?: (n: number) => void,
): { source: AsyncIterable<Uint8Array>; borrowed: boolean } {
  if (typeof input === "string") return { source: readFileChunks(input, onProgress), borrowed: true };
  const source = toAsyncIterable(input);
  if (!onProgress) return { source, borrowed: false };
  const counted = (async function* () {
    let n = 0;
    for await (const chunk of source) {
      n += chunk.length;
      onProgress(n);
      yield chunk;
    }
  })();
  return { source: counted, borrowed: false };
}

/**
 * Writes a stream to a file in batches of about 1 MiB, overlapping each write with producing the
 * next batch (one write in flight at a time keeps memory bounded and the data in order).
 */
async function writeAll(handle: FileHandle, output: AsyncIterable<Uint8Array[]>): Promise<number> {
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let written = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  for await (const buffers of output) {
    for (const b of buffers) {
      batch.push(b);
      batchBytes += b.length;
    }
    if (batchBytes >= WRITE_BATCH) {
      await inFlight;
      inFlight = writeFully(handle, batch);
      written += batchBytes;
      batch = [];
      batchBytes = 0;
    }
  }
  await inFlight;
  if (batchBytes > 0) await writeFully(handle, batch);
  return written + batchBytes;
}

/** writev, continuing after a short write (rare on files, possible on full disks or odd filesystems). */
async function writeFully(handle: FileHandle, buffers: Uint8Array[]): Promise<void> {
  let pending = buffers;
  for (;;) {
    const total = pending.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await handle.writev(pending);
    if (bytesWritten >= total) return;
    if (bytesWritten === 0) throw new AppError("internal", "Could not write the output file (no progress)");
    let skip = bytesWritten;
    const rest: Uint8Array[] = [];
    for (const b of pending) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    pending = rest;
  }
}

/**
 * Streams `output` into a temporary file beside `path`, fsyncs it and renames it into place only when
 * the stream ended without error; on any error the temporary file is removed, so a truncated or
 * tampered ciphertext never leaves a plausible-looking partial file.
 */
async function writeAtomically(
  path: string,
  output: AsyncIterable<Uint8Array[]>,
  options: FileOutputOptions,
): Promise<number> {
  if (!options.overwrite) {
    const exists = await access(path).then(
      () => true,
      () => false,
    );
    if (exists)
      throw new AppError("conflict", `${path} already exists; choose another name or allow overwriting`);
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomUUID().slice(0, 8)}.partial`);
  const handle = await open(temp, "wx", options.mode ?? 0o600);
  try {
    const written = await writeAll(handle, output);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
    return written;
  } catch (e) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw e;
  }
}

/** Encrypts a file (path) or stream to `outputPath`, atomically. Returns the ciphertext size. */
export async function encryptToFile(
  input: string | AgeInput,
  outputPath: string,
  recipients: readonly RecipientInput[],
  options: FileOutputOptions = {},
): Promise<{ bytesWritten: number }> {
  const parsed = resolveRecipients(recipients);
  const { source, borrowed } = sourceOf(input, options.onProgress);
  return {
    bytesWritten: await writeAtomically(outputPath, encryptIterable(source, parsed, borrowed), options),
  };
}

/**
 * Decrypts a file (path) or stream (e.g. an HTTP download) to `outputPath`. The plaintext appears at
 * `outputPath` only after the final chunk authenticated; on any failure nothing is left behind and
 * the AppError says why (`details.reason`: truncated, tampered, no_identity, malformed_header, …).
 */
export async function decryptToFile(
  input: string | AgeInput,
  outputPath: string,
  identities: readonly IdentityInput[],
  options: FileOutputOptions & DecryptOptions = {},
): Promise<{ bytesWritten: number }> {
  const parsed = resolveIdentities(identities);
  const { source, borrowed } = sourceOf(input, options.onProgress);
  const plaintext = decryptIterable(source, parsed, options, borrowed);
  return { bytesWritten: await writeAtomically(outputPath, plaintext, options) };
}

/** Encrypts a small buffer in memory (text secrets, tests). */
export async function encryptBuffer(
  data: Uint8Array | string,
  recipients: readonly RecipientInput[],
): Promise<Buffer> {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return Buffer.concat(await encrypt(bytes, recipients).toArray());
}

/** Decrypts a small age file in memory. */
export async function decryptBuffer(data: Uint8Array, identities: readonly IdentityInput[]): Promise<Buffer> {
  return Buffer.concat(await decrypt(data, identities).toArray());
}
