/**
 * Verification of Warden's audit log that depends only on the specifications (RFC 9162, C2SP
 * signed-note, tlog-checkpoint, tlog-tiles, tlog-proof), not on how Warden stores anything, so a third
 * party can run or reuse it.
 */
export {
  type BundleHasher,
  type BundleJob,
  type CheckedBundles,
  checkBundles,
  createWorkerHasher,
  inThreadHasher,
} from "./bundle-hash.ts";
export {
  type Checkpoint,
  CheckpointError,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
} from "./checkpoint.ts";
export {
  EMPTY_ROOT,
  equalBytes,
  fromBase64,
  HASH_SIZE,
  hashChildren,
  hashLeaf,
  hashLeaves,
  hashLeavesAt,
  hashPairs,
  sha256,
  toBase64,
  toHex,
} from "./hash.ts";
export {
  type CompactRange,
  checkConsistency,
  consistencyRanges,
  createCompactRange,
  type EntryRange,
  foldRange,
  inclusionRanges,
  type PerfectNode,
  ProofError,
  perfectNodes,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.ts";
export {
  ED25519_TYPE,
  ed25519Verify,
  formatSignatureLine,
  formatVerifierKey,
  keyIdFor,
  type Note,
  NoteError,
  type NoteSignature,
  type NoteVerifier,
  openNote,
  parseNote,
  parseVerifierKey,
} from "./note.ts";
export {
  consistencyProofFromTiles,
  entryFromTiles,
  type FetchLike,
  httpSource,
  inclusionProofFromTiles,
} from "./tile-proofs.ts";
export {
  decodeBundle,
  encodeBundle,
  encodeTileIndex,
  entryBundlePath,
  MAX_ENTRY_BYTES,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  tileLevels,
  tilePath,
  tilesAtLevel,
} from "./tiles.ts";
export {
  formatTlogProof,
  parseTlogProof,
  TLOG_PROOF_HEADER,
  type TlogProof,
  verifyTlogProof,
} from "./tlog-proof.ts";
export { directorySource, type VerifyTilesOptions, verifyTiles } from "./verify-tiles.ts";
export {
  type ProblemKind,
  type TileSource,
  type TrustedRoot,
  type VerifyProblem,
  type VerifyReport,
  type VerifyTreeOptions,
  verifyTree,
} from "./verify-tree.ts";
