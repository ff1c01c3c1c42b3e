import { type HttpFake, startHttpFake } from "./http-fake.ts";

/**
 * A local stand-in for GitLab's REST API v4, following the documented users and project members
 * endpoints:
 * - GET /users?username=NAME: [] or [{ id, username, state }]
 * - POST /projects/:id/members { user_id, access_level, expires_at }: 201 member, 409 if already one
 * - PUT /projects/:id/members/:user_id { access_level, expires_at }: 200 member
 * - GET /projects/:id/members/:user_id: 200 member or 404
 * - DELETE /projects/:id/members/:user_id: 204, or 404 if not a member
 * `:id` is the numeric id or the URL-encoded full path. Requests need `PRIVATE-TOKEN` (401 otherwise).
 */
export interface GitlabFake extends HttpFake {
  users: Map<string, number>;
  members: Map<number, { access_level: number; expires_at: string | null; state: string }>;
  /** Members added while this is set wait for approval (GitLab's "awaiting" state, e.g. seat limits). */
  awaitingApproval: boolean;
}

export async function startGitlabFake(options: {
  token: string;
  projectId: number;
  projectPath: string;
  users: Record<string, number>;
}): Promise<GitlabFake> {
  const users = new Map(Object.entries(options.users).map(([name, id]) => [name.toLowerCase(), id]));
  const members = new Map<number, { access_level: number; expires_at: string | null; state: string }>();
  const notFound = { status: 404, json: { message: "404 Not found" } };
  const known = (id: string) => id === String(options.projectId) || id === options.projectPath;
  const memberJson = (userId: number) => {
    const name = [...users.entries()].find(([, id]) => id === userId)?.[0] ?? "unknown";
    return { id: userId, username: name, ...members.get(userId)! };
  };
  const validLevel = (l: unknown) => [10, 20, 30, 40, 50].includes(l as number);
  const fake: GitlabFake = {
    ...(await startHttpFake(
      [
        {
          method: "GET",
          pattern: "/api/v4/users",
          handler: (_req, _p, url) => {
            const name = (url.searchParams.get("username") ?? "").toLowerCase();
            const id = users.get(name);
            return { status: 200, json: id === undefined ? [] : [{ id, username: name, state: "active" }] };
          },
        },
        {
          method: "POST",
          pattern: "/api/v4/projects/:id/members",
          handler: (req, p) => {
            if (!known(p.id!)) return notFound;
            const body = JSON.parse(req.body || "{}") as {
              user_id?: number;
              access_level?: number;
              expires_at?: string;
            };
            if (!body.user_id || !validLevel(body.access_level)) {
              return { status: 400, json: { message: { access_level: ["is not included in the list"] } } };
            }
            if (members.has(body.user_id)) return { status: 409, json: { message: "Member already exists" } };
            members.set(body.user_id, {
              access_level: body.access_level!,
              expires_at: body.expires_at ?? null,
              state: fake.awaitingApproval ? "awaiting" : "active",
            });
            return { status: 201, json: memberJson(body.user_id) };
          },
        },
        {
          method: "PUT",
          pattern: "/api/v4/projects/:id/members/:userId",
          handler: (req, p) => {
            const m = members.get(Number(p.userId));
            if (!known(p.id!) || !m) return notFound;
            const body = JSON.parse(req.body || "{}") as { access_level?: number; expires_at?: string };
            if (!validLevel(body.access_level))
              return { status: 400, json: { message: "access_level is invalid" } };
            m.access_level = body.access_level!;
            m.expires_at = body.expires_at ?? null;
            return { status: 200, json: memberJson(Number(p.userId)) };
          },
        },
        {
          method: "GET",
          pattern: "/api/v4/projects/:id/members/:userId",
          handler: (_req, p) =>
            known(p.id!) && members.has(Number(p.userId))
              ? { status: 200, json: memberJson(Number(p.userId)) }
              : notFound,
        },
        {
          method: "DELETE",
          pattern: "/api/v4/projects/:id/members/:userId",
          handler: (_req, p) =>
            known(p.id!) && members.delete(Number(p.userId)) ? { status: 204 } : notFound,
        },
      ],
      {
        authorize: (req) =>
          req.headers["private-token"] === options.token
            ? null
            : { status: 401, json: { message: "401 Unauthorized" } },
      },
    )),
    users,
    members,
    awaitingApproval: false,
  };
  return fake;
}
