import type { ResourceKind } from "../policy/index.ts";

/**
 * The network endpoint of a catalog resource that Warden's TLS scanner should check, as a scan target:
 * a PostgreSQL connector's server (`postgres://host:port`: plaintext accepted? TLS offered, and how
 * good?), a webhook's URL (an `http://` one is itself a finding), a self-hosted GitHub Enterprise or
 * GitLab instance's API. SSH hosts do not speak TLS, and github.com / gitlab.com are not the company's
 * endpoints to fix: neither becomes a target.
 */
export function tlsTargetOfResource(
  kind: ResourceKind,
  settings: Record<string, unknown>,
): string | undefined {
  const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);
  switch (kind) {
    case "postgres": {
      const c = (settings.connection ?? {}) as Record<string, unknown>;
      const host = str(c.host);
      if (!host || host.startsWith("/")) return undefined; // a Unix socket directory
      const port = typeof c.port === "number" ? c.port : 5432;
      return `postgres://${host.includes(":") ? `[${host}]` : host}:${port}`;
    }
    case "generic":
      return str(settings.url);
    case "github":
    case "gitlab": {
      const url = str(settings.apiUrl);
      if (!url) return undefined;
      const host = URL.canParse(url) ? new URL(url).hostname.toLowerCase() : "";
      return host === "api.github.com" || host === "gitlab.com" ? undefined : url;
    }
    case "ssh":
      return undefined;
  }
}
