import { z } from "zod";
import type { Clock } from "../core/clock.ts";
import { ConnectorError } from "./connector.errors.ts";
import type { CheckResult, Connector, ConnectorGrant, ProvisionResult } from "./connector.types.ts";
import type { SshCertificateAuthority, SshCertificateExtension } from "./ssh-ca.ts";
import { sshKeyFingerprint } from "./ssh-wire.ts";

/** One certificate Warden issued, as the ledger keeps it (no secret in here). */
export interface IssuedSshCertificate {
  grantId: string;
  serial: bigint;
  keyId: string;
  /** The certified key's `SHA256:` fingerprint (null for certificates recorded before keys were). */
  keyFingerprint: string | null;
  validAfter: Date;
  validBefore: Date;
  revokedAt: Date | null;
  /** The OpenSSH certificate line, to save as `<key>-cert.pub` (not secret: useless without the key). */
  certificate: string;
}

/**
 * Where issued certificates and their revocations are kept. The in-memory one below serves tests and
 * a single process; the server stores the same records in its database so every node builds the same
 * KRL.
 */
export interface SshCertificateLedger {
  record(certificate: IssuedSshCertificate): Promise<void>;
  forGrant(grantId: string): Promise<IssuedSshCertificate[]>;
  /** Marks every certificate of the grant revoked (idempotent; keeps the first revocation time). */
  revokeGrant(grantId: string, at: Date): Promise<void>;
  /** Marks these certificates revoked (one key of a grant, e.g. a key the developer removed). */
  revokeSerials(serials: readonly bigint[], at: Date): Promise<void>;
  /** Revoked certificates that have not yet expired at `at` (expired ones need no KRL entry). */
  revokedUnexpired(at: Date): Promise<IssuedSshCertificate[]>;
  /** Key ids that some unrevoked, unexpired certificate still carries at `at`. */
  liveKeyIds(at: Date): Promise<string[]>;
  /** Increases with every revocation: the KRL's version. */
  revision(): Promise<bigint>;
}

export function createMemorySshLedger(): SshCertificateLedger {
  const certificates: IssuedSshCertificate[] = [];
  let revision = 0n;
  const revokeWhere = (match: (c: IssuedSshCertificate) => boolean, at: Date) => {
    let changed = false;
    for (const c of certificates) {
      if (match(c) && c.revokedAt === null) {
        c.revokedAt = at;
        changed = true;
      }
    }
    if (changed) revision++;
  };
  return {
    async record(certificate) {
      certificates.push({ ...certificate });
    },
    async forGrant(grantId) {
      return certificates.filter((c) => c.grantId === grantId).map((c) => ({ ...c }));
    },
    async revokeGrant(grantId, at) {
      revokeWhere((c) => c.grantId === grantId, at);
    },
    async revokeSerials(serials, at) {
      const wanted = new Set(serials);
      revokeWhere((c) => wanted.has(c.serial), at);
    },
    async revokedUnexpired(at) {
      return certificates.filter((c) => c.revokedAt !== null && c.validBefore > at).map((c) => ({ ...c }));
    },
    async liveKeyIds(at) {
      return [
        ...new Set(
          certificates.filter((c) => c.revokedAt === null && c.validBefore > at).map((c) => c.keyId),
        ),
      ];
    },
    async revision() {
      return revision;
    },
  };
}

/**
 * The KRL for a CA's revoked certificates: every revoked, unexpired serial, and the key ids none of
 * whose certificates is still good. A grant's certificates (one per key) share its key id, so a key id
 * enters the KRL only once the whole grant is revoked; one key revoked alone goes in by serial.
 */
export async function buildLedgerKrl(
  authority: SshCertificateAuthority,
  ledger: SshCertificateLedger,
  at: Date,
): Promise<Buffer> {
  const revoked = await ledger.revokedUnexpired(at);
  const live = new Set(await ledger.liveKeyIds(at));
  return authority.buildKrl({
    serials: revoked.map((c) => c.serial),
    keyIds: [...new Set(revoked.map((c) => c.keyId))].filter((k) => !live.has(k)),
    version: await ledger.revision(),
    generatedAt: at,
    comment: "Warden revoked user certificates",
  });
}

const principal = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, "letters, digits, . _ @ - only");

export const sshSettingsSchema = z.object({
  /** Principals the certificate carries; hosts map them to accounts (AuthorizedPrincipalsFile). */
  principals: z.array(principal).min(1).max(32),
  /** Forwarding is off unless the resource allows it; a PTY is on unless switched off. */
  allow: z
    .object({
      pty: z.boolean().default(true),
      portForwarding: z.boolean().default(false),
      agentForwarding: z.boolean().default(false),
      x11Forwarding: z.boolean().default(false),
      userRc: z.boolean().default(false),
    })
    .prefault({}),
  /** Restricts where the certificate may be used from (sshd `source-address` option), e.g. VPN ranges. */
  sourceAddresses: z
    .array(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, "an IP address or CIDR"))
    .max(32)
    .optional(),
  forceCommand: z.string().min(1).max(1000).optional(),
  /**
   * The hosts' names as their logs give them (syslog HOSTNAME): ties SSH logins ingested from those
   * hosts to this resource for the least-privilege hints. Not needed for access itself.
   */
  hosts: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, "a host name"))
    .max(500)
    .default([]),
  /** The certificate starts this long before the grant, for hosts whose clocks run slightly behind. */
  clockSkewSeconds: z.number().int().min(0).max(600).default(60),
});
export type SshSettings = z.output<typeof sshSettingsSchema>;
export type SshSettingsInput = z.input<typeof sshSettingsSchema>;

/** The key id a grant's certificates carry; sshd logs it on every login. */
export function sshKeyId(grant: Pick<ConnectorGrant, "id" | "developer">): string {
  const clean = (s: string) => s.replace(/[^\x21-\x7e]/g, "_").slice(0, 100);
  return `warden:developer=${clean(grant.developer.handle ?? grant.developer.id)}:grant=${clean(grant.id)}`;
}

export interface SshConnector extends Connector {
  readonly caPublicKeyLine: string;
  /**
   * Signs one certificate for each of `publicKeys` (lines the developer registered) for the grant's
   * window, and records them. Keys that cannot be certified are returned in `skipped` with why.
   */
  certify(
    grant: ConnectorGrant,
    publicKeys: readonly string[],
  ): Promise<{ issued: IssuedSshCertificate[]; skipped: { key: string; reason: string }[] }>;
  /** The current KRL for hosts' RevokedKeys (CA-wide: every revoked, unexpired Warden certificate). */
  krl(): Promise<Buffer>;
}

export function createSshConnector(
  input: SshSettingsInput,
  deps: { clock: Clock; authority: SshCertificateAuthority; ledger: SshCertificateLedger },
): SshConnector {
  const settings = sshSettingsSchema.parse(input);
  const { clock, authority, ledger } = deps;
  const extensions: SshCertificateExtension[] = [];
  if (settings.allow.pty) extensions.push("permit-pty");
  if (settings.allow.portForwarding) extensions.push("permit-port-forwarding");
  if (settings.allow.agentForwarding) extensions.push("permit-agent-forwarding");
  if (settings.allow.x11Forwarding) extensions.push("permit-X11-forwarding");
  if (settings.allow.userRc) extensions.push("permit-user-rc");

  const invalid = (message: string) =>
    new ConnectorError({ connector: "ssh", reason: "invalid_grant", retryable: false, message });

  async function certify(grant: ConnectorGrant, publicKeys: readonly string[]) {
    const now = clock.now();
    if (grant.endsAt.getTime() <= now.getTime()) throw invalid(`Grant ${grant.id} has already ended.`);
    const keyId = sshKeyId(grant);
    const issued: IssuedSshCertificate[] = [];
    const skipped: { key: string; reason: string }[] = [];
    for (const publicKey of publicKeys) {
      let fingerprint: string;
      let cert: ReturnType<SshCertificateAuthority["signUserCertificate"]>;
      try {
        fingerprint = sshKeyFingerprint(publicKey);
        cert = authority.signUserCertificate({
          publicKey,
          keyId,
          principals: settings.principals,
          validAfter: new Date(grant.startsAt.getTime() - settings.clockSkewSeconds * 1000),
          validBefore: grant.endsAt,
          extensions,
          criticalOptions: {
            sourceAddress: settings.sourceAddresses?.join(","),
            forceCommand: settings.forceCommand,
          },
        });
      } catch (e) {
        skipped.push({ key: publicKey.split(/\s+/).slice(0, 1).join(" "), reason: (e as Error).message });
        continue;
      }
      const record: IssuedSshCertificate = {
        grantId: grant.id,
        serial: cert.serial,
        keyId,
        keyFingerprint: fingerprint,
        validAfter: cert.validAfter,
        validBefore: cert.validBefore,
        revokedAt: null,
        certificate: cert.line,
      };
      await ledger.record(record);
      issued.push(record);
    }
    return { issued, skipped };
  }

  return {
    kind: "ssh",
    caPublicKeyLine: authority.publicKeyLine,
    certify,

    /**
     * Certifies every key the developer registered, so they log in with whichever they use. Signs new
     * certificates each time (a re-run re-issues; the previous ones stay valid until their end). The
     * certificates are in the ledger, for the developer to fetch; none of it is secret.
     */
    async provision(grant: ConnectorGrant): Promise<ProvisionResult> {
      const keys = grant.developer.sshPublicKeys ?? [];
      if (keys.length === 0)
        throw invalid(`Developer ${grant.developer.id} has no SSH public key registered.`);
      const { issued, skipped } = await certify(grant, keys);
      const first = issued[0];
      if (!first) {
        throw invalid(
          `Cannot certify any SSH key of developer ${grant.developer.id}: ${skipped.map((s) => s.reason).join("; ")}.`,
        );
      }
      return {
        state: "active",
        externalRef: first.keyId,
        details: {
          keyId: first.keyId,
          principals: settings.principals,
          validAfter: first.validAfter.toISOString(),
          validBefore: first.validBefore.toISOString(),
          extensions,
          certificates: issued.map((c) => ({
            serial: c.serial.toString(),
            keyFingerprint: c.keyFingerprint,
          })),
          ...(skipped.length ? { skippedKeys: skipped } : {}),
        },
      };
    },

    /**
     * Marks every certificate of the grant revoked (one per key); hosts stop accepting them once they
     * fetch the new KRL (RevokedKeys). An open SSH session outlives its certificate: ending it is the
     * host's job.
     */
    async revoke(grant) {
      await ledger.revokeGrant(grant.id, clock.now());
    },

    async check(grant): Promise<CheckResult> {
      const now = clock.now();
      const certificates = await ledger.forGrant(grant.id);
      const usable = certificates.filter(
        (c) => c.revokedAt === null && c.validAfter <= now && now < c.validBefore,
      );
      const state =
        certificates.length === 0
          ? "absent"
          : usable.length > 0
            ? "active"
            : certificates.some((c) => c.revokedAt !== null)
              ? "revoked"
              : "expired";
      return {
        live: usable.length > 0,
        state,
        details: {
          serials: usable.map((c) => c.serial.toString()),
          keys: [...new Set(usable.map((c) => c.keyFingerprint).filter((f) => f !== null))],
          issued: certificates.length,
        },
      };
    },

    krl: () => buildLedgerKrl(authority, ledger, clock.now()),

    async close() {},
  };
}
