import { describe, expect, it } from "vitest";
import {
  normaliseGitHubAuditEvent,
  normaliseGitLabAuditEvent,
  parseGitHubAuditStream,
  verifyGitLabStreamingToken,
} from "./git-audit.ts";
import { normaliseIngestRecord } from "./ingest-record.ts";

// Shaped like GitHub's streamed audit events (values invented).
const ghClone = {
  "@timestamp": 1773144000000,
  _document_id: "Ab12Cd34Ef56",
  action: "git.clone",
  actor: "octo-dev",
  actor_id: 4242,
  actor_ip: "198.51.100.23",
  actor_location: { country_code: "JP" },
  business: "acme",
  org: "acme",
  repo: "acme/widgets",
  repository: "acme/widgets",
  repository_public: false,
  transport_protocol: 1,
  transport_protocol_name: "http",
  token_id: 991,
  user_agent: "git/2.43.0",
};

describe("GitHub audit log streaming", () => {
  it("maps git.clone to a File Hosting download of the repository by the actor", () => {
    const e = normaliseGitHubAuditEvent(ghClone);
    expect(e).toMatchObject({
      class_uid: 6006,
      category_uid: 6,
      activity_id: 2,
      type_uid: 600602,
      time: 1773144000000,
      actor: { user: { name: "octo-dev", uid: "4242" } },
      src_endpoint: { ip: "198.51.100.23", location: { country: "JP" } },
      file: { name: "acme/widgets", type: "Git repository" },
      metadata: { product: { name: "GitHub" }, uid: "Ab12Cd34Ef56" },
      warden: {
        source: "github-audit",
        credential: { gitUsername: "octo-dev", tokenId: "991" },
        resource: { kind: "git_repository", name: "acme/widgets" },
      },
    });
    expect(e.unmapped).toMatchObject({ action: "git.clone", git_transport: "http" });
  });

  it.each([
    ["git.push", 6006, 1],
    ["git.fetch", 6006, 2],
    ["repo.add_member", 3005, 1],
    ["org.remove_member", 3005, 2],
    ["user.suspend", 3001, 5],
    ["repo.create", 6003, 1],
    ["protected_branch.destroy", 6003, 4],
    ["oauth_application.transfer", 6003, 99],
  ])("maps %s to class %i activity %i", (action, cls, activity) => {
    const e = normaliseGitHubAuditEvent({ ...ghClone, action, user: "someone" });
    expect([e.class_uid, e.activity_id, e.type_uid]).toEqual([cls, activity, cls * 100 + activity]);
  });

  it("reads a stream file line by line and reports bad lines without stopping", () => {
    const text = [
      JSON.stringify(ghClone),
      "not json",
      JSON.stringify({ action: "git.push" }),
      "",
      JSON.stringify({ ...ghClone, action: "git.push" }),
    ].join("\n");
    const { events, errors } = parseGitHubAuditStream(text);
    expect(events.map((e) => e.activity_id)).toEqual([2, 1]);
    expect(errors.map((x) => x.line)).toEqual([2, 3]);
  });
});

// The body GitLab streams for a Git fetch over SSH (its documented example, values invented).
const glFetch = {
  id: 1,
  author_id: 17,
  entity_id: 29,
  entity_type: "Project",
  details: {
    author_name: "dev-ana",
    author_class: "User",
    target_id: 29,
    target_type: "Project",
    target_details: "widgets",
    custom_message: { protocol: "ssh", action: "git-upload-pack" },
    ip_address: "203.0.113.50",
    entity_path: "acme/widgets",
  },
  ip_address: "203.0.113.50",
  author_name: "dev-ana",
  entity_path: "acme/widgets",
  target_details: "widgets",
  created_at: "2026-03-10T06:21:05.283Z",
  target_type: "Project",
  target_id: 29,
  event_type: "repository_git_operation",
};

describe("GitLab audit event streaming", () => {
  it("maps git-upload-pack to a download and git-receive-pack to an upload", () => {
    const fetch = normaliseGitLabAuditEvent(glFetch);
    expect(fetch).toMatchObject({
      class_uid: 6006,
      activity_id: 2,
      time: Date.parse("2026-03-10T06:21:05.283Z"),
      actor: { user: { name: "dev-ana", uid: "17" } },
      src_endpoint: { ip: "203.0.113.50" },
      warden: {
        source: "gitlab-audit",
        resource: { name: "acme/widgets" },
        credential: { gitUsername: "dev-ana" },
      },
      metadata: { product: { name: "GitLab" }, uid: "1" },
    });
    const push = normaliseGitLabAuditEvent({
      ...glFetch,
      details: { ...glFetch.details, custom_message: { protocol: "http", action: "git-receive-pack" } },
    });
    expect(push.activity_id).toBe(1);
  });

  it("does not treat a deploy key's name as a Git username", () => {
    const e = normaliseGitLabAuditEvent({
      ...glFetch,
      author_id: -3,
      author_name: "ci-key",
      details: { ...glFetch.details, author_class: "DeployKey" },
    });
    expect(e.actor?.user?.type).toBe("DeployKey");
    expect(e.warden.credential?.gitUsername).toBeUndefined();
  });

  it("maps membership and user lifecycle events", () => {
    expect(normaliseGitLabAuditEvent({ ...glFetch, event_type: "member_created" })).toMatchObject({
      class_uid: 3005,
      activity_id: 1,
      user: { name: "widgets" },
    });
    expect(
      normaliseGitLabAuditEvent({ ...glFetch, event_type: "user_blocked", entity_type: "User" }),
    ).toMatchObject({ class_uid: 3001, activity_id: 5 });
  });

  it("rejects a record without created_at, and checks the streaming token in constant time", () => {
    expect(() => normaliseGitLabAuditEvent({ ...glFetch, created_at: undefined })).toThrow(
      /GitLab audit record is not valid/,
    );
    expect(verifyGitLabStreamingToken("s3cret", "s3cret")).toBe(true);
    expect(verifyGitLabStreamingToken("s3cre7", "s3cret")).toBe(false);
    expect(verifyGitLabStreamingToken(undefined, "s3cret")).toBe(false);
  });
});

describe("ingest records", () => {
  it("dispatches by source and attributes the actor", () => {
    const e = normaliseIngestRecord(
      { source: "github-audit", event: ghClone },
      { resolveActor: (c) => (c.gitUsername === "octo-dev" ? "dev_9" : undefined) },
    );
    expect(e.warden.developerId).toBe("dev_9");
    expect(normaliseIngestRecord({ source: "gitlab-audit", event: glFetch }).warden.source).toBe(
      "gitlab-audit",
    );
    const ocsf = normaliseIngestRecord({
      source: "ocsf",
      event: {
        class_uid: 6003,
        category_uid: 6,
        activity_id: 1,
        type_uid: 600301,
        time: 1,
        severity_id: 1,
        metadata: { version: "1.3.0", product: { name: "X" } },
      },
    });
    expect(ocsf).toMatchObject({ class_uid: 6003, status_id: 0, warden: { source: "ocsf" } });
  });

  it.each([
    ["a non-object", [1, 2]],
    ["an unknown source", { source: "nope", event: {} }],
    [
      "a git-hook record with a bad time",
      {
        source: "git-hook",
        source_event_id: "x",
        type: "git.push",
        phase: "complete",
        time: "yesterday",
        repo: "r",
        refs: [],
      },
    ],
    ["an OCSF event without class", { source: "ocsf", event: { time: 1 } }],
  ])("rejects %s", (_n, rec) => {
    expect(() => normaliseIngestRecord(rec)).toThrow();
  });
});
