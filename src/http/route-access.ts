import type { Permission } from "../auth/permissions.ts";
import type { Role, TokenScope } from "../core/context.ts";

/**
 * Every route under /api declares who may call it in `config.access`; the server refuses to start
 * with a route that does not (fail closed).
 * - public: anyone, signed in or not (sign-in, setup, invite acceptance, health).
 * - permission: a staff role holding it (see auth/permissions.ts).
 * - roles: any of the listed roles (e.g. the developer portal's own routes).
 * - signedIn: any signed-in account (its own session, tokens, profile).
 * `pendingMfa` lets a session that has not finished its second factor reach the route (MFA and
 * enrolment routes, sign-out). `scope` is the API-token scope needed (default: read for GET, else write).
 */
export type RouteAccess =
  | { public: true }
  | { permission: Permission; scope?: TokenScope }
  | { roles: readonly Role[]; scope?: TokenScope; pendingMfa?: boolean }
  | { signedIn: true; scope?: TokenScope; pendingMfa?: boolean; sessionOnly?: boolean };

declare module "fastify" {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}
