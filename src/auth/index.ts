export { authRoutes } from "./auth.routes.ts";
export type { AuthService, PublicUser, SessionGrant } from "./auth.service.ts";
export { createAuthService, SESSION_COOKIE } from "./auth.service.ts";
export { type Permission, permissions, roleHas } from "./permissions.ts";
