import { type HttpFake, startHttpFake } from "./http-fake.ts";

/**
 * A local stand-in for GitLab's REST API v4, following the documented users and project members
 * endpoints:
 * - GET /users?username=NAME: [] or [{ id, username, state }]
 * - POST /projects/:id/members { user_id, access_level, expires_at }: 201 member, 409 if already one
 * - PUT /projects/:id/members/:user_id { access_level, expires_at }: 200 member
 * - GET /projects/:id/members/:user_id: 200 member or 404
 * - DELETE /projects/:id/members/:user_id: 204, or 404 if not a member
 * - GET /users?search=EMAIL: the user whose e-mail it is (an administrator's token sees every e-mail)
 * - Invitations API: POST /projects/:id/invitations { email, access_level, expires_at } answers 201
 *   { status: "success" } or { status: "error", message: { EMAIL: why } }; GET /projects/:id/invitations
 *   (query = e-mail search) lists pending ones; PUT and DELETE /projects/:id/invitations/:email.
 * `:id` is the numeric id or the URL-encoded full path. Requests need `PRIVATE-TOKEN` (401 otherwise).
 */
export interface FakeGitlabInvitation {
  access_level: number;
  expires_at: string | null;
  created_at: string;
}

export interface GitlabFake extends HttpFake {
  users: Map<string, number>;
  /** User id → e-mail address. */
  emails: Map<number, string>;
  /** Pending e-mail invitations by (lowercase) address. */
  invitations: Map<string, FakeGitlabInvitation>;
  /** The invitee signs up as `username` (user `id`) and accepts: they become a member. */
  acceptInvitation(email: string, username: string, id: number): void;
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
  const emails = new Map<number, string>();
  const invitations = new Map<string, FakeGitlabInvitation>();
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
            const search = url.searchParams.get("search")?.toLowerCase();
            if (search !== undefined) {
              const found = [...emails.entries()].filter(([, e]) => e === search).map(([id]) => id);
              return {
                status: 200,
                json: found.map((id) => ({
                  id,
                  username: [...users.entries()].find(([, u]) => u === id)?.[0],
                  state: "active",
                })),
              };
            }
            const name = (url.searchParams.get("username") ?? "").toLowerCase();
            const id = users.get(name);
            return { status: 200, json: id === undefined ? [] : [{ id, username: name, state: "active" }] };
          },
        },
        {
          method: "GET",
          pattern: "/api/v4/projects/:id/invitations",
          handler: (_req, p, url) => {
            if (!known(p.id!)) return notFound;
            const query = (url.searchParams.get("query") ?? "").toLowerCase();
            return {
              status: 200,
              json: [...invitations.entries()]
                .filter(([email]) => email.includes(query))
                .map(([email, inv]) => ({ invite_email: email, ...inv, user_name: null })),
            };
          },
        },
        {
          method: "POST",
          pattern: "/api/v4/projects/:id/invitations",
          handler: (req, p) => {
            if (!known(p.id!)) return notFound;
            const body = JSON.parse(req.body || "{}") as {
              email?: string;
              access_level?: number;
              expires_at?: string;
            };
            if (!body.email || !validLevel(body.access_level)) {
              return { status: 400, json: { message: "400 Bad request - email, access_level are missing" } };
            }
            const email = body.email.toLowerCase();
            if (invitations.has(email)) {
              return {
                status: 201,
                json: { status: "error", message: { [email]: "Invite email has already been taken" } },
              };
            }
            invitations.set(email, {
              access_level: body.access_level!,
              expires_at: body.expires_at ?? null,
              created_at: new Date().toISOString(),
            });
            return { status: 201, json: { status: "success" } };
          },
        },
        {
          method: "PUT",
          pattern: "/api/v4/projects/:id/invitations/:email",
          handler: (req, p) => {
            const inv = invitations.get(p.email!.toLowerCase());
            if (!known(p.id!) || !inv) return notFound;
            const body = JSON.parse(req.body || "{}") as { access_level?: number; expires_at?: string };
            if (body.access_level !== undefined) {
              if (!validLevel(body.access_level)) return { status: 400, json: { message: "invalid level" } };
              inv.access_level = body.access_level;
            }
            if (body.expires_at !== undefined) inv.expires_at = body.expires_at;
            return { status: 200, json: { invite_email: p.email!.toLowerCase(), ...inv } };
          },
        },
        {
          method: "DELETE",
          pattern: "/api/v4/projects/:id/invitations/:email",
          handler: (_req, p) =>
            known(p.id!) && invitations.delete(p.email!.toLowerCase()) ? { status: 204 } : notFound,
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
    emails,
    invitations,
    awaitingApproval: false,
    acceptInvitation(email, username, id) {
      const inv = invitations.get(email.toLowerCase());
      if (!inv) throw new Error(`no pending invitation for ${email}`);
      invitations.delete(email.toLowerCase());
      users.set(username.toLowerCase(), id);
      emails.set(id, email.toLowerCase());
      members.set(id, { access_level: inv.access_level, expires_at: inv.expires_at, state: "active" });
    },
  };
  return fake;
}
