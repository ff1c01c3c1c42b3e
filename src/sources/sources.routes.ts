import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import type { Api } from "../http/server.ts";
import type { SourcesService } from "./sources.service.ts";

const tags = ["sources"];
const BODY_LIMIT = 10 * 1024 * 1024;
/** Senders retry on their own; this only stops one address from hammering the token check. */
const rateLimit = { max: 1200, timeWindow: "1 minute" };

const ingestResult = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  problems: z.array(z.string()),
});
const hecResult = z.object({ text: z.string(), code: z.number().int() });

/**
 * The GitHub stream arrives as concatenated JSON (HEC envelopes), possibly gzip-compressed: these routes
 * take the raw body, in their own scope so no other route's parsing changes.
 */
async function rawBodyScope(api: Api, register: (scoped: Api) => void) {
  await api.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: BODY_LIMIT }, (req, body, done) => {
      try {
        const buf = body as Buffer;
        const text =
          String(req.headers["content-encoding"] ?? "").toLowerCase() === "gzip"
            ? gunzipSync(buf, { maxOutputLength: 8 * BODY_LIMIT }).toString("utf8")
            : buf.toString("utf8");
        done(null, text);
      } catch {
        done(new AppError("bad_request", "The body is not valid gzip"), undefined);
      }
    });
    register(scoped as unknown as Api);
  });
}

export function sourcesRoutes(sources: SourcesService) {
  return async (api: Api) => {
    await rawBodyScope(api, (scoped) => {
      scoped.post(
        "/ingest/github-audit",
        {
          config: { access: { public: true }, rateLimit },
          schema: {
            tags,
            summary:
              "GitHub audit-log stream (Splunk HTTP Event Collector format or raw NDJSON); Authorization: Splunk <WARDEN_GITHUB_AUDIT_STREAM_TOKEN>",
            security: [],
            response: { 200: ingestResult },
          },
        },
        async (req) => sources.ingestGitHub(req.body as string, req.headers.authorization),
      );
    });
    api.post(
      "/ingest/gitlab-audit",
      {
        config: { access: { public: true }, rateLimit },
        schema: {
          tags,
          summary:
            "GitLab audit event streaming destination; X-Gitlab-Event-Streaming-Token: <WARDEN_GITLAB_AUDIT_TOKEN>",
          security: [],
          body: z.union([
            z.record(z.string(), z.unknown()),
            z.array(z.record(z.string(), z.unknown())).max(1000),
          ]),
          response: { 200: z.object({ accepted: z.number().int(), duplicates: z.number().int() }) },
        },
      },
      async (req) => {
        const token = req.headers["x-gitlab-event-streaming-token"];
        return sources.ingestGitLab(req.body, Array.isArray(token) ? token[0] : token);
      },
    );
    api.get(
      "/sources/status",
      {
        config: { access: { permission: "settings:read" } },
        schema: {
          tags,
          summary: "The event sources: syslog receiver ports and counters, which webhooks are enabled",
          response: {
            200: z.object({
              syslog: z.object({
                listening: z.boolean(),
                host: z.string(),
                ports: z.object({
                  udp: z.number().optional(),
                  tcp: z.number().optional(),
                  tls: z.number().optional(),
                }),
                messages: z.number(),
                events: z.number(),
                errors: z.number(),
              }),
              pipeline: z.object({
                received: z.number(),
                appended: z.number(),
                dropped: z.number(),
                appendErrors: z.number(),
                parseErrors: z.number(),
                buffered: z.number(),
                lastError: z.string().nullable(),
              }),
              github: z.object({ enabled: z.boolean() }),
              gitlab: z.object({ enabled: z.boolean() }),
            }),
          },
        },
      },
      async () => sources.status(),
    );
  };
}

/**
 * Splunk HTTP Event Collector paths at the server root, so GitHub's Splunk streaming destination can
 * point straight at Warden (domain, port, token): it posts to /services/collector.
 */
export function hecRoutes(sources: SourcesService) {
  return async (api: Api) => {
    await rawBodyScope(api, (scoped) => {
      for (const path of ["/services/collector", "/services/collector/event"]) {
        scoped.post(
          path,
          {
            config: { access: { public: true }, rateLimit },
            schema: { hide: true, response: { 200: hecResult } },
          },
          async (req) => {
            await sources.ingestGitHub(req.body as string, req.headers.authorization);
            return { text: "Success", code: 0 };
          },
        );
      }
    });
    api.get(
      "/services/collector/health",
      { config: { access: { public: true } }, schema: { hide: true, response: { 200: hecResult } } },
      async () => ({ text: "HEC is healthy", code: 17 }),
    );
  };
}
