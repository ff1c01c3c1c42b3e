/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text `origin\nsize\nbase64(root)\n`
 * followed by optional non-empty extension lines, signed as a C2SP signed note.
 */
import { fromBase64, HASH_SIZE, toBase64 } from "./hash.ts";
import { type NoteVerifier, openNote } from "./note.ts";

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions: string[];
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

export function formatCheckpoint(cp: Checkpoint): string {
  if (cp.origin.length === 0 || cp.origin.includes("\n")) throw new CheckpointError("invalid origin");
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new CheckpointError("invalid size");
  if (cp.root.length !== HASH_SIZE) throw new CheckpointError("root hash must be 32 bytes");
  for (const e of cp.extensions) {
    if (e.length === 0 || e.includes("\n")) throw new CheckpointError("extension lines must be non-empty");
  }
  return `${[cp.origin, String(cp.size), toBase64(cp.root), ...cp.extensions].join("\n")}\n`;
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw new CheckpointError("checkpoint text must end in a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new CheckpointError("checkpoint needs origin, size and root hash lines");
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new CheckpointError("checkpoint origin is empty");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw new CheckpointError("checkpoint size is not a decimal");
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw new CheckpointError("checkpoint size is too large");
  const root = fromBase64(rootLine);
  if (!root || root.length !== HASH_SIZE)
    throw new CheckpointError("checkpoint root is not a base64 SHA-256");
  if (extensions.some((e) => e.length === 0)) throw new CheckpointError("empty extension line");
  return { origin, size, root, extensions };
}

/**
 * Verifies a signed checkpoint with the log's key and returns its parsed body. When `origin` is given the
 * checkpoint must be for that log (a valid signature on another log's checkpoint proves nothing here).
 */
export function openCheckpoint(
  note: string,
  verifier: NoteVerifier,
  origin: string = verifier.name,
): Checkpoint & { note: string; text: string } {
  const opened = openNote(note, [verifier]);
  const cp = parseCheckpoint(opened.text);
  if (cp.origin !== origin) {
    throw new CheckpointError(`checkpoint is for log ${JSON.stringify(cp.origin)}, expected ${origin}`);
  }
  return { ...cp, note, text: opened.text };
}
