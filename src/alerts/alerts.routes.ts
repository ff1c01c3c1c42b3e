import { idParam } from "../http/pagination.ts";
import type { Api } from "../http/server.ts";
import {
  alertDetailSchema,
  alertListQuery,
  alertPageSchema,
  alertPatch,
  noteInput,
  rulesSettingsBody,
  rulesViewSchema,
  ruleTestInput,
  ruleTestResultSchema,
  timelineQuery,
  timelineSchema,
} from "./alerts.schemas.ts";
import type { AlertsService } from "./alerts.service.ts";

const tags = ["alerts"];
const date = (s: string | undefined) => (s ? new Date(s) : undefined);

export function alertsRoutes(alerts: AlertsService) {
  return async (api: Api) => {
    api.get(
      "/alerts",
      {
        config: { access: { permission: "alerts:read" } },
        schema: {
          tags,
          summary: "Alerts, most recently active first, with filters",
          querystring: alertListQuery,
          response: { 200: alertPageSchema },
        },
      },
      async (req) => {
        const q = req.query;
        return alerts.list({
          ...q,
          unassigned: q.unassigned === "true",
          from: date(q.from),
          to: date(q.to),
        });
      },
    );
    api.get(
      "/alerts/timeline",
      {
        config: { access: { permission: "alerts:read" } },
        schema: {
          tags,
          summary: "Alerts opened per hour by severity (default: the last 7 days), and totals by status",
          querystring: timelineQuery,
          response: { 200: timelineSchema },
        },
      },
      async (req) => alerts.timeline({ ...req.query, from: date(req.query.from), to: date(req.query.to) }),
    );
    api.get(
      "/alerts/:id",
      {
        config: { access: { permission: "alerts:read" } },
        schema: {
          tags,
          summary: "One alert with the events behind it and what people did with it",
          params: idParam,
          response: { 200: alertDetailSchema },
        },
      },
      async (req) => alerts.get(req.params.id),
    );
    api.patch(
      "/alerts/:id",
      {
        config: { access: { permission: "alerts:write" } },
        schema: {
          tags,
          summary: "Acknowledge, resolve, reopen, assign or re-rate an alert",
          params: idParam,
          body: alertPatch,
          response: { 200: alertDetailSchema },
        },
      },
      async (req) => alerts.update(req.ctx, req.params.id, req.body),
    );
    api.post(
      "/alerts/:id/notes",
      {
        config: { access: { permission: "alerts:write" } },
        schema: {
          tags,
          summary: "Add a note to an alert",
          params: idParam,
          body: noteInput,
          response: { 201: alertDetailSchema },
        },
      },
      async (req, reply) => reply.code(201).send(await alerts.addNote(req.ctx, req.params.id, req.body.body)),
    );
    api.get(
      "/alerts/rules",
      {
        config: { access: { permission: "alerts:read" } },
        schema: {
          tags,
          summary: "The alert rules: built-in rules with their options, Sigma rules, notification settings",
          response: { 200: rulesViewSchema },
        },
      },
      async () => alerts.rules(),
    );
    api.put(
      "/alerts/rules",
      {
        config: { access: { permission: "settings:write" } },
        schema: {
          tags,
          summary: "Change the alert rules (takes effect for the next events)",
          body: rulesSettingsBody,
          response: { 200: rulesViewSchema },
        },
      },
      async (req) => alerts.setRules(req.ctx, req.body),
    );
    api.post(
      "/alerts/rules/test",
      {
        config: { access: { permission: "alerts:write" } },
        schema: {
          tags,
          summary: "Replay rules (saved or proposed) over past events: the alerts they would have raised",
          body: ruleTestInput,
          response: { 200: ruleTestResultSchema },
        },
      },
      async (req) =>
        alerts.testRules({ ...req.body, from: new Date(req.body.from), to: new Date(req.body.to) }),
    );
  };
}
