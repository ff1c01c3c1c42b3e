import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { ApiError, api } from "../api.ts";
import { Page } from "../components/page.tsx";
import { dateTime, Empty, ErrorBox, Loading, Tag } from "../components/status.tsx";
import { duration, relative } from "../components/time.ts";
import { useResource } from "../hooks.ts";
import { can, useUser } from "../session.tsx";

/** GET /scheduler/tasks: the in-process scheduler's background tasks and how their last run went. */
export interface TaskStatus {
  name: string;
  description: string;
  everyMs: number;
  nextRunAt: string;
  running: boolean;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  lastOutcome: "ok" | "failed" | null;
  lastError: string | null;
  lastSummary: Record<string, string | number | boolean>;
  runs: number;
  failures: number;
  consecutiveFailures: number;
}

interface TaskRun {
  name: string;
  outcome: "ok" | "failed";
  summary: Record<string, string | number | boolean>;
  error?: string;
}

const REFRESH_MS = 10_000;

export function JobsPage() {
  const user = useUser();
  const l = useResource<{ items: TaskStatus[] }>("/scheduler/tasks");
  const [now, setNow] = useState(Date.now());
  const { reload } = l;
  // The page is a status board: refresh while it is open so "running" and "next run" stay true.
  useEffect(() => {
    const t = setInterval(() => {
      setNow(Date.now());
      reload();
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [reload]);
  return (
    <Page
      title="Background jobs"
      lead="Sweeps, reminders and deadlines Warden runs on its own: when each last ran, how it went, and when it runs next."
      actions={
        <Link className="button" to="/settings">
          Settings
        </Link>
      }
    >
      {l.error && <ErrorBox error={l.error} what="The scheduler status" />}
      {l.loading && !l.data && <Loading lines={6} />}
      {l.data?.items.length === 0 && <Empty>No background tasks are registered on this server.</Empty>}
      {l.data && l.data.items.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Every</th>
                <th scope="col">Last run</th>
                <th scope="col">Outcome</th>
                <th scope="col">Next run</th>
                <th scope="col" className="num">
                  Runs / failures
                </th>
                {can.writeSettings(user) && (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {l.data.items.map((t) => (
                <TaskRow
                  key={t.name}
                  t={t}
                  now={now}
                  canRun={can.writeSettings(user)}
                  onRan={() => {
                    setNow(Date.now());
                    reload();
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

function Summary({ s }: { s: Record<string, string | number | boolean> }) {
  const entries = Object.entries(s);
  if (entries.length === 0) return null;
  return (
    <div className="hint">
      {entries.map(([k, v], i) => (
        <span key={k}>
          {i > 0 && " · "}
          {k}: <strong>{String(v)}</strong>
        </span>
      ))}
    </div>
  );
}

function TaskRow({ t, now, canRun, onRan }: { t: TaskStatus; now: number; canRun: boolean; onRan(): void }) {
  const [busy, setBusy] = useState(false);
  const [ran, setRan] = useState<TaskRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  async function run() {
    setBusy(true);
    setError(null);
    setRan(null);
    try {
      setRan(await api.post<TaskRun>(`/scheduler/tasks/${encodeURIComponent(t.name)}/run`));
      onRan();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }
  const took =
    t.lastStartedAt && t.lastFinishedAt ? Date.parse(t.lastFinishedAt) - Date.parse(t.lastStartedAt) : null;
  return (
    <tr>
      <td>
        <code>{t.name}</code>
        <div className="hint">{t.description}</div>
      </td>
      <td className="nowrap">{duration(t.everyMs)}</td>
      <td className="nowrap">
        {t.lastStartedAt ? (
          <span title={dateTime(t.lastStartedAt)}>{relative(t.lastStartedAt, now)}</span>
        ) : (
          "never"
        )}
        {took !== null && took >= 0 && <div className="hint">took {duration(took)}</div>}
      </td>
      <td>
        {t.running ? (
          <Tag tone="warn">running</Tag>
        ) : t.lastOutcome === "ok" ? (
          <Tag tone="ok">ok</Tag>
        ) : t.lastOutcome === "failed" ? (
          <Tag tone="bad">failed</Tag>
        ) : (
          <Tag tone="muted">not run yet</Tag>
        )}
        {t.consecutiveFailures > 1 && <div className="hint">{t.consecutiveFailures} failures in a row</div>}
        {t.lastOutcome === "failed" && t.lastError && <p className="field-error">{t.lastError}</p>}
        <Summary s={t.lastSummary} />
      </td>
      <td className="nowrap">
        <span title={dateTime(t.nextRunAt)}>{relative(t.nextRunAt, now)}</span>
      </td>
      <td className="num">
        {t.runs} / {t.failures}
      </td>
      {canRun && (
        <td>
          <button type="button" className="small" onClick={run} disabled={busy || t.running}>
            {busy ? "Running…" : "Run now"} <span className="visually-hidden">{t.name}</span>
          </button>
          <div role="status" aria-live="polite">
            {ran && (
              <span className="hint">
                {ran.outcome === "ok" ? "Done." : `Failed: ${ran.error ?? "see the outcome"}`}
              </span>
            )}
          </div>
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
        </td>
      )}
    </tr>
  );
}
