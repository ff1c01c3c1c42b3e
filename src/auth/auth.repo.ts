import type { Role, TokenScope } from "../core/context.ts";
import type { SqlClient } from "../store/store.ts";

export interface UserRow {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  developer_id: string | null;
  password_hash: string | null;
  totp_secret: Uint8Array | null;
  totp_enabled: boolean;
  totp_last_step: number | null;
  recovery_codes: string[];
  failed_logins: number;
  locked_until: Date | null;
  disabled_at: Date | null;
  last_login_at: Date | null;
  created_at: Date;
}

export interface SessionRow {
  id: string;
  user_id: string;
  csrf_token: string;
  mfa_ok: boolean;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  expires_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

export interface LinkRow {
  id: string;
  kind: "setup" | "invite";
  email: string | null;
  role: Role | null;
  developer_id: string | null;
  created_by: string | null;
  expires_at: Date;
  used_at: Date | null;
  created_at: Date;
}

/** What authenticating a request needs of the account, selected beside the session or token row. */
export interface AuthUserColumns {
  u_email: string;
  u_role: Role;
  u_developer_id: string | null;
  u_totp_enabled: boolean;
  u_disabled_at: Date | null;
}
const authUserColumns =
  "u.email as u_email, u.role as u_role, u.developer_id as u_developer_id, u.totp_enabled as u_totp_enabled, u.disabled_at as u_disabled_at";

/** Data access for accounts. Every function takes the client to run on (a transaction or the pool). */
export const authRepo = {
  async userByEmail(q: SqlClient, email: string) {
    return (await q.query<UserRow>("select * from users where lower(email) = lower($1)", [email])).rows[0];
  },
  async userById(q: SqlClient, id: string) {
    return (await q.query<UserRow>("select * from users where id = $1", [id])).rows[0];
  },
  async countAdmins(q: SqlClient) {
    return Number(
      (
        await q.query<{ n: number }>(
          "select count(*)::int8 n from users where role = 'admin' and disabled_at is null",
        )
      ).rows[0]?.n ?? 0,
    );
  },
  async insertUser(
    q: SqlClient,
    u: {
      id: string;
      email: string;
      displayName: string;
      role: Role;
      developerId: string | null;
      passwordHash: string;
      at: Date;
    },
  ) {
    await q.query(
      `insert into users (id, email, display_name, role, developer_id, password_hash, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [u.id, u.email, u.displayName, u.role, u.developerId, u.passwordHash, u.at],
    );
  },
  async recordFailure(q: SqlClient, userId: string, lockUntil: Date | null) {
    return (
      await q.query<{ failed_logins: number }>(
        `update users set failed_logins = failed_logins + 1,
           locked_until = case when $2::timestamptz is not null then $2::timestamptz else locked_until end
         where id = $1 returning failed_logins`,
        [userId, lockUntil],
      )
    ).rows[0]?.failed_logins;
  },
  async lock(q: SqlClient, userId: string, until: Date) {
    await q.query("update users set locked_until = $2 where id = $1", [userId, until]);
  },
  async clearFailures(q: SqlClient, userId: string, at: Date | null) {
    await q.query(
      "update users set failed_logins = 0, locked_until = null, last_login_at = coalesce($2, last_login_at) where id = $1",
      [userId, at],
    );
  },
  async setTotp(
    q: SqlClient,
    userId: string,
    sealed: Buffer | null,
    enabled: boolean,
    recoveryHashes: string[],
    at: Date,
  ) {
    await q.query(
      "update users set totp_secret = $2, totp_enabled = $3, recovery_codes = $4, updated_at = $5 where id = $1",
      [userId, sealed, enabled, JSON.stringify(recoveryHashes), at],
    );
  },
  /** Records a TOTP step as used; false when it (or a later one) was used already. */
  async consumeTotpStep(q: SqlClient, userId: string, step: number) {
    const r = await q.query(
      "update users set totp_last_step = $2 where id = $1 and (totp_last_step is null or totp_last_step < $2)",
      [userId, step],
    );
    return (r.affectedRows ?? 0) > 0;
  },
  async setRecoveryCodes(q: SqlClient, userId: string, hashes: string[]) {
    await q.query("update users set recovery_codes = $2 where id = $1", [userId, JSON.stringify(hashes)]);
  },
  async listUsers(q: SqlClient, limit: number, offset: number) {
    const rows = (
      await q.query<UserRow>("select * from users order by created_at, id limit $1 offset $2", [
        limit,
        offset,
      ])
    ).rows;
    const total = Number(
      (await q.query<{ n: number }>("select count(*)::int8 n from users")).rows[0]?.n ?? 0,
    );
    return { rows, total };
  },
  async updateUser(
    q: SqlClient,
    id: string,
    patch: { role?: Role; disabledAt?: Date | null; displayName?: string },
    at: Date,
  ) {
    await q.query(
      `update users set role = coalesce($2, role),
         disabled_at = case when $3::boolean then $4::timestamptz else disabled_at end,
         display_name = coalesce($5, display_name), updated_at = $6 where id = $1`,
      [
        id,
        patch.role ?? null,
        patch.disabledAt !== undefined,
        patch.disabledAt ?? null,
        patch.displayName ?? null,
        at,
      ],
    );
  },

  async insertSession(q: SqlClient, s: SessionRow & { ip: string | null; user_agent: string | null }) {
    await q.query(
      `insert into sessions (id, user_id, csrf_token, mfa_ok, created_at, last_seen_at, expires_at, ip, user_agent)
       values ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
      [
        s.id,
        s.user_id,
        s.csrf_token,
        s.mfa_ok,
        s.created_at,
        s.last_seen_at,
        s.expires_at,
        s.ip,
        s.user_agent,
      ],
    );
  },
  async touchSession(q: SqlClient, id: string, at: Date) {
    await q.query("update sessions set last_seen_at = $2 where id = $1", [id, at]);
  },
  async revokeSession(q: SqlClient, id: string, at: Date) {
    await q.query("update sessions set revoked_at = $2 where id = $1 and revoked_at is null", [id, at]);
  },
  async revokeUserSessions(q: SqlClient, userId: string, at: Date) {
    const r = await q.query("update sessions set revoked_at = $2 where user_id = $1 and revoked_at is null", [
      userId,
      at,
    ]);
    return r.affectedRows ?? 0;
  },

  async insertToken(q: SqlClient, t: TokenRow & { token_hash: string }) {
    await q.query(
      `insert into api_tokens (id, user_id, name, token_hash, prefix, scopes, expires_at, created_at)
       values ($1,$2,$3,$4,$5,$6,$7,$8)`,
      [t.id, t.user_id, t.name, t.token_hash, t.prefix, JSON.stringify(t.scopes), t.expires_at, t.created_at],
    );
  },
  /** The token and its account in one round trip: this runs on every API-token request. */
  async tokenWithUser(q: SqlClient, hash: string) {
    return (
      await q.query<TokenRow & AuthUserColumns>(
        `select t.*, ${authUserColumns} from api_tokens t join users u on u.id = t.user_id where t.token_hash = $1`,
        [hash],
      )
    ).rows[0];
  },
  /** The session and its account in one round trip: this runs on every signed-in request. */
  async sessionWithUser(q: SqlClient, id: string) {
    return (
      await q.query<SessionRow & AuthUserColumns>(
        `select s.*, ${authUserColumns} from sessions s join users u on u.id = s.user_id where s.id = $1`,
        [id],
      )
    ).rows[0];
  },
  async tokensOfUser(q: SqlClient, userId: string) {
    return (
      await q.query<TokenRow>("select * from api_tokens where user_id = $1 order by created_at desc", [
        userId,
      ])
    ).rows;
  },
  async touchToken(q: SqlClient, id: string, at: Date) {
    await q.query("update api_tokens set last_used_at = $2 where id = $1", [id, at]);
  },
  async revokeToken(q: SqlClient, id: string, userId: string, at: Date) {
    const r = await q.query(
      "update api_tokens set revoked_at = $3 where id = $1 and user_id = $2 and revoked_at is null",
      [id, userId, at],
    );
    return (r.affectedRows ?? 0) > 0;
  },

  async insertLink(q: SqlClient, l: LinkRow & { token_hash: string }) {
    await q.query(
      `insert into one_time_links (id, kind, token_hash, email, role, developer_id, created_by, expires_at, created_at)
       values ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
      [l.id, l.kind, l.token_hash, l.email, l.role, l.developer_id, l.created_by, l.expires_at, l.created_at],
    );
  },
  async linkByHash(q: SqlClient, hash: string) {
    return (await q.query<LinkRow>("select * from one_time_links where token_hash = $1", [hash])).rows[0];
  },
  async useLink(q: SqlClient, id: string, at: Date) {
    const r = await q.query("update one_time_links set used_at = $2 where id = $1 and used_at is null", [
      id,
      at,
    ]);
    return (r.affectedRows ?? 0) > 0;
  },
  async expireSetupLinks(q: SqlClient, at: Date) {
    await q.query("update one_time_links set used_at = $1 where kind = 'setup' and used_at is null", [at]);
  },
  async listInvites(q: SqlClient) {
    return (
      await q.query<LinkRow>(
        "select * from one_time_links where kind = 'invite' order by created_at desc limit 200",
      )
    ).rows;
  },

  /** Per-address failure counter with a fixed window; returns the count after this failure. */
  async addressFailure(q: SqlClient, address: string, at: Date, windowMs: number) {
    const r = await q.query<{ failures: number }>(
      `insert into login_failures (address, window_start, failures) values ($1, $2, 1)
       on conflict (address) do update set
         failures = case when login_failures.window_start < $3 then 1 else login_failures.failures + 1 end,
         window_start = case when login_failures.window_start < $3 then $2 else login_failures.window_start end
       returning failures`,
      [address, at, new Date(at.getTime() - windowMs)],
    );
    return r.rows[0]?.failures ?? 1;
  },
  async addressFailures(q: SqlClient, address: string, at: Date, windowMs: number) {
    const r = await q.query<{ failures: number; window_start: Date }>(
      "select failures, window_start from login_failures where address = $1 and window_start >= $2",
      [address, new Date(at.getTime() - windowMs)],
    );
    return r.rows[0];
  },
};
