/**
 * The checkpoint signing key (Ed25519, C2SP signed-note text form). Generated on first use and stored
 * sealed (AES-256-GCM under the master key, bound to its row); several nodes agree on one key because
 * the insert is conditional on there being no active key. The verifier key is public: served at
 * /log/key and printed by `warden audit key`.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { SqlClient } from "../store/store.ts";
import { createNoteSigner, generateNoteKey, type NoteSigner } from "../tlog/index.ts";

export interface LogKey {
  origin: string;
  verifierKey: string;
  signer: NoteSigner;
}

const where = (id: string) => ({ table: "log_signing_keys", id, column: "private_key" });

export async function loadOrCreateLogKey(deps: {
  sql: SqlClient;
  sealer: Sealer;
  clock: Clock;
  /** Origin for a new key; an existing key keeps the origin it was made with. */
  origin: string;
}): Promise<LogKey & { generated: boolean }> {
  const read = async () =>
    (
      await deps.sql.query<{ id: string; origin: string; verifier_key: string; private_key: Uint8Array }>(
        "select id, origin, verifier_key, private_key from log_signing_keys where retired_at is null",
      )
    ).rows[0];
  let row = await read();
  let generated = false;
  if (!row) {
    const id = randomUUID();
    const key = generateNoteKey(deps.origin);
    const sealed = await deps.sealer.seal("signing", key.privateKey, where(id));
    const inserted = await deps.sql.query(
      `insert into log_signing_keys (id, origin, verifier_key, private_key, created_at)
       values ($1, $2, $3, $4, $5) on conflict do nothing returning id`,
      [id, deps.origin, key.verifierKey, sealed, deps.clock.now()],
    );
    generated = inserted.rows.length === 1;
    row = await read();
    if (!row) throw new Error("the log signing key could not be stored");
  }
  const privateKey = (await deps.sealer.open(row.private_key, where(row.id))).toString("utf8");
  const signer = createNoteSigner(privateKey);
  if (signer.verifierKey !== row.verifier_key)
    throw new Error("the log signing key does not match its verifier key");
  return { origin: row.origin, verifierKey: row.verifier_key, signer, generated };
}

/** A key name and checkpoint origin from the server's public name: `<host>/warden-audit`. */
export function defaultOrigin(publicUrl: string | undefined, hostname: string): string {
  const host = publicUrl ? new URL(publicUrl).host : hostname;
  const clean = host.replace(/[^A-Za-z0-9.:\-_]/g, "-") || "warden";
  return `${clean}/warden-audit`;
}
