/**
 * `warden events` (search the log, every source; export it as OCSF) and `warden alerts` (list, show and
 * work alerts): clients of /api/v1/events and /api/v1/alerts.
 */
import { createWriteStream } from "node:fs";
import type http from "node:http";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { isUuid } from "../core/schemas.ts";
import { type ApiClient, api, failOnProblem, readResponse } from "./client.ts";
import { CliError, EXIT, printJson, printTable } from "./output.ts";

interface FilterOptions {
  developer?: string;
  vendor?: string;
  action?: string;
  resource?: string;
  outcome?: string;
  ip?: string;
  source?: string;
  class?: string;
  from?: string;
  to?: string;
  text?: string;
}

function withFilters(c: Command): Command {
  return c
    .option("--developer <id or email>", "events by or about this developer")
    .option("--vendor <id>", "events of this vendor's developers")
    .option("--action <prefix>", "actions starting with this, e.g. git. or authentication.")
    .option("--resource <text>", "the resource touched (repository, server, record id)")
    .option("--outcome <outcome>", "success, failure or other")
    .option("--ip <address>", "source address (or its beginning, e.g. 203.0.113.)")
    .option(
      "--source <source>",
      "where it came from: warden, syslog, git-hook, github-audit, gitlab-audit, ocsf",
    )
    .option("--class <uid>", "OCSF class, e.g. 3002 (Authentication), 6006 (File Hosting Activity)")
    .option("--from <time>", "from this instant (ISO 8601, e.g. 2026-11-01 or 2026-11-01T09:00:00Z)")
    .option("--to <time>", "until this instant (exclusive)")
    .option("--text <words>", "free text");
}

/** A date or instant as the API wants it (ISO 8601 with an offset). */
function instant(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(ms))
    throw new CliError(
      `--${flag}: not a date or time: ${v}`,
      EXIT.usage,
      "Use e.g. 2026-11-01 or 2026-11-01T09:00:00Z",
    );
  return new Date(ms).toISOString();
}

async function developerId(client: ApiClient, who: string): Promise<string> {
  if (isUuid(who)) return who;
  const found = await client.request<{ items: { id: string; email: string }[] }>(
    "GET",
    `/api/v1/developers?q=${encodeURIComponent(who)}&limit=5`,
  );
  failOnProblem(found);
  const exact = found.body.items.filter((d) => d.email.toLowerCase() === who.toLowerCase());
  if (exact.length !== 1)
    throw new CliError(
      `No developer with email ${who}`,
      EXIT.notFound,
      "Use `warden developers list` to find the id",
    );
  return exact[0]!.id;
}

async function filterParams(client: ApiClient, o: FilterOptions): Promise<URLSearchParams> {
  const p = new URLSearchParams();
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== "") p.set(k, v);
  };
  if (o.developer) set("developerId", await developerId(client, o.developer));
  set("vendorId", o.vendor);
  set("action", o.action);
  set("resource", o.resource);
  set("outcome", o.outcome);
  set("sourceIp", o.ip);
  set("source", o.source);
  set("classUid", o.class);
  set("from", instant("from", o.from));
  set("to", instant("to", o.to));
  set("q", o.text);
  return p;
}

interface EventSummary {
  id: string;
  index: number;
  at: string;
  className: string;
  action: string;
  outcome: string;
  source: string;
  actor: { label: string | null };
  developer: { name: string | null } | null;
  resource: { type: string | null; id: string | null } | null;
  srcIp: string | null;
}

interface AlertView {
  id: string;
  ruleId: string;
  title: string;
  severity: string;
  status: string;
  summary: string;
  developer: { name: string | null } | null;
  assignee: { name: string | null } | null;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

export function registerEventsCommands(program: Command): void {
  const events = program
    .command("events")
    .description(
      "The event log: every source (Warden, sshd, Git, GitHub, GitLab), searched and exported as OCSF",
    );

  withFilters(events.command("search"))
    .description("Search events, newest first")
    .option("--limit <n>", "how many (at most 500)", "50")
    .option("--json", "machine-readable output")
    .addHelpText(
      "after",
      "\nExamples:\n  warden events search --developer ana@acme.example --from 2026-11-01\n  warden events search --class 3002 --outcome failure --ip 203.0.113.9 --json",
    )
    .action(async (o: FilterOptions & { limit: string; json?: boolean }) => {
      const client = await api();
      const p = await filterParams(client, o);
      p.set("limit", o.limit);
      const res = await client.request<{ items: EventSummary[]; nextBeforeIndex: number | null }>(
        "GET",
        `/api/v1/events?${p}`,
      );
      failOnProblem(res);
      if (o.json) return printJson(res.body);
      printTable(
        res.body.items.map((e) => ({
          index: e.index,
          at: e.at,
          class: e.className,
          action: e.action,
          outcome: e.outcome,
          actor: e.actor.label,
          developer: e.developer?.name,
          resource: e.resource ? [e.resource.type, e.resource.id].filter(Boolean).join(":") : null,
          address: e.srcIp,
          id: e.id,
        })),
        ["index", "at", "class", "action", "outcome", "actor", "developer", "resource", "address", "id"],
      );
    });

  withFilters(events.command("export"))
    .description("Export matching events as OCSF (NDJSON: one event a line; or a JSON array)")
    .option("--format <format>", "ndjson or json", "ndjson")
    .option("--limit <n>", "at most this many events", "100000")
    .option("--out <file>", "write here instead of standard output")
    .addHelpText(
      "after",
      "\nExamples:\n  warden events export --from 2026-11-01 --to 2026-12-01 --out november.ndjson\n  warden events export --source syslog --format json | jq length",
    )
    .action(async (o: FilterOptions & { format: string; limit: string; out?: string }) => {
      if (o.format !== "ndjson" && o.format !== "json")
        throw new CliError(`--format: expected ndjson or json, got ${o.format}`, EXIT.usage);
      const client = await api();
      const p = await filterParams(client, o);
      p.set("format", o.format);
      p.set("limit", o.limit);
      const res = await openStream(client, `/api/v1/events/export?${p}`);
      const sink = o.out ? createWriteStream(o.out) : process.stdout;
      await pipeline(res, sink, { end: !!o.out });
      if (o.out) process.stderr.write(`Events written to ${o.out}\n`);
    });

  const alerts = program
    .command("alerts")
    .description("Alerts the detection rules raised, and their workflow");
  alerts
    .command("list")
    .description("List alerts, latest activity first (default: open and acknowledged)")
    .option("--status <list>", "open, acknowledged, resolved (comma-separated)", "open,acknowledged")
    .option("--severity <list>", "informational, low, medium, high, critical (comma-separated)")
    .option("--rule <id>", "only this rule, e.g. failed-login-burst")
    .option("--developer <id or email>", "alerts about this developer")
    .option("--text <words>", "free text")
    .option("--limit <n>", "how many", "50")
    .option("--json", "machine-readable output")
    .action(
      async (o: {
        status: string;
        severity?: string;
        rule?: string;
        developer?: string;
        text?: string;
        limit: string;
        json?: boolean;
      }) => {
        const client = await api();
        const p = new URLSearchParams({ status: o.status, limit: o.limit });
        if (o.severity) p.set("severity", o.severity);
        if (o.rule) p.set("ruleId", o.rule);
        if (o.developer) p.set("developerId", await developerId(client, o.developer));
        if (o.text) p.set("q", o.text);
        const res = await client.request<{ items: AlertView[]; total: number }>("GET", `/api/v1/alerts?${p}`);
        failOnProblem(res);
        if (o.json) return printJson(res.body);
        printTable(
          res.body.items.map((a) => ({
            id: a.id,
            severity: a.severity,
            status: a.status,
            title: a.title,
            hits: a.count,
            developer: a.developer?.name,
            assignee: a.assignee?.name,
            "last seen": a.lastSeen,
          })),
          ["id", "severity", "status", "title", "hits", "developer", "assignee", "last seen"],
        );
        if (res.body.total > res.body.items.length)
          process.stderr.write(`(${res.body.items.length} of ${res.body.total}; use --limit)\n`);
      },
    );

  alerts
    .command("show <id>")
    .description("An alert with the events behind it and what people did")
    .option("--json", "machine-readable output")
    .action(async (id: string, o: { json?: boolean }) => {
      const res = await (await api()).request<
        AlertView & {
          groupKey: string;
          events: { eventId: string; at: string; label: string }[];
          activity: {
            at: string;
            actor: { label: string };
            kind: string;
            body: string;
            data: { from?: unknown; to?: unknown };
          }[];
        }
      >("GET", `/api/v1/alerts/${encodeURIComponent(id)}`);
      failOnProblem(res);
      const a = res.body;
      if (o.json) return printJson(a);
      const out = process.stdout;
      out.write(`${a.title} [${a.severity}, ${a.status}]\n${a.summary}\n`);
      out.write(
        `rule ${a.ruleId}, grouped by ${a.groupKey}; ${a.count} hit(s) ${a.firstSeen} … ${a.lastSeen}\n`,
      );
      if (a.developer) out.write(`developer: ${a.developer.name}\n`);
      out.write(
        `assignee: ${a.assignee?.name ?? "nobody"}\n\nEvents (ids in the log: warden audit prove ID):\n`,
      );
      for (const e of a.events) out.write(`  ${e.at}  ${e.eventId}  ${e.label}\n`);
      out.write("\nActivity:\n");
      for (const x of a.activity) {
        const change = x.data?.to !== undefined ? ` ${x.data.from ?? "-"} → ${x.data.to ?? "-"}` : "";
        const what = x.kind === "assign" ? x.body : `${x.kind}${change}${x.body ? ` — ${x.body}` : ""}`;
        out.write(`  ${x.at}  ${x.actor.label}: ${what}\n`);
      }
    });

  const change = (name: string, status: string, what: string) =>
    alerts
      .command(`${name} <id>`)
      .description(what)
      .option("--comment <text>", "why (kept on the alert's timeline)")
      .action(async (id: string, o: { comment?: string }) => {
        const res = await (await api()).request<AlertView>(
          "PATCH",
          `/api/v1/alerts/${encodeURIComponent(id)}`,
          {
            status,
            ...(o.comment ? { comment: o.comment } : {}),
          },
        );
        failOnProblem(res);
        process.stdout.write(`${res.body.title}: ${res.body.status}\n`);
      });
  change("ack", "acknowledged", "Acknowledge an alert (someone is on it)");
  change("resolve", "resolved", "Resolve an alert");
  change("reopen", "open", "Reopen a resolved alert");
}

/** Opens a GET whose body is streamed (exports); a problem answer becomes a CLI error. */
function openStream(client: ApiClient, urlPath: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    client
      .open(
        "GET",
        urlPath,
        { accept: "application/x-ndjson, application/json, application/problem+json" },
        (res) => {
          if (res.statusCode === 200) resolve(res);
          else
            readResponse(res).then((r) => {
              try {
                failOnProblem(r);
                reject(new CliError(`Unexpected answer ${r.status}`, EXIT.failure));
              } catch (e) {
                reject(e);
              }
            }, reject);
        },
        10 * 60_000,
      )
      .then((req) => {
        req.on("error", (e) => reject(new CliError(`The export broke off: ${e.message}`, EXIT.unavailable)));
        req.end();
      }, reject);
  });
}
