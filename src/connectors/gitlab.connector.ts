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

/** GitLab access levels (Guest 10, Reporter 20, Developer 30, Maintainer 40, Owner 50). */
const accessLevel = z.union([z.literal(10), z.literal(20), z.literal(30), z.literal(40), z.literal(50)]);

export const gitlabUsername = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/, "a GitLab username");

export const gitlabSettingsSchema = z.object({
  /** https://gitlab.com/api/v4 or a self-managed instance's /api/v4. */
  apiUrl: z.url({ protocol: /^https?$/ }).default("https://gitlab.com/api/v4"),
  /** Numeric project id or its full path ("group/sub/project"). */
  project: z.union([z.number().int().positive(), z.string().regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/)]),
  token: z.string().min(1).max(500),
  accessLevels: z
    .object({ read: accessLevel.default(20), write: accessLevel.default(30), admin: accessLevel.default(40) })
    .prefault({}),
  /**
   * Also set GitLab's own membership expiry, as a backstop should Warden's revocation never run. It is a
   * date, so the day after the grant's end is used: GitLab must never cut access before Warden does.
   */
  setExpiry: z.boolean().default(true),
  /**
   * When the developer has no GitLab account under a registered username, invite their e-mail address
   * instead (GitLab's Invitations API): the access stays pending until they accept and sign up. Off by
   * default: whoever reads that mailbox gets the access. Revocation deletes a pending invitation, and
   * finds an accepted one's account by username or, failing that, by the e-mail (the token must be an
   * administrator's to search private e-mails).
   */
  inviteByEmail: z.boolean().default(false),
  timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
});
export type GitlabSettings = z.output<typeof gitlabSettingsSchema>;
export type GitlabSettingsInput = z.input<typeof gitlabSettingsSchema>;

interface Invitation {
  invite_email: string;
  created_at?: string;
  access_level?: number;
  expires_at?: string | null;
}

const emailAddress = z.email();

interface Member {
  id: number;
  username: string;
  access_level: number;
  expires_at: string | null;
  state?: string;
}

/** Adds the developer as a project member with the mapped access level and removes them at the end. */
export function createGitlabConnector(
  input: GitlabSettingsInput,
  deps: Pick<ConnectorDeps, "fetch">,
): Connector {
  const settings = gitlabSettingsSchema.parse(input);
  const doFetch = deps.fetch ?? globalThis.fetch;
  const api = settings.apiUrl.replace(/\/+$/, "");
  const project = `${api}/projects/${encodeURIComponent(String(settings.project))}`;
  const headers = { "private-token": settings.token, "user-agent": "Warden" };
  const call = (
    method: "GET" | "POST" | "PUT" | "DELETE",
    url: string,
    doing: string,
    extra: { body?: unknown; accept?: number[] } = {},
  ) =>
    httpRequest({
      fetch: doFetch,
      connector: "gitlab",
      method,
      url,
      headers,
      timeoutMs: settings.timeoutMs,
      doing,
      ...extra,
    });

  const usernameOf = (grant: ConnectorGrant): string | undefined => {
    const parsed = gitlabUsername.safeParse(grant.developer.gitlabUsername);
    return parsed.success ? parsed.data : undefined;
  };
  /** The address to invite, when inviting by e-mail is on and the developer's e-mail is known. */
  const inviteeOf = (grant: ConnectorGrant): string | undefined => {
    if (!settings.inviteByEmail) return undefined;
    const parsed = emailAddress.safeParse(grant.developer.email);
    return parsed.success ? parsed.data.toLowerCase() : undefined;
  };
  const unaddressable = (grant: ConnectorGrant) =>
    new ConnectorError({
      connector: "gitlab",
      reason: "invalid_grant",
      retryable: false,
      message: `Developer ${grant.developer.id} has no valid GitLab username registered.`,
    });

  async function userId(username: string, doing: string): Promise<number | null> {
    const r = await call("GET", `${api}/users?username=${encodeURIComponent(username)}`, doing);
    const users = Array.isArray(r.json) ? (r.json as { id: number; username: string }[]) : [];
    return users.find((u) => u.username.toLowerCase() === username.toLowerCase())?.id ?? null;
  }

  /** The developer's GitLab account: by registered username, else (inviting by e-mail) by e-mail. */
  async function findUser(grant: ConnectorGrant, doing: string): Promise<number | null> {
    const username = usernameOf(grant);
    if (username) {
      const id = await userId(username, doing);
      if (id !== null) return id;
    }
    const email = inviteeOf(grant);
    if (!email) return null;
    // GitLab's search matches an e-mail address exactly (public ones; any, with an admin's token).
    const r = await call("GET", `${api}/users?search=${encodeURIComponent(email)}`, doing);
    const users = Array.isArray(r.json) ? (r.json as { id: number }[]) : [];
    return users.length === 1 ? users[0]!.id : null;
  }

  const invitationsUrl = `${project}/invitations`;
  const invitationUrl = (email: string) => `${invitationsUrl}/${encodeURIComponent(email)}`;

  async function pendingInvitation(email: string, doing: string): Promise<Invitation | undefined> {
    const r = await call("GET", `${invitationsUrl}?query=${encodeURIComponent(email)}&per_page=100`, doing);
    const list = Array.isArray(r.json) ? (r.json as Invitation[]) : [];
    return list.find((i) => i.invite_email?.toLowerCase() === email);
  }

  const expiryFor = (grant: ConnectorGrant) => {
    if (!settings.setExpiry) return undefined;
    const next = new Date(grant.endsAt.getTime() + 86_400_000);
    return next.toISOString().slice(0, 10);
  };

  /** Invites the e-mail address (or updates the invitation already pending): access pending. */
  async function invite(grant: ConnectorGrant, email: string, doing: string): Promise<ProvisionResult> {
    const level = settings.accessLevels[grant.level];
    const body = { email, access_level: level, expires_at: expiryFor(grant) };
    const r = await call("POST", invitationsUrl, doing, { body });
    // The Invitations API answers 201 with {status: "success"} or {status: "error", message: {…}}.
    const reply = (r.json ?? {}) as { status?: string; message?: Record<string, string> | string };
    if (reply.status === "error") {
      const pending = await pendingInvitation(email, doing);
      if (!pending) {
        const why =
          typeof reply.message === "string" ? reply.message : Object.values(reply.message ?? {}).join("; ");
        throw new ConnectorError({
          connector: "gitlab",
          reason: "remote_error",
          retryable: false,
          message: `GitLab refused to invite ${email} to project ${settings.project}: ${why.slice(0, 200)}.`,
        });
      }
      // Already invited: set exactly this level and expiry (idempotent re-provision).
      await call("PUT", invitationUrl(email), doing, {
        body: { access_level: level, expires_at: expiryFor(grant) },
      });
    }
    const pending = await pendingInvitation(email, doing);
    return {
      state: "pending",
      externalRef: email,
      details: {
        project: settings.project,
        invitationEmail: email,
        accessLevel: level,
        ...(pending?.created_at ? { invitedAt: pending.created_at } : {}),
        expiresAt: expiryFor(grant) ?? null,
      },
    };
  }

  return {
    kind: "gitlab",

    async provision(grant): Promise<ProvisionResult> {
      const username = usernameOf(grant);
      const email = inviteeOf(grant);
      if (!username && !email) throw unaddressable(grant);
      const doing = `adding ${username ?? email} to GitLab project ${settings.project}`;
      const id = await findUser(grant, doing);
      if (id === null) {
        if (email) return invite(grant, email, doing);
        throw new ConnectorError({
          connector: "gitlab",
          reason: "not_found",
          retryable: false,
          message: `GitLab has no user ${username}.`,
        });
      }
      const level = settings.accessLevels[grant.level];
      const body = { user_id: id, access_level: level, expires_at: expiryFor(grant) };
      const created = await call("POST", `${project}/members`, doing, { body, accept: [409] });
      const member =
        created.status === 409
          ? // Already a member: set exactly this level and expiry (idempotent re-provision).
            ((
              await call("PUT", `${project}/members/${id}`, doing, {
                body: { access_level: level, expires_at: expiryFor(grant) },
              })
            ).json as Member)
          : (created.json as Member);
      const state = member?.state === "awaiting" ? "pending" : "active";
      return {
        state,
        externalRef: username ?? email ?? String(id),
        details: {
          project: settings.project,
          userId: id,
          accessLevel: level,
          expiresAt: member?.expires_at ?? null,
        },
      };
    },

    async revoke(grant) {
      const username = usernameOf(grant);
      const email = inviteeOf(grant);
      if (!username && !email) throw unaddressable(grant);
      const doing = `removing ${username ?? email} from GitLab project ${settings.project}`;
      // A pending invitation goes first: accepted after the grant ended, it would be access again.
      if (email) await call("DELETE", invitationUrl(email), doing, { accept: [404] });
      const id = await findUser(grant, doing);
      if (id === null) return;
      await call("DELETE", `${project}/members/${id}`, doing, { accept: [404] });
    },

    async check(grant): Promise<CheckResult> {
      const username = usernameOf(grant);
      const email = inviteeOf(grant);
      if (!username && !email) throw unaddressable(grant);
      const doing = `checking ${username ?? email} on GitLab project ${settings.project}`;
      if (email) {
        const pending = await pendingInvitation(email, doing);
        if (pending) {
          return {
            live: false,
            state: "pending",
            details: {
              invitationEmail: email,
              ...(pending.created_at ? { invitedAt: pending.created_at } : {}),
              expired: false,
            },
          };
        }
      }
      const id = await findUser(grant, doing);
      if (id === null) return { live: false, state: "absent", details: {} };
      const r = await call("GET", `${project}/members/${id}`, doing, { accept: [404] });
      if (r.status === 404) return { live: false, state: "absent", details: {} };
      const m = r.json as Member;
      const state = m.state === "awaiting" ? "pending" : "active";
      return {
        live: state === "active",
        state,
        details: {
          accessLevel: m.access_level,
          expiresAt: m.expires_at,
          // Waiting for a GitLab administrator (seat limits), not for the developer.
          ...(state === "pending" ? { awaitingApproval: true } : {}),
        },
      };
    },

    async close() {},
  };
}
