/**
 * One NDJSON line of POST /api/v1/ingest/events → OCSF. The HTTP route (the lead's) authenticates the
 * ingest token, splits the body into lines and calls this per line; idempotency uses
 * (warden.source, metadata.uid). Accepted shapes:
 *   {"source":"git-hook", ...}                     records from `warden hooks git` scripts
 *   {"source":"github-audit","event":{...}}        a GitHub audit log streaming event
 *   {"source":"gitlab-audit","event":{...}}        a GitLab streamed audit event
 *   {"source":"ocsf","event":{...OCSF...}}         an event already in OCSF (class_uid, time, metadata...)
 */
import { z } from "zod";
import { AppError } from "../core/errors.ts";
import { normaliseGitHubAuditEvent, normaliseGitLabAuditEvent } from "./git-audit.ts";
import { normaliseGitHookRecord } from "./git-hooks.ts";
import { attributeActor, type OcsfEvent, type ResolveActor } from "./ocsf.types.ts";

const wrapped = z.object({ source: z.string().min(1).max(64), event: z.record(z.string(), z.unknown()) });

const ocsfShape = z
  .object({
    class_uid: z.number().int().positive(),
    category_uid: z.number().int().nonnegative(),
    activity_id: z.number().int().nonnegative(),
    type_uid: z.number().int().nonnegative(),
    time: z.number(),
    severity_id: z.number().int().min(0).max(99),
    status_id: z.number().int().min(0).max(99).default(0),
    metadata: z
      .object({ version: z.string(), product: z.object({ name: z.string() }).passthrough() })
      .passthrough(),
  })
  .passthrough();

export function normaliseIngestRecord(
  record: unknown,
  opts: { raw?: string; resolveActor?: ResolveActor } = {},
): OcsfEvent {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new AppError("validation_failed", "an ingest record must be a JSON object");
  }
  const source = (record as { source?: unknown }).source;
  let event: OcsfEvent;
  if (source === "git-hook") {
    event = normaliseGitHookRecord(record, opts.raw);
  } else {
    const w = wrapped.safeParse(record);
    if (!w.success) {
      throw new AppError(
        "validation_failed",
        'an ingest record needs "source" and, except for git-hook, "event"',
        {
          fields: [{ field: "source", message: "expected git-hook, github-audit, gitlab-audit or ocsf" }],
        },
      );
    }
    const raw = opts.raw ?? JSON.stringify(w.data.event);
    if (w.data.source === "github-audit") event = normaliseGitHubAuditEvent(w.data.event, raw);
    else if (w.data.source === "gitlab-audit") event = normaliseGitLabAuditEvent(w.data.event, raw);
    else if (w.data.source === "ocsf") {
      const o = ocsfShape.safeParse(w.data.event);
      if (!o.success)
        throw new AppError("validation_failed", `not an OCSF event: ${z.prettifyError(o.error)}`);
      event = {
        ...(o.data as unknown as OcsfEvent),
        raw_data: (o.data.raw_data as string | undefined) ?? raw,
      };
      event.warden = { ...(event.warden ?? {}), source: "ocsf" };
    } else {
      throw new AppError(
        "validation_failed",
        `unknown ingest source ${JSON.stringify(w.data.source).slice(0, 80)}`,
      );
    }
  }
  return attributeActor(event, opts.resolveActor);
}
