import {
  createSshCertificateAuthority,
  generateSshCaKey,
  type IssuedSshCertificate,
  type SshCertificateAuthority,
  type SshCertificateLedger,
} from "../connectors/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Sealer } from "../crypto/keyring.ts";
import type { SqlClient, Store } from "../store/store.ts";

const CA_SEAL = { table: "access_ssh_ca", id: "1", column: "private_key" } as const;

interface CertificateRow {
  serial: string;
  grant_id: string;
  key_id: string;
  certificate: string;
  valid_after: Date;
  valid_before: Date;
  revoked_at: Date | null;
}

const fromRow = (r: CertificateRow): IssuedSshCertificate => ({
  grantId: r.grant_id,
  serial: BigInt(r.serial),
  keyId: r.key_id,
  validAfter: new Date(r.valid_after),
  validBefore: new Date(r.valid_before),
  revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
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

  const ledger: SshCertificateLedger = {
    async record(c) {
      await store.query(
        `insert into access_ssh_certificates (serial, grant_id, key_id, valid_after, valid_before, revoked_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (serial) do nothing`,
        [c.serial.toString(), c.grantId, c.keyId, c.validAfter, c.validBefore, c.revokedAt, clock.now()],
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
      await store.tx(async (q) => {
        const r = await q.query(
          "update access_ssh_certificates set revoked_at = $2 where grant_id = $1 and revoked_at is null",
          [grantId, at],
        );
        if ((r.affectedRows ?? 0) > 0) {
          await q.query("update access_ssh_ca set krl_revision = krl_revision + 1 where id = 1");
        }
      });
    },
    async revokedUnexpired(at) {
      return (
        await store.query<CertificateRow>(
          "select * from access_ssh_certificates where revoked_at is not null and valid_before > $1 order by serial",
          [at],
        )
      ).rows.map(fromRow);
    },
    async revision() {
      const r = (await store.query<{ v: number }>("select krl_revision as v from access_ssh_ca where id = 1"))
        .rows[0];
      return BigInt(r?.v ?? 0);
    },
  };

  /** Stores the certificate line next to its ledger entry (what `warden ssh cert` fetches). */
  async function attachCertificate(q: SqlClient, serial: string, line: string) {
    await q.query("update access_ssh_certificates set certificate = $2 where serial = $1", [serial, line]);
  }

  async function publicKeyLine(): Promise<string> {
    return (await authority()).publicKeyLine;
  }

  /** The CA-wide KRL: serials and key ids of every revoked certificate that has not yet expired. */
  async function krl(): Promise<Buffer> {
    const now = clock.now();
    const revoked = await ledger.revokedUnexpired(now);
    return (await authority()).buildKrl({
      serials: revoked.map((c) => c.serial),
      keyIds: [...new Set(revoked.map((c) => c.keyId))],
      version: await ledger.revision(),
      generatedAt: now,
      comment: "Warden revoked user certificates",
    });
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

  return { authority, ledger, attachCertificate, publicKeyLine, krl, currentFor };
}

export type SshCaService = ReturnType<typeof createSshCaService>;
