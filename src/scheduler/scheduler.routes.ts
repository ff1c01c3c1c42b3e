import { z } from "zod";
import type { AuditService } from "../audit/index.ts";
import type { Api } from "../http/server.ts";
import type { Scheduler } from "./scheduler.service.ts";

const tags = ["scheduler"];
const summarySchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const taskStatusSchema = z.object({
  name: z.string(),
  description: z.string(),
  everyMs: z.number().int(),
  nextRunAt: z.date(),
  running: z.boolean(),
  lastStartedAt: z.date().nullable(),
  lastFinishedAt: z.date().nullable(),
  lastOutcome: z.enum(["ok", "failed"]).nullable(),
  lastError: z.string().nullable(),
  lastSummary: summarySchema,
  runs: z.number().int(),
  failures: z.number().int(),
  consecutiveFailures: z.number().int(),
});
const taskRunSchema = z.object({
  name: z.string(),
  outcome: z.enum(["ok", "failed"]),
  summary: summarySchema,
  error: z.string().optional(),
});
const nameParam = z.object({ name: z.string().regex(/^[a-z][a-z0-9.:-]{0,79}$/, "a task name") });

export function schedulerRoutes(scheduler: Scheduler, audit: AuditService) {
  return async (api: Api) => {
    api.get(
      "/scheduler/tasks",
      {
        config: { access: { permission: "settings:read" } },
        schema: {
          tags,
          summary: "Background tasks: when each last ran, how it went, and when it runs next",
          response: { 200: z.object({ items: z.array(taskStatusSchema) }) },
        },
      },
      async () => ({ items: await scheduler.status() }),
    );
    api.post(
      "/scheduler/tasks/:name/run",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary: "Run a background task now",
          params: nameParam,
          response: { 200: taskRunSchema },
        },
      },
      async (req) => {
        const run = await scheduler.runNow(req.params.name);
        await audit.recordAlone(req.ctx, {
          action: "scheduler.run",
          target: { type: "task", id: run.name },
          outcome: run.outcome === "ok" ? "success" : "failure",
          summary: run.summary,
        });
        return run;
      },
    );
  };
}
