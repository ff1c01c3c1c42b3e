import type { SealPurpose } from "./keyring.ts";

/**
 * Every column that holds sealed values (see keyring.ts), with the purpose whose data key seals it.
 * A data-key rotation re-encrypts exactly these columns, and a test checks that every `bytea` column of
 * the schema is either listed here or named as not secret in `NOT_SEALED_BYTEA` below, so a new
 * sensitive column cannot be forgotten. The row id column must be what the feature passes as
 * `SealContext.id` (the associated data), and table/column the same names.
 *
 * Identifiers from this list are pasted into SQL by the re-encryption job: they are constants, never
 * input, and are checked against a strict pattern before use.
 *
 * Features that add a sealed column add one line here (access: connector credentials, SSH CA key;
 * shares: the note).
 */
export interface SealedColumn {
  table: string;
  column: string;
  purpose: SealPurpose;
  /** The primary-key column whose value is the SealContext id. Default "id". */
  idColumn?: string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: "users", column: "totp_secret", purpose: "totp" },
  { table: "documents", column: "content", purpose: "documents" },
  { table: "access_resources", column: "connector_secrets", purpose: "connector" },
  { table: "access_credentials", column: "payload", purpose: "connector", idColumn: "grant_id" },
  { table: "access_ssh_ca", column: "private_key", purpose: "ssh_ca" },
  { table: "log_signing_keys", column: "private_key", purpose: "signing" },
  { table: "shares", column: "filename", purpose: "share_note" },
  { table: "shares", column: "note", purpose: "share_note" },
  { table: "siem_destinations", column: "secret_headers", purpose: "webhook" },
];

/** `bytea` columns that hold no secret: hashes, public Merkle-tree data, wrapped (not plain) keys. */
export const NOT_SEALED_BYTEA: readonly string[] = [
  "data_keys.wrapped",
  "audit_events.leaf_hash",
  "audit_events.chain_hash",
  // The foundation's hash-chained trail, kept read-only after its entries moved into the Merkle log.
  "audit_events_legacy.leaf_hash",
  "audit_events_legacy.chain_hash",
  "tlog_state.root",
  "tlog_tiles.nodes",
  "tlog_bundles.data",
];

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Guards the identifiers before they reach SQL text. */
export function checkedColumn(c: SealedColumn): Required<SealedColumn> {
  const idColumn = c.idColumn ?? "id";
  for (const ident of [c.table, c.column, idColumn]) {
    if (!IDENT.test(ident)) throw new Error(`sealed column registry: bad identifier ${ident}`);
  }
  return { ...c, idColumn };
}
