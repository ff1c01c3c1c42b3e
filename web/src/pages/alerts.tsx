import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, isApiError, type Page as ListPage } from "../api.ts";
import { Page, Section } from "../components/page.tsx";
import { FilterSelect, Pager, SearchBox, useListParams } from "../components/pager.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";
import {
  AlertTimeline,
  SEVERITIES,
  SEVERITY_COLOUR,
  type Severity,
  type Timeline,
} from "./alert-timeline.tsx";

export type AlertStatus = "open" | "acknowledged" | "resolved";

export interface Alert {
  id: string;
  ruleId: string;
  title: string;
  severity: Severity;
  status: AlertStatus;
  groupKey: string;
  summary: string;
  details: Record<string, unknown>;
  developer: { id: string; name: string | null } | null;
  assignee: { id: string; name: string | null } | null;
  count: number;
  firstSeen: string;
  lastSeen: string;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
}

interface AlertDetail extends Alert {
  events: { eventId: string; at: string; label: string }[];
  activity: {
    id: string;
    at: string;
    actor: { id: string | null; label: string };
    kind: "opened" | "note" | "status" | "assign" | "severity";
    body: string;
    data: Record<string, unknown>;
  }[];
}

interface StaffUser {
  id: string;
  displayName: string;
  role: string;
  disabled: boolean;
}

const STATUS_LABEL: Record<AlertStatus, string> = {
  open: "Open",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
};

export function SeverityTag({ severity }: { severity: Severity }) {
  return (
    <span className="severity">
      <span className="swatch" style={{ background: SEVERITY_COLOUR[severity] }} aria-hidden="true" />
      {severity}
    </span>
  );
}

function StatusTag({ status }: { status: AlertStatus }) {
  return (
    <Tag tone={status === "open" ? "bad" : status === "acknowledged" ? "warn" : "muted"}>
      {STATUS_LABEL[status]}
    </Tag>
  );
}

const HOUR = 3_600_000;

/** Alerts, newest activity first: the timeline picture, filters, the list. */
export function AlertsPage() {
  const user = useUser();
  const p = useListParams();
  const q = new URLSearchParams({ limit: String(p.limit), offset: String(p.offset) });
  for (const k of ["status", "severity", "ruleId", "q", "from", "to", "developerId"])
    if (p.get(k)) q.set(k, p.get(k));
  if (!p.get("status") && !p.get("all")) q.set("status", "open,acknowledged");
  const list = useResource<ListPage<Alert>>(`/alerts?${q}`);
  const timeline = useResource<Timeline>("/alerts/timeline");
  const rules = useResource<{ builtin: { id: string; title: string }[] }>("/alerts/rules");
  // One update for both bounds: two setFilter calls in a row would keep only the second.
  const pickHour = (hour: string) =>
    p.setFilters({ from: hour, to: new Date(Date.parse(hour) + HOUR).toISOString() });
  return (
    <Page
      title="Alerts"
      lead="What the detection rules raised from the log, and what people did about it."
      actions={
        <>
          <Link className="button" to="/alerts/rules">
            Rules
          </Link>
          {can.readSettings(user) && (
            <Link className="button" to="/alerts/forwarding">
              SIEM forwarding
            </Link>
          )}
        </>
      }
    >
      <Section title="Last 7 days">
        {timeline.error && <ErrorBox error={timeline.error} what="The alert timeline" />}
        {timeline.loading && !timeline.data && <Loading lines={6} />}
        {timeline.data && (
          <>
            <AlertTimeline data={timeline.data} onPickHour={pickHour} />
            <p className="muted">
              Open: {sumOf(timeline.data.totals.open)} · acknowledged:{" "}
              {sumOf(timeline.data.totals.acknowledged)} · resolved: {sumOf(timeline.data.totals.resolved)}
            </p>
          </>
        )}
      </Section>
      <div className="toolbar">
        <FilterSelect
          id="alert-status"
          label="Status"
          value={p.get("status")}
          allLabel="Open and acknowledged"
          options={[
            { value: "open", label: "Open" },
            { value: "acknowledged", label: "Acknowledged" },
            { value: "resolved", label: "Resolved" },
            { value: "open,acknowledged,resolved", label: "All" },
          ]}
          onChange={(v) => p.setFilter("status", v)}
        />
        <FilterSelect
          id="alert-severity"
          label="Severity"
          value={p.get("severity")}
          options={[
            { value: "critical", label: "Critical" },
            { value: "high,critical", label: "High and above" },
            { value: "medium,high,critical", label: "Medium and above" },
            ...SEVERITIES.filter((s) => s !== "critical").map((s) => ({ value: s, label: `Only ${s}` })),
          ]}
          onChange={(v) => p.setFilter("severity", v)}
        />
        <FilterSelect
          id="alert-rule"
          label="Rule"
          value={p.get("ruleId")}
          options={ruleOptions(rules.data?.builtin ?? [], list.data?.items ?? [], p.get("ruleId"))}
          onChange={(v) => p.setFilter("ruleId", v)}
        />
        <SearchBox label="Search" value={p.get("q")} onChange={(v) => p.setFilter("q", v)} />
        {(p.get("from") || p.get("to") || p.get("developerId")) && (
          <button
            type="button"
            className="small"
            onClick={() => p.setFilters({ from: "", to: "", developerId: "" })}
          >
            Clear {p.get("from") ? `hour ${p.get("from").slice(0, 13).replace("T", " ")}:00` : "developer"}
          </button>
        )}
      </div>
      {list.error && <ErrorBox error={list.error} what="Alerts" />}
      {list.loading && !list.data && <Loading lines={8} />}
      {list.data?.items.length === 0 && <Empty>No alerts match. Quiet is good.</Empty>}
      {list.data && list.data.items.length > 0 && (
        <>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Alert</th>
                  <th scope="col">Developer</th>
                  <th scope="col" className="num">
                    Hits
                  </th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Status</th>
                  <th scope="col">Assignee</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <SeverityTag severity={a.severity} />
                    </td>
                    <td>
                      <Link to={`/alerts/${a.id}`}>{a.title}</Link>
                      <div className="muted small-text">{a.summary}</div>
                    </td>
                    <td>
                      {a.developer ? (
                        <Link to={`/developers/${a.developer.id}`}>{a.developer.name}</Link>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td className="num">{a.count}</td>
                    <td className="nowrap">{dateTime(a.lastSeen)}</td>
                    <td>
                      <StatusTag status={a.status} />
                    </td>
                    <td>{a.assignee?.name ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager total={list.data.total} offset={p.offset} limit={p.limit} onChange={p.setOffset} />
        </>
      )}
    </Page>
  );
}

/**
 * The built-in rules, and the Sigma rules (ids `sigma:…`) of the alerts listed: their ids come from the
 * YAML, so the alerts are where the page learns them. The selected one stays listed.
 */
function ruleOptions(builtin: { id: string; title: string }[], alerts: Alert[], selected: string) {
  const options = builtin.map((r) => ({ value: r.id, label: r.title }));
  const seen = new Set(options.map((o) => o.value));
  for (const a of alerts)
    if (!seen.has(a.ruleId)) {
      seen.add(a.ruleId);
      options.push({ value: a.ruleId, label: `Sigma: ${a.title}` });
    }
  if (selected && !seen.has(selected)) options.push({ value: selected, label: selected });
  return options;
}

const sumOf = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

/** One alert: facts, the events behind it, and its timeline of people's actions; change it here. */
export function AlertPage() {
  const { id } = useParams();
  const user = useUser();
  const a = useResource<AlertDetail>(`/alerts/${id}`);
  if (a.error) return <Page title="Alert">{<ErrorBox error={a.error} />}</Page>;
  if (!a.data) return <Loading lines={10} />;
  const alert = a.data;
  const writable = can.writeAlerts(user);
  return (
    <Page title={alert.title} lead={alert.summary}>
      <div className="grid-2">
        <Section title="Facts">
          <dl className="facts">
            <dt>Severity</dt>
            <dd>
              <SeverityTag severity={alert.severity} />
            </dd>
            <dt>Status</dt>
            <dd>
              <StatusTag status={alert.status} />
              {alert.resolvedAt && <span className="muted"> on {dateTime(alert.resolvedAt)}</span>}
            </dd>
            <dt>Rule</dt>
            <dd>
              <code>{alert.ruleId}</code>
            </dd>
            <dt>Grouped by</dt>
            <dd>
              <code>{alert.groupKey}</code>
            </dd>
            <dt>Hits</dt>
            <dd>{alert.count}</dd>
            <dt>First seen</dt>
            <dd>{dateTime(alert.firstSeen)}</dd>
            <dt>Last seen</dt>
            <dd>{dateTime(alert.lastSeen)}</dd>
            <dt>Developer</dt>
            <dd>
              {alert.developer ? (
                <Link to={`/developers/${alert.developer.id}`}>
                  {alert.developer.name ?? alert.developer.id}
                </Link>
              ) : (
                "—"
              )}
            </dd>
            <dt>Assignee</dt>
            <dd>{alert.assignee?.name ?? "nobody"}</dd>
          </dl>
          <Details details={alert.details} />
        </Section>
        {writable ? (
          <WorkflowPanel alert={alert} onChanged={a.reload} />
        ) : (
          <Section title="Workflow">
            <p className="muted">Your role may read alerts; security officers and admins work them.</p>
          </Section>
        )}
      </div>
      <Section
        title={`Events behind this alert (${alert.events.length}${alert.count > alert.events.length ? ` of ${alert.count}` : ""})`}
      >
        {alert.events.length === 0 ? (
          <Empty>No event links are kept for this alert.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">In the log</th>
              </tr>
            </thead>
            <tbody>
              {alert.events.map((e) => (
                <tr key={e.eventId}>
                  <td className="nowrap">{dateTime(e.at)}</td>
                  <td>{e.label}</td>
                  <td>
                    <Link to={`/events/${e.eventId}`} title="The event with its inclusion proof">
                      <code>{e.eventId.slice(0, 8)}</code>
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Timeline">
        <ol className="activity">
          {alert.activity.map((x) => (
            <li key={x.id}>
              <span className="nowrap muted">{dateTime(x.at)}</span> <strong>{x.actor.label}</strong>{" "}
              {activityText(x)}
              {x.body && x.kind !== "opened" && x.kind !== "assign" && <blockquote>{x.body}</blockquote>}
            </li>
          ))}
        </ol>
      </Section>
    </Page>
  );
}

function activityText(x: AlertDetail["activity"][number]): string {
  switch (x.kind) {
    case "opened":
      return "opened the alert";
    case "note":
      return "added a note";
    case "status":
      return `changed the status from ${x.data.from} to ${x.data.to}`;
    case "severity":
      return `changed the severity from ${x.data.from} to ${x.data.to}`;
    case "assign":
      return x.body;
  }
}

function Details({ details }: { details: Record<string, unknown> }) {
  const entries = Object.entries(details).filter(([, v]) => v !== undefined && v !== null);
  if (entries.length === 0) return null;
  return (
    <details className="details">
      <summary>Rule details</summary>
      <pre className="mono">{JSON.stringify(details, null, 2)}</pre>
    </details>
  );
}

function WorkflowPanel({ alert, onChanged }: { alert: AlertDetail; onChanged(): void }) {
  const users = useResource<ListPage<StaffUser>>("/users?limit=200");
  const [comment, setComment] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const act = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await f();
      setComment("");
      onChanged();
    } catch (e) {
      setError(isApiError(e) ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const patch = (body: Record<string, unknown>) =>
    act(() =>
      api.patch(`/alerts/${alert.id}`, { ...body, ...(comment.trim() ? { comment: comment.trim() } : {}) }),
    );
  const staff = (users.data?.items ?? []).filter((u) => u.role !== "developer" && !u.disabled);
  return (
    <Section title="Workflow">
      {error && (
        <div className="error-box" role="alert">
          {error}
        </div>
      )}
      <div className="field">
        <label htmlFor="alert-comment">Comment for the change (optional)</label>
        <input
          id="alert-comment"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          maxLength={4000}
        />
      </div>
      <div className="button-row">
        {alert.status === "open" && (
          <button type="button" disabled={busy} onClick={() => patch({ status: "acknowledged" })}>
            Acknowledge
          </button>
        )}
        {alert.status !== "resolved" && (
          <button type="button" disabled={busy} onClick={() => patch({ status: "resolved" })}>
            Resolve
          </button>
        )}
        {alert.status === "resolved" && (
          <button type="button" disabled={busy} onClick={() => patch({ status: "open" })}>
            Reopen
          </button>
        )}
      </div>
      <div className="toolbar">
        <div className="field">
          <label htmlFor="alert-assignee">Assignee</label>
          <select
            id="alert-assignee"
            value={alert.assignee?.id ?? ""}
            disabled={busy || !users.data}
            onChange={(e) => patch({ assigneeId: e.target.value || null })}
          >
            <option value="">Nobody</option>
            {staff.map((u) => (
              <option key={u.id} value={u.id}>
                {u.displayName} ({u.role})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="alert-severity">Severity</label>
          <select
            id="alert-severity"
            value={alert.severity}
            disabled={busy}
            onChange={(e) => patch({ severity: e.target.value })}
          >
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!note.trim()) return;
          void act(async () => {
            await api.post(`/alerts/${alert.id}/notes`, { body: note.trim() });
            setNote("");
          });
        }}
      >
        <div className="field">
          <label htmlFor="alert-note">Note</label>
          <textarea
            id="alert-note"
            rows={3}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            maxLength={4000}
          />
        </div>
        <button type="submit" disabled={busy || !note.trim()}>
          Add note
        </button>
      </form>
    </Section>
  );
}
