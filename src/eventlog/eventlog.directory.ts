/**
 * Maps who an event names at its source to a Warden developer: by SSH certificate key id, SSH key
 * fingerprint, Git username, email or Warden API token. Resolution runs inline for every ingested event,
 * so it reads an in-memory snapshot of the people tables, refreshed at most every `maxAgeMs`.
 *
 * This reads the developers, users and api_tokens tables directly (a read model): going through the
 * people and auth services would cost a query per event.
 */
import { createHash } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import type { ActorCredential, ResolveActor } from "../ingest/index.ts";
import type { SqlClient } from "../store/store.ts";

interface Snapshot {
  byEmail: Map<string, string>;
  byGitUser: Map<string, string>;
  byKeyFingerprint: Map<string, string>;
  byToken: Map<string, string>;
  developerIds: Set<string>;
  emails: [string, string][];
}

const UUID_IN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const EMAIL_IN = /[^\s@<>"'()]+@[^\s@<>"'()]+\.[^\s@<>"'()]+/g;

function fingerprintOf(key: string): string | undefined {
  const data = key.trim().split(/\s+/)[1];
  if (!data) return undefined;
  const blob = Buffer.from(data, "base64");
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

export function createActorDirectory(deps: { sql: SqlClient; clock: Clock; maxAgeMs?: number }) {
  const maxAge = deps.maxAgeMs ?? 30_000;
  let snap: Snapshot | undefined;
  let loadedAt = -Infinity;
  let loading: Promise<void> | undefined;

  async function load(): Promise<void> {
    const devs = await deps.sql.query<{
      id: string;
      email: string;
      git_usernames: Record<string, string>;
      ssh_public_keys: { key: string }[];
    }>("select id, email, git_usernames, ssh_public_keys from developers");
    const tokens = await deps.sql.query<{ id: string; developer_id: string }>(
      `select t.id, u.developer_id from api_tokens t join users u on u.id = t.user_id
        where u.developer_id is not null`,
    );
    const s: Snapshot = {
      byEmail: new Map(),
      byGitUser: new Map(),
      byKeyFingerprint: new Map(),
      byToken: new Map(),
      developerIds: new Set(),
      emails: [],
    };
    for (const d of devs.rows) {
      s.developerIds.add(d.id);
      s.byEmail.set(d.email.toLowerCase(), d.id);
      s.emails.push([d.email.toLowerCase(), d.id]);
      for (const name of Object.values(d.git_usernames ?? {}))
        if (typeof name === "string") s.byGitUser.set(name.toLowerCase(), d.id);
      for (const k of d.ssh_public_keys ?? []) {
        const fp = typeof k?.key === "string" ? fingerprintOf(k.key) : undefined;
        if (fp) s.byKeyFingerprint.set(fp, d.id);
      }
    }
    for (const t of tokens.rows) s.byToken.set(t.id, t.developer_id);
    snap = s;
    loadedAt = deps.clock.now().getTime();
  }

  /** Refreshes the snapshot when it is older than maxAgeMs (call before resolving a batch). */
  async function refreshIfStale(): Promise<void> {
    if (deps.clock.now().getTime() - loadedAt < maxAge && snap) return;
    loading ??= load().finally(() => {
      loading = undefined;
    });
    await loading;
  }

  /** Forces the next refresh (after people change). */
  const invalidate = () => {
    loadedAt = -Infinity;
  };

  const resolve: ResolveActor = (c: ActorCredential) => {
    const s = snap;
    if (!s) return undefined;
    if (c.tokenId) {
      const d = s.byToken.get(c.tokenId);
      if (d) return d;
    }
    if (c.sshKeyId) {
      // Warden names certificates after the grant and developer (key id carries the developer's id or
      // e-mail); certificates from elsewhere may carry an e-mail address.
      for (const m of c.sshKeyId.match(UUID_IN) ?? [])
        if (s.developerIds.has(m.toLowerCase())) return m.toLowerCase();
      for (const m of c.sshKeyId.match(EMAIL_IN) ?? []) {
        const d = s.byEmail.get(m.toLowerCase());
        if (d) return d;
      }
    }
    if (c.sshKeyFingerprint) {
      const d = s.byKeyFingerprint.get(c.sshKeyFingerprint);
      if (d) return d;
    }
    if (c.gitUsername) {
      const d = s.byGitUser.get(c.gitUsername.toLowerCase());
      if (d) return d;
    }
    if (c.email) {
      const d = s.byEmail.get(c.email.toLowerCase());
      if (d) return d;
    }
    return undefined;
  };

  return { refreshIfStale, invalidate, resolve };
}

export type ActorDirectory = ReturnType<typeof createActorDirectory>;
