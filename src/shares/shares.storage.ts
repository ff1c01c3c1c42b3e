import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { AppError } from "../core/errors.ts";

/**
 * Where share ciphertext lives: one file per upload in the shares directory (WARDEN_SHARES_DIR,
 * default <data dir>/shares), mode 0600 in a 0700 directory.
 *
 * Why files and not the database: a 4 GiB upload written as bytea rows would bloat the WAL and the
 * backups, PGlite keeps its heap in WebAssembly memory, and revoking would leave the bytes in dead
 * tuples until a VACUUM; a file is written at disk speed and is gone when unlinked. Several Warden
 * nodes point WARDEN_SHARES_DIR at one shared mount. The interface is small (write, open, remove,
 * list) so an object store can take its place.
 */
export interface ShareStorage {
  readonly dir: string;
  /**
   * Streams `source` into a new file, at most `maxBytes`, and returns its name (`ref`), size and
   * SHA-256. The file appears under its final name only when the source ended without error.
   */
  write(
    shareId: string,
    source: AsyncIterable<Uint8Array>,
    maxBytes: number,
  ): Promise<{ ref: string; bytes: number; sha256: string }>;
  /** A read stream over a stored file. */
  read(ref: string): Promise<{ stream: Readable; bytes: number }>;
  /** Deletes a stored file; true if it was there. */
  remove(ref: string): Promise<boolean>;
  /** Names of files in the directory (stored and partial), with their modification times. */
  list(): Promise<{ name: string; mtime: Date }[]>;
  /** Deletes a directory entry that list() returned (a stored or a partial upload). */
  removeEntry(name: string): Promise<boolean>;
}

const REF = /^[0-9a-f-]{36}\.[0-9a-f]{8}\.age$/;
const HIGH_WATER = 1024 * 1024;

export function createShareStorage(dir: string): ShareStorage {
  let ready: Promise<unknown> | undefined;
  const ensureDir = () => {
    ready ??= mkdir(dir, { recursive: true, mode: 0o700 });
    return ready;
  };
  const pathOf = (ref: string) => {
    // Refs are generated here; refusing anything else keeps a corrupted row from naming another file.
    if (!REF.test(ref)) throw new AppError("internal", "Invalid share content reference");
    return path.join(dir, ref);
  };

  async function write(shareId: string, source: AsyncIterable<Uint8Array>, maxBytes: number) {
    await ensureDir();
    const ref = `${shareId}.${randomUUID().slice(0, 8)}.age`;
    const partial = path.join(dir, `.${ref}.partial`);
    const out = createWriteStream(partial, { flags: "wx", mode: 0o600, highWaterMark: HIGH_WATER });
    const hash = createHash("sha256");
    let bytes = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        out.once("open", () => resolve());
        out.once("error", reject);
      });
      for await (const chunk of source) {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          throw new AppError(
            "payload_too_large",
            `The upload is larger than the ${maxBytes} bytes expected`,
            {
              reason: "too_large",
            },
          );
        }
        hash.update(chunk);
        if (!out.write(chunk)) {
          await new Promise<void>((resolve, reject) => {
            const onDrain = () => {
              out.off("error", onError);
              resolve();
            };
            const onError = (e: Error) => {
              out.off("drain", onDrain);
              reject(e);
            };
            out.once("drain", onDrain);
            out.once("error", onError);
          });
        }
      }
      out.end();
      await finished(out);
      // Durable before the row says "ready": fsync the file, then publish it under its final name.
      const fh = await open(partial, "r+");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(partial, path.join(dir, ref));
      return { ref, bytes, sha256: hash.digest("hex") };
    } catch (e) {
      out.destroy();
      await unlink(partial).catch(() => {});
      throw e;
    }
  }

  async function read(ref: string) {
    const file = pathOf(ref);
    const { size } = await stat(file);
    return { stream: createReadStream(file, { highWaterMark: HIGH_WATER }), bytes: size };
  }

  async function remove(ref: string) {
    return unlinkIfThere(pathOf(ref));
  }

  async function removeEntry(name: string) {
    const stored =
      name.startsWith(".") && name.endsWith(".partial") ? name.slice(1, -".partial".length) : name;
    if (!REF.test(stored)) return false;
    return unlinkIfThere(path.join(dir, name));
  }

  async function unlinkIfThere(file: string) {
    try {
      await unlink(file);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
  }

  async function list() {
    await ensureDir();
    const names = await readdir(dir);
    const out: { name: string; mtime: Date }[] = [];
    for (const name of names) {
      const s = await stat(path.join(dir, name)).catch(() => undefined);
      if (s?.isFile()) out.push({ name, mtime: s.mtime });
    }
    return out;
  }

  return { dir, write, read, remove, list, removeEntry };
}

/** Whether a directory entry is a stored upload (as opposed to a partial one or a stranger). */
export const isStoredRef = (name: string) => REF.test(name);
