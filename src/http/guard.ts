import type { FastifyRequest } from "fastify";
import { roleHas } from "../auth/permissions.ts";
import type { Actor, TokenScope } from "../core/context.ts";
import { AppError } from "../core/errors.ts";
import { safeEqual } from "../crypto/tokens.ts";
import type { RouteAccess } from "./route-access.ts";

/** How the current request authenticated. */
export interface AuthState {
  actor: Actor;
  via: "session" | "token" | "none";
  session?: { id: string; csrfToken: string; mfaOk: boolean; mfaEnrolmentRequired: boolean };
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Applies a route's declared access to the request: authentication, second factor, CSRF for cookie
 * sessions, API-token scope, then role or permission. Throws AppError; the error handler renders it.
 */
export function enforceAccess(req: FastifyRequest, access: RouteAccess): void {
  if ("public" in access) return;
  const { auth } = req;
  if (auth.via === "none" || auth.actor.kind !== "user") {
    throw new AppError("unauthenticated", "Sign in first (session cookie or Authorization: Bearer token)");
  }
  const pendingMfaOk = "pendingMfa" in access && access.pendingMfa === true;
  if (auth.via === "session" && auth.session && !auth.session.mfaOk && !pendingMfaOk) {
    throw new AppError(
      "mfa_required",
      auth.session.mfaEnrolmentRequired
        ? "Set up your authenticator app (TOTP) before using Warden"
        : "Enter the code from your authenticator app first",
      { mfa: auth.session.mfaEnrolmentRequired ? "enrolment_required" : "required" },
    );
  }
  if (auth.via === "session" && !SAFE.has(req.method)) {
    const sent = req.headers["x-csrf-token"];
    if (typeof sent !== "string" || !auth.session || !safeEqual(sent, auth.session.csrfToken)) {
      throw new AppError("csrf_failed", "Missing or wrong X-CSRF-Token header for this session");
    }
  }
  if (auth.via === "token") {
    if ("sessionOnly" in access && access.sessionOnly) {
      throw new AppError("forbidden", "This action needs a signed-in session, not an API token");
    }
    const needed: TokenScope = access.scope ?? (SAFE.has(req.method) ? "read" : "write");
    const scopes = auth.actor.scopes ?? [];
    const ok =
      needed === "read" ? scopes.includes("read") || scopes.includes("write") : scopes.includes(needed);
    if (!ok) throw new AppError("forbidden", `This API token lacks the "${needed}" scope`);
  }
  const role = auth.actor.role;
  if ("permission" in access && !roleHas(role, access.permission)) {
    throw new AppError("forbidden", `Your role (${role}) may not do this`);
  }
  if ("roles" in access && (!role || !access.roles.includes(role))) {
    throw new AppError("forbidden", `Your role (${role}) may not do this`);
  }
}
