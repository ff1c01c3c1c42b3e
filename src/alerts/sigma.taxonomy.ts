/**
 * Sigma field names → paths in Warden's OCSF events. Community rules name fields the way their log
 * source does (`user_name`, `client_ip`, `TargetUserName`, `source.ip`...); this table lets such rules run
 * unchanged. Lookup order for a Sigma field F:
 *   1. the paths listed for F here (first one present wins);
 *   2. F as a dotted OCSF path on the event (`src_endpoint.ip`, `user.name`...);
 *   3. `unmapped.F` (source fields kept verbatim, e.g. GitHub's `action`, `repo`, `actor`).
 * Keywords (detection lists of plain strings) search `raw_data`, falling back to `message`.
 * Documented for users in docs/detection.md; keep the two in step.
 */
import type { OcsfEvent } from "../ingest/index.ts";

export const SIGMA_FIELD_MAP: Record<string, readonly string[]> = {
  // who
  user_name: ["user.name", "actor.user.name"],
  user: ["user.name", "actor.user.name"],
  User: ["user.name", "actor.user.name"],
  username: ["user.name", "actor.user.name"],
  TargetUserName: ["user.name"],
  SubjectUserName: ["actor.user.name"],
  "user.name": ["user.name", "actor.user.name"],
  "user.email": ["actor.user.email_addr", "user.email_addr"],
  developer: ["warden.developerId"],
  // from where
  client_ip: ["src_endpoint.ip"],
  src_ip: ["src_endpoint.ip"],
  SourceIp: ["src_endpoint.ip"],
  IpAddress: ["src_endpoint.ip"],
  "source.ip": ["src_endpoint.ip"],
  src_port: ["src_endpoint.port"],
  "source.port": ["src_endpoint.port"],
  // to where
  dst_ip: ["dst_endpoint.ip"],
  DestinationIp: ["dst_endpoint.ip"],
  "destination.ip": ["dst_endpoint.ip"],
  dst_port: ["dst_endpoint.port"],
  host: ["dst_endpoint.hostname"],
  hostname: ["dst_endpoint.hostname"],
  Computer: ["dst_endpoint.hostname"],
  ComputerName: ["dst_endpoint.hostname"],
  "host.name": ["dst_endpoint.hostname"],
  // what logged it
  deviceProcessName: ["metadata.log_provider"],
  ProcessName: ["metadata.log_provider"],
  "process.name": ["metadata.log_provider"],
  product: ["metadata.product.name"],
  // outcome and message
  "event.outcome": ["status"],
  outcome: ["status"],
  message: ["raw_data", "message"],
  msg: ["raw_data", "message"],
  // what was touched
  repo: ["warden.resource.name", "unmapped.repo"],
  repository: ["warden.resource.name", "unmapped.repository"],
  resource: ["warden.resource.name"],
  file_name: ["file.name"],
  ssh_key_id: ["warden.credential.sshKeyId"],
  cert_key_id: ["warden.credential.sshKeyId"],
};

/**
 * Sigma `logsource` → a filter on events. A rule whose logsource names something listed here only sees
 * matching events; unlisted values do not restrict (documented), so a rule still runs on OCSF data.
 */
export const SIGMA_LOGSOURCE: Record<string, Record<string, (e: OcsfEvent) => boolean>> = {
  service: {
    sshd: (e) => e.metadata.product.name === "OpenSSH",
    auth: (e) => e.category_uid === 3,
    audit: () => true,
  },
  product: {
    linux: (e) => e.metadata.product.name === "OpenSSH" || e.warden.source === "git-hook",
    github: (e) => e.metadata.product.name === "GitHub",
    gitlab: (e) => e.metadata.product.name === "GitLab",
    warden: (e) => e.metadata.product.name === "Warden",
  },
  category: {
    authentication: (e) => e.class_uid === 3002,
    network_connection: (e) => e.category_uid === 4,
  },
};

type Getter = (obj: unknown) => unknown;

const prop =
  (key: string, next?: Getter): Getter =>
  (o) => {
    if (o === null || typeof o !== "object") return undefined;
    const v = (o as Record<string, unknown>)[key];
    return next && v !== undefined ? next(v) : v;
  };

/** Compiles "a.b.c" to nested property reads (no string splitting per event). */
export function pathGetter(path: string): Getter {
  const parts = path.split(".");
  let g: Getter | undefined;
  for (let i = parts.length - 1; i >= 0; i--) g = prop(parts[i]!, g);
  return g!;
}

export function getPath(obj: unknown, path: string): unknown {
  return pathGetter(path)(obj);
}

/** Compiles a Sigma field name to an accessor following the lookup order above. */
export function fieldAccessor(
  field: string,
  extra: Record<string, readonly string[]> = {},
): (e: OcsfEvent) => unknown {
  const mapped = extra[field] ?? SIGMA_FIELD_MAP[field];
  const getters = [...(mapped ?? []), field, `unmapped.${field}`].map(pathGetter);
  if (getters.length === 2) {
    const [a, b] = getters as [Getter, Getter];
    return (e) => a(e) ?? b(e) ?? undefined;
  }
  if (getters.length === 3) {
    const [a, b, c] = getters as [Getter, Getter, Getter];
    return (e) => a(e) ?? b(e) ?? c(e) ?? undefined;
  }
  return (e) => {
    for (const g of getters) {
      const v = g(e);
      if (v !== undefined && v !== null) return v;
    }
    return undefined;
  };
}

export function keywordText(e: OcsfEvent): string {
  return e.raw_data ?? e.message ?? "";
}
