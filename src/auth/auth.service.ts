import { randomBytes, randomUUID } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { Secret, TOTP } from "otpauth";
import QRCode from "qrcode";
import type { AuditService } from "../audit/index.ts";
import type { Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import type { Actor, Ctx, RequestMeta, Role, TokenScope } from "../core/context.ts";
import { AppError, conflict, notFound } from "../core/errors.ts";
import type { Sealer } from "../crypto/keyring.ts";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../crypto/passwords.ts";
import { hashSecret, newSecret } from "../crypto/tokens.ts";
import type { AuthState } from "../http/guard.ts";
import type { Store } from "../store/store.ts";
import { type LinkRow, authRepo as repo, type TokenRow, type UserRow } from "./auth.repo.ts";

export const SESSION_COOKIE = "__Host-warden_session";
const TOKEN_PREFIX = "wdn_";
const MFA_ROLES: readonly Role[] = ["admin", "security", "developer"];
const SETUP_LINK_TTL_MS = 60 * 60 * 1000;
const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const ADDRESS_WINDOW_MS = 15 * 60 * 1000;
const ADDRESS_MAX_FAILURES = 30;

export interface SessionGrant {
  token: string;
  csrfToken: string;
  mfa: "ok" | "required" | "enrolment_required";
  expiresAt: Date;
  user: PublicUser;
}

export interface PublicUser {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  developerId: string | null;
  totpEnabled: boolean;
  lockedUntil: string | null;
  disabled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
}

export const presentUser = (u: UserRow): PublicUser => ({
  id: u.id,
  email: u.email,
  displayName: u.display_name,
  role: u.role,
  developerId: u.developer_id,
  totpEnabled: u.totp_enabled,
  lockedUntil: u.locked_until ? new Date(u.locked_until).toISOString() : null,
  disabled: u.disabled_at !== null,
  lastLoginAt: u.last_login_at ? new Date(u.last_login_at).toISOString() : null,
  createdAt: new Date(u.created_at).toISOString(),
});

export const presentToken = (t: TokenRow) => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  scopes: t.scopes,
  expiresAt: new Date(t.expires_at).toISOString(),
  lastUsedAt: t.last_used_at ? new Date(t.last_used_at).toISOString() : null,
  revoked: t.revoked_at !== null,
  createdAt: new Date(t.created_at).toISOString(),
});

const presentInvite = (l: LinkRow, now: Date) => ({
  id: l.id,
  email: l.email,
  role: l.role,
  developerId: l.developer_id,
  expiresAt: new Date(l.expires_at).toISOString(),
  status: l.used_at
    ? ("used" as const)
    : new Date(l.expires_at) <= now
      ? ("expired" as const)
      : ("pending" as const),
  createdAt: new Date(l.created_at).toISOString(),
});

export function checkPasswordStrength(password: string, email: string): void {
  const problems: string[] = [];
  if (password.length < 12) problems.push("use at least 12 characters");
  if (password.length > 256) problems.push("use at most 256 characters");
  const name = email.split("@")[0]?.toLowerCase();
  if (name && password.toLowerCase().includes(name))
    problems.push("leave out the name of your e-mail address (before the @)");
  if (problems.length) {
    const message = problems.join("; ");
    throw new AppError("validation_failed", `password: ${message}`, {
      fields: [{ field: "body/password", message }],
    });
  }
}

export interface AuthDeps {
  store: Store;
  clock: Clock;
  config: Config;
  audit: AuditService;
  sealer: Sealer;
  /** Looks up a developer's email (for invites); provided by the people feature. */
  developerEmail: (id: string) => Promise<string | undefined>;
}

export function createAuthService(deps: AuthDeps) {
  const { store, clock, config, audit, sealer } = deps;
  const anon: Actor = { kind: "anonymous", label: "anonymous" };
  const actorOf = (
    u: Pick<UserRow, "id" | "role" | "developer_id" | "email">,
    extra: Partial<Actor> = {},
  ): Actor => ({
    kind: "user",
    userId: u.id,
    role: u.role,
    ...(u.developer_id ? { developerId: u.developer_id } : {}),
    label: u.email,
    ...extra,
  });
  const mfaState = (u: UserRow): SessionGrant["mfa"] =>
    u.totp_enabled ? "required" : MFA_ROLES.includes(u.role) ? "enrolment_required" : "ok";

  async function newSession(u: UserRow, meta: RequestMeta, mfaOk: boolean): Promise<SessionGrant> {
    const token = randomBytes(32).toString("base64url");
    const csrfToken = randomBytes(24).toString("base64url");
    const now = clock.now();
    const expiresAt = new Date(now.getTime() + config.session.absoluteHours * 3600_000);
    await repo.insertSession(store, {
      id: hashSecret(token),
      user_id: u.id,
      csrf_token: csrfToken,
      mfa_ok: mfaOk,
      created_at: now,
      last_seen_at: now,
      expires_at: expiresAt,
      revoked_at: null,
      ip: meta.ip ?? null,
      user_agent: meta.userAgent?.slice(0, 512) ?? null,
    });
    return { token, csrfToken, mfa: mfaOk ? "ok" : mfaState(u), expiresAt, user: presentUser(u) };
  }

  /** Resolves the caller from the session cookie or a bearer token; never throws for a bad credential. */
  async function authenticate(req: FastifyRequest, _meta: RequestMeta): Promise<AuthState> {
    const header = req.headers.authorization;
    const now = clock.now();
    if (header?.startsWith("Bearer ")) {
      const secret = header.slice(7).trim();
      const t = secret.startsWith(TOKEN_PREFIX)
        ? await repo.tokenWithUser(store, hashSecret(secret))
        : undefined;
      if (!t || t.revoked_at || new Date(t.expires_at) <= now || t.u_disabled_at)
        return { actor: anon, via: "none" };
      const u = { id: t.user_id, email: t.u_email, role: t.u_role, developer_id: t.u_developer_id };
      // Write last-used at most once a minute: tokens are used by busy collectors.
      if (!t.last_used_at || now.getTime() - new Date(t.last_used_at).getTime() > 60_000) {
        await repo.touchToken(store, t.id, now);
      }
      return {
        actor: actorOf(u, { tokenId: t.id, scopes: t.scopes, label: `${u.email} (token ${t.name})` }),
        via: "token",
      };
    }
    const cookieValue = req.cookies?.[SESSION_COOKIE];
    if (!cookieValue) return { actor: anon, via: "none" };
    const s = await repo.sessionWithUser(store, hashSecret(cookieValue));
    if (!s || s.revoked_at || s.u_disabled_at) return { actor: anon, via: "none" };
    const idleLimit = new Date(s.last_seen_at).getTime() + config.session.idleMinutes * 60_000;
    if (new Date(s.expires_at) <= now || idleLimit <= now.getTime()) return { actor: anon, via: "none" };
    const u = { id: s.user_id, email: s.u_email, role: s.u_role, developer_id: s.u_developer_id };
    if (now.getTime() - new Date(s.last_seen_at).getTime() > 30_000)
      await repo.touchSession(store, s.id, now);
    return {
      actor: actorOf(u),
      via: "session",
      session: {
        id: s.id,
        csrfToken: s.csrf_token,
        mfaOk: s.mfa_ok,
        mfaEnrolmentRequired: !s.mfa_ok && !s.u_totp_enabled,
      },
    };
  }

  async function guardAddress(meta: RequestMeta) {
    if (!meta.ip) return;
    const f = await repo.addressFailures(store, meta.ip, clock.now(), ADDRESS_WINDOW_MS);
    if (f && f.failures >= ADDRESS_MAX_FAILURES) {
      const retry = Math.ceil(
        (new Date(f.window_start).getTime() + ADDRESS_WINDOW_MS - clock.now().getTime()) / 1000,
      );
      throw new AppError("rate_limited", "Too many failed sign-ins from your address; wait and try again", {
        retryAfterSeconds: Math.max(retry, 1),
      });
    }
  }

  /** Counts a failed password or code: per account (lockout) and per address (throttle). */
  async function fail(ctx: Ctx, u: UserRow | undefined, action: string, reason: string) {
    const now = clock.now();
    await store.tx(async (q) => {
      if (ctx.meta.ip) await repo.addressFailure(q, ctx.meta.ip, now, ADDRESS_WINDOW_MS);
      let locked = false;
      if (u) {
        const count = (await repo.recordFailure(q, u.id, null)) ?? 0;
        if (count >= config.login.maxFailures) {
          await repo.lock(q, u.id, new Date(now.getTime() + config.login.lockoutMinutes * 60_000));
          locked = true;
        }
      }
      await audit.record(
        q,
        { ...ctx, actor: u ? actorOf(u) : anon },
        {
          action,
          target: u ? { type: "user", id: u.id } : undefined,
          outcome: "failure",
          summary: { reason, ...(u ? {} : { unknownAccount: true }), ...(locked ? { locked: true } : {}) },
        },
      );
      if (locked) {
        await audit.record(q, ctx, {
          action: "auth.lockout",
          target: { type: "user", id: u!.id },
          summary: { minutes: config.login.lockoutMinutes },
        });
      }
    });
  }

  function assertNotLocked(u: UserRow) {
    const now = clock.now();
    if (u.locked_until && new Date(u.locked_until) > now) {
      const seconds = Math.ceil((new Date(u.locked_until).getTime() - now.getTime()) / 1000);
      throw new AppError(
        "locked",
        `This account is locked after too many failed attempts. Try again in ${Math.ceil(seconds / 60)} minute(s) or ask an admin to unlock it.`,
        { retryAfterSeconds: seconds },
      );
    }
  }

  async function login(ctx: Ctx, input: { email: string; password: string }): Promise<SessionGrant> {
    await guardAddress(ctx.meta);
    const u = await repo.userByEmail(store, input.email);
    if (u) assertNotLocked(u);
    const ok = await verifyPassword(input.password, u?.password_hash ?? DUMMY_PASSWORD_HASH);
    if (!u || !ok || u.disabled_at) {
      await fail(ctx, u, "auth.login", u?.disabled_at ? "account disabled" : "wrong email or password");
      throw new AppError("unauthenticated", "Wrong email or password");
    }
    const grant = await newSession(u, ctx.meta, mfaState(u) === "ok");
    await store.tx(async (q) => {
      if (grant.mfa === "ok") await repo.clearFailures(q, u.id, clock.now());
      await audit.record(
        q,
        { ...ctx, actor: actorOf(u) },
        {
          action: "auth.login",
          target: { type: "user", id: u.id },
          summary: { mfa: grant.mfa },
        },
      );
    });
    return grant;
  }

  function totpFor(u: UserRow, secretBase32: string) {
    return new TOTP({
      issuer: "Warden",
      label: u.email,
      algorithm: "SHA1",
      digits: 6,
      period: 30,
      secret: Secret.fromBase32(secretBase32),
    });
  }

  /** Checks a code and consumes its time step, so the same code cannot be replayed within its window. */
  async function acceptTotp(u: UserRow, secret: string, code: string): Promise<boolean> {
    const now = clock.now().getTime();
    const delta = totpFor(u, secret).validate({ token: code, window: 1, timestamp: now });
    if (delta === null) return false;
    return repo.consumeTotpStep(store, u.id, Math.floor(now / 30_000) + delta);
  }

  async function totpSecretOf(u: UserRow): Promise<string | undefined> {
    if (!u.totp_secret) return undefined;
    return (await sealer.open(u.totp_secret, { table: "users", id: u.id, column: "totp_secret" })).toString(
      "utf8",
    );
  }

  /** Second step of sign-in: a TOTP code or a recovery code. Rotates the session id on success. */
  async function verifyMfa(
    ctx: Ctx,
    auth: AuthState,
    input: { code?: string | undefined; recoveryCode?: string | undefined },
  ): Promise<SessionGrant> {
    const u = auth.actor.userId ? await repo.userById(store, auth.actor.userId) : undefined;
    if (!u || !auth.session) throw new AppError("unauthenticated", "Sign in first");
    if (!u.totp_enabled) throw new AppError("bad_request", "Set up an authenticator first (TOTP enrolment)");
    assertNotLocked(u);
    let ok = false;
    let usedRecovery = false;
    if (input.code) {
      const secret = await totpSecretOf(u);
      ok = !!secret && (await acceptTotp(u, secret, input.code));
    } else if (input.recoveryCode) {
      const h = hashSecret(input.recoveryCode.trim().toLowerCase());
      const remaining = u.recovery_codes.filter((c) => c !== h);
      if (remaining.length < u.recovery_codes.length) {
        ok = true;
        usedRecovery = true;
        await repo.setRecoveryCodes(store, u.id, remaining);
      }
    }
    if (!ok) {
      await fail(ctx, u, "auth.mfa", "wrong code");
      throw new AppError(
        "unauthenticated",
        "That code is not valid; check your authenticator app's time and retry",
      );
    }
    await repo.revokeSession(store, auth.session.id, clock.now());
    const grant = await newSession(u, ctx.meta, true);
    await store.tx(async (q) => {
      await repo.clearFailures(q, u.id, clock.now());
      await audit.record(q, ctx, {
        action: "auth.mfa",
        target: { type: "user", id: u.id },
        summary: { method: usedRecovery ? "recovery_code" : "totp" },
      });
    });
    return grant;
  }

  async function startTotpEnrolment(ctx: Ctx) {
    const u = await repo.userById(store, ctx.actor.userId ?? "");
    if (!u) throw new AppError("unauthenticated", "Sign in first");
    if (u.totp_enabled)
      throw conflict("An authenticator is already set up; ask an admin to reset it to enrol another");
    const secret = new Secret({ size: 20 });
    const sealed = await sealer.seal("totp", secret.base32, {
      table: "users",
      id: u.id,
      column: "totp_secret",
    });
    await store.tx(async (q) => {
      await repo.setTotp(q, u.id, sealed, false, [], clock.now());
      await audit.record(q, ctx, {
        action: "auth.totp.enrolment_started",
        target: { type: "user", id: u.id },
      });
    });
    const uri = totpFor(u, secret.base32).toString();
    return {
      secret: secret.base32,
      otpauthUri: uri,
      qrSvg: await QRCode.toString(uri, { type: "svg", margin: 1 }),
    };
  }

  async function confirmTotpEnrolment(ctx: Ctx, auth: AuthState, code: string) {
    const u = await repo.userById(store, ctx.actor.userId ?? "");
    if (!u || !auth.session) throw new AppError("unauthenticated", "Sign in first");
    if (u.totp_enabled) throw conflict("An authenticator is already set up");
    const secret = await totpSecretOf(u);
    if (!secret) throw new AppError("bad_request", "Start the enrolment first (POST /auth/totp/setup)");
    if (!(await acceptTotp(u, secret, code))) {
      await fail(ctx, u, "auth.totp.enable", "wrong code");
      throw new AppError(
        "validation_failed",
        "code: that code does not match; check the time on your device",
        {
          fields: [{ field: "body/code", message: "does not match" }],
        },
      );
    }
    const recoveryCodes = Array.from({ length: 10 }, () =>
      randomBytes(9)
        .toString("base64url")
        .toLowerCase()
        .replace(/[^a-z0-9]/g, "x")
        .match(/.{4}/g)!
        .slice(0, 3)
        .join("-"),
    );
    await store.tx(async (q) => {
      await repo.setTotp(
        q,
        u.id,
        u.totp_secret ? Buffer.from(u.totp_secret) : null,
        true,
        recoveryCodes.map(hashSecret),
        clock.now(),
      );
      await repo.clearFailures(q, u.id, clock.now());
      await audit.record(q, ctx, { action: "auth.totp.enabled", target: { type: "user", id: u.id } });
    });
    await repo.revokeSession(store, auth.session.id, clock.now());
    const grant = await newSession({ ...u, totp_enabled: true }, ctx.meta, true);
    return { grant, recoveryCodes };
  }

  async function logout(ctx: Ctx, auth: AuthState, everywhere: boolean) {
    if (!auth.session || !ctx.actor.userId) return 0;
    const userId = ctx.actor.userId;
    return store.tx(async (q) => {
      let n = 1;
      if (everywhere) n = await repo.revokeUserSessions(q, userId, clock.now());
      else await repo.revokeSession(q, auth.session!.id, clock.now());
      await audit.record(q, ctx, {
        action: everywhere ? "auth.logout_all" : "auth.logout",
        target: { type: "user", id: userId },
        summary: { sessions: n },
      });
      return n;
    });
  }

  // --- first admin ---------------------------------------------------------------------------------
  async function setupNeeded() {
    return (await repo.countAdmins(store)) === 0;
  }

  /** Called at start: when no admin exists, retires older setup links and issues a fresh one. */
  async function issueSetupLink(): Promise<string | undefined> {
    if (!(await setupNeeded())) return undefined;
    const token = newSecret("setup_");
    const now = clock.now();
    await store.tx(async (q) => {
      await repo.expireSetupLinks(q, now);
      await repo.insertLink(q, {
        id: randomUUID(),
        kind: "setup",
        token_hash: hashSecret(token),
        email: null,
        role: "admin",
        developer_id: null,
        created_by: null,
        expires_at: new Date(now.getTime() + SETUP_LINK_TTL_MS),
        used_at: null,
        created_at: now,
      });
    });
    return token;
  }

  async function consumeLink(kind: LinkRow["kind"], token: string): Promise<LinkRow> {
    const link = await repo.linkByHash(store, hashSecret(token));
    if (!link || link.kind !== kind) throw new AppError("not_found", "This link is not valid");
    if (link.used_at) throw new AppError("gone", "This link was already used");
    if (new Date(link.expires_at) <= clock.now())
      throw new AppError("gone", "This link has expired; ask for a new one");
    return link;
  }

  async function completeSetup(
    ctx: Ctx,
    input: { token: string; email: string; displayName: string; password: string },
  ) {
    const link = await consumeLink("setup", input.token);
    checkPasswordStrength(input.password, input.email);
    const passwordHash = await hashPassword(input.password);
    const id = randomUUID();
    await store.tx(async (q) => {
      if (!(await repo.useLink(q, link.id, clock.now())))
        throw new AppError("gone", "This link was already used");
      if ((await repo.countAdmins(q)) > 0) throw new AppError("gone", "Warden is already set up");
      await repo.insertUser(q, {
        id,
        email: input.email,
        displayName: input.displayName,
        role: "admin",
        developerId: null,
        passwordHash,
        at: clock.now(),
      });
      await audit.record(
        q,
        { ...ctx, actor: { kind: "user", userId: id, role: "admin", label: input.email } },
        {
          action: "setup.first_admin",
          target: { type: "user", id },
          summary: { email: input.email },
        },
      );
    });
    const u = (await repo.userById(store, id))!;
    return newSession(u, ctx.meta, false);
  }

  // --- invites ----------------------------------------------------------------------------------------
  async function createInvite(
    ctx: Ctx,
    input: { email?: string | undefined; role: Role; developerId?: string | undefined },
  ) {
    if (input.role === "admin" && ctx.actor.role !== "admin")
      throw new AppError("forbidden", "Only an admin can invite an admin");
    if (ctx.actor.role === "security" && !["developer", "auditor", "manager"].includes(input.role)) {
      throw new AppError("forbidden", "Security officers can invite developers, managers and auditors");
    }
    let email = input.email;
    if (input.role === "developer") {
      if (!input.developerId)
        throw new AppError("validation_failed", "developerId: required for a developer invite", {
          fields: [{ field: "body/developerId", message: "required for role developer" }],
        });
      const devEmail = await deps.developerEmail(input.developerId);
      if (!devEmail) throw notFound("developer");
      email = devEmail;
    } else if (input.developerId) {
      throw new AppError("validation_failed", "developerId: only for role developer", {
        fields: [{ field: "body/developerId", message: "only for role developer" }],
      });
    }
    if (!email)
      throw new AppError("validation_failed", "email: required", {
        fields: [{ field: "body/email", message: "required" }],
      });
    if (await repo.userByEmail(store, email)) throw conflict(`An account for ${email} already exists`);
    const token = newSecret("inv_");
    const now = clock.now();
    const row: LinkRow & { token_hash: string } = {
      id: randomUUID(),
      kind: "invite",
      token_hash: hashSecret(token),
      email,
      role: input.role,
      developer_id: input.developerId ?? null,
      created_by: ctx.actor.userId ?? null,
      expires_at: new Date(now.getTime() + INVITE_TTL_MS),
      used_at: null,
      created_at: now,
    };
    await store.tx(async (q) => {
      await repo.insertLink(q, row);
      await audit.record(q, ctx, {
        action: "invite.create",
        target: { type: "invite", id: row.id },
        summary: { email, role: input.role },
      });
    });
    return { invite: presentInvite(row, now), token };
  }

  async function inviteInfo(token: string) {
    const link = await consumeLink("invite", token);
    return {
      email: link.email ?? "",
      role: link.role ?? "developer",
      expiresAt: new Date(link.expires_at).toISOString(),
    };
  }

  async function acceptInvite(ctx: Ctx, input: { token: string; displayName: string; password: string }) {
    const link = await consumeLink("invite", input.token);
    const email = link.email ?? "";
    checkPasswordStrength(input.password, email);
    const passwordHash = await hashPassword(input.password);
    const id = randomUUID();
    await store.tx(async (q) => {
      if (!(await repo.useLink(q, link.id, clock.now())))
        throw new AppError("gone", "This link was already used");
      if (await repo.userByEmail(q, email)) throw conflict(`An account for ${email} already exists`);
      await repo.insertUser(q, {
        id,
        email,
        displayName: input.displayName,
        role: link.role ?? "developer",
        developerId: link.developer_id,
        passwordHash,
        at: clock.now(),
      });
      await audit.record(
        q,
        { ...ctx, actor: { kind: "user", userId: id, label: email } },
        {
          action: "invite.accept",
          target: { type: "user", id },
          summary: { role: link.role, inviteId: link.id },
        },
      );
    });
    const u = (await repo.userById(store, id))!;
    return newSession(u, ctx.meta, mfaState(u) === "ok");
  }

  const listInvites = async () => (await repo.listInvites(store)).map((l) => presentInvite(l, clock.now()));

  // --- API tokens -------------------------------------------------------------------------------------
  async function createToken(ctx: Ctx, input: { name: string; scopes: TokenScope[]; expiresInDays: number }) {
    const secret = newSecret(TOKEN_PREFIX);
    const now = clock.now();
    const row: TokenRow & { token_hash: string } = {
      id: randomUUID(),
      user_id: ctx.actor.userId!,
      name: input.name,
      token_hash: hashSecret(secret),
      prefix: secret.slice(0, TOKEN_PREFIX.length + 6),
      scopes: [...new Set(input.scopes)],
      expires_at: new Date(now.getTime() + input.expiresInDays * 86400_000),
      last_used_at: null,
      revoked_at: null,
      created_at: now,
    };
    await store.tx(async (q) => {
      await repo.insertToken(q, row);
      await audit.record(q, ctx, {
        action: "token.create",
        target: { type: "api_token", id: row.id },
        summary: { name: row.name, scopes: row.scopes, expiresAt: row.expires_at.toISOString() },
      });
    });
    return { token: presentToken(row), secret };
  }

  const listTokens = async (ctx: Ctx) =>
    (await repo.tokensOfUser(store, ctx.actor.userId!)).map(presentToken);

  async function revokeToken(ctx: Ctx, id: string) {
    await store.tx(async (q) => {
      if (!(await repo.revokeToken(q, id, ctx.actor.userId!, clock.now()))) throw notFound("token");
      await audit.record(q, ctx, { action: "token.revoke", target: { type: "api_token", id } });
    });
  }

  // --- account administration ---------------------------------------------------------------------------
  const listUsers = async (limit: number, offset: number) => {
    const { rows, total } = await repo.listUsers(store, limit, offset);
    return { items: rows.map(presentUser), total, limit, offset };
  };

  async function updateUser(
    ctx: Ctx,
    id: string,
    patch: { role?: Role | undefined; disabled?: boolean | undefined; displayName?: string | undefined },
  ) {
    const u = await repo.userById(store, id);
    if (!u) throw notFound("user");
    if (id === ctx.actor.userId && (patch.role || patch.disabled))
      throw new AppError("forbidden", "You cannot change your own role or disable yourself");
    if (patch.role && (patch.role === "developer") !== (u.role === "developer")) {
      throw new AppError(
        "validation_failed",
        "role: developer accounts and staff accounts cannot be converted into each other",
        { fields: [{ field: "body/role", message: "cannot convert between developer and staff" }] },
      );
    }
    await store.tx(async (q) => {
      await repo.updateUser(
        q,
        id,
        {
          ...(patch.role ? { role: patch.role } : {}),
          ...(patch.disabled !== undefined ? { disabledAt: patch.disabled ? clock.now() : null } : {}),
          ...(patch.displayName ? { displayName: patch.displayName } : {}),
        },
        clock.now(),
      );
      if (patch.disabled) await repo.revokeUserSessions(q, id, clock.now());
      if (patch.role && patch.role !== "admin" && u.role === "admin" && (await repo.countAdmins(q)) === 0)
        throw conflict("Warden needs at least one admin");
      await audit.record(q, ctx, {
        action: "user.update",
        target: { type: "user", id },
        summary: { ...patch },
      });
    });
    return presentUser((await repo.userById(store, id))!);
  }

  async function unlockUser(ctx: Ctx, id: string) {
    const u = await repo.userById(store, id);
    if (!u) throw notFound("user");
    await store.tx(async (q) => {
      await repo.clearFailures(q, id, null);
      await audit.record(q, ctx, { action: "user.unlock", target: { type: "user", id } });
    });
  }

  async function resetMfa(ctx: Ctx, id: string) {
    const u = await repo.userById(store, id);
    if (!u) throw notFound("user");
    if (id === ctx.actor.userId)
      throw new AppError("forbidden", "Another admin must reset your authenticator");
    await store.tx(async (q) => {
      await repo.setTotp(q, id, null, false, [], clock.now());
      await repo.revokeUserSessions(q, id, clock.now());
      await audit.record(q, ctx, { action: "user.mfa_reset", target: { type: "user", id } });
    });
  }

  const me = async (ctx: Ctx) => {
    const u = await repo.userById(store, ctx.actor.userId ?? "");
    if (!u) throw new AppError("unauthenticated", "Sign in first");
    return presentUser(u);
  };

  return {
    authenticate,
    login,
    verifyMfa,
    startTotpEnrolment,
    confirmTotpEnrolment,
    logout,
    setupNeeded,
    issueSetupLink,
    completeSetup,
    createInvite,
    inviteInfo,
    acceptInvite,
    listInvites,
    createToken,
    listTokens,
    revokeToken,
    listUsers,
    updateUser,
    unlockUser,
    resetMfa,
    me,
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
