import {
  buildLedgerKrl,
  createSshCertificateAuthority,
  generateSshCaKey,
  type IssuedSshCertificate,
  type SshCertificateAuthority,
  type SshCertificateLedger,
  sshKeyFingerprint,
} from "../connectors/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { SqlClient, Store } from "../store/store.ts";

const CA_SEAL = { table: "access_ssh_ca", id: "1", column: "private_key" } as const;

interface CertificateRow {
  serial: string;
  grant_id: string;
  key_id: string;
  key_fingerprint: string | null;
  certificate: string;
  valid_after: Date;
  valid_before: Date;
  revoked_at: Date | null;
}

const fromRow = (r: CertificateRow): IssuedSshCertificate => ({
  grantId: r.grant_id,
  serial: BigInt(r.serial),
  keyId: r.key_id,
  keyFingerprint: r.key_fingerprint,
  validAfter: new Date(r.valid_after),
  validBefore: new Date(r.valid_before),
  revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
  certificate: r.certificate,
});

/**
 * Warden's SSH user certificate authority, persisted: the Ed25519 key is generated on first use and
 * sealed at rest (several nodes racing to create it agree on the first insert), and the certificate
 * ledger and KRL version live in the database, so every node publishes the same KRL.
 */
export function createSshCaService(deps: { store: Store; clock: Clock; sealer: Sealer }) {
  const { store, clock, sealer } = deps;
  let cached: Promise<SshCertificateAuthority> | undefined;

  async function load(): Promise<SshCertificateAuthority> {
    const read = async () =>
      (
        await store.query<{ private_key: Uint8Array; public_key: string }>(
          "select private_key, public_key from access_ssh_ca where id = 1",
        )
      ).rows[0];
    let row = await read();
    if (!row) {
      const key = generateSshCaKey("warden-user-ca");
      const sealed = await sealer.seal("ssh_ca", key.privateKeyPem, CA_SEAL);
      await store.query(
        `insert into access_ssh_ca (id, private_key, public_key, created_at) values (1, $1, $2, $3)
         on conflict (id) do nothing`,
        [sealed, key.publicKeyLine, clock.now()],
      );
      row = await read();
      if (!row) throw new Error("the SSH certificate authority could not be created");
    }
    const pem = (await sealer.open(row.private_key, CA_SEAL)).toString("utf8");
    return createSshCertificateAuthority(pem, "warden-user-ca");
  }

  function authority(): Promise<SshCertificateAuthority> {
    cached ??= load().catch((e) => {
      cached = undefined;
      throw e;
    });
    return cached;
  }

  /** Marks certificates revoked in the caller's transaction; the KRL's version moves when any was live. */
  async function revokeWhere(q: SqlClient, where: string, param: unknown, at: Date): Promise<string[]> {
    const r = await q.query<{ serial: string }>(
      `update access_ssh_certificates set revoked_at = $2 where ${where} and revoked_at is null returning serial`,
      [param, at],
    );
    if (r.rows.length > 0) {
      await q.query("update access_ssh_ca set krl_revision = krl_revision + 1 where id = 1");
    }
    return r.rows.map((x) => x.serial);
  }

  /** Revokes these certificates (one key of a grant) in the caller's transaction; returns those it revoked. */
  const revokeSerialsIn = (q: SqlClient, serials: readonly bigint[], at: Date) =>
    revokeWhere(
      q,
      "serial = any($1::text[])",
      serials.map((x) => x.toString()),
      at,
    );

  const ledger: SshCertificateLedger = {
    async record(c) {
      await store.query(
        `insert into access_ssh_certificates (serial, grant_id, key_id, key_fingerprint, certificate, valid_after,
           valid_before, revoked_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (serial) do nothing`,
        [
          c.serial.toString(),
          c.grantId,
          c.keyId,
          c.keyFingerprint,
          c.certificate,
          c.validAfter,
          c.validBefore,
          c.revokedAt,
          clock.now(),
        ],
      );
    },
    async forGrant(grantId) {
      return (
        await store.query<CertificateRow>(
          "select * from access_ssh_certificates where grant_id = $1 order by created_at",
          [grantId],
        )
      ).rows.map(fromRow);
    },
    async revokeGrant(grantId, at) {
      await store.tx((q) => revokeWhere(q, "grant_id = $1", grantId, at));
    },
    async revokeSerials(serials, at) {
      await store.tx((q) => revokeSerialsIn(q, serials, at));
    },
    async revokedUnexpired(at) {
      return (
        await store.query<CertificateRow>(
          "select * from access_ssh_certificates where revoked_at is not null and valid_before > $1 order by serial",
          [at],
        )
      ).rows.map(fromRow);
    },
    async liveKeyIds(at) {
      return (
        await store.query<{ key_id: string }>(
          "select distinct key_id from access_ssh_certificates where revoked_at is null and valid_before > $1",
          [at],
        )
      ).rows.map((r) => r.key_id);
    },
    async revision() {
      const r = (await store.query<{ v: number }>("select krl_revision as v from access_ssh_ca where id = 1"))
        .rows[0];
      return BigInt(r?.v ?? 0);
    },
  };

  async function publicKeyLine(): Promise<string> {
    return (await authority()).publicKeyLine;
  }

  /** The CA-wide KRL: every revoked certificate that has not yet expired (see buildLedgerKrl). */
  async function krl(): Promise<Buffer> {
    return buildLedgerKrl(await authority(), ledger, clock.now());
  }

  /**
   * Unexpired, unrevoked certificates whose key the developer no longer has registered (removed from
   * their profile): these must go in the KRL. Reads every live certificate with its developer's keys.
   */
  async function certificatesOfRemovedKeys(at: Date) {
    const rows = (
      await store.query<{
        serial: string;
        grant_id: string;
        key_fingerprint: string;
        developer_id: string;
        ssh_public_keys: { key: string }[];
      }>(
        `select c.serial, c.grant_id, c.key_fingerprint, g.developer_id, d.ssh_public_keys
         from access_ssh_certificates c join access_grants g on g.id = c.grant_id
         join developers d on d.id = g.developer_id
         where c.revoked_at is null and c.valid_before > $1 and c.key_fingerprint is not null`,
        [at],
      )
    ).rows;
    const registered = new Map<string, Set<string>>();
    const fingerprintsOf = (developerId: string, keys: { key: string }[]) => {
      let set = registered.get(developerId);
      if (!set) {
        set = new Set();
        for (const k of keys ?? []) {
          try {
            set.add(sshKeyFingerprint(k.key));
          } catch {
            // A registered key Warden cannot certify has no certificate to compare with.
          }
        }
        registered.set(developerId, set);
      }
      return set;
    };
    return rows
      .filter((r) => !fingerprintsOf(r.developer_id, r.ssh_public_keys).has(r.key_fingerprint))
      .map((r) => ({
        serial: BigInt(r.serial),
        grantId: r.grant_id,
        developerId: r.developer_id,
        keyFingerprint: r.key_fingerprint,
      }));
  }

  /** The developer's usable certificates now (active grants, not revoked, inside their window). */
  async function currentFor(developerId: string, filter: { resourceId?: string; grantId?: string } = {}) {
    const params: unknown[] = [developerId, clock.now()];
    let extra = "";
    if (filter.resourceId) {
      params.push(filter.resourceId);
      extra += ` and g.resource_id = $${params.length}`;
    }
    if (filter.grantId) {
      params.push(filter.grantId);
      extra += ` and g.id = $${params.length}`;
    }
    return (
      await store.query<
        CertificateRow & {
          resource_id: string;
          resource_name: string;
          external_details: Record<string, unknown>;
        }
      >(
        `select c.*, g.resource_id, r.name as resource_name, g.external_details
         from access_ssh_certificates c join access_grants g on g.id = c.grant_id
         join access_resources r on r.id = g.resource_id
         where g.developer_id = $1 and g.state = 'active' and c.revoked_at is null and c.certificate <> ''
           and c.valid_after <= $2 and c.valid_before > $2 ${extra}
         order by c.created_at desc`,
        params,
      )
    ).rows;
  }

  return { authority, ledger, revokeSerialsIn, certificatesOfRemovedKeys, publicKeyLine, krl, currentFor };
}

export type SshCaService = ReturnType<typeof createSshCaService>;
