import { Readable } from "node:stream";
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import { idParam } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import { normaliseIngestRecord, type OcsfEvent } from "../ingest/index.ts";
import type { EventFilter } from "./eventlog.repo.ts";
import type { Retention } from "./eventlog.retention.ts";
import {
  classNameOf,
  consistencyQuery,
  eventDetailSchema,
  type eventSummarySchema,
  exportQuery,
  heatmapQuery,
  heatmapResponse,
  inclusionQuery,
  ingestResponse,
  logInfoSchema,
  retentionResponse,
  retentionSchema,
  searchQuery,
  searchResponse,
  verifyResponse,
} from "./eventlog.schemas.ts";
import type { EventLogService, EventSummary } from "./eventlog.service.ts";
import type { EventAppender } from "./eventlog.types.ts";

const tags = ["events"];

export const presentSummary = (e: EventSummary): z.infer<typeof eventSummarySchema> => ({
  id: e.id,
  index: e.index,
  at: e.at.toISOString(),
  receivedAt: e.receivedAt.toISOString(),
  kind: e.kind,
  classUid: e.classUid,
  className: classNameOf(e.classUid),
  activityId: e.activityId,
  action: e.action,
  outcome: e.outcome,
  severityId: e.severityId,
  source: e.source,
  sourceUid: e.sourceUid,
  actor: e.actor,
  developer: e.developer,
  vendor: e.vendor,
  resource: e.resource,
  srcIp: e.srcIp,
});

type FilterQuery = Partial<Record<keyof typeof import("./eventlog.schemas.ts").eventFilterQuery, unknown>>;

export function filterOf(q: FilterQuery): EventFilter {
  const f: EventFilter = {};
  if (q.developerId) f.developerId = q.developerId as string;
  if (q.vendorId) f.vendorId = q.vendorId as string;
  if (q.action) f.action = q.action as string;
  if (q.resource) f.resource = q.resource as string;
  if (q.outcome) f.outcome = q.outcome as EventFilter["outcome"];
  if (q.sourceIp) f.sourceIp = q.sourceIp as string;
  if (q.source) f.source = q.source as string;
  if (q.classUid) f.classUid = q.classUid as number;
  if (q.kind) f.kind = q.kind as EventFilter["kind"];
  if (q.from) f.from = new Date(q.from as string);
  if (q.to) f.to = new Date(q.to as string);
  if (q.q) f.text = q.q as string;
  return f;
}

/** NDJSON lines per ingest request, and bytes per line (an entry must fit a tlog-tiles entry). */
const MAX_LINES = 10_000;
const MAX_LINE_BYTES = 64 * 1024;

export function eventLogRoutes(deps: {
  service: EventLogService;
  appender: EventAppender;
  retention: Retention;
  resolveActor: (c: import("../ingest/index.ts").ActorCredential) => string | undefined;
}) {
  const { service, appender, retention } = deps;
  return async (root: Api) => {
    // Own plugin scope: the NDJSON body parser applies to these routes only.
    await root.register(async (scope) => {
      const api = scope as unknown as Api;
      api.addContentTypeParser(
        ["application/x-ndjson", "application/jsonl", "application/jsonlines"],
        { parseAs: "string" },
        (_req, body, done) => done(null, body),
      );

      api.get(
        "/events",
        {
          config: { access: { permission: "audit:read" } },
          schema: {
            tags,
            summary: "Search the event log, newest first (page with beforeIndex)",
            description:
              "Filters combine with AND. `q` is free text over the whole logged entry (the original record included) and the developer's name.",
            querystring: searchQuery,
            response: { 200: searchResponse },
          },
        },
        async (req) => {
          const f = filterOf(req.query);
          if (req.query.beforeIndex !== undefined) f.beforeIndex = req.query.beforeIndex;
          const items = await service.search(f, req.query.limit, req.query.order);
          const last = items.at(-1);
          return {
            items: items.map(presentSummary),
            nextBeforeIndex:
              req.query.order === "log" && items.length === req.query.limit && last ? last.index : null,
          };
        },
      );

      api.get(
        "/events/export",
        {
          config: { access: { permission: "audit:read" } },
          schema: {
            tags,
            summary: "Download matching events as OCSF (NDJSON, one event per line, or a JSON array)",
            querystring: exportQuery,
          },
        },
        async (req, reply) => {
          const f = filterOf(req.query);
          const ndjson = req.query.format === "ndjson";
          const name = `warden-events-${new Date().toISOString().slice(0, 10)}.${ndjson ? "ndjson" : "json"}`;
          reply
            .type(ndjson ? "application/x-ndjson; charset=utf-8" : "application/json; charset=utf-8")
            .header("content-disposition", `attachment; filename="${name}"`)
            .header("cache-control", "no-store");
          const rows = service.exportEvents(f, req.query.limit);
          async function* body() {
            let first = true;
            if (!ndjson) yield "[";
            for await (const { row, ocsf } of rows) {
              // Warden's id and log index ride along under `warden`, so an exported event can be proven.
              const doc: OcsfEvent = {
                ...ocsf,
                warden: { ...ocsf.warden, ...{ eventId: row.id, logIndex: Number(row.idx) } },
              };
              const line = JSON.stringify(doc);
              yield ndjson ? `${line}\n` : `${first ? "" : ",\n"}${line}`;
              first = false;
            }
            if (!ndjson) yield "]\n";
          }
          return reply.send(Readable.from(body()));
        },
      );

      api.get(
        "/events/heatmap",
        {
          config: { access: { permission: "audit:read" } },
          schema: {
            tags,
            summary: "A developer's activity by weekday and hour, in the developer's own time zone",
            querystring: heatmapQuery,
            response: { 200: heatmapResponse },
          },
        },
        async (req) => {
          const to = req.query.to ? new Date(req.query.to) : new Date(Date.now() + 60_000);
          const from = req.query.from ? new Date(req.query.from) : new Date(to.getTime() - 90 * 86_400_000);
          if (from >= to) throw new AppError("bad_request", "from must be before to");
          const h = await service.heatmap(req.query.developerId, from, to);
          return {
            ...h,
            from: from.toISOString(),
            to: to.toISOString(),
            total: h.cells.reduce((s, c) => s + c.n, 0),
          };
        },
      );

      api.get(
        "/events/:id",
        {
          config: { access: { permission: "audit:read" } },
          schema: {
            tags,
            summary:
              "One event: the logged entry, its OCSF form, the original record and its inclusion proof",
            params: idParam,
            response: { 200: eventDetailSchema },
          },
        },
        async (req) => {
          const d = await service.get(req.params.id);
          return {
            ...presentSummary(d),
            entry: d.entry as unknown as Record<string, unknown>,
            ocsf: d.ocsf as unknown as Record<string, unknown>,
            original: d.original,
            proof: d.proof,
          };
        },
      );

      api.get(
        "/events/:id/receipt",
        {
          config: { access: { permission: "audit:read" } },
          schema: {
            tags,
            summary: "A C2SP tlog-proof receipt for the event (text/plain), verifiable offline",
            params: idParam,
          },
        },
        async (req, reply) => {
          const d = await service.get(req.params.id);
          if (!d.proof) throw new AppError("not_found", "the event is not in a signed checkpoint yet");
          return reply
            .type("text/plain; charset=utf-8")
            .header("content-disposition", `attachment; filename="event-${d.index}.tlog-proof"`)
            .send(d.proof.receipt);
        },
      );

      api.get(
        "/log",
        {
          config: { access: { permission: "audit:read" } },
          schema: {
            tags: ["log"],
            summary: "The log's origin, verifier key, size, root and latest signed checkpoint",
            response: { 200: logInfoSchema },
          },
        },
        async () => {
          const t = await service.tlog();
          const checkpoint = await t.checkpoint();
          const head = await t.head();
          return {
            origin: await service.origin(),
            verifierKey: await service.verifierKey(),
            size: head.size,
            root: Buffer.from(head.root).toString("base64"),
            prunedBefore: await t.prunedBefore(),
            checkpoint,
          };
        },
      );

      api.get(
        "/log/checkpoint",
        {
          config: { access: { permission: "audit:read" } },
          schema: {
            tags: ["log"],
            summary:
              "The signed checkpoint at a tree size (default: current), text/plain; signed now if never signed",
            querystring: z.object({ size: z.coerce.number().int().min(0).optional() }).strict(),
          },
        },
        async (req, reply) => {
          const t = await service.tlog();
          const note =
            req.query.size === undefined ? await t.checkpoint() : await t.checkpointAt(req.query.size);
          return reply.type("text/plain; charset=utf-8").send(note);
        },
      );

      api.get(
        "/log/proof/inclusion",
        {
          config: { access: { permission: "audit:read" } },
          schema: {
            tags: ["log"],
            summary: "RFC 9162 inclusion proof of entry `index` in the tree of `size` (default: current)",
            querystring: inclusionQuery,
            response: {
              200: z.object({ index: z.number().int(), size: z.number().int(), hashes: z.array(z.string()) }),
            },
          },
        },
        async (req) => {
          const p = await (await service.tlog()).inclusionProof(req.query.index, req.query.size);
          return {
            index: p.index,
            size: p.size,
            hashes: p.proof.map((h) => Buffer.from(h).toString("base64")),
          };
        },
      );

      api.get(
        "/log/proof/consistency",
        {
          config: { access: { permission: "audit:read" } },
          schema: {
            tags: ["log"],
            summary: "RFC 9162 consistency proof between two tree sizes (`to` default: current)",
            querystring: consistencyQuery,
            response: {
              200: z.object({ from: z.number().int(), to: z.number().int(), hashes: z.array(z.string()) }),
            },
          },
        },
        async (req) => {
          const p = await (await service.tlog()).consistencyProof(req.query.from, req.query.to);
          return {
            from: p.oldSize,
            to: p.newSize,
            hashes: p.proof.map((h) => Buffer.from(h).toString("base64")),
          };
        },
      );

      api.post(
        "/log/verify",
        {
          config: { access: { permission: "audit:read", scope: "read" } },
          schema: {
            tags: ["log"],
            summary:
              "Verify the whole store: every entry against its leaf, every tile, every signed checkpoint (and the ones you send)",
            body: z.object({ checkpoints: z.array(z.string().max(10_000)).max(20).default([]) }).strict(),
            response: { 200: verifyResponse },
          },
        },
        async (req) => {
          for (const note of req.body.checkpoints) {
            try {
              await service.openCheckpoint(note);
            } catch (e) {
              throw new AppError(
                "bad_request",
                `a checkpoint you sent does not verify with this log's key: ${(e as Error).message}`,
              );
            }
          }
          return service.verify({ trusted: req.body.checkpoints });
        },
      );

      api.get(
        "/log/retention",
        {
          config: { access: { permission: "settings:read" } },
          schema: {
            tags: ["log"],
            summary: "How long events of each OCSF class are kept, and what was pruned",
            response: { 200: retentionResponse },
          },
        },
        async () => retention.get(),
      );

      api.put(
        "/log/retention",
        {
          config: { access: { permission: "settings:write" } },
          schema: {
            tags: ["log"],
            summary: "Set retention per OCSF class (days; null keeps forever)",
            body: retentionSchema,
            response: { 200: retentionResponse },
          },
        },
        async (req) => retention.set(req.ctx, req.body),
      );

      api.post(
        "/ingest/events",
        {
          config: { access: { permission: "events:ingest", scope: "ingest" } },
          bodyLimit: 16 * 1024 * 1024,
          schema: {
            tags: ["ingest"],
            summary: "Append a batch of events (NDJSON, one record per line); answered once durable",
            description:
              'Each line is {"source":"git-hook",...}, {"source":"github-audit","event":{...}}, {"source":"gitlab-audit","event":{...}} or {"source":"ocsf","event":{...OCSF...}}. The batch is appended whole or not at all. Events are idempotent by source and source event id: a repeat answers duplicate: true with the first event\'s id. Under overload the answer is 429 with Retry-After; retry the same batch.',
            response: { 200: ingestResponse },
          },
        },
        async (req) => {
          const body = req.body;
          if (typeof body !== "string")
            throw new AppError("unsupported_media_type", "Send NDJSON (Content-Type: application/x-ndjson)");
          const events: OcsfEvent[] = [];
          const lines: number[] = [];
          const fields: { field: string; message: string }[] = [];
          let n = 0;
          for (const raw of body.split("\n")) {
            n++;
            const line = raw.trim();
            if (!line) continue;
            if (events.length + fields.length >= MAX_LINES)
              throw new AppError("payload_too_large", `send at most ${MAX_LINES} events per request`);
            if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
              fields.push({ field: `line ${n}`, message: `longer than ${MAX_LINE_BYTES} bytes` });
              continue;
            }
            try {
              events.push(
                normaliseIngestRecord(JSON.parse(line), { raw: line, resolveActor: deps.resolveActor }),
              );
              lines.push(n);
            } catch (e) {
              fields.push({
                field: `line ${n}`,
                message: e instanceof SyntaxError ? "is not JSON" : (e as Error).message.slice(0, 300),
              });
            }
          }
          if (fields.length > 0) {
            throw new AppError(
              "validation_failed",
              `${fields.length} line(s) are not valid events (first: ${fields[0]!.field}: ${fields[0]!.message}); nothing was appended`,
              { fields: fields.slice(0, 50) },
            );
          }
          if (events.length === 0) throw new AppError("bad_request", "The body holds no events");
          const outcomes = await appender.appendEvents(events);
          return {
            accepted: outcomes.filter((o) => !o.duplicate).length,
            duplicates: outcomes.filter((o) => o.duplicate).length,
            events: outcomes.map((o, i) => ({ line: lines[i]!, ...o })),
          };
        },
      );
    });
  };
}
