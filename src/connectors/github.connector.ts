import { z } from "zod";
import { ConnectorError } from "./connector.errors.ts";
import type {
  CheckResult,
  Connector,
  ConnectorDeps,
  ConnectorGrant,
  ProvisionResult,
} from "./connector.types.ts";
import { httpRequest } from "./http.ts";

/** GitHub's repository roles as the collaborators endpoint names them. */
const githubPermissions = ["pull", "triage", "push", "maintain", "admin"] as const;
type GithubPermission = (typeof githubPermissions)[number];
/** The same roles as invitations and the permission endpoint's `role_name` name them. */
const roleName: Record<GithubPermission, string> = {
  pull: "read",
  triage: "triage",
  push: "write",
  maintain: "maintain",
  admin: "admin",
};

const githubName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "a GitHub owner or repository name");
export const githubLogin = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, "a GitHub username");

export const githubSettingsSchema = z.object({
  /** https://api.github.com, or a GitHub Enterprise Server's https://HOST/api/v3. */
  apiUrl: z.url({ protocol: /^https?$/ }).default("https://api.github.com"),
  owner: githubName,
  repo: githubName,
  /** A token allowed to administer the repository's collaborators; sealed at rest by the caller. */
  token: z.string().min(1).max(500),
  permissions: z
    .object({
      read: z.enum(githubPermissions).default("pull"),
      write: z.enum(githubPermissions).default("push"),
      admin: z.enum(githubPermissions).default("admin"),
    })
    .prefault({}),
  timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
});
export type GithubSettings = z.output<typeof githubSettingsSchema>;
export type GithubSettingsInput = z.input<typeof githubSettingsSchema>;

interface Invitation {
  id: number;
  invitee: { login: string } | null;
  permissions: string;
  created_at?: string;
  /** GitHub's own verdict (documented on the repository-invitation object; absent on older GHES). */
  expired?: boolean;
}

/** GitHub expires repository invitations a user has not accepted after 7 days. */
export const GITHUB_INVITATION_TTL_MS = 7 * 86_400_000;

/**
 * Adds the developer as a repository collaborator and removes them at the end (GitHub has no expiry
 * for collaborators). GitHub answers 201 with an invitation the developer must accept (state "pending")
 * or 204 when the user already has access, e.g. an organization member (state "active"). An invitation
 * not accepted within 7 days expires on GitHub: `check` reports it ("invitation_expired") and
 * `provision` replaces it with a new one.
 */
export function createGithubConnector(
  input: GithubSettingsInput,
  deps: Pick<ConnectorDeps, "fetch"> & Partial<Pick<ConnectorDeps, "clock">>,
): Connector {
  const settings = githubSettingsSchema.parse(input);
  const doFetch = deps.fetch ?? globalThis.fetch;
  const base = `${settings.apiUrl.replace(/\/+$/, "")}/repos/${encodeURIComponent(settings.owner)}/${encodeURIComponent(settings.repo)}`;
  const repoName = `${settings.owner}/${settings.repo}`;
  const headers = {
    accept: "application/vnd.github+json",
    authorization: `Bearer ${settings.token}`,
    "x-github-api-version": "2022-11-28",
    "user-agent": "Warden",
  };
  const call = (
    method: "GET" | "PUT" | "PATCH" | "DELETE",
    path: string,
    doing: string,
    extra: { body?: unknown; accept?: number[] } = {},
  ) =>
    httpRequest({
      fetch: doFetch,
      connector: "github",
      method,
      url: `${base}${path}`,
      headers,
      timeoutMs: settings.timeoutMs,
      doing,
      ...extra,
    });

  const loginOf = (grant: ConnectorGrant): string => {
    const parsed = githubLogin.safeParse(grant.developer.githubUsername);
    if (!parsed.success) {
      throw new ConnectorError({
        connector: "github",
        reason: "invalid_grant",
        retryable: false,
        message: `Developer ${grant.developer.id} has no valid GitHub username registered.`,
      });
    }
    return parsed.data;
  };

  const isExpired = (i: Invitation) =>
    i.expired ??
    (i.created_at !== undefined &&
      deps.clock !== undefined &&
      deps.clock.now().getTime() - Date.parse(i.created_at) >= GITHUB_INVITATION_TTL_MS);
  const invitationFacts = (i: Invitation) => ({
    invitationId: i.id,
    ...(i.created_at ? { invitedAt: i.created_at } : {}),
    expired: isExpired(i),
  });

  /** Every open invitation of the repository addressed to `login` (paginated, 100 a page). */
  async function pendingInvitations(login: string): Promise<Invitation[]> {
    const found: Invitation[] = [];
    for (let page = 1; page <= 50; page++) {
      const r = await call(
        "GET",
        `/invitations?per_page=100&page=${page}`,
        `listing invitations of ${repoName}`,
      );
      const list = Array.isArray(r.json) ? (r.json as Invitation[]) : [];
      found.push(...list.filter((i) => i.invitee?.login.toLowerCase() === login.toLowerCase()));
      if (list.length < 100) break;
    }
    return found;
  }

  return {
    kind: "github",

    async provision(grant): Promise<ProvisionResult> {
      const login = loginOf(grant);
      const permission = settings.permissions[grant.level];
      const doing = `adding ${login} to ${repoName}`;
      // An invitation still open is updated rather than duplicated; an expired one is replaced.
      const open = await pendingInvitations(login);
      for (const expired of open.filter(isExpired)) {
        await call("DELETE", `/invitations/${expired.id}`, doing, { accept: [404] });
      }
      const pending = open.find((i) => !isExpired(i));
      if (pending) {
        await call("PATCH", `/invitations/${pending.id}`, doing, {
          body: { permissions: roleName[permission] },
        });
        return {
          state: "pending",
          externalRef: login,
          details: { repository: repoName, permission, ...invitationFacts(pending) },
        };
      }
      const r = await call("PUT", `/collaborators/${encodeURIComponent(login)}`, doing, {
        body: { permission },
      });
      if (r.status === 201) {
        const invitation = r.json as Invitation | null;
        return {
          state: "pending",
          externalRef: login,
          details: {
            repository: repoName,
            permission,
            ...(invitation ? invitationFacts(invitation) : { invitationId: null }),
          },
        };
      }
      return { state: "active", externalRef: login, details: { repository: repoName, permission } };
    },

    async revoke(grant) {
      const login = loginOf(grant);
      const doing = `removing ${login} from ${repoName}`;
      for (const invitation of await pendingInvitations(login)) {
        await call("DELETE", `/invitations/${invitation.id}`, doing, { accept: [404] });
      }
      await call("DELETE", `/collaborators/${encodeURIComponent(login)}`, doing, { accept: [404] });
    },

    async check(grant): Promise<CheckResult> {
      const login = loginOf(grant);
      const doing = `checking ${login} on ${repoName}`;
      const member = await call("GET", `/collaborators/${encodeURIComponent(login)}`, doing, {
        accept: [404],
      });
      if (member.status === 404) {
        const open = await pendingInvitations(login);
        const pending = open.find((i) => !isExpired(i));
        if (pending) return { live: false, state: "pending", details: invitationFacts(pending) };
        if (open[0]) return { live: false, state: "invitation_expired", details: invitationFacts(open[0]) };
        return { live: false, state: "absent", details: {} };
      }
      const p = await call("GET", `/collaborators/${encodeURIComponent(login)}/permission`, doing);
      const json = (p.json ?? {}) as { permission?: string; role_name?: string };
      return { live: true, state: "active", details: { permission: json.permission, role: json.role_name } };
    },

    async close() {},
  };
}
