import type { FastifyReply } from "fastify";
import { z } from "zod";
import { idParam, pageOf, pageQuery } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import {
  acceptBody,
  inviteBody,
  inviteSchema,
  loginBody,
  mfaBody,
  sessionResponse,
  setupBody,
  tokenBody,
  tokenSchema,
  totpEnableBody,
  userPatch,
  userSchema,
} from "./auth.schemas.ts";
import { type AuthService, SESSION_COOKIE, type SessionGrant } from "./auth.service.ts";

const tags = ["auth"];
// Sign-in routes are throttled per address in memory as a first line; the durable per-account
// lockout and per-address counter live in the database (see auth.service.ts).
const loginLimit = { max: 20, timeWindow: "1 minute" };

function setSessionCookie(reply: FastifyReply, g: SessionGrant) {
  reply.setCookie(SESSION_COOKIE, g.token, {
    httpOnly: true,
    secure: true,
    sameSite: "strict",
    path: "/",
    expires: g.expiresAt,
  });
  return { user: g.user, csrfToken: g.csrfToken, mfa: g.mfa, expiresAt: g.expiresAt.toISOString() };
}

export function authRoutes(auth: AuthService) {
  return async (api: Api) => {
    api.get(
      "/setup",
      {
        config: { access: { public: true } },
        schema: {
          tags,
          summary: "Whether the first admin still has to be created",
          response: { 200: z.object({ needed: z.boolean() }) },
        },
      },
      async () => ({ needed: await auth.setupNeeded() }),
    );
    api.post(
      "/setup",
      {
        config: { access: { public: true }, rateLimit: loginLimit },
        schema: {
          tags,
          summary: "Create the first admin with the one-time setup token",
          body: setupBody,
          response: { 201: sessionResponse },
        },
      },
      async (req, reply) =>
        reply.status(201).send(setSessionCookie(reply, await auth.completeSetup(req.ctx, req.body))),
    );
    api.post(
      "/auth/login",
      {
        config: { access: { public: true }, rateLimit: loginLimit },
        schema: {
          tags,
          summary: "Sign in with email and password",
          body: loginBody,
          response: { 200: sessionResponse },
        },
      },
      async (req, reply) => setSessionCookie(reply, await auth.login(req.ctx, req.body)),
    );
    api.post(
      "/auth/mfa",
      {
        config: { access: { signedIn: true, pendingMfa: true, sessionOnly: true }, rateLimit: loginLimit },
        schema: {
          tags,
          summary: "Second factor: a TOTP code or a recovery code",
          body: mfaBody,
          response: { 200: sessionResponse },
        },
      },
      async (req, reply) => setSessionCookie(reply, await auth.verifyMfa(req.ctx, req.auth, req.body)),
    );
    api.post(
      "/auth/totp/setup",
      {
        config: { access: { signedIn: true, pendingMfa: true, sessionOnly: true } },
        schema: {
          tags,
          summary: "Start authenticator enrolment (the secret is shown once)",
          response: { 200: z.object({ secret: z.string(), otpauthUri: z.string(), qrSvg: z.string() }) },
        },
      },
      async (req) => auth.startTotpEnrolment(req.ctx),
    );
    api.post(
      "/auth/totp/enable",
      {
        config: { access: { signedIn: true, pendingMfa: true, sessionOnly: true }, rateLimit: loginLimit },
        schema: {
          tags,
          summary: "Confirm enrolment with a code; returns recovery codes once",
          body: totpEnableBody,
          response: { 200: sessionResponse.extend({ recoveryCodes: z.array(z.string()) }) },
        },
      },
      async (req, reply) => {
        const { grant, recoveryCodes } = await auth.confirmTotpEnrolment(req.ctx, req.auth, req.body.code);
        return { ...setSessionCookie(reply, grant), recoveryCodes };
      },
    );
    api.get(
      "/auth/session",
      {
        config: { access: { signedIn: true, pendingMfa: true } },
        schema: {
          tags,
          summary: "The current account and session state",
          response: {
            200: z.object({
              user: userSchema,
              csrfToken: z.string().nullable(),
              mfa: z.enum(["ok", "required", "enrolment_required"]),
              via: z.enum(["session", "token"]),
            }),
          },
        },
      },
      async (req) => {
        const s = req.auth.session;
        return {
          user: await auth.me(req.ctx),
          csrfToken: s?.csrfToken ?? null,
          mfa:
            !s || s.mfaOk
              ? ("ok" as const)
              : s.mfaEnrolmentRequired
                ? ("enrolment_required" as const)
                : ("required" as const),
          via: req.auth.via === "token" ? ("token" as const) : ("session" as const),
        };
      },
    );
    api.post(
      "/auth/logout",
      {
        config: { access: { signedIn: true, pendingMfa: true, sessionOnly: true } },
        schema: {
          tags,
          summary: "Sign out of this session",
          body: z
            .object({ everywhere: z.boolean().default(false) })
            .strict()
            .optional(),
          response: { 200: z.object({ revokedSessions: z.number() }) },
        },
      },
      async (req, reply) => {
        const n = await auth.logout(req.ctx, req.auth, req.body?.everywhere ?? false);
        reply.clearCookie(SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "strict" });
        return { revokedSessions: n };
      },
    );

    api.get(
      "/invites/:token",
      {
        config: { access: { public: true }, rateLimit: loginLimit },
        schema: {
          tags,
          summary: "What an invitation is for",
          params: z.object({ token: z.string().min(10).max(200) }),
          response: { 200: z.object({ email: z.string(), role: z.string(), expiresAt: z.string() }) },
        },
      },
      async (req) => auth.inviteInfo(req.params.token),
    );
    api.post(
      "/invites/accept",
      {
        config: { access: { public: true }, rateLimit: loginLimit },
        schema: {
          tags,
          summary: "Accept an invitation: set a password (an authenticator follows)",
          body: acceptBody,
          response: { 201: sessionResponse },
        },
      },
      async (req, reply) =>
        reply.status(201).send(setSessionCookie(reply, await auth.acceptInvite(req.ctx, req.body))),
    );
    api.post(
      "/invites",
      {
        config: { access: { permission: "invites:write" } },
        schema: {
          tags,
          summary: "Invite a person; the link is returned once",
          body: inviteBody,
          response: { 201: z.object({ invite: inviteSchema, token: z.string(), path: z.string() }) },
        },
      },
      async (req, reply) => {
        const { invite, token } = await auth.createInvite(req.ctx, req.body);
        return reply.status(201).send({ invite, token, path: `/invite#token=${token}` });
      },
    );
    api.get(
      "/invites",
      {
        config: { access: { permission: "invites:write" } },
        schema: {
          tags,
          summary: "Invitations and their state",
          response: { 200: z.object({ items: z.array(inviteSchema) }) },
        },
      },
      async () => ({ items: await auth.listInvites() }),
    );

    api.get(
      "/tokens",
      {
        config: { access: { signedIn: true } },
        schema: {
          tags,
          summary: "Your API tokens",
          response: { 200: z.object({ items: z.array(tokenSchema) }) },
        },
      },
      async (req) => ({ items: await auth.listTokens(req.ctx) }),
    );
    api.post(
      "/tokens",
      {
        config: { access: { signedIn: true, sessionOnly: true } },
        schema: {
          tags,
          summary: "Create an API token (shown once)",
          body: tokenBody,
          response: { 201: z.object({ token: tokenSchema, secret: z.string() }) },
        },
      },
      async (req, reply) => reply.status(201).send(await auth.createToken(req.ctx, req.body)),
    );
    api.delete(
      "/tokens/:id",
      {
        config: { access: { signedIn: true } },
        schema: {
          tags,
          summary: "Revoke one of your API tokens",
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await auth.revokeToken(req.ctx, req.params.id);
        return reply.status(204).send(null);
      },
    );

    api.get(
      "/users",
      {
        config: { access: { permission: "users:read" } },
        schema: {
          tags,
          summary: "Accounts",
          querystring: z.object(pageQuery),
          response: { 200: pageOf(userSchema) },
        },
      },
      async (req) => auth.listUsers(req.query.limit, req.query.offset),
    );
    api.patch(
      "/users/:id",
      {
        config: { access: { permission: "users:write" } },
        schema: {
          tags,
          summary: "Change an account's role, name or disable it",
          params: idParam,
          body: userPatch,
          response: { 200: userSchema },
        },
      },
      async (req) => auth.updateUser(req.ctx, req.params.id, req.body),
    );
    api.post(
      "/users/:id/unlock",
      {
        config: { access: { permission: "users:write" } },
        schema: {
          tags,
          summary: "Unlock an account locked by failed sign-ins",
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await auth.unlockUser(req.ctx, req.params.id);
        return reply.status(204).send(null);
      },
    );
    api.post(
      "/users/:id/reset-mfa",
      {
        config: { access: { permission: "users:write" } },
        schema: {
          tags,
          summary: "Remove an account's authenticator so it enrols again",
          params: idParam,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await auth.resetMfa(req.ctx, req.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
