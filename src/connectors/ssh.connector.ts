import { z } from "zod";
import type { Clock } from "../core/clock.ts";
import { ConnectorError } from "./connector.errors.ts";
import type { CheckResult, Connector, ConnectorGrant, ProvisionResult } from "./connector.types.ts";
import type { SshCertificateAuthority, SshCertificateExtension } from "./ssh-ca.ts";

/** One certificate Warden issued, as the ledger keeps it (no secret in here). */
export interface IssuedSshCertificate {
  grantId: string;
  serial: bigint;
  keyId: string;
  validAfter: Date;
  validBefore: Date;
  revokedAt: Date | null;
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
  /** Revoked certificates that have not yet expired at `at` (expired ones need no KRL entry). */
  revokedUnexpired(at: Date): Promise<IssuedSshCertificate[]>;
  /** Increases with every revocation: the KRL's version. */
  revision(): Promise<bigint>;
}

export function createMemorySshLedger(): SshCertificateLedger {
  const certificates: IssuedSshCertificate[] = [];
  let revision = 0n;
  return {
    async record(certificate) {
      certificates.push({ ...certificate });
    },
    async forGrant(grantId) {
      return certificates.filter((c) => c.grantId === grantId).map((c) => ({ ...c }));
    },
    async revokeGrant(grantId, at) {
      let changed = false;
      for (const c of certificates) {
        if (c.grantId === grantId && c.revokedAt === null) {
          c.revokedAt = at;
          changed = true;
        }
      }
      if (changed) revision++;
    },
    async revokedUnexpired(at) {
      return certificates.filter((c) => c.revokedAt !== null && c.validBefore > at).map((c) => ({ ...c }));
    },
    async revision() {
      return revision;
    },
  };
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

  return {
    kind: "ssh",
    caPublicKeyLine: authority.publicKeyLine,

    /** Signs a new certificate each time (a re-run re-issues; the previous one stays valid until its end). */
    async provision(grant: ConnectorGrant): Promise<ProvisionResult> {
      const now = clock.now();
      if (!grant.developer.sshPublicKey)
        throw invalid(`Developer ${grant.developer.id} has no SSH public key registered.`);
      if (grant.endsAt.getTime() <= now.getTime()) throw invalid(`Grant ${grant.id} has already ended.`);
      const keyId = sshKeyId(grant);
      let cert: ReturnType<SshCertificateAuthority["signUserCertificate"]>;
      try {
        cert = authority.signUserCertificate({
          publicKey: grant.developer.sshPublicKey,
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
        throw invalid(
          `Cannot certify the SSH key of developer ${grant.developer.id}: ${(e as Error).message}.`,
        );
      }
      await ledger.record({
        grantId: grant.id,
        serial: cert.serial,
        keyId,
        validAfter: cert.validAfter,
        validBefore: cert.validBefore,
        revokedAt: null,
      });
      return {
        state: "active",
        externalRef: cert.serial.toString(),
        details: {
          serial: cert.serial.toString(),
          keyId,
          principals: settings.principals,
          validAfter: cert.validAfter.toISOString(),
          validBefore: cert.validBefore.toISOString(),
          extensions,
        },
        // A certificate is not secret, but it is the developer's credential: delivered to them only.
        secret: { kind: "ssh-certificate", value: cert.line },
      };
    },

    /**
     * Marks the grant's certificates revoked; hosts stop accepting them once they fetch the new KRL
     * (RevokedKeys). An open SSH session outlives its certificate: ending it is the host's job.
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
        details: { serials: usable.map((c) => c.serial.toString()), issued: certificates.length },
      };
    },

    async krl() {
      const now = clock.now();
      const revoked = await ledger.revokedUnexpired(now);
      return authority.buildKrl({
        serials: revoked.map((c) => c.serial),
        keyIds: [...new Set(revoked.map((c) => c.keyId))],
        version: await ledger.revision(),
        generatedAt: now,
        comment: "Warden revoked user certificates",
      });
    },

    async close() {},
  };
}
