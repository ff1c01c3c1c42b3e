/**
 * C2SP tlog-proof (https://c2sp.org/tlog-proof): a self-contained, offline-verifiable receipt that an
 * entry is in a log. Lines: `c2sp.org/tlog-proof@v1`, optional `extra <base64>`, `index <n>`, the
 * inclusion proof hashes (base64, leaf's sibling first), an empty line, then the signed checkpoint.
 */
import { openCheckpoint } from "./checkpoint.ts";
import { equalBytes, fromBase64, HASH_SIZE, hashLeaf, toBase64 } from "./hash.ts";
import { ProofError, rootFromInclusionProof } from "./merkle.ts";
import type { NoteVerifier } from "./note.ts";

export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";

export interface TlogProof {
  index: number;
  proof: Uint8Array[];
  /** The signed checkpoint note, verbatim. */
  checkpoint: string;
  /** Opaque, unauthenticated application data. */
  extra?: Uint8Array;
}

export function formatTlogProof(p: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${toBase64(p.extra)}`);
  lines.push(`index ${p.index}`);
  for (const h of p.proof) lines.push(toBase64(h));
  return `${lines.join("\n")}\n\n${p.checkpoint}`;
}

export function parseTlogProof(text: string): TlogProof {
  const lines = text.split("\n");
  let at = 0;
  if (lines[at++] !== TLOG_PROOF_HEADER)
    throw new ProofError(`receipt does not start with ${TLOG_PROOF_HEADER}`);
  let extra: Uint8Array | undefined;
  if (lines[at]?.startsWith("extra ")) {
    extra = fromBase64(lines[at]!.slice(6));
    if (!extra) throw new ProofError("receipt extra data is not base64");
    at++;
  }
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines[at++] ?? "");
  if (!m) throw new ProofError("receipt has no valid index line");
  const index = Number(m[1]);
  if (!Number.isSafeInteger(index)) throw new ProofError("receipt index is too large");
  const proof: Uint8Array[] = [];
  while (at < lines.length && lines[at] !== "") {
    const h = fromBase64(lines[at]!);
    if (!h || h.length !== HASH_SIZE)
      throw new ProofError(`receipt line ${at + 1} is not a base64 SHA-256 hash`);
    proof.push(h);
    at++;
  }
  if (at >= lines.length) throw new ProofError("receipt has no checkpoint");
  const checkpoint = lines.slice(at + 1).join("\n");
  return extra === undefined ? { index, proof, checkpoint } : { index, proof, checkpoint, extra };
}

/**
 * Verifies a receipt for `entry` (the logged bytes): the checkpoint's signature by the log's key and the
 * inclusion proof to its root. Returns the parsed receipt and checkpoint; throws with the reason otherwise.
 */
export function verifyTlogProof(text: string, entry: Uint8Array, verifier: NoteVerifier, origin?: string) {
  const receipt = parseTlogProof(text);
  const checkpoint = openCheckpoint(receipt.checkpoint, verifier, origin);
  const root = rootFromInclusionProof(receipt.index, checkpoint.size, hashLeaf(entry), receipt.proof);
  if (!equalBytes(root, checkpoint.root)) {
    throw new ProofError(`entry ${receipt.index} is not in the log at size ${checkpoint.size}`);
  }
  return { ...receipt, tree: checkpoint };
}
