/** Public surface of the verifiable audit log. Other modules import only from here. */
export { createTileCache, type TileCache } from "./tlog.cache.ts";
export type { SqlClient } from "./tlog.repo.ts";
export {
  type ConsistencyProof,
  createTlog,
  createTlogAppender,
  type EntrySource,
  type InclusionProof,
  type Tlog,
  type TlogDeps,
  type VerifyStoreOptions,
} from "./tlog.service.ts";
export { createNoteSigner, generateNoteKey, type NoteSigner, signNote } from "./tlog.signer.ts";
export * from "./verify/index.ts";
