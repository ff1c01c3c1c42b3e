import { type HttpFake, startHttpFake } from "./http-fake.ts";

/**
 * A local stand-in for GitHub's REST API, following the documented collaborator and repository
 * invitation endpoints (API version 2022-11-28):
 * - PUT /repos/{owner}/{repo}/collaborators/{username} {permission}: 201 + invitation for a new
 *   collaborator, 204 for a user who already has access (permission updated)
 * - GET /repos/{owner}/{repo}/collaborators/{username}: 204 if collaborator, 404 if not
 * - GET /repos/{owner}/{repo}/collaborators/{username}/permission: { permission, role_name, user }
 * - DELETE /repos/{owner}/{repo}/collaborators/{username}: 204
 * - GET /repos/{owner}/{repo}/invitations (per_page, page), PATCH and DELETE .../invitations/{id}
 * Invitations carry `created_at` and `expired`: GitHub expires an invitation not accepted within 7
 * days (it stays listed, `expired: true`, until deleted; it can no longer be accepted). The fake's
 * time is the `now` option (a test's injected clock).
 * Requests need `Authorization: Bearer <token>` (401 otherwise); unknown repositories answer 404.
 */
export interface FakeInvitation {
  login: string;
  permissions: string;
  /** When it was sent (default: when the fake started). */
  createdAt?: Date;
}

export interface GithubFake extends HttpFake {
  collaborators: Map<string, string>;
  invitations: Map<number, FakeInvitation>;
  /** The invitee accepts: the invitation becomes a collaborator (not once it expired, as on GitHub). */
  accept(login: string): void;
  /** The invitee declines: the invitation is gone. */
  decline(login: string): void;
  /** Users who get 204 on PUT (organization members), as GitHub adds them directly. */
  orgMembers: Set<string>;
}

const roleOf: Record<string, string> = {
  pull: "read",
  triage: "triage",
  push: "write",
  maintain: "maintain",
  admin: "admin",
};
const legacyPermission: Record<string, string> = {
  read: "read",
  triage: "read",
  write: "write",
  maintain: "write",
  admin: "admin",
};

const INVITATION_TTL_MS = 7 * 86_400_000;

export async function startGithubFake(options: {
  token: string;
  owner: string;
  repo: string;
  now?: () => Date;
}): Promise<GithubFake> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const collaborators = new Map<string, string>(); // login (lowercase) → role name
  const invitations = new Map<number, FakeInvitation>();
  const orgMembers = new Set<string>();
  let nextId = 1000;
  const repoPath = `/repos/${options.owner}/${options.repo}`;
  const known = (p: Record<string, string>) => p.owner === options.owner && p.repo === options.repo;
  const notFound = {
    status: 404,
    json: { message: "Not Found", documentation_url: "https://docs.github.com/rest" },
  };
  const expired = (inv: FakeInvitation) =>
    now().getTime() - (inv.createdAt ?? started).getTime() >= INVITATION_TTL_MS;
  const invitationJson = (id: number, inv: FakeInvitation) => ({
    id,
    repository: { full_name: `${options.owner}/${options.repo}` },
    invitee: { login: inv.login },
    permissions: inv.permissions,
    created_at: (inv.createdAt ?? started).toISOString(),
    expired: expired(inv),
    url: `${repoPath}/invitations/${id}`,
  });

  const fake = await startHttpFake(
    [
      {
        method: "PUT",
        pattern: "/repos/:owner/:repo/collaborators/:username",
        handler: (req, p) => {
          if (!known(p)) return notFound;
          const permission = (JSON.parse(req.body || "{}") as { permission?: string }).permission ?? "push";
          if (!(permission in roleOf)) return { status: 422, json: { message: "Validation Failed" } };
          const login = p.username!.toLowerCase();
          if (collaborators.has(login) || orgMembers.has(login)) {
            collaborators.set(login, roleOf[permission]!);
            return { status: 204 };
          }
          const id = nextId++;
          invitations.set(id, { login: p.username!, permissions: roleOf[permission]!, createdAt: now() });
          return { status: 201, json: invitationJson(id, invitations.get(id)!) };
        },
      },
      {
        method: "GET",
        pattern: "/repos/:owner/:repo/collaborators/:username",
        handler: (_req, p) =>
          known(p) && collaborators.has(p.username!.toLowerCase()) ? { status: 204 } : notFound,
      },
      {
        method: "GET",
        pattern: "/repos/:owner/:repo/collaborators/:username/permission",
        handler: (_req, p) => {
          if (!known(p)) return notFound;
          const role = collaborators.get(p.username!.toLowerCase());
          return {
            status: 200,
            json: {
              permission: role ? legacyPermission[role] : "none",
              role_name: role ?? "none",
              user: { login: p.username },
            },
          };
        },
      },
      {
        method: "DELETE",
        pattern: "/repos/:owner/:repo/collaborators/:username",
        handler: (_req, p) => {
          if (!known(p)) return notFound;
          collaborators.delete(p.username!.toLowerCase());
          return { status: 204 };
        },
      },
      {
        method: "GET",
        pattern: "/repos/:owner/:repo/invitations",
        handler: (_req, p, url) => {
          if (!known(p)) return notFound;
          const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
          const page = Number(url.searchParams.get("page") ?? 1);
          const all = [...invitations.entries()].map(([id, inv]) => invitationJson(id, inv));
          return { status: 200, json: all.slice((page - 1) * perPage, page * perPage) };
        },
      },
      {
        method: "PATCH",
        pattern: "/repos/:owner/:repo/invitations/:id",
        handler: (req, p) => {
          const inv = invitations.get(Number(p.id));
          if (!known(p) || !inv) return notFound;
          const { permissions } = JSON.parse(req.body || "{}") as { permissions?: string };
          if (!permissions || !Object.values(roleOf).includes(permissions)) {
            return { status: 422, json: { message: "Validation Failed" } };
          }
          inv.permissions = permissions;
          return { status: 200, json: invitationJson(Number(p.id), inv) };
        },
      },
      {
        method: "DELETE",
        pattern: "/repos/:owner/:repo/invitations/:id",
        handler: (_req, p) => {
          if (!known(p) || !invitations.delete(Number(p.id))) return notFound;
          return { status: 204 };
        },
      },
    ],
    {
      authorize: (req) =>
        req.headers.authorization === `Bearer ${options.token}`
          ? null
          : { status: 401, json: { message: "Bad credentials" } },
    },
  );

  return {
    ...fake,
    collaborators,
    invitations,
    orgMembers,
    accept(login) {
      for (const [id, inv] of invitations) {
        if (inv.login.toLowerCase() === login.toLowerCase() && !expired(inv)) {
          collaborators.set(login.toLowerCase(), inv.permissions);
          invitations.delete(id);
        }
      }
    },
    decline(login) {
      for (const [id, inv] of invitations) {
        if (inv.login.toLowerCase() === login.toLowerCase()) invitations.delete(id);
      }
    },
  };
}
