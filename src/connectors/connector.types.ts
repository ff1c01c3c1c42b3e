import type { Clock } from "../core/clock.ts";
import type { AccessLevel } from "../policy/index.ts";

/** What a connector needs to know about one grant. Built by the access service from its records. */
export interface ConnectorGrant {
  id: string;
  level: AccessLevel;
  startsAt: Date;
  endsAt: Date;
  developer: {
    id: string;
    /** Human-readable name for key ids and comments (no secret). */
    handle?: string;
    /**
     * Every OpenSSH public key line the developer registered (`ssh-ed25519 AAAA... comment`), for the
     * SSH connector: each one is certified, so any of them logs in.
     */
    sshPublicKeys?: string[];
    /** Where the Git hosts may send an invitation when the developer has no account there yet. */
    email?: string;
    githubUsername?: string;
    gitlabUsername?: string;
  };
  resource: { id: string; name?: string };
}

/** A credential to hand to the developer once, and to nobody else. Never log it. */
export interface ConnectorSecret {
  kind: "password";
  value: string;
}

export interface ProvisionResult {
  /** "active" when access is usable now; "pending" when the developer must act (accept an invitation). */
  state: "active" | "pending";
  /** Stable name of what was created (role name, certificate serial, collaborator login). No secret. */
  externalRef: string;
  /** Non-secret facts worth recording on the grant (expiry, permission, invitation id...). */
  details: Record<string, unknown>;
  secret?: ConnectorSecret;
}

export interface CheckResult {
  /** Whether the access really works at this moment, as the target system sees it. */
  live: boolean;
  /**
   * What the target system reports, e.g. "active", "pending" (an invitation waits for the developer),
   * "invitation_expired" (it expired unaccepted), "absent", "nologin".
   */
  state: string;
  details: Record<string, unknown>;
}

/**
 * A connector creates and removes one kind of access for real. Every method is idempotent: calling
 * `provision` twice leaves the same access as once (re-issuing a credential where one is returned), and
 * `revoke` on access that is already gone succeeds. Failures throw `ConnectorError`, whose `retryable`
 * says whether trying again later may help.
 */
export interface Connector {
  readonly kind: ConnectorKind;
  provision(grant: ConnectorGrant): Promise<ProvisionResult>;
  revoke(grant: ConnectorGrant): Promise<void>;
  check(grant: ConnectorGrant): Promise<CheckResult>;
  /** Releases pools and timers. */
  close(): Promise<void>;
}

export type ConnectorKind = "postgres" | "ssh" | "github" | "gitlab" | "webhook";

export interface ConnectorDeps {
  clock: Clock;
  /** HTTP client for the HTTP connectors; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Waits between retries; tests pass one that does not really wait. */
  sleep?: (ms: number) => Promise<void>;
}
