/**
 * Git hosting audit sources → OCSF.
 * - GitHub Enterprise audit log streaming: one JSON object per line (the files GitHub writes to S3, Azure
 *   Blob, GCS, or sends to Splunk/Datadog), with `action` ("git.clone", "git.fetch", "git.push", …),
 *   `actor`, `actor_ip`, `repo`, `@timestamp` (ms), `_document_id`, `transport_protocol_name`, `token_id`.
 * - GitLab audit event streaming (HTTP destination, the "webhook"): one JSON object per request with
 *   `event_type` ("repository_git_operation" for clone/fetch/push), `details.custom_message.action`
 *   ("git-upload-pack" / "git-receive-pack"), `entity_path`, `ip_address`, `author_name`, `created_at`, `id`,
 *   authenticated by the X-Gitlab-Event-Streaming-Token header.
 * Git clone/fetch map to File Hosting Activity Download, push to Upload; membership changes to User Access
 * Management; user lifecycle to Account Change; everything else to API Activity.
 */
import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import {
  AccountChangeActivity,
  ApiActivity,
  FileHostingActivityId,
  OCSF_VERSION,
  type OcsfClassKey,
  type OcsfEvent,
  ocsfEvent,
  Severity,
  Status,
  UserAccessActivity,
} from "./ocsf.types.ts";

type Mapping = { cls: OcsfClassKey; activity: number; name: string };

function classify(action: string, accessActions: Record<string, Mapping>): Mapping {
  const known = accessActions[action];
  if (known) return known;
  const verb = action.split(/[._]/).pop() ?? "";
  const activity = /^(create|add|added|created)$/.test(verb)
    ? ApiActivity.create
    : /^(destroy|delete|remove|removed|deleted)$/.test(verb)
      ? ApiActivity.delete
      : /^(update|rename|change|changed|updated|edit)$/.test(verb)
        ? ApiActivity.update
        : ApiActivity.other;
  return { cls: "apiActivity", activity, name: action };
}

// ------------------------------------------------------------------------------------------------ GitHub

const GITHUB_ACTIONS: Record<string, Mapping> = {
  "git.clone": { cls: "fileHostingActivity", activity: FileHostingActivityId.download, name: "Download" },
  "git.fetch": { cls: "fileHostingActivity", activity: FileHostingActivityId.download, name: "Download" },
  "git.push": { cls: "fileHostingActivity", activity: FileHostingActivityId.upload, name: "Upload" },
  "repo.download_zip": {
    cls: "fileHostingActivity",
    activity: FileHostingActivityId.download,
    name: "Download",
  },
  "repo.add_member": {
    cls: "userAccessManagement",
    activity: UserAccessActivity.assignPrivileges,
    name: "Assign Privileges",
  },
  "repo.remove_member": {
    cls: "userAccessManagement",
    activity: UserAccessActivity.revokePrivileges,
    name: "Revoke Privileges",
  },
  "team.add_member": {
    cls: "userAccessManagement",
    activity: UserAccessActivity.assignPrivileges,
    name: "Assign Privileges",
  },
  "team.remove_member": {
    cls: "userAccessManagement",
    activity: UserAccessActivity.revokePrivileges,
    name: "Revoke Privileges",
  },
  "org.add_member": {
    cls: "userAccessManagement",
    activity: UserAccessActivity.assignPrivileges,
    name: "Assign Privileges",
  },
  "org.remove_member": {
    cls: "userAccessManagement",
    activity: UserAccessActivity.revokePrivileges,
    name: "Revoke Privileges",
  },
  "org.update_member": { cls: "userAccessManagement", activity: UserAccessActivity.other, name: "Other" },
  "user.create": { cls: "accountChange", activity: AccountChangeActivity.create, name: "Create" },
  "user.suspend": { cls: "accountChange", activity: AccountChangeActivity.disable, name: "Disable" },
  "user.unsuspend": { cls: "accountChange", activity: AccountChangeActivity.enable, name: "Enable" },
  "user.destroy": { cls: "accountChange", activity: AccountChangeActivity.delete, name: "Delete" },
  "user.two_factor_requirement_enable": {
    cls: "accountChange",
    activity: AccountChangeActivity.mfaEnable,
    name: "MFA Factor Enable",
  },
};

const githubSchema = z
  .object({
    action: z.string().min(1).max(200),
    "@timestamp": z.number().optional(),
    created_at: z.union([z.number(), z.string()]).optional(),
    _document_id: z.string().max(200).optional(),
    actor: z.string().max(200).optional(),
    actor_id: z.number().optional(),
    actor_ip: z.string().max(100).optional(),
    actor_location: z.object({ country_code: z.string().optional() }).partial().optional(),
    user: z.string().max(200).optional(),
    repo: z.string().max(400).optional(),
    repository: z.string().max(400).optional(),
    org: z.string().max(200).optional(),
    transport_protocol_name: z.string().max(40).optional(),
    token_id: z.union([z.number(), z.string()]).optional(),
    hashed_token: z.string().max(200).optional(),
    external_identity_nameid: z.string().max(320).optional(),
    user_agent: z.string().max(1000).optional(),
  })
  .passthrough();

function epochMs(v: number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "number") return v < 1e11 ? v * 1000 : v; // seconds or milliseconds
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

function invalidRecord(source: string, error: z.ZodError): AppError {
  return new AppError("validation_failed", `${source} record is not valid: ${z.prettifyError(error)}`, {
    fields: error.issues.map((i) => ({ field: i.path.join("/"), message: i.message })),
  });
}

/** One GitHub audit log event (streaming format) → OCSF. Throws AppError(validation_failed) on bad input. */
export function normaliseGitHubAuditEvent(input: unknown, raw?: string): OcsfEvent {
  const parsed = githubSchema.safeParse(input);
  if (!parsed.success) throw invalidRecord("GitHub audit", parsed.error);
  const g = parsed.data;
  const time = epochMs(g["@timestamp"]) ?? epochMs(g.created_at);
  if (time === undefined)
    throw new AppError("validation_failed", "GitHub audit record has no @timestamp or created_at");
  const m = classify(g.action, GITHUB_ACTIONS);
  const repo = g.repo ?? g.repository;
  const email = g.external_identity_nameid?.includes("@") ? g.external_identity_nameid : undefined;
  const isGit = g.action.startsWith("git.");
  const event = ocsfEvent(m.cls, {
    activity_id: m.activity,
    activity_name: m.name,
    time,
    severity_id: Severity.informational,
    status_id: Status.success,
    status: "Success",
    message: `${g.action}${repo ? ` ${repo}` : ""}${g.actor ? ` by ${g.actor}` : ""}`,
    actor: { user: strip({ name: g.actor, uid: g.actor_id?.toString(), email_addr: email }) },
    src_endpoint: g.actor_ip
      ? strip({
          ip: g.actor_ip,
          location: g.actor_location?.country_code ? { country: g.actor_location.country_code } : undefined,
        })
      : undefined,
    metadata: strip({
      version: OCSF_VERSION,
      product: { name: "GitHub", vendor_name: "GitHub" },
      uid: g._document_id,
      log_name: "audit",
    }),
    unmapped: { ...g },
    raw_data: raw ?? JSON.stringify(input),
    warden: strip({
      source: "github-audit",
      credential: strip({ gitUsername: g.actor, email, tokenId: g.token_id?.toString() }),
      resource: repo ? { kind: "git_repository", name: repo } : undefined,
    }),
  });
  if (m.cls === "fileHostingActivity" && repo)
    event.file = { name: repo, type: isGit ? "Git repository" : "Archive" };
  if (m.cls === "apiActivity") event.api = { operation: g.action, service: { name: "GitHub" } };
  if (m.cls === "userAccessManagement" || m.cls === "accountChange") {
    if (g.user) event.user = { name: g.user };
    if (repo) event.resources = [{ type: "git_repository", name: repo }];
  }
  if (isGit && g.transport_protocol_name) event.unmapped!.git_transport = g.transport_protocol_name;
  return event;
}

/** Splits a GitHub audit stream file (NDJSON) into events; bad lines are returned as errors, not thrown. */
export function parseGitHubAuditStream(text: string): {
  events: OcsfEvent[];
  errors: Array<{ line: number; error: string }>;
} {
  const events: OcsfEvent[] = [];
  const errors: Array<{ line: number; error: string }> = [];
  text.split("\n").forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed) return;
    try {
      events.push(normaliseGitHubAuditEvent(JSON.parse(trimmed), trimmed));
    } catch (err) {
      errors.push({ line: i + 1, error: (err as Error).message });
    }
  });
  return { events, errors };
}

// ------------------------------------------------------------------------------------------------ GitLab

const GITLAB_EVENTS: Record<string, Mapping> = {
  member_created: {
    cls: "userAccessManagement",
    activity: UserAccessActivity.assignPrivileges,
    name: "Assign Privileges",
  },
  member_updated: { cls: "userAccessManagement", activity: UserAccessActivity.other, name: "Other" },
  member_destroyed: {
    cls: "userAccessManagement",
    activity: UserAccessActivity.revokePrivileges,
    name: "Revoke Privileges",
  },
  user_created: { cls: "accountChange", activity: AccountChangeActivity.create, name: "Create" },
  user_blocked: { cls: "accountChange", activity: AccountChangeActivity.disable, name: "Disable" },
  user_unblocked: { cls: "accountChange", activity: AccountChangeActivity.enable, name: "Enable" },
  user_destroyed: { cls: "accountChange", activity: AccountChangeActivity.delete, name: "Delete" },
  user_access_locked: { cls: "accountChange", activity: AccountChangeActivity.lock, name: "Lock" },
  user_access_unlocked: { cls: "accountChange", activity: AccountChangeActivity.unlock, name: "Unlock" },
  user_password_updated: {
    cls: "accountChange",
    activity: AccountChangeActivity.passwordChange,
    name: "Password Change",
  },
};

const gitlabSchema = z
  .object({
    id: z.union([z.string(), z.number()]).optional(),
    event_type: z.string().min(1).max(200).optional(),
    event_name: z.string().max(200).optional(),
    author_id: z.number().optional(),
    author_name: z.string().max(400).optional(),
    author_email: z.string().max(320).optional(),
    entity_id: z.number().optional(),
    entity_type: z.string().max(100).optional(),
    entity_path: z.string().max(400).optional(),
    target_details: z.string().max(1000).optional(),
    target_type: z.string().max(100).optional(),
    ip_address: z.string().max(100).optional(),
    created_at: z.string().max(64),
    details: z
      .object({
        author_class: z.string().optional(),
        author_email: z.string().optional(),
        custom_message: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

/** One GitLab streamed audit event (HTTP destination body) → OCSF. */
export function normaliseGitLabAuditEvent(input: unknown, raw?: string): OcsfEvent {
  const parsed = gitlabSchema.safeParse(input);
  if (!parsed.success) throw invalidRecord("GitLab audit", parsed.error);
  const g = parsed.data;
  const time = Date.parse(g.created_at);
  if (Number.isNaN(time)) throw new AppError("validation_failed", "GitLab audit record has a bad created_at");
  const type = g.event_type ?? g.event_name ?? "audit_operation";
  const custom =
    typeof g.details?.custom_message === "object"
      ? (g.details.custom_message as Record<string, unknown>)
      : {};
  const gitAction = typeof custom.action === "string" ? custom.action : undefined;
  let m: Mapping;
  if (type === "repository_git_operation") {
    m =
      gitAction === "git-receive-pack"
        ? { cls: "fileHostingActivity", activity: FileHostingActivityId.upload, name: "Upload" }
        : { cls: "fileHostingActivity", activity: FileHostingActivityId.download, name: "Download" };
  } else {
    m = classify(type, GITLAB_EVENTS);
  }
  const repo = g.entity_type === "Project" ? g.entity_path : undefined;
  const email = g.author_email ?? g.details?.author_email;
  const isDeployKey = g.details?.author_class === "DeployKey";
  const event = ocsfEvent(m.cls, {
    activity_id: m.activity,
    activity_name: m.name,
    time,
    severity_id: Severity.informational,
    status_id: Status.success,
    status: "Success",
    message: `${gitAction ?? type}${g.entity_path ? ` ${g.entity_path}` : ""}${g.author_name ? ` by ${g.author_name}` : ""}`,
    actor: {
      user: strip({
        name: g.author_name,
        uid: g.author_id?.toString(),
        email_addr: email,
        type: isDeployKey ? "DeployKey" : undefined,
      }),
    },
    src_endpoint: g.ip_address ? { ip: g.ip_address } : undefined,
    metadata: strip({
      version: OCSF_VERSION,
      product: { name: "GitLab", vendor_name: "GitLab" },
      uid: g.id?.toString(),
      log_name: "audit",
    }),
    unmapped: { ...g },
    raw_data: raw ?? JSON.stringify(input),
    warden: strip({
      source: "gitlab-audit",
      credential: strip({ gitUsername: isDeployKey ? undefined : g.author_name, email }),
      resource: repo ? { kind: "git_repository", name: repo } : undefined,
    }),
  });
  if (m.cls === "fileHostingActivity" && repo) event.file = { name: repo, type: "Git repository" };
  if (m.cls === "apiActivity") event.api = { operation: type, service: { name: "GitLab" } };
  if ((m.cls === "userAccessManagement" || m.cls === "accountChange") && g.target_details) {
    event.user = { name: g.target_details };
  }
  if (typeof custom.protocol === "string") event.unmapped!.git_transport = custom.protocol;
  return event;
}

/** Constant-time check of GitLab's X-Gitlab-Event-Streaming-Token header. */
export function verifyGitLabStreamingToken(header: string | undefined, expected: string): boolean {
  if (!header) return false;
  const a = Buffer.from(header);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
