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
  timeoutMs: z.number().int().min(100).max(120_000).default(15_000),
});
export type GitlabSettings = z.output<typeof gitlabSettingsSchema>;
export type GitlabSettingsInput = z.input<typeof gitlabSettingsSchema>;

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

  const usernameOf = (grant: ConnectorGrant): string => {
    const parsed = gitlabUsername.safeParse(grant.developer.gitlabUsername);
    if (!parsed.success) {
      throw new ConnectorError({
        connector: "gitlab",
        reason: "invalid_grant",
        retryable: false,
        message: `Developer ${grant.developer.id} has no valid GitLab username registered.`,
      });
    }
    return parsed.data;
  };

  async function userId(username: string, doing: string): Promise<number | null> {
    const r = await call("GET", `${api}/users?username=${encodeURIComponent(username)}`, doing);
    const users = Array.isArray(r.json) ? (r.json as { id: number; username: string }[]) : [];
    return users.find((u) => u.username.toLowerCase() === username.toLowerCase())?.id ?? null;
  }

  const expiryFor = (grant: ConnectorGrant) => {
    if (!settings.setExpiry) return undefined;
    const next = new Date(grant.endsAt.getTime() + 86_400_000);
    return next.toISOString().slice(0, 10);
  };

  return {
    kind: "gitlab",

    async provision(grant): Promise<ProvisionResult> {
      const username = usernameOf(grant);
      const doing = `adding ${username} to GitLab project ${settings.project}`;
      const id = await userId(username, doing);
      if (id === null) {
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
        externalRef: username,
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
      const doing = `removing ${username} from GitLab project ${settings.project}`;
      const id = await userId(username, doing);
      if (id === null) return;
      await call("DELETE", `${project}/members/${id}`, doing, { accept: [404] });
    },

    async check(grant): Promise<CheckResult> {
      const username = usernameOf(grant);
      const doing = `checking ${username} on GitLab project ${settings.project}`;
      const id = await userId(username, doing);
      if (id === null) return { live: false, state: "absent", details: {} };
      const r = await call("GET", `${project}/members/${id}`, doing, { accept: [404] });
      if (r.status === 404) return { live: false, state: "absent", details: {} };
      const m = r.json as Member;
      const state = m.state === "awaiting" ? "pending" : "active";
      return {
        live: state === "active",
        state,
        details: { accessLevel: m.access_level, expiresAt: m.expires_at },
      };
    },

    async close() {},
  };
}
