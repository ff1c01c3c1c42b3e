import type { Role } from "../core/context.ts";

/**
 * Who may do what, in one table kept apart from the handlers. Routes name a permission; the HTTP
 * layer checks it before the handler runs. Developers (external people) reach only their own records,
 * through the `self` routes, and never through these permissions.
 */
const staff = ["admin", "security", "manager", "auditor"] as const;
const leads = ["admin", "security"] as const;

export const permissions = {
  "people:read": staff,
  "people:write": ["admin", "security", "manager"],
  "agreements:read": staff,
  "agreements:write": leads,
  "documents:read": ["admin", "security", "auditor"],
  "vetting:read": staff,
  "vetting:write": leads,
  "training:read": staff,
  "training:write": ["admin", "security", "manager"],
  "gate:read": staff,
  "settings:read": ["admin", "security", "auditor"],
  "settings:write": leads,
  "users:read": ["admin", "security", "auditor"],
  "users:write": ["admin"],
  "invites:write": leads,
  "audit:read": ["admin", "security", "auditor"],
  // Sending events to the log (POST /ingest/events), with an API token of scope "ingest".
  "events:ingest": leads,
  "scans:read": staff,
  "scans:write": ["admin", "security", "manager"],
  "reviews:read": staff,
  "reviews:write": leads,
  /** Managers decide only on grants of resources they own (checked by the reviews service). */
  "reviews:decide": ["admin", "security", "manager"],
  // Access (issue 3): the catalog, requests, grants. Deciding and revoking are further limited by
  // the service to the resource's owners and security officers (admins and security may revoke any).
  "access:read": staff,
  "access:admin": leads,
  "access:decide": ["admin", "security", "manager"],
  "access:revoke": ["admin", "security", "manager"],
  "alerts:read": ["admin", "security", "auditor"],
  "alerts:write": leads,
  /** Shares: managers see the ones they sent; leads and auditors see all (shares:read-all). */
  "shares:read": staff,
  "shares:write": ["admin", "security", "manager"],
  "shares:read-all": ["admin", "security", "auditor"],
  "shares:revoke-any": leads,
  "scans:schedule": leads,
  "keys:read": ["admin", "security", "auditor"],
  "keys:write": ["admin"],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissions;

export function roleHas(role: Role | undefined, permission: Permission): boolean {
  return role !== undefined && (permissions[permission] as readonly Role[]).includes(role);
}
