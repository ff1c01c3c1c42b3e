/**
 * age v1 (https://age-encryption.org/v1) end-to-end encryption for Warden shares.
 * Node side: streaming encrypt/decrypt, atomic file helpers, header checks for uploads.
 * Browser side (no Node imports): import from "./age.browser.ts" directly (see docs/age.md).
 */

export {
  type AgeKeyPair,
  decryptSmall,
  decryptStream,
  decryptText,
  encryptSmall,
  encryptStream,
  fromArmor,
  generateKeyPair,
  identityFileText,
  recipientsOfIdentities,
  toArmor,
} from "./age.browser.ts";
export { type AgeFailure, ageFailureOf } from "./age.errors.ts";
export { type AgeHeader, type AgeStanza, parseHeader } from "./age.header.ts";
export {
  type AgeIdentity,
  type AgeKeyType,
  type AgeRecipient,
  encodeX25519Identity,
  encodeX25519Recipient,
  identityToRecipient,
  isValidAgeRecipient,
  parseIdentities,
  parseRecipient,
} from "./age.keys.ts";
export {
  type AgeInput,
  checkShareHeader,
  DEFAULT_MAX_HEADER_BYTES,
  type DecryptOptions,
  decrypt,
  decryptBuffer,
  decryptToFile,
  encrypt,
  encryptBuffer,
  encryptToFile,
  type FileOutputOptions,
  type IdentityInput,
  type ReadHeaderOptions,
  type RecipientInput,
  readHeader,
  type ShareHeaderPolicy,
} from "./age.service.ts";
export { sshEd25519Tag, sshEd25519Wire } from "./age.ssh.ts";
export { CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE } from "./age.stream.ts";
