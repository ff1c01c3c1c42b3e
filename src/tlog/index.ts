/** Public surface of the verifiable audit log. Other modules import only from here. */
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
