/** Who is acting and from where: passed from the HTTP layer (or CLI, or scheduler) into services. */
export const roles = ["admin", "security", "manager", "auditor", "developer"] as const;
export type Role = (typeof roles)[number];

export const tokenScopes = ["read", "write", "ingest"] as const;
export type TokenScope = (typeof tokenScopes)[number];

export interface Actor {
  kind: "user" | "system" | "anonymous";
  userId?: string;
  role?: Role;
  /** Set for role "developer": the developer record this account belongs to. */
  developerId?: string;
  /** Set when the request came with an API token rather than a session. */
  tokenId?: string;
  scopes?: TokenScope[];
  label: string;
}

export interface RequestMeta {
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
}

export interface Ctx {
  actor: Actor;
  meta: RequestMeta;
}

export const systemCtx = (label = "system"): Ctx => ({ actor: { kind: "system", label }, meta: {} });
export const anonymousCtx = (meta: RequestMeta): Ctx => ({
  actor: { kind: "anonymous", label: "anonymous" },
  meta,
});
